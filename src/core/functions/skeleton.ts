import { validateFunctionName } from '../../base/names.js';

/** What `fn new NAME` writes: a commented function and an input it runs on. */
export interface Skeleton {
  codeFile: string;
  inputFile: string;
  code: string;
  input: string;
}

export function functionSkeleton(name: string): Skeleton {
  validateFunctionName(name);
  return { codeFile: `${name}.py`, inputFile: `${name}.input.json`, code: code(name), input: `${JSON.stringify({ name: 'world', numbers: [1, 2, 3] }, null, 2)}\n` };
}

function code(name: string): string {
  return `"""${name}: a faasctl function.

Try it locally (no database, no login; the same sandbox as a deployed invocation):
    faasctl fn run ${name}.py --data-file ${name}.input.json
Deploy and invoke it:
    faasctl fn deploy ${name}.py
    faasctl fn invoke ${name} --data-file ${name}.input.json
"""


def main(data):
    """The entry point: called once per invocation.

    data   the input document, parsed from JSON (a dict, list, str, number, bool,
           or None when no input is given).
    return anything JSON-serialisable (dict, list, str, int, float, bool, None):
           it becomes the result, printed on stdout by fn invoke / fn run.

    print() goes to the invocation's output (shown live on stderr and kept with the
    request); it is never part of the result. Raise an exception to fail: the
    traceback is reported and the command exits 6. Limits (--memory, --cpus,
    --timeout) and environment variables (--env KEY=VALUE, read with os.environ)
    are set on fn deploy / fn run. The sandbox has no network and a writable /tmp.

    The 2016 format is still accepted instead of main: define
        def madhat_func(input_data, output_data):
    which fills the dict output_data in place; its input is a JSON object
    {"input_data": {...}, "output_data": {...}}.
    """
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object like {"name": "world", "numbers": [1, 2, 3]}')
    name = data.get("name", "world")
    numbers = data.get("numbers", [])
    print("hello, %s: adding %d numbers" % (name, len(numbers)))
    return {"greeting": "hello, %s" % name, "sum": sum(numbers)}
`;
}

"""The user's function as the runners see it: loading the module (with the `faasctl`
helper in place), finding the entry and its flavour (see flavors: main(args), a Lambda or
OpenFaaS handler, or madhat_func for the 2016 format), calling it, encoding its result
under the size limit (naming what JSON cannot carry and where), and turning
whatever it raised into the error the user reads (traceback from their own code on).
Used by the cold child and by warm workers alike, so both answer the same way."""

import json
import os
import sys
import traceback
import types

from .checker import compile_function, resolve_entry
from .code_archive import enter_code_dir
from .flavors import FLAVORS, arity_error, call_flavor, invocation_environment, lambda_error, params_of_callable
from .helpers import install_helper_module
from .protocol import compact_json, error_obj


class FunctionInputError(Exception):
    pass


class EntryError(Exception):
    pass


class ResultError(Exception):
    pass


class CodeError(Exception):
    pass



def load_function(code_path, filename=None, code_dir=None):
    """Execute the user's module in a fresh namespace named "function". One dict for
    globals and locals, so the old format's top-level `global fib` works as before.
    `filename`: what tracebacks call the file (the deploy's import check: the user's own name);
    `code_dir`: the unpacked directory of code shipped as an archive, entered first."""
    install_helper_module()
    if code_dir:
        enter_code_dir(code_dir)
    try:
        with open(code_path, "rb") as handle:
            source = handle.read()
    except OSError as exc:  # a deployment problem, not the user's: no traceback
        raise CodeError("cannot read the function code %s: %s" % (code_path, exc.strerror))
    code, _notes = compile_function(source, filename or code_path)  # `check` already reported the notes
    if filename and filename != code_path:
        import linecache  # the traceback then quotes the user's lines under their file's name
        linecache.cache[filename] = (len(source), None, source.decode("utf-8", "replace").splitlines(True), filename)
    module = types.ModuleType("function")
    module.__file__ = code_path
    sys.modules["function"] = module  # lets dataclasses/pickle find the module
    exec(code, module.__dict__)
    return module.__dict__


def find_entry(namespace, entry, flavor=None):
    """(flavour, function): the flavour as deployed (FAASCTL_FLAVOR), else detected by the
    checker's rules from the loaded function's signature."""
    names = {name: "function" if callable(value) else "value" for name, value in namespace.items()
             if not name.startswith("__")}

    def params(name):  # only the entry's: a module may hold thousands of imported callables
        value = namespace.get(name)
        return params_of_callable(value) if callable(value) else None

    resolved = resolve_entry(names, entry, flavor if flavor in FLAVORS else None, params)
    if resolved is None:
        functions = sorted(n for n, kind in names.items() if kind == "function")
        raise EntryError("entry function '%s' is not defined (top-level functions: %s)" % (
            entry or "main", ", ".join(functions) or "none"))
    fmt, name = resolved
    if not callable(namespace[name]):
        raise EntryError("entry '%s' is a %s, not a function" % (name, type(namespace[name]).__name__))
    refusal = arity_error(fmt, name, params(name))
    if refusal:
        raise EntryError(refusal)
    return fmt, namespace[name]


def call_entry(fmt, func, raw, limit, state, info):
    """Parse the input, call the entry as its flavour calls it, encode the result. `state`
    keeps the 2016 format's output_data, so a failure can still report it."""
    data = parse_input_bytes(raw)
    with environment(invocation_environment(fmt, data, info or {})):
        if fmt == "madhat":
            input_data, output_data = madhat_args(data)
            state["output_data"] = output_data
            await_if_needed(func(input_data, output_data))
            return encode_result(output_data, limit)
        return encode_result(await_if_needed(call_flavor(fmt, func, data, raw, info)), limit)


class environment:
    """These variables for one call, the process's own afterwards: a warm worker's next call
    must not see the last one's request id or headers."""

    def __init__(self, values):
        self.values, self.saved = values, {}

    def __enter__(self):
        self.saved = {key: os.environ.get(key) for key in self.values}
        os.environ.update(self.values)

    def __exit__(self, *_exc):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False


def await_if_needed(value):
    import inspect
    if inspect.iscoroutine(value):
        import asyncio  # imported only when needed: it costs ~30 ms at startup
        return asyncio.run(value)
    return value


def madhat_args(data):
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise FunctionInputError("old-format functions take a JSON object with input_data and output_data")
    input_data = data.get("input_data")
    output_data = data.get("output_data")
    return (input_data if input_data is not None else {}), (output_data if output_data is not None else {})


def unserialisable_path(value, path="result", depth=0):
    """(path, type name) of the first value inside a result that JSON cannot carry."""
    if depth > 100:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = unserialisable_path(item, "%s[%d]" % (path, i), depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return "%s key %r" % (path, key), type(key).__name__
            found = unserialisable_path(item, "%s[%s]" % (path, json.dumps(key if isinstance(key, str) else str(key))), depth + 1)
            if found:
                return found
        return None
    return path, type(value).__name__


def encode_result(value, limit):
    try:
        encoded = compact_json(value)
    except TypeError as exc:
        found = unserialisable_path(value)
        if found:
            raise ResultError("result is not JSON-serialisable: %s at %s (return str, int, float, bool, None, "
                              "list, tuple or dict)" % (found[1], found[0]))
        raise ResultError("result is not JSON-serialisable: %s" % exc)
    except ValueError as exc:  # NaN/Infinity or a circular reference
        raise ResultError("result cannot be represented as JSON: %s" % exc)
    except RecursionError:
        raise ResultError("result is nested too deeply to encode as JSON")
    if len(encoded) > limit:
        raise ResultError("result is %d bytes of JSON, above the limit of %d" % (len(encoded), limit))
    return encoded


def user_traceback(exc, code_path):
    """The traceback from the first frame of user code on: runtime and asyncio frames
    above it are noise to the user."""
    tb = exc.__traceback__
    probe = tb
    while probe is not None and probe.tb_frame.f_code.co_filename != code_path:
        probe = probe.tb_next
    if probe is not None or isinstance(exc, SyntaxError):
        tb = probe
    return "".join(traceback.format_exception(type(exc), exc, tb))


RUNTIME_ERRORS = {FunctionInputError: "InputError", EntryError: "EntryError",
                  ResultError: "ResultError", CodeError: "CodeError"}


def safe_text(produce):
    # str()/repr() of a user exception runs user code and may itself raise.
    try:
        return produce()
    except BaseException as exc:  # noqa: B036 - anything user code throws
        return "<unprintable %s>" % type(exc).__name__


def error_from_exception(exc, code_path, fmt=None, info=None):
    """The error as the user reads it; a Lambda handler's also carries Lambda's own shape."""
    error = plain_error(exc, code_path)
    if fmt == "lambda":
        error["lambda"] = lambda_error(error, info or {})
    return error


def plain_error(exc, code_path):
    if type(exc) in RUNTIME_ERRORS:
        return error_obj(RUNTIME_ERRORS[type(exc)], str(exc))
    tb = safe_text(lambda: user_traceback(exc, code_path))
    if isinstance(exc, SystemExit):
        message = safe_text(lambda: "the function called sys.exit(%r)" % (exc.code,))
        return error_obj("SystemExit", message, tb)
    return error_obj(type(exc).__name__, safe_text(lambda: str(exc)), tb)



def partial_output_data(state, limit):
    try:
        return encode_result(state["output_data"], limit) if "output_data" in state else "null"
    except ResultError:
        return "null"


def parse_input_bytes(raw):
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise FunctionInputError("input is not valid JSON: %s" % exc)


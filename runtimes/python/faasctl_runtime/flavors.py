"""Handler flavours: how the entry is found and called, per platform the code was written
for. The checker applies the signature rules at deploy (from the source's AST, nothing
runs); the runners apply the same rules to the loaded function (inspect), and build the
arguments: the input for main(args), (event, context) for Lambda, the body text for
OpenFaaS' handle(req), (input_data, output_data) for the 2016 format (see user_code)."""

import json
import time

from .config import MADHAT_ENTRY

# flavour -> (positional arguments it is called with, the signature users know)
FLAVORS = {
    "main": (1, "main(args)"),
    "lambda": (2, "handler(event, context)"),
    "openfaas": (1, "handle(req)"),
    "madhat": (2, "madhat_func(input_data, output_data)"),
}
# Where an entry is looked for when none is named, in order: (name, flavour).
DEFAULT_ENTRIES = (("main", "main"), (MADHAT_ENTRY, "madhat"), ("lambda_handler", "lambda"),
                   ("handler", "lambda"), ("handle", "openfaas"))
ENTRY_FLAVOR_BY_NAME = {"main": "main", MADHAT_ENTRY: "madhat", "handle": "openfaas", "lambda_handler": "lambda"}


class Params:
    """A function's positional parameters: `required` without a default, `total`
    positional at all, `varargs` when it has *args; None of it known for other callables."""

    def __init__(self, required, total, varargs):
        self.required, self.total, self.varargs = required, total, varargs

    def accepts(self, count):
        return self.required <= count and (self.varargs or count <= self.total)

    def describe(self):
        if self.varargs:
            return "at least %d positional parameter%s" % (self.required, "" if self.required == 1 else "s")
        if self.required == self.total:
            return "%d positional parameter%s" % (self.total, "" if self.total == 1 else "s")
        return "%d to %d positional parameters" % (self.required, self.total)


def params_of_ast(node):
    args = node.args
    positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
    kw_required = [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    if kw_required:
        return Params(len(positional) - len(args.defaults) + 1000, len(positional), False)  # never callable
    return Params(len(positional) - len(args.defaults), len(positional), args.vararg is not None)


def params_of_callable(func):
    import inspect
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    required = total = 0
    varargs = False
    for p in signature.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            total += 1
            required += p.default is p.empty
        elif p.kind == p.VAR_POSITIONAL:
            varargs = True
        elif p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            return Params(1000, total, False)
    return Params(required, total, varargs)


def choose(names, entry, flavor, params):
    """(flavour, entry name) or None when no entry is found. `names`: top-level names;
    `params(name)`: the Params of a top-level function, or None when unknown. `entry`
    None means "find the default"; `flavor` None means "detect"."""
    if entry is None:
        if flavor is not None:
            # A flavour named with --flavor also takes `main`: main(event, context) as Lambda.
            candidates = [n for n, f in DEFAULT_ENTRIES if f == flavor] + ["main"]
        else:
            candidates = [n for n, _f in DEFAULT_ENTRIES]
        found = [n for n in candidates if n in names]
        if not found:
            return None
        entry = found[0]
    elif entry not in names:
        return None
    if flavor is None:
        flavor = ENTRY_FLAVOR_BY_NAME.get(entry)
    if flavor is None:
        # Any other name (`handler` included) is Lambda's when it takes two arguments.
        p = params(entry)
        flavor = "lambda" if p is not None and not p.accepts(1) and p.accepts(2) else "main"
    return flavor, entry


def arity_error(flavor, entry, params):
    """The one-line refusal of an entry that cannot be called as its flavour calls it."""
    count, signature = FLAVORS[flavor]
    if params is None or params.accepts(count):
        return None
    return "the %s flavour calls %s, but %s takes %s" % (flavor, signature.replace(
        signature.split("(")[0], entry, 1), entry, params.describe())


def entry_hint():
    return ("define main(args), handler(event, context) or lambda_handler(event, context) (AWS Lambda), "
            "handle(req) (OpenFaaS) or madhat_func(input_data, output_data) (the 2016 format)")


# ---- calling


class LambdaContext:
    """What AWS Lambda passes as `context` (awslambdaric's lambda_context.py has the same
    attributes); `get_remaining_time_in_millis()` counts down this invocation's real deadline."""

    def __init__(self, info):
        name = info.get("functionName") or "function"
        version = str(info.get("version") or "$LATEST")
        self.aws_request_id = info.get("requestId") or ""
        self.function_name = name
        self.function_version = version
        self.invoked_function_arn = "arn:faasctl:lambda:local:%s:function:%s:%s" % (
            info.get("installation") or "0", name, version)
        self.memory_limit_in_mb = int((info.get("memoryBytes") or 0) // 1048576)
        self.log_group_name = "/faasctl/%s" % name
        self.log_stream_name = "%s/%s" % (version, self.aws_request_id)
        self.identity = None
        self.client_context = None
        self._deadline = info.get("deadline")  # time.monotonic() value; system-wide on Linux

    def get_remaining_time_in_millis(self):
        if self._deadline is None:
            return 0
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self):
        return "LambdaContext(aws_request_id=%r, function_name=%r)" % (self.aws_request_id, self.function_name)


def openfaas_request(data, raw):
    """OpenFaaS classic hands the body over as text: a JSON string passes its own text,
    anything else its JSON text as sent (no input: the empty string)."""
    if isinstance(data, str):
        return data
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else (raw or "")
    return text.strip() if data is not None else ""


# The keys of an input that stands for an HTTP request (headers required), as a gateway would send it.
HTTP_INPUT_KEYS = frozenset(("headers", "body", "method", "path", "query"))


def http_input(data):
    """The input when it carries an HTTP request's parts: an object with a `headers` object
    of strings and nothing but body, method, path and query besides; else None."""
    if not isinstance(data, dict) or not isinstance(data.get("headers"), dict) or not set(data) <= HTTP_INPUT_KEYS:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data["headers"].items()):
        return None
    return data


def watchdog_variable(header):
    """`x-request-id` -> `Http_X_Request_Id`: the classic watchdog's name (Go's canonical
    header key, dashes as underscores)."""
    return "Http_" + "_".join(part[:1].upper() + part[1:].lower() for part in header.split("-"))


def http_environment(request):
    """The classic watchdog's Http_* variables for an HTTP-shaped input."""
    env = {watchdog_variable(name): value for name, value in request["headers"].items() if name}
    for key, name in (("method", "Http_Method"), ("path", "Http_Path")):
        if isinstance(request.get(key), str):
            env[name] = request[key]
    query = request.get("query")
    if isinstance(query, dict):
        from urllib.parse import urlencode
        query = urlencode(query, doseq=True)
    if isinstance(query, str):
        env["Http_Query"] = query
    return env


def invocation_environment(flavor, data, info):
    """Variables the platforms' own runtimes set for each call: OpenWhisk's __OW_* for every
    flavour (main is OpenWhisk's), and for an OpenFaaS handler given an HTTP-shaped input,
    the watchdog's Http_*."""
    env = {"__OW_ACTION_NAME": "/_/%s" % (info.get("functionName") or "function"),
           "__OW_ACTIVATION_ID": info.get("requestId") or "", "__OW_NAMESPACE": "_"}
    deadline = info.get("deadline")
    if isinstance(deadline, (int, float)):
        env["__OW_DEADLINE"] = str(int((time.time() + deadline - time.monotonic()) * 1000))
    request = http_input(data) if flavor == "openfaas" else None
    if request is not None:
        env.update(http_environment(request))
    return env


def call_flavor(flavor, func, data, raw, info):
    """The entry called as its flavour calls it (the 2016 format is user_code's)."""
    if flavor == "lambda":
        return func({} if data is None else data, LambdaContext(info))
    if flavor == "openfaas":
        request = http_input(data)
        if request is not None:  # the body alone, as the watchdog pipes it
            body = request.get("body")
            return func(body if isinstance(body, str) else "" if body is None else json.dumps(body))
        return func(openfaas_request(data, raw))
    return func(data)


def lambda_error(error, info):
    """Lambda's own error shape, beside ours: errorMessage, errorType, stackTrace, requestId."""
    stack = [line for line in (error.get("traceback") or "").splitlines()
             if line.startswith("  ")]
    return {"errorMessage": error.get("message") or "", "errorType": error.get("type") or "Error",
            "stackTrace": stack, "requestId": info.get("requestId") or ""}


def decode_info(text):
    try:
        info = json.loads(text) if text else {}
    except ValueError:
        info = {}
    return info if isinstance(info, dict) else {}


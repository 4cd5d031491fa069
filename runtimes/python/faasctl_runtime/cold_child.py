"""`child`: the process that runs the function once for `run`. It never sees the nonce;
it reads the input on stdin, calls the function, and writes one outcome JSON on a pipe
only its parent reads (the result already encoded, so it is serialised once, under the
size limit). A fork made by user code never reports; the original ends with _exit so no
user thread or atexit hook can delay the end."""

import io
import json
import os
import sys
import time

from .config import DEFAULT_RESULT_LIMIT, MADHAT_ENTRY, UsageError
from .flavors import decode_info
from .protocol import compact_json, write_all
from .sandbox import no_core_files, prefer_oom_victim
from .user_code import call_entry, error_from_exception, find_entry, load_function, partial_output_data


def parse_child_args(argv):
    opts = {"outcome-fd": None, "code": None, "code-dir": None, "entry": None, "flavor": None, "result-limit": None,
            "info": None}
    for key, value in zip(argv[::2], argv[1::2]):
        if not key.startswith("--") or key[2:] not in opts:
            raise UsageError("unknown child argument %s" % key)
        opts[key[2:]] = value
    if opts["outcome-fd"] is None or opts["code"] is None:
        raise UsageError("child mode is internal to `run`")
    opts["outcome-fd"] = int(opts["outcome-fd"])
    opts["result-limit"] = int(opts["result-limit"] or DEFAULT_RESULT_LIMIT)
    opts["info"] = decode_info(opts["info"])
    return opts


def invoke(opts, state):
    """Run the function; fills `state` (format, output_data) as it goes so an error
    report can still include the old format's partially mutated output_data. No input at
    all is main(None); the old format gets empty dicts; a Lambda handler gets {}."""
    raw = sys.stdin.buffer.read()
    fmt, func = find_entry(load_function(opts["code"], code_dir=opts["code-dir"]), opts["entry"], opts["flavor"])
    state["format"] = fmt
    return call_entry(fmt, func, raw, opts["result-limit"], state, opts["info"])


def child_outcome(opts):
    """The outcome JSON text. The result is spliced in already encoded, so it is
    serialised once, under the size limit."""
    state = {"format": opts["flavor"] or ("madhat" if opts["entry"] == MADHAT_ENTRY else "main")}
    limit = opts["result-limit"]
    try:
        encoded = invoke(opts, state)
        head = {"status": "success", "format": state["format"], "error": None}
    except BaseException as exc:  # user code may raise anything, SystemExit included
        error = error_from_exception(exc, opts["code"], state["format"], opts["info"])
        head = {"status": "error", "format": state["format"], "error": error}
        encoded = partial_output_data(state, limit) if state["format"] == "madhat" else "null"
    return compact_json(head)[:-1] + ',"result":' + encoded + "}"


def child_mode(argv):
    if argv == ["--held"]:
        return held_mode()
    opts = parse_child_args(argv)
    outcome_fd = opts["outcome-fd"]
    owner = os.getpid()
    os.set_inheritable(outcome_fd, False)  # programs the function execs don't get it
    prefer_oom_victim()
    no_core_files()
    outcome = child_outcome(opts)
    if os.getpid() != owner:
        os._exit(0)  # a fork made by user code returned here: only the original reports
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    write_all(outcome_fd, outcome.encode("ascii"))
    os.close(outcome_fd)
    # _exit: user threads, atexit hooks or a blocked finaliser must not delay the end.
    os._exit(0)


def held_mode():
    """`child --held`: started ahead of its job by a pool container's `run` parent (see
    cold.hold_child), this interpreter has imported the runtime and waits on stdin for one
    line: the arguments, the function's environment and the input file, which `run` would
    otherwise have given it at spawn. It never held anything secret: it was started before
    the job, from a parent that had not received its nonce. EOF (the container retired
    unused) ends it."""
    line = sys.stdin.buffer.readline()
    if not line:
        os._exit(0)
    job = json.loads(line)
    os.environ.clear()
    os.environ.update(job["env"])
    if hasattr(time, "tzset"):
        time.tzset()  # a TZ of the function's own, as a freshly started process would read it
    # stdin becomes what a spawned child's is: the input file (or nothing).
    source = os.open(job["input"] or os.devnull, os.O_RDONLY)
    os.dup2(source, 0)
    os.close(source)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)))
    child_mode(job["argv"])

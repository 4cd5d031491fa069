"""`child`: the process that runs the function once for `run`. It never sees the nonce;
it reads the input on stdin, calls the function, and writes one outcome JSON on a pipe
only its parent reads (the result already encoded, so it is serialised once, under the
size limit). A fork made by user code never reports; the original ends with _exit so no
user thread or atexit hook can delay the end."""

import os
import sys

from .config import DEFAULT_ENTRY, DEFAULT_RESULT_LIMIT, MADHAT_ENTRY, UsageError
from .protocol import compact_json, write_all
from .sandbox import no_core_files, prefer_oom_victim
from .user_code import (await_if_needed, encode_result, error_from_exception, find_entry, load_function,
                        madhat_args, parse_input_bytes, partial_output_data)


def parse_child_args(argv):
    opts = {"outcome-fd": None, "code": None, "entry": DEFAULT_ENTRY, "result-limit": None}
    for key, value in zip(argv[::2], argv[1::2]):
        if not key.startswith("--") or key[2:] not in opts:
            raise UsageError("unknown child argument %s" % key)
        opts[key[2:]] = value
    if opts["outcome-fd"] is None or opts["code"] is None:
        raise UsageError("child mode is internal to `run`")
    return int(opts["outcome-fd"]), opts["code"], opts["entry"], int(opts["result-limit"] or DEFAULT_RESULT_LIMIT)


def read_input():
    # No input at all is main(None); the old format gets empty dicts.
    return parse_input_bytes(sys.stdin.buffer.read())


def invoke(code_path, entry, limit, state):
    """Run the function; fills `state` (format, output_data) as it goes so an error
    report can still include the old format's partially mutated output_data."""
    data = read_input()
    fmt, func = find_entry(load_function(code_path), entry)
    state["format"] = fmt
    if fmt == "madhat":
        input_data, output_data = madhat_args(data)
        state["output_data"] = output_data
        await_if_needed(func(input_data, output_data))
        return encode_result(output_data, limit)
    return encode_result(await_if_needed(func(data)), limit)


def child_outcome(code_path, entry, limit):
    """The outcome JSON text. The result is spliced in already encoded, so it is
    serialised once, under the size limit."""
    state = {"format": "madhat" if entry == MADHAT_ENTRY else "main"}
    try:
        encoded = invoke(code_path, entry, limit, state)
        head = {"status": "success", "format": state["format"], "error": None}
    except BaseException as exc:  # user code may raise anything, SystemExit included
        head = {"status": "error", "format": state["format"], "error": error_from_exception(exc, code_path)}
        encoded = partial_output_data(state, limit) if state["format"] == "madhat" else "null"
    return compact_json(head)[:-1] + ',"result":' + encoded + "}"


def child_mode(argv):
    outcome_fd, code_path, entry, limit = parse_child_args(argv)
    owner = os.getpid()
    os.set_inheritable(outcome_fd, False)  # programs the function execs don't get it
    prefer_oom_victim()
    no_core_files()
    outcome = child_outcome(code_path, entry, limit)
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

"""`probe`: the child of the deploy-time import check (see import_check). It imports the
user's module and resolves its entry exactly as a runner does, then writes one verdict on a
pipe only its parent reads; the user's prints go nowhere. faulthandler says where the import
was when it crashed, and at the time limit, where it hung (and ends the process)."""

import os
import sys

from .protocol import compact_json, write_all
from .sandbox import no_core_files, prefer_oom_victim
from .user_code import EntryError, find_entry, load_function, safe_text, user_traceback


def probe_mode(argv):
    opts = dict(zip([a[2:] for a in argv[::2]], argv[1::2]))
    outcome_fd = int(opts["outcome-fd"])
    os.set_inheritable(outcome_fd, False)
    prefer_oom_victim()
    no_core_files()
    import faulthandler
    faulthandler.enable()  # a crash in C code still says where
    limit = int(opts["timeout-ms"]) / 1000.0
    faulthandler.dump_traceback_later(limit, exit=True)
    report = {"ok": True}
    try:
        probe(opts)
    except BaseException as exc:  # noqa: B036 - the import may raise anything, SystemExit too
        report = {"ok": False, "error": import_error(exc, opts)}
    faulthandler.cancel_dump_traceback_later()
    write_all(outcome_fd, compact_json(report).encode("ascii"))
    os._exit(0)  # user threads or atexit hooks must not delay the verdict


def probe(opts):
    if opts.get("code-dir"):
        sys.path.insert(0, opts["code-dir"])
    find_entry(load_function(opts["code"], opts.get("filename")), opts.get("entry"), opts.get("flavor"))


def import_error(exc, opts):
    filename = opts.get("filename") or opts["code"]
    if isinstance(exc, EntryError):
        return {"kind": "entry", "message": str(exc), "line": None, "col": None, "text": None, "caret": None}
    error = {"kind": "import", "type": type(exc).__name__, "message": safe_text(lambda: str(exc)),
             "traceback": safe_text(lambda: user_traceback(exc, filename)), "line": user_line(exc, filename)}
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        error["module"] = exc.name
    if isinstance(exc, SystemExit):
        error["message"] = safe_text(lambda: "the module called sys.exit(%r) at import" % (exc.code,))
    return error


def user_line(exc, filename):
    """The line of the user's file the import failed at (the innermost one of theirs)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

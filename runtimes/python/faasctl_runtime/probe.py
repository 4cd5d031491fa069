"""`probe`: the child of the deploy-time import check (see import_check). It imports the
user's module and resolves its entry exactly as a runner does, then writes one verdict on a
pipe only its parent reads; the user's prints go nowhere. faulthandler says where the import
was when it crashed, and at the time limit, where it hung (and ends the process)."""

import os
import time

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
    faulthandler.dump_traceback_later(max(0.001, float(opts["deadline"]) - time.monotonic()), exit=True)
    report = {"ok": True}
    try:
        probe(opts)
    except BaseException as exc:  # noqa: B036 - the import may raise anything, SystemExit too
        report = {"ok": False, "error": import_error(exc, opts)}
    faulthandler.cancel_dump_traceback_later()
    write_all(outcome_fd, compact_json(report).encode("ascii"))
    os._exit(0)  # user threads or atexit hooks must not delay the verdict


def probe(opts):
    filename = opts.get("filename")
    find_entry(load_function(opts["code"], filename if filename != opts["code"] else None, opts.get("code-dir")),
               opts.get("entry"), opts.get("flavor"))


def import_error(exc, opts):
    filename = opts.get("filename") or opts["code"]
    if isinstance(exc, EntryError):
        return {"kind": "entry", "message": str(exc), "line": None, "col": None, "text": None, "caret": None}
    error = {"kind": "import", "type": type(exc).__name__, "message": safe_text(lambda: str(exc)),
             "traceback": safe_text(lambda: user_traceback(exc, filename))}
    error.update(failing_place(exc, filename, opts.get("code-dir")))
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        error["module"] = exc.name
    if isinstance(exc, SystemExit):
        error["message"] = safe_text(lambda: "the module called sys.exit(%r) at import" % (exc.code,))
    return error


def failing_place(exc, filename, code_dir=None):
    """{"line", "file"?}: the innermost frame of the user's code, their file or, for code
    shipped as a directory, any file of it (named relative to it, as the user knows it)."""
    inside = (code_dir.rstrip("/") + "/") if code_dir else None
    place = {"line": None}
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name == filename or (inside and name.startswith(inside)):
            place = {"line": tb.tb_lineno}
            if inside and name.startswith(inside):
                place["file"] = name[len(inside):]
        tb = tb.tb_next
    return place

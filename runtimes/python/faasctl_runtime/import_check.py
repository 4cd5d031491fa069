"""The deploy-time import check (issue 19): after `check` has compiled the source and found
its entry, a child process imports the module and resolves the entry as a runner would, so
a missing module, an import that raises, hangs or crashes is refused at deploy instead of at
the first invoke (OpenWhisk's init 502, Lambda's Runtime.ImportModuleError).

The parent (`check`) never runs user code: the `probe` child does, in its own session, with
its output thrown away (import-time prints are not the check's business), and reports on a
pipe only the parent reads (see probe). The parent kills the child's whole process group at the time
limit; faulthandler in the child dumps where it hung (or crashed) to stderr and ends it at the
limit, the parent's kill a moment later only catches what survived that."""

import json
import os
import selectors
import signal
import subprocess
import time

from .code_archive import CODE_DIR
from .sandbox import child_environment, runtime_command

# Bytes of the child's stderr kept for a crash report (faulthandler's dump fits easily).
STDERR_KEEP = 16 * 1024
# After the limit, how long the child's own dump and exit get before the group is killed.
KILL_GRACE_SECONDS = 1.0


def run_import_check(code_path, filename, entry, flavor, timeout_ms, code_dir=None):
    """None when the module imports and its entry resolves; else the error dict `check`
    reports (kind import | import_timeout | import_crash)."""
    outcome_r, outcome_w = os.pipe()
    started = time.monotonic()
    # One deadline for both (CLOCK_MONOTONIC is the machine's): the child's start-up counts.
    deadline = started + timeout_ms / 1000.0
    argv = runtime_command("probe") + ["--outcome-fd", str(outcome_w), "--code", code_path,
                                       "--filename", filename, "--deadline", repr(deadline)]
    for key, value in (("entry", entry), ("flavor", flavor), ("code-dir", code_dir)):
        if value:
            argv += ["--" + key, value]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, pass_fds=(outcome_w,), close_fds=True,
                                start_new_session=True, env=child_environment(os.environ),
                                cwd=code_dir or None)
    finally:
        os.close(outcome_w)
    outcome, stderr = supervise(proc, outcome_r, proc.stderr.fileno(), deadline + KILL_GRACE_SECONDS)
    elapsed = time.monotonic() - started
    os.close(outcome_r)
    proc.stderr.close()
    if not outcome and elapsed >= timeout_ms / 1000.0:
        return {"kind": "import_timeout", "message": "the import did not finish within %d ms" % timeout_ms,
                "traceback": user_frames(stderr, filename)}
    try:
        report = json.loads(bytes(outcome).decode("utf-8"))
    except ValueError:
        report = None
    if isinstance(report, dict):
        return report.get("error")
    return {"kind": "import_crash", "message": crash_message(proc.returncode),
            "traceback": user_frames(stderr, filename)}


def supervise(proc, outcome_r, stderr_r, deadline):
    """(outcome bytes, stderr tail): pumps both pipes until they close (the child and
    whatever it started have exited) or the limit passes; the child's process group dies
    either way."""
    selector = selectors.DefaultSelector()
    for fd in (outcome_r, stderr_r):
        selector.register(fd, selectors.EVENT_READ)
    outcome, stderr = bytearray(), bytearray()
    exited = False
    while selector.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready = selector.select(0 if exited else min(left, 0.05))
        if exited and not ready:
            break  # what the probe wrote is read; a process it forked may hold the pipes
        exited = exited or proc.poll() is not None
        for key, _ in ready:
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fd)
            elif key.fd == outcome_r:
                outcome += data[: max(0, 1024 * 1024 - len(outcome))]
            else:
                stderr = (stderr + data)[-STDERR_KEEP:]
    selector.close()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the import end with the check
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    return outcome, bytes(stderr).decode("utf-8", "replace")


def crash_message(returncode):
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal %d" % -returncode
        why = "out of memory (killed by SIGKILL)" if name == "SIGKILL" else "killed by %s" % name
        return "the import crashed: %s" % why
    return "the import ended the process (exit %s) before the entry was found" % returncode


def user_frames(stderr, filename):
    """faulthandler's dump, cut to the lines naming the user's files (the runtime's own
    frames say nothing to the user); the whole dump when none does."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    mine = [line.strip() for line in lines if ('File "%s"' % filename) in line or ('File "%s/' % CODE_DIR) in line]
    return "\n".join(mine or lines[-20:]) or None

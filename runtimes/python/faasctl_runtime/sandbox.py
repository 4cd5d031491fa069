"""Process hardening, shared by the cold parent and the warm server: prctl (non-dumpable,
no_new_privs), scrubbing a variable from the environment block, the environment user code
gets, what a user-code process does to itself first (OOM victim, no core files), and the
command line that starts such a process (this package again, in another mode).

Security model of `run`: user code is untrusted and must not forge the result frame.
The parent keeps the nonce, scrubs it from its environment, makes itself non-dumpable
(so a same-uid process cannot read /proc/<ppid>/environ, fd or mem) and runs the user
code in a separate child process that never sees the nonce and whose stdout/stderr are
pipes the parent reads. Only the parent writes to the real stdout. It also sets
no_new_privs before spawning, so no program the user code execs gains privileges."""

import os
import sys

from .config import UsageError
from .protocol import NONCE_PATTERN

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
# The package directory: children run it again in their own mode.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def runtime_command(mode):
    """argv that starts this runtime in `mode`, isolated (-I: no PYTHON* variables, no
    user site, nothing of the working directory on sys.path) and unbuffered; -B is passed
    on so a run that writes no bytecode has children that write none either."""
    flags = ["-I", "-u"] + (["-B"] if sys.flags.dont_write_bytecode else [])
    return [sys.executable or "python3"] + flags + [PACKAGE_DIR, mode]


def load_libc():
    try:
        import ctypes  # optional: minimal Pythons may lack _ctypes
        return ctypes, ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None, None


def prctl(option, arg2):
    """prctl(option, arg2, 0, 0, 0) == 0; False without ctypes. The arguments go as
    unsigned long: prctl is variadic and the kernel rejects stray high bits."""
    ctypes, libc = load_libc()
    if libc is None:
        return False
    args = [ctypes.c_ulong(value) for value in (arg2, 0, 0, 0)]
    return libc.prctl(ctypes.c_int(option), *args) == 0


def scrub_environ_block(name):
    """Overwrite NAME's value in the process's original environment block.
    /proc/<pid>/environ shows that block, not os.environ, and unsetenv() only drops
    the pointer; scrubbing covers a root (CAP_SYS_PTRACE) reader that ignores dumpable."""
    ctypes, libc = load_libc()
    if libc is None:
        return
    try:
        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
    except ValueError:
        return
    prefix = name.encode() + b"="
    index = 0
    while environ[index]:
        address = environ[index]
        entry = ctypes.string_at(address)
        if entry.startswith(prefix):
            ctypes.memset(address + len(prefix), ord("x"), len(entry) - len(prefix))
        index += 1


def make_non_dumpable():
    """prctl(PR_SET_DUMPABLE, 0): /proc/<our pid>/{environ,fd,mem} become root-owned and
    ptrace is refused, so the same-uid child cannot steal the nonce or our stdout.
    Returns False when ctypes is missing (we then rely on scrubbing alone)."""
    return prctl(PR_SET_DUMPABLE, 0)


def set_no_new_privs():
    """prctl(PR_SET_NO_NEW_PRIVS, 1): execve() can no longer grant privileges (setuid
    and setgid bits, file capabilities), for us and every process we spawn; it cannot
    be undone. Swarm services cannot ask for no-new-privileges on the engines we
    target (API 1.41), so the runtime sets it itself. False when ctypes is missing."""
    return prctl(PR_SET_NO_NEW_PRIVS, 1)


def take_nonce(environ):
    nonce = environ.get("FAASCTL_NONCE", "")
    if not NONCE_PATTERN.match(nonce):
        raise UsageError("FAASCTL_NONCE must be set to 8-256 characters of [A-Za-z0-9_-]")
    scrub_environ_block("FAASCTL_NONCE")
    environ.pop("FAASCTL_NONCE", None)  # unsetenv() too, so nothing inherits it
    return nonce


def child_environment(environ):
    # The child gets the function's own environment (--env K=V) but none of our
    # FAASCTL_* settings: the nonce above all, and nothing else it should depend on.
    return {k: v for k, v in environ.items() if not k.startswith("FAASCTL_")}


def prefer_oom_victim():
    # Under a memory cgroup the kernel must kill someone; make it the user code, not
    # the parent that still has to print the frame. Raising the score is unprivileged.
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def no_core_files():
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files on a read-only root
    except (ImportError, ValueError, OSError):
        pass

"""Settings of the runtime: the FAASCTL_* environment variables, their defaults, and
UsageError for a bad invocation of the runtime itself. Shared by `run` and `serve`, which
read the same settings (serve adds its own in warm_server)."""

from .cgroups import cgroup_memory_limit

DEFAULT_CODE_FILE = "/faas/function.py"
DEFAULT_ENTRY = "main"
MADHAT_ENTRY = "madhat_func"
DEFAULT_TIMEOUT_MS = 30000
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# The result travels inside one log line; beyond this it is refused rather than
# risking a frame the log pipeline or the CLI cannot handle.
DEFAULT_RESULT_LIMIT = 8 * 1024 * 1024
# After a SIGKILL, how long we wait for the kernel to reap before answering anyway.
KILL_GRACE_SECONDS = 2.0


class UsageError(Exception):
    """Bad invocation of the runtime itself (exit 2, no frame)."""


def int_setting(environ, name, default, minimum):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("%s must be an integer, got %r" % (name, raw))
    if value < minimum:
        raise ValueError("%s must be at least %d, got %d" % (name, minimum, value))
    return value


def load_run_config(environ):
    """Everything `run` needs from the environment; ValueError on a bad value."""
    return {
        "code_file": environ.get("FAASCTL_CODE_FILE") or DEFAULT_CODE_FILE,
        "input_file": environ.get("FAASCTL_INPUT_FILE") or None,
        "entry": environ.get("FAASCTL_ENTRY") or DEFAULT_ENTRY,
        "timeout_ms": int_setting(environ, "FAASCTL_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 1),
        "output_limit": int_setting(environ, "FAASCTL_OUTPUT_LIMIT", DEFAULT_OUTPUT_LIMIT, 0),
        "result_limit": int_setting(environ, "FAASCTL_RESULT_LIMIT", DEFAULT_RESULT_LIMIT, 1024),
        "memory_limit": int_setting(environ, "FAASCTL_MEMORY_LIMIT", 0, 0) or cgroup_memory_limit(),
    }

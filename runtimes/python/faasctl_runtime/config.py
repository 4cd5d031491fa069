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


def invocation_info(config, deadline, request_id=None):
    """What a running function may know about its invocation (the Lambda context's source),
    as JSON for a child process. `deadline` is a time.monotonic() value: CLOCK_MONOTONIC is
    one clock for every process of the machine, so the child counts down the same deadline."""
    import json
    return json.dumps({
        "requestId": request_id or config.get("request_id") or "",
        "functionName": config.get("function_name") or "",
        "version": config.get("function_version") or "",
        "installation": config.get("installation") or "",
        "memoryBytes": config.get("memory_limit") or 0,
        "deadline": deadline,
    })


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
        # Set for code shipped as an archive: the entry module's path in it (see code_archive).
        "code_module": environ.get("FAASCTL_CODE_MODULE") or None,
        "code_dir": None,
        "input_file": environ.get("FAASCTL_INPUT_FILE") or None,
        "entry": environ.get("FAASCTL_ENTRY") or None,
        "flavor": environ.get("FAASCTL_FLAVOR") or None,
        # What a Lambda handler's context tells (none of it secret).
        "request_id": environ.get("FAASCTL_REQUEST_ID") or "",
        "function_name": environ.get("FAASCTL_FUNCTION_NAME") or "",
        "function_version": environ.get("FAASCTL_FUNCTION_VERSION") or "",
        "installation": environ.get("FAASCTL_INSTALLATION") or "",
        "timeout_ms": int_setting(environ, "FAASCTL_TIMEOUT_MS", DEFAULT_TIMEOUT_MS, 1),
        "output_limit": int_setting(environ, "FAASCTL_OUTPUT_LIMIT", DEFAULT_OUTPUT_LIMIT, 0),
        "result_limit": int_setting(environ, "FAASCTL_RESULT_LIMIT", DEFAULT_RESULT_LIMIT, 1024),
        "memory_limit": int_setting(environ, "FAASCTL_MEMORY_LIMIT", 0, 0) or cgroup_memory_limit(),
    }

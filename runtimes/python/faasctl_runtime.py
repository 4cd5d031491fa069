#!/usr/bin/env python3
"""faasctl Python runtime: runs inside every function container.

Modes (argv[1]):
  check   compile a function's source with this interpreter and check its entry point;
          prints ONE JSON line on stdout and exits 0 (exit 2 only for usage errors).
  run     one invocation (configured by FAASCTL_* environment variables); relays the
          function's own output live, then prints one framed result line:
              FAASCTL-RESULT:<nonce>:<compact JSON>
          and exits 0: the frame, not the exit code, carries the status.
  child   internal: the process that actually executes user code for `run`.
  serve   a warm replica: an HTTP server that answers invocations with a pool of
          worker processes, each holding the function loaded (see the serve section).
  worker  internal: one such worker process.

Security model of `run`: user code is untrusted and must not forge the result frame.
The parent keeps the nonce, scrubs it from its environment, makes itself non-dumpable
(so a same-uid process cannot read /proc/<ppid>/environ, fd or mem) and runs the user
code in a separate child process that never sees the nonce and whose stdout/stderr are
pipes the parent reads. Only the parent writes to the real stdout. It also sets
no_new_privs before spawning, so no program the user code execs gains privileges.

Standard library only; compatible with Python 3.9+.
"""

import ast
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
import traceback
import types
import warnings

FRAME_PREFIX = "FAASCTL-RESULT:"
FRAME_VERSION = 1
DEFAULT_CODE_FILE = "/faas/function.py"
DEFAULT_ENTRY = "main"
MADHAT_ENTRY = "madhat_func"
DEFAULT_TIMEOUT_MS = 30000
DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# The result travels inside one log line; beyond this it is refused rather than
# risking a frame the log pipeline or the CLI cannot handle.
DEFAULT_RESULT_LIMIT = 8 * 1024 * 1024
# A partial line is held back so output is relayed in whole lines, but not forever:
# a progress bar without newline must still appear, and a huge line must not pile up.
PARTIAL_FLUSH_SECONDS = 0.05
PARTIAL_FLUSH_BYTES = 64 * 1024
# After the child exits, how long leftovers get to close the pipes.
DRAIN_GRACE_SECONDS = 0.5
# After a SIGKILL, how long we wait for the kernel to reap before answering anyway.
KILL_GRACE_SECONDS = 2.0
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
THIS_FILE = os.path.abspath(__file__)


class UsageError(Exception):
    """Bad invocation of the runtime itself (exit 2, no frame)."""


def compact_json(value):
    """Compact, ASCII-only JSON: the frame must survive any log pipeline encoding,
    and NaN/Infinity are refused because JSON.parse on the CLI side rejects them."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def write_all(fd, data):
    """os.write may write less than asked on pipes; loop until done."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --------------------------------------------------------------------------- check


def parse_check_args(argv):
    opts = {"file": None, "entry": DEFAULT_ENTRY, "filename": "function.py"}
    it = iter(argv)
    for arg in it:
        key = arg[2:] if arg.startswith("--") else None
        if key not in opts:
            raise UsageError("unknown argument for check: %s" % arg)
        value = next(it, None)
        if value is None:
            raise UsageError("%s needs a value" % arg)
        opts[key] = value
    return opts


def read_check_source(path):
    # Bytes, not text: compile() then honours a PEP 263 coding cookie and a BOM exactly
    # like the interpreter will when it runs the function.
    if path is None:
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror))


def source_line(source, lineno):
    lines = source.decode("utf-8", "replace").splitlines()
    if lineno and 1 <= lineno <= len(lines):
        return lines[lineno - 1]
    return None


def caret_for(text, col, end_col=None):
    """Caret line under `text` at 1-based `col`; tabs are copied so the caret lines up
    in a terminal whatever the tab width."""
    if text is None or not col:
        return None
    col = max(1, min(col, len(text) + 1))
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    width = 1
    if end_col and end_col > col:
        width = min(end_col, len(text) + 1) - col
    return pad + "^" * max(1, width)


def syntax_error_report(exc, source):
    lineno = getattr(exc, "lineno", None)
    text = getattr(exc, "text", None)
    if text is None:
        text = source_line(source, lineno)
    text = text.rstrip("\r\n") if text is not None else None
    col = getattr(exc, "offset", None)
    end_col = None
    if getattr(exc, "end_lineno", None) == lineno:  # 3.10+: a range on one line
        end_col = getattr(exc, "end_offset", None)
    return {
        "kind": "syntax",
        "type": type(exc).__name__,
        "message": getattr(exc, "msg", None) or str(exc),
        "line": lineno,
        "col": col,
        "text": text,
        "caret": caret_for(text, col, end_col),
    }


def compile_error_report(exc, source):
    """Errors compile() raises that are not SyntaxError (null bytes on 3.9-3.11,
    nesting too deep): still a syntax problem for the user, located when possible."""
    lineno = None
    if b"\0" in source:
        lineno = source[: source.index(b"\0")].count(b"\n") + 1
    return {
        "kind": "syntax",
        "type": type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "line": lineno,
        "col": None,
        "text": source_line(source, lineno),
        "caret": None,
    }


def nested_bodies(node):
    # Definitions inside top-level if/try/with/for/while blocks still bind module
    # globals (e.g. `try: import x` / `except: def main...`); function and class bodies don't.
    for field in ("body", "orelse", "finalbody"):
        yield from getattr(node, field, None) or []
    for handler in getattr(node, "handlers", None) or []:
        yield from handler.body


def top_level_bindings(tree):
    """Names bound at module level: {name: kind} with kind 'function' or 'value'."""
    found = {}
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, "function")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, "value")
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, "value")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found.setdefault((alias.asname or alias.name).split(".")[0], "value")
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            pending.extend(nested_bodies(node))
    return found


def resolve_entry(names, entry):
    """(format, effective entry) or None. The 2016 format is picked when asked for by
    name, or when the default entry is absent but madhat_func exists."""
    if entry == MADHAT_ENTRY and MADHAT_ENTRY in names:
        return "madhat", MADHAT_ENTRY
    if entry in names:
        return "main", entry
    if entry == DEFAULT_ENTRY and MADHAT_ENTRY in names:
        return "madhat", MADHAT_ENTRY
    return None


def entry_error(names, entry, filename):
    functions = sorted(name for name, kind in names.items() if kind == "function")
    found = ", ".join(functions) if functions else "none"
    message = "entry function '%s' is not defined at the top level of %s (top-level functions: %s)" % (
        entry, filename, found)
    if entry == DEFAULT_ENTRY:
        message += "; define main(data), or madhat_func(input_data, output_data) for the old format"
    return {"kind": "entry", "message": message, "line": None, "col": None,
            "text": None, "caret": None, "found": functions}


class ModuleGlobalRemover(ast.NodeTransformer):
    """Drops `global` statements at module level (incl. inside top-level if/try
    blocks), where they mean nothing; function and class bodies are left alone."""

    def __init__(self):
        self.removed = []

    def visit_Global(self, node):
        self.removed.append(node)
        return ast.copy_location(ast.Pass(), node)  # a body may not become empty

    def skip(self, node):
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = skip


def compile_function(source, filename):
    """compile() the source; returns (code, compat notes).

    One compatibility rule for the 2016 format, whose documented example puts
    `global fib` at module level after `def fib`: Python 2 only warned about that,
    Python 3 rejects it. A module-level `global` is a no-op, so when compile() fails
    and dropping those statements makes it compile, we run that and say so."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), []
    except SyntaxError:
        try:
            tree = ast.parse(source, filename)
            remover = ModuleGlobalRemover()
            tree = remover.visit(tree)
            code = compile(tree, filename, "exec", dont_inherit=True) if remover.removed else None
        except (SyntaxError, ValueError, RecursionError):
            code = None
        if code is None:
            raise  # the original error, which is what the user must fix
    notes = [{"message": "module-level 'global %s' ignored: it has no effect there, and Python 3 rejects "
              "it after the name is assigned (Python 2 only warned)" % ", ".join(node.names),
              "line": node.lineno, "category": "CompatWarning"} for node in remover.removed]
    return code, notes


def check_source(source, entry, filename):
    """The check verdict as a dict (what `check` prints)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _code, notes = compile_function(source, filename)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # already reported by compile()
            tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return {"ok": False, "error": syntax_error_report(exc, source)}
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return {"ok": False, "error": compile_error_report(exc, source)}
    names = top_level_bindings(tree)
    resolved = resolve_entry(names, entry)
    if resolved is None:
        return {"ok": False, "error": entry_error(names, entry, filename)}
    verdict = {"ok": True, "format": resolved[0], "entry": resolved[1]}
    notes += [{"message": str(w.message), "line": w.lineno, "category": w.category.__name__}
              for w in caught]
    if notes:
        verdict["warnings"] = notes
    return verdict


def check_mode(argv):
    opts = parse_check_args(argv)
    source = read_check_source(opts["file"])
    verdict = check_source(source, opts["entry"], opts["filename"])
    sys.stdout.write(compact_json(verdict) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- run (parent)


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


def read_small_file(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def cgroup_dir(controller):
    """The directory of our cgroup for `controller` (v2 unified first, then v1)."""
    for line in (read_small_file("/proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[0] == "0" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            path = "/sys/fs/cgroup" + parts[2]
            # With a private cgroup namespace our cgroup is the mount root.
            return path if os.path.exists(path + "/%s.max" % controller) else "/sys/fs/cgroup"
    # v1: inside a container each hierarchy is mounted at the container's cgroup.
    return "/sys/fs/cgroup/" + controller


def cgroup_memory_limit():
    base = cgroup_dir("memory")
    raw = read_small_file(base + "/memory.max") or read_small_file(base + "/memory.limit_in_bytes")
    if not raw or not raw.isdigit():
        return 0
    limit = int(raw)
    return limit if limit < (1 << 60) else 0  # v1 spells "no limit" as a huge number


def cgroup_cpu_usec():
    """CPU time of the whole container (server and workers), from its cgroup; None if unknown."""
    base = cgroup_dir("cpu")
    for line in (read_small_file(base + "/cpu.stat") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value)
    raw = read_small_file(cgroup_dir("cpuacct") + "/cpuacct.usage")  # v1: nanoseconds
    return int(raw) // 1000 if raw and raw.isdigit() else None


def cgroup_memory_current():
    base = cgroup_dir("memory")
    raw = read_small_file(base + "/memory.current") or read_small_file(base + "/memory.usage_in_bytes")
    return int(raw) if raw and raw.isdigit() else None


def cgroup_oom_kills():
    """The cgroup's oom_kill counter, or None when unreadable: compared before/after the
    run it tells a real OOM kill from any other SIGKILL."""
    base = cgroup_dir("memory")
    text = read_small_file(base + "/memory.events") or read_small_file(base + "/memory.oom_control")
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def cgroup_pids_state():
    """(limit, times the limit refused a fork or thread) from the pids controller;
    None for what cannot be read (no cgroup, or not Linux)."""
    base = cgroup_dir("pids")
    raw = read_small_file(base + "/pids.max")
    limit = int(raw) if raw and raw.isdigit() else None
    refused = None
    for line in (read_small_file(base + "/pids.events") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "max" and value.strip().isdigit():
            refused = int(value)
    return limit, refused


def process_limit_note(before, after):
    """Why a fork failed with EAGAIN or the run timed out, when the pids cgroup counted
    refusals during the run: a BlockingIOError alone does not say which limit it was."""
    limit, refused_after = after
    refused_before = before[1]
    if refused_before is None or refused_after is None or refused_after <= refused_before:
        return None
    what = "limit of %d processes and threads" % limit if limit else "process and thread limit"
    return "the container's %s was reached: %d forks or thread starts refused" % (
        what, refused_after - refused_before)


class OutputBudget:
    """User output relayed across stdout+stderr, capped at `limit` bytes; the rest is
    drained (so the child never blocks on a full pipe) but dropped and counted."""

    def __init__(self, limit):
        self.limit = limit
        self.relayed = 0
        self.total = 0
        self.truncated = False

    def take(self, size):
        """How many of `size` new bytes may be relayed."""
        self.total += size
        allowed = max(0, min(size, self.limit - self.relayed))
        self.relayed += allowed
        if allowed < size:
            self.truncated = True
        return allowed


class StreamRelay:
    """Copies one child pipe to one of our fds in whole lines, within the budget."""

    def __init__(self, target_fd, budget, capture=False):
        self.target_fd = target_fd
        self.budget = budget
        self.pending = b""
        self.last_data = 0.0
        self.at_line_start = True
        self.broken = False
        self.captured = bytearray() if capture else None

    def feed(self, data, now):
        allowed = self.budget.take(len(data))
        if allowed == 0:
            return
        self.pending += data[:allowed]
        self.last_data = now
        cut = self.pending.rfind(b"\n") + 1
        if len(self.pending) >= PARTIAL_FLUSH_BYTES or allowed < len(data):
            cut = len(self.pending)  # huge line, or the budget just ran out
        if cut:
            self.emit(self.pending[:cut])
            self.pending = self.pending[cut:]

    def flush_if_idle(self, now):
        if self.pending and now - self.last_data >= PARTIAL_FLUSH_SECONDS:
            self.flush()

    def flush(self):
        if self.pending:
            self.emit(self.pending)
            self.pending = b""

    def emit(self, data):
        if self.captured is not None:
            self.captured += data
        self.at_line_start = data.endswith(b"\n")
        if self.broken:
            return
        try:
            write_all(self.target_fd, data)
        except OSError:
            self.broken = True  # our reader went away; keep draining the child anyway


class Supervision:
    """What happened to one child process, as observed by the parent."""

    def __init__(self):
        self.timed_out = False
        self.cancelled = None  # signal number that cancelled the run
        self.returncode = None
        self.outcome = bytearray()
        self.outcome_overflow = False
        self.duration_ms = 0.0


def kill_group(pgid):
    # The child leads its own session, so its descendants (a fork bomb included) are
    # in process group `pgid`; a new fork racing the kill is stopped by the kernel.
    for _ in range(3):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
    if os.getpid() == 1:
        # PID 1 of a one-invocation container (no init): every other process in it
        # comes from the function, including ones that left the group with setsid().
        # kill(-1) skips ourselves; outside a PID namespace it would hit all our uid's
        # processes, hence the check.
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass


def child_has_exited(proc):
    """Non-reaping exit test: the zombie keeps its pid (and so the process-group id)
    reserved until we have killed any leftovers of the group."""
    if not hasattr(os, "waitid"):  # not Linux: only for running the tests elsewhere
        return proc.poll() is not None
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def spawn_child(config, stdin, outcome_w, environ):
    argv = [sys.executable or "python3", "-I", "-u", THIS_FILE, "child",
            "--outcome-fd", str(outcome_w), "--code", config["code_file"],
            "--entry", config["entry"], "--result-limit", str(config["result_limit"])]
    return subprocess.Popen(
        argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        pass_fds=(outcome_w,), close_fds=True, start_new_session=True,
        env=child_environment(environ))


def read_ready(selector, relays, sup, outcome_r, cap, timeout):
    now = time.monotonic()
    for key, _ in selector.select(timeout):
        try:
            data = os.read(key.fd, 65536)
        except OSError:
            data = b""
        if not data:
            selector.unregister(key.fd)  # EOF; the fds are closed by their owners later
        elif key.fd == outcome_r:
            room = cap - len(sup.outcome)
            sup.outcome_overflow = sup.outcome_overflow or len(data) > room
            sup.outcome += data[: max(0, room)]
        else:
            relays[key.fd].feed(data, now)


def supervise(proc, outcome_r, relays, config, cancel_box, started):
    """Pump the child's pipes until it exits (or we kill it) and its pipes close.
    A single select loop with a short tick: no blocking call can keep the timeout
    from firing, whatever the child does (print flood, fork bomb, closed pipes)."""
    sup = Supervision()
    selector = selectors.DefaultSelector()
    for fd in list(relays) + [outcome_r]:
        selector.register(fd, selectors.EVENT_READ)
    deadline = started + config["timeout_ms"] / 1000.0
    exited_at = killed_at = None
    cap = config["result_limit"] + 65536
    while True:
        now = time.monotonic()
        if exited_at is None and child_has_exited(proc):
            exited_at = now
            sup.duration_ms = (now - started) * 1000.0
            kill_group(proc.pid)  # leftovers (background processes) end with the function
        if exited_at is None and killed_at is None:
            if cancel_box:
                sup.cancelled = cancel_box[0]
            elif now >= deadline:
                sup.timed_out = True
            if sup.cancelled or sup.timed_out:
                killed_at = now
                kill_group(proc.pid)
        if exited_at is not None and (not selector.get_map() or now - exited_at > DRAIN_GRACE_SECONDS):
            break
        if killed_at is not None and exited_at is None and now - killed_at > KILL_GRACE_SECONDS:
            sup.duration_ms = (now - started) * 1000.0
            break  # unkillable (D state): answer anyway, the container ends soon
        read_ready(selector, relays, sup, outcome_r, cap, 0.02)
        for relay in relays.values():
            relay.flush_if_idle(time.monotonic())
    selector.close()
    if exited_at is not None:
        sup.returncode = proc.wait()
    return sup


def child_metrics(sup):
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "durationMs": round(sup.duration_ms, 3),
        "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000.0, 3),
        "maxRssKb": int(usage.ru_maxrss),  # Linux reports kilobytes
    }


def mib(size):
    return "%g MiB" % round(size / 1048576.0, 1)


def error_obj(kind, message, tb=None):
    return {"type": kind, "message": message, "traceback": tb}


def signal_verdict(signum, config, metrics, oom_before):
    """(status, error) for a child that died from a signal we did not send."""
    limit = config["memory_limit"]
    if signum == signal.SIGKILL:
        oom_after = cgroup_oom_kills()
        if oom_before is not None and oom_after is not None:
            is_oom = oom_after > oom_before  # the cgroup knows: trust it
        else:
            is_oom = bool(limit)
        if limit and metrics["maxRssKb"] * 1024 >= 0.9 * limit:
            is_oom = True
        if is_oom:
            where = " (limit %s)" % mib(limit) if limit else ""
            return "oom", error_obj("OutOfMemory", "out of memory%s" % where)
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = "signal %d" % signum
    return "killed", error_obj("Killed", "killed by %s" % name)


def parse_outcome(sup):
    if sup.outcome_overflow:
        return None
    try:
        outcome = json.loads(bytes(sup.outcome).decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(outcome, dict) or outcome.get("status") not in ("success", "error"):
        return None
    return outcome


def madhat_result(outcome, stdout_relay):
    """The 2016 answer shape: output_text (what the code printed, plus the traceback
    when it raised, like the old "Run had Exceptions") and the mutated outputData."""
    text = bytes(stdout_relay.captured or b"").decode("utf-8", "replace")
    error = outcome.get("error")
    if error and error.get("traceback"):
        if text and not text.endswith("\n"):
            text += "\n"
        text += error["traceback"]
    return {"output_text": text, "outputData": outcome.get("result")}


def verdict(sup, config, metrics, oom_before, stdout_relay):
    """(status, result, error) from what the supervisor observed."""
    if sup.timed_out:
        return "timeout", None, error_obj("Timeout", "timed out after %d ms" % config["timeout_ms"])
    if sup.cancelled:
        # The signal reached this runtime (PID 1 of the container), not the function's own
        # process group: the engine stopped the container (engine restart, node drain, service
        # removal). That is the platform's fault, never the function's (issue 17).
        name = signal.Signals(sup.cancelled).name
        return "stopped", None, error_obj("Stopped", "the engine stopped the container mid-run with %s "
                                          "(engine restart, node drain or service removal)" % name)
    if sup.returncode is not None and sup.returncode < 0:
        status, error = signal_verdict(-sup.returncode, config, metrics, oom_before)
        return status, None, error
    outcome = parse_outcome(sup)
    if outcome is None:
        message = "the function's process exited with code %s without reporting a result" % sup.returncode
        return "error", None, error_obj("ExitError", message)
    result, error = outcome.get("result"), outcome.get("error")
    if outcome.get("format") == "madhat":
        result = madhat_result(outcome, stdout_relay)
    status = outcome["status"]
    if error and error.get("type") == "MemoryError":
        status = "oom"  # Python raised instead of the kernel killing: same cause
        error["message"] = error.get("message") or "out of memory (MemoryError raised)"
    return status, result, error


def build_frame(status, result, error, budget, metrics):
    return {
        "v": FRAME_VERSION,
        "status": status,
        "result": result,
        "error": error,
        "output": {"bytes": budget.total, "truncated": budget.truncated},
        "metrics": metrics,
    }


def emit_frame(nonce, frame, at_line_start=True):
    try:
        body = compact_json(frame)
    except ValueError:  # cannot happen for child-parsed JSON, but never lose the frame
        frame.update(result=None, status="error",
                     error=error_obj("ResultError", "result could not be encoded as JSON"))
        body = compact_json(frame)
    # The leading newline guarantees the frame starts a line even when the function's
    # last output had no newline; the CLI takes the LAST line with this exact prefix.
    line = ("" if at_line_start else "\n") + FRAME_PREFIX + nonce + ":" + body + "\n"
    write_all(1, line.encode("ascii"))


def open_input(config):
    """The child's stdin: the input file, or our own stdin passed straight through."""
    if config["input_file"] is None:
        return None
    return os.open(config["input_file"], os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))


def install_cancel_handlers(cancel_box):
    # As PID 1 (no init) Python would ignore SIGTERM; with a handler a `docker stop`
    # cancels the run promptly and still yields a frame.
    def on_signal(signum, _frame):
        if not cancel_box:
            cancel_box.append(signum)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)


def failed_before_start(nonce, error):
    budget = OutputBudget(0)
    metrics = {"durationMs": 0.0, "cpuMs": 0.0, "maxRssKb": 0}
    emit_frame(nonce, build_frame("error", None, error, budget, metrics))
    return 0


def start_child(config, environ):
    """Spawn the child; returns (proc, outcome_r) or raises an error object as ValueError."""
    try:
        stdin = open_input(config)
    except OSError as exc:
        raise ValueError(error_obj("InputError", "cannot read input file %s: %s" % (
            config["input_file"], exc.strerror)))
    outcome_r, outcome_w = os.pipe()
    try:
        proc = spawn_child(config, stdin, outcome_w, environ)
    except OSError as exc:
        os.close(outcome_r)
        raise ValueError(error_obj("SpawnError", "cannot start the function process: %s" % exc))
    finally:
        os.close(outcome_w)  # only the child may hold the write end, so EOF means done
        if stdin is not None:
            os.close(stdin)
    return proc, outcome_r


def close_pipes(proc, outcome_r, relays, budget, stdout_relay):
    """After supervision: close the child's pipes, relay what is held back and say when
    output was dropped. The notice goes to stdout, just before the frame: a log reader
    sees one stream in order, while stdout and stderr may interleave differently.
    Returns whether stdout now stands at the start of a line."""
    os.close(outcome_r)
    proc.stdout.close()
    proc.stderr.close()
    for relay in relays.values():
        relay.flush()
    if not budget.truncated:
        return stdout_relay.at_line_start
    notice = "%s[faasctl] output truncated: %d of %d bytes relayed (limit %d)\n" % (
        "" if stdout_relay.at_line_start else "\n", budget.relayed, budget.total, budget.limit)
    write_all(1, notice.encode())
    return True


def run_mode(argv):
    if argv:
        raise UsageError("run takes no arguments; it is configured by FAASCTL_* variables")
    environ = dict(os.environ)
    nonce = take_nonce(os.environ)
    environ.pop("FAASCTL_NONCE", None)
    make_non_dumpable()
    set_no_new_privs()  # before spawning: the child and all it execs inherit it
    cancel_box = []
    install_cancel_handlers(cancel_box)
    try:
        config = load_run_config(environ)
    except ValueError as exc:
        return failed_before_start(nonce, error_obj("ConfigError", str(exc)))
    oom_before, pids_before = cgroup_oom_kills(), cgroup_pids_state()
    started = time.monotonic()  # the timeout includes interpreter start-up
    try:
        proc, outcome_r = start_child(config, environ)
    except ValueError as exc:
        return failed_before_start(nonce, exc.args[0])
    budget = OutputBudget(config["output_limit"])
    stdout_relay = StreamRelay(1, budget, capture=True)
    relays = {proc.stdout.fileno(): stdout_relay, proc.stderr.fileno(): StreamRelay(2, budget)}
    sup = supervise(proc, outcome_r, relays, config, cancel_box, started)
    at_line_start = close_pipes(proc, outcome_r, relays, budget, stdout_relay)
    metrics = child_metrics(sup)
    status, result, error = verdict(sup, config, metrics, oom_before, stdout_relay)
    note = process_limit_note(pids_before, cgroup_pids_state())
    if note and error:
        error["message"] = "%s (%s)" % (error["message"], note)
    frame = build_frame(status, result, error, budget, metrics)
    emit_frame(nonce, frame, at_line_start)
    return 0


# --------------------------------------------------------------------------- child


class FunctionInputError(Exception):
    pass


class EntryError(Exception):
    pass


class ResultError(Exception):
    pass


class CodeError(Exception):
    pass


def parse_child_args(argv):
    opts = {"outcome-fd": None, "code": None, "entry": DEFAULT_ENTRY, "result-limit": None}
    for key, value in zip(argv[::2], argv[1::2]):
        if not key.startswith("--") or key[2:] not in opts:
            raise UsageError("unknown child argument %s" % key)
        opts[key[2:]] = value
    if opts["outcome-fd"] is None or opts["code"] is None:
        raise UsageError("child mode is internal to `run`")
    return int(opts["outcome-fd"]), opts["code"], opts["entry"], int(opts["result-limit"] or DEFAULT_RESULT_LIMIT)


def prefer_oom_victim():
    # Under a memory cgroup the kernel must kill someone; make it the user code, not
    # the parent that still has to print the frame. Raising the score is unprivileged.
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def read_input():
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        return None  # no input at all: main(None); the old format gets empty dicts
    try:
        return json.loads(raw)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise FunctionInputError("input is not valid JSON: %s" % exc)


SECRETS_DIR = "/run/secrets"
SECRET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")


def secret(name):
    """The value (text) of a secret the function was deployed with: `fn deploy --secret NAME`
    mounts it as /run/secrets/NAME. User code gets it as `import faasctl; faasctl.secret(NAME)`.
    Errors name the secret, never its content."""
    if not isinstance(name, str) or not SECRET_NAME.match(name) or name.startswith("faasctl"):
        raise ValueError("invalid secret name %r" % (name,))
    try:
        with open(os.path.join(SECRETS_DIR, name), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise KeyError("secret %r is not mounted: deploy with --secret %s" % (name, name)) from None


def install_helper_module():
    """`import faasctl` in user code: a module holding the helpers, nothing else of ours."""
    module = types.ModuleType("faasctl", "Helpers for faasctl functions: secret(name).")
    module.secret = secret
    sys.modules["faasctl"] = module


def load_function(code_path):
    """Execute the user's module in a fresh namespace named "function". One dict for
    globals and locals, so the old format's top-level `global fib` works as before."""
    install_helper_module()
    try:
        with open(code_path, "rb") as handle:
            source = handle.read()
    except OSError as exc:  # a deployment problem, not the user's: no traceback
        raise CodeError("cannot read the function code %s: %s" % (code_path, exc.strerror))
    code, _notes = compile_function(source, code_path)  # `check` already reported the notes
    module = types.ModuleType("function")
    module.__file__ = code_path
    sys.modules["function"] = module  # lets dataclasses/pickle find the module
    exec(code, module.__dict__)
    return module.__dict__


def find_entry(namespace, entry):
    names = {name: "function" if callable(value) else "value" for name, value in namespace.items()
             if not name.startswith("__")}
    resolved = resolve_entry(names, entry)
    if resolved is None:
        functions = sorted(n for n, kind in names.items() if kind == "function")
        raise EntryError("entry function '%s' is not defined (top-level functions: %s)" % (
            entry, ", ".join(functions) or "none"))
    fmt, name = resolved
    if not callable(namespace[name]):
        raise EntryError("entry '%s' is a %s, not a function" % (name, type(namespace[name]).__name__))
    return fmt, namespace[name]


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


def encode_result(value, limit):
    try:
        encoded = compact_json(value)
    except TypeError as exc:
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


def error_from_exception(exc, code_path):
    if type(exc) in RUNTIME_ERRORS:
        return error_obj(RUNTIME_ERRORS[type(exc)], str(exc))
    tb = safe_text(lambda: user_traceback(exc, code_path))
    if isinstance(exc, SystemExit):
        message = safe_text(lambda: "the function called sys.exit(%r)" % (exc.code,))
        return error_obj("SystemExit", message, tb)
    return error_obj(type(exc).__name__, safe_text(lambda: str(exc)), tb)


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


def partial_output_data(state, limit):
    try:
        return encode_result(state["output_data"], limit) if "output_data" in state else "null"
    except ResultError:
        return "null"


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
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files on a read-only root
    except (ImportError, ValueError, OSError):
        pass
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


# --------------------------------------------------------------------------- serve
#
# A warm replica. The main process is an HTTP/1.1 server (http.server: a thread per
# connection, keep-alive, TCP_NODELAY) that never runs user code. Each request goes to an
# idle worker: a process that loaded the function once and answers requests read from a
# pipe, one at a time, so a replica's concurrency is its number of workers. The server
# keeps the time: a worker that overruns is killed with its process group, replaced, and
# the request answered with status "timeout". Requests need the function's token (a Swarm
# secret): the replica publishes its port on the node, reachable by anyone who can reach
# the node.
#
#   GET  /healthz   -> 200 {"ok":true,...}     (no token: liveness only, nothing else)
#   GET  /stats     -> 200 counters for `faasctl top` (token): served, in flight, CPU, memory
#   POST /invoke    -> 200 outcome JSON         (Authorization: Bearer <token>; body = input JSON)
#                      401 token missing or wrong, 411/413 body, 503 busy or draining
#
# The outcome has the shape of the cold frame plus the captured output text:
#   {"v":1,"status":..,"error":..,"output":{"text","bytes","truncated"},"metrics":{..},"result":..}
# A 503 means the request was NOT run: the client may send it elsewhere.

SERVE_PORT = 8080
SERVE_WORKERS = 2
SERVE_MAX_INPUT = 16 * 1024 * 1024
SERVE_OUTPUT_LIMIT = 64 * 1024
LISTEN_BACKLOG = 512
IDLE_CONNECTION_SECONDS = 300
# How long a worker may take to import the function before it counts as failed to load.
WORKER_LOAD_SECONDS = 60.0
WORKER_RESPAWN_MAX_SECONDS = 10.0
LENGTH_BYTES = 4


def load_serve_config(environ):
    config = load_run_config(environ)
    config.update(
        port=int_setting(environ, "FAASCTL_PORT", SERVE_PORT, 1),
        workers=int_setting(environ, "FAASCTL_WORKERS", SERVE_WORKERS, 1),
        queue=int_setting(environ, "FAASCTL_QUEUE", 0, 0),
        max_input=int_setting(environ, "FAASCTL_MAX_INPUT", SERVE_MAX_INPUT, 1),
        output_limit=int_setting(environ, "FAASCTL_OUTPUT_LIMIT", SERVE_OUTPUT_LIMIT, 0),
        token_file=environ.get("FAASCTL_TOKEN_FILE") or "",
        version=int_setting(environ, "FAASCTL_VERSION", 0, 0),
        idle_exit_ms=int_setting(environ, "FAASCTL_IDLE_EXIT_MS", 0, 0),
    )
    # Waiting requests beyond the workers: enough for a client that keeps every worker of
    # every replica busy, bounded so an overload is answered (503) rather than queued forever.
    config["queue"] = config["queue"] or 64 * config["workers"]
    return config


def read_token(path):
    if not path:
        raise UsageError("FAASCTL_TOKEN_FILE must name the token secret")
    try:
        with open(path, "rb") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise UsageError("cannot read the token %s: %s" % (path, exc.strerror))
    if len(token) < 16:
        raise UsageError("the token in %s is too short" % path)
    return b"Bearer " + token


def length_prefixed(data):
    return len(data).to_bytes(LENGTH_BYTES, "big") + data


def read_exact(fd, size, deadline=None):
    """`size` bytes from fd; None on EOF; TimeoutError past the monotonic deadline."""
    import select
    chunks, missing = [], size
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError()
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_message(fd, deadline=None):
    head = read_exact(fd, LENGTH_BYTES, deadline)
    if head is None:
        return None
    return read_exact(fd, int.from_bytes(head, "big"), deadline)


def outcome_json(status, error, output, metrics, encoded_result="null"):
    head = {"v": FRAME_VERSION, "status": status, "error": error, "output": output, "metrics": metrics}
    return compact_json(head)[:-1] + ',"result":' + encoded_result + "}"


NO_OUTPUT = {"text": "", "bytes": 0, "truncated": False}


def no_metrics(duration_ms):
    return {"durationMs": round(duration_ms, 3), "cpuMs": None, "maxRssKb": None}


# ---- worker (runs user code; one request at a time)


class CapturedOutput:
    """What the function prints during one request (stdout and stderr in order), capped;
    the 2016 format also needs stdout alone for its output_text."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.stdout_parts = []
        self.kept = 0
        self.total = 0

    def sink(self, is_stdout):
        return OutputSink(self, is_stdout)

    def add(self, text, is_stdout):
        size = len(text.encode("utf-8", "replace"))
        self.total += size
        if self.kept < self.limit:
            piece = text if self.kept + size <= self.limit else text.encode("utf-8", "replace")[: self.limit - self.kept].decode("utf-8", "ignore")
            self.parts.append(piece)
            self.kept += len(piece.encode("utf-8", "replace"))
        if is_stdout:
            self.stdout_parts.append(text)

    def summary(self):
        return {"text": "".join(self.parts), "bytes": self.total, "truncated": self.total > self.kept}


class OutputSink:
    """A text stream for sys.stdout/sys.stderr (with a .buffer for bytes writers)."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, capture, is_stdout):
        self.capture, self.is_stdout = capture, is_stdout
        self.buffer = self

    def write(self, data):
        text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray, memoryview)) else str(data)
        self.capture.add(text, self.is_stdout)
        return len(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        raise OSError("the output of a warm function is captured, not a file")

    def writable(self):
        return True


class LoadedFunction:
    def __init__(self, code_path, entry):
        self.code_path = code_path
        self.format = "madhat" if entry == MADHAT_ENTRY else "main"
        self.func = None
        self.error = None
        try:
            self.format, self.func = find_entry(load_function(code_path), entry)
        except BaseException as exc:  # reported with every request, like a cold run would
            self.error = error_from_exception(exc, code_path)


def parse_input_bytes(raw):
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise FunctionInputError("input is not valid JSON: %s" % exc)


def run_loaded(loaded, raw, limit, state):
    data = parse_input_bytes(raw)
    if loaded.format == "madhat":
        input_data, output_data = madhat_args(data)
        state["output_data"] = output_data
        await_if_needed(loaded.func(input_data, output_data))
        return encode_result(output_data, limit)
    return encode_result(await_if_needed(loaded.func(data)), limit)


def madhat_encoded(capture, error, encoded_data):
    text = "".join(capture.stdout_parts)
    if error and error.get("traceback"):
        if text and not text.endswith("\n"):
            text += "\n"
        text += error["traceback"]
    return '{"output_text":' + compact_json(text) + ',"outputData":' + encoded_data + "}"


def worker_answer(loaded, raw, limits):
    """One request, start to end, as the outcome JSON text."""
    import resource
    capture = CapturedOutput(limits["output"])
    saved = sys.stdout, sys.stderr
    state = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    sys.stdout, sys.stderr = capture.sink(True), capture.sink(False)
    try:
        if loaded.error is not None:
            error, encoded = dict(loaded.error), "null"
        else:
            encoded, error = run_loaded(loaded, raw, limits["result"], state), None
    except BaseException as exc:  # user code may raise anything, SystemExit included
        error = error_from_exception(exc, loaded.code_path)
        encoded = partial_output_data(state, limits["result"]) if loaded.format == "madhat" else "null"
    finally:
        sys.stdout, sys.stderr = saved
    metrics = {
        "durationMs": round((time.perf_counter() - started) * 1000.0, 3),
        "cpuMs": round((time.process_time() - cpu_started) * 1000.0, 3),
        "maxRssKb": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
    }
    status = "success" if error is None else "error"
    if error and error.get("type") == "MemoryError":
        status = "oom"
        error["message"] = error.get("message") or "out of memory (MemoryError raised)"
    if loaded.format == "madhat":
        encoded = madhat_encoded(capture, error, encoded)
    return outcome_json(status, error, capture.summary(), metrics, encoded)


def worker_mode(argv):
    opts = dict(zip(argv[::2], argv[1::2]))
    try:
        in_fd, out_fd = int(opts["--in-fd"]), int(opts["--out-fd"])
        code_path, entry = opts["--code"], opts.get("--entry", DEFAULT_ENTRY)
        limits = {"result": int(opts["--result-limit"]), "output": int(opts["--output-limit"])}
    except (KeyError, ValueError):
        raise UsageError("worker mode is internal to `serve`")
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)  # programs the function execs don't get them
    prefer_oom_victim()
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    owner = os.getpid()
    loaded = LoadedFunction(code_path, entry)
    if os.getpid() != owner:
        os._exit(0)  # a fork made at import time returned here
    write_all(out_fd, length_prefixed(b"ready"))
    while True:
        raw = read_message(in_fd)
        if raw is None:
            os._exit(0)  # the server went away
        answer = worker_answer(loaded, raw, limits)
        if os.getpid() != owner:
            os._exit(0)  # a fork made by user code returned here: only the original answers
        write_all(out_fd, length_prefixed(answer.encode("ascii")))


# ---- server side of the pool


class WorkerGone(Exception):
    pass


class Worker:
    def __init__(self, config, environ):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        argv = [sys.executable or "python3", "-I", "-u", THIS_FILE, "worker",
                "--in-fd", str(to_r), "--out-fd", str(from_w), "--code", config["code_file"],
                "--entry", config["entry"], "--result-limit", str(config["result_limit"]),
                "--output-limit", str(config["output_limit"])]
        try:
            # Own session: a timeout kills the worker with everything it started.
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, pass_fds=(to_r, from_w),
                                         close_fds=True, start_new_session=True,
                                         env=child_environment(environ))
        finally:
            os.close(to_r)
            os.close(from_w)

    def wait_ready(self, seconds):
        try:
            hello = read_message(self.from_r, time.monotonic() + seconds)
        except TimeoutError:
            hello = None
        if hello != b"ready":
            self.kill()
            raise WorkerGone(self.describe_exit())

    def call(self, body, deadline):
        """The outcome JSON bytes; TimeoutError past the deadline; WorkerGone if it died."""
        try:
            write_all(self.to_w, length_prefixed(body))
        except OSError:
            raise WorkerGone(self.describe_exit())
        answer = read_message(self.from_r, deadline)
        if answer is None:
            raise WorkerGone(self.describe_exit())
        return answer

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def describe_exit(self):
        try:
            code = self.proc.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            return None
        return code

    def close(self):
        self.kill()
        for fd in (self.to_w, self.from_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass


class WorkerPool:
    """`size` workers; a request takes an idle one or waits, at most `queue` waiting."""

    def __init__(self, config, environ):
        import threading
        self.config, self.environ = config, environ
        self.cond = threading.Condition()
        self.idle = []
        self.waiting = 0
        self.closed = False
        self.load_failure = None
        self.oom_seen = cgroup_oom_kills()
        self.threading = threading

    def start(self):
        for _ in range(self.config["workers"]):
            self.spawn_later()

    def spawn_later(self):
        self.threading.Thread(target=self.spawn, daemon=True).start()

    def spawn(self):
        backoff = 0.5
        while not self.closed:
            try:
                worker = Worker(self.config, self.environ)
                worker.wait_ready(WORKER_LOAD_SECONDS)
            except (OSError, WorkerGone) as exc:
                self.load_failure = load_failure_message(exc)
                sys.stderr.write("faasctl serve: %s; retrying in %.1f s\n" % (self.load_failure, backoff))
                time.sleep(backoff)
                backoff = min(backoff * 2, WORKER_RESPAWN_MAX_SECONDS)
                continue
            self.load_failure = None
            self.release(worker)
            return

    def acquire(self, deadline):
        """An idle worker; None when the deadline passes first; "busy" when the queue is full."""
        with self.cond:
            if self.idle:
                return self.idle.pop()
            if self.waiting >= self.config["queue"]:
                return "busy"
            self.waiting += 1
            try:
                while not self.idle and not self.closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self.cond.wait(remaining)
                return self.idle.pop() if self.idle else None
            finally:
                self.waiting -= 1

    def release(self, worker):
        with self.cond:
            if self.closed:
                worker.close()
                return
            self.idle.append(worker)
            self.cond.notify()

    def replace(self, worker):
        worker.close()
        self.spawn_later()

    def oom_since_last_look(self):
        with self.cond:
            now = cgroup_oom_kills()
            before, self.oom_seen = self.oom_seen, now
        return None if now is None or before is None else now > before

    def close(self):
        with self.cond:
            self.closed = True
            idle, self.idle = self.idle, []
            self.cond.notify_all()
        for worker in idle:
            worker.close()


def load_failure_message(exc):
    if isinstance(exc, WorkerGone):
        code = exc.args[0] if exc.args else None
        if code is not None and code < 0:
            try:
                return "the function's worker died while loading (%s)" % signal.Signals(-code).name
            except ValueError:
                pass
        return "the function's worker exited while loading (exit code %s)" % code
    return "cannot start a worker: %s" % exc


def died_outcome(code, oom, config, duration_ms):
    """The outcome for a worker that died mid-request (it never answered)."""
    limit = config["memory_limit"]
    if code is not None and code < 0:
        if -code == signal.SIGKILL and oom is not False:
            where = " (limit %s)" % mib(limit) if limit else ""
            status, error = "oom", error_obj("OutOfMemory", "out of memory%s" % where)
        else:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "signal %d" % -code
            status, error = "killed", error_obj("Killed", "killed by %s" % name)
    else:
        status = "error"
        error = error_obj("ExitError", "the function's process exited with code %s without reporting a result" % code)
    return outcome_json(status, error, NO_OUTPUT, no_metrics(duration_ms))


def invoke_on_pool(pool, body):
    """(HTTP status, response body bytes) for one authorised invocation."""
    config = pool.config
    started = time.monotonic()
    deadline = started + config["timeout_ms"] / 1000.0
    worker = pool.acquire(deadline)
    if worker == "busy":
        return 503, b'{"error":"busy: every worker is taken and the queue is full"}'
    if worker is None:
        if pool.load_failure:
            error = error_obj("LoadError", pool.load_failure)
            return 200, outcome_json("error", error, NO_OUTPUT, no_metrics(0.0)).encode("ascii")
        return 503, b'{"error":"busy: no worker became free in time"}'
    # The timeout counts from when a worker takes the request, as a cold run's counts
    # from its process start: time spent queued is the platform's, not the function's.
    deadline = time.monotonic() + config["timeout_ms"] / 1000.0
    try:
        answer = worker.call(body, deadline)
    except TimeoutError:
        pool.replace(worker)
        error = error_obj("Timeout", "timed out after %d ms" % config["timeout_ms"])
        return 200, outcome_json("timeout", error, NO_OUTPUT, no_metrics(config["timeout_ms"])).encode("ascii")
    except WorkerGone as gone:
        code = gone.args[0] if gone.args else None
        pool.replace(worker)
        duration = (time.monotonic() - started) * 1000.0
        return 200, died_outcome(code, pool.oom_since_last_look(), config, duration).encode("ascii")
    pool.release(worker)
    return 200, answer


def make_server(config, pool, token):
    import hmac
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Server(ThreadingHTTPServer):
        request_queue_size = LISTEN_BACKLOG
        daemon_threads = True

        def __init__(self, address):
            super().__init__(address, Handler)
            self.lock = threading.Lock()
            self.draining = False
            self.last_request = time.monotonic()
            self.started = time.monotonic()
            self.served = 0
            self.refused = 0
            self.connections = {}  # socket -> busy?

        def begin(self, sock):
            with self.lock:
                if self.draining:
                    return False
                self.connections[sock] = True
                self.last_request = time.monotonic()
                return True

        def end(self, sock):
            with self.lock:
                if sock in self.connections:
                    self.connections[sock] = False
                return self.draining

        def idle_connections(self):
            with self.lock:
                self.draining = True
                return [sock for sock, busy in self.connections.items() if not busy]

        def active(self):
            with self.lock:
                return sum(1 for busy in self.connections.values() if busy)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        timeout = IDLE_CONNECTION_SECONDS
        server_version = "faasctl"

        def setup(self):
            super().setup()
            with self.server.lock:
                self.server.connections[self.connection] = False

        def finish(self):
            with self.server.lock:
                self.server.connections.pop(self.connection, None)
            super().finish()

        def handle_one_request(self):
            try:
                line = self.rfile.readline(65537)
            except (OSError, ValueError):
                line = b""
            if not line:
                self.close_connection = True
                return
            if not self.server.begin(self.connection):
                # Draining: not run, so the client may safely send it elsewhere.
                self.close_connection = True
                self.reply(503, b'{"error":"draining: this replica is stopping"}', close=True)
                return
            try:
                self.raw_requestline = line
                if len(line) > 65536:
                    self.send_error(414)
                    return
                if not self.parse_request():
                    return
                route = ROUTES.get((self.command, self.path.split("?", 1)[0]))
                if route is None:
                    self.reply(404, b'{"error":"no such route"}')
                else:
                    route(self)
            finally:
                if self.server.end(self.connection):
                    self.close_connection = True

        def reply(self, code, body, close=False):
            close = close or self.close_connection or self.server.draining
            head = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (
                code, self.responses.get(code, ("",))[0], len(body), "Connection: close\r\n" if close else "")
            if close:
                self.close_connection = True
            try:
                self.wfile.write(head.encode("ascii") + body)
            except OSError:
                self.close_connection = True

        def authorised(self):
            given = (self.headers.get("Authorization") or "").encode("latin-1", "replace")
            return hmac.compare_digest(given, token)

        def stats(self):
            if not self.authorised():
                return self.reply(401, b'{"error":"missing or wrong token"}')
            with pool.cond:
                idle = len(pool.idle)
            with self.server.lock:
                served, refused = self.server.served, self.server.refused
            body = {
                "version": config["version"], "workers": config["workers"], "idleWorkers": idle,
                "inFlight": self.server.active() - 1,  # not counting this request
                "served": served, "refused": refused,
                "uptimeS": round(time.monotonic() - self.server.started, 3),
                "cpuUsec": cgroup_cpu_usec(), "memoryBytes": cgroup_memory_current(),
            }
            self.reply(200, compact_json(body).encode("ascii"))

        def health(self):
            with pool.cond:
                idle = len(pool.idle)
            body = '{"ok":true,"workers":%d,"idle":%d}' % (config["workers"], idle)
            self.reply(200, body.encode("ascii"))

        def invoke(self):
            if not self.authorised():
                with self.server.lock:
                    self.server.refused += 1
                # Unread body: the connection cannot be reused.
                return self.reply(401, b'{"error":"missing or wrong token"}', close=True)
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                return self.reply(411, b'{"error":"Content-Length is required"}', close=True)
            if int(length) > config["max_input"]:
                body = '{"error":"input is %s bytes; the limit is %d"}' % (length, config["max_input"])
                return self.reply(413, body.encode("ascii"), close=True)
            body = self.rfile.read(int(length))
            if len(body) < int(length):
                self.close_connection = True
                return
            code, answer = invoke_on_pool(pool, body)
            with self.server.lock:
                if code == 200:
                    self.server.served += 1
                else:
                    self.server.refused += 1
            if code == 200 and config["version"]:
                # Which version answered: during a roll two may serve side by side.
                answer = b'{"version":%d,' % config["version"] + answer[1:]
            self.reply(code, answer)

        def log_message(self, *args):
            pass  # no access log: it would cost more than the request

    ROUTES = {("GET", "/healthz"): Handler.health, ("GET", "/stats"): Handler.stats, ("POST", "/invoke"): Handler.invoke}
    server = Server(("0.0.0.0", config["port"]))
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return server


def drain_and_exit(server, pool, grace_seconds):
    """SIGTERM (Swarm stopping the task, e.g. in a rolling update): stop accepting, let
    requests in flight finish, close idle keep-alive connections, then exit. A request
    that arrives meanwhile gets 503 and was not run."""
    import socket
    for sock in server.idle_connections():
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    server.shutdown()
    server.server_close()
    deadline = time.monotonic() + grace_seconds
    while server.active() and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.close()
    sys.stderr.flush()
    os._exit(0)


def exit_when_idle(server, pool, idle_seconds, grace_seconds):
    """A bulk run's replica: with no request for `idle_seconds` its CLI is gone (killed),
    so it exits 0 and its service stays down (restart on failure only) for gc to remove."""
    while True:
        time.sleep(min(1.0, idle_seconds))
        if server.active() == 0 and time.monotonic() - server.last_request > idle_seconds:
            sys.stderr.write("faasctl serve: no request for %d s; exiting\n" % idle_seconds)
            drain_and_exit(server, pool, grace_seconds)


def serve_mode(argv):
    import threading
    if argv:
        raise UsageError("serve takes no arguments; it is configured by FAASCTL_* variables")
    environ = dict(os.environ)
    try:
        config = load_serve_config(environ)
    except ValueError as exc:
        raise UsageError(str(exc))
    token = read_token(config["token_file"])
    set_no_new_privs()  # before spawning: the workers and all they exec inherit it
    pool = WorkerPool(config, environ)
    # Listen first, then load: the port answers (and queues) as soon as the task runs,
    # and requests wait for the first worker instead of being refused.
    server = make_server(config, pool, token)
    pool.start()
    grace = config["timeout_ms"] / 1000.0 + 1.0

    def on_signal(_signum, _frame):
        threading.Thread(target=drain_and_exit, args=(server, pool, grace), daemon=True).start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    if config["idle_exit_ms"]:
        threading.Thread(target=exit_when_idle, args=(server, pool, config["idle_exit_ms"] / 1000.0, grace),
                         daemon=True).start()
    sys.stderr.write("faasctl serve: listening on :%d, %d workers, timeout %d ms\n" % (
        config["port"], config["workers"], config["timeout_ms"]))
    server.serve_forever(poll_interval=0.5)
    while True:  # drain_and_exit ends the process
        time.sleep(1)

# --------------------------------------------------------------------------- main

MODES = {"check": check_mode, "run": run_mode, "child": child_mode, "serve": serve_mode,
         "worker": worker_mode}
USAGE = "usage: faasctl_runtime.py check [--file PATH] [--entry NAME] [--filename NAME] | run | serve"


def main(argv):
    if len(argv) < 2 or argv[1] not in MODES:
        sys.stderr.write(USAGE + "\n")
        return 2
    try:
        return MODES[argv[1]](argv[2:])
    except UsageError as exc:
        sys.stderr.write("faasctl runtime: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

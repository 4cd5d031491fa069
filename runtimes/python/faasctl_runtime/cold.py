"""`run`: one cold invocation. This parent process never runs user code: it takes the
nonce, hardens itself (see sandbox), spawns the `child` mode on the function, relays its
output, enforces the timeout with a select loop no child can block, kills the child's
whole process group, tells an OOM kill or a stop by the engine from other deaths, and
writes the one framed result line the CLI reads."""

import json
import os
import selectors
import signal
import subprocess
import time

from .code_archive import ArchiveError, unpack
from .cgroups import cgroup_oom_kills, cgroup_pids_state, process_limit_note
from .config import KILL_GRACE_SECONDS, UsageError, invocation_info, load_run_config
from .protocol import build_frame, emit_frame, error_obj, mib, write_all
from .relay import OutputBudget, StreamRelay
from .sandbox import (child_environment, make_non_dumpable, runtime_command, set_no_new_privs,
                      take_nonce)

# After the child exits, how long leftovers get to close the pipes.
DRAIN_GRACE_SECONDS = 0.5


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


def child_args(config, outcome_w, deadline):
    argv = ["--outcome-fd", str(outcome_w), "--code", config["code_file"],
            "--result-limit", str(config["result_limit"]), "--info", invocation_info(config, deadline)]
    for key in ("entry", "flavor", "code_dir"):
        if config[key]:
            argv += ["--" + key.replace("_", "-"), config[key]]
    return argv


def spawn_child(config, stdin, outcome_w, environ, deadline):
    return subprocess.Popen(
        runtime_command("child") + child_args(config, outcome_w, deadline), stdin=stdin,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(outcome_w,), close_fds=True,
        start_new_session=True, env=child_environment(environ))


class HeldChild:
    """A `child --held` started before its job: the interpreter's start-up (most of a cold
    run's cost) is paid while the pool container waits instead of while the caller does."""

    def __init__(self, proc, outcome_r, outcome_fd):
        self.proc = proc
        self.outcome_r = outcome_r
        self.outcome_fd = outcome_fd  # its number in the child

    def discard(self):
        for close in (self.proc.stdin.close, self.proc.stdout.close, self.proc.stderr.close):
            try:
                close()
            except OSError:
                pass
        os.close(self.outcome_r)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()


def hold_child():
    """The function's process, started now in its own session with the pipes `run` reads,
    waiting for its job (cold_child.held_mode). Its environment is only the sandbox's until
    the job brings the function's; -I already keeps PYTHON* variables out of a start-up."""
    outcome_r, outcome_w = os.pipe()
    try:
        proc = subprocess.Popen(
            runtime_command("child") + ["--held"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=(outcome_w,), close_fds=True, start_new_session=True,
            env=child_environment(os.environ))
    finally:
        os.close(outcome_w)
    return HeldChild(proc, outcome_r, outcome_w)


def release_held(held, config, environ, deadline):
    """The job to the held child; (proc, outcome_r), or None when it is gone (the caller
    then spawns one as a cold service does)."""
    job = {"argv": child_args(config, held.outcome_fd, deadline), "env": child_environment(environ),
           "input": config["input_file"]}
    try:
        held.proc.stdin.write(json.dumps(job).encode("utf-8") + b"\n")
        held.proc.stdin.close()
    except OSError:
        held.discard()
        return None
    return held.proc, held.outcome_r


def read_ready(selector, relays, sup, outcome_r, cap, timeout, exit_fd=None):
    now = time.monotonic()
    for key, _ in selector.select(timeout):
        if key.fd == exit_fd:
            selector.unregister(exit_fd)  # the exit itself is seen by child_has_exited
            continue
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
    # Readable once the child exits: the loop wakes then instead of at its next tick, which
    # is most of a pool run's time after its function returns. None where Linux lacks it.
    exit_fd = process_fd(proc.pid)
    if exit_fd is not None:
        selector.register(exit_fd, selectors.EVENT_READ)
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
        read_ready(selector, relays, sup, outcome_r, cap, 0.02, exit_fd)
        for relay in relays.values():
            relay.flush_if_idle(time.monotonic())
    selector.close()
    if exit_fd is not None:
        os.close(exit_fd)
    if exited_at is not None:
        sup.returncode = proc.wait()
    return sup


def process_fd(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def child_metrics(sup):
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "durationMs": round(sup.duration_ms, 3),
        "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000.0, 3),
        "maxRssKb": int(usage.ru_maxrss),  # Linux reports kilobytes
    }



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


def start_child(config, environ, started, held=None):
    """Spawn the child (or release the held one); returns (proc, outcome_r) or raises an
    error object as ValueError."""
    deadline = started + config["timeout_ms"] / 1000.0
    if held is not None:
        released = release_held(held, config, environ, deadline)
        if released is not None:
            return released
    try:
        stdin = open_input(config)
    except OSError as exc:
        raise ValueError(error_obj("InputError", "cannot read input file %s: %s" % (
            config["input_file"], exc.strerror)))
    outcome_r, outcome_w = os.pipe()
    try:
        proc = spawn_child(config, stdin, outcome_w, environ, deadline)
    except OSError as exc:
        os.close(outcome_r)
        raise ValueError(error_obj("SpawnError", "cannot start the function process: %s" % exc))
    finally:
        os.close(outcome_w)  # only the child may hold the write end, so EOF means done
        if stdin is not None:
            os.close(stdin)
    return proc, outcome_r


def close_pipes(proc, outcome_r, relays, budget, stdout_relay, stderr_relay):
    """After supervision: close the child's pipes, relay what is held back and say when
    output was dropped. The notice goes to stdout, just before the frame: a log reader
    sees one stream in order, while stdout and stderr may interleave differently.

    What the function wrote after its last newline must not be lost nor changed (issue 19):
    the engine's log keeps a partial line until the container ends, after the frame, where
    the CLI may no longer read, and the frame must start a line. So a partial line still
    held goes into the frame (`tails`, in the order they began), and a stream left mid-line
    in the log anyway (a partial line relayed while the function ran) gets a newline from
    us that the frame names (`lineEnds`) for the CLI to drop.
    Returns (stdout at a line start, the tails, the streams we ended)."""
    os.close(outcome_r)
    proc.stdout.close()
    proc.stderr.close()
    tails = []
    for relay in sorted(relays.values(), key=lambda r: r.pending_since or 0.0):
        tail = relay.take_tail()
        if tail:
            tails.append({"stream": "stdout" if relay is stdout_relay else "stderr",
                          "text": tail.decode("utf-8", "replace"), "bytes": len(tail)})
    for relay in relays.values():
        relay.flush()
    line_ends = []
    if not stderr_relay.at_line_start:
        try:
            write_all(2, b"\n")
            line_ends.append("stderr")
        except OSError:
            pass
    if not budget.truncated:
        if not stdout_relay.at_line_start:
            line_ends.append("stdout")  # emit_frame writes that newline
        return stdout_relay.at_line_start, tails, line_ends
    notice = "%s[faasctl] output truncated: %d of %d bytes relayed (limit %d)\n" % (
        "" if stdout_relay.at_line_start else "\n", budget.relayed, budget.total, budget.limit)
    write_all(1, notice.encode())
    return True, tails, line_ends


def run_mode(argv, held=None):
    """`held`: a pool container's child started ahead of the job (hold_child), or None."""
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
    if config["code_module"]:
        try:
            config["code_file"], config["code_dir"] = unpack(config["code_file"], config["code_module"])
        except ArchiveError as exc:
            return failed_before_start(nonce, error_obj("CodeError", str(exc)))
    oom_before, pids_before = cgroup_oom_kills(), cgroup_pids_state()
    started = time.monotonic()  # the timeout includes interpreter start-up
    try:
        proc, outcome_r = start_child(config, environ, started, held)
    except ValueError as exc:
        return failed_before_start(nonce, exc.args[0])
    budget = OutputBudget(config["output_limit"])
    stdout_relay, stderr_relay = StreamRelay(1, budget, capture=True), StreamRelay(2, budget)
    relays = {proc.stdout.fileno(): stdout_relay, proc.stderr.fileno(): stderr_relay}
    sup = supervise(proc, outcome_r, relays, config, cancel_box, started)
    at_line_start, tails, line_ends = close_pipes(proc, outcome_r, relays, budget, stdout_relay, stderr_relay)
    metrics = child_metrics(sup)
    status, result, error = verdict(sup, config, metrics, oom_before, stdout_relay)
    note = process_limit_note(pids_before, cgroup_pids_state())
    if note and error:
        error["message"] = "%s (%s)" % (error["message"], note)
    frame = build_frame(status, result, error, budget, metrics, tails, line_ends)
    emit_frame(nonce, frame, at_line_start)
    return 0

"""The warm server's side of its workers: a pool of `workers` processes, each spawned in
its own session (so a timeout kills it with all it started) and respawned with backoff
while the function fails to load; a request takes an idle worker or waits in a bounded
queue; a worker that overruns or dies is replaced, and the request answered with the
verdict (timeout, oom, killed) instead of a result."""

import os
import signal
import subprocess
import sys
import time

from .cgroups import cgroup_oom_kills
from .config import KILL_GRACE_SECONDS, invocation_info
from .protocol import NO_OUTPUT, error_obj, length_prefixed, mib, no_metrics, outcome_json, read_message, write_all
from .sandbox import child_environment, runtime_command

# How long a worker may take to import the function before it counts as failed to load.
WORKER_LOAD_SECONDS = 60.0
WORKER_RESPAWN_MAX_SECONDS = 10.0


class WorkerGone(Exception):
    pass


class Worker:
    def __init__(self, config, environ):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        argv = runtime_command("worker") + [
            "--in-fd", str(to_r), "--out-fd", str(from_w), "--code", config["code_file"],
            "--result-limit", str(config["result_limit"]), "--output-limit", str(config["output_limit"])]
        for key in ("entry", "flavor", "code_dir"):
            if config[key]:
                argv += ["--" + key.replace("_", "-"), config[key]]
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

    def call(self, body, deadline, info):
        """The outcome JSON bytes; TimeoutError past the deadline; WorkerGone if it died."""
        try:
            write_all(self.to_w, length_prefixed(info.encode("utf-8")) + length_prefixed(body))
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


def invoke_on_pool(pool, body, request_id=None):
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
        answer = worker.call(body, deadline, invocation_info(config, deadline, request_id))
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

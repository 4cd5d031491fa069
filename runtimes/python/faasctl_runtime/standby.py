"""`standby`: a sandbox-pool container (issue 23). It starts with no function in it, makes a
one-time token, listens on FAASCTL_PORT and prints `FAASCTL-STANDBY:<port>:<token>` on its
stdout, which the CLI reads through the engine's task logs (no container can read another's
logs, so no user code can learn the token). Then it waits for exactly one job:

  POST /job     Authorization: Bearer <token>; body = JSON
                {"code": base64, "sha256": hex, "archive": bool, "input": JSON text,
                 "nonce": str, "env": ["K=V", ...]}
                -> 200 and a stream of Docker-multiplexed frames (1 stdout, 2 stderr): what the
                   `run` mode (the cold path, unchanged) writes, ending with its result frame.
  POST /retire  Authorization: Bearer <token> -> 200, and the container exits unused
                (an abandoned claim given back by gc or the next claimer).
  POST /cancel  Authorization: Bearer <token> -> 200 and SIGTERM to the running job (Ctrl-C or
                a deadline in the CLI); 409 when none runs. A caller that merely goes away
                does not cancel: the job ends into the container's log (see relay).

The code is checked against its sha256 before it runs. After the job (or a retire) every other
process in the container is killed, and the container exits 0 LINGER_MS later (refusing any
other job meanwhile), and Swarm (restart condition `any`) starts a fresh one in its place: a
container never serves two invocations. The pause is for bursts: a container's teardown (its
network namespace, port rules and layer) is the engine's heaviest work per pool invocation here,
and 50 of them at once held a burst of 50 pool jobs to 2.5-3 s; deferred past the burst, 1.1 s. The nonce stays in this non-dumpable process and in
the `run` parent, as in a cold service; the user's child sees neither it nor the token."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import select
import signal
import struct
import sys
import threading

from .config import UsageError, int_setting
from .sandbox import make_non_dumpable, set_no_new_privs

# In the container's tmpfs; FAASCTL_JOB_DIR moves it (the runtime's tests, run on a host).
JOB_DIR = os.environ.get("FAASCTL_JOB_DIR") or "/tmp/faas"
MAX_BODY = 4 * 1024 * 1024
TOKEN_LINE = "FAASCTL-STANDBY"
# How long a used container stays before it exits (FAASCTL_LINGER_MS overrides; the tests' 0).
LINGER_MS = 2000


class Once:
    """The one job this container will take: the first authorised request wins it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.taken = False

    def take(self):
        with self.lock:
            if self.taken:
                return False
            self.taken = True
            return True


def frame(stream, data):
    return struct.pack(">BxxxI", stream, len(data)) + data


def write_job(job):
    code = base64.b64decode(job["code"])
    if hashlib.sha256(code).hexdigest() != job["sha256"]:
        raise ValueError("the code does not match its sha256")
    os.makedirs(JOB_DIR, mode=0o700, exist_ok=True)
    code_path = os.path.join(JOB_DIR, "code.zip" if job.get("archive") else "function.py")
    with open(code_path, "wb") as handle:
        handle.write(code)
    with open(os.path.join(JOB_DIR, "input.json"), "wb") as handle:
        handle.write(job["input"].encode("utf-8"))
    return code_path


def job_environment(job, code_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp"}
    for item in job.get("env") or []:
        key, _, value = item.partition("=")
        env[key] = value
    env.update(FAASCTL_CODE_FILE=code_path, FAASCTL_INPUT_FILE=os.path.join(JOB_DIR, "input.json"),
               FAASCTL_NONCE=job["nonce"])
    return env


def prestart_run():
    """The cold `run` mode in a child of this process forked ahead of the job, its stdout and
    stderr on pipes, with the function's own process already started under it (cold.
    hold_child) and waiting: a job then pays for neither interpreter start, which is most of
    a cold run's time. Forked before the token exists and before the server's thread starts
    (a fork copies one thread only). It waits for the job's environment, nonce included, on a
    pipe; EOF there means the container retires unused. `run` then hardens itself and
    supervises the function exactly as in a cold service. Returns (pid, out_r, err_r, job_w)."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    job_r, job_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (null, out_r, out_w, err_r, err_w, job_w):
                os.close(fd)
            from .cold import hold_child, run_mode
            held = hold_child()
            with os.fdopen(job_r, "rb") as pipe:
                sent = pipe.read()
            if not sent:
                os._exit(0)
            os.environ.clear()
            os.environ.update(json.loads(sent))
            code = run_mode([], held)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            os._exit(70)
    for fd in (out_w, err_w, job_r):
        os.close(fd)
    return pid, out_r, err_r, job_w


def start_run(prestarted, env):
    """Hands the job's environment to the prestarted `run`; (pid, out_r, err_r)."""
    pid, out_r, err_r, job_w = prestarted
    with os.fdopen(job_w, "wb") as pipe:
        pipe.write(json.dumps(env).encode("utf-8"))
    return pid, out_r, err_r


class Run:
    def __init__(self, pid):
        self.pid = pid

    def send_signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except OSError:
            pass

    def wait(self):
        os.waitpid(self.pid, 0)


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def relay(proc, out_r, err_r, sock):
    """The child's stdout and stderr to the socket as multiplexed frames, until both close, and
    to this container's own stdout and stderr: its log then holds the output and the result
    frame as a cold service's does, where a caller that went away (a killed CLI) has them read
    through the engine (core/pool/pool-recover.ts). So a caller going away does not stop the
    run; POST /cancel does."""
    streams = {out_r: 1, err_r: 2}
    gone = False
    while streams:
        watched = list(streams) + ([] if gone else [sock.fileno()])
        ready, _, _ = select.select(watched, [], [])
        for fd in ready:
            if fd == sock.fileno():
                try:
                    gone = sock.recv(1, 0) == b""
                except OSError:
                    gone = True
                continue
            data = os.read(fd, 65536)
            if not data:
                del streams[fd]
                os.close(fd)
                continue
            try:
                write_all(streams[fd], data)
            except OSError:
                pass  # the log is best effort; the caller's copy is the one that counts
            if not gone:
                try:
                    sock.sendall(frame(streams[fd], data))
                except OSError:
                    gone = True
    proc.wait()


class Job:
    """The running job, for POST /cancel (another request thread than the one relaying it)."""

    def __init__(self):
        self.run = None
        self.ended = False

    def cancel(self):
        if self.run is None or self.ended:
            return False
        self.run.send_signal(signal.SIGTERM)  # `run` kills the function and still ends with its frame
        return True


def make_handler(token, once, done, prestarted, job_state):
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        server_version = "faasctl-standby"

        def reply(self, code, body):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            given = (self.headers.get("Authorization") or "").encode("latin-1", "replace")
            if not hmac.compare_digest(given, token):
                return self.reply(401, b'{"error":"missing or wrong token"}')
            if self.path == "/cancel":
                if job_state.cancel():
                    return self.reply(200, b'{"cancelled":true}')
                return self.reply(409, b'{"error":"no job is running"}')
            if self.path not in ("/job", "/retire"):
                return self.reply(404, b'{"error":"no such route"}')
            if not once.take():
                return self.reply(409, b'{"error":"this container has taken its one job"}')
            try:  # taken: whatever happens next, the container then exits for a fresh one
                if self.path == "/retire":
                    return self.reply(200, b'{"retired":true}')
                try:
                    length = int(self.headers.get("Content-Length") or "0")
                    if length <= 0 or length > MAX_BODY:
                        raise ValueError("a job of %d bytes" % length)
                    job = json.loads(self.rfile.read(length))
                    code_path = write_job(job)
                    env = job_environment(job, code_path)
                except (ValueError, KeyError, TypeError, OSError) as exc:
                    return self.reply(400, json.dumps({"error": str(exc)}).encode("utf-8"))
                self.run(env)
            finally:
                done.set()

        def run(self, env):
            pid, out_r, err_r = start_run(prestarted, env)
            job_state.run = Run(pid)
            try:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/vnd.faasctl.stream")
                    self.end_headers()
                    self.wfile.flush()
                except OSError:
                    pass  # the caller is gone already: the run goes on, into the log
                relay(job_state.run, out_r, err_r, self.connection)
            finally:
                job_state.ended = True

        def do_GET(self):
            self.reply(404, b'{"error":"no such route"}')

        def log_message(self, *args):
            pass

    return Handler


def standby_mode(argv):
    from http.server import ThreadingHTTPServer
    if argv:
        raise UsageError("standby takes no arguments; it is configured by FAASCTL_* variables")
    try:
        port = int_setting(os.environ, "FAASCTL_PORT", 8080, 1)
        linger_ms = int_setting(os.environ, "FAASCTL_LINGER_MS", LINGER_MS, 0)
    except ValueError as exc:
        raise UsageError(str(exc))
    import importlib
    importlib.import_module(__package__ + ".cold")  # imported once here, so the forked run starts warm
    make_non_dumpable()  # the token and, later, the nonce live in this process
    set_no_new_privs()  # before forking: `run`, the function and all they exec inherit it
    prestarted = prestart_run()
    raw = secrets.token_hex(32)
    token = b"Bearer " + raw.encode("ascii")
    once, done = Once(), threading.Event()
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(token, once, done, prestarted, Job()))
    server.daemon_threads = True
    # Swarm stops an idle standby (scale down, drain, removal): exit at once, PID 1 has no init.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    sys.stdout.write("%s:%d:%s\n" % (TOKEN_LINE, port, raw))
    sys.stdout.flush()
    done.wait()
    sys.stdout.flush()
    sys.stderr.flush()
    if os.getpid() == 1:
        try:  # anything the function left behind (setsid escapees) goes with the container
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    if linger_ms:  # nothing of the function is left; a SIGTERM (drain, scale down) still ends it at once
        threading.Event().wait(linger_ms / 1000.0)
    os._exit(0)

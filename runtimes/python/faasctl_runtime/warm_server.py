"""`serve`: a warm replica.

The main process is an HTTP/1.1 server (http.server: a thread per connection, keep-alive,
TCP_NODELAY) that never runs user code. Each request goes to an idle worker (see pool and
worker): a process that loaded the function once and answers requests read from a pipe,
one at a time, so a replica's concurrency is its number of workers. The server keeps the
time: a worker that overruns is killed with its process group, replaced, and the request
answered with status "timeout". Requests need the function's token (a Swarm secret): the
replica publishes its port on the node, reachable by anyone who can reach the node.

  GET  /healthz   -> 200 {"ok":true,...}     (no token: liveness only, nothing else)
  GET  /stats     -> 200 counters for `faasctl top` (token): served, in flight, CPU, memory
  POST /invoke    -> 200 outcome JSON         (Authorization: Bearer <token>; body = input JSON)
                     401 token missing or wrong, 411/413 body, 503 busy or draining

The outcome has the shape of the cold frame plus the captured output text:
  {"v":1,"status":..,"error":..,"output":{"text","bytes","truncated"},"metrics":{..},"result":..}
A 503 means the request was NOT run: the client may send it elsewhere."""

import os
import signal
import sys
import time

from .cgroups import cgroup_cpu_usec, cgroup_memory_current
from .code_archive import ArchiveError, unpack
from .config import UsageError, int_setting, load_run_config
from .pool import WorkerPool, invoke_on_pool
from .protocol import compact_json
from .sandbox import set_no_new_privs

SERVE_PORT = 8080
SERVE_WORKERS = 2
SERVE_MAX_INPUT = 16 * 1024 * 1024
SERVE_OUTPUT_LIMIT = 64 * 1024
LISTEN_BACKLOG = 512
IDLE_CONNECTION_SECONDS = 300


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
            # The caller's request id (a Lambda handler's context.aws_request_id).
            code, answer = invoke_on_pool(pool, body, (self.headers.get("X-Faasctl-Request") or "")[:128])
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
    if config["code_module"]:  # unpacked once, before any worker loads it
        try:
            config["code_file"], config["code_dir"] = unpack(config["code_file"], config["code_module"])
        except ArchiveError as exc:
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

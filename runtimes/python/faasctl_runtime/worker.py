"""`worker`: one process of a warm replica's pool. It loads the function once (a load
failure is kept and answered with every request, as a cold run would report it), says
"ready", then answers requests read from a pipe one at a time: output captured (capped)
instead of relayed, the outcome JSON written back length-prefixed. The server keeps the
time and kills a worker that overruns; a fork made by user code never answers."""

import os
import sys
import time

from .config import MADHAT_ENTRY, UsageError
from .flavors import decode_info
from .protocol import compact_json, length_prefixed, outcome_json, read_message, write_all
from .sandbox import no_core_files, prefer_oom_victim
from .user_code import call_entry, error_from_exception, find_entry, load_function, partial_output_data


class CapturedOutput:
    """What the function prints during one request (stdout and stderr in order), capped;
    the 2016 format also needs stdout alone for its output_text."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.sequence = []  # (text kept, is_stdout) in order: replayed into the first answer
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
            self.sequence.append((piece, is_stdout))
            self.kept += len(piece.encode("utf-8", "replace"))
        if is_stdout:
            self.stdout_parts.append(text)

    def replay(self, earlier):
        """What `earlier` captured (the module's import), ahead of this request's output."""
        for piece, is_stdout in earlier.sequence:
            self.add(piece, is_stdout)
        self.total += earlier.total - earlier.kept

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
    """The function, loaded once. What the module prints while it is imported is captured and
    handed to this worker's first answer: a cold run shows it with every invocation, and a
    warm replica must not lose it into the container's log (issue 19)."""

    def __init__(self, code_path, entry, flavor, output_limit, code_dir=None):
        self.code_path = code_path
        self.format = flavor or ("madhat" if entry == MADHAT_ENTRY else "main")
        self.func = None
        self.error = None
        self.load_output = CapturedOutput(output_limit)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.load_output.sink(True), self.load_output.sink(False)
        try:
            self.format, self.func = find_entry(load_function(code_path, code_dir=code_dir), entry, flavor)
        except BaseException as exc:  # reported with every request, like a cold run would
            self.error = error_from_exception(exc, code_path, self.format)
        finally:
            sys.stdout, sys.stderr = saved

    def take_load_output(self):
        captured, self.load_output = self.load_output, None
        return captured


def madhat_encoded(capture, error, encoded_data):
    text = "".join(capture.stdout_parts)
    if error and error.get("traceback"):
        if text and not text.endswith("\n"):
            text += "\n"
        text += error["traceback"]
    return '{"output_text":' + compact_json(text) + ',"outputData":' + encoded_data + "}"


def worker_answer(loaded, raw, limits, info):
    """One request, start to end, as the outcome JSON text."""
    import resource
    capture = CapturedOutput(limits["output"])
    earlier = loaded.take_load_output()
    if earlier is not None:
        capture.replay(earlier)
    saved = sys.stdout, sys.stderr
    state = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    sys.stdout, sys.stderr = capture.sink(True), capture.sink(False)
    try:
        if loaded.error is not None:
            error, encoded = dict(loaded.error), "null"
        else:
            encoded, error = call_entry(loaded.format, loaded.func, raw, limits["result"], state, info), None
    except BaseException as exc:  # user code may raise anything, SystemExit included
        error = error_from_exception(exc, loaded.code_path, loaded.format, info)
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
        code_path, entry, flavor = opts["--code"], opts.get("--entry"), opts.get("--flavor")
        limits = {"result": int(opts["--result-limit"]), "output": int(opts["--output-limit"])}
    except (KeyError, ValueError):
        raise UsageError("worker mode is internal to `serve`")
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)  # programs the function execs don't get them
    prefer_oom_victim()
    no_core_files()
    owner = os.getpid()
    loaded = LoadedFunction(code_path, entry, flavor, limits["output"], opts.get("--code-dir"))
    if os.getpid() != owner:
        os._exit(0)  # a fork made at import time returned here
    write_all(out_fd, length_prefixed(b"ready"))
    while True:
        info = read_message(in_fd)  # the invocation (request id, deadline), then its input
        raw = read_message(in_fd) if info is not None else None
        if raw is None:
            os._exit(0)  # the server went away
        answer = worker_answer(loaded, raw, limits, decode_info(info.decode("utf-8", "replace")))
        if os.getpid() != owner:
            os._exit(0)  # a fork made by user code returned here: only the original answers
        write_all(out_fd, length_prefixed(answer.encode("ascii")))

"""What the runtime says to the outside, byte for byte: the cold run's framed result line
(FAASCTL-RESULT:<nonce>:<JSON>, the CLI takes the LAST line with its nonce), the warm
outcome JSON, and the length-prefixed messages between the server and its workers.
Kept apart so the formats the CLI parses are written in one place."""

import json
import os
import re
import time

FRAME_PREFIX = "FAASCTL-RESULT:"
FRAME_VERSION = 1
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
LENGTH_BYTES = 4
NO_OUTPUT = {"text": "", "bytes": 0, "truncated": False}


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


def error_obj(kind, message, tb=None):
    return {"type": kind, "message": message, "traceback": tb}


def mib(size):
    return "%g MiB" % round(size / 1048576.0, 1)


# ---- the cold frame


def build_frame(status, result, error, budget, metrics, tails=(), line_ends=()):
    """`tails`: the function's last partial lines, carried here instead of the log;
    `line_ends`: the streams whose last byte is a newline the runtime added after the
    function's unterminated output (see cold.close_pipes); the CLI drops it."""
    output = {"bytes": budget.total, "truncated": budget.truncated}
    if tails:
        output["tails"] = list(tails)
    if line_ends:
        output["lineEnds"] = list(line_ends)
    return {
        "v": FRAME_VERSION,
        "status": status,
        "result": result,
        "error": error,
        "output": output,
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


# ---- the warm outcome


def outcome_json(status, error, output, metrics, encoded_result="null"):
    head = {"v": FRAME_VERSION, "status": status, "error": error, "output": output, "metrics": metrics}
    return compact_json(head)[:-1] + ',"result":' + encoded_result + "}"


def no_metrics(duration_ms):
    return {"durationMs": round(duration_ms, 3), "cpuMs": None, "maxRssKb": None}


# ---- server <-> worker messages


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

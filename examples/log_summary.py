"""Status-code histogram and latency percentiles from access-log lines.

Input:  {"lines": ['10.0.0.1 - - [01/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 512 0.031', ...]}
        Combined log format with the request time in seconds as the last field
        (nginx's $request_time). Lines that do not parse are counted, not fatal.
Output: {"requests": 5, "status": {"200": 3, ...}, "latency_ms": {"p50": 31.0, "p95": 870.0},
         "unparsed": 1}
"""
import math
import re

LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "[^"]*" (?P<status>\d{3}) \S+ .*\s(?P<seconds>\d+(?:\.\d+)?)$')


def percentile(sorted_values, p):
    """Nearest-rank percentile: always one of the measured values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def main(data):
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise ValueError('expected a JSON object like {"lines": ["<access-log line>", ...]}')
    status, latencies, unparsed = {}, [], 0
    for line in data["lines"]:
        match = LINE.match(line.strip()) if isinstance(line, str) else None
        if match is None:
            unparsed += 1
            continue
        status[match["status"]] = status.get(match["status"], 0) + 1
        latencies.append(float(match["seconds"]) * 1000)
    latencies.sort()
    summary = {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)} if latencies else None
    return {
        "requests": len(latencies),
        "status": dict(sorted(status.items())),
        "latency_ms": summary,
        "unparsed": unparsed,
    }

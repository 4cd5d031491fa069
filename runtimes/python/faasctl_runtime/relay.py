"""The cold run's relay of user output: the child's stdout and stderr copied live to ours
in whole lines, within one byte budget for both; what is over the budget is still drained
(so the child never blocks on a full pipe) but dropped and counted."""

from .protocol import write_all

# A partial line is held back so output is relayed in whole lines, but not forever:
# a progress bar without newline must still appear, and a huge line must not pile up.
PARTIAL_FLUSH_SECONDS = 0.05
PARTIAL_FLUSH_BYTES = 64 * 1024


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
        self.pending_since = None  # when the held partial line began (orders the tails)
        self.last_data = 0.0
        self.at_line_start = True
        self.broken = False
        self.captured = bytearray() if capture else None

    def feed(self, data, now):
        allowed = self.budget.take(len(data))
        if allowed == 0:
            return
        if not self.pending:
            self.pending_since = now
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

    def take_tail(self):
        """The partial line still held at the end, taken out of the log (the frame carries
        it), or None. Only from a stream that stands at a line start in the log: else the
        tail continues a line already there and goes the usual way."""
        if not self.pending or not self.at_line_start:
            return None
        tail, self.pending = self.pending, b""
        if self.captured is not None:
            self.captured += tail
        return tail

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

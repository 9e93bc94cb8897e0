"""The latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR) and the per-command latency
histograms behind INFO latencystats and LATENCY HISTOGRAM.

Latency events are recorded as Redis 7.0 records them (latencyAddSampleIfNeeded): only while
`latency-monitor-threshold` is set, a command of at least that many milliseconds is a sample of
the event "command" ("fast-command" for commands flagged fast); each event keeps its last 160
samples, one per second (the larger wins), and its all-time maximum.

A histogram keeps counts in the buckets of Redis's HDR histogram (2 significant figures over
nanoseconds, durations recorded as whole microseconds), so percentiles are reported with the
values Redis reports for the same durations.
"""

from __future__ import annotations

from collections import deque

SAMPLES_PER_EVENT = 160


class LatencyEvent:
    __slots__ = ("samples", "max_ms")

    def __init__(self):
        self.samples: deque[list[int]] = deque(maxlen=SAMPLES_PER_EVENT)
        self.max_ms = 0

    def add(self, now_s: int, ms: int) -> None:
        if self.samples and self.samples[-1][0] == now_s:
            self.samples[-1][1] = max(self.samples[-1][1], ms)
        else:
            self.samples.append([now_s, ms])
        self.max_ms = max(self.max_ms, ms)


class LatencyMonitor:
    def __init__(self):
        self.events: dict[str, LatencyEvent] = {}

    def add(self, event: str, ms: int, now_s: int) -> None:
        recorded = self.events.get(event)
        if recorded is None:
            recorded = self.events[event] = LatencyEvent()
        recorded.add(now_s, ms)

    def latest(self) -> list:
        return [[name.encode(), ev.samples[-1][0], ev.samples[-1][1], ev.max_ms]
                for name, ev in self.events.items()]

    def history(self, event: bytes) -> list:
        recorded = self.events.get(event.decode("latin-1"))
        return [] if recorded is None else [list(sample) for sample in recorded.samples]

    def reset(self, events: list[bytes]) -> int:
        if not events:
            count = len(self.events)
            self.events.clear()
            return count
        return sum(self.events.pop(e.decode("latin-1"), None) is not None for e in events)


    def graph(self, event: bytes, now_s: int) -> str:
        """LATENCY GRAPH: a header and Redis's sparkline of the event's samples."""
        name = event.decode("latin-1")
        recorded = self.events[name]
        values = [ms for _, ms in recorded.samples]
        labels = [_ago(now_s - when) for when, _ in recorded.samples]
        header = (f"{name} - high {max(values)} ms, low {min(values)} ms (all time high {recorded.max_ms} ms)\n"
                  + "-" * GRAPH_COLUMNS + "\n")
        return header + sparkline(values, labels, GRAPH_COLUMNS, GRAPH_ROWS)

    def doctor(self, threshold_ms: int, slower_than_us: int, now_s: int) -> str:
        """LATENCY DOCTOR's report for the events yizhan records (command, fast-command)."""
        lines = ["Dave, I have observed latency spikes in this Redis instance. "
                 "You don't mind talking about it, do you Dave?\n\n"]
        advice: dict[str, None] = {}
        for number, (name, ev) in enumerate(self.events.items(), 1):
            values = [ms for _, ms in ev.samples]
            avg = sum(values) // len(values)
            mad = sum(abs(avg - v) for v in values) // len(values)
            period = now_s - min(when for when, _ in ev.samples) or 1
            lines.append(f"{number}. {name}: {len(values)} latency spikes (average {avg}ms, mean deviation "
                         f"{mad}ms, period {period / len(values):.2f} sec). Worst all time event {ev.max_ms}ms.\n")
            if name == "command":
                if slower_than_us < 0:
                    advice["slowlog-enabled"] = None
                elif slower_than_us // 1000 > threshold_ms:
                    advice["slowlog-tuning"] = None
                advice["slowlog-inspect"] = advice["large-objects"] = None
            elif name == "fast-command":
                advice["scheduler"] = None
        lines.append("\nI have a few advices for you:\n\n")
        for key in _ADVICE_ORDER:
            if key in advice:
                lines.append(_ADVICE[key].replace("%THRESHOLD_US%", str(threshold_ms * 1000)))
        return "".join(lines)


GRAPH_COLUMNS = 80
GRAPH_ROWS = 4
_ADVICE_ORDER = ("slowlog-enabled", "slowlog-tuning", "slowlog-inspect", "scheduler", "large-objects")
_ADVICE = {
    "slowlog-enabled": "- There are latency issues with potentially slow commands you are using. Try to enable "
                       "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than "
                       "%THRESHOLD_US%'. If the Slow log is disabled Redis is not able to log slow commands "
                       "execution for you.\n",
    "slowlog-tuning": "- Your current Slow Log configuration only logs events that are slower than your "
                      "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than "
                      "%THRESHOLD_US%'.\n",
    "slowlog-inspect": "- Check your Slow Log to understand what are the commands you are running which are too "
                       "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
    "scheduler": "- The system is slow to execute Redis code paths not containing system calls. This usually "
                 "means the system does not provide Redis CPU time to run for long periods. You should try "
                 "to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running "
                 "other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n"
                 "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your "
                 "system.\n  5) Check if the problem is allocator-related by recompiling Redis with "
                 "MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
    "large-objects": "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                     "operation. If you have very large objects that are often deleted, expired, or evicted, "
                     "try to fragment those objects into multiple smaller objects.\n",
}


def _ago(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def sparkline(values: list[int], labels: list[str], columns: int, rows: int) -> str:
    """Redis's sparkline (sparkline.c, filled): `rows` rows of bars, then the labels
    written downwards, wrapped every `columns` samples."""
    low, high = min(values), max(values)
    parts = []
    for start in range(0, len(values), columns):
        if start:
            parts.append("\n")
        parts.append(_sparkline_range(values[start:start + columns], labels[start:start + columns],
                                      low, high, rows))
    return "".join(parts)


def _sparkline_range(values, labels, low, high, rows) -> str:
    charset = "_o#"
    span = (high - low) or 1
    steps = len(charset) * rows
    step_of = [min(max(int(int((v - low) * steps) / span), 0), steps - 1) for v in values]
    out = []
    for row in range(rows):
        line = []
        for step in step_of:
            index = step - (rows - row - 1) * len(charset)
            line.append(charset[index] if 0 <= index < len(charset) else "|" if index >= len(charset) else " ")
        out.append("".join(line) + "\n")
    out.append(" " * len(values) + "\n")  # the margin above the labels
    for depth in range(max(map(len, labels))):
        out.append("".join(label[depth] if depth < len(label) else " " for label in labels) + "\n")
    return "".join(out)


# -- histograms ------------------------------------------------------------------------------
def bucket_of(ns: int) -> int:
    """The lowest value of the HDR bucket holding `ns` (256 sub-buckets, 2 significant figures)."""
    shift = ns.bit_length() - 8
    return ns if shift <= 0 else (ns >> shift) << shift


def highest_in_bucket(lowest: int) -> int:
    shift = lowest.bit_length() - 8
    return lowest if shift <= 0 else lowest + (1 << shift) - 1


EXACT_US = 4096  # durations below this are counted by the microsecond, longer ones by bucket


class Histogram:
    """Counts of command durations. Recording is on every command's path, so it only counts
    by microsecond, and from EXACT_US on by HDR bucket (keyed by minus the bucket's lowest
    nanosecond value), which keeps it bounded: a few thousand keys at most. `counts` gives
    the HDR buckets when asked."""

    __slots__ = ("by_us",)

    def __init__(self):
        self.by_us: dict[int, int] = {}

    def record_us(self, us: int) -> None:
        """Count one call of `us` microseconds."""
        if us >= EXACT_US:
            us = -bucket_of(us * 1000)  # negative: a bucket's lowest nanosecond value
        by_us = self.by_us
        by_us[us] = by_us.get(us, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.by_us.values())

    @property
    def counts(self) -> dict[int, int]:
        """Counts by the lowest nanosecond value of their HDR bucket."""
        counts: dict[int, int] = {}
        for key, count in self.by_us.items():
            bucket = bucket_of(key * 1000 or 1) if key >= 0 else -key
            counts[bucket] = counts.get(bucket, 0) + count
        return counts

    def percentile_us(self, percentile: float) -> float:
        """hdr_value_at_percentile, in microseconds."""
        wanted = max(1, int(percentile / 100 * self.total + 0.5))
        seen = 0
        counts = self.counts
        for lowest in sorted(counts):
            seen += counts[lowest]
            if seen >= wanted:
                return highest_in_bucket(lowest) / 1000
        return 0.0

    def cumulative_usec(self) -> dict[int, int]:
        """LATENCY HISTOGRAM's buckets, as Redis's logarithmic HDR iteration reports them:
        at each doubling from 1024 ns up to the largest sample, the microseconds of that step
        (the step's highest equivalent value) and how many calls took at most that long,
        listed when the count grew."""
        ordered = sorted(self.counts.items())  # (bucket's lowest ns, count)
        result: dict[int, int] = {}
        seen = previous = i = 0
        step = 1024
        while i < len(ordered):
            while i < len(ordered) and ordered[i][0] <= step:
                seen += ordered[i][1]
                i += 1
            if seen > previous:
                result[highest_in_bucket(step) // 1000] = seen
            previous = seen
            step *= 2
        return result

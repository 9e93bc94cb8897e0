"""INFO's instantaneous rates (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
`instantaneous_output_kbps` and the replication stream's `instantaneous_input_repl_kbps`,
`instantaneous_output_repl_kbps`), sampled as Redis 7.0's serverCron does: every 100 ms the rate since
the previous sample (count difference * 1000 / elapsed ms, an integer) goes into a ring of 16
samples, and the reported rate is their integer mean. Time comes from the server's clock."""

from __future__ import annotations

SAMPLES = 16  # STATS_METRIC_SAMPLES
PERIOD_MS = 100  # serverCron's run_with_period(100)


class Metric:
    __slots__ = ("samples", "index", "last_ms", "last_count")

    def __init__(self, now_ms: int, count: int):
        self.samples = [0] * SAMPLES
        self.index = 0
        self.last_ms = now_ms
        self.last_count = count

    def track(self, now_ms: int, count: int) -> None:
        elapsed = now_ms - self.last_ms
        self.samples[self.index] = (count - self.last_count) * 1000 // elapsed if elapsed > 0 else 0
        self.index = (self.index + 1) % SAMPLES
        self.last_ms, self.last_count = now_ms, count

    def value(self) -> int:
        return sum(self.samples) // SAMPLES


class InstantaneousMetrics:
    """The three rates of one Redis instance; `cron` is called from the server's timer (hz)."""

    def __init__(self, stats, now_ms: int):
        self.reset(stats, now_ms)

    def reset(self, stats, now_ms: int) -> None:
        """CONFIG RESETSTAT: the samples start again from the current counters."""
        self.next_ms = now_ms + PERIOD_MS
        self.ops = Metric(now_ms, stats.total_commands_processed)
        self.net_input = Metric(now_ms, stats.total_net_input_bytes + stats.total_net_repl_input_bytes)
        self.net_output = Metric(now_ms, stats.total_net_output_bytes + stats.total_net_repl_output_bytes)
        self.repl_input = Metric(now_ms, stats.total_net_repl_input_bytes)
        self.repl_output = Metric(now_ms, stats.total_net_repl_output_bytes)

    def cron(self, stats, now_ms: int) -> None:
        if now_ms < self.next_ms:
            return
        self.next_ms = now_ms + PERIOD_MS
        self.ops.track(now_ms, stats.total_commands_processed)
        # as Redis's: the network rates include the replication traffic
        self.net_input.track(now_ms, stats.total_net_input_bytes + stats.total_net_repl_input_bytes)
        self.net_output.track(now_ms, stats.total_net_output_bytes + stats.total_net_repl_output_bytes)
        self.repl_input.track(now_ms, stats.total_net_repl_input_bytes)
        self.repl_output.track(now_ms, stats.total_net_repl_output_bytes)

    def info_rows(self) -> tuple[tuple[str, int | str], ...]:
        return (("instantaneous_ops_per_sec", self.ops.value()),)

    def kbps_rows(self) -> tuple[tuple[str, str], ...]:
        return (("instantaneous_input_kbps", "%.2f" % (self.net_input.value() / 1024)),
                ("instantaneous_output_kbps", "%.2f" % (self.net_output.value() / 1024)),
                ("instantaneous_input_repl_kbps", "%.2f" % (self.repl_input.value() / 1024)),
                ("instantaneous_output_repl_kbps", "%.2f" % (self.repl_output.value() / 1024)))

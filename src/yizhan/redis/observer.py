"""What the server records about the commands it runs: INFO commandstats (calls, time,
rejected and failed calls per command), errorstats (error replies by code), latencystats
(per-command histograms), the slow log, latency events, and the MONITOR feed.

`Client.call` hands every executed command to `Observer.ran`; the connection's direct path
counts the common case itself (a call shorter than `quick_us` that did not fail, see `ran`) and
hands it the rest; commands refused before running reach `rejected`, and every error reply
`error`. Timings come from the injected clock. As in Redis, a command replayed from the AOF
at startup is not recorded, EXEC is not slow-logged (the commands it ran are), admin commands
and those flagged skip_monitor are not shown to monitors (EVAL and FCALL show themselves
before their script's commands, see `feed_monitors`).

Differs from Redis: a blocking command enters the slow log and the latency figures when it
blocks, with the time until then (Redis records a served one when it is served, with the
time of both calls, and leaves out one that timed out or was unblocked).
"""

from __future__ import annotations

from yizhan.redis.latency import EXACT_US, Histogram, LatencyMonitor
from yizhan.redis.monitor import monitor_line, redacted
from yizhan.redis.slowlog import SlowLog
from yizhan.redis.table import COMMANDS
from yizhan.resp import ErrorReply

MAX_ERROR_CODES = 128  # Redis's ERROR_STATS_NUMBER: distinct codes kept, the rest are not


class CommandStat:
    """One command's statistics. Its calls are counted in its histogram (`by_us`, durations by
    microsecond, the one update on the common path); calls and time are summed from it."""

    __slots__ = ("by_us", "long_usec", "rejected", "failed", "histogram")

    def __init__(self):
        self.histogram = Histogram()
        self.by_us = self.histogram.by_us
        self.long_usec = 0  # the time of calls counted by bucket (EXACT_US and longer)
        self.rejected = self.failed = 0

    @property
    def calls(self) -> int:
        return self.histogram.total

    @property
    def usec(self) -> int:
        return sum(us * count for us, count in self.by_us.items() if us >= 0) + self.long_usec


def _ignore(*args) -> None:
    return None


class Observer:
    def __init__(self, server):
        self.server = server
        self.commands: dict = {}  # CommandStat by Command, from its first call
        self.errors: dict[str, int] = {}
        self.slowlog = SlowLog()
        self.latency = LatencyMonitor()
        self.monitors: dict = {}  # the clients in MONITOR mode, in the order they asked
        self.watched = False  # monitors or tracking clients exist: every command takes `_record`
        self._loading = False
        self.configure()

    def configure(self) -> None:
        """Read the parameters `ran` uses (again after CONFIG SET)."""
        params = self.server.params
        self.tracking_latency = params.flag("latency-tracking")
        self.slower_than = params.int("slowlog-log-slower-than")
        self.slowlog_max_len = params.int("slowlog-max-len")
        self.latency_threshold_us = params.int("latency-monitor-threshold") * 1000
        # the shortest duration that may enter the slow log or make a latency event
        bounds = [self.slower_than] if self.slower_than >= 0 and self.slowlog_max_len else []
        if self.latency_threshold_us:
            bounds.append(self.latency_threshold_us)
        self.noteworthy_us = min(bounds, default=1 << 62)
        self._quick_us = min(self.noteworthy_us, EXACT_US)
        self._set_quick_us()

    def _set_quick_us(self) -> None:
        """`quick_us`: calls shorter than this that succeed are only counted (`ran`'s common
        case); -1 (none) while monitors or tracking clients watch or the AOF loads."""
        self.quick_us = -1 if self.watched or self._loading else self._quick_us

    @property
    def loading(self) -> bool:
        return self._loading

    @loading.setter
    def loading(self, loading: bool) -> None:
        """While the AOF is replayed at startup its commands enter no statistics."""
        self._loading = loading
        if loading:
            self.ran = self.rejected = _ignore
        else:
            self.__dict__.pop("ran", None)
            self.__dict__.pop("rejected", None)
        self._set_quick_us()

    # -- recording -----------------------------------------------------------------------
    def ran(self, client, cmd, argv: list[bytes], reply, duration_ns: int) -> None:
        """`cmd` ran for `client` in `duration_ns` (clock.monotonic_ns) and answered `reply`.
        On every command's path: the common case (a short command that succeeded, nobody
        monitoring) is one count. (RedisConnection.process has this test written out.)"""
        duration_us = duration_ns // 1000
        stat = self.commands.get(cmd)
        if stat is not None and duration_us < self.quick_us and type(reply) is not ErrorReply:
            by_us = stat.by_us
            by_us[duration_us] = by_us.get(duration_us, 0) + 1
        else:
            self._record(client, cmd, argv, reply, duration_us)

    def _record(self, client, cmd, argv: list[bytes], reply, duration_us: int) -> None:
        stat = self.commands.get(cmd)
        if stat is None:
            stat = self.commands[cmd] = CommandStat()
        if duration_us >= EXACT_US:
            stat.long_usec += duration_us
        stat.histogram.record_us(duration_us)
        if type(reply) is ErrorReply:
            stat.failed += 1
        if duration_us >= self.noteworthy_us:
            self._noteworthy(client, cmd, argv, duration_us)
        if self.monitors and cmd.monitored:
            self.feed_monitors(client, cmd.name, argv)
        if self.server.tracking.clients:
            self.server.tracking.after_command(client, cmd, argv)

    def _noteworthy(self, client, cmd, argv: list[bytes], duration_us: int) -> None:
        """A command slow enough for the slow log or the latency monitor."""
        now_s = self.server.clock.ms() // 1000
        if 0 <= self.slower_than <= duration_us and self.slowlog_max_len and cmd.slow_logged:
            self.slowlog.push(client, redacted(cmd.name, argv), duration_us, now_s, self.slowlog_max_len)
        if 0 < self.latency_threshold_us <= duration_us:
            event = "fast-command" if "fast" in cmd.flags else "command"
            self.latency.add(event, duration_us // 1000, now_s)

    def unblocked(self, client, reply) -> None:
        """A blocked command was answered. (Its call was counted when it blocked, as Redis
        7.0 counts calls; an UNBLOCKED error from CLIENT UNBLOCK is a failed call and an error
        reply, as there.)"""
        if type(reply) is ErrorReply:
            self.error(reply.message)
            stat = self.commands.get(COMMANDS.get(client.last_command.encode()))  # the blocking command
            if stat is not None:
                stat.failed += 1

    def add_monitor(self, client) -> None:
        self.monitors[client] = None
        self.refresh()

    def drop_client(self, client) -> None:
        self.monitors.pop(client, None)
        self.refresh()

    def refresh(self) -> None:
        """After MONITOR, CLIENT TRACKING or a disconnection: whether commands need `_record`."""
        self.watched = bool(self.monitors) or bool(self.server.tracking.clients)
        self._set_quick_us()

    def rejected(self, cmd) -> None:
        """`cmd` was refused before it ran (arity, NOAUTH, MULTI rules ...)."""
        stat = self.commands.get(cmd)
        if stat is None:
            stat = self.commands[cmd] = CommandStat()
        stat.rejected += 1

    def error(self, message: str) -> None:
        """An error reply went out (INFO errorstats and total_error_replies)."""
        self.server.stats.total_error_replies += 1
        space = message.find(" ", 0, 31)  # Redis: a code is what precedes a space in the first 32 bytes
        code = message[:space] if space >= 0 else "ERR"
        errors = self.errors
        if code in errors:
            errors[code] += 1
        elif len(errors) < MAX_ERROR_CODES:
            errors[code] = 1

    def script_starts(self, client, argv: list[bytes]) -> None:
        """EVAL*, FCALL*: shown to monitors before the commands of their script."""
        if self.monitors:
            self.feed_monitors(client, argv[0].decode("latin-1").lower(), argv)

    def feed_monitors(self, client, name: str, argv: list[bytes]) -> None:
        line = monitor_line(client, name, argv, self.server.clock.us())
        for monitor in list(self.monitors):
            if monitor is client:  # after the reply the command is still to get
                self.server.after_reply.append((monitor.send, line))
            else:
                monitor.send(line)

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: command, error and latency statistics (not the slow log)."""
        self.commands.clear()
        self.errors.clear()

    # -- INFO ----------------------------------------------------------------------------
    def info_commandstats(self) -> list[tuple[str, str]]:
        rows = []
        for cmd, s in self.commands.items():
            per_call = s.usec / s.calls if s.calls else 0
            rows.append((f"cmdstat_{cmd.name}", f"calls={s.calls},usec={s.usec},usec_per_call={per_call:.2f},"
                                                f"rejected_calls={s.rejected},failed_calls={s.failed}"))
        return rows

    def info_errorstats(self) -> list[tuple[str, str]]:
        return [(f"errorstat_{code}", f"count={count}") for code, count in sorted(self.errors.items())]

    def info_latencystats(self) -> list[tuple[str, str]]:
        if not self.tracking_latency:
            return []
        percentiles = [float(p) for p in self.server.params.get("latency-tracking-info-percentiles").split()]
        rows = []
        for cmd, s in self.commands.items():
            if s.histogram.total:
                values = ",".join(f"p{_trimmed(p)}={s.histogram.percentile_us(p):.3f}" for p in percentiles)
                rows.append((f"latency_percentiles_usec_{cmd.name}", values))
        return rows


def _trimmed(value: float) -> str:
    """A percentile as Redis names it: p50, p99, p99.9."""
    text = f"{value:f}".rstrip("0")
    return text.rstrip(".")

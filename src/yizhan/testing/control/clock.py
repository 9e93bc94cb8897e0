"""Time control: move the server clock (a yizhan.clock.ControlledClock) and make the server
act on the time that passed at once: timers now due fire (the runtime's ClockScheduler runs
them when the clock moves), every key whose time has come is deleted, as Redis's active
expiry would have done over that time (so DBSIZE, keyspace `expired` events and INFO agree),
and the replication cron runs once (replication reads only the server clock, from the hz
cron: PINGs to replicas, ACKs to a master, repl-timeout, repl-backlog-ttl), so a jump past a
timeout acts before the control returns, as one tick of that cron."""

from __future__ import annotations

from yizhan.clock import ControlledClock
from yizhan.redis.replication.state import replication


class NotControllable(Exception):
    """The server runs on a clock that cannot be moved (started without test controls)."""


class TimeControl:
    def __init__(self, runtime):
        self.runtime = runtime
        clock = runtime.redis.clock
        self.clock: ControlledClock | None = clock if isinstance(clock, ControlledClock) else None

    def _controlled(self) -> ControlledClock:
        if self.clock is None:
            raise NotControllable("the server clock is not controllable: start it with test controls "
                                  "(yizhan.Server does; `yizhan serve --test-control`)")
        return self.clock

    def now_ms(self) -> int:
        return self.runtime.redis.clock.ms()

    def advance(self, seconds: float) -> int:
        self._controlled().advance(seconds)
        self._time_passed()
        return self.now_ms()

    def set_ms(self, unix_ms: int) -> int:
        self._controlled().set_ms(unix_ms)
        self._time_passed()
        return self.now_ms()

    def _time_passed(self) -> None:
        self.expire_due_keys()
        replication(self.runtime.redis).cron()

    def freeze(self) -> int:
        self._controlled().freeze()
        return self.now_ms()

    def unfreeze(self) -> int:
        self._controlled().unfreeze()
        return self.now_ms()

    def reset(self) -> int:
        self._controlled().reset()
        return self.now_ms()

    @property
    def frozen(self) -> bool:
        return self.clock is not None and not self.clock.running

    def expire_due_keys(self) -> int:
        """Run active expiry until no key is left whose time has come (each cycle is bounded)."""
        redis, deleted = self.runtime.redis, 0
        while True:
            count = redis.active_expire_cycle()
            deleted += count
            if not count:
                return deleted

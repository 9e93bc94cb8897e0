"""Time, injectable: the server reads the clock only through a `Clock`, so tests can move time.

No module under yizhan.redis or yizhan.amqp reads the time module's clocks itself
(tests/unit/test_clock_seam.py checks): a `ManualClock` given to the server moves expiry, idle
and age times, uptime, script durations, save times and timeouts alike."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in milliseconds, as Redis's mstime().

    `tick_ms` is the reading of the last `tick()`, which the Redis connection takes once per
    batch of requests: like Redis's cached LRU clock (refreshed by its cron), it timestamps key
    accesses for OBJECT IDLETIME and the LFU counter, so recording an access reads no clock.
    Expiry always reads the clock itself.

    `monotonic()` is seconds on a clock that never goes back, for durations (a script's run
    time, a child's age, fsync intervals); `ms()`/`us()` are wall-clock time."""

    __slots__ = ("tick_ms",)

    def __init__(self) -> None:
        self.tick_ms = self.ms()

    def ms(self) -> int:
        return time.time_ns() // 1_000_000

    def us(self) -> int:
        return time.time_ns() // 1_000

    def monotonic(self) -> float:
        return time.monotonic()

    def tick(self) -> None:
        self.tick_ms = time.time_ns() // 1_000_000

    monotonic_ns = staticmethod(time.monotonic_ns)  # durations (command timings)


class ManualClock(Clock):
    """A clock that only moves when told to; for tests of expiry without sleeping."""

    __slots__ = ("now_us",)

    def __init__(self, start_ms: int = 1_700_000_000_000):
        self.now_us = start_ms * 1000

    def ms(self) -> int:
        return self.now_us // 1000

    def us(self) -> int:
        return self.now_us

    def monotonic(self) -> float:
        return self.now_us / 1_000_000

    @property
    def tick_ms(self) -> int:
        return self.now_us // 1000

    def tick(self) -> None:
        pass

    def monotonic_ns(self) -> int:
        return self.now_us * 1000

    def advance(self, milliseconds: float) -> None:
        self.now_us += int(milliseconds * 1000)

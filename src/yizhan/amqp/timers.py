"""Broker timers: the clock queues read (message TTL, queue expiry, the x-death time) and
one-shot callbacks at a clock time (a queue's next message expiry, its unused-expiry).

`Timers.clock` is a yizhan.clock.Clock (tests may inject a ManualClock); `loop` is the runtime's
yizhan.clock.ClockScheduler (the loop's call_later on the server clock), set when the server
starts. Without a loop no timer fires and queues expire lazily when
touched (unit tests). A timer is a handle with `cancel()`.
"""

from __future__ import annotations

from yizhan.clock import Clock


class Timers:
    __slots__ = ("clock", "loop")

    def __init__(self, clock: Clock | None = None, loop=None):
        self.clock = clock or Clock()
        self.loop = loop

    def now(self) -> int:
        return self.clock.ms()

    def at(self, when_ms: int, callback):
        """Run `callback` once the clock reaches `when_ms` (None without a loop)."""
        if self.loop is None:
            return None
        delay = max(0, when_ms - self.clock.ms()) / 1000
        return self.loop.call_later(delay, callback)

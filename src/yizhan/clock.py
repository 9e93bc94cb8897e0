"""Time, injectable: the server reads the clock only through a `Clock`, so tests can move time."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in milliseconds, as Redis's mstime()."""

    __slots__ = ()

    def ms(self) -> int:
        return time.time_ns() // 1_000_000

    def us(self) -> int:
        return time.time_ns() // 1_000


class ManualClock(Clock):
    """A clock that only moves when told to; for tests of expiry without sleeping."""

    __slots__ = ("now_us",)

    def __init__(self, start_ms: int = 1_700_000_000_000):
        self.now_us = start_ms * 1000

    def ms(self) -> int:
        return self.now_us // 1000

    def us(self) -> int:
        return self.now_us

    def advance(self, milliseconds: float) -> None:
        self.now_us += int(milliseconds * 1000)

"""Time, injectable: the server reads the clock only through a `Clock`, so tests can move time.

No module under yizhan.redis or yizhan.amqp reads the time module's clocks itself
(tests/unit/test_clock_seam.py checks): a `ManualClock` given to the server moves expiry, idle
and age times, uptime, script durations, save times and timeouts alike."""

from __future__ import annotations

import heapq
import time

_time_ns, _monotonic_ns = time.time_ns, time.monotonic_ns


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


class ControlledClock(Clock):
    """The real clock, which a test may move forward (`advance`), set (`set_ms`) or stop
    (`freeze`/`unfreeze`): what the embedded server and the test controls use.

    Wall time (ms/us) and the monotonic time (`monotonic()`, which timers follow) are the
    system's plus an offset each; `advance` adds to both, `set_ms` moves wall time only (and the
    monotonic time with it when it moves forward: a timer never runs back). `monotonic_ns`
    stays real: it measures how long a command ran (commandstats, SLOWLOG, LATENCY).
    `on_moved` (set by the runtime's scheduler) runs after each move, so timers now due fire."""

    __slots__ = ("wall_offset_ns", "mono_offset_ns", "frozen", "on_moved")

    def __init__(self) -> None:
        self.wall_offset_ns = 0
        self.mono_offset_ns = 0
        self.frozen: tuple[int, int] | None = None  # (wall ns, monotonic ns) while frozen
        self.on_moved = None
        super().__init__()

    def wall_ns(self) -> int:
        frozen = self.frozen
        return frozen[0] if frozen is not None else time.time_ns() + self.wall_offset_ns

    def mono_ns(self) -> int:
        frozen = self.frozen
        return frozen[1] if frozen is not None else time.monotonic_ns() + self.mono_offset_ns

    # (inlined, not through wall_ns/mono_ns: the Redis connection reads the clock per batch)
    def ms(self) -> int:
        frozen = self.frozen
        return (_time_ns() + self.wall_offset_ns if frozen is None else frozen[0]) // 1_000_000

    def us(self) -> int:
        frozen = self.frozen
        return (_time_ns() + self.wall_offset_ns if frozen is None else frozen[0]) // 1_000

    def monotonic(self) -> float:
        frozen = self.frozen
        return (_monotonic_ns() + self.mono_offset_ns if frozen is None else frozen[1]) / 1e9

    def tick(self) -> None:
        frozen = self.frozen
        self.tick_ms = (_time_ns() + self.wall_offset_ns if frozen is None else frozen[0]) // 1_000_000

    @property
    def running(self) -> bool:
        return self.frozen is None

    # -- moves ---------------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward by `seconds` (>= 0)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward; use set_ms to set wall time back")
        step = round(seconds * 1e9)
        if self.frozen is not None:
            wall, mono = self.frozen
            self.frozen = (wall + step, mono + step)
        else:
            self.wall_offset_ns += step
            self.mono_offset_ns += step
        self._moved()

    def set_ms(self, unix_ms: int) -> None:
        """Set wall time to `unix_ms`; a move forward also moves the monotonic time."""
        step = unix_ms * 1_000_000 - self.wall_ns()
        if self.frozen is not None:
            wall, mono = self.frozen
            self.frozen = (wall + step, mono + max(0, step))
        else:
            self.wall_offset_ns += step
            self.mono_offset_ns += max(0, step)
        self._moved()

    def freeze(self) -> None:
        """Stop the clock where it is (until `unfreeze` or a move)."""
        if self.frozen is None:
            self.frozen = (self.wall_ns(), self.mono_ns())
        self._moved()

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        if self.frozen is not None:
            wall, mono = self.frozen
            self.frozen = None
            self.wall_offset_ns = wall - time.time_ns()
            self.mono_offset_ns = mono - time.monotonic_ns()
        self._moved()

    def reset(self) -> None:
        """Back to the system's time (moving back: timers keep their deadlines)."""
        self.frozen = None
        self.wall_offset_ns = self.mono_offset_ns = 0
        self._moved()

    def _moved(self) -> None:
        self.tick()
        if self.on_moved is not None:
            self.on_moved()


class Timer:
    """A callback at a deadline on the clock's monotonic time; `cancel()` as asyncio's."""

    __slots__ = ("deadline", "seq", "callback", "args", "cancelled")

    def __init__(self, deadline: float, seq: int, callback, args):
        self.deadline, self.seq, self.callback, self.args = deadline, seq, callback, args
        self.cancelled = False

    def __lt__(self, other: "Timer") -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class ClockScheduler:
    """Timers that follow the server's clock, run on the asyncio loop: `call_later(delay,
    callback, *args)` as the loop's, but the deadline is on `clock.monotonic()`, so when a
    test moves the clock (`ControlledClock.on_moved`) the timers now due fire at once, in
    deadline order (each once: a periodic check re-arms from the new time). One loop timer
    waits for the earliest deadline while the clock runs; none while it is frozen."""

    def __init__(self, clock: Clock, loop):
        self.clock = clock
        self.loop = loop
        self.heap: list[Timer] = []
        self.seq = 0
        self.cancelled_hint = 0
        self.wakeup = None  # the loop's TimerHandle for heap[0]
        self.wakeup_at = None
        if isinstance(clock, ControlledClock):
            clock.on_moved = self.run_due

    def call_soon(self, callback, *args):
        return self.loop.call_soon(callback, *args)

    def call_later(self, delay: float, callback, *args) -> Timer:
        self.seq += 1
        timer = Timer(self.clock.monotonic() + max(0.0, delay), self.seq, callback, args)
        heapq.heappush(self.heap, timer)
        if self.heap[0] is timer:
            self._arm()
        return timer

    def pending(self) -> int:
        return sum(1 for timer in self.heap if not timer.cancelled)

    def run_due(self) -> None:
        """Fire every timer whose deadline has come, then wait for the next one."""
        heap = self.heap
        now = self.clock.monotonic()
        while heap and heap[0].deadline <= now:
            timer = heapq.heappop(heap)
            if not timer.cancelled:
                timer.cancelled = True  # ran: a late cancel() is a no-op
                timer.callback(*timer.args)
            now = self.clock.monotonic()
        self._arm()

    def _arm(self) -> None:
        heap = self.heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        if len(heap) > 256 and sum(1 for timer in heap if timer.cancelled) * 2 > len(heap):
            self.heap = heap = [timer for timer in heap if not timer.cancelled]
            heapq.heapify(heap)
        running = getattr(self.clock, "running", True)
        deadline = heap[0].deadline if heap and running else None
        if deadline == self.wakeup_at:
            return
        if self.wakeup is not None:
            self.wakeup.cancel()
            self.wakeup = None
        self.wakeup_at = deadline
        if deadline is not None:
            self.wakeup = self.loop.call_later(max(0.0, deadline - self.clock.monotonic()), self._woken)

    def _woken(self) -> None:
        self.wakeup = self.wakeup_at = None
        self.run_due()

    def close(self) -> None:
        if self.wakeup is not None:
            self.wakeup.cancel()
        self.heap.clear()
        self.wakeup = self.wakeup_at = None

"""ControlledClock and ClockScheduler: moves of the clock fire the timers now due, in deadline
order, each once; cancelled timers never run; a frozen clock arms no loop timer."""

from __future__ import annotations

import pytest

from yizhan.clock import ClockScheduler, ControlledClock


class Handle:
    def __init__(self):
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class FakeLoop:
    """The loop's call_later/call_soon, recording what was armed (nothing runs by itself)."""

    def __init__(self):
        self.armed = []

    def call_later(self, delay, callback, *args):
        handle = Handle()
        self.armed.append((delay, handle))
        return handle

    def call_soon(self, callback, *args):
        callback(*args)


def test_advance_moves_wall_and_monotonic_time():
    clock = ControlledClock()
    wall, mono = clock.ms(), clock.monotonic()
    clock.advance(100)
    assert clock.ms() - wall >= 100_000 and clock.monotonic() - mono >= 100
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_freeze_and_set_ms():
    clock = ControlledClock()
    clock.freeze()
    frozen = clock.ms(), clock.us(), clock.monotonic(), clock.tick_ms
    assert (clock.ms(), clock.us(), clock.monotonic(), clock.tick_ms) == frozen
    mono = clock.monotonic()
    clock.set_ms(1_000)  # back in time: wall moves, monotonic does not
    assert clock.ms() == 1_000 and clock.monotonic() == mono
    clock.set_ms(5_000)
    assert clock.ms() == 5_000 and clock.monotonic() == mono + 4
    clock.unfreeze()
    assert clock.running and clock.ms() >= 5_000


def test_scheduler_fires_due_timers_in_order_on_advance():
    clock, loop, fired = ControlledClock(), FakeLoop(), []
    clock.freeze()
    scheduler = ClockScheduler(clock, loop)
    scheduler.call_later(30, fired.append, "b")
    scheduler.call_later(10, fired.append, "a")
    cancelled = scheduler.call_later(20, fired.append, "x")
    scheduler.call_later(100, fired.append, "late")
    cancelled.cancel()
    assert loop.armed == []  # frozen: no loop timer
    clock.advance(30)
    assert fired == ["a", "b"]
    assert scheduler.pending() == 1
    clock.advance(70)
    assert fired == ["a", "b", "late"] and scheduler.pending() == 0


def test_periodic_timer_fires_once_per_move():
    clock, fired = ControlledClock(), []
    scheduler = ClockScheduler(clock, FakeLoop())

    def tick():
        fired.append(clock.monotonic())
        scheduler.call_later(5, tick)
    scheduler.call_later(5, tick)
    clock.advance(3600)
    assert len(fired) == 1


def test_running_clock_arms_one_loop_timer_for_the_earliest_deadline():
    clock, loop = ControlledClock(), FakeLoop()
    scheduler = ClockScheduler(clock, loop)
    scheduler.call_later(10, print)
    scheduler.call_later(20, print)
    scheduler.call_later(5, print)
    live = [delay for delay, handle in loop.armed if not handle.cancelled]
    assert len(live) == 1 and 4 < live[0] <= 5

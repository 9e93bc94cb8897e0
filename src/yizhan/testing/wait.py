"""`wait_for`: tests wait on a condition, never on a timing."""

from __future__ import annotations

import time


def wait_for(predicate, what: str, timeout: float = 60.0, pause: float = 0.1):
    """Poll `predicate()` until it is truthy (returned); an AssertionError after `timeout`
    seconds, an upper bound for the condition, never a timing."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(pause)

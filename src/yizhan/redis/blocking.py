"""Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): a handler that finds nothing to serve
returns `c.block(...)`, which parks the client instead of sleeping. Any later change to one of
the keys wakes the parked clients in the order they blocked; each retries its attempt, and the
first served gets the reply. A timeout answers with the command's timeout reply.

Inside MULTI/EXEC a blocking command does not block: `c.block` returns the timeout reply at once.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Callable

from yizhan.redis import errors
from yizhan.resp import ErrorReply


class Blocked:
    """Returned by a handler to park its client. `attempt()` returns a reply, or None while
    there is still nothing to serve; it must not raise for a key of the wrong type."""

    __slots__ = ("client", "db", "keys", "timeout_ms", "attempt", "timeout_reply", "timer")

    def __init__(self, client, keys: list[bytes], timeout_ms: int, attempt: Callable, timeout_reply):
        self.client = client
        self.db = client.db
        self.keys = keys
        self.timeout_ms = timeout_ms
        self.attempt = attempt
        self.timeout_reply = timeout_reply
        self.timer = None


def parse_timeout(raw: bytes) -> int:
    """A blocking timeout in seconds (fractions allowed) as whole ms; 0 means forever."""
    try:
        seconds = float(raw)
    except ValueError:
        raise ErrorReply("ERR timeout is not a float or out of range") from None
    if math.isnan(seconds) or math.isinf(seconds) or raw[:1].isspace() or b"_" in raw:
        raise ErrorReply("ERR timeout is not a float or out of range")
    if seconds < 0:
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
    ms = int(seconds * 1000)
    if ms > (1 << 62):
        raise ErrorReply("ERR timeout is out of range")
    return ms


class BlockingRegistry:
    """Which clients wait on which (db, key), in arrival order, and which keys changed since
    the last time the waiters were served."""

    def __init__(self, instance):
        self.instance = instance
        self.waiting: dict[tuple[int, bytes], deque[Blocked]] = {}
        self.ready: dict[tuple[int, bytes], None] = {}

    def __len__(self) -> int:
        return sum(1 for _ in self.clients())

    def clients(self):
        seen = set()
        for queue in self.waiting.values():
            for blocked in queue:
                if id(blocked.client) not in seen:
                    seen.add(id(blocked.client))
                    yield blocked.client

    def park(self, blocked: Blocked) -> None:
        for key in blocked.keys:
            self.waiting.setdefault((blocked.db.index, key), deque()).append(blocked)
        if blocked.timeout_ms:
            blocked.timer = self.instance.call_later(blocked.timeout_ms / 1000, self.expire, blocked)
        self.instance.update_change_hooks()

    def unpark(self, blocked: Blocked) -> None:
        for key in blocked.keys:
            queue = self.waiting.get((blocked.db.index, key))
            if queue is not None:
                try:
                    queue.remove(blocked)
                except ValueError:
                    pass
                if not queue:
                    del self.waiting[blocked.db.index, key]
        if blocked.timer is not None:
            blocked.timer.cancel()
            blocked.timer = None
        self.instance.update_change_hooks()

    def key_changed(self, db_index: int, key: bytes) -> None:
        if (db_index, key) in self.waiting:
            self.ready[db_index, key] = None

    def serve_ready(self) -> None:
        """Offer every changed key to its waiters, first come first served."""
        while self.ready:
            ready, self.ready = self.ready, {}
            for db_key in ready:
                queue = self.waiting.get(db_key)
                while queue:
                    blocked = queue[0]
                    reply = blocked.attempt()
                    if reply is None:
                        break
                    self.unpark(blocked)
                    blocked.client.unblock(reply)
                    queue = self.waiting.get(db_key)

    def expire(self, blocked: Blocked) -> None:
        blocked.timer = None
        self.unpark(blocked)
        blocked.client.unblock(blocked.timeout_reply)

"""Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): a handler that finds nothing to serve
returns `c.block(...)`, which parks the client instead of sleeping. Any later change to one of
the keys wakes the parked clients in the order they blocked; each retries its attempt, and the
first served gets the reply. A timeout answers with the command's timeout reply.

Inside MULTI/EXEC a blocking command does not block: `c.block` returns the timeout reply at once.
"""

from __future__ import annotations

from collections import deque
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Callable

from yizhan.redis import errors
from yizhan.resp import ErrorReply


class Blocked:
    """Returned by a handler to park its client. `attempt(key)` tries to serve the client from
    `key`, the key that became ready (Redis serves from that key, not the first of the
    command's keys); it returns a reply, or None while there is nothing to serve, and must not
    raise for a key of the wrong type."""

    __slots__ = ("client", "db", "keys", "timeout_ms", "attempt", "timeout_reply", "timer")

    def __init__(self, client, keys: list[bytes], timeout_ms: int, attempt: Callable, timeout_reply):
        self.client = client
        self.db = client.db
        self.keys = keys
        self.timeout_ms = timeout_ms
        self.attempt = attempt
        self.timeout_reply = timeout_reply
        self.timer = None


_LDBL_MAX = Decimal("1.18973149535723176502e+4932")
_LDBL_HALF_TRUE_MIN = Decimal("1.82259976594123730126e-4951")  # smaller rounds to 0: ERANGE
_C_SPACE = b" \t\n\v\f\r"


def parse_timeout(raw: bytes) -> int:
    """A blocking timeout in seconds as whole ms (0: forever), exactly as Redis 7.0's
    getTimeoutFromObjectOrReply: strtold's syntax and long double range (hex, inf accepted;
    spaces, NUL, nan rejected), then ceil(seconds * 1000) converted to long long, where
    anything out of range becomes LLONG_MIN and so "negative"."""
    if (not raw or len(raw) >= 5120 or raw[0] in _C_SPACE or raw[-1] in _C_SPACE
            or b"_" in raw or b"\0" in raw):
        raise ErrorReply(errors.TIMEOUT_NOT_FLOAT)
    try:
        text = raw.decode("ascii")
        if text.lstrip("+-")[:2].lower() == "0x":
            value = Decimal(float.fromhex(text))
        else:
            value = Decimal(text)
    except (UnicodeDecodeError, ValueError, OverflowError, InvalidOperation):
        raise ErrorReply(errors.TIMEOUT_NOT_FLOAT) from None
    if value.is_nan() or (value.is_finite() and (
            abs(value) > _LDBL_MAX or (value and abs(value) < _LDBL_HALF_TRUE_MIN))):
        raise ErrorReply(errors.TIMEOUT_NOT_FLOAT)
    if value.is_infinite():
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
    ms = int(value.scaleb(3).to_integral_value(rounding=ROUND_CEILING))
    if not 0 <= ms < 1 << 63:
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
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
                # Every waiter gets its turn, in arrival order: one that cannot be served
                # (another type's waiter, or nothing left) is skipped, as Redis does.
                for blocked in list(self.waiting.get(db_key, ())):
                    if blocked.client.blocked is not blocked:
                        continue  # served through another key meanwhile
                    reply = blocked.attempt(db_key[1])
                    if reply is not None:
                        self.unpark(blocked)
                        blocked.client.unblock(reply)

    def expire(self, blocked: Blocked) -> None:
        blocked.timer = None
        self.unpark(blocked)
        blocked.client.unblock(blocked.timeout_reply)

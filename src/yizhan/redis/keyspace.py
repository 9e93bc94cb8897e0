"""The keyspace: numbered databases of typed values, with expiry that is lazy on access and
reclaimed by an active cycle, and one `changed` hook that every write passes through.

Values are plain Python objects; a string is `bytes` (or `bytearray` once modified in place,
which is also Redis's "raw" encoding). Later data types register their Python class and name
with `register_type`.
"""

from __future__ import annotations

import heapq
from typing import Callable

from yizhan.clock import Clock
from yizhan.redis import errors
from yizhan.resp import ErrorReply

TYPE_NAMES: dict[type, str] = {bytes: "string", bytearray: "string"}


def register_type(cls: type, name: str) -> None:
    TYPE_NAMES[cls] = name


def type_name(value) -> str:
    return TYPE_NAMES[type(value)]


class Database:
    """One numbered database: `data` holds values, `expires` absolute expiry times in ms."""

    __slots__ = ("index", "clock", "data", "expires", "_heap", "access", "on_change", "stats")

    def __init__(self, index: int, clock: Clock, stats=None):
        self.index = index
        self.clock = clock
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        self._heap: list[tuple[int, bytes]] = []
        self.access: dict[bytes, int] = {}  # last access, ms, for OBJECT IDLETIME
        self.on_change: Callable[[Database, bytes], None] | None = None
        self.stats = stats

    def __len__(self) -> int:
        return len(self.data)

    # -- reading -------------------------------------------------------------------------
    def get(self, key: bytes, touch: bool = True):
        """The live value at `key`, or None; an expired key is deleted on the way."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.clock.ms():
                self._expire(key)
                return None
        if touch:
            self.access[key] = self.clock.ms()
        return value

    def get_string(self, key: bytes):
        value = self.get(key)
        if value is None or type(value) is bytes or type(value) is bytearray:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def get_typed(self, key: bytes, cls: type):
        value = self.get(key)
        if value is None or type(value) is cls:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def contains(self, key: bytes) -> bool:
        return self.get(key, touch=False) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        """Absolute expiry in ms of a live key, or None when it has none."""
        return self.expires.get(key)

    # -- writing -------------------------------------------------------------------------
    def set(self, key: bytes, value, keep_ttl: bool = False) -> None:
        """Store `value`; an existing TTL is dropped unless `keep_ttl`."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        self.access[key] = self.clock.ms()
        self.changed(key)

    def delete(self, key: bytes) -> bool:
        if self.get(key, touch=False) is None:
            return False
        self._remove(key)
        self.changed(key)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self.expires):
            self._heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self._heap)
        self.changed(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.changed(key)
        return True

    def changed(self, key: bytes) -> None:
        """Every write to `key` ends here: WATCH, notifications and the dirty counter hang off it."""
        if self.stats is not None:
            self.stats.dirty += 1
        if self.on_change is not None:
            self.on_change(self, key)

    def clear(self) -> int:
        removed = len(self.data)
        keys = list(self.data) if self.on_change is not None else ()
        self.data = {}
        self.expires = {}
        self._heap = []
        self.access = {}
        for key in keys:
            self.on_change(self, key)
        return removed

    def swap_with(self, other: "Database") -> None:
        for name in ("data", "expires", "_heap", "access"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs)
            setattr(other, name, mine)

    # -- expiry --------------------------------------------------------------------------
    def _remove(self, key: bytes) -> None:
        del self.data[key]
        self.access.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)

    def _expire(self, key: bytes) -> None:
        self._remove(key)
        if self.stats is not None:
            self.stats.expired_keys += 1
        self.changed(key)

    def active_expire(self, limit: int = 200) -> int:
        """Delete up to `limit` keys whose time has passed; returns how many were deleted."""
        now = self.clock.ms()
        heap, expires = self._heap, self.expires
        removed = 0
        while heap and heap[0][0] <= now and removed < limit:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self._expire(key)
                removed += 1
        return removed

    def live_keys(self) -> list[bytes]:
        """All keys that are not yet expired (expired ones are reclaimed on the way)."""
        if self.expires:
            self.active_expire(limit=1 << 62)
        return list(self.data)

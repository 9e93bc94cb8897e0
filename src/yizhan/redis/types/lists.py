"""The list value type (t_list.c): `RedisList`, a deque of bytes, O(1) push and pop at both
ends as Redis's quicklist. An empty list is never stored: the command that empties it deletes
the key."""

from __future__ import annotations

from collections import deque

from yizhan.redis.keyspace import register_type


class RedisList(deque):
    """A Redis list: a deque of bytes elements."""

    __slots__ = ()

    def copy(self) -> "RedisList":
        return RedisList(self)

    def encoding(self, params=None) -> str:
        """OBJECT ENCODING: Redis 7.0 stores every list as a quicklist, whatever its size and
        list-max-listpack-size."""
        return "quicklist"


register_type(RedisList, "list", copy=RedisList.copy, encoding=RedisList.encoding)

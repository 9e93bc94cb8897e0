"""The set value type (t_set.c): `Set`.

Like Redis 7.0, a set is an "intset" while every member is the canonical text of an int64 and
there are at most set-max-intset-entries of them: it is then a sorted `array('q')` of the
numbers (8 bytes a member, where a list of ints costs 40), listed in numeric order, as Redis
does. Otherwise it is a "hashtable" for good: a `Pool` of bytes (listed
in its own order, as Redis lists a dict in hash order), which also gives SSCAN its cursors and
SPOP/SRANDMEMBER uniform O(1) random picks.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.pool import Pool
from yizhan.redis.types.strings import canonical_int


class Set:
    """A Redis set: `ints` (a sorted array of int64) while an intset, else `members` (and
    `members` is None while an intset)."""

    __slots__ = ("ints", "members")

    def __init__(self):
        self.ints: array | None = array("q")
        self.members: Pool | None = None

    @classmethod
    def build(cls, members, max_intset: int) -> "Set":
        """A new set of `members`, encoded as Redis encodes a set it fills from empty."""
        s = cls()
        for member in members:
            s.add(member, max_intset)
        return s

    @property
    def is_intset(self) -> bool:
        return self.members is None

    def __len__(self) -> int:
        return len(self.ints) if self.members is None else len(self.members)

    def __iter__(self):
        if self.members is None:
            return (b"%d" % n for n in self.ints)
        return iter(self.members)

    def __contains__(self, member: bytes) -> bool:
        if self.members is None:
            n = canonical_int(member)
            return n is not None and self.has_int(n)
        return member in self.members.where

    def has_int(self, n: int) -> bool:
        if self.members is None:
            ints = self.ints
            i = bisect_left(ints, n)
            return i < len(ints) and ints[i] == n
        return b"%d" % n in self.members.where

    def add(self, member: bytes, max_intset: int) -> bool:
        """Add a member; True if it is new. Converts to hashtable as Redis's setTypeAdd does."""
        if self.members is None:
            n = canonical_int(member)
            if n is not None:
                ints = self.ints
                i = bisect_left(ints, n)
                if i < len(ints) and ints[i] == n:
                    return False
                ints.insert(i, n)
                if len(ints) > max_intset:
                    self._to_hashtable()
                return True
            self._to_hashtable()
        return self.members.add(member)

    def discard(self, member: bytes) -> bool:
        if self.members is None:
            n = canonical_int(member)
            if n is None:
                return False
            ints = self.ints
            i = bisect_left(ints, n)
            if i == len(ints) or ints[i] != n:
                return False
            del ints[i]
            return True
        return self.members.discard(member)

    def keep_ints(self, numbers) -> None:
        """Make an intset hold `numbers` (sorted, distinct) instead."""
        self.ints = array("q", numbers)

    def _to_hashtable(self) -> None:
        self.members = Pool(b"%d" % n for n in self.ints)
        self.ints = None

    def random_member(self, rng=random) -> bytes:
        """A member picked uniformly at random (the set is not empty)."""
        if self.members is None:
            return b"%d" % self.ints[rng.randrange(len(self.ints))]
        return self.members.random(rng)

    def pop_random(self, rng=random) -> bytes:
        if self.members is None:
            return b"%d" % self.ints.pop(rng.randrange(len(self.ints)))
        member = self.members.random(rng)
        self.members.discard(member)
        return member

    def copy(self) -> "Set":
        s = Set()
        if self.members is None:
            s.ints = array("q", self.ints)
        else:
            s.ints, s.members = None, Pool(self.members.items)
        return s

    def encoding(self, params=None) -> str:
        return "intset" if self.members is None else "hashtable"


register_type(Set, "set", copy=Set.copy, encoding=Set.encoding)

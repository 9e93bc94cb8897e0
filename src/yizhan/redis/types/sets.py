"""The set value type (t_set.c): `Set`.

Like Redis 7.0, a set is an "intset" while every member is the canonical text of an int64 and
there are at most set-max-intset-entries of them: it is then a sorted array of the numbers,
2, 4 or 8 bytes each as the widest member needs (an intset's upgrade; a list of ints costs
40), listed in numeric order, as Redis does. Otherwise it is a "hashtable" for good: a dict
member -> None (a dict entry is smaller than a set slot at Python's load factors), listed in
its own order as Redis lists a dict in hash order, plus, from the first SSCAN, SPOP or SRANDMEMBER on, a `Pool` of the members, which
gives SSCAN its cursors and SPOP/SRANDMEMBER uniform O(1) random picks (the pool costs about
as much again as the dict, so a set that is never scanned or sampled goes without).
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.pool import Pool
from yizhan.redis.types.strings import canonical_int


_LIMITS = {"h": (-(1 << 15), (1 << 15) - 1), "i": (-(1 << 31), (1 << 31) - 1),
           "q": (-(1 << 63), (1 << 63) - 1)}


def _width_for(*numbers: int) -> str:
    """The narrowest array typecode holding `numbers` (Redis's intset encodings)."""
    lo, hi = min(numbers), max(numbers)
    for code in "hi":
        if _LIMITS[code][0] <= lo and hi <= _LIMITS[code][1]:
            return code
    return "q"


class Set:
    """A Redis set: `ints` (a sorted array of int64) while an intset, else `hashed` (member ->
    None) and, once needed, `pool`. `members` is the pool of a hashtable set (None while an
    intset)."""

    __slots__ = ("ints", "hashed", "pool", "mem_units")

    def __init__(self):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        self.ints: array | None = array("h")
        self.hashed: dict[bytes, None] | None = None
        self.pool: Pool | None = None

    @classmethod
    def build(cls, members, max_intset: int) -> "Set":
        """A new set of `members`, encoded as Redis encodes a set it fills from empty."""
        s = cls()
        for member in members:
            s.add(member, max_intset)
        return s

    @property
    def is_intset(self) -> bool:
        return self.hashed is None

    @property
    def members(self) -> Pool | None:
        """The members as a `Pool` (SSCAN cursors, uniform random picks), built on first use
        and kept in step from then on; None while an intset."""
        if self.hashed is None:
            return None
        if self.pool is None:
            self.pool = Pool(self.hashed)
        return self.pool

    def __len__(self) -> int:
        return len(self.ints) if self.hashed is None else len(self.hashed)

    def __iter__(self):
        if self.hashed is None:
            return (b"%d" % n for n in self.ints)
        return iter(self.hashed)

    def __contains__(self, member: bytes) -> bool:
        if self.hashed is None:
            n = canonical_int(member)
            return n is not None and self.has_int(n)
        return member in self.hashed

    def has_int(self, n: int) -> bool:
        if self.hashed is None:
            ints = self.ints
            i = bisect_left(ints, n)
            return i < len(ints) and ints[i] == n
        return b"%d" % n in self.hashed

    def add(self, member: bytes, max_intset: int) -> bool:
        """Add a member; True if it is new. Converts to hashtable as Redis's setTypeAdd does."""
        hashed = self.hashed
        if hashed is None:
            n = canonical_int(member)
            if n is not None:
                ints = self.ints
                i = bisect_left(ints, n)
                if i < len(ints) and ints[i] == n:
                    return False
                if not _LIMITS[ints.typecode][0] <= n <= _LIMITS[ints.typecode][1]:
                    ints = self.ints = array(_width_for(n), ints)  # intsetUpgradeAndAdd
                ints.insert(i, n)
                if len(ints) > max_intset:
                    self._to_hashtable()
                return True
            self._to_hashtable()
            hashed = self.hashed
        if member in hashed:
            return False
        hashed[member] = None
        if self.pool is not None:
            self.pool.add(member)
        return True

    def discard(self, member: bytes) -> bool:
        hashed = self.hashed
        if hashed is None:
            n = canonical_int(member)
            if n is None:
                return False
            ints = self.ints
            i = bisect_left(ints, n)
            if i == len(ints) or ints[i] != n:
                return False
            del ints[i]
            return True
        if member not in hashed:
            return False
        del hashed[member]
        if self.pool is not None:
            self.pool.discard(member)
        return True

    def keep_ints(self, numbers) -> None:
        """Make an intset hold `numbers` (sorted, distinct) instead."""
        numbers = list(numbers)
        self.ints = array(_width_for(*numbers) if numbers else "h", numbers)

    def _to_hashtable(self) -> None:
        self.hashed = dict.fromkeys(b"%d" % n for n in self.ints)
        self.ints = None

    def random_member(self, rng=random) -> bytes:
        """A member picked uniformly at random (the set is not empty)."""
        if self.hashed is None:
            return b"%d" % self.ints[rng.randrange(len(self.ints))]
        return self.members.random(rng)

    def pop_random(self, rng=random) -> bytes:
        if self.hashed is None:
            return b"%d" % self.ints.pop(rng.randrange(len(self.ints)))
        member = self.members.random(rng)
        self.discard(member)
        return member

    def copy(self) -> "Set":
        s = Set()
        if self.hashed is None:
            s.ints = array(self.ints.typecode, self.ints)
        else:
            s.ints, s.hashed = None, dict(self.hashed)
        return s

    def encoding(self, params=None) -> str:
        return "intset" if self.hashed is None else "hashtable"


register_type(Set, "set", copy=Set.copy, encoding=Set.encoding)

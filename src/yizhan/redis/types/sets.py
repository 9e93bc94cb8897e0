"""The set value type (t_set.c): `Set`.

Like Redis 7.0, a set is an "intset" while every member is the canonical text of an int64 and
there are at most set-max-intset-entries of them: it is then one bytes object of 2, 4 or 8-byte
native-endian numbers, as the widest member needs (an intset's upgrade): a header item whose
first byte is the array typecode ("h", "i", "q"), then the members in ascending order. It is
read through one memoryview cast (`_view`: the header is item 0) and rebuilt on each change (a
copy of at most a few kB, as Redis's intset memmoves). A 20-member intset costs its wrapper
(48 bytes) and one 80-byte blob, where a wrapper, an array and its buffer took 176.
Otherwise it is a "hashtable" for good: a dict member -> None (a dict entry is smaller than a
set slot at Python's load factors), listed in its own order as Redis lists a dict in hash
order; from the first SSCAN, SPOP or SRANDMEMBER on, that dict is a `_Pooled` one that also
carries a `Pool` of the members, which gives SSCAN its cursors and SPOP/SRANDMEMBER uniform O(1)
random picks (the pool costs about as much again as the dict, so a set that is never scanned or
sampled goes without; and a plain dict answers `in` faster than a subclass).
"""

from __future__ import annotations

import random
from bisect import bisect_left
from struct import Struct

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.pool import Pool
from yizhan.redis.types.strings import canonical_int


_LIMITS = {"h": (-(1 << 15), (1 << 15) - 1), "i": (-(1 << 31), (1 << 31) - 1),
           "q": (-(1 << 63), (1 << 63) - 1)}
_PACK = {code: Struct(code).pack for code in _LIMITS}
_HEADER = {code: code.encode().ljust(Struct(code).size, b"\0") for code in _LIMITS}
_CODE = {ord(code): code for code in _LIMITS}  # by the blob's first byte
_WIDTH = {ord(code): Struct(code).size for code in _LIMITS}
_EMPTY = _HEADER["h"]


def _width_for(*numbers: int) -> str:
    """The narrowest typecode holding `numbers` (Redis's intset encodings)."""
    lo, hi = min(numbers), max(numbers)
    for code in "hi":
        if _LIMITS[code][0] <= lo and hi <= _LIMITS[code][1]:
            return code
    return "q"


def _intset(code: str, numbers) -> bytes:
    """The blob of an intset of `code` holding `numbers` (ascending, distinct)."""
    return _HEADER[code] + b"".join(map(_PACK[code], numbers))


def _view(blob: bytes) -> memoryview:
    """An intset blob as a sequence of ints: the header at 0, then the members."""
    return memoryview(blob).cast(_CODE[blob[0]])


class _Pooled(dict):
    """A hashtable set's members (member -> None) with their `pool`."""

    __slots__ = ("pool",)

    def __init__(self, members: dict):
        super().__init__(members)
        self.pool = Pool(self)


class Set:
    """A Redis set: `body` is the intset blob (bytes) while an intset, else the members (a
    dict member -> None, a `_Pooled` one once a pool is needed). `ints`, `hashed`, `pool` and
    `members` read it as the encoding has it."""

    __slots__ = ("body", "mem_units")

    def __init__(self):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        self.body: bytes | dict = _EMPTY

    @classmethod
    def build(cls, members, max_intset: int) -> "Set":
        """A new set of `members`, encoded as Redis encodes a set it fills from empty."""
        s = cls()
        for member in members:
            s.add(member, max_intset)
        return s

    @property
    def is_intset(self) -> bool:
        return type(self.body) is bytes

    @property
    def ints(self) -> memoryview | None:
        """An intset's numbers, ascending (a view of the blob as it is now); None otherwise."""
        body = self.body
        return _view(body)[1:] if type(body) is bytes else None

    @property
    def hashed(self) -> dict | None:
        """A hashtable set's members (member -> None); None while an intset."""
        body = self.body
        return None if type(body) is bytes else body

    @property
    def pool(self) -> Pool | None:
        """The pool of a hashtable set, if one was needed yet."""
        body = self.body
        return body.pool if type(body) is _Pooled else None

    @property
    def members(self) -> Pool | None:
        """The members as a `Pool` (SSCAN cursors, uniform random picks), built on first use
        and kept in step from then on; None while an intset."""
        body = self.body
        if type(body) is bytes:
            return None
        if type(body) is not _Pooled:
            body = self.body = _Pooled(body)
        return body.pool

    def __len__(self) -> int:
        body = self.body
        if type(body) is bytes:
            return len(body) // _WIDTH[body[0]] - 1
        return len(body)

    def __iter__(self):
        body = self.body
        if type(body) is bytes:
            return (b"%d" % n for n in _view(body)[1:])
        return iter(body)

    def __contains__(self, member: bytes) -> bool:
        body = self.body
        if type(body) is bytes:
            n = canonical_int(member)
            return n is not None and self.has_int(n)
        return member in body

    def has_int(self, n: int) -> bool:
        body = self.body
        if type(body) is bytes:
            ints = _view(body)
            i = bisect_left(ints, n, 1)
            return i < len(ints) and ints[i] == n
        return b"%d" % n in body

    def add(self, member: bytes, max_intset: int) -> bool:
        """Add a member; True if it is new. Converts to hashtable as Redis's setTypeAdd does."""
        body = self.body
        if type(body) is bytes:
            n = canonical_int(member)
            if n is None:
                body = self._to_hashtable()
            else:
                return self._add_int(body, n, max_intset)
        if member in body:
            return False
        body[member] = None
        if type(body) is _Pooled:
            body.pool.add(member)
        return True

    def add_all(self, members, max_intset: int) -> int:
        """Add `members` (SADD's arguments); how many were new. An intset that stays one takes
        them in one rebuild; otherwise member by member, as Redis's setTypeAdd."""
        body = self.body
        if type(body) is bytes and len(members) > 1:
            numbers = list(map(canonical_int, members))
            if None not in numbers:
                merged = set(_view(body)[1:].tolist())
                before = len(merged)
                merged.update(numbers)
                if len(merged) <= max_intset:
                    merged = sorted(merged)
                    code = _CODE[body[0]]
                    low, high = _LIMITS[code]
                    if not (low <= merged[0] and merged[-1] <= high):  # intsetUpgradeAndAdd
                        code = _width_for(merged[0], merged[-1])
                    self.body = _intset(code, merged)
                    return len(merged) - before
        add = self.add
        return sum([add(member, max_intset) for member in members])

    def _add_int(self, body: bytes, n: int, max_intset: int) -> bool:
        ints = _view(body)
        i = bisect_left(ints, n, 1)
        size = len(ints)
        if i < size and ints[i] == n:
            return False
        code = _CODE[body[0]]
        low, high = _LIMITS[code]
        if not low <= n <= high:  # intsetUpgradeAndAdd
            numbers = ints.tolist()[1:]
            numbers.insert(i - 1, n)
            self.body = _intset(_width_for(n, *numbers), numbers)
        else:
            at = i * ints.itemsize
            self.body = body[:at] + _PACK[code](n) + body[at:]
        if size > max_intset:  # the header's item and the new member: size + 1 - 1 members
            self._to_hashtable()
        return True

    def discard(self, member: bytes) -> bool:
        body = self.body
        if type(body) is bytes:
            n = canonical_int(member)
            if n is None:
                return False
            ints = _view(body)
            i = bisect_left(ints, n, 1)
            if i == len(ints) or ints[i] != n:
                return False
            self._cut(body, i, ints.itemsize)
            return True
        if member not in body:
            return False
        del body[member]
        if type(body) is _Pooled:
            body.pool.discard(member)
        return True

    def _cut(self, body: bytes, i: int, width: int) -> None:
        """Remove item `i` (>= 1) of an intset blob."""
        self.body = body[:i * width] + body[(i + 1) * width:]

    def keep_ints(self, numbers) -> None:
        """Make an intset hold `numbers` (ascending, distinct) instead, in the narrowest width."""
        numbers = list(numbers)
        self.body = _intset(_width_for(*numbers), numbers) if numbers else _EMPTY

    def _to_hashtable(self) -> dict:
        members = self.body = dict.fromkeys(b"%d" % n for n in _view(self.body)[1:])
        return members

    def random_member(self, rng=random) -> bytes:
        """A member picked uniformly at random (the set is not empty)."""
        body = self.body
        if type(body) is bytes:
            ints = _view(body)
            return b"%d" % ints[rng.randrange(1, len(ints))]
        return self.members.random(rng)

    def pop_random(self, rng=random) -> bytes:
        body = self.body
        if type(body) is bytes:
            ints = _view(body)
            i = rng.randrange(1, len(ints))
            n = ints[i]
            self._cut(body, i, ints.itemsize)
            return b"%d" % n
        member = self.members.random(rng)
        self.discard(member)
        return member

    def copy(self) -> "Set":
        s = Set()
        body = self.body
        s.body = body if type(body) is bytes else dict(body)
        return s

    def encoding(self, params=None) -> str:
        return "intset" if type(self.body) is bytes else "hashtable"


register_type(Set, "set", copy=Set.copy, encoding=Set.encoding)

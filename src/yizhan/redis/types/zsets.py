"""The sorted set value type (t_zset.c): `ZSet`.

Redis keeps small sets in a listpack and converts them to a skiplist once they outgrow
zset-max-listpack-entries / -value (never back, except for the results of *STORE commands).
`ZSet.listpack` says which one Redis would be using, because it shows: OBJECT ENCODING, ZSCAN,
and -0 (a listpack stores an integral score as an integer, so -0 becomes 0 there). The two
encodings are two representations here too:
- skiplist: a dict member -> score and a `SortedList` of (score, member), so that rank, score
  and lex lookups are O(log N) and ranges O(log N + M);
- listpack: ONE bytes object, types/packed.py's layout with each member's score as its value
  (the shortest text that reads back as the same double), entries in (score, member) order.
  About 20 bytes a short member where the skiplist form costs about 200. `scores` is then a
  view that finds a member with one bytes search; `order` decodes the blob into a sorted list
  of (score, member) with C-level split/map/zip, and keeps the last decoding (one, for the
  whole process) until that blob changes, so a command that reads `order` many times decodes
  it once.
Equal scores order by member bytes (memcmp, shorter first), which is how Python compares bytes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

from sortedcontainers import SortedList

from yizhan.redis.keyspace import ScanTable, register_type
from yizhan.redis.types.packed import entry, escape, split, split_raw, value_span


def _score_text(score: float) -> bytes:
    return b"%r" % score


class PackedOrder(list):
    """A listpack sorted set's (score, member) pairs in order, with the SortedList methods
    the commands use; `offsets[i]` is where entry i starts in the blob it was decoded from."""

    __slots__ = ("offsets",)

    def bisect_left(self, item) -> int:
        return bisect_left(self, item)

    def bisect_right(self, item) -> int:
        return bisect_right(self, item)

    def islice(self, start=None, stop=None, reverse: bool = False):
        part = self[start:stop]
        return reversed(part) if reverse else iter(part)

    def irange(self, minimum, maximum, inclusive=(True, False)):
        """SortedList.irange for the form the commands use: [minimum, maximum)."""
        assert inclusive == (True, False)
        return iter(self[bisect_left(self, minimum):bisect_left(self, maximum)])


_last_decoded: list = [None, None]  # [blob, PackedOrder]: one decoding, reused while current


def _decode(blob: bytes) -> PackedOrder:
    if _last_decoded[0] is blob:
        return _last_decoded[1]
    parts = split(blob)
    order = PackedOrder(zip(map(float, parts[1::2]), parts[0::2]))
    raw = list(map(len, split_raw(blob)))
    order.offsets = list(accumulate(map(int.__add__, raw[0::2], raw[1::2]), lambda a, b: a + b + 2,
                                    initial=0)) if raw else [0]
    _last_decoded[0], _last_decoded[1] = blob, order
    return order


class PackedScores:
    """A listpack sorted set's member -> score mapping, read from its current blob."""

    __slots__ = ("zset",)

    def __init__(self, zset: "ZSet"):
        self.zset = zset

    def get(self, member: bytes, default=None):
        blob = self.zset.blob
        _, start, end = value_span(blob, member)
        return default if start < 0 else float(blob[start:end])

    def __getitem__(self, member: bytes) -> float:
        score = self.get(member)
        if score is None:
            raise KeyError(member)
        return score

    def __contains__(self, member: bytes) -> bool:
        return value_span(self.zset.blob, member)[0] >= 0

    def __len__(self) -> int:
        return len(self.zset)

    def __iter__(self):
        return (member for _, member in self.zset.order)

    def items(self):
        return ((member, score) for score, member in self.zset.order)

    def __eq__(self, other) -> bool:
        return dict(self.items()) == (dict(other.items()) if type(other) is PackedScores else other)

    __hash__ = None


class ZSet:
    """A sorted set: `scores` (member -> score) and `order` (sorted (score, member) pairs),
    kept in `blob` while a listpack, in `_scores` / `_order` once a skiplist."""

    __slots__ = ("blob", "_scores", "_order", "table", "mem_units")

    def __init__(self, listpack: bool = True):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        self.blob: bytes | None = b"" if listpack else None
        self._scores: dict[bytes, float] | None = None if listpack else {}
        self._order: SortedList | None = None if listpack else SortedList()
        self.table = None  # a ScanTable of the members, built by the first ZSCAN of a skiplist

    @property
    def listpack(self) -> bool:
        return self.blob is not None

    @listpack.setter
    def listpack(self, small: bool) -> None:
        """Convert (zsetConvert); a listpack made from a skiplist turns -0 scores into 0."""
        if small == self.listpack:
            return
        if small:
            self.blob = b"".join(entry(member, _score_text(score + 0.0)) for score, member in self._order)
            self._scores = self._order = None
        else:
            order = _decode(self.blob)
            self._order = SortedList(order)
            self._scores = {member: score for score, member in order}
            self.blob = None
        self.table = None

    @property
    def scores(self):
        return self._scores if self.blob is None else PackedScores(self)

    @property
    def order(self):
        return self._order if self.blob is None else _decode(self.blob)

    def __len__(self) -> int:
        return len(self._scores) if self.blob is None else self.blob.count(b"\x00")

    def score(self, member: bytes) -> float | None:
        """The member's score or None: `scores.get` without making a view (ZADD, ZSCORE)."""
        blob = self.blob
        if blob is None:
            return self._scores.get(member)
        if 0 in member or 1 in member or 2 in member:  # value_span, inlined (ZADD's path)
            member = escape(member)
        at = blob.find(b"\x00%b\x01" % member)
        if at < 0:
            return None
        start = at + len(member) + 2
        end = blob.find(b"\x00", start)
        return float(blob[start:] if end < 0 else blob[start:end])

    def insert(self, member: bytes, score: float) -> None:
        """Add a member that is not present."""
        blob = self.blob
        if blob is not None:
            score += 0.0  # a listpack keeps an integral score as an integer: -0 becomes 0
            order = _decode(blob)
            at = order.offsets[bisect_left(order, (score, member))]
            self.blob = blob[:at] + entry(member, _score_text(score)) + blob[at:]
            return
        self._scores[member] = score
        self._order.add((score, member))
        if self.table is not None:
            self.table.add(member)

    def rescore(self, member: bytes, old: float, new: float) -> None:
        if self.blob is not None:
            self.remove(member)
            self.insert(member, new)
            return
        order = self._order
        order.remove((old, member))
        order.add((new, member))
        self._scores[member] = new

    def remove(self, member: bytes) -> bool:
        blob = self.blob
        if blob is not None:
            at, _, end = value_span(blob, member)
            if at < 0:
                return False
            self.blob = blob[:at] + blob[end:]
            return True
        score = self._scores.pop(member, None)
        if score is None:
            return False
        self._order.remove((score, member))
        if self.table is not None:
            self.table.discard(member)
        return True

    def remove_slice(self, start: int, stop: int) -> list[tuple[float, bytes]]:
        """Remove the members ranked start..stop-1 and return them."""
        blob = self.blob
        if blob is not None:
            order = _decode(blob)
            items = order[start:stop]
            if items:
                offsets = order.offsets
                start = min(max(start, 0), len(order))
                self.blob = blob[:offsets[start]] + blob[offsets[start + len(items)]:]
            return items
        items = self._order[start:stop]
        del self._order[start:stop]
        scores, table = self._scores, self.table
        for _, member in items:
            del scores[member]
            if table is not None:
                table.discard(member)
        return items

    def rank(self, member: bytes) -> int | None:
        score = self.scores.get(member)
        if score is None:
            return None
        return self.order.bisect_left((score, member))

    def between(self, low: float, high: float) -> list[tuple[float, bytes]]:
        """The (score, member) pairs with low <= score < high, in order (a geo search's cell
        ranges): two bisects in the SortedList's sublists, without irange's iterators."""
        if self.blob is not None:
            order = _decode(self.blob)
            return order[bisect_left(order, (low,)):bisect_left(order, (high,))]
        lists = self._order._lists
        at = bisect_left(self._order._maxes, (low,))
        if at == len(lists):
            return []
        part = lists[at]
        end = bisect_left(part, (high,))
        found = part[bisect_left(part, (low,)):end]
        while end == len(part) and at + 1 < len(lists):  # the range goes on in the next sublist
            at += 1
            part = lists[at]
            end = bisect_left(part, (high,))
            found += part[:end]
        return found

    def uniform(self) -> bool:
        """All scores are equal: lex ranges are well defined and can bisect."""
        order = self.order
        return order[0][0] == order[-1][0]

    def copy(self) -> "ZSet":
        other = ZSet(self.listpack)
        if self.blob is not None:
            other.blob = self.blob
        else:
            other._scores = dict(self._scores)
            other._order = self._order.copy()
        return other

    def encoding(self, params=None) -> str:
        return "listpack" if self.blob is not None else "skiplist"

    def scan_table(self):
        if self.table is None:
            self.table = ScanTable(self.scores)
        return self.table



class Limits:
    """zset-max-listpack-entries / -value (from a server's int_params), read once per command."""

    __slots__ = ("entries", "value")

    def __init__(self, params):
        self.entries = params.int("zset-max-listpack-entries")
        self.value = params.int("zset-max-listpack-value")

    def new_zset(self, first_member: bytes) -> ZSet:
        """An empty sorted set for a new key, its encoding decided by the first member to go
        in (zsetTypeCreate as ZADD calls it)."""
        return ZSet(listpack=self.entries != 0 and len(first_member) <= self.value)

    def make_room(self, zs: ZSet, member: bytes) -> None:
        """zsetAdd's check before a listpack insert: convert when it would outgrow the limits."""
        if zs.listpack and (len(zs) + 1 > self.entries or len(member) > self.value):
            zs.listpack = False


def from_items(limits: Limits, items) -> ZSet:
    """A *STORE result from (member, score) pairs, built as a skiplist and converted to a
    listpack if small enough (zsetConvertToListpackIfNeeded)."""
    items = list(items)
    small = len(items) <= limits.entries and all(len(m) <= limits.value for m, _ in items)
    zs = ZSet(listpack=small)
    for member, score in items:
        zs.insert(member, score)
    return zs

register_type(ZSet, "zset", copy=ZSet.copy, encoding=ZSet.encoding)

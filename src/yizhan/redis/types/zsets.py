"""The sorted set value type (t_zset.c): `ZSet`, a dict member -> score and a `SortedList` of
(score, member), so that rank, score and lex lookups are O(log N) and ranges O(log N + M).
Equal scores order by member bytes (memcmp, shorter first), which is how Python compares bytes.

Redis keeps small sets in a listpack and converts them to a skiplist once they outgrow
zset-max-listpack-entries / -value (never back, except for the results of *STORE commands).
`ZSet.listpack` tracks which one Redis would be using, because it shows: OBJECT ENCODING, ZSCAN,
and -0 (a listpack stores an integral score as an integer, so -0 becomes 0 there).
"""

from __future__ import annotations

from sortedcontainers import SortedList

from yizhan.redis.keyspace import ScanTable, register_type


class ZSet:
    """A sorted set: `scores` (member -> score) and `order` (sorted (score, member) pairs)."""

    __slots__ = ("scores", "order", "listpack", "table")

    def __init__(self, listpack: bool = True):
        self.scores: dict[bytes, float] = {}
        self.order = SortedList()
        self.listpack = listpack
        self.table = None  # a ScanTable of the members, built by the first ZSCAN of a skiplist

    def __len__(self) -> int:
        return len(self.scores)

    def insert(self, member: bytes, score: float) -> None:
        """Add a member that is not present."""
        if self.listpack:
            score += 0.0  # a listpack keeps an integral score as an integer: -0 becomes 0
        self.scores[member] = score
        self.order.add((score, member))
        if self.table is not None:
            self.table.add(member)

    def rescore(self, member: bytes, old: float, new: float) -> None:
        if self.listpack:
            new += 0.0
        order = self.order
        order.remove((old, member))
        order.add((new, member))
        self.scores[member] = new

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        if self.table is not None:
            self.table.discard(member)
        return True

    def remove_slice(self, start: int, stop: int) -> list[tuple[float, bytes]]:
        """Remove the members ranked start..stop-1 and return them."""
        items = self.order[start:stop]
        del self.order[start:stop]
        scores, table = self.scores, self.table
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

    def uniform(self) -> bool:
        """All scores are equal: lex ranges are well defined and can bisect."""
        order = self.order
        return order[0][0] == order[-1][0]

    def copy(self) -> "ZSet":
        other = ZSet(self.listpack)
        other.scores = dict(self.scores)
        other.order = self.order.copy()
        return other

    def encoding(self, params=None) -> str:
        return "listpack" if self.listpack else "skiplist"

    def scan_table(self):
        if self.table is None:
            self.table = ScanTable(self.scores)
        return self.table


register_type(ZSet, "zset", copy=ZSet.copy, encoding=ZSet.encoding)

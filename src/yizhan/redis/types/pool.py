"""`Pool`: distinct elements with O(1) uniform random picks and SCAN cursors, shared by the
hashtable encodings of hashes and sets."""

from __future__ import annotations

import random


class Pool:
    """Distinct elements in a list, with each one's position: uniform random picks in O(1),
    O(1) add and discard, and SCAN cursors. Discarding moves the last element into the hole,
    so an element only ever moves to a lower position; a scan walks positions from the top
    down, so it returns every element present for the whole iteration (some perhaps twice),
    which is what Redis's SCAN guarantees. A cursor is the next position to visit plus one."""

    __slots__ = ("items", "where")

    def __init__(self, elements=()):
        self.items: list = list(elements)
        self.where: dict = {element: i for i, element in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, element) -> bool:
        return element in self.where

    def __iter__(self):
        return iter(self.items)

    def add(self, element) -> bool:
        where = self.where
        if element in where:
            return False
        where[element] = len(self.items)
        self.items.append(element)
        return True

    def discard(self, element) -> bool:
        i = self.where.pop(element, None)
        if i is None:
            return False
        items = self.items
        last = items.pop()
        if i < len(items):
            items[i] = last
            self.where[last] = i
        return True

    def random(self, rng=random):
        """An element picked uniformly (the pool is not empty)."""
        return self.items[rng.randrange(len(self.items))]

    def scan(self, cursor: int, count: int, weight: int = 1) -> tuple[int, list]:
        """One SCAN step from `cursor` (0: start): up to `count` reply items, each element
        counting as `weight` of them (2 for a hash's field and value); (next cursor, elements)."""
        items = self.items
        top = len(items) - 1 if cursor == 0 else min(cursor - 1, len(items) - 1)
        stop = top - -(-count // weight)
        if stop < 0:
            return 0, items[top::-1] if top >= 0 else []
        return stop + 1, items[top:stop:-1]

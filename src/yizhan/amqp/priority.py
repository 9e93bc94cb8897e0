"""The ready messages of a priority queue (`x-max-priority`), as rabbit_priority_queue keeps
them: one FIFO per priority, served highest first. A message's priority is its `priority`
property capped at the queue's maximum (absent: 0). A requeued entry goes back into its own
band at its original position (by arrival sequence number).

`PriorityReady` offers the parts of a deque the queue uses (len, truth, popleft, append, clear,
iteration in delivery order, the head) plus `reinsert`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque


def message_priority(message, maximum: int) -> int:
    priority = message.properties().priority if message.raw_properties != b"\x00\x00" else None
    if priority is None:
        return 0
    return priority if priority < maximum else maximum


class PriorityReady:
    __slots__ = ("maximum", "bands", "size")

    def __init__(self, maximum: int):
        self.maximum = maximum
        self.bands: dict[int, deque] = {}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def _band(self, entry) -> deque:
        priority = message_priority(entry.message, self.maximum)
        band = self.bands.get(priority)
        if band is None:
            band = self.bands[priority] = deque()
            self.bands = dict(sorted(self.bands.items(), reverse=True))
        return band

    def append(self, entry) -> None:
        self._band(entry).append(entry)
        self.size += 1

    def reinsert(self, entry) -> None:
        """A requeued entry back at its position within its band."""
        band = self._band(entry)
        seq = entry.seq
        if not band or seq < band[0].seq:
            band.appendleft(entry)
        elif seq > band[-1].seq:
            band.append(entry)
        else:
            band.insert(bisect_left([e.seq for e in band], seq), entry)
        self.size += 1

    def head(self):
        for band in self.bands.values():
            if band:
                return band[0]
        raise IndexError("empty")

    def popleft(self):
        for band in self.bands.values():
            if band:
                self.size -= 1
                return band.popleft()
        raise IndexError("pop from an empty priority queue")

    def clear(self) -> None:
        self.bands.clear()
        self.size = 0

    def __iter__(self):
        for band in self.bands.values():
            yield from band

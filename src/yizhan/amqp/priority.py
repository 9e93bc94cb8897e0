"""The ready messages of a priority queue (`x-max-priority`), as rabbit_priority_queue keeps
them: one FIFO per priority, served highest first. A message's priority is its `priority`
property capped at the queue's maximum (absent: 0). A requeued entry goes back into its own
band at its original position (by arrival sequence number).

Paging, as rabbit_priority_queue pages each priority's backing queue: while the queue holds
`page_limit` entries in memory, a new message goes to the paged tail of its band (`PagedRun`s
built by the queue's `page_into`), and so does every later one of that band until the tail is
read back, a run at a time, when the band's entries in memory run out. Requeued entries were
delivered before anything in their band's tail, so they go back into memory.

`PriorityReady` offers the parts of a deque the queue uses (len and truth count paged messages
too; popleft, append, clear, the head) plus `reinsert`; iteration yields the entries in memory
and `runs` the paged runs.
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
    __slots__ = ("maximum", "bands", "tails", "size", "paged", "queue")

    def __init__(self, maximum: int, queue):
        self.maximum = maximum
        self.bands: dict[int, deque] = {}  # priority -> entries in memory, highest first
        self.tails: dict[int, deque] = {}  # priority -> PagedRuns after that band's entries
        self.size = 0                      # every message, paged ones too
        self.paged = 0
        self.queue = queue                 # its page_limit, page_into and read_run

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def _band(self, priority: int) -> deque:
        band = self.bands.get(priority)
        if band is None:
            band = self.bands[priority] = deque()
            self.bands = dict(sorted(self.bands.items(), reverse=True))
            self.tails[priority] = deque()
        return band

    def append(self, entry) -> None:
        priority = message_priority(entry.message, self.maximum)
        band = self._band(priority)
        tail = self.tails[priority]
        queue = self.queue
        if tail or self.size - self.paged >= queue.page_limit:
            queue.page_into(tail, entry.message, entry.seq, entry.expires, entry.redelivered)
            self.paged += 1
        else:
            band.append(entry)
        self.size += 1

    def reinsert(self, entry) -> None:
        """A requeued entry back at its position within its band."""
        band = self._band(message_priority(entry.message, self.maximum))
        seq = entry.seq
        if not band or seq < band[0].seq:
            band.appendleft(entry)
        elif seq > band[-1].seq:
            band.append(entry)
        else:
            band.insert(bisect_left([e.seq for e in band], seq), entry)
        self.size += 1

    def _first_band(self) -> deque | None:
        """The highest band with a message, its next paged run read in if needed."""
        tails = self.tails
        for priority, band in self.bands.items():
            if band:
                return band
            tail = tails[priority]
            if tail:
                run = tail.popleft()
                band.extend(self.queue.read_run(run))
                self.paged -= len(run.ids)
                return band
        return None

    def head(self):
        band = self._first_band()
        if band is None:
            raise IndexError("empty")
        return band[0]

    def popleft(self):
        band = self._first_band()
        if band is None:
            raise IndexError("pop from an empty priority queue")
        self.size -= 1
        return band.popleft()

    def clear(self) -> None:
        self.bands.clear()
        self.tails.clear()
        self.size = 0
        self.paged = 0

    def runs(self):
        for tail in self.tails.values():
            yield from tail

    def drop_transient_runs(self) -> list:
        """Take the transient paged runs out (purge, delete); the queue releases them."""
        dropped = []
        for priority, tail in self.tails.items():
            gone = [run for run in tail if run.transient]
            if gone:
                self.tails[priority] = deque(run for run in tail if not run.transient)
                count = sum(len(run.ids) for run in gone)
                self.size -= count
                self.paged -= count
                dropped += gone
        return dropped

    def __iter__(self):
        for band in self.bands.values():
            yield from band

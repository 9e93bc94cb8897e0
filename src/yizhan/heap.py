"""Giving freed heap memory back to the operating system (`HeapTrimmer`).

CPython allocates every object above 512 bytes (dict and set tables, list arrays, request and
reply buffers, packed values) with glibc's malloc, and glibc keeps what is freed for reuse:
after a burst of writes the process holds the freed tables of every dict that grew, the
buffers of the last pipelined batches and the pages of short-lived objects, so RSS stays
megabytes above what the data needs. redis-server's allocator (jemalloc) purges such pages
itself after a while. glibc does it only at the top of the heap, unless asked: `malloc_trim(0)`
releases every free page, wherever it lies in the heap (madvise DONTNEED, the memory stays
mapped and comes back zeroed on next use).

A trim walks the heap (a few ms at a few hundred MB), so the server cron asks `cron` every
tick and it trims only after writes (the dirty counter moved): once the writes pause (a tick
with none after a tick with some), and at most once a second while they go on. On a C library
without malloc_trim (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes

TRIM_EVERY_MS = 1000


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none: looked up in the running
    program (dlopen NULL), not with ctypes.util.find_library, which runs `ldconfig -p` as a
    subprocess at every server start."""
    try:
        program = ctypes.CDLL(None)
    except OSError:
        return None
    return getattr(program, "malloc_trim", None)


class HeapTrimmer:
    """Trims the heap after writes: `cron(dirty, now_ms)` every server tick."""

    __slots__ = ("trim", "last_dirty", "seen_dirty", "last_trim_ms", "trims")

    def __init__(self, trim=None):
        self.trim = _malloc_trim() if trim is None else trim
        self.last_dirty = 0      # the dirty count at the last trim
        self.seen_dirty = 0      # the dirty count at the last tick
        self.last_trim_ms = 0
        self.trims = 0

    def cron(self, dirty: int, now_ms: int) -> bool:
        """Trim if there were writes since the last trim and they have paused (no write
        since the last tick) or the last trim is a second old. True if it trimmed."""
        paused = dirty == self.seen_dirty
        self.seen_dirty = dirty
        if self.trim is None or dirty == self.last_dirty:
            return False
        if not paused and now_ms - self.last_trim_ms < TRIM_EVERY_MS:
            return False
        self.trim(0)
        self.last_dirty, self.last_trim_ms = dirty, now_ms
        self.trims += 1
        return True

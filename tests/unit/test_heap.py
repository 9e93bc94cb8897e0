"""HeapTrimmer (heap.py): when the server cron gives freed heap pages back to the OS."""

import os

from yizhan.heap import TRIM_EVERY_MS, HeapTrimmer


def trimmer():
    calls = []
    return HeapTrimmer(trim=lambda pad: calls.append(pad)), calls


def test_no_writes_no_trim():
    heap, calls = trimmer()
    for t in range(0, 5000, 100):
        assert heap.cron(0, t) is False
    assert calls == []


def test_trims_once_when_writes_pause():
    heap, calls = trimmer()
    assert heap.cron(10, 100) is False  # writes going on, the last trim recent
    assert heap.cron(10, 200) is True   # none since the last tick: they paused
    assert calls == [0]
    assert heap.cron(10, 300) is False  # nothing written since that trim
    assert heap.cron(10, 5000) is False
    assert calls == [0]


def test_at_most_once_a_second_while_writes_go_on():
    heap, calls = trimmer()
    dirty = 0
    trimmed_at = []
    for t in range(100, 3100, 100):
        dirty += 7
        if heap.cron(dirty, t):
            trimmed_at.append(t)
    assert trimmed_at == [1000, 2000, 3000]
    assert all(b - a >= TRIM_EVERY_MS for a, b in zip(trimmed_at, trimmed_at[1:]))


def test_the_real_trim_runs_on_glibc():
    glibc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else None
    heap = HeapTrimmer()
    assert (heap.trim is not None) == bool(glibc)
    junk = [bytearray(4096) for _ in range(2000)]
    del junk
    assert heap.cron(1, 100) is False
    assert heap.cron(1, 200) is bool(glibc)

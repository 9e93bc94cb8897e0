"""Strings (t_string.c's object side): a string value is `bytes`, or a `bytearray` once changed
in place (Redis's "raw" encoding). This module answers what Redis's tryObjectEncoding and shared
integers make of a string: OBJECT ENCODING and OBJECT REFCOUNT, and the int64 parse behind them.
"""

from __future__ import annotations

EMBSTR_LIMIT = 44
SHARED_INTEGERS = 10000
SHARED_REFCOUNT = 2147483647
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def canonical_int(value) -> int | None:
    """The int64 whose canonical text `value` is (Redis's string2l), or None."""
    n = len(value)
    if n == 0 or n > 20:
        return None
    head = value[0]
    if head == 45:  # '-'
        if n == 1 or not (49 <= value[1] <= 57) or not value[1:].isdigit():
            return None
    elif not (49 <= head <= 57 or (head == 48 and n == 1)) or not value.isdigit():
        return None
    number = int(value)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def string_encoding(value) -> str:
    """OBJECT ENCODING of a string as Redis's tryObjectEncoding leaves it: values changed in
    place (bytearray) are "raw"; others are "int", "embstr" (up to 44 bytes) or "raw"."""
    if type(value) is bytearray:
        return "raw"
    if canonical_int(value) is not None:
        return "int"
    return "embstr" if len(value) <= EMBSTR_LIMIT else "raw"


# -- what a string costs redis-server (its allocator's bytes; see redis/key_cost.py) ------------
ROBJ_BYTES = 16


def jemalloc(size: int) -> int:
    """The size class jemalloc serves a request of `size` bytes from (16-byte quantum: 8, 16,
    32, 48 ... 128, then four classes per doubling; whole pages above 14 kB)."""
    if size <= 8:
        return 8
    if size <= 128:
        return (size + 15) & ~15
    if size > 14336:
        return (size + 4095) & ~4095
    spacing = 1 << ((size - 1).bit_length() - 3)
    return (size + spacing - 1) & ~(spacing - 1)


def sds_bytes(length: int) -> int:
    """sdsZmallocSize of an sds string of `length` bytes (its header by length, the NUL)."""
    if length < 32:
        return jemalloc(2 + length)
    if length < 256:
        return jemalloc(4 + length)
    if length < 65536:
        return jemalloc(6 + length)
    return jemalloc(10 + length)


_SDS = [sds_bytes(n) for n in range(4096)]
_EMBSTR = [jemalloc(ROBJ_BYTES + 4 + n) for n in range(EMBSTR_LIMIT + 1)]
# A bytes value of length n (< 4096) that is not an integer: embstr up to 44 bytes, else raw.
VALUE_BYTES = _EMBSTR + [ROBJ_BYTES + _SDS[n] for n in range(EMBSTR_LIMIT + 1, 4096)]
TABLE_LIMIT = 4096


def string_bytes(value) -> int:
    """A string value object as Redis holds it: int (the robj alone), embstr (robj and text in
    one allocation) or raw (robj + sds). Redis's shared integers are counted as objects too,
    as MEMORY USAGE counts them."""
    n = len(value)
    if type(value) is bytearray:
        return ROBJ_BYTES + _grown_sds_bytes(value)
    if n < 21 and (value.isdigit() or value[:1] == b"-") and canonical_int(value) is not None:
        return ROBJ_BYTES
    return VALUE_BYTES[n] if n < TABLE_LIMIT else ROBJ_BYTES + sds_bytes(n)


GREEDY_LIMIT = 1 << 20  # SDS_MAX_PREALLOC
HLL_DENSE_BYTES = 12304


def _grown_sds_bytes(value: bytearray) -> int:
    """A string changed in place (APPEND, SETRANGE, SETBIT, a sparse HyperLogLog) keeps the room
    sdsMakeRoomFor gave it: twice its length under 1 MB, 1 MB more above. A dense
    HyperLogLog is allocated at its size."""
    n = len(value)
    if n == HLL_DENSE_BYTES and value[:4] == b"HYLL":
        return sds_bytes(n)
    room = n * 2 if n < GREEDY_LIMIT else n + GREEDY_LIMIT
    return jemalloc(room + (2 if room < 32 else 4 if room < 256 else 6 if room < 65536 else 10))


def accounted_bytes(value) -> int:
    """`string_bytes` as used_memory's running total counts it: by length alone (embstr up to 44
    bytes, else raw), so that SET over a value of the same length has nothing to count. Redis
    holds an integer's text as a bare object header, 16 bytes less than a short embstr: on
    integer values used_memory is that much over redis-server's (MEMORY USAGE is exact)."""
    n = len(value)
    if type(value) is bytearray:
        return ROBJ_BYTES + _grown_sds_bytes(value)
    return VALUE_BYTES[n] if n < TABLE_LIMIT else ROBJ_BYTES + sds_bytes(n)


def key_name_bytes(key: bytes) -> int:
    k = len(key)
    return _SDS[k] if k < TABLE_LIMIT else sds_bytes(k)


def key_string_bytes(key: bytes, value) -> int:
    """A key's sds plus its string value object as used_memory counts them (the main dict's
    entry aside)."""
    return key_name_bytes(key) + accounted_bytes(value)

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

"""Argument parsing shared by every command: Redis's strict integer and float rules, and a cursor
over the arguments whose `finish()` turns anything left over into a syntax error."""

from __future__ import annotations

import math

from yizhan.redis import errors
from yizhan.resp import ErrorReply

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_FLOAT_BAD_CHARS = frozenset(b" \t\n\r\v\f_")


def parse_int(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    """An int64 as Redis's string2ll accepts it: no sign but '-', no spaces, no leading zeros."""
    n = len(raw)
    if 0 < n < 19 and raw.isdigit() and (raw[0] != 48 or n == 1):  # the usual case, in range
        return int(raw)
    if 0 < n <= 20:
        head = raw[0]
        if 49 <= head <= 57 or (head == 45 and n > 1 and 49 <= raw[1] <= 57) or raw == b"0":
            if raw.isdigit() or (head == 45 and raw[1:].isdigit()):
                value = int(raw)
                if INT64_MIN <= value <= INT64_MAX:
                    return value
    raise ErrorReply(message)


def parse_float(raw: bytes, message: str = errors.NOT_FLOAT) -> float:
    """A double as Redis's strtod-based parsing accepts it: inf allowed, nan and spaces not."""
    if not raw or raw[0] in _FLOAT_BAD_CHARS or raw[-1] in b" \t\n\r\v\f" or b"_" in raw:
        raise ErrorReply(message)
    try:
        value = float(raw)
    except ValueError:
        try:
            value = float.fromhex(raw.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise ErrorReply(message) from None
    if math.isnan(value):
        raise ErrorReply(message)
    return value


def atoi(raw: bytes) -> int:
    """C's atoi as glibc does it: leading blanks, a sign, the digits up to the first other byte."""
    text = raw.lstrip(b" \t\n\r\v\f")
    sign = -1 if text[:1] == b"-" else 1
    if text[:1] in (b"-", b"+"):
        text = text[1:]
    digits = b""
    for ch in text:
        if not 48 <= ch <= 57:
            break
        digits += bytes((ch,))
    value = sign * int(digits) if digits else 0
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


class Args:
    """A cursor over argv[start:]. Options are compared upper-cased."""

    __slots__ = ("argv", "pos")

    def __init__(self, argv: list[bytes], start: int = 1):
        self.argv = argv
        self.pos = start

    def __bool__(self) -> bool:
        return self.pos < len(self.argv)

    @property
    def remaining(self) -> int:
        return len(self.argv) - self.pos

    def next(self) -> bytes:
        if self.pos >= len(self.argv):
            raise ErrorReply(errors.SYNTAX)
        value = self.argv[self.pos]
        self.pos += 1
        return value

    def next_option(self) -> bytes:
        return self.next().upper()

    def next_int(self, message: str = errors.NOT_INTEGER) -> int:
        return parse_int(self.next(), message)

    def next_float(self, message: str = errors.NOT_FLOAT) -> float:
        return parse_float(self.next(), message)

    def finish(self) -> None:
        if self.pos < len(self.argv):
            raise ErrorReply(errors.SYNTAX)

"""Argument parsing shared by every command: Redis's strict integer rules, option words as
Redis's C code compares them, and a cursor over the arguments. Doubles and long doubles are
parsed by redis/floats.py."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.resp import ErrorReply

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


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


def option_word(raw: bytes) -> bytes:
    """An option word as Redis's C code compares it (strcasecmp on a C string): cut at the
    first NUL byte, upper-cased. Compare the result with upper-case words."""
    return raw.split(b"\0", 1)[0].upper()


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
    value = max(-(1 << 63), min(value, (1 << 63) - 1))  # strtol clamps to a long, then the int cast
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
        return option_word(self.next())

    def next_int(self, message: str = errors.NOT_INTEGER) -> int:
        return parse_int(self.next(), message)

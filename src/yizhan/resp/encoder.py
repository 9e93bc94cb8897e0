"""Reply values and their RESP2/RESP3 encodings.

Handlers return plain Python values; `encode(value, proto)` writes them as Redis would:

    bytes/bytearray -> bulk string      int   -> integer        None -> null bulk (RESP3 null)
    list/tuple      -> array            dict  -> map (RESP2: flat array)
    set/frozenset   -> set (RESP2: array)                        bool -> RESP3 boolean (RESP2: 0/1)
    float           -> RESP3 double (RESP2: bulk string)
    Simple, ErrorReply, Verbatim, Push, NULL_ARRAY, Raw -> as named below.
"""

from __future__ import annotations

import math


class Simple(str):
    """A status reply: `+OK`."""

    __slots__ = ()


class ErrorReply(Exception):
    """An error reply: raise it from a handler, or return it inside an array. `message` has the
    error code first, as sent: "ERR syntax error", "WRONGTYPE Operation against ..."."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Verbatim(str):
    """RESP3 verbatim string (`=`, format "txt"); a bulk string in RESP2."""

    __slots__ = ()


class Push(list):
    """RESP3 out-of-band push (`>`); an array in RESP2."""

    __slots__ = ()


class ReplySet(list):
    """A RESP3 set (`~`) with a fixed order; an array in RESP2."""

    __slots__ = ()


class Many(list):
    """Several replies to one command, written one after another (SUBSCRIBE a b c)."""

    __slots__ = ()


class BulkStrings(list):
    """An array that holds only `bytes` (LRANGE's elements): encoded without a per-item type
    check."""

    __slots__ = ()


class SameSizeBulkStrings(BulkStrings):
    """`BulkStrings` all `size` bytes long, as their producer proved (LRANGE within one list
    node): encoded by one join, without measuring each item."""

    __slots__ = ("size",)

    def __init__(self, items, size: int):
        super().__init__(items)
        self.size = size


class Raw(bytes):
    """Bytes already encoded; written as they are."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = Simple("OK")
QUEUED = Simple("QUEUED")
PONG = Simple("PONG")

_CRLF = b"\r\n"


def format_double(value: float) -> bytes:
    """A double as Redis 7.0 writes it in replies (%.17g, inf/-inf/nan)."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if math.isnan(value):
        return b"nan"
    return (b"%.17g" % value)


def encode(value, proto: int = 2) -> bytes:
    out: list[bytes] = []
    _write(value, proto, out)
    return b"".join(out)


def encode_into(value, proto: int, out: list) -> None:
    """Append the encoding of `value` to `out` (a list of bytes, joined once per write)."""
    _write(value, proto, out)


def _write(value, proto: int, out: list) -> None:
    kind = type(value)
    if kind is bytes:
        size = len(value)
        out += (BULK_HEADS[size] if size < 1024 else b"$%d\r\n" % size, value, _CRLF)
    elif kind is bytearray:  # copied: the value may change before the output is joined
        out.append(b"$%d\r\n%b\r\n" % (len(value), value))
    elif kind is Simple:
        out.append(b"+%b\r\n" % value.encode("utf-8", "surrogateescape"))
    elif kind is int:
        out.append(b":%d\r\n" % value)
    elif value is None:
        out.append(b"_\r\n" if proto == 3 else b"$-1\r\n")
    elif kind is list or kind is tuple:
        out.append(b"*%d\r\n" % len(value))
        if len(value) < 8 or not _write_bulk_items(value, out):
            for item in value:
                _write(item, proto, out)
    elif kind is SameSizeBulkStrings and value and value.size < 1024:
        size = value.size
        out += (b"*%d\r\n" % len(value), BULK_HEADS[size], _BULK_SEPARATORS[size].join(value), _CRLF)
    elif kind is BulkStrings or kind is SameSizeBulkStrings:
        out.append(b"*%d\r\n" % len(value))
        if not _write_known_bulk_items(value, out):
            for item in value:
                _write(item, proto, out)
    elif kind is ErrorReply or isinstance(value, ErrorReply):
        out.append(b"-%b\r\n" % _one_line(value.message))
    elif kind is bool:
        if proto == 3:
            out.append(b"#t\r\n" if value else b"#f\r\n")
        else:
            out.append(b":1\r\n" if value else b":0\r\n")
    elif kind is dict:
        out.append((b"%%%d\r\n" if proto == 3 else b"*%d\r\n") % (len(value) if proto == 3 else 2 * len(value)))
        for key, item in value.items():
            _write(key, proto, out)
            _write(item, proto, out)
    elif kind is float:
        text = format_double(value)
        out.append(b",%b\r\n" % text if proto == 3 else b"$%d\r\n%b\r\n" % (len(text), text))
    elif kind is set or kind is frozenset or kind is ReplySet:
        out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(value))
        for item in value:
            _write(item, proto, out)
    elif kind is Verbatim:  # (surrogates: bytes a text carries through, e.g. an error code in INFO)
        data = value.encode("utf-8", "surrogateescape")
        if proto == 3:
            out.append(b"=%d\r\ntxt:%b\r\n" % (len(data) + 4, data))
        else:
            out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    elif kind is Push:
        out.append((b">%d\r\n" if proto == 3 else b"*%d\r\n") % len(value))
        for item in value:
            _write(item, proto, out)
    elif kind is Raw:
        out.append(value)
    elif kind is Many:
        for item in value:
            _write(item, proto, out)
    elif value is NULL_ARRAY:
        out.append(b"_\r\n" if proto == 3 else b"*-1\r\n")
    elif kind is str:
        data = value.encode("utf-8", "surrogateescape")
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    elif kind is memoryview:
        out.append(b"$%d\r\n%b\r\n" % (len(value), bytes(value)))
    else:
        raise TypeError(f"cannot encode {kind.__name__} as a RESP reply")


_BULK_HEADS = [b"$%d" % n for n in range(1024)]
# Ready-made pieces for the request loop's inline encoding: "$<n>\r\n" for bulk strings
# shorter than 1 KiB, ":<n>\r\n" for the integers 0..9999.
BULK_HEADS = [b"$%d\r\n" % n for n in range(1024)]
SMALL_INTS = [b":%d\r\n" % n for n in range(10000)]
_BULK_SEPARATORS = [b"\r\n$%d\r\n" % n for n in range(1024)]


def _write_bulk_items(items, out: list) -> bool:
    """The items of an array that holds only `bytes` shorter than 1 KiB (LRANGE, SMEMBERS ...),
    encoded with C-level loops: heads and values interleaved, joined by CRLF. False (nothing
    written) when an item is anything else."""
    try:
        heads = [_BULK_HEADS[len(item)] for item in items if type(item) is bytes]
    except IndexError:
        return False
    n = len(heads)
    if n != len(items):
        return False
    parts = [b""] * (2 * n + 1)
    parts[0:2 * n:2] = heads
    parts[1:2 * n:2] = items
    out.append(_CRLF.join(parts))
    return True


def _write_known_bulk_items(items: BulkStrings, out: list) -> bool:
    """`_write_bulk_items` for items known to be `bytes`: heads by C-level maps; items all of
    one length (fixed-size ids, counters, redis-benchmark's data) joined by one separator,
    "\r\n$<n>\r\n". False (nothing written) when an item is 1 KiB or longer."""
    n = len(items)
    if not n:
        return True
    sizes = list(map(len, items))
    size = sizes[0]
    if size < 1024 and sizes.count(size) == n:
        out += (BULK_HEADS[size], _BULK_SEPARATORS[size].join(items), _CRLF)
        return True
    parts = [b""] * (2 * n + 1)
    try:
        parts[0:2 * n:2] = map(_BULK_HEADS.__getitem__, sizes)
    except IndexError:
        return False
    parts[1:2 * n:2] = items
    out.append(_CRLF.join(parts))
    return True


def _one_line(message: str) -> bytes:
    # Redis replaces newlines in error messages so the reply stays one line.
    return message.replace("\r", " ").replace("\n", " ").encode("utf-8", "surrogateescape")

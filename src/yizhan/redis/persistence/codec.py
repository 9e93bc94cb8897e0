"""The byte-level pieces of Redis's RDB format, with no knowledge of yizhan's value classes
(only types.strings' int64 parse):
CRC64 (crc64.c: Jones polynomial, reflected), LZF (liblzf as Redis builds it), RDB lengths and
strings, and the packed containers Redis stores inside strings: listpack, ziplist, intset.

Everything here is sans-IO: functions take and return bytes. Readers raise `RDBError`.
"""

from __future__ import annotations

import struct

from yizhan.redis.types.strings import canonical_int


class RDBError(ValueError):
    """Malformed or unsupported RDB data."""


class RDBUnsupported(RDBError):
    """Well-formed RDB data of a kind yizhan does not have (streams, modules, functions)."""


# -- CRC64 (Redis's crc64.c: Jones polynomial 0xad93d23594c935a9, reflected, init 0) ---------
def _crc64_table() -> list[int]:
    poly = int(f"{0xad93d23594c935a9:064b}"[::-1], 2)  # the reflected polynomial
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data, crc: int = 0) -> int:
    """crc64(crc, data): continue a checksum over `data` (start from 0)."""
    table = _CRC_TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# -- LZF (liblzf 3.6 with Redis's lzfP.h: HLOG 16, VERY_FAST) ----------------------------------
_HLOG = 16
_HSIZE = 1 << _HLOG
_MAX_LIT = 1 << 5
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)


def lzf_decompress(data, expected: int) -> bytes:
    """lzf_decompress; raises RDBError unless the result is exactly `expected` bytes."""
    out = bytearray()
    i, n = 0, len(data)
    try:
        while i < n:
            ctrl = data[i]
            i += 1
            if ctrl < 32:
                ctrl += 1
                if i + ctrl > n:
                    raise RDBError("LZF literal run past the end")
                out += data[i:i + ctrl]
                i += ctrl
                continue
            length = ctrl >> 5
            if length == 7:
                length += data[i]
                i += 1
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            if ref < 0:
                raise RDBError("LZF back reference before the start")
            for _ in range(length + 2):
                out.append(out[ref])
                ref += 1
    except IndexError:
        raise RDBError("LZF data truncated") from None
    if len(out) != expected:
        raise RDBError("LZF length mismatch")
    return bytes(out)


def _idx(h: int) -> int:
    return ((h >> (3 * 8 - _HLOG)) - h * 5) & (_HSIZE - 1)


def lzf_compress(data: bytes, out_len: int) -> bytes | None:
    """lzf_compress into at most `out_len` bytes, or None when it does not fit (as liblzf's 0)."""
    n = len(data)
    if not n or not out_len:
        return None
    htab: dict[int, int] = {}
    out = bytearray(b"\0")
    lit = 0
    ip = 0
    hval = (data[0] << 8) | data[1] if n > 1 else 0
    while ip < n - 2:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = ((hval >> 8) - hval * 5) & 0xFFFF  # IDX(h) with HLOG 16
        ref = htab.get(slot, 0)
        htab[slot] = ip
        off = ip - ref - 1
        if (0 <= off < _MAX_OFF and ref > 0 and data[ref + 2] == data[ip + 2]
                and data[ref] == data[ip] and data[ref + 1] == data[ip + 1]):
            length = 2
            maxlen = min(n - ip - length, _MAX_REF)
            op = len(out)
            if op + 3 + 1 >= out_len and op - (not lit) + 3 + 1 >= out_len:
                return None
            out[op - lit - 1] = lit - 1 & 0xFF
            if not lit:
                del out[-1]
            unrolled_mismatch = False
            if maxlen > 16:
                for _ in range(16):
                    length += 1
                    if data[ref + length] != data[ip + length]:
                        unrolled_mismatch = True
                        break
            if not unrolled_mismatch:
                while True:
                    length += 1
                    if not (length < maxlen and data[ref + length] == data[ip + length]):
                        break
            length -= 2
            ip += 1
            if length < 7:
                out.append(((off >> 8) + (length << 5)) & 0xFF)
            else:
                out.append(((off >> 8) + (7 << 5)) & 0xFF)
                out.append((length - 7) & 0xFF)
            out.append(off & 0xFF)
            lit = 0
            out.append(0)
            ip += length + 1
            if ip >= n - 2:
                break
            ip -= 2
            hval = (data[ip] << 8) | data[ip + 1]
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[_idx(hval)] = ip
            ip += 1
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[_idx(hval)] = ip
            ip += 1
        else:
            if len(out) >= out_len:
                return None
            lit += 1
            out.append(data[ip])
            ip += 1
            if lit == _MAX_LIT:
                out[len(out) - lit - 1] = lit - 1
                lit = 0
                out.append(0)
    if len(out) + 3 > out_len:
        return None
    while ip < n:
        lit += 1
        out.append(data[ip])
        ip += 1
        if lit == _MAX_LIT:
            out[len(out) - lit - 1] = lit - 1
            lit = 0
            out.append(0)
    out[len(out) - lit - 1] = (lit - 1) & 0xFF
    if not lit:
        del out[-1]
    return bytes(out)


# -- RDB lengths and strings ------------------------------------------------------------------
ENC_INT8, ENC_INT16, ENC_INT32, ENC_LZF = 0, 1, 2, 3


def encode_length(n: int) -> bytes:
    if n < 1 << 6:
        return bytes((n,))
    if n < 1 << 14:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def _int_encoding(value: bytes) -> bytes | None:
    """rdbTryIntegerEncoding: the canonical text of an int32 as an 8/16/32-bit integer."""
    n = len(value)
    if not n or n > 11 or not (value[1:] if value[0] == 45 else value).isdigit():
        return None
    number = int(value)
    if b"%d" % number != value:
        return None
    if -(1 << 7) <= number < 1 << 7:
        return struct.pack("<Bb", 0xC0 | ENC_INT8, number)
    if -(1 << 15) <= number < 1 << 15:
        return struct.pack("<Bh", 0xC0 | ENC_INT16, number)
    if -(1 << 31) <= number < 1 << 31:
        return struct.pack("<Bi", 0xC0 | ENC_INT32, number)
    return None


def encode_string(value, compress: bool = True) -> bytes:
    """rdbSaveRawString: integer encoding for short numbers, LZF for longer compressible
    strings (rdbcompression yes), otherwise length + bytes."""
    value = bytes(value)
    n = len(value)
    if n <= 11:
        encoded = _int_encoding(value)
        if encoded is not None:
            return encoded
    if compress and n > 20:
        packed = lzf_compress(value, n - 4)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(n) + packed
    return encode_length(n) + value


class Reader:
    """A cursor over RDB bytes."""

    __slots__ = ("data", "pos")

    def __init__(self, data, pos: int = 0):
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if n < 0 or end > len(self.data):
            raise RDBError("unexpected end of RDB data")
        self.pos = end
        return bytes(self.data[start:end])

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise RDBError("unexpected end of RDB data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def length_or_encoding(self) -> tuple[int, bool]:
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return struct.unpack(">I", self.take(4))[0], False
        if first == 0x81:
            return struct.unpack(">Q", self.take(8))[0], False
        raise RDBError(f"unknown length encoding {first:#x}")

    def length(self) -> int:
        n, encoded = self.length_or_encoding()
        if encoded:
            raise RDBError("an encoded value where a length was expected")
        return n

    def string(self) -> bytes:
        n, encoded = self.length_or_encoding()
        if not encoded:
            return self.take(n)
        if n == ENC_INT8:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if n == ENC_INT16:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if n == ENC_INT32:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if n == ENC_LZF:
            packed_len = self.length()
            plain_len = self.length()
            return lzf_decompress(self.take(packed_len), plain_len)
        raise RDBError(f"unknown string encoding {n}")

    def binary_double(self) -> float:
        return struct.unpack("<d", self.take(8))[0]

    def old_double(self) -> float:
        """RDB_TYPE_ZSET's doubles: a length byte then the text (253 nan, 254 inf, 255 -inf)."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        return float(self.take(n))


# -- listpack -------------------------------------------------------------------------------
def _backlen(n: int) -> bytes:
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


def listpack_entry(value) -> bytes:
    """One listpack entry (encoding, data, backlen) as lpInsert writes it for a string."""
    value = bytes(value)
    number = canonical_int(value) if len(value) <= 20 else None
    if number is not None:
        if 0 <= number <= 127:
            body = bytes((number,))
        elif -4096 <= number <= 4095:
            u = number & 0x1FFF
            body = bytes((0xC0 | (u >> 8), u & 0xFF))
        elif -32768 <= number <= 32767:
            body = b"\xf1" + struct.pack("<h", number)
        elif -8388608 <= number <= 8388607:
            body = b"\xf2" + (number & 0xFFFFFF).to_bytes(3, "little")
        elif -(1 << 31) <= number < 1 << 31:
            body = b"\xf3" + struct.pack("<i", number)
        else:
            body = b"\xf4" + struct.pack("<q", number)
    else:
        n = len(value)
        if n < 64:
            body = bytes((0x80 | n,)) + value
        elif n < 4096:
            body = bytes((0xE0 | (n >> 8), n & 0xFF)) + value
        else:
            body = b"\xf0" + struct.pack("<I", n) + value
    return body + _backlen(len(body))


def listpack(entries) -> bytes:
    """A whole listpack: 4-byte total size, 2-byte count (65535: too many), entries, 0xFF."""
    body = b"".join(listpack_entry(e) for e in entries)
    count = len(entries)
    return struct.pack("<IH", 6 + len(body) + 1, min(count, 65535)) + body + b"\xff"


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def parse_listpack(blob) -> list[bytes]:
    """The elements of a listpack, as strings (integers in their decimal text)."""
    if len(blob) < 7:
        raise RDBError("listpack too short")
    total, count = struct.unpack_from("<IH", blob)
    if total != len(blob) or blob[-1] != 0xFF:
        raise RDBError("listpack size or terminator wrong")
    out: list[bytes] = []
    p, end = 6, len(blob) - 1
    while p < end:
        start = p
        b = blob[p]
        if b < 0x80:
            out.append(b"%d" % b)
            p += 1
        elif b < 0xC0:
            n = b & 0x3F
            out.append(bytes(blob[p + 1:p + 1 + n]))
            p += 1 + n
        elif b < 0xE0:
            out.append(b"%d" % _signed(((b & 0x1F) << 8) | blob[p + 1], 13))
            p += 2
        elif b < 0xF0:
            n = ((b & 0x0F) << 8) | blob[p + 1]
            out.append(bytes(blob[p + 2:p + 2 + n]))
            p += 2 + n
        elif b == 0xF0:
            n = struct.unpack_from("<I", blob, p + 1)[0]
            out.append(bytes(blob[p + 5:p + 5 + n]))
            p += 5 + n
        elif b in (0xF1, 0xF2, 0xF3, 0xF4):
            width = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}[b]
            raw = int.from_bytes(blob[p + 1:p + 1 + width], "little")
            out.append(b"%d" % _signed(raw, width * 8))
            p += 1 + width
        else:
            raise RDBError(f"bad listpack entry encoding {b:#x}")
        size = p - start
        p += len(_backlen(size))
        if p > end:
            raise RDBError("listpack entry past the end")
    if count != 65535 and count != len(out):
        raise RDBError("listpack count mismatch")
    return out


# -- ziplist (read only: RDB files from before Redis 7) -------------------------------------
def parse_ziplist(blob) -> list[bytes]:
    if len(blob) < 11:
        raise RDBError("ziplist too short")
    total, _tail, count = struct.unpack_from("<IIH", blob)
    if total != len(blob) or blob[-1] != 0xFF:
        raise RDBError("ziplist size or terminator wrong")
    out: list[bytes] = []
    p, end = 10, len(blob) - 1
    try:
        while p < end:
            p += 5 if blob[p] == 0xFE else 1  # prevlen
            b = blob[p]
            kind = b >> 6
            if kind == 0:
                n, p = b & 0x3F, p + 1
            elif kind == 1:
                n, p = ((b & 0x3F) << 8) | blob[p + 1], p + 2
            elif kind == 2:
                n, p = struct.unpack_from(">I", blob, p + 1)[0], p + 5
            else:
                p += 1
                if b == 0xC0:
                    out.append(b"%d" % struct.unpack_from("<h", blob, p)[0])
                    p += 2
                elif b == 0xD0:
                    out.append(b"%d" % struct.unpack_from("<i", blob, p)[0])
                    p += 4
                elif b == 0xE0:
                    out.append(b"%d" % struct.unpack_from("<q", blob, p)[0])
                    p += 8
                elif b == 0xF0:
                    out.append(b"%d" % _signed(int.from_bytes(blob[p:p + 3], "little"), 24))
                    p += 3
                elif b == 0xFE:
                    out.append(b"%d" % struct.unpack_from("<b", blob, p)[0])
                    p += 1
                elif 0xF1 <= b <= 0xFD:
                    out.append(b"%d" % ((b & 0x0F) - 1))
                else:
                    raise RDBError(f"bad ziplist entry encoding {b:#x}")
                continue
            out.append(bytes(blob[p:p + n]))
            p += n
    except (IndexError, struct.error):
        raise RDBError("ziplist entry past the end") from None
    if p != end or (count != 65535 and count != len(out)):
        raise RDBError("ziplist count or size mismatch")
    return out


# -- intset ------------------------------------------------------------------------------
_INTSET_FORMATS = {2: "h", 4: "i", 8: "q"}


def intset(numbers: list[int]) -> bytes:
    """An intset of sorted numbers, in the narrowest width that holds them all."""
    lo, hi = (numbers[0], numbers[-1]) if numbers else (0, 0)
    width = 2 if -32768 <= lo and hi <= 32767 else 4 if -(1 << 31) <= lo and hi < 1 << 31 else 8
    return struct.pack(f"<II{len(numbers)}{_INTSET_FORMATS[width]}", width, len(numbers), *numbers)


def parse_intset(blob) -> list[int]:
    if len(blob) < 8:
        raise RDBError("intset too short")
    width, count = struct.unpack_from("<II", blob)
    fmt = _INTSET_FORMATS.get(width)
    if fmt is None or len(blob) != 8 + width * count:
        raise RDBError("intset size mismatch")
    return list(struct.unpack_from(f"<{count}{fmt}", blob, 8))

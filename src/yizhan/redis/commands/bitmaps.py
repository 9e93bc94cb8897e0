"""Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
BITFIELD_RO, as Redis 7.0 does them.

Bits are numbered from the most significant bit of the first byte. Whole-buffer work (counting,
searching, combining) goes through `int.from_bytes` / `bytes.translate`, never per-bit loops.
A string written through these commands is stored as a `bytearray` (Redis's "raw" encoding).
"""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, parse_int
from yizhan.redis.keyspace import GENERIC, STRING
from yizhan.redis.table import command
from yizhan.resp import ErrorReply

_M64 = (1 << 64) - 1
_INVERT = bytes(255 - i for i in range(256))


def _s64(value: int) -> int:
    """`value` wrapped to a signed 64-bit integer, as C arithmetic on int64_t would leave it."""
    value &= _M64
    return value - (1 << 64) if value >> 63 else value


# -- shared helpers ----------------------------------------------------------------------
def parse_bit_offset(c, raw: bytes, bits: int = 0) -> int:
    """A bit offset; with `bits`, the "#N" form means N * bits (wrapping like Redis's int64)."""
    positional = bits > 0 and raw[:1] == b"#"
    offset = parse_int(raw[1:] if positional else raw, errors.BIT_OFFSET)
    if positional:
        offset = _s64(offset * bits)
    if offset < 0 or (offset >> 3) >= c.server.params.int("proto-max-bulk-len"):
        raise ErrorReply(errors.BIT_OFFSET)
    return offset


def writable_bits(db, key: bytes, last_byte: int) -> tuple[bytearray, bool]:
    """The string at `key` as a stored bytearray at least `last_byte + 1` long (created or
    zero-padded as needed), and whether it was created or grown.

    Like Redis's lookupStringForBitCommand this does not signal a change by itself: the caller
    calls `db.commit` when the command really modified the value (Redis does not, for example,
    when every BITFIELD write fails with OVERFLOW FAIL)."""
    value = db.write_string(key)
    if db.encodings:  # an OBJECT ENCODING override no longer holds
        db.encodings.pop(key, None)
    if value is None:
        buf = bytearray(last_byte + 1)
        db.store(key, buf)
        return buf, True
    if type(value) is bytes:
        value = bytearray(value)
        db.store(key, value, keep_ttl=True)  # same contents, now "raw": not a change
    grow = last_byte + 1 - len(value)
    if grow > 0:
        value.extend(bytes(grow))
    return value, grow > 0


def clamp_range(start: int, end: int, total: int) -> tuple[int, int]:
    """Redis's conversion of a possibly negative [start, end] over `total` units."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    return start, end


def parse_unit(raw: bytes) -> bool:
    """True for BIT, False for BYTE."""
    unit = raw.upper()
    if unit == b"BIT":
        return True
    if unit == b"BYTE":
        return False
    raise ErrorReply(errors.SYNTAX)


def bit_window(buf, first_bit: int, last_bit: int) -> int:
    """The bits first_bit..last_bit (inclusive, within the string) as one integer."""
    window = int.from_bytes(memoryview(buf)[first_bit >> 3:(last_bit >> 3) + 1], "big")
    window >>= 7 - (last_bit & 7)
    return window & ((1 << (last_bit - first_bit + 1)) - 1)


# -- SETBIT / GETBIT ---------------------------------------------------------------------
@command("SETBIT key offset value", arity=4, flags="write denyoom", keys=(1, 1, 1),
         group="bitmap", since="2.2.0",
         summary="Sets or clears the bit at offset in the string value stored at key",
         key_specs="RW access update index:1")
def setbit(c, argv):
    offset = parse_bit_offset(c, argv[2])
    on = parse_int(argv[3], errors.BIT_VALUE)
    if on not in (0, 1):
        raise ErrorReply(errors.BIT_VALUE)
    db, key = c.db, argv[1]
    buf, grown = writable_bits(db, key, offset >> 3)
    byte, shift = offset >> 3, 7 - (offset & 7)
    old = (buf[byte] >> shift) & 1
    if grown or old != on:
        buf[byte] = (buf[byte] & ~(1 << shift)) | (on << shift)
        db.commit(key, STRING, "setbit")
    return old


@command("GETBIT key offset", arity=3, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         since="2.2.0",
         summary="Returns the bit value at offset in the string value stored at key")
def getbit(c, argv):
    offset = parse_bit_offset(c, argv[2])
    value = c.db.read_string(argv[1])
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


# -- BITCOUNT / BITPOS -------------------------------------------------------------------
@command("BITCOUNT key [start end [BYTE | BIT]]", arity=-2, flags="readonly", keys=(1, 1, 1),
         group="bitmap", since="2.6.0", summary="Count set bits in a string", complexity="O(N)")
def bitcount(c, argv):
    value = c.db.read_string(argv[1])
    if value is None:
        return 0
    if len(argv) == 2:
        return int.from_bytes(value, "big").bit_count()
    if len(argv) not in (4, 5):
        raise ErrorReply(errors.SYNTAX)
    start, end = parse_int(argv[2]), parse_int(argv[3])
    in_bits = parse_unit(argv[4]) if len(argv) == 5 else False
    if start < 0 and end < 0 and start > end:
        return 0
    total = len(value) * 8 if in_bits else len(value)
    start, end = clamp_range(start, end, total)
    if start > end:
        return 0
    if not in_bits:
        start, end = start * 8, end * 8 + 7
    return bit_window(value, start, end).bit_count()


@command("BITPOS key bit [start [end [BYTE | BIT]]]", arity=-3, flags="readonly", keys=(1, 1, 1),
         group="bitmap", since="2.8.7", summary="Find first bit set or clear in a string",
         complexity="O(N)")
def bitpos(c, argv):
    bit = parse_int(argv[2])
    if bit not in (0, 1):
        raise ErrorReply(errors.BITPOS_BIT)
    value = c.db.read_string(argv[1])
    if value is None:
        return -1 if bit else 0
    if len(argv) > 6:
        raise ErrorReply(errors.SYNTAX)
    in_bits = end_given = False
    start, end = 0, len(value) - 1
    if len(argv) > 3:
        start = parse_int(argv[3])
        if len(argv) == 6:
            in_bits = parse_unit(argv[5])
        if len(argv) >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = len(value) * 8 + 7 if in_bits else len(value) - 1
        start, end = clamp_range(start, end, len(value) * 8 if in_bits else len(value))
    if start > end:
        return -1
    if not in_bits:
        start, end = start * 8, end * 8 + 7
    width = end - start + 1
    window = bit_window(value, start, end)
    if bit == 0:
        window ^= (1 << width) - 1
    if window:
        return start + width - window.bit_length()
    if bit == 1 or end_given:
        return -1
    return end + 1  # looking for 0 with no end: the string is padded with zeros to the right


# -- BITOP -------------------------------------------------------------------------------
@command("BITOP operation destkey key [key ...]", arity=-4, flags="write denyoom", keys=(2, -1, 1),
         group="bitmap", since="2.6.0", summary="Perform bitwise operations between strings",
         complexity="O(N)",
         key_specs="OW update index:2; RO access index:3 range:-1:1:0")
def bitop(c, argv):
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise ErrorReply(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise ErrorReply(errors.BITOP_NOT_SOURCES)
    db = c.db
    sources = [db.read_string(key) or b"" for key in argv[3:]]
    size = max(len(src) for src in sources)
    if not size:
        if db.remove(argv[2]):
            db.commit(argv[2], GENERIC, "del")
        return 0
    if op == b"not":
        result = bytearray(sources[0].translate(_INVERT))
    else:
        numbers = [int.from_bytes(src, "big") << (8 * (size - len(src))) for src in sources]
        acc = numbers[0]
        for number in numbers[1:]:
            if op == b"and":
                acc &= number
            elif op == b"or":
                acc |= number
            else:
                acc ^= number
        result = bytearray(acc.to_bytes(size, "big"))
    db.store(argv[2], result)
    db.commit(argv[2], STRING, "set")
    return size


# -- BITFIELD / BITFIELD_RO --------------------------------------------------------------
WRAP, SAT, FAIL = "wrap", "sat", "fail"


def parse_bitfield_type(raw: bytes) -> tuple[bool, int]:
    """(signed, bits) from "i1".."i64" / "u1".."u63"; the text stops at a NUL, as in C."""
    text = raw.split(b"\0", 1)[0]
    if text[:1] not in (b"i", b"u"):
        raise ErrorReply(errors.BITFIELD_TYPE)
    signed = text[:1] == b"i"
    bits = parse_int(text[1:], errors.BITFIELD_TYPE)
    if bits < 1 or bits > (64 if signed else 63):
        raise ErrorReply(errors.BITFIELD_TYPE)
    return signed, bits


def get_field(buf, offset: int, bits: int, signed: bool) -> int:
    """The field at `offset`, reading past the end of `buf` as zeros."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    chunk = bytes(memoryview(buf)[first:last + 1]) if buf is not None else b""
    number = int.from_bytes(chunk, "big") << (8 * (last + 1 - first - len(chunk)))
    number = (number >> (7 - ((offset + bits - 1) & 7))) & ((1 << bits) - 1)
    if signed and number >> (bits - 1):
        number -= 1 << bits
    return number


def set_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    first, last = offset >> 3, (offset + bits - 1) >> 3
    shift = 7 - ((offset + bits - 1) & 7)
    mask = ((1 << bits) - 1) << shift
    current = int.from_bytes(buf[first:last + 1], "big")
    current = (current & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = current.to_bytes(last + 1 - first, "big")


def signed_overflow(value: int, incr: int, bits: int, mode: str) -> tuple[bool, int | None]:
    """Redis's checkSignedBitfieldOverflow, int64 wrap-arounds included: (overflowed, the
    value to store instead)."""
    high = INT64_MAX if bits == 64 else (1 << (bits - 1)) - 1
    low = -high - 1
    maxincr, minincr = _s64(high - value), _s64(low - value)
    if (value > high or (bits != 64 and incr > maxincr)
            or (value >= 0 and incr > 0 and incr > maxincr)):
        limit = high
    elif (value < low or (bits != 64 and incr < minincr)
            or (value < 0 and incr < 0 and incr < minincr)):
        limit = low
    else:
        return False, None
    if mode == WRAP:
        wrapped = (value + incr) & ((1 << bits) - 1)
        limit = wrapped - (1 << bits) if wrapped >> (bits - 1) else wrapped
    return True, limit


def unsigned_overflow(value: int, incr: int, bits: int, mode: str) -> tuple[bool, int | None]:
    """Redis's checkUnsignedBitfieldOverflow; `value` is a uint64."""
    high = (1 << bits) - 1
    if value > high or (incr > 0 and incr > _s64(high - value)):
        limit = high
    elif incr < 0 and incr < _s64(-value):
        limit = 0
    else:
        return False, None
    if mode == WRAP:
        limit = (value + incr) & high
    return True, limit


def parse_bitfield_ops(c, argv: list[bytes]) -> list[tuple]:
    """(opcode, signed, bits, offset, argument, overflow mode) for each GET/SET/INCRBY."""
    ops = []
    mode = WRAP
    i = 2
    while i < len(argv):
        remaining = len(argv) - i - 1
        sub = argv[i].lower()
        if sub == b"overflow" and remaining >= 1:
            name = argv[i + 1].lower()
            if name not in (b"wrap", b"sat", b"fail"):
                raise ErrorReply(errors.BITFIELD_OVERFLOW)
            mode = name.decode()
            i += 2
            continue
        if not ((sub == b"get" and remaining >= 2)
                or (sub in (b"set", b"incrby") and remaining >= 3)):
            raise ErrorReply(errors.SYNTAX)
        signed, bits = parse_bitfield_type(argv[i + 1])
        offset = parse_bit_offset(c, argv[i + 2], bits)
        argument = 0
        if sub != b"get":
            argument = parse_int(argv[i + 3])
        ops.append((sub, signed, bits, offset, argument, mode))
        i += 3 if sub == b"get" else 4
    return ops


def run_write_op(buf: bytearray, op: tuple, grown: bool) -> tuple[int | None, bool]:
    """Apply one SET/INCRBY; (reply, whether it changed the value)."""
    sub, signed, bits, offset, argument, mode = op
    old = get_field(buf, offset, bits, signed)
    if signed:
        if sub == b"incrby":
            overflow, limit = signed_overflow(old, argument, bits, mode)
            new = limit if overflow else old + argument
            reply = new
        else:
            overflow, limit = signed_overflow(argument, 0, bits, mode)
            new = limit if overflow else argument
            reply = old
    else:
        if sub == b"incrby":
            overflow, limit = unsigned_overflow(old, argument, bits, mode)
            new = limit if overflow else old + argument
            reply = new
        else:
            overflow, limit = unsigned_overflow(argument & _M64, 0, bits, mode)
            new = limit if overflow else argument
            reply = old
    if overflow and mode == FAIL:
        return None, False
    set_field(buf, offset, bits, new)
    return reply, grown or old != new


def bitfield_generic(c, argv, read_only_command: bool) -> list:
    ops = parse_bitfield_ops(c, argv)
    db, key = c.db, argv[1]
    writes = [op for op in ops if op[0] != b"get"]
    if not writes:
        value = db.read_string(key)
        return [get_field(value, op[3], op[2], op[1]) for op in ops]
    if read_only_command:
        raise ErrorReply(errors.BITFIELD_RO_GET_ONLY)
    buf, grown = writable_bits(db, key, max(op[3] + op[2] - 1 for op in writes) >> 3)
    replies, changes = [], 0
    for op in ops:
        if op[0] == b"get":
            replies.append(get_field(buf, op[3], op[2], op[1]))
            continue
        reply, changed = run_write_op(buf, op, grown)
        replies.append(reply)
        changes += changed
    if changes:
        db.commit(key, STRING, "setbit", changes)  # one per changing subcommand, as Redis
    return replies


def bitfield_keys(argv: list[bytes]) -> list:
    """bitfieldGetKeys: read-only flags when every operation is a GET (or OVERFLOW)."""
    i = 2
    while i < len(argv):
        more = len(argv) - i - 1
        op = argv[i].split(b"\0", 1)[0].lower()
        if op == b"get" and more >= 2:
            i += 3
        elif op == b"overflow" and more >= 1:
            i += 2
        else:  # SET or INCRBY, or a syntax error: assume it writes
            return [(1, ("RW", "access", "update"))]
    return [(1, ("RO", "access"))]


@command("BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value "
         "| INCRBY encoding offset increment ...]", arity=-2, flags="write denyoom",
         keys=(1, 1, 1), group="bitmap", since="3.2.0",
         summary="Perform arbitrary bitfield integer operations on strings",
         complexity="O(1) for each subcommand specified",
         key_specs=("RW access update variable_flags index:1 -- This command allows both access "
                    "and modification of the key"), getkeys=bitfield_keys)
def bitfield(c, argv):
    return bitfield_generic(c, argv, read_only_command=False)


@command("BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]", arity=-2,
         flags="readonly fast", keys=(1, 1, 1), group="bitmap", since="6.0.0",
         summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of "
                 "BITFIELD", complexity="O(1) for each subcommand specified")
def bitfield_ro(c, argv):
    return bitfield_generic(c, argv, read_only_command=True)

"""`struct`: Roberto Ierusalimschy's struct library as Redis 7.0 embeds it (pack, unpack, size).

Formats as lua_struct.c reads them on Redis's x86-64 build: native order little-endian, '>' '<'
'!n' (alignment, power of 2, default 8) and ' ' as controls; b/B char, h/H short, l/L long and T
size_t (8), i/I[n] int of n bytes (default 4, at most 32), f float, d double, x a pad byte, c[n]
n bytes (c0: the string's length when packing, the previous number when unpacking), s a
zero-terminated string. Integers go through C's conversions as x86-64 does them (a negative
double through int64, others through uint64; out of range gives 0x8000000000000000 or 0; only
the low 8 bytes carry the value). The errors are Redis's, in the order the C code meets them.

The format walk runs in Python (exact 64-bit integers, IEEE packing); the Lua side hands it the
arguments as the C code would see them through luaL_checknumber / luaL_checklstring: a type
name, the number as "%.17g" text (exact) and the string form (numbers as tostring gives them).
"""

from __future__ import annotations

import math
import struct

MAXINTSIZE = 32
MAXALIGN = 8
MAXCSTACK = 8000
U64 = (1 << 64) - 1
SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
INTEGERS = "bBhHlLTiI"


class StructError(Exception):
    """A Lua error message the library raises (the Lua side raises it as the error)."""


def _argerror(index: int, function: str, message: str) -> StructError:
    return StructError(f"bad argument #{index} to '{function}' ({message})")


class Format:
    """A cursor over a format string with lua_struct's getnum/optsize/controloptions."""

    def __init__(self, fmt: bytes, function: str):
        self.fmt = fmt
        self.i = 0
        self.function = function
        self.little = True
        self.align = 1

    def next_option(self):
        """(opt, size) or None at the end."""
        if self.i >= len(self.fmt):
            return None
        opt = chr(self.fmt[self.i])
        self.i += 1
        return opt, self.optsize(opt)

    def getnum(self, default: int) -> int:
        if self.i >= len(self.fmt) or not 48 <= self.fmt[self.i] <= 57:
            return default
        a = 0
        while self.i < len(self.fmt) and 48 <= self.fmt[self.i] <= 57:
            digit = self.fmt[self.i] - 48
            if a > 2147483647 // 10 or a * 10 > 2147483647 - digit:
                raise StructError("integral size overflow")
            a = a * 10 + digit
            self.i += 1
        return a

    def optsize(self, opt: str) -> int:
        if opt in SIZES:
            return SIZES[opt]
        if opt == "c":
            return self.getnum(1)
        if opt in "iI":
            size = self.getnum(4)
            if size > MAXINTSIZE:
                raise StructError(f"integral size {size} is larger than limit of {MAXINTSIZE}")
            return size
        return 0

    def toalign(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        if size > self.align:
            size = self.align
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.little = False
        elif opt == "<":
            self.little = True
        elif opt == "!":
            a = self.getnum(MAXALIGN)
            if not (a > 0 and a & (a - 1) == 0):
                raise StructError(f"alignment {a} is not a power of 2")
            self.align = a
        else:
            raise _argerror(1, self.function, f"invalid format option '{opt}'")


def double_to_u64(n: float) -> int:
    """(Uinttype)(Inttype)n for n < 0, (Uinttype)n otherwise, as gcc on x86-64 converts."""
    if math.isnan(n):
        return 1 << 63
    if n < 0:
        if n < -9223372036854775808.0:
            return 1 << 63
        return int(n) & U64
    if n >= 18446744073709551616.0:
        return 0
    return int(n)


def _arg_number(args, index: int, function: str) -> float:
    kind, number, _ = args(index)
    if number is None:
        raise _argerror(index, function, f"number expected, got {kind}")
    return float(number)


def _arg_string(args, index: int, function: str) -> bytes:
    kind, _, string = args(index)
    if string is None:
        raise _argerror(index, function, f"string expected, got {kind}")
    return string


def pack(fmt: bytes, args) -> bytes:
    """struct.pack(fmt, ...); args(i) -> (type name, number text or None, string or None)."""
    f = Format(fmt, "pack")
    out = bytearray()
    arg = 2
    total = 0
    while (item := f.next_option()) is not None:
        opt, size = item
        toalign = f.toalign(total, opt, size)
        total += toalign
        out += b"\0" * toalign
        if opt in INTEGERS:
            value = double_to_u64(_arg_number(args, arg, "pack"))
            arg += 1
            raw = bytes((value >> (8 * k)) & 0xFF for k in range(size))
            out += raw if f.little else raw[::-1]
        elif opt == "x":
            out += b"\0"
        elif opt in "fd":
            number = _arg_number(args, arg, "pack")
            arg += 1
            out += _pack_float(opt, number, f.little)
        elif opt in "cs":
            string = _arg_string(args, arg, "pack")
            arg += 1
            if size == 0:
                size = len(string)
            if len(string) < size:
                raise _argerror(arg, "pack", "string too short")
            out += string[:size]
            if opt == "s":
                out += b"\0"
                size += 1
        else:
            f.control(opt)
        total += size
    return bytes(out)


def _pack_float(opt: str, number: float, little: bool) -> bytes:
    order = "<" if little else ">"
    if opt == "d":
        return struct.pack(order + "d", number)
    try:
        return struct.pack(order + "f", number)
    except OverflowError:
        return struct.pack(order + "f", math.copysign(math.inf, number))


def _get_integer(raw: bytes, little: bool, signed: bool, size: int) -> float:
    value = 0
    for byte in (reversed(raw) if little else raw):
        value = ((value << 8) | byte) & U64
    if not signed:
        return float(value)
    mask = (U64 << ((size * 8 - 1) & 63)) & U64
    if value & mask:
        value |= mask
    if value >= 1 << 63:
        value -= 1 << 64
    return float(value)


def unpack(fmt: bytes, data: bytes, position: int, nargs: int, tonumber) -> list:
    """struct.unpack(fmt, data[, position]) -> the values then the next position (as floats
    or bytes); `tonumber` is Lua's, for "c0" after a string that converts."""
    f = Format(fmt, "unpack")
    ld = len(data)
    pos = position & U64
    if pos == 0:
        raise _argerror(3, "unpack", "offset must be 1 or greater")
    pos -= 1
    results: list = []
    while (item := f.next_option()) is not None:
        opt, size = item
        pos += f.toalign(pos, opt, size)
        if not (size <= ld and pos <= ld - size):
            raise _argerror(2, "unpack", "data string too short")
        if nargs + len(results) + 2 > MAXCSTACK:
            raise StructError("stack overflow (too many results)")
        if opt in INTEGERS:
            results.append(_get_integer(data[pos:pos + size], f.little, opt.islower(), size))
        elif opt == "x":
            pass
        elif opt in "fd":
            code = ("<" if f.little else ">") + opt
            results.append(struct.unpack(code, data[pos:pos + size])[0])
        elif opt == "c":
            if size == 0:
                previous = results[-1] if results else None
                if isinstance(previous, bytes):
                    previous = tonumber(previous)
                if previous is None:
                    raise StructError("format 'c0' needs a previous size")
                size = double_to_u64(float(previous))
                results.pop()
                if not (size <= ld and pos <= ld - size):
                    raise _argerror(2, "unpack", "data string too short")
            results.append(data[pos:pos + size])
        elif opt == "s":
            end = data.find(b"\0", pos)
            if end < 0:
                raise StructError("unfinished string in data")
            size = end - pos + 1
            results.append(data[pos:end])
        else:
            f.control(opt)
        pos += size
    results.append(float(pos + 1 if pos + 1 < 1 << 63 else pos + 1 - (1 << 64)))
    return results


def size(fmt: bytes) -> float:
    f = Format(fmt, "size")
    pos = 0
    while (item := f.next_option()) is not None:
        opt, size = item
        pos += f.toalign(pos, opt, size)
        if opt == "s":
            raise _argerror(1, "size", "option 's' has no fixed size")
        if opt == "c" and size == 0:
            raise _argerror(1, "size", "option 'c0' has no fixed size")
        if not (opt.isascii() and opt.isalnum()):
            f.control(opt)
        pos += size
    return float(pos)


LUA = r"""
local make, py_pack, py_unpack, py_size = ...
local type, tostring, tonumber, select, error, unpack = type, tostring, tonumber, select, error, unpack
local floor, format = math.floor, string.format

-- The arguments from index 2 on as luaL_checknumber / luaL_checklstring would take them, three
-- values each (type name, number as "%.17g" or nil, string form or nil). The slot after the last
-- argument holds the nil that b_pack pushes as a mark ("got nil").
local function describe(...)
  local n = select("#", ...)
  local out = {}
  for i = 2, n do
    local v = select(i, ...)
    local t = type(v)
    local at = 3 * (i - 2)
    out[at + 1] = t
    if t == "number" then
      out[at + 2] = format("%.17g", v); out[at + 3] = tostring(v)
    elseif t == "string" then
      out[at + 3] = v
      local x = tonumber(v)
      if x then out[at + 2] = format("%.17g", x) end
    end
  end
  out[3 * (n - 1) + 1] = "nil"
  return unpack(out, 1, 3 * n)
end

local function checkstring(name, i, n, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  error(format("bad argument #%d to '%s' (string expected, got %s)", i, name, i > n and "no value" or t), 0)
end

-- luaL_optinteger as text: a number or convertible string truncated to a ptrdiff_t
local function optinteger(name, i, n, v, default)
  if v == nil then return default end
  local x = v
  if type(v) == "string" then x = tonumber(v) end
  if type(x) ~= "number" then
    error(format("bad argument #%d to '%s' (number expected, got %s)", i, name, type(v)), 0)
  end
  if x ~= x or x >= 9223372036854775808 or x < -9223372036854775808 then return "-9223372036854775808" end
  if x < 0 then x = -floor(-x) else x = floor(x) end
  return format("%.0f", x)
end

-- A Python result: the value itself, or a table of values, or an error as a string in a table
-- whose field err is true.
local function reply(r)
  if type(r) ~= "table" then return r end
  if r.err then error(r[1], 0) end
  return unpack(r, 1, r.n)
end

local struct = {
  pack = make(function(...)
    local n = select("#", ...)
    local fmt = checkstring("pack", 1, n, (...))
    return reply(py_pack(fmt, describe(...)))
  end),
  unpack = make(function(...)
    local n = select("#", ...)
    local fmt, data, position = ...
    fmt = checkstring("unpack", 1, n, fmt)
    data = checkstring("unpack", 2, n, data)
    position = optinteger("unpack", 3, n, position, "1")
    return reply(py_unpack(fmt, data, position, n))
  end),
  size = make(function(...)
    local n = select("#", ...)
    return reply(py_size(checkstring("size", 1, n, (...))))
  end),
}
return struct
"""


def install(lua, make) -> None:
    tonumber = lua.globals()[b"tonumber"]

    def failed(error: StructError):
        return lua.table_from({1: str(error).encode("latin-1"), b"err": True})

    def py_pack(fmt, *described):
        def args(index):
            at = 3 * (index - 2)
            if at < 0 or at + 2 >= len(described):
                return "no value", None, None
            kind = described[at]
            return (kind.decode() if kind is not None else "no value"), described[at + 1], described[at + 2]
        try:
            return pack(fmt, args)
        except StructError as error:
            return failed(error)

    def py_unpack(fmt, data, position, nargs):
        try:
            values = unpack(fmt, data, int(position), nargs, tonumber)
        except StructError as error:
            return failed(error)
        table = lua.table(*values)
        table[b"n"] = len(values)
        return table

    def py_size(fmt):
        try:
            return size(fmt)
        except StructError as error:
            return failed(error)

    lua.globals()[b"struct"] = lua.execute(LUA, make, py_pack, py_unpack, py_size)

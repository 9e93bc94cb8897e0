"""`bit`: LuaBitOp 1.0.2 as Redis 7.0 embeds it (tobit, tohex, bnot, band, bor, bxor, lshift,
rshift, arshift, rol, ror, bswap).

Numbers become 32-bit values the way LuaBitOp does on doubles: add 2^52+2^51 and keep the low 32
bits of the sum's IEEE representation (round half to even, then modulo 2^32), and results come
back as signed 32-bit numbers. Arguments are checked in Lua (a string that converts is a number,
anything else "number expected"; band/bor/bxor check the first argument, then the last down to
the second, as LuaBitOp's loop does); the bit arithmetic is Python's, exact on integers.
"""

from __future__ import annotations

import struct

_MAGIC = 6755399441055744.0  # 2^52 + 2^51
_PACK_DOUBLE = struct.Struct("<d").pack
_UNPACK_LOW = struct.Struct("<I4x").unpack


def to_bits(number) -> int:
    """The unsigned 32-bit value LuaBitOp's barg() makes of a Lua number."""
    return _UNPACK_LOW(_PACK_DOUBLE(float(number) + _MAGIC))[0]


def signed(bits: int) -> int:
    bits &= 0xFFFFFFFF
    return bits - 0x100000000 if bits & 0x80000000 else bits


def _fold(operation):
    def run(first, *rest):
        bits = to_bits(first)
        for number in rest:
            bits = operation(bits, to_bits(number))
        return signed(bits)
    return run


def _shift(operation):
    def run(number, count):
        return signed(operation(to_bits(number), to_bits(count) & 31))
    return run


def _rol(bits, n):
    return (bits << n) | (bits >> (32 - n))


def _ror(bits, n):
    return (bits << (32 - n)) | (bits >> n)


def _arshift(bits, n):
    return signed(bits) >> n


def _bswap(number):
    b = to_bits(number)
    return signed((b >> 24) | ((b >> 8) & 0xFF00) | ((b & 0xFF00) << 8) | (b << 24))


def _tohex(number, width=None):
    b = to_bits(number)
    n = 8 if width is None else signed(to_bits(width))
    digits = "0123456789abcdef"
    if n < 0:
        n, digits = -n, "0123456789ABCDEF"
    n = min(n, 8)
    out = []
    for _ in range(max(n, 0)):
        out.append(digits[b & 15])
        b >>= 4
    return "".join(reversed(out)).encode()


OPERATIONS = {
    "tobit": lambda number: signed(to_bits(number)),
    "bnot": lambda number: signed(~to_bits(number)),
    "band": _fold(lambda a, b: a & b),
    "bor": _fold(lambda a, b: a | b),
    "bxor": _fold(lambda a, b: a ^ b),
    "lshift": _shift(lambda b, n: b << n),
    "rshift": _shift(lambda b, n: b >> n),
    "arshift": _shift(_arshift),
    "rol": _shift(_rol),
    "ror": _shift(_ror),
    "bswap": _bswap,
    "tohex": _tohex,
}

LUA = r"""
local make, ops = ...
local type, tonumber, select, error, unpack, format = type, tonumber, select, error, unpack, string.format

local function barg(name, i, n, v)
  local t = type(v)
  if t == 'number' then return v end
  if t == 'string' then
    local x = tonumber(v)
    if x then return x end
  end
  error(format("bad argument #%d to '%s' (number expected, got %s)", i, name,
               i > n and 'no value' or t), 0)
end

local function unary(name)
  local op = ops[name]
  return make(function(...)
    return op(barg(name, 1, select('#', ...), (...)))
  end)
end

local function binary(name)
  local op = ops[name]
  return make(function(...)
    local n = select('#', ...)
    local a, b = ...
    return op(barg(name, 1, n, a), barg(name, 2, n, b))
  end)
end

local function fold(name)
  local op = ops[name]
  return make(function(...)
    local n = select('#', ...)
    local args = {...}
    args[1] = barg(name, 1, n, args[1])
    for i = n, 2, -1 do args[i] = barg(name, i, n, args[i]) end
    return op(unpack(args, 1, n > 0 and n or 1))
  end)
end

local tohex = ops.tohex
-- A constructor of twelve fields sizes the table as luaL_register does, so pairs() walks it in
-- Redis's order.
local bit = {
  tobit = unary('tobit'), bnot = unary('bnot'), band = fold('band'), bor = fold('bor'),
  bxor = fold('bxor'), lshift = binary('lshift'), rshift = binary('rshift'),
  arshift = binary('arshift'), rol = binary('rol'), ror = binary('ror'), bswap = unary('bswap'),
  tohex = make(function(...)
    local n = select('#', ...)
    local a, b = ...
    a = barg('tohex', 1, n, a)
    if n < 2 then return tohex(a) end
    return tohex(a, barg('tohex', 2, n, b))
  end),
}
return bit
"""


def install(lua, make) -> None:
    ops = lua.table_from({name.encode(): fn for name, fn in OPERATIONS.items()})
    lua.globals()[b"bit"] = lua.execute(LUA, make, ops)

"""`cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 embeds it (pack, unpack, unpack_one,
unpack_limit), written in Lua with Python for IEEE float conversions.

pack: a number that is an int64 is packed as the smallest msgpack integer (fixint, uint8..64,
int8..64), any other number as a float32 when the float holds it exactly, else as a float64;
strings as fixstr/str8/16/32; a table whose keys are exactly 1..n (int-sized) as an array, any
other as a map in Lua's traversal order; tables nested 16 deep, functions, userdata and nil as
nil. unpack: every msgpack type but bin/ext (those are "Bad data format in input."); uint64 goes
through lua_Integer as Redis's build does (above 2^63 it comes back negative); truncated input
is "Missing bytes in input."; the Lua stack allowance (LUAI_MAXCSTACK) is counted as the C code
uses it, so too many values or too deep a nesting fail with Redis's "stack overflow (...)".
"""

from __future__ import annotations

import struct

_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")


def _number(text: bytes) -> float:
    """A Lua number handed over as "%.17g" (exact, keeps -0, inf and the sign of nan)."""
    return float(text)


def pack_float(text: bytes) -> bytes:
    """mp_encode_double: float32 (0xca) when (double)(float)d == d, else float64 (0xcb)."""
    d = _number(text)
    try:
        as_float = _FLOAT.pack(d)
    except OverflowError:  # C's conversion gives inf, which differs from a finite d
        return b"\xcb" + _DOUBLE.pack(d)
    if _FLOAT.unpack(as_float)[0] == d:
        return b"\xca" + as_float
    return b"\xcb" + _DOUBLE.pack(d)


def unpack_float(data: bytes) -> float:
    return _FLOAT.unpack(data)[0]


def unpack_double(data: bytes) -> float:
    return _DOUBLE.unpack(data)[0]


LUA = r"""
local make, pack_float, unpack_float, unpack_double = ...
local type, tostring, tonumber, select, error, next, unpack = type, tostring, tonumber, select, error, next, unpack
local floor, huge = math.floor, math.huge
local byte, char, sub, format = string.byte, string.char, string.sub, string.format
local concat = table.concat

local MAXCSTACK = 8000
local MAX_NESTING = 16
local TWO32 = 4294967296

local function argerror(i, name, msg)
  error(format("bad argument #%d to '%s' (%s)", i, name, msg), 0)
end

local function wrap32(x)
  x = x % TWO32
  if x >= 2147483648 then x = x - TWO32 end
  return x
end

------------------------------------------------------------------ packing
local function be32(n)
  return char(floor(n / 16777216) % 256, floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

local function be16(n)
  return char(floor(n / 256) % 256, n % 256)
end

local function encode_int(n)
  if n >= 0 then
    if n <= 127 then return char(n) end
    if n <= 0xff then return "\204" .. char(n) end
    if n <= 0xffff then return "\205" .. be16(n) end
    if n <= 0xffffffff then return "\206" .. be32(n) end
    return "\207" .. be32(floor(n / TWO32)) .. be32(n % TWO32)
  end
  if n >= -32 then return char(n + 256) end
  if n >= -128 then return "\208" .. char(n + 256) end
  if n >= -32768 then return "\209" .. be16(n + 65536) end
  if n >= -2147483648 then return "\210" .. be32(n + TWO32) end
  local u = -n
  local low = u % TWO32
  local high = TWO32 - floor(u / TWO32)
  if low ~= 0 then low = TWO32 - low; high = high - 1 end
  return "\211" .. be32(high % TWO32) .. be32(low)
end

local function encode_number(n)
  if n == floor(n) and n >= -9223372036854775808 and n < 9223372036854775808 then
    return encode_int(n)
  end
  return pack_float(format("%.17g", n))
end

local function encode_string(s)
  local len = #s
  if len < 32 then return char(0xa0 + len) .. s end
  if len <= 0xff then return "\217" .. char(len) .. s end
  if len <= 0xffff then return "\218" .. be16(len) .. s end
  return "\219" .. be32(len) .. s
end

local function is_array(t)
  local count, max = 0, 0
  for k in next, t do
    if type(k) ~= "number" or k <= 0 or k ~= floor(k) or k > 2147483647 then return false end
    if k > max then max = k end
    count = count + 1
  end
  return max == count
end

local encode

local function encode_table(out, t, level)
  if is_array(t) then
    local len = #t
    if len <= 15 then out[#out + 1] = char(0x90 + len)
    elseif len <= 65535 then out[#out + 1] = "\220" .. be16(len)
    else out[#out + 1] = "\221" .. be32(len) end
    for i = 1, len do encode(out, t[i], level + 1) end
  else
    local len = 0
    for _ in next, t do len = len + 1 end
    if len <= 15 then out[#out + 1] = char(0x80 + len)
    elseif len <= 65535 then out[#out + 1] = "\222" .. be16(len)
    else out[#out + 1] = "\223" .. be32(len) end
    for k, v in next, t do
      encode(out, k, level + 1)
      encode(out, v, level + 1)
    end
  end
end

encode = function(out, v, level)
  local t = type(v)
  if t == "table" and level == MAX_NESTING then t = "nil" end
  if t == "string" then out[#out + 1] = encode_string(v)
  elseif t == "boolean" then out[#out + 1] = v and "\195" or "\194"
  elseif t == "number" then out[#out + 1] = encode_number(v)
  elseif t == "table" then encode_table(out, v, level)
  else out[#out + 1] = "\192" end
end

local function pack(...)
  local n = select("#", ...)
  if n == 0 then argerror(0, "pack", "MessagePack pack needs input.") end
  if n + n > MAXCSTACK then argerror(0, "pack", "Too many arguments for MessagePack pack.") end
  local out = {}
  for i = 1, n do encode(out, (select(i, ...)), 0) end
  return concat(out)
end

------------------------------------------------------------------ unpacking
-- The decoder raises these two after unwinding, as Redis's reports them (cursor errors).
local MISSING, BADFMT = {}, {}
local data, pos, last

local function need(count)
  if last - pos + 1 < count then error(MISSING, 0) end
end

local function u16(p) local a, b = byte(data, p, p + 1) return a * 256 + b end
local function u32(p) local a, b, c, d = byte(data, p, p + 3) return ((a * 256 + b) * 256 + c) * 256 + d end

-- an int64 given as two 32-bit halves, as the double (lua_Number)(int64_t) makes of it
local function int64(high, low)
  if high >= 2147483648 then return (high - TWO32) * TWO32 + low end
  return high * TWO32 + low
end

local function checkstack(used, message)
  if used + 1 > MAXCSTACK then error("stack overflow (" .. message .. ")", 0) end
end

local TOO_MANY = "too many return values at once; use unpack_one or unpack_limit instead."

local decode

local function decode_array(len, used)
  local t = {}
  checkstack(used + 1, "in function mp_decode_to_lua_array")
  for i = 1, len do
    local v = decode(used + 2)
    t[i] = v
  end
  return t
end

local function decode_map(len, used)
  local t = {}
  for _ = 1, len do
    local k = decode(used + 1)
    local v = decode(used + 2)
    if k == nil then error("table index is nil", 0) end
    if k ~= k then error("table index is NaN", 0) end
    t[k] = v
  end
  return t
end

local function string_of(len, header)
  need(header + len)
  local s = sub(data, pos + header, pos + header + len - 1)
  pos = pos + header + len
  return s
end

decode = function(used)
  need(1)
  checkstack(used, TOO_MANY)
  local b = byte(data, pos)
  if b <= 0x7f then pos = pos + 1; return b end
  if b >= 0xe0 then pos = pos + 1; return b - 256 end
  if b >= 0xa0 and b <= 0xbf then return string_of(b - 0xa0, 1) end
  if b >= 0x90 and b <= 0x9f then pos = pos + 1; return decode_array(b - 0x90, used) end
  if b >= 0x80 and b <= 0x8f then pos = pos + 1; return decode_map(b - 0x80, used) end
  if b == 0xc0 then pos = pos + 1; return nil end
  if b == 0xc2 then pos = pos + 1; return false end
  if b == 0xc3 then pos = pos + 1; return true end
  if b == 0xcc then need(2); pos = pos + 2; return byte(data, pos - 1) end
  if b == 0xd0 then
    need(2); pos = pos + 2
    local v = byte(data, pos - 1)
    return v >= 128 and v - 256 or v
  end
  if b == 0xcd then need(3); pos = pos + 3; return u16(pos - 2) end
  if b == 0xd1 then
    need(3); pos = pos + 3
    local v = u16(pos - 2)
    return v >= 32768 and v - 65536 or v
  end
  if b == 0xce then need(5); pos = pos + 5; return u32(pos - 4) end
  if b == 0xd2 then
    need(5); pos = pos + 5
    local v = u32(pos - 4)
    return v >= 2147483648 and v - TWO32 or v
  end
  if b == 0xcf or b == 0xd3 then need(9); pos = pos + 9; return int64(u32(pos - 8), u32(pos - 4)) end
  if b == 0xca then need(5); pos = pos + 5; return unpack_float(sub(data, pos - 4, pos - 1)) end
  if b == 0xcb then need(9); pos = pos + 9; return unpack_double(sub(data, pos - 8, pos - 1)) end
  if b == 0xd9 then need(2); return string_of(byte(data, pos + 1), 2) end
  if b == 0xda then need(3); return string_of(u16(pos + 1), 3) end
  if b == 0xdb then need(5); return string_of(u32(pos + 1), 5) end
  if b == 0xdc then need(3); local len = u16(pos + 1); pos = pos + 3; return decode_array(len, used) end
  if b == 0xdd then need(5); local len = u32(pos + 1); pos = pos + 5; return decode_array(len, used) end
  if b == 0xde then need(3); local len = u16(pos + 1); pos = pos + 3; return decode_map(len, used) end
  if b == 0xdf then need(5); local len = u32(pos + 1); pos = pos + 5; return decode_map(len, used) end
  error(BADFMT, 0)
end

-- luaL_checkinteger / luaL_optinteger: a number or a convertible string, truncated (ptrdiff_t)
local function checkinteger(name, i, n, v, default)
  if v == nil and default then return default end
  local x = v
  if type(v) == "string" then x = tonumber(v) end
  if type(x) ~= "number" then
    argerror(i, name, "number expected, got " .. (i > n and "no value" or type(v)))
  end
  if x ~= x or x >= 9223372036854775808 or x < -9223372036854775808 then return -9223372036854775808 end
  if x >= 0 then return floor(x) end
  return -floor(-x)
end

local function checkstring(name, n, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  argerror(1, name, "string expected, got " .. (n < 1 and "no value" or t))
end

local function unpack_full(name, n, s, limit, offset)
  s = checkstring(name, n, s)
  local len = #s
  local decode_all = limit == 0 and offset == 0
  if offset < 0 or limit < 0 then
    error(format("Invalid request to unpack with offset of %d and limit of %d.", wrap32(offset), wrap32(len)), 0)
  elseif offset > len then
    error(format("Start offset %d greater than input length %d.", wrap32(offset), wrap32(len)), 0)
  end
  if decode_all then limit = 2147483647 end
  data, pos, last = s, offset + 1, len
  local results, count = {}, 0
  while pos <= last and count < limit do
    local ok, v = pcall(decode, 1 + count)
    if not ok then
      data = nil
      if v == MISSING then error("Missing bytes in input.", 0) end
      if v == BADFMT then error("Bad data format in input.", 0) end
      error(v, 0)
    end
    count = count + 1
    results[count] = v
  end
  data = nil
  if decode_all then return unpack(results, 1, count) end
  return (pos > last) and -1 or pos - 1, unpack(results, 1, count)
end

local cmsgpack = {}
cmsgpack.pack = make(pack)
cmsgpack.unpack = make(function(...)
  return unpack_full("unpack", select("#", ...), (...), 0, 0)
end)
cmsgpack.unpack_one = make(function(...)
  local n = select("#", ...)
  local s, offset = ...
  offset = checkinteger("unpack_one", 2, n, offset, 0)
  return unpack_full("unpack_one", n, s, 1, offset)
end)
cmsgpack.unpack_limit = make(function(...)
  local n = select("#", ...)
  local s, limit, offset = ...
  limit = checkinteger("unpack_limit", 2, n, limit)
  offset = checkinteger("unpack_limit", 3, n, offset, 0)
  return unpack_full("unpack_limit", n, s, limit, offset)
end)
cmsgpack._NAME = "cmsgpack"
cmsgpack._VERSION = "lua-cmsgpack 0.4.0"
cmsgpack._COPYRIGHT = "Copyright (C) 2012, Salvatore Sanfilippo"
cmsgpack._DESCRIPTION = "MessagePack C implementation for Lua"
return cmsgpack
"""


def install(lua, make) -> None:
    lua.globals()[b"cmsgpack"] = lua.execute(LUA, make, pack_float, unpack_float, unpack_double)

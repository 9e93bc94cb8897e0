"""`cjson`: Lua CJSON 2.1.0 as Redis 7.0 embeds it, written in Lua.

encode: numbers with "%.14g" (encode_number_precision), strings with CJSON's escapes ("/" as
"\\/", DEL as "\\u007f", control bytes as \\uXXXX, other bytes as they are), a table is an array
when all its keys are positive integers and it is not excessively sparse (max index > 2 * items
and > 10 errors, unless encode_sparse_array converts), else an object; nesting is limited by
encode_max_depth and by Lua's C stack allowance (LUAI_MAXCSTACK slots), counted as the C code
uses them. decode: CJSON's tokenizer over the text up to its first NUL, numbers by strtod (Lua's
tonumber on the prefix strtod would take: hex, inf, nan accepted by default), \\u escapes with
surrogate pairs, errors "Expected <what> but found <token> at character <n>", nesting limited by
decode_max_depth. null is one userdata, cjson.null, whose tostring is Redis's "userdata: (nil)".
The configuration functions keep their settings in the Lua state, as Redis's do.
"""

from __future__ import annotations

LUA = r"""
local make = ...
local type, tostring, tonumber, select, error, pairs, next = type, tostring, tonumber, select, error, pairs, next
local rawget, rawset, floor, huge = rawget, rawset, math.floor, math.huge
local byte, char, sub, find, format, gsub, lower = string.byte, string.char, string.sub, string.find, string.format, string.gsub, string.lower
local concat = table.concat

local MAXCSTACK = 8000
local INT_MAX = 2147483647

local null = newproxy(true)
do
  local meta = getmetatable(null)
  meta.__tostring = function() return "userdata: (nil)" end
  meta.__metatable = false
end

local function argerror(i, name, msg)
  error(format("bad argument #%d to '%s' (%s)", i, name, msg), 0)
end

local function typename(v, present)
  if not present then return "no value" end
  return type(v)
end

-- lua_tolstring / luaL_checklstring semantics for one argument
local function checkstring(name, i, n, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  argerror(i, name, "string expected, got " .. typename(v, i <= n))
end

-- luaL_checkinteger (a number or a convertible string, cast to ptrdiff_t), stored in an int
local function checkint(name, i, v)
  local x = v
  if type(v) == "string" then x = tonumber(v) end
  if type(x) ~= "number" then
    argerror(i, name, "number expected, got " .. type(v))
  end
  if x ~= x or x >= 9223372036854775808 or x < -9223372036854775808 then return 0 end
  if x >= 0 then x = floor(x) else x = -floor(-x) end
  x = x % 4294967296
  if x >= 2147483648 then x = x - 4294967296 end
  return x
end

local escapes = {}
for i = 0, 31 do escapes[char(i)] = format("\\u%04x", i) end
escapes["\b"] = "\\b"; escapes["\t"] = "\\t"; escapes["\n"] = "\\n"
escapes["\f"] = "\\f"; escapes["\r"] = "\\r"
escapes['"'] = '\\"'; escapes["\\"] = "\\\\"; escapes["/"] = "\\/"; escapes["\127"] = "\\u007f"

local function quote(s)
  if not find(s, '[%c"\\/]') then return '"' .. s .. '"' end
  return '"' .. gsub(s, '[%c"\\/]', escapes) .. '"'
end

local function new()
  local cfg = {
    sparse_convert = false, sparse_ratio = 2, sparse_safe = 10,
    encode_max_depth = 1000, decode_max_depth = 1000,
    encode_invalid_numbers = 0, decode_invalid_numbers = true,
    keep_buffer = true, precision = 14, fmt = "%.14g",
  }

  ---------------------------------------------------------------- encoding
  local function encode_error(v, reason)
    error(format("Cannot serialise %s: %s", type(v), reason), 0)
  end

  local function number(n)
    local mode = cfg.encode_invalid_numbers
    if mode == 0 then
      if n ~= n or n == huge or n == -huge then encode_error(n, "must not be NaN or Inf") end
    elseif mode == 1 then
      if n ~= n then return "nan" end
    else
      if n ~= n or n == huge or n == -huge then return "null" end
    end
    return format(cfg.fmt, n)
  end

  local function to_int(k)  -- (int) of a double >= 1, as x86 converts
    if k > INT_MAX then return -2147483648 end
    return k
  end

  local function wrap32(x)
    x = x % 4294967296
    if x >= 2147483648 then x = x - 4294967296 end
    return x
  end

  -- > 0: array length; otherwise an object
  local function array_length(t)
    local max, items = 0, 0
    for k in next, t do
      if type(k) ~= "number" or k == 0 or floor(k) ~= k or k < 1 then return -1 end
      if k > max then max = to_int(k) end
      items = items + 1
    end
    local ratio = cfg.sparse_ratio
    if ratio > 0 and max > wrap32(items * ratio) and max > cfg.sparse_safe then
      if not cfg.sparse_convert then encode_error(t, "excessively sparse array") end
      return -1
    end
    return max
  end

  local append

  local function append_table(out, t, depth, used)
    depth = depth + 1
    if depth > cfg.encode_max_depth or used + 3 > MAXCSTACK then
      error(format("Cannot serialise, excessive nesting (%d)", depth), 0)
    end
    local len = array_length(t)
    if len > 0 then
      out[#out + 1] = "["
      for i = 1, len do
        if i > 1 then out[#out + 1] = "," end
        append(out, rawget(t, i), depth, used + 1)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local comma = false
      for k, v in next, t do
        if comma then out[#out + 1] = "," else comma = true end
        local kt = type(k)
        if kt == "number" then
          out[#out + 1] = '"' .. number(k) .. '":'
        elseif kt == "string" then
          out[#out + 1] = quote(k) .. ":"
        else
          encode_error(k, "table key must be a number or string")
        end
        append(out, v, depth, used + 2)
      end
      out[#out + 1] = "}"
    end
  end

  append = function(out, v, depth, used)
    local t = type(v)
    if t == "string" then out[#out + 1] = quote(v)
    elseif t == "number" then out[#out + 1] = number(v)
    elseif t == "boolean" then out[#out + 1] = v and "true" or "false"
    elseif t == "table" then append_table(out, v, depth, used)
    elseif t == "nil" or v == null then out[#out + 1] = "null"
    else encode_error(v, "type not supported")
    end
  end

  local function encode(...)
    if select("#", ...) ~= 1 then argerror(1, "encode", "expected 1 argument") end
    local out = {}
    append(out, (...), 0, 1)
    return concat(out)
  end

  ---------------------------------------------------------------- decoding
  local TOKEN_NAMES = {
    ["{"] = "T_OBJ_BEGIN", ["}"] = "T_OBJ_END", ["["] = "T_ARR_BEGIN", ["]"] = "T_ARR_END",
    [","] = "T_COMMA", [":"] = "T_COLON",
  }
  local ESCAPED = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", t = "\t", n = "\n", f = "\f", r = "\r"}

  -- Tokens are (kind, value, index, next position); kind is "value" (with value), "end",
  -- "error" (value = message), or a punctuation character.
  local text

  local function hex4(pos)
    local h = sub(text, pos, pos + 3)
    if not find(h, "^%x%x%x%x$") then return nil end
    return tonumber(h, 16)
  end

  local function utf8(cp)
    if cp <= 0x7F then return char(cp) end
    if cp <= 0x7FF then return char(floor(cp / 64) + 0xC0, cp % 64 + 0x80) end
    if cp <= 0xFFFF then
      return char(floor(cp / 4096) + 0xE0, floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
    end
    return char(floor(cp / 262144) + 0xF0, floor(cp / 4096) % 64 + 0x80, floor(cp / 64) % 64 + 0x80, cp % 64 + 0x80)
  end

  local function string_token(start)
    local stop = find(text, '["\\]', start + 1)
    if stop and byte(text, stop) == 34 then  -- no escapes
      return "value", sub(text, start + 1, stop - 1), start, stop + 1
    end
    local parts = {}
    local pos = start + 1
    while true do
      local stop = find(text, '["\\]', pos)
      if not stop then return "error", "unexpected end of string", #text + 1 end
      parts[#parts + 1] = sub(text, pos, stop - 1)
      if byte(text, stop) == 34 then return "value", concat(parts), start, stop + 1 end
      local e = sub(text, stop + 1, stop + 1)
      if e == "u" then
        local cp = hex4(stop + 2)
        local len = 6
        if cp and cp >= 0xD800 and cp <= 0xDFFF then
          if cp >= 0xDC00 or sub(text, stop + 6, stop + 7) ~= "\\u" then
            cp = nil
          else
            local low = hex4(stop + 8)
            if not low or low < 0xDC00 or low > 0xDFFF then
              cp = nil
            else
              cp = (cp - 0xD800) * 1024 + (low - 0xDC00) + 0x10000
              len = 12
            end
          end
        end
        if not cp then return "error", "invalid unicode escape code", stop end
        parts[#parts + 1] = utf8(cp)
        pos = stop + len
      else
        local c = ESCAPED[e]
        if not c then return "error", "invalid escape code", stop end
        parts[#parts + 1] = c
        pos = stop + 2
      end
    end
  end

  -- The end of what strtod() would read as a number at `pos` (exclusive), or pos if nothing.
  local function strtod_end(pos)
    local p = pos
    local b = byte(text, p)
    if b == 43 or b == 45 then p = p + 1; b = byte(text, p) end  -- + -
    if not b then return pos end
    if b == 105 or b == 73 or b == 110 or b == 78 then  -- i I n N
      local word = lower(sub(text, p, p + 7))
      if word == "infinity" then return p + 8 end
      local three = sub(word, 1, 3)
      if three == "inf" then return p + 3 end
      if three == "nan" then
        local _, close = find(text, "^%([%w_]*%)", p + 3)
        return close and close + 1 or p + 3
      end
      return pos
    end
    if b == 48 and find(text, "^[xX]%.?%x", p + 1) then
      local _, e = find(text, "^%x*%.?%x*", p + 2)
      e = e + 1
      local _, x = find(text, "^[pP][+-]?%d+", e)
      return x and x + 1 or e
    end
    local _, e = find(text, "^%d*%.?%d*", p)
    if e < p or (e == p and b == 46) then return pos end
    e = e + 1
    b = byte(text, e)
    if b == 101 or b == 69 then  -- e E
      local _, x = find(text, "^[+-]?%d+", e + 1)
      if x then return x + 1 end
    end
    return e
  end

  local function number_token(pos)
    local stop = strtod_end(pos)
    if stop == pos then return "error", "invalid number", pos end
    return "value", tonumber(sub(text, pos, stop - 1)), pos, stop
  end

  local function is_invalid_number(pos)
    local p = pos
    local c = sub(text, p, p)
    if c == "+" then return true end
    if c == "-" then p = p + 1; c = sub(text, p, p) end
    if c == "0" then
      local c2 = sub(text, p + 1, p + 1)
      return c2 == "x" or c2 == "X" or find(c2, "^%d") ~= nil
    end
    if c == "" or byte(c) <= 57 then return false end
    local w = lower(sub(text, p, p + 2))
    return w == "inf" or w == "nan"
  end

  local PUNCT = {}
  for c, _ in pairs(TOKEN_NAMES) do PUNCT[byte(c)] = c end
  local WORDS = {[116] = true, [102] = true, [110] = true, [105] = true, [73] = true, [78] = true, [43] = true}

  local function next_token(pos)
    local b = byte(text, pos)
    while b == 32 or b == 9 or b == 10 or b == 13 do pos = pos + 1; b = byte(text, pos) end
    if not b then return "end", nil, pos, pos end
    local punct = PUNCT[b]
    if punct then return punct, nil, pos, pos + 1 end
    if b == 34 then return string_token(pos) end
    if b == 45 or (b >= 48 and b <= 57) then
      if not cfg.decode_invalid_numbers and is_invalid_number(pos) then
        return "error", "invalid number", pos
      end
      return number_token(pos)
    end
    if WORDS[b] then
      if sub(text, pos, pos + 3) == "true" then return "value", true, pos, pos + 4 end
      if sub(text, pos, pos + 4) == "false" then return "value", false, pos, pos + 5 end
      if sub(text, pos, pos + 3) == "null" then return "value", null, pos, pos + 4 end
      if cfg.decode_invalid_numbers and is_invalid_number(pos) then return number_token(pos) end
    end
    return "error", "invalid token", pos
  end

  local function parse_error(expected, kind, value, index)
    local found
    if kind == "error" then found = value
    elseif kind == "end" then found = "T_END"
    elseif kind == "value" then
      local t = type(value)
      found = (t == "string" and "T_STRING") or (t == "number" and "T_NUMBER")
              or (t == "boolean" and "T_BOOLEAN") or "T_NULL"
    else found = TOKEN_NAMES[kind] end
    error(format("Expected %s but found %s at character %d", expected, found, index), 0)
  end

  local value

  local function descend(depth, used, slots, pos)
    depth = depth + 1
    if depth > cfg.decode_max_depth or used + slots > MAXCSTACK then
      error(format("Found too many nested data structures (%d) at character %d", depth, pos - 1), 0)
    end
    return depth
  end

  local function object(pos, depth, used)
    depth = descend(depth, used, 3, pos)
    local t = {}
    local kind, v, index, nextpos = next_token(pos)
    if kind == "}" then return t, nextpos end
    while true do
      if kind ~= "value" or type(v) ~= "string" then parse_error("object key string", kind, v, index) end
      local key = v
      kind, v, index, nextpos = next_token(nextpos)
      if kind ~= ":" then parse_error("colon", kind, v, index) end
      kind, v, index, nextpos = next_token(nextpos)
      v, nextpos = value(kind, v, index, nextpos, depth, used + 2)
      rawset(t, key, v)
      kind, v, index, nextpos = next_token(nextpos)
      if kind == "}" then return t, nextpos end
      if kind ~= "," then parse_error("comma or object end", kind, v, index) end
      kind, v, index, nextpos = next_token(nextpos)
    end
  end

  local function array(pos, depth, used)
    depth = descend(depth, used, 2, pos)
    local t = {}
    local kind, v, index, nextpos = next_token(pos)
    if kind == "]" then return t, nextpos end
    local i = 1
    while true do
      v, nextpos = value(kind, v, index, nextpos, depth, used + 1)
      rawset(t, i, v)
      i = i + 1
      kind, v, index, nextpos = next_token(nextpos)
      if kind == "]" then return t, nextpos end
      if kind ~= "," then parse_error("comma or array end", kind, v, index) end
      kind, v, index, nextpos = next_token(nextpos)
    end
  end

  value = function(kind, v, index, nextpos, depth, used)
    if kind == "value" then return v, nextpos end
    if kind == "{" then return object(nextpos, depth, used) end
    if kind == "[" then return array(nextpos, depth, used) end
    parse_error("value", kind, v, index)
  end

  local function decode(...)
    local n = select("#", ...)
    if n ~= 1 then argerror(1, "decode", "expected 1 argument") end
    local s = checkstring("decode", 1, n, (...))
    if #s >= 2 and (byte(s, 1) == 0 or byte(s, 2) == 0) then
      error("JSON parser does not support UTF-16 or UTF-32", 0)
    end
    local nul = find(s, "\0", 1, true)
    if nul then s = sub(s, 1, nul - 1) end
    text = s
    local kind, v, index, nextpos = next_token(1)
    local result
    result, nextpos = value(kind, v, index, nextpos, 0, 1)
    kind, v, index = next_token(nextpos)
    if kind ~= "end" then parse_error("the end", kind, v, index) end
    text = nil
    return result
  end

  ---------------------------------------------------------------- configuration
  local function config_args(name, max, ...)
    local n = select("#", ...)
    if n > max then argerror(max + 1, name, "found too many arguments") end
    return n
  end

  local function integer_option(name, index, v, key, min, max)
    if v ~= nil then
      local x = checkint(name, index, v)
      if x < min or x > max then
        argerror(1, name, format("expected integer between %d and %d", min, max))
      end
      cfg[key] = x
    end
    return cfg[key]
  end

  local function checkoption(name, v, options)
    local s = checkstring(name, 1, 1, v)
    for i, o in ipairs(options) do
      if o == s then return i - 1 end
    end
    argerror(1, name, format("invalid option '%s'", s))
  end

  local function bool_option(name, v, key)
    if v ~= nil then
      if type(v) == "boolean" then cfg[key] = v
      else cfg[key] = checkoption(name, v, {"off", "on"}) == 1 end
    end
    return cfg[key]
  end

  local module = {}
  module.encode = make(encode)
  module.decode = make(decode)
  module.encode_sparse_array = make(function(...)
    config_args("encode_sparse_array", 3, ...)
    local convert, ratio, safe = ...
    return bool_option("encode_sparse_array", convert, "sparse_convert"),
           integer_option("encode_sparse_array", 2, ratio, "sparse_ratio", 0, INT_MAX),
           integer_option("encode_sparse_array", 3, safe, "sparse_safe", 0, INT_MAX)
  end)
  module.encode_max_depth = make(function(...)
    config_args("encode_max_depth", 1, ...)
    return integer_option("encode_max_depth", 1, (...), "encode_max_depth", 1, INT_MAX)
  end)
  module.decode_max_depth = make(function(...)
    config_args("decode_max_depth", 1, ...)
    return integer_option("decode_max_depth", 1, (...), "decode_max_depth", 1, INT_MAX)
  end)
  module.encode_number_precision = make(function(...)
    config_args("encode_number_precision", 1, ...)
    local p = integer_option("encode_number_precision", 1, (...), "precision", 1, 14)
    cfg.fmt = "%." .. p .. "g"
    return p
  end)
  module.encode_keep_buffer = make(function(...)
    config_args("encode_keep_buffer", 1, ...)
    return bool_option("encode_keep_buffer", (...), "keep_buffer")
  end)
  module.encode_invalid_numbers = make(function(...)
    config_args("encode_invalid_numbers", 1, ...)
    local v = ...
    if v ~= nil then
      if type(v) == "boolean" then cfg.encode_invalid_numbers = v and 1 or 0
      else cfg.encode_invalid_numbers = checkoption("encode_invalid_numbers", v, {"off", "on", "null"}) end
    end
    local mode = cfg.encode_invalid_numbers
    if mode == 2 then return "null" end
    return mode == 1
  end)
  module.decode_invalid_numbers = make(function(...)
    config_args("decode_invalid_numbers", 1, ...)
    return bool_option("decode_invalid_numbers", (...), "decode_invalid_numbers")
  end)
  module.new = make(function() return new() end)
  module.null = null
  module._NAME = "cjson"
  module._VERSION = "2.1.0"
  return module
end

return new()
"""


def install(lua, make) -> None:
    lua.globals()[b"cjson"] = lua.execute(LUA, make)

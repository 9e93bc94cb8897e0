"""Values crossing between Lua and Redis, converted as Redis 7.0 converts them.

`lua_to_reply(value, state, proto)`: what a script returns, as the reply to a client speaking
`proto`. Numbers are truncated to integers (out of range, inf and NaN become the C cast's
-9223372036854775808), `false` is null under RESP2 scripts (`redis.setresp(2)`, the default)
and a boolean under RESP3 ones, tables are arrays cut at the first nil unless they are one of
{err=}, {ok=}, {double=}, {big_number=}, {map=}, {set=}, {verbatim_string={format=, string=}}.

`reply_to_lua(reply, state)`: a command's reply as the script sees it, by the script's RESP
version: RESP2 gives strings, numbers, false for nulls, {ok=} for status replies, {err=} for
errors inside arrays and flat arrays for maps and sets; RESP3 adds nil, booleans, {double=},
{map=}, {set=}, {big_number=} and {verbatim_string=}.

`format_number(n)`: a Lua number passed as a command argument (%.17g, as Redis prints it).
"""

from __future__ import annotations

import math

import hiredis
import lupa.lua51 as lupa

from yizhan.resp import NULL_ARRAY, ErrorReply, Raw, Simple, Verbatim, encode
from yizhan.resp.encoder import encode_into
from yizhan.resp.encoder import format_double

_MIN = -(1 << 63)
_MAX = 1 << 63
_lua_type = lupa.lua_type

# kind codes of sandbox.lua's shape()
_ARRAY, _ERR, _OK, _DOUBLE, _BIG, _MAP, _SET, _VERBATIM = range(8)


# Nested tables deeper than this are encoded by `_encode_deep` (no Python recursion), and a table
# nested deeper than Redis's Lua stack allows (LUAI_MAXCSTACK, 8000 slots: 7995 levels when the
# script returns it) becomes the error Redis puts in its place.
_DEEP = 100
LUA_STACK_LEVELS = 7995
STACK_LIMIT_ERROR = b"-ERR reached lua stack limit\r\n"


# -- Lua -> reply --------------------------------------------------------------------------------
def lua_to_reply(value, state, proto: int, depth: int = 1):
    kind = type(value)
    if kind is bytes:
        return value
    if kind is int:
        return value if _MIN <= value < _MAX else _MIN
    if value is None:
        return None
    if kind is float:
        return truncate(value)
    if kind is bool:
        if state.resp == 2:
            return 1 if value else None
        return value
    if _lua_type(value) == "table":
        if depth > _DEEP:
            return Raw(_encode_deep(value, state, proto, depth))
        return _table_to_reply(state.shape(value), state, proto, depth)
    return None


def truncate(value: float) -> int:
    """(long long)value as x86-64 computes it."""
    if value != value or not -9.223372036854775808e18 <= value < 9.223372036854775808e18:
        return _MIN
    return int(value)


def _table_to_reply(shaped, state, proto: int, depth: int = 1):
    if type(shaped) is not tuple:  # an empty array: the kind code alone
        return []
    kind = shaped[0]
    depth += 1
    if kind == _ARRAY:
        return [lua_to_reply(item, state, proto, depth) for item in shaped[1:]]
    if kind == _ERR:
        return ErrorReply(_c_string(shaped[1]).decode("utf-8", "surrogateescape"))
    if kind == _OK:
        return Raw(b"+%b\r\n" % _one_line(_c_string(shaped[1])))
    if kind == _DOUBLE:
        return float(shaped[1])
    if kind == _BIG:
        text = shaped[1]
        return Raw(b"(%b\r\n" % _one_line(text)) if proto == 3 else text
    if kind == _MAP:
        items = shaped[1:]
        head = b"%%%d\r\n" % (len(items) // 2) if proto == 3 else b"*%d\r\n" % len(items)
        return Raw(head + b"".join(encode(lua_to_reply(item, state, proto, depth), proto) for item in items))
    if kind == _SET:
        items = shaped[1:]
        head = (b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(items)
        return Raw(head + b"".join(encode(lua_to_reply(item, state, proto, depth), proto) for item in items))
    if kind == _VERBATIM:
        fmt, text = shaped[1], shaped[2]
        if type(fmt) is not bytes or type(text) is not bytes:
            return None
        if proto == 3:
            return Raw(b"=%d\r\n%b:%b\r\n" % (len(text) + 4, fmt[:3], text))
        return text
    return None


def _encode_deep(table, state, proto: int, depth: int) -> bytes:
    """A table nested `depth` levels deep, encoded with an explicit stack."""
    out: list[bytes] = []
    stack = [iter((table,))]
    base = depth - 1  # the level of a table found in stack[-1] is base + len(stack)
    while stack:
        for value in stack[-1]:
            if _lua_type(value) != "table":
                encode_into(lua_to_reply(value, state, proto), proto, out)
                continue
            level = base + len(stack)
            if level > LUA_STACK_LEVELS:
                out.append(STACK_LIMIT_ERROR)
                continue
            shaped = state.shape(value)
            kind = shaped[0] if type(shaped) is tuple else _ARRAY
            items = shaped[1:] if type(shaped) is tuple else ()
            if kind == _ARRAY:
                out.append(b"*%d\r\n" % len(items))
            elif kind == _MAP:
                out.append(b"%%%d\r\n" % (len(items) // 2) if proto == 3 else b"*%d\r\n" % len(items))
            elif kind == _SET:
                out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(items))
            else:
                encode_into(_table_to_reply(shaped, state, proto, level), proto, out)
                continue
            stack.append(iter(items))
            break
        else:
            stack.pop()
    return b"".join(out)


def _c_string(raw) -> bytes:
    """A Lua string as C code sees it through lua_tostring + sdsnew: up to its first NUL."""
    if type(raw) is not bytes:
        raw = format_lua_number(raw) if type(raw) in (int, float) else b""
    return raw.split(b"\0", 1)[0]


def _one_line(raw: bytes) -> bytes:
    return raw.replace(b"\r", b" ").replace(b"\n", b" ")


# -- reply -> Lua --------------------------------------------------------------------------------
def reply_to_lua(reply, state):
    kind = type(reply)
    if kind is bytes or kind is int:
        return reply
    if reply is None or reply is NULL_ARRAY:
        return None if state.resp == 3 else False
    if state.resp == 3:
        return _resp3(reply, kind, state)
    return _resp2(reply, kind, state)


def _resp2(reply, kind, state):
    if kind is list or kind is tuple or isinstance(reply, (list, set, frozenset)):
        return state.table([_item(reply_to_lua(item, state)) for item in reply])
    if kind is dict:
        flat = []
        for key, value in reply.items():
            flat.append(reply_to_lua(key, state))
            flat.append(_item(reply_to_lua(value, state)))
        return state.table(flat)
    return _scalar(reply, kind, state, 2)


def _resp3(reply, kind, state):
    if kind is dict:
        return state.table({b"map": state.table({_key(reply_to_lua(k, state)): reply_to_lua(v, state)
                                                 for k, v in reply.items()})})
    if kind is set or kind is frozenset or kind.__name__ == "ReplySet":
        return state.table({b"set": state.table({_key(reply_to_lua(m, state)): True for m in reply})})
    if kind is list or kind is tuple or isinstance(reply, list):
        return state.table([reply_to_lua(item, state) for item in reply])
    if kind is bool:
        return reply
    if kind is float:
        return state.table({b"double": reply})
    if kind is Verbatim:
        return state.table({b"verbatim_string": state.table({b"format": b"txt", b"string": reply.encode()})})
    return _scalar(reply, kind, state, 3)


def _scalar(reply, kind, state, resp: int):
    if kind is Simple:
        return state.table({b"ok": reply.encode("utf-8", "surrogateescape")})
    if kind is bool:
        return int(reply)
    if kind is float:
        return format_double(reply)
    if kind is str or kind is Verbatim:
        return reply.encode("utf-8", "surrogateescape")
    if kind is bytearray or kind is memoryview:
        return bytes(reply)
    if isinstance(reply, ErrorReply):
        return state.reply_error_table(reply.message)
    if kind is Raw:
        return _from_resp(bytes(reply), state, resp)
    if isinstance(reply, bytes):
        return bytes(reply)
    if isinstance(reply, int):
        return int(reply)
    return False if resp == 2 else None


def _from_resp(data: bytes, state, resp: int):
    """An already-encoded reply (Raw) as a value; hiredis parses it."""
    reader = hiredis.Reader(notEnoughData=False)
    reader.feed(data)
    return reply_to_lua(_from_hiredis(reader.gets()), state)


def _from_hiredis(value):
    if isinstance(value, hiredis.ReplyError):
        return ErrorReply(str(value))
    if isinstance(value, list):
        return [_from_hiredis(v) for v in value]
    return value


def _item(value):
    """An array element: nil would end the array, so a RESP2 null is false."""
    return False if value is None else value


def _key(value):
    return value if value is not None else False


# -- Lua numbers as text ---------------------------------------------------------------------------
def format_number(value) -> bytes:
    """A number argument of redis.call as Redis writes it: printf("%.17g")."""
    if type(value) is int and -(1 << 53) <= value <= (1 << 53):
        return b"%d" % value
    value = float(value)
    if value != value:
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.17g" % value


def format_lua_number(value) -> bytes:
    """A number as Lua's tostring writes it (LUA_NUMBER_FMT "%.14g")."""
    value = float(value)
    if value != value:
        return b"-nan" if math.copysign(1.0, value) < 0 else b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.14g" % value


def lua_tonumber(value) -> float:
    """lua_tonumber: a number, a string that reads as one, else 0."""
    if type(value) in (int, float):
        return value
    if type(value) is bytes:
        try:
            return float(int(value, 0)) if value.strip().lower().startswith((b"0x", b"-0x")) else float(value)
        except ValueError:
            return 0
    return 0

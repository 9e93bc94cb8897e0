"""The libraries Redis gives Lua scripts beside the standard ones: cjson, cmsgpack, bit, struct.

`install(lua)` puts them as globals into a `lupa.lua51.LuaRuntime` made with `encoding=None`
(Lua strings are bytes, as Redis's are binary). Each library lives in its own module
(lua_cjson, lua_cmsgpack, lua_bit, lua_struct, named after Redis's C files), written in Lua with
Python for the bit-level arithmetic Lua 5.1 lacks; _cfunction makes their functions behave like
C functions towards the calling script (error positions, Redis's error handler). The outputs and
error messages are those of redis-server 7.0 (tests/differential/test_scripting_libs.py).
"""

from __future__ import annotations

from yizhan.redis.scripting.libs import lua_bit, lua_cjson, lua_cmsgpack, lua_struct
from yizhan.redis.scripting.libs._cfunction import c_function_maker


def install(lua) -> None:
    """Set the globals cjson, struct, cmsgpack and bit (in Redis's loading order) in `lua`.

    Call it before the sandbox removes `newproxy` (cjson.null and the functions are proxies)."""
    if not isinstance(lua.eval('"x"'), bytes):
        raise ValueError("the Lua runtime must be made with encoding=None (Lua strings as bytes)")
    make = c_function_maker(lua)
    lua_cjson.install(lua, make)
    lua_struct.install(lua, make)
    lua_cmsgpack.install(lua, make)
    lua_bit.install(lua, make)

"""The Lua libraries (cjson, cmsgpack, bit, struct) in a bare lupa.lua51 state: arbitrary bytes
into the decoders only ever raise Lua errors (strings), never a Python exception, and never
hang; errors carry the caller's position as a C function's do; install() refuses a runtime that
would hand Lua strings to Python as str. (Outputs are compared with redis-server in
tests/differential/test_scripting_libs.py.)"""

from __future__ import annotations

import lupa.lua51 as lupa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.redis.scripting.libs import install

PROBE = r"""
local f = ...
return function(...)
  local r = {pcall(f, ...)}
  return r[1], type(r[2]), r[2]
end
"""


@pytest.fixture(scope="module")
def lua():
    runtime = lupa.LuaRuntime(encoding=None)
    install(runtime)
    return runtime


def protected(lua, expression: str):
    """A Python callable running `expression` (a library function) under pcall:
    (ok, type name of the first result, first result)."""
    return lua.execute(PROBE, lua.eval(expression))


def assert_lua_outcome(outcome):
    ok, kind, value = outcome
    assert ok in (True, False)
    if not ok:
        assert kind == b"string", value
        assert isinstance(value, bytes)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_cjson_decode_of_any_bytes_is_a_value_or_a_lua_error(lua, data):
    assert_lua_outcome(protected(lua, "cjson.decode")(data))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='[]{}",:0123456789.eE+-tfnulrsaxINfiy \\/u\t', max_size=48))
def test_cjson_decode_of_json_like_text_is_a_value_or_a_lua_error(lua, text):
    assert_lua_outcome(protected(lua, "cjson.decode")(text.encode()))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_cmsgpack_unpack_of_any_bytes_is_values_or_a_lua_error(lua, data):
    for name in ("cmsgpack.unpack", "cmsgpack.unpack_one"):
        assert_lua_outcome(protected(lua, name)(data))
    assert_lua_outcome(protected(lua, "cmsgpack.unpack_limit")(data, 2, 1))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=12), st.binary(max_size=48), st.integers(-3, 60))
def test_struct_unpack_of_any_bytes_is_values_or_a_lua_error(lua, fmt, data, position):
    assert_lua_outcome(protected(lua, "struct.unpack")(fmt, data, position))
    assert_lua_outcome(protected(lua, "struct.size")(fmt))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12), st.lists(st.one_of(st.integers(-2**70, 2**70), st.floats(), st.binary(max_size=8)),
                                        max_size=4))
def test_struct_pack_of_any_format_is_a_string_or_a_lua_error(lua, fmt, args):
    assert_lua_outcome(protected(lua, "struct.pack")(fmt, *[float(a) if isinstance(a, int) else a for a in args]))


def test_a_decoder_error_carries_the_callers_position(lua):
    script = lua.execute("return function() local x = 1\nreturn cjson.decode('[') end")
    ok, _, message = lua.execute(PROBE, script)()
    assert not ok
    assert message == b"[string \"<python>\"]:2: Expected value but found T_END at character 2"


def test_a_library_function_survives_its_errors(lua):
    decode = protected(lua, "cjson.decode")
    for _ in range(3):
        assert decode(b"{")[0] is False
        assert decode(b"[1]")[0] is True


def test_install_wants_strings_as_bytes():
    with pytest.raises(ValueError):
        install(lupa.LuaRuntime())

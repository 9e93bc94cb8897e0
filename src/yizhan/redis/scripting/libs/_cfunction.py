"""Library functions that behave like Redis's C functions towards the script that calls them.

Redis's cjson, cmsgpack, bit and struct are C functions. Two things a script can see follow from
that, and a plain Lua function would get both wrong:
  - an error they raise (luaL_error) is prefixed with the position of the *caller*
    ("user_script:1: ..."), or with nothing when the caller is C (pcall(cjson.decode, s)),
    even when the script tail-calls them (`return cjson.decode(s)`);
  - Redis's error handler (debug.getinfo(2), skipped when it is C) sees a C frame and reports the
    script's line, not a line of the library.

Here every library function is a callable userdata whose __call is the C function that
`coroutine.wrap` returns (Lua 5.1's auxwrap): it resumes a coroutine that runs the Lua
implementation, and when that raises a string, auxwrap prefixes the caller's position
(luaL_where(L, 1), as luaL_error does) and re-raises it from C. (Calling through __call adds no
frame: the caller sees auxwrap as the function it called.) The coroutine runs a loop of tail
calls (yield the results, take the next arguments; no table per call), so a call costs one
resume and one yield, about 1 us. A coroutine that raised is dead; before raising, the loop puts a fresh one in __call (Lua cannot reach a C
closure's upvalues, a metatable it can) and keeps the dying one referenced until the next
failure, so the collector never frees a running thread.

What differs from Redis: type() of a library function is "userdata" in a bare state (the
sandbox's type() says "function", as for the redis.* functions); a bad argument names the function as the library does ("bad argument #1 to 'decode'") even when the
script called it under another name or through pcall (Redis then says '?').
"""

from __future__ import annotations

MAKER = r"""
local co_create, co_running, co_yield, co_wrap = coroutine.create, coroutine.running, coroutine.yield, coroutine.wrap
local newproxy, getmetatable, pcall, error, select = newproxy, getmetatable, pcall, error, select

return function(impl)
  local callable = newproxy(true)
  local meta = getmetatable(callable)
  local dying = {}
  local body

  -- The results of one call, or its error raised out of the coroutine (after re-arming).
  local function finish(ok, ...)
    if ok then return ... end
    dying[1] = co_running()
    meta.__call = co_wrap(body)
    error((...), 0)
  end

  -- One call per turn: run, yield the results, take the next arguments (after the callable
  -- itself, which __call passes first). Tail calls: the loop does not grow the stack.
  local function loop(...)
    return loop(select(2, co_yield(finish(pcall(impl, ...)))))
  end

  body = function(_, ...) return loop(...) end
  meta.__call = co_wrap(body)
  meta.__metatable = false
  return callable
end
"""


def c_function_maker(lua):
    """A Lua function `make(impl)` -> C function running `impl` (see the module docstring)."""
    return lua.execute(MAKER)

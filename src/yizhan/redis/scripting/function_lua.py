"""The Lua engine of functions (Redis's function_lua.c): a Lua state of its own, apart from
EVAL's, in which FUNCTION LOAD runs a library's code and FCALL runs its functions.

Loading runs the code with Redis's load-time sandbox: the globals the code sees are only the
library API, `redis` with register_function, log, the LOG_* levels, REDIS_VERSION and
REDIS_VERSION_NUM (anything else is a "nonexistent global variable" and the globals are read
only), under a count hook that stops the load after 500 ms ("FUNCTION LOAD timeout"). As in
Redis, the functions a library defines share one globals table whose lookups, once the load
is over, go to the state's ordinary (sandboxed) globals, so at FCALL time a function sees the
whole `redis` API and the standard libraries. register_function's argument checks are done in
Lua, in Lua's own table order, so its errors are Redis's, in Redis's order.
"""

from __future__ import annotations

import time

from yizhan.redis.scripting.functions import Libraries, Library

ENGINE_NAME = "LUA"

# Runs once in a fresh state; returns load(library, body, timeout_ms) -> error text or nil.
_ENGINE_SETUP = r"""
local add_function, now_ms, redis_api, function_globals = ...
local error, type, tostring, next, select, pcall, ipairs = error, type, tostring, next, select, pcall, ipairs
local loadstring, setfenv, setmetatable, lower = loadstring, setfenv, setmetatable, string.lower
local sethook, getinfo = debug.sethook, debug.getinfo
local FLAG_BITS = {["no-writes"] = 1, ["allow-oom"] = 2, ["allow-stale"] = 4, ["no-cluster"] = 8,
                   ["allow-cross-slot-keys"] = 16}
local loading = nil          -- the library being loaded (FUNCTION LOAD), else nil

local function fail(message)  -- luaPushError + luaError: an error table, no position
  error({err = "ERR " .. message})
end

local function is_string(v)   -- lua_isstring: a string or a number
  local t = type(v)
  return t == "string" or t == "number"
end

local function read_flags(list)
  local seen, flags, j = {}, 0, 1
  while true do
    local flag = list[j]
    j = j + 1
    if flag == nil then return flags end
    if not is_string(flag) then return nil end
    local bit = FLAG_BITS[lower(tostring(flag))]
    if not bit then return nil end
    if not seen[bit] then seen[bit] = true; flags = flags + bit end
  end
end

local function named_arguments(args)
  if type(args) ~= "table" then
    fail("calling redis.register_function with a single argument is only applicable to Lua table " ..
         "(representing named arguments).")
  end
  local name, description, callback, flags
  for key, value in next, args do
    if not is_string(key) then fail("named argument key given to redis.register_function is not a string") end
    key = lower(tostring(key))
    if key == "function_name" then
      if not is_string(value) then fail("function_name argument given to redis.register_function must be a string") end
      name = tostring(value)
    elseif key == "description" then
      if not is_string(value) then fail("description argument given to redis.register_function must be a string") end
      description = tostring(value)
    elseif key == "callback" then
      if type(value) ~= "function" then fail("callback argument given to redis.register_function must be a function") end
      callback = value
    elseif key == "flags" then
      if type(value) ~= "table" then
        fail("flags argument to redis.register_function must be a table representing function flags")
      end
      flags = read_flags(value)
      if not flags then fail("unknown flag given") end
    else
      fail("unknown argument given to redis.register_function")
    end
  end
  if not name then fail("redis.register_function must get a function name argument") end
  if not callback then fail("redis.register_function must get a callback argument") end
  return name, callback, description, flags or 0
end

local function register_function(...)
  if not loading then fail("redis.register_function can only be called on FUNCTION LOAD command") end
  local argc = select("#", ...)
  if argc < 1 or argc > 2 then fail("wrong number of arguments to redis.register_function") end
  local name, callback, description, flags
  if argc == 1 then
    name, callback, description, flags = named_arguments(...)
  else
    name, callback = ...
    if not is_string(name) then fail("first argument to redis.register_function must be a string") end
    if type(callback) ~= "function" then fail("second argument to redis.register_function must be a function") end
    name, flags = tostring(name), 0
  end
  local err = add_function(loading, name, callback, description, flags)
  if err then fail(err) end
end
-- What a library's code sees while it loads: `redis` with register_function, log, the LOG_*
-- levels and the version (luaEngineInitEngine), nothing else; both tables read only and
-- raising Redis's error for a missing name (luaSetErrorMetatable).
local protected = {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function() error("Attempt to modify a readonly table", 2) end,
}
local library_redis = {register_function = register_function}
for _, name in ipairs({"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION",
                       "REDIS_VERSION_NUM"}) do
  library_redis[name] = redis_api[name]
end
local library_api = {redis = setmetatable({}, {__index = function(_, name)
  local value = library_redis[name]
  if value == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end
  return value
end, __newindex = protected.__newindex})}
setmetatable(library_api, protected)
local globals_meta = {__index = function_globals,
                      __newindex = function() error("Attempt to modify a readonly table", 2) end}
local globals = setmetatable({}, globals_meta)

local deadline
local function timeout_hook()
  local running = getinfo(2, "S")
  if running and running.source == "@user_function" and now_ms() > deadline then
    sethook(timeout_hook, "l")      -- keep failing on every line, as luaEngineLoadHook does
    fail("FUNCTION LOAD timeout")
  end
end

return function(library, body, timeout_ms)
  local chunk, err = loadstring(body, "@user_function")
  if not chunk then return "Error compiling function: " .. tostring(err) end
  setfenv(chunk, globals)
  globals_meta.__index = library_api
  loading = library
  if timeout_ms > 0 then
    deadline = now_ms() + timeout_ms
    sethook(timeout_hook, "", 100000)
  end
  local ok, result = pcall(chunk)
  sethook()
  loading = nil
  globals_meta.__index = function_globals
  if ok then return nil end
  local message
  if is_string(result) then
    message = "ERR " .. tostring(result)
  elseif type(result) == "table" and is_string(result.err) then
    message = tostring(result.err)
  else
    message = "(null)"
  end
  return "Error registering functions: " .. message
end
"""


class LuaEngine:
    """The "LUA" engine: compiles libraries and runs their functions in its own state."""

    name = ENGINE_NAME

    def __init__(self, srv):
        self.srv = srv
        self.lua, redis_api, function_globals = new_state(srv)
        setup = self.lua.compile(_ENGINE_SETUP)
        self._load = setup(self._add_function, _now_ms, redis_api, function_globals)

    @staticmethod
    def _add_function(library: Library, name: bytes, callback, description, flags: int):
        from yizhan.redis.scripting.functions import FunctionError
        try:
            library.add_function(name, callback, description, int(flags))
        except FunctionError as exc:
            return exc.message.encode()
        return None

    def call(self, c, function, keys: list[bytes], args: list[bytes], ro: bool):
        """Run a function (FCALL). Needs the scripting runtime, which is not in yet."""
        from yizhan.resp import ErrorReply
        raise ErrorReply("ERR FCALL needs the Lua scripting runtime, which this build does not have yet")

    def create(self, library: Library, body: bytes, timeout_ms: int) -> None:
        from yizhan.redis.scripting.functions import FunctionError
        error = self._load(library, body, timeout_ms)
        if error is not None:
            raise FunctionError("ERR " + error.decode("utf-8", "surrogateescape"))


def new_state(srv):
    """A Lua state for functions: (runtime, the library API's `redis` table, the globals
    functions see when they run). TEMPORARY until the scripting runtime lands."""
    import lupa.lua51 as lupa
    lua = lupa.LuaRuntime(encoding=None)
    redis_api = lua.eval("{LOG_DEBUG=0, LOG_VERBOSE=1, LOG_NOTICE=2, LOG_WARNING=3, "
                         "REDIS_VERSION='7.0.15', REDIS_VERSION_NUM=0x0007000f, log=function() end}")
    return lua, redis_api, lua.globals()


def _now_ms() -> float:
    return time.monotonic() * 1000.0


def registry(srv) -> Libraries:
    """The instance's function libraries (created with its engines on first use)."""
    libraries = getattr(srv, "_functions", None)
    if libraries is None:
        libraries = srv._functions = Libraries({ENGINE_NAME.lower(): LuaEngine(srv)})
    return libraries


def obeys(c) -> bool:
    """mustObeyClient: the client replaying the AOF (no load timeout for it)."""
    return c.addr.startswith("aof:")


def stats(c) -> dict:
    """FUNCTION STATS: the running function (nil when none) and each engine's counts."""
    libraries = registry(c.server)
    engines = {}
    for engine in libraries.engines.values():
        count_libraries, count_functions = libraries.engine_counts(engine)
        engines[engine.name.encode()] = {b"libraries_count": count_libraries,
                                         b"functions_count": count_functions}
    return {b"running_script": None, b"engines": engines}


def kill(c):
    """FUNCTION KILL (scripting/busy.py: BUSY when an EVAL script runs, NOTBUSY when nothing does)."""
    from yizhan.redis.scripting import busy
    return busy.kill(c.server, "function")

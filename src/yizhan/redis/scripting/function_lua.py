"""The Lua engine of functions (Redis's function_lua.c): a Lua state of its own, apart from
EVAL's (a `LuaState` with the same sandbox and `redis` API), in which FUNCTION LOAD runs a
library's code and FCALL / FCALL_RO run its functions.

Loading runs the code with Redis's load-time sandbox: the globals the code sees are only the
library API, `redis` with register_function, log, the LOG_* levels, REDIS_VERSION and
REDIS_VERSION_NUM (any other name is a "nonexistent global variable", and nothing can be
assigned), under the count hook, which stops a load from a client after 500 ms ("FUNCTION LOAD
timeout"). The functions share the state's one globals table: while a library loads, its
content is swapped for the library API and put back after, so at FCALL time a function sees
the whole `redis` API and the standard libraries, as in Redis. register_function's argument
checks are done in Lua, in Lua's own table order, so its errors are Redis's, in Redis's order.
A function is called with its keys and arguments as parameters (no KEYS / ARGV globals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yizhan.redis import errors
from yizhan.redis.scripting import busy
from yizhan.redis.scripting.eval import lua_memory
from yizhan.redis.scripting.functions import ALLOW_OOM, NO_WRITES, FunctionError, Libraries, Library
from yizhan.redis.scripting.lua_state import LuaState, ScriptRun
from yizhan.resp import ErrorReply

ENGINE_NAME = "LUA"

# Runs once in the functions' state, after the sandbox; returns the functions the engine drives.
_ENGINE_SETUP = r"""
local add_function, sandbox = ...
local globals, protect, redis_api = sandbox.globals, sandbox.protect, sandbox.redis
local error, type, tostring, next, select, ipairs = error, type, tostring, next, select, ipairs
local lower = string.lower
local FLAG_BITS = {["no-writes"] = 1, ["allow-oom"] = 2, ["allow-stale"] = 4, ["no-cluster"] = 8,
                   ["allow-cross-slot-keys"] = 16}
local loading = nil          -- the library being loaded (FUNCTION LOAD), else nil

local function fail(message)  -- luaPushError + luaError: an error table
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

-- A function runs with its keys and arguments as parameters, not as KEYS / ARGV globals.
local function bind(callback)
  return function()
    local keys, args = globals.KEYS, globals.ARGV
    globals.KEYS, globals.ARGV = nil, nil
    return callback(keys, args)
  end
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
  local err = add_function(loading, name, bind(callback), description, flags)
  if err then fail(err) end
end

-- The library API (luaEngineInitEngine's load-time globals), read only, missing names an error.
local library_redis = {register_function = register_function}
for _, name in ipairs({"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION",
                       "REDIS_VERSION_NUM"}) do
  library_redis[name] = redis_api[name]
end
local library_redis_view = protect(library_redis, function(_, name)
  local value = library_redis[name]
  if value == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end
  return value
end)

local function begin_load(library, chunk)
  local saved = {}
  for k, v in next, globals do saved[k] = v end
  for k in next, saved do globals[k] = nil end
  globals.redis = library_redis_view
  loading = library
  return saved, function()
    globals.KEYS, globals.ARGV = nil, nil
    return chunk()
  end
end

local function end_load(saved)
  loading = nil
  local current = {}
  for k in next, globals do current[k] = true end
  for k in next, current do globals[k] = nil end
  for k, v in next, saved do globals[k] = v end
end

return {begin_load = begin_load, end_load = end_load}
"""


@dataclass
class FunctionRun(ScriptRun):
    """A running function: FUNCTION STATS shows the command that called it."""
    argv: list = field(default_factory=list)


class FunctionState(LuaState):
    """The functions' Lua state: a LuaState whose count hook also ends a FUNCTION LOAD that
    runs past its time limit (luaEngineLoadHook)."""

    def __init__(self, server):
        super().__init__(server, "@user_function")
        self.load_deadline: float | None = None

    def _hook(self):
        deadline = self.load_deadline
        if deadline is not None:
            if self.server.clock.monotonic() <= deadline:
                return None
            self.load_deadline = None  # once: nothing a library runs at load time can catch it
            return self.error_table("FUNCTION LOAD timeout")
        return super()._hook()


class LuaEngine:
    """The "LUA" engine: compiles libraries and runs their functions in its own state."""

    name = ENGINE_NAME

    def __init__(self, srv):
        self.srv = srv
        self.state = FunctionState(srv)
        setup = self.state.runtime.execute(_ENGINE_SETUP, self._add_function, self.state.sandbox)
        self._begin_load, self._end_load = setup[b"begin_load"], setup[b"end_load"]

    @staticmethod
    def _add_function(library: Library, name: bytes, callback, description, flags):
        try:
            library.add_function(name, callback, description, int(flags))
        except FunctionError as exc:
            return exc.message.encode()
        return None

    def create(self, library: Library, body: bytes, timeout_ms: int) -> None:
        """luaEngineCreate: compile the code and run it to register its functions."""
        state = self.state
        chunk, err = state._compile(body, b"@user_function")
        if chunk is None:
            raise FunctionError("ERR Error compiling function: " + errors.text(err))
        saved, loader = self._begin_load(library, chunk)
        state.load_deadline = self.srv.clock.monotonic() + timeout_ms / 1000 if timeout_ms > 0 else None
        try:
            ok, result = state._run(loader, 0)
        finally:
            state.load_deadline = None
            self._end_load(saved)
        if not ok:
            raise FunctionError("ERR Error registering functions: " + _load_error(result))

    def call(self, c, function, argv: list[bytes], numkeys: int, ro: bool):
        """scriptPrepareForRun's checks for a function's flags (no cluster, no replication:
        FCALL_RO's and maxmemory's, a writing function without allow-oom refused while over it),
        then run it with the caller's keys and
        arguments."""
        writes = not function.flags & NO_WRITES
        if writes and ro:
            raise ErrorReply(errors.FUNCTION_WRITE_FLAG_RO)
        allow_oom = bool(function.flags & ALLOW_OOM)
        if writes and not allow_oom and c.server.evictor.oom:
            raise ErrorReply(errors.OOM)  # what processCommand answers (a deny-oom script)
        run = FunctionRun(c, errors.text(function.name), read_only=ro or not writes, kind="function",
                          argv=list(argv), allow_oom=allow_oom)
        keys, args = argv[3:3 + numkeys], argv[3 + numkeys:]
        reply = self.state.call_script(c, function.callback, keys, args, run)
        if type(reply) is ErrorReply and not run.error_already_counted(reply.message):
            c.server.observer.error(reply.message)
        return reply

    def memory(self) -> int:
        """luaMemory: the bytes the state's allocator holds."""
        return lua_memory(self.state.runtime)


def _load_error(result) -> str:
    """luaExtractErrorInformation's message: an error table's `err`, or "ERR <text>"."""
    import lupa.lua51 as lupa  # noqa: PLC0415
    if lupa.lua_type(result) == "table":
        message = result[b"err"]
        return errors.text(message) if type(message) is bytes else "(null)"
    return "ERR " + errors.text(result if type(result) is bytes else str(result).encode())


def registry(srv) -> Libraries:
    """The instance's function libraries (created with its engines on first use)."""
    libraries = getattr(srv, "_functions", None)
    if libraries is None:
        libraries = srv._functions = Libraries({ENGINE_NAME.lower(): LuaEngine(srv)})
    return libraries


def vm_memory(srv) -> int:
    """used_memory_vm_functions: the bytes the functions' Lua state holds."""
    return sum(engine.memory() for engine in registry(srv).engines.values())


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
    run = busy.running(c.server)
    if run is not None and run.kind != "function":
        raise busy.busy_reply(run)  # an EVAL script is running: Redis answers BUSY
    running = None
    if run is not None:
        running = {b"name": run.name.encode(), b"command": run.argv,
                   b"duration_ms": int((c.server.clock.monotonic() - run.started) * 1000)}
    return {b"running_script": running, b"engines": engines}


def kill(c):
    """FUNCTION KILL: stop the running function if it has not written."""
    return busy.kill(c.server, "function")

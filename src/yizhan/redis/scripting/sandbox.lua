-- The sandbox a Redis 7.0 script runs in, set up once per Lua state (see lua_state.py).
-- Called with the Python side of the `redis` API; returns the functions the Python side drives.
-- Every table a script can reach by name is read-only ("Attempt to modify a readonly table"),
-- a missing global is an error, and the libraries Redis removes (os, io, debug, require,
-- loadfile, dofile, print, ...) are absent.
local api = ...

local real_G = _G
local rawget, rawset, type, tostring, error, select = rawget, rawset, type, tostring, error, select
local real_setmetatable, real_getmetatable = setmetatable, getmetatable
local real_loadstring, real_load, setfenv = loadstring, load, setfenv
local real_pcall, xpcall, unpack, next = pcall, xpcall, unpack, next
local dbg = debug

local ipairs, pairs = ipairs, pairs
local READONLY = "Attempt to modify a readonly table"
local readonly = real_setmetatable({}, {__mode = "k"})   -- proxy -> its backing table

-- A read-only view of `backing`: reads pass through, writes raise; next, pairs and rawget see
-- the backing table's contents, as they see a read-only table's in Redis.
local function protect(backing, on_missing)
  local proxy = {}
  real_setmetatable(proxy, {
    __index = on_missing or backing,
    __newindex = function() error(READONLY, 2) end,
    __metatable = {},
  })
  readonly[proxy] = backing
  return proxy
end

local globals = {}          -- what scripts see through the read-only _G
local env = protect(globals, function(_, name)
  local value = globals[name]
  if value == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end
  return value
end)

local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

for _, name in ipairs({"assert", "collectgarbage", "error", "gcinfo", "getmetatable", "ipairs",
                       "next", "pairs", "rawequal", "rawget", "select", "tonumber", "tostring",
                       "type", "unpack", "xpcall", "_VERSION"}) do
  globals[name] = real_G[name]
end
-- The library tables themselves back the read-only views (their keys keep Redis's order);
-- nothing but this file reaches them unprotected.
for _, name in ipairs({"coroutine", "string", "table"}) do
  globals[name] = protect(real_G[name])
end
-- math.random and math.randomseed are Redis's (redisLrand48, one sequence for the server)
local mathlib = real_G.math
mathlib.random, mathlib.randomseed = api.random, api.randomseed
globals.math = protect(mathlib)
globals._G = env

-- Functions implemented outside Lua (redis.call, cjson.encode, ...) are callable userdata to
-- Lua; scripts see them as functions, as Redis's C functions are.
local function_like = real_setmetatable({}, {__mode = "k"})
function_like[api.random], function_like[api.randomseed] = true, true
globals.type = function(value)
  local t = type(value)
  if t == "userdata" and function_like[value] then return "function" end
  return t
end

-- getmetatable: _G's and strings' metatables are seen read-only; the library views have none.
local string_meta_view = protect({__index = globals.string})
local G_meta_view = protect({__index = dbg.getmetatable(env).__index, __newindex = dbg.getmetatable(env).__newindex})
globals.getmetatable = function(value)
  if value == env then return G_meta_view end
  if readonly[value] then return nil end
  if type(value) == "string" then return string_meta_view end
  return real_getmetatable(value)
end

globals.next = function(t, k) return next(readonly[t] or t, k) end
globals.pairs = function(t)
  local backing = readonly[t]
  if backing then return next, backing, nil end
  return pairs(t)
end
globals.rawget = function(t, k) return rawget(readonly[t] or t, k) end

-- Writes to a read-only table fail as they do in Redis's patched Lua, whichever way they come.
globals.rawset = function(t, k, v)
  if readonly[t] then error(READONLY, 0) end
  return rawset(t, k, v)
end
globals.setmetatable = function(t, mt)
  if readonly[t] then error(READONLY, 0) end
  return real_setmetatable(t, mt)
end

-- Redis's Lua reads no binary chunks: one is text to its parser, which stops at the ESC byte.
local function chunk_id(source)
  source = string.match(source, "^[^%z]*")
  local first = string.sub(source, 1, 1)
  if first == "=" then return string.sub(source, 2, 60) end
  if first == "@" then
    source = string.sub(source, 2)
    if #source > 43 then return "..." .. string.sub(source, -40) end
    return source
  end
  local len = math.min(#(string.match(source, "^[^\n\r]*")), 43)
  if len < #source then return '[string "' .. string.sub(source, 1, len) .. '..."]' end
  return '[string "' .. source .. '"]'
end

-- Chunks loaded by a script run in the script's environment.
globals.loadstring = function(s, name)
  if type(s) == "string" and string.byte(s, 1) == 27 then
    return nil, chunk_id(name or s) .. ":1: unexpected symbol near 'char(27)'"
  end
  local f, err = real_loadstring(s, name)
  if f then setfenv(f, env) end
  return f, err
end
globals.load = function(chunk, name)
  local f, err = real_load(chunk, name)
  if f then setfenv(f, env) end
  return f, err
end

-- An error raised by the Python side of the API arrives as a Python exception (userdata);
-- `unwrap` turns it into Redis's error table.
local unwrap = api.unwrap
local function error_value(err)
  if type(err) == "userdata" then return unwrap(err) end
  return err
end

-- Redis's pcall hands back an error table's message, not the table.
local function pack(...) return {n = select("#", ...), ...} end
globals.pcall = function(f, ...)
  local results = pack(real_pcall(f, ...))
  if not results[1] then
    local err = error_value(results[2])
    if type(err) == "table" then
      local message = rawget(err, "err")
      if type(message) == "string" then return false, message end
    end
    return false, err
  end
  return unpack(results, 1, results.n)
end

-- A script's own message handler sees error tables, as in Redis.
globals.xpcall = function(f, handler)
  return xpcall(f, function(err) return handler(error_value(err)) end)
end

-- The message handler Redis runs scripts under: error tables carry where the error happened
-- (the first frame that is the script's, not a C function nor this file's).
local here = dbg.getinfo(1, "S").source
local function err_handler(err)
  local level, info = 2, nil
  repeat
    info = dbg.getinfo(level, "Sl")
    level = level + 1
  until not info or (info.what ~= "C" and info.source ~= here)
  err = error_value(err)
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end
globals.__redis__err__handler = err_handler

-- redis.*: the Python functions themselves (C functions to Lua: a script calling one in a
-- tail position keeps its frame, so errors still show the script's line).
local redis = {}
for _, name in ipairs({"call", "pcall", "sha1hex", "error_reply", "status_reply", "log", "setresp",
                       "set_repl", "replicate_commands", "breakpoint", "debug", "acl_check_cmd"}) do
  redis[name] = api[name]
end
for _, f in pairs(redis) do function_like[f] = true end
for name, value in pairs(api.constants) do redis[name] = value end
globals.redis = protect(redis)

-- The count hook: every 100000 instructions the Python side checks the time (busy scripts)
-- and may stop the script (SCRIPT KILL), which then fails on every following line too.
local py_hook = api.hook
local in_script = false
local hook, killed
hook = function()
  if not in_script then return end
  local err = py_hook()
  if err ~= nil then
    killed = true
    dbg.sethook(hook, "l")
    error(err, 0)
  end
end
dbg.sethook(hook, "", 100000)  -- for good: it does nothing outside scripts

-- Running one script: KEYS and ARGV, then the body under the message handler; every 50 runs a
-- step of garbage collection, as Redis's LUA_GC_CYCLE_PERIOD (no full cycle's latency later).
local collectgarbage = collectgarbage
local runs = 0
local function run(f, nkeys, ...)
  local all = {...}
  local n = select("#", ...)
  local keys, argv
  if nkeys == n then
    keys, argv = all, {}
  elseif nkeys == 0 then
    keys, argv = {}, all
  else
    keys, argv = {}, {}
    for i = 1, nkeys do keys[i] = all[i] end
    for i = nkeys + 1, n do argv[i - nkeys] = all[i] end
  end
  globals.KEYS = keys
  globals.ARGV = argv
  in_script = true; local ok, result = xpcall(f, err_handler); in_script = false
  if killed then
    killed = false
    dbg.sethook(hook, "", 100000)
  end
  runs = runs + 1
  if runs == 50 then
    runs = 0
    collectgarbage("step", 50)
  end
  return ok, result
end

local function compile(body, chunkname)
  local f, err = real_loadstring(body, chunkname)
  if not f then return nil, err end
  setfenv(f, env)
  return f, nil
end

-- The shape of a script's return value for the Python side: kind code and payload.
local function shape(t)
  local v = rawget(t, "err")
  if type(v) == "string" then return 1, v end
  v = rawget(t, "ok")
  if type(v) == "string" then return 2, v end
  v = rawget(t, "double")
  if type(v) == "number" then return 3, v end
  v = rawget(t, "big_number")
  if type(v) == "string" then return 4, v end
  v = rawget(t, "map")
  if type(v) == "table" then
    local flat, n = {}, 0
    for key, value in next, v do
      flat[n + 1] = key; flat[n + 2] = value; n = n + 2
    end
    return 5, unpack(flat, 1, n)
  end
  v = rawget(t, "set")
  if type(v) == "table" then
    local keys, n = {}, 0
    for key in next, v do n = n + 1; keys[n] = key end
    return 6, unpack(keys, 1, n)
  end
  v = rawget(t, "verbatim_string")
  if type(v) == "table" then return 7, rawget(v, "format"), rawget(v, "string") end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return 0, unpack(t, 1, n)
end

-- Libraries installed later (cjson, cmsgpack, bit, struct) join the script globals read-only.
local function add_library(name, value)
  if type(value) == "table" then
    for key, item in next, value do
      if type(item) == "userdata" and key ~= "null" then function_like[item] = true end
    end
    value = protect(value)
  end
  globals[name] = value
end

-- What is left of the real globals is removed: nothing reaches os, io or debug any more.
for _, name in ipairs({"os", "io", "debug", "require", "loadfile", "dofile", "print", "module",
                       "package", "newproxy", "getfenv", "setfenv"}) do
  real_G[name] = nil
end

-- luaL_where(L, 1) for a Python function of the API: the position of the Lua code calling it.
local function where()
  local info = dbg.getinfo(3, "Sl")
  if info and info.currentline > 0 then return info.short_src .. ":" .. info.currentline .. ": " end
  return ""
end

local function add_function(name, f)
  function_like[f] = true
  redis[name] = f
end

return {add_function = add_function, where = where, run = run, compile = compile, shape = shape, env = env, globals = globals, redis = redis,
        add_library = add_library, err_handler = err_handler, protect = protect}

"""One Lua 5.1 state (lupa.lua51) set up as Redis 7.0 sets up its own, and running code in it.

`LuaState(server)` owns the Lua runtime: the sandbox of sandbox.lua (read-only globals and
libraries, no os/io/debug/require, Redis's pcall, the `__redis__err__handler` message handler),
the `redis` API table whose Python side is here, the libraries of `scripting.libs`, and a
count hook that lets a long script be answered around (BUSY) and killed (`busy.py`).

    state.compile(body, chunkname)  -> a Lua function, or ErrorReply "Error compiling script ..."
    state.call_script(c, fn, keys, args, run)  -> the script's reply (or ErrorReply)

A `ScriptRun` describes one running script: its caller, the name its errors show ("script:
<sha>" for EVAL, the function name for FCALL), whether it may write, and what it did. EVAL's
state and the FUNCTION libraries' state are two `LuaState`s with the same API; a caller that
wants more globals (redis.register_function) adds them with `add_api` before scripts run.

Commands a script calls go through `Client.call` on the state's own script client (its db
follows the caller's, SELECT inside a script does not leak out), after the checks Redis makes
in scriptCall: unknown command, arity, `noscript`, writes from a read-only script.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from importlib import resources

import lupa.lua51 as lupa

from yizhan.redis import errors
from yizhan.redis.instance import REDIS_VERSION
from yizhan.redis.scripting import busy, convert
from yizhan.redis.scripting.libs import install
from yizhan.redis.session import Client
from yizhan.redis.table import BY_REQUEST_NAME, COMMANDS
from yizhan.resp import ErrorReply

log = logging.getLogger("yizhan.redis")

_LOG_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG + 5, 2: logging.INFO, 3: logging.WARNING}
HOOK_INSTRUCTIONS = 100_000


class ScriptClient(Client):
    """The client a Lua state runs its scripts' commands on (Redis's script client)."""

    __slots__ = ()
    in_script = True


class ScriptError(Exception):
    """Raised by a Python function of the `redis` API to raise a Lua error with Redis's error
    table (`table`); the sandbox's message handler and pcall unwrap it."""

    def __init__(self, table):
        super().__init__("script error")
        self.table = table


@dataclass
class ScriptRun:
    """One running script (or function)."""
    caller: object                      # the client whose EVAL/FCALL runs it
    name: str                           # shown in errors: the sha of an EVAL script
    read_only: bool = False             # EVAL_RO, FCALL_RO, flags=no-writes
    allow_oom: bool = False             # flags=allow-oom: deny-oom commands run even over maxmemory
    kind: str = "script"                # "script" or "function" (SCRIPT KILL vs FUNCTION KILL)
    started: float = 0.0                # the server clock's monotonic() when it began
    wrote: bool = False                 # a write command was called: no longer killable
    killed: bool = False
    busy: bool = False                  # past busy-reply-threshold: other clients get BUSY
    last_command_error: str | None = None  # the last error a redis.call/pcall command replied

    def error_already_counted(self, message: str) -> bool:
        """Whether the script's error reply is a command's error passed on (counted in INFO
        errorstats when the command replied it, so not again, as Redis 7.0 does)."""
        last = self.last_command_error
        return last is not None and message.startswith(last)


class LuaState:
    def __init__(self, server, chunkname: str = "@user_script"):
        self.server = server
        self.chunkname = chunkname.encode()
        self.runtime = lupa.LuaRuntime(encoding=None, unpack_returned_tuples=True,
                                       register_eval=False, register_builtins=False)
        self.run: ScriptRun | None = None
        self.resp = 2
        self.client = ScriptClient(server, "?:0")
        self.client.in_exec = True  # blocking commands answer at once, as inside MULTI
        self._install_libraries()
        source = resources.files(__package__).joinpath("sandbox.lua").read_bytes()
        setup = self.runtime.execute(source, self._api_table())
        self.sandbox = setup
        self._run = setup[b"run"]
        self._compile = setup[b"compile"]
        self._shape = setup[b"shape"]
        self._add_library = setup[b"add_library"]
        self._where = setup[b"where"]
        self._publish_libraries()
        self.runtime.eval('collectgarbage("collect")')  # the set-up's garbage (used_memory_lua)

    # -- set-up ------------------------------------------------------------------------------
    def _install_libraries(self) -> None:
        """cjson, cmsgpack, bit, struct: installed into the real globals, published read-only
        into the script globals once the sandbox exists."""
        install(self.runtime)

    def _publish_libraries(self) -> None:
        real = self.runtime.globals()
        for name in (b"cjson", b"cmsgpack", b"bit", b"struct"):
            value = real[name]
            if value is not None:
                self._add_library(name, value)

    def _api_table(self):
        table = self.runtime.table_from({
            b"call": self._call, b"pcall": self._pcall, b"sha1hex": self._sha1hex,
            b"error_reply": self._error_reply, b"status_reply": self._status_reply,
            b"log": self._log, b"setresp": self._setresp, b"set_repl": self._set_repl,
            b"replicate_commands": self._replicate_commands, b"breakpoint": self._nothing,
            b"debug": self._nothing, b"acl_check_cmd": self._acl_check_cmd, b"hook": self._hook,
            b"unwrap": self._unwrap, b"random": self._random, b"randomseed": self._randomseed,
        })
        table[b"constants"] = self.runtime.table_from({
            b"REDIS_VERSION": REDIS_VERSION.encode(), b"REDIS_VERSION_NUM": _version_num(REDIS_VERSION),
            b"LOG_DEBUG": 0, b"LOG_VERBOSE": 1, b"LOG_NOTICE": 2, b"LOG_WARNING": 3,
            b"REPL_NONE": 0, b"REPL_AOF": 1, b"REPL_SLAVE": 2, b"REPL_REPLICA": 2, b"REPL_ALL": 3,
        })
        return table

    def add_api(self, name: bytes, function) -> None:
        """Another entry of the `redis` table (FUNCTION's register_function, ...): a Python
        function that returns its result, or raises `self.fail(text)` (a ScriptError)."""
        self.sandbox[b"add_function"](name, function)

    def fail(self, text: str) -> "ScriptError":
        """The error a redis.* function raises for a message of its own: {err="ERR <text>"}."""
        return ScriptError(self.error_table(text))

    # -- compiling and running ---------------------------------------------------------------
    def compile(self, body: bytes, chunkname: bytes | None = None):
        fn, err = self._compile(body, chunkname or self.chunkname)
        if fn is None:
            raise ErrorReply("ERR Error compiling script (new function): " + errors.text(err))
        return fn

    def call_script(self, c, fn, keys: list[bytes], args: list[bytes], run: ScriptRun):
        """Run a compiled script for client `c`; the reply to send (an ErrorReply for errors)."""
        sc = self.client
        sc.db = c.db
        sc.user = c.user  # the script runs with its caller's permissions
        sc.proto = 2
        self.resp = 2
        self.run = self.server.script_running = run
        run.started = self.server.clock.monotonic()
        aof = self.server.aof
        if aof is not None:
            aof.begin_script(c)
        try:
            ok, result = self._run(fn, len(keys), *keys, *args)
            if ok:
                return convert.lua_to_reply(result, self, c.proto)
            return self.error_reply(result, run)
        finally:
            self.run = self.server.script_running = None
            if run.busy:
                busy.script_ended(self.server)
            if aof is not None:
                aof.end_script()

    def error_reply(self, err, run: ScriptRun) -> ErrorReply:
        """A script's error as Redis replies it: "<message> script: <name>, on <source>:<line>."."""
        if lupa.lua_type(err) != "table":
            return ErrorReply("ERR Error running script %s, %.100s" % (run.name, _text(err)))
        message, source, line = err[b"err"], err[b"source"], err[b"line"]
        if type(message) is not bytes:
            return ErrorReply(f"ERR Error running script {run.name}, execution failure")
        text = errors.text(message)
        if line is not None and source is not None:
            text += f" script: {run.name}, on {_text(source)}:{_text(line)}."
        return ErrorReply(text)

    def shape(self, table):
        return self._shape(table)

    def table(self, items):
        return self.runtime.table_from(items)

    def error_table(self, text: str):
        """Redis's error table for a message of its own (luaPushError): {err="ERR <text>"}."""
        return self.runtime.table_from({b"err": b"ERR " + text.encode()})

    def reply_error_table(self, message: str):
        """The error table of a command's error reply ("WRONGTYPE Operation ...")."""
        return self.runtime.table_from({b"err": error_text_bytes(b"-" + message.encode("utf-8", "surrogateescape"))})

    # -- the redis API (Python side) ---------------------------------------------------------
    def _call(self, *argv):
        reply = self._execute(argv)
        kind = type(reply)
        if kind is bytes or kind is int:
            return reply
        if kind is ErrorReply:
            self.run.last_command_error = reply.message
            raise ScriptError(self.reply_error_table(reply.message))
        return convert.reply_to_lua(reply, self)

    def _pcall(self, *argv):
        reply = self._execute(argv)
        if type(reply) is ErrorReply:
            self.run.last_command_error = reply.message
            return self.reply_error_table(reply.message)
        return convert.reply_to_lua(reply, self)

    def _execute(self, argv):
        """The command a script called, checked as Redis's scriptCall checks it, then run."""
        for arg in argv:
            if type(arg) is not bytes:
                argv = _arguments(argv)
                if argv is None:
                    return ErrorReply("ERR Lua redis lib command arguments must be strings or integers")
                break
        else:
            if not argv:
                return ErrorReply("ERR Please specify at least one argument for this redis lib call")
            argv = list(argv)
        cmd = BY_REQUEST_NAME.get(argv[0])
        if cmd is None:
            cmd = _lookup(argv)
            if cmd is None:
                return ErrorReply("ERR Unknown Redis command called from script")
        arity = cmd.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return ErrorReply("ERR Wrong number of args calling Redis command from script")
        rule = _RULES.get(cmd)
        if rule is None:
            rule = _RULES[cmd] = _rule(cmd)
        if rule is _NOSCRIPT:
            return ErrorReply("ERR This Redis command is not allowed from script")
        client = self.client
        if not client.user.unrestricted:  # scriptVerifyACL: the caller's permissions
            refusal = client.server.acl.refuse(client, cmd, argv, "lua")
            if refusal is not None:
                return refusal
        if rule:
            run = self.run
            if run.read_only:
                return ErrorReply("ERR Write commands are not allowed from read-only scripts.")
            if (not run.wrote and not run.allow_oom and "denyoom" in cmd.flags
                    and self.client.server.evictor.oom):  # scriptVerifyOOM: before the first write only
                return ErrorReply(errors.OOM)
            run.wrote = True
        return self.client.call(cmd, argv)

    def _sha1hex(self, *args):
        if len(args) != 1:
            raise self.fail("wrong number of arguments")
        return hashlib.sha1(_as_bytes(args[0])).hexdigest().encode()

    def _error_reply(self, *args):
        if len(args) != 1 or type(args[0]) is not bytes:
            return self.error_table("wrong number or type of arguments")
        text = args[0]
        return self.runtime.table_from({b"err": error_text_bytes(text if text[:1] == b"-" else b"-" + text)})

    def _status_reply(self, *args):
        if len(args) != 1 or type(args[0]) is not bytes:
            return self.error_table("wrong number or type of arguments")
        return self.runtime.table_from({b"ok": args[0]})

    def _log(self, *args):
        if len(args) < 2:
            raise self.fail("redis.log() requires two arguments or more.")
        level = args[0]
        if type(level) not in (int, float):
            raise self.fail("First argument must be a number (log level).")
        level = int(level)
        if level not in _LOG_LEVELS:
            raise self.fail("Invalid debug level.")
        log.log(_LOG_LEVELS[level], " ".join(_text(arg) for arg in args[1:]))
        return None

    def _setresp(self, *args):
        if len(args) != 1:
            raise self.fail("redis.setresp() requires one argument.")
        resp = args[0]
        if resp not in (2, 3):
            raise self.fail("RESP version must be 2 or 3.")
        self.resp = self.client.proto = int(resp)
        return None

    def _set_repl(self, *args):
        if len(args) != 1:
            raise self.fail("redis.set_repl() requires two arguments.")
        flags = args[0]
        flags = convert.lua_tonumber(flags)
        if int(flags) & ~3:
            raise self.fail("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        return None

    def _replicate_commands(self, *args):
        return True

    def _nothing(self, *args):
        return None

    def _acl_check_cmd(self, *argv):
        if not argv:
            raise self.fail("Please specify at least one argument for this redis lib call")
        argv = _arguments(argv)
        if argv is None:
            raise self.fail("Lua redis lib command arguments must be strings or integers")
        cmd = _lookup(argv)
        if cmd is None:
            raise self.fail("Invalid command passed to redis.acl_check_cmd()")
        user = self.client.user
        return user.unrestricted or self.server.acl.check(user, cmd, argv)[0] == 0

    def _unwrap(self, exc):
        """An exception raised by a Python function of the API, as Lua sees the error."""
        if isinstance(exc, ScriptError):
            return exc.table
        log.error("error in the redis Lua API", exc_info=exc)
        return self.error_table("internal error in the Lua redis library")

    # -- math.random / math.randomseed as Redis's (redis_math_random) --------------------------
    def _random(self, *args):
        value = rand48(self.server).next() % 0x7FFFFFFF / 0x7FFFFFFF
        if not args:
            return value
        if len(args) == 1:
            upper = self._check_int(args, 0, "random")
            if upper < 1:
                raise self._arg_error(1, "random", "interval is empty")
            return float(math.floor(value * upper) + 1)
        if len(args) == 2:
            lower = self._check_int(args, 0, "random")
            upper = self._check_int(args, 1, "random")
            if lower > upper:
                raise self._arg_error(2, "random", "interval is empty")
            return float(math.floor(value * (upper - lower + 1)) + lower)
        raise ScriptError(self._where() + b"wrong number of arguments")

    def _randomseed(self, *args):
        rand48(self.server).seed(self._check_int(args, 0, "randomseed"))

    def _check_int(self, args, index: int, function: str) -> int:
        """luaL_checkint: a number, or a string that reads as one, cut to an int."""
        value = args[index] if index < len(args) else None
        if type(value) is bytes:
            number = convert.lua_tonumber(value)
            if number == 0 and not _is_number_text(value):
                raise self._arg_error(index + 1, function, "number expected, got string")
            value = number
        if type(value) not in (int, float):
            got = "no value" if index >= len(args) else _lua_type_name(value)
            raise self._arg_error(index + 1, function, f"number expected, got {got}")
        return _c_int(value)

    def _arg_error(self, position: int, function: str, message: str) -> ScriptError:
        return ScriptError(self._where() + f"bad argument #{position} to '{function}' ({message})".encode())

    def _hook(self):
        """Every HOOK_INSTRUCTIONS Lua instructions: the busy script's chance to serve others."""
        run = self.run
        if run is None:
            return None
        return busy.on_hook(self, run)


def _version_num(version: str) -> int:
    major, minor, patch = (int(p) for p in version.split("."))
    return (major << 16) | (minor << 8) | patch


_NOSCRIPT, _WRITE = "noscript", "write"
_RULES: dict = {}  # Command -> "" (may run), _NOSCRIPT or _WRITE, from its flags


def _rule(cmd) -> str:
    if "noscript" in cmd.flags:
        return _NOSCRIPT
    return _WRITE if "write" in cmd.flags else ""


class Rand48:
    """Redis's rand.c (redisLrand48/redisSrand48): a 48-bit linear congruential generator."""

    def __init__(self):
        self.x = 0x1234ABCD330E

    def seed(self, value: int) -> None:
        self.x = ((value & 0xFFFFFFFF) << 16) | 0x330E

    def next(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        return self.x >> 17


def rand48(server) -> Rand48:
    """The server's one generator, shared by every Lua state as Redis's global is."""
    generator = getattr(server, "_lua_rand48", None)
    if generator is None:
        generator = server._lua_rand48 = Rand48()
    return generator


def _c_int(value) -> int:
    """(int)lua_Number as x86-64 converts it: truncated, wrapped to 32 bits."""
    number = convert.truncate(float(value))
    number &= 0xFFFFFFFF
    return number - (1 << 32) if number >= 1 << 31 else number


def _is_number_text(value: bytes) -> bool:
    try:
        float(value)
    except ValueError:
        return value.strip().lower().startswith((b"0x", b"-0x"))
    return True


def _lua_type_name(value) -> str:
    if value is None:
        return "nil"
    if type(value) is bool:
        return "boolean"
    return (lupa.lua_type(value) or "userdata")


def _lookup(argv):
    """The command (or subcommand) argv names, or None (Redis's lookupCommand)."""
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is not None and cmd.subcommands and len(argv) > 1:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def _arguments(argv):
    """Lua values as command arguments: strings as they are, numbers as Redis prints them
    (%.17g); None for anything else."""
    if all(type(a) is bytes for a in argv):
        return list(argv)
    out = []
    for arg in argv:
        kind = type(arg)
        if kind is bytes:
            out.append(arg)
        elif kind is int or kind is float:
            out.append(convert.format_number(arg))
        else:
            return None
    return out


def error_text_bytes(raw: bytes) -> bytes:
    """luaPushErrorBuff on bytes: "-CODE text" -> "CODE text", "-text" -> "ERR text",
    "text" -> "ERR text"; trailing and leading CR/LF trimmed from the text."""
    if raw[:1] == b"-":
        code, space, text = raw[1:].partition(b" ")
        if not space:
            return b"ERR " + code.strip(b"\r\n")
        return code + b" " + text.strip(b"\r\n")
    return b"ERR " + raw.strip(b"\r\n")


def _as_bytes(value) -> bytes:
    if type(value) is bytes:
        return value
    if type(value) in (int, float):
        return convert.format_lua_number(value)
    return b""


def _text(value) -> str:
    if type(value) is bytes:
        return errors.text(value)
    if type(value) in (int, float):
        return convert.format_lua_number(value).decode()
    return str(value)

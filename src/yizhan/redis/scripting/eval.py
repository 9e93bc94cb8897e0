"""EVAL scripts: the script cache, the `#!lua` shebang, and running a script for a client.

`engine(server)` is the instance's `EvalEngine`: one `LuaState` for EVAL scripts and the cache
of compiled scripts by SHA1 (`SCRIPT LOAD`, `EVAL`), never persisted, emptied by SCRIPT FLUSH.
`EvalEngine.eval(c, sha_or_body, argv, read_only)` is EVAL/EVALSHA/EVAL_RO/EVALSHA_RO.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from yizhan.redis import errors
from yizhan.redis.scripting.lua_state import LuaState, ScriptRun
from yizhan.resp import ErrorReply
from yizhan.resp.parser import split_args

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
SCRIPT_FLAGS = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
_SCRIPT_OVERHEAD = 40  # bytes counted per cached script beside its body (the sha, the entry)


@dataclass
class Script:
    sha: str
    body: bytes
    function: object          # the compiled Lua function
    flags: frozenset | None   # None: no shebang (compatibility mode)


def engine(server) -> "EvalEngine":
    state = getattr(server, "_eval_engine", None)
    if state is None:
        state = server._eval_engine = EvalEngine(server)
    return state


class EvalEngine:
    def __init__(self, server):
        self.server = server
        self.lua = LuaState(server)
        self.scripts: dict[str, Script] = {}
        self.by_sha: dict[bytes, Script] = {}  # the same, by the sha as EVALSHA usually sends it
        self.memory = 0

    # -- the cache ---------------------------------------------------------------------------
    def load(self, body: bytes) -> Script:
        """Compile and cache a script (or find it cached); ErrorReply for a bad shebang or body."""
        sha = hashlib.sha1(body).hexdigest()
        script = self.scripts.get(sha)
        if script is not None:
            return script
        flags, shebang_len = parse_shebang(body)
        source = b"--" + body[2:] if shebang_len else body
        script = Script(sha, body, self.lua.compile(source), flags)
        self.scripts[sha] = script
        self.by_sha[sha.encode()] = script
        self.memory += len(body) + _SCRIPT_OVERHEAD
        return script

    def exists(self, sha: bytes) -> bool:
        return errors.text(sha).lower() in self.scripts

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script, and start a fresh Lua state as Redis does."""
        self.scripts.clear()
        self.by_sha.clear()
        self.memory = 0
        self.lua = LuaState(self.server)

    # -- running -----------------------------------------------------------------------------
    def eval(self, c, argv: list[bytes], by_sha: bool, read_only: bool):
        numkeys = number_of_keys(argv)
        if by_sha:
            script = self.by_sha.get(argv[1]) or self.scripts.get(errors.text(argv[1]).lower())
        else:
            script = self.scripts.get(hashlib.sha1(argv[1]).hexdigest())
        if script is None and by_sha:
            raise ErrorReply(NOSCRIPT)
        if numkeys < 0:  # after NOSCRIPT, before a compile error, as Redis checks them
            raise ErrorReply("ERR Number of keys can't be negative")
        if script is None:
            script = self.load(argv[1])
        if script.flags is not None and "no-writes" not in script.flags:
            if read_only:
                raise ErrorReply("ERR Can not execute a script with write flag using *_ro command.")
        elif script.flags is not None:
            read_only = True
        allow_oom = script.flags is not None and "allow-oom" in script.flags
        if script.flags is not None and not read_only and not allow_oom and c.server.evictor.oom:
            raise ErrorReply(errors.OOM)  # what processCommand answers (a deny-oom script)
        run = ScriptRun(c, script.sha, read_only=read_only, allow_oom=allow_oom)
        keys = argv[3:3 + numkeys]
        args = argv[3 + numkeys:]
        reply = self.lua.call_script(c, script.function, keys, args, run)
        if type(reply) is ErrorReply and not run.error_already_counted(reply.message):
            c.server.observer.error(reply.message)
        return reply


def number_of_keys(argv: list[bytes]) -> int:
    """The numkeys argument of EVAL-like commands: a number, not more than the arguments
    (a negative one is refused later, see `EvalEngine.eval`)."""
    try:
        numkeys = int(argv[2])
    except ValueError:
        raise ErrorReply(errors.NOT_INTEGER) from None
    if numkeys > len(argv) - 3:
        raise ErrorReply("ERR Number of keys can't be greater than number of args")
    return numkeys


def parse_shebang(body: bytes) -> tuple[frozenset | None, int]:
    """evalExtractShebangFlags: (flags, length of the shebang line); flags None without one."""
    if body[:2] != b"#!":
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise ErrorReply("ERR Invalid script shebang")
    parts = split_args(body[:end])
    if not parts:
        raise ErrorReply("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise ErrorReply("ERR Unexpected engine in script shebang: " + errors.text(parts[0]))
    flags = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise ErrorReply("ERR Unknown lua shebang option: " + errors.text(part))
        value = part[6:]
        for flag in (value.split(b",") if value else []):
            name = errors.text(flag)
            if name not in SCRIPT_FLAGS:
                raise ErrorReply("ERR Unexpected flag in script shebang: " + name)
            flags.add(name)
    return frozenset(flags), end



def info_memory(server) -> list[tuple[str, object]]:
    """The Lua rows of INFO memory, in Redis 7.0's order: the EVAL VM and script cache, the
    functions VM and registry (scripting/function_lua.py), and their totals."""
    from yizhan.redis.scripting import function_lua  # noqa: PLC0415  (it imports this package)

    scripts = engine(server)
    vm_eval = lua_memory(scripts.lua.runtime)
    functions = function_lua.registry(server)
    vm_functions = function_lua.vm_memory(server)
    functions_memory = functions.memory_overhead()
    return [
        ("used_memory_lua", vm_eval), ("used_memory_vm_eval", vm_eval),
        ("used_memory_lua_human", human_bytes(vm_eval)), ("used_memory_scripts_eval", scripts.memory),
        ("number_of_cached_scripts", len(scripts.scripts)),
        ("number_of_functions", functions.function_count()),
        ("number_of_libraries", len(functions.libraries)),
        ("used_memory_vm_functions", vm_functions), ("used_memory_vm_total", vm_eval + vm_functions),
        ("used_memory_vm_total_human", human_bytes(vm_eval + vm_functions)),
        ("used_memory_functions", functions_memory),
        ("used_memory_scripts", scripts.memory + functions_memory),
        ("used_memory_scripts_human", human_bytes(scripts.memory + functions_memory)),
    ]


def lua_memory(runtime) -> int:
    """Bytes in use by a Lua state (lua_gc(LUA_GCCOUNT), as Redis reports it)."""
    return int(runtime.eval('collectgarbage("count")') * 1024)


def human_bytes(n: int) -> str:
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"

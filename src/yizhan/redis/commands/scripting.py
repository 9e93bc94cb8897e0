"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP.

The runtime is in `yizhan.redis.scripting` (eval.py: the cache and shebang; lua_state.py:
the Lua state, sandbox and `redis` API; convert.py: the value conversions; busy.py: long
scripts). Keys are movable: the numkeys argument says how many follow the script.
"""

from __future__ import annotations

from yizhan.redis.scripting import busy
from yizhan.redis.scripting.eval import engine
from yizhan.redis.table import command, container, help_reply
from yizhan.resp import OK, ErrorReply

_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys movablekeys"
# numkeys is argument 2, the keys follow it; the key specs as Redis 7.0 declares them
_RW = dict(key_specs="RW access update index:2 keynum:0:1:1")
_RO = dict(key_specs="RO access index:2 keynum:0:1:1")
_NOTES = " -- We cannot tell how the keys will be used so we assume the worst, "
_RW_NOTES = dict(key_specs=_RW["key_specs"] + _NOTES + "RW and UPDATE")
_RO_NOTES = dict(key_specs=_RO["key_specs"] + _NOTES + "RO and ACCESS")


@command("EVAL script numkeys [key [key ...]] [arg [arg ...]]", arity=-3, flags=_EVAL_FLAGS,
         group="scripting", since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.", acl="slow scripting", **_RW_NOTES)
def eval_(c, argv):
    c.server.observer.script_starts(c, argv)
    return engine(c.server).eval(c, argv, by_sha=False, read_only=False)


@command("EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]", arity=-3, flags=_EVAL_FLAGS,
         group="scripting", since="2.6.0", summary="Execute a Lua script server side",
         complexity="Depends on the script that is executed.", acl="slow scripting", **_RW)
def evalsha(c, argv):
    c.server.observer.script_starts(c, argv)
    return engine(c.server).eval(c, argv, by_sha=True, read_only=False)


@command("EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]", arity=-3, flags="readonly " + _EVAL_FLAGS,
         group="scripting", since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.", acl="slow scripting", **_RO_NOTES)
def eval_ro(c, argv):
    c.server.observer.script_starts(c, argv)
    return engine(c.server).eval(c, argv, by_sha=False, read_only=True)


@command("EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]", arity=-3, flags="readonly " + _EVAL_FLAGS,
         group="scripting", since="7.0.0", summary="Execute a read-only Lua script server side",
         complexity="Depends on the script that is executed.", acl="slow scripting", **_RO)
def evalsha_ro(c, argv):
    c.server.observer.script_starts(c, argv)
    return engine(c.server).eval(c, argv, by_sha=True, read_only=True)


container("SCRIPT", group="scripting", since="2.6.0", summary="A container for Lua scripts management commands")


@command("SCRIPT LOAD script", arity=3, flags="noscript stale", group="scripting", since="2.6.0",
         summary="Load the specified Lua script into the script cache.", acl="slow scripting",
         complexity="O(N) with N being the length in bytes of the script body.",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def script_load(c, argv):
    return engine(c.server).load(argv[2]).sha.encode()


@command("SCRIPT EXISTS sha1 [sha1 ...]", arity=-3, flags="noscript", group="scripting", since="2.6.0",
         summary="Check existence of scripts in the script cache.", acl="slow scripting",
         complexity="O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
         tips="request_policy:all_shards response_policy:agg_logical_and")
def script_exists(c, argv):
    scripts = engine(c.server)
    return [int(scripts.exists(sha)) for sha in argv[2:]]


@command("SCRIPT FLUSH [ASYNC | SYNC]", arity=-2, flags="noscript", group="scripting", since="2.6.0",
         summary="Remove all the scripts from the script cache.", acl="slow scripting",
         complexity="O(N) with N being the number of scripts in cache",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def script_flush(c, argv):
    if len(argv) > 3 or (len(argv) == 3 and argv[2].upper() not in (b"ASYNC", b"SYNC")):
        raise ErrorReply("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    engine(c.server).flush()
    return OK


@command("SCRIPT KILL", arity=2, flags="noscript allow_busy", group="scripting", since="2.6.0",
         summary="Kill the script currently in execution.", acl="slow scripting",
         tips="request_policy:all_shards response_policy:one_succeeded")
def script_kill(c, argv):
    return busy.kill(c.server, "script")


@command("SCRIPT HELP", arity=2, flags="loading stale", group="scripting", since="5.0.0",
         summary="Show helpful text about the different subcommands", acl="slow scripting")
def script_help(c, argv):
    return help_reply(argv, _HELP)


_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]

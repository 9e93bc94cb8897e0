"""Function commands (Redis 7.0's functions.c): FUNCTION LOAD / DELETE / FLUSH / LIST / DUMP /
RESTORE / STATS / KILL / HELP, and FCALL / FCALL_RO.

The registry of libraries is `yizhan.redis.scripting.functions`; its Lua engine (compiling a
library, running a function) is `yizhan.redis.scripting.function_lua`. FUNCTION DUMP and
RESTORE use Redis's payload (function records, RDB version, CRC64), so libraries move to and
from a real Redis.
"""

from __future__ import annotations

from yizhan.redis import errors, glob
from yizhan.redis.args import parse_int
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.codec import RDBError
from yizhan.redis.scripting import function_lua
from yizhan.redis.scripting.functions import LOAD_TIMEOUT_MS, FunctionError, flag_names
from yizhan.redis.table import command, container, help_reply
from yizhan.resp import OK, ErrorReply, ReplySet, Simple

_GROUP = "scripting"
_ALL_SHARDS = "request_policy:all_shards response_policy:all_succeeded"
_KEY_NOTES = "We cannot tell how the keys will be used so we assume the worst, "

container("FUNCTION", group=_GROUP, since="7.0.0", summary="A container for function commands")


def _registry(c):
    return function_lua.registry(c.server)


def _commit(c) -> None:
    """A change of the libraries counts as a change of the dataset (persistence, AOF)."""
    c.server.stats.dirty += 1


# -- FUNCTION LOAD ------------------------------------------------------------------------------
@command("FUNCTION LOAD [REPLACE] function-code", arity=-3, flags="write denyoom noscript", group=_GROUP,
         since="7.0.0", acl="scripting", tips=_ALL_SHARDS,
         summary="Create a function with the given arguments (name, code, description)",
         complexity="O(1) (considering compilation time is redundant)")
def function_load(c, argv):
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        option = argv[pos]
        pos += 1
        if option.lower() == b"replace":
            replace = True
            continue
        raise ErrorReply(errors.function_unknown_option(option.split(b"\0", 1)[0]))
    timeout = 0 if function_lua.obeys(c) else LOAD_TIMEOUT_MS
    try:
        name = _registry(c).create(bytes(argv[pos]), replace, timeout)
    except FunctionError as exc:
        raise ErrorReply(exc.message) from None
    _commit(c)
    return name


# -- FUNCTION DELETE / FLUSH ---------------------------------------------------------------------
@command("FUNCTION DELETE library-name", arity=3, flags="write noscript", group=_GROUP, since="7.0.0",
         acl="scripting", tips=_ALL_SHARDS, summary="Delete a function by name")
def function_delete(c, argv):
    if not _registry(c).delete(argv[2]):
        raise ErrorReply(errors.FUNCTION_LIBRARY_NOT_FOUND)
    _commit(c)
    return OK


@command("FUNCTION FLUSH [ASYNC | SYNC]", arity=-2, flags="write noscript", group=_GROUP, since="7.0.0",
         acl="scripting", tips=_ALL_SHARDS, summary="Deleting all functions",
         complexity="O(N) where N is the number of functions deleted")
def function_flush(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "function"))
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise ErrorReply(errors.FUNCTION_FLUSH_MODE)
    _registry(c).clear()  # ASYNC or SYNC: freeing is immediate either way
    _commit(c)
    return OK


# -- FUNCTION LIST --------------------------------------------------------------------------------
@command("FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]", arity=-2, flags="noscript",
         group=_GROUP, since="7.0.0", acl="scripting", tips="nondeterministic_output_order",
         summary="List information about all the functions", complexity="O(N) where N is the number of functions")
def function_list(c, argv):
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        arg = argv[i]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if i >= len(argv) - 1:
                raise ErrorReply(errors.FUNCTION_LIBRARY_NAME_MISSING)
            i += 1
            pattern = argv[i]
        else:
            raise ErrorReply(errors.function_list_unknown_argument(arg.split(b"\0", 1)[0]))
        i += 1
    return [_library_entry(lib, with_code) for lib in _registry(c).libraries.values()
            if pattern is None or glob.match(pattern, lib.name, nocase=True)]


def _library_entry(lib, with_code: bool) -> dict:
    entry = {
        b"library_name": lib.name,
        b"engine": lib.engine.name.encode(),
        b"functions": [{b"name": fn.name, b"description": fn.description,
                        b"flags": ReplySet(Simple(f) for f in flag_names(fn.flags))}
                       for fn in lib.functions.values()],
    }
    if with_code:
        entry[b"library_code"] = lib.code
    return entry


# -- FUNCTION DUMP / RESTORE ------------------------------------------------------------------------
@command("FUNCTION DUMP", arity=2, flags="noscript", group=_GROUP, since="7.0.0", acl="scripting",
         summary="Dump all functions into a serialized binary payload",
         complexity="O(N) where N is the number of functions")
def function_dump(c, argv):
    codes = [lib.code for lib in _registry(c).libraries.values()]
    return rdb.dump_functions(codes, c.server.params.flag("rdbcompression"))


_RESTORE_POLICIES = (b"flush", b"append", b"replace")


@command("FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]", arity=-3,
         flags="write denyoom noscript", group=_GROUP, since="7.0.0", acl="scripting", tips=_ALL_SHARDS,
         summary="Restore all the functions on the given payload",
         complexity="O(N) where N is the number of functions on the payload")
def function_restore(c, argv):
    if len(argv) > 4:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "function"))
    policy = argv[3].lower() if len(argv) == 4 else b"append"
    if policy not in _RESTORE_POLICIES:
        raise ErrorReply(errors.FUNCTION_RESTORE_POLICY)
    payload = bytes(argv[2])
    if not rdb.verify_payload(payload):
        raise ErrorReply("ERR DUMP payload version or checksum are wrong")
    registry = _registry(c)
    try:
        codes = rdb.restore_functions(payload)
    except RDBError as exc:
        raise ErrorReply("ERR " + str(exc)) from None
    restored = registry.fresh()
    try:
        for code in codes:
            restored.create(code, False, 0)
        if policy == b"flush":
            registry.replace_all(restored)
        else:
            registry.join(restored, policy == b"replace")
    except FunctionError as exc:
        raise ErrorReply(exc.message) from None
    _commit(c)
    return OK


# -- FUNCTION STATS / KILL / HELP -----------------------------------------------------------------
@command("FUNCTION STATS", arity=2, flags="noscript allow_busy", group=_GROUP, since="7.0.0", acl="scripting",
         tips="nondeterministic_output request_policy:all_shards response_policy:special",
         summary="Return information about the function currently running (name, description, duration)")
def function_stats(c, argv):
    return function_lua.stats(c)


@command("FUNCTION KILL", arity=2, flags="noscript allow_busy", group=_GROUP, since="7.0.0", acl="scripting",
         tips="request_policy:all_shards response_policy:one_succeeded",
         summary="Kill the function currently in execution.")
def function_kill(c, argv):
    return function_lua.kill(c)


_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
    "RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
]


@command("FUNCTION HELP", arity=2, flags="loading stale", group=_GROUP, since="7.0.0", acl="scripting",
         summary="Show helpful text about the different subcommands")
def function_help(c, argv):
    return help_reply(argv, _HELP)


# -- FCALL / FCALL_RO -------------------------------------------------------------------------------
@command("FCALL function numkeys [key ...] [arg ...]", arity=-3,
         flags="noscript stale skip_monitor no_mandatory_keys movablekeys", group=_GROUP, since="7.0.0",
         acl="scripting", key_specs="RW access update index:2 keynum:0:1:1 -- " + _KEY_NOTES + "RW and UPDATE",
         summary="Invoke a function", complexity="Depends on the function that is executed.")
def fcall(c, argv):
    return _fcall(c, argv, ro=False)


@command("FCALL_RO function numkeys [key ...] [arg ...]", arity=-3,
         flags="readonly noscript stale skip_monitor no_mandatory_keys movablekeys", group=_GROUP,
         since="7.0.0", acl="scripting", key_specs="RO access index:2 keynum:0:1:1 -- " + _KEY_NOTES + "RO and ACCESS",
         summary="Invoke a read-only function",
         complexity="Depends on the function that is executed.")
def fcall_ro(c, argv):
    return _fcall(c, argv, ro=True)


def _fcall(c, argv, ro: bool):
    """fcallCommandGeneric: find the function, check numkeys, run it."""
    c.server.observer.script_starts(c, argv)
    function = _registry(c).find(argv[1])
    if function is None:
        raise ErrorReply(errors.FUNCTION_NOT_FOUND)
    numkeys = parse_int(argv[2], errors.FUNCTION_BAD_NUMKEYS)
    if numkeys > len(argv) - 3:
        raise ErrorReply(errors.FUNCTION_NUMKEYS_TOO_MANY)
    if numkeys < 0:
        raise ErrorReply(errors.FUNCTION_NUMKEYS_NEGATIVE)
    return function.library.engine.call(c, function, argv, numkeys, ro)


"""MODULE as redis-server 7.0 answers it with no module loaded, the only state yizhan has
(Redis modules are C shared libraries; this server cannot load one): LIST is empty, HELP is
7.0's text, and LOAD, LOADEX and UNLOAD are protected commands (enable-module-command, "no"
by default, as Redis) that, when allowed, fail as Redis fails for a library it cannot load or
a module it does not have."""

from __future__ import annotations

from yizhan.redis.table import command, container, help_reply
from yizhan.resp import ErrorReply

_GROUP = "server"

container("MODULE", group=_GROUP, since="4.0.0", summary="A container for module commands")


@command("MODULE HELP", arity=2, flags="loading stale", group=_GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def module_help(c, argv):
    return help_reply(argv, [
        "LIST", "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]", "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>", "    Unload a module."])


@command("MODULE LIST", arity=2, flags="admin noscript", group=_GROUP, since="4.0.0",
         tips="nondeterministic_output_order", summary="List all modules loaded by the server",
         complexity="O(N) where N is the number of loaded modules.")
def module_list(c, argv):
    return []


@command("MODULE LOAD path [arg ...]", arity=-3, flags="admin noscript no_async_loading", group=_GROUP,
         since="4.0.0", summary="Load a module")
def module_load(c, argv):
    raise ErrorReply("ERR Error loading the extension. Please check the server logs.")


@command("MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS arg [arg ...]]", arity=-3,
         flags="admin noscript no_async_loading", group=_GROUP, since="7.0.0",
         summary="Load a module with extended parameters")
def module_loadex(c, argv):
    raise ErrorReply("ERR Error loading the extension. Please check the server logs.")


@command("MODULE UNLOAD name", arity=3, flags="admin noscript no_async_loading", group=_GROUP, since="4.0.0",
         summary="Unload a module")
def module_unload(c, argv):
    raise ErrorReply("ERR Error unloading module: no such module with that name")

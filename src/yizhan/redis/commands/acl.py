"""ACL: users and their permissions (CAT, DELUSER, DRYRUN, GENPASS, GETUSER, LIST, LOAD, LOG,
SAVE, SETUSER, USERS, WHOAMI, HELP); the users and checks themselves live in redis/acl."""

from __future__ import annotations

import secrets

from yizhan.redis import errors
from yizhan.redis.acl.categories import CATEGORIES, category_name, in_category
from yizhan.redis.acl.registry import AclFileError
from yizhan.redis.acl.selectors import has_spaces
from yizhan.redis.args import parse_int
from yizhan.redis.table import COMMANDS, command, container, help_reply
from yizhan.resp import OK, ErrorReply

container("ACL", group="server", since="6.0.0", summary="A container for Access List Control commands ")

_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"


@command("ACL CAT [categoryname]", arity=-2, flags=_PLAIN, group="server", since="6.0.0",
         complexity="O(1) since the categories and commands are a fixed set.",
         summary="List the ACL categories or the commands inside a category")
def acl_cat(c, argv):
    if len(argv) == 2:
        return [name.encode() for name in CATEGORIES]
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "acl"))
    category = category_name(argv[2])
    if category is None:
        name = argv[2].split(b"\0", 1)[0][:128]
        raise ErrorReply(f"ERR Unknown category '{errors.text(name)}'")
    return [cmd.name.encode() for cmd in in_category(category)]


@command("ACL DELUSER username ...", arity=-3, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(1) amortized time considering the typical user.",
         summary="Remove the specified ACL users and the associated rules")
def acl_deluser(c, argv):
    return c.server.acl.deluser(argv[2:])


@command("ACL DRYRUN username command [arg ...]", arity=-4, flags=_ADMIN, group="server", since="7.0.0",
         complexity="O(1).",
         summary="Returns whether the user can execute the given command without executing the command.")
def acl_dryrun(c, argv):
    denial = c.server.acl.dryrun(argv[2], argv[3:], _lookup)
    return OK if denial is None else denial


def _lookup(argv):
    """lookupCommand: a container's subcommand, or None when it has no such one."""
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is None or len(argv) == 1 or not cmd.subcommands or not cmd.lists_subcommands:
        return cmd
    return cmd.subcommands.get(argv[1].lower())


@command("ACL GENPASS [bits]", arity=-2, flags=_PLAIN, group="server", since="6.0.0",
         summary="Generate a pseudorandom secure password to use for ACL users")
def acl_genpass(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "acl"))
    bits = parse_int(argv[2]) if len(argv) == 3 else 256
    if bits <= 0 or bits > 4096:
        raise ErrorReply(errors.ACL_GENPASS_BITS)
    return secrets.token_hex(512)[:(bits + 3) // 4].encode()


@command("ACL GETUSER username", arity=3, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of password, command and pattern rules that the user has.",
         summary="Get the rules for a specific ACL user",
         history=(("6.2.0", "Added Pub/Sub channel patterns."),
                  ("7.0.0", "Added selectors and changed the format of key and channel patterns from a list "
                            "to their rule representation.")))
def acl_getuser(c, argv):
    user = c.server.acl.users.get(argv[2])
    return None if user is None else user.getuser_reply()


@command("ACL LIST", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of configured users.",
         summary="List the current ACL rules in ACL config file format")
def acl_list(c, argv):
    return c.server.acl.describe_all()


@command("ACL USERS", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of configured users.",
         summary="List the username of all the configured ACL rules")
def acl_users(c, argv):
    return sorted(c.server.acl.users)


@command("ACL WHOAMI", arity=2, flags=_PLAIN, group="server", since="6.0.0",
         summary="Return the name of the user associated to the current connection")
def acl_whoami(c, argv):
    return c.user.name


def _aclfile(c) -> str:
    path = c.server.params.get("aclfile")
    if not path:
        raise ErrorReply(errors.ACL_NO_FILE)
    return path


@command("ACL LOAD", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of configured users.",
         summary="Reload the ACLs from the configured ACL file")
def acl_load(c, argv):
    try:
        c.server.acl.load_file(_aclfile(c))
    except AclFileError as exc:
        raise ErrorReply("ERR " + str(exc)) from None
    return OK


@command("ACL SAVE", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of configured users.",
         summary="Save the current ACL rules in the configured ACL file")
def acl_save(c, argv):
    c.server.acl.save_file(_aclfile(c))
    return OK


@command("ACL LOG [count | RESET]", arity=-2, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N) with N being the number of entries shown.",
         summary="List latest events denied because of ACLs in place")
def acl_log(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "acl"))
    count = 10
    log = c.server.acl.log
    if len(argv) == 3:
        if argv[2].split(b"\0", 1)[0].lower() == b"reset":
            log.reset()
            return OK
        count = max(parse_int(argv[2]), 0)
    now = c.server.clock.ms()
    return [entry.reply(now) for entry in log.entries[:count]]


@command("ACL SETUSER username [rule [rule ...]]", arity=-3, flags=_ADMIN, group="server", since="6.0.0",
         complexity="O(N). Where N is the number of rules provided.",
         summary="Modify or create the rules for a specific ACL user",
         history=(("6.2.0", "Added Pub/Sub channel patterns."),
                  ("7.0.0", "Added selectors and key based permissions.")))
def acl_setuser(c, argv):
    if has_spaces(argv[2]):
        raise ErrorReply(errors.ACL_USERNAME_SPACES)
    c.server.acl.setuser(argv[2], argv[3:])
    return OK


_HELP = [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
]


@command("ACL HELP", arity=2, flags="loading stale", group="server", since="6.0.0",
         summary="Show helpful text about the different subcommands")
def acl_help(c, argv):
    return help_reply(argv, _HELP)

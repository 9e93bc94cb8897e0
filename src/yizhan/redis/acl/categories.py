"""ACL categories and command lookup for ACL rules, from the command table.

A command's categories are the table's (`Command.acl_categories`, also shown by COMMAND
INFO). Redis walks its command dict, each command then its subcommands; here the table's
order stands in for the dict's (Redis's own order is its hash order, different every run).
DEBUG's subcommands are dispatched inside its handler, so for ACL DEBUG is one command.
"""

from __future__ import annotations

from functools import lru_cache

from yizhan.redis.table import COMMANDS, Command

# ACLCommandCategories, in Redis's order (ACL CAT, the describe algorithm's tie-breaks).
CATEGORIES = ("keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub "
              "admin fast slow blocking dangerous connection transaction scripting").split()


def subcommands(cmd: Command) -> list[Command]:
    """The subcommands ACL rules know for `cmd` (none for DEBUG's kind)."""
    return list(cmd.subcommands.values()) if cmd.lists_subcommands else []


def top_level():
    return list(COMMANDS.values())


def walk(commands=None):
    """Every command and subcommand, each command followed by its subcommands."""
    for cmd in (COMMANDS.values() if commands is None else commands):
        yield cmd
        yield from subcommands(cmd)


@lru_cache(maxsize=None)
def categories_of(cmd: Command) -> frozenset[str]:
    return frozenset(name[1:] for name in cmd.acl_categories())


@lru_cache(maxsize=None)
def in_category(category: str) -> tuple[Command, ...]:
    """The commands and subcommands of a category, in walk order."""
    return tuple(cmd for cmd in walk() if category in categories_of(cmd))


def category_name(text: bytes) -> str | None:
    """The category a rule names (strcasecmp), or None."""
    name = text.split(b"\0", 1)[0].decode("latin-1").lower()
    return name if name in CATEGORIES else None


def lookup(name: bytes) -> Command | None:
    """ACLLookupCommand: "get", or "config|get" for a subcommand; None when unknown."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1]) if cmd.lists_subcommands else None


def parent(cmd: Command) -> Command | None:
    """The container of a subcommand, None for a command."""
    if "|" not in cmd.name:
        return None
    return COMMANDS.get(cmd.name.split("|")[0].encode())


def acl_command(cmd: Command) -> Command:
    """The command ACL checks for what the dispatcher found: DEBUG for a DEBUG subcommand."""
    container = parent(cmd)
    if container is not None and not container.lists_subcommands:
        return container
    return cmd

"""ACL categories and command lookup for ACL rules, from the command table.

A command's categories are the table's (`Command.acl_categories`, also shown by COMMAND
INFO). Redis walks its command dict, each command then its subcommands; here the table's
order stands in for the dict's (Redis's own order is its hash order, different every run).
DEBUG's subcommands are dispatched inside its handler, so for ACL DEBUG is one command.

Which commands exist decides the rule strings: the describe algorithm picks a category when
more of its commands are allowed than not. So ACL sees redis-server 7.0's set of commands:
the table's, without any command newer than 7.0, plus `REDIS_ONLY`, the
7.0 commands yizhan does not serve (CLUSTER, MODULE, MIGRATE, ...), with their categories as
redis-server 7.0.15's COMMAND shows them. Rules may name those (as on redis-server) and they
count in their categories; nothing ever runs them. One that the table gains is left out here.
"""

from __future__ import annotations

from functools import lru_cache

from yizhan.redis.table import COMMANDS, Command

REDIS_VERSION = (7, 0, 15)
REDIS_ONLY = {
    "asking": "fast connection", "cluster": "slow", "cluster|addslots": "admin slow dangerous",
    "cluster|addslotsrange": "admin slow dangerous", "cluster|bumpepoch": "admin slow dangerous",
    "cluster|count-failure-reports": "admin slow dangerous", "cluster|countkeysinslot": "slow",
    "cluster|delslots": "admin slow dangerous", "cluster|delslotsrange": "admin slow dangerous",
    "cluster|failover": "admin slow dangerous", "cluster|flushslots": "admin slow dangerous",
    "cluster|forget": "admin slow dangerous", "cluster|getkeysinslot": "slow", "cluster|help": "slow",
    "cluster|info": "slow", "cluster|keyslot": "slow", "cluster|links": "slow",
    "cluster|meet": "admin slow dangerous", "cluster|myid": "slow", "cluster|nodes": "slow",
    "cluster|replicas": "admin slow dangerous", "cluster|replicate": "admin slow dangerous",
    "cluster|reset": "admin slow dangerous", "cluster|saveconfig": "admin slow dangerous",
    "cluster|set-config-epoch": "admin slow dangerous", "cluster|setslot": "admin slow dangerous",
    "cluster|shards": "slow", "cluster|slaves": "admin slow dangerous", "cluster|slots": "slow",
    "config|help": "slow", "failover": "admin slow dangerous", "lolwut": "read fast",
    "migrate": "keyspace write slow dangerous", "module": "slow", "module|help": "slow",
    "module|list": "admin slow dangerous", "module|load": "admin slow dangerous",
    "module|loadex": "admin slow dangerous", "module|unload": "admin slow dangerous",
    "psync": "admin slow dangerous", "pubsub|help": "slow", "readonly": "fast connection",
    "readwrite": "fast connection", "replicaof": "admin slow dangerous",
    "restore-asking": "keyspace write slow dangerous", "role": "admin fast dangerous",
    "script|debug": "slow scripting", "slaveof": "admin slow dangerous",
}


class RedisOnly:
    """A redis-server 7.0 command yizhan does not serve, as ACL rules see it."""

    no_auth = False
    lists_subcommands = True

    def __init__(self, name: str, categories: str):
        self.name = name
        self.categories = frozenset(categories.split())
        self.subcommands: dict[bytes, "RedisOnly"] = {}


def _redis_only() -> tuple[dict[bytes, RedisOnly], dict[bytes, dict[bytes, RedisOnly]]]:
    """The REDIS_ONLY commands the table lacks: top-level ones, and subcommands by container."""
    top: dict[bytes, RedisOnly] = {}
    subs: dict[bytes, dict[bytes, RedisOnly]] = {}
    for name, cats in REDIS_ONLY.items():
        base, _, sub = name.partition("|")
        real = COMMANDS.get(base.encode())
        if not sub:
            if real is None:
                top[base.encode()] = RedisOnly(name, cats)
        elif real is None:
            top[base.encode()].subcommands[sub.encode()] = RedisOnly(name, cats)
        elif sub.encode() not in real.subcommands:
            subs.setdefault(base.encode(), {})[sub.encode()] = RedisOnly(name, cats)
    return top, subs


@lru_cache(maxsize=4)
def _views_of(table_size: int):
    return _redis_only()


def _views():
    """Cached for the table as it is (modules that register commands may be imported later)."""
    return _views_of(len(COMMANDS))


def _in_redis_7_0(cmd: Command) -> bool:
    return tuple(int(part) for part in cmd.since.split(".")) <= REDIS_VERSION

# ACLCommandCategories, in Redis's order (ACL CAT, the describe algorithm's tie-breaks).
CATEGORIES = ("keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub "
              "admin fast slow blocking dangerous connection transaction scripting").split()


def subcommands(cmd) -> list:
    """The subcommands ACL rules know for `cmd` (none for DEBUG's kind)."""
    if isinstance(cmd, RedisOnly):
        return list(cmd.subcommands.values())
    if not cmd.lists_subcommands:
        return []
    extra = _views()[1].get(cmd.name.encode(), {})
    return [sub for sub in cmd.subcommands.values() if _in_redis_7_0(sub)] + list(extra.values())


def top_level() -> tuple:
    return _top_level_of(len(COMMANDS))


@lru_cache(maxsize=4)
def _top_level_of(table_size: int) -> tuple:
    return tuple(COMMANDS.values()) + tuple(_views()[0].values())


def walk(commands=None):
    """Every command and subcommand, each command followed by its subcommands."""
    for cmd in (top_level() if commands is None else commands):
        yield cmd
        yield from subcommands(cmd)


@lru_cache(maxsize=None)
def categories_of(cmd) -> frozenset[str]:
    if isinstance(cmd, RedisOnly):
        return cmd.categories
    return frozenset(name[1:] for name in cmd.acl_categories())


def in_category(category: str) -> tuple[Command, ...]:
    """The commands and subcommands of a category, in walk order."""
    return _in_category_of(category, len(COMMANDS))


@lru_cache(maxsize=64)
def _in_category_of(category: str, table_size: int) -> tuple[Command, ...]:
    return tuple(cmd for cmd in walk() if category in categories_of(cmd))


def category_name(text: bytes) -> str | None:
    """The category a rule names (strcasecmp), or None."""
    name = text.split(b"\0", 1)[0].decode("latin-1").lower()
    return name if name in CATEGORIES else None


def lookup(name: bytes):
    """ACLLookupCommand: "get", or "config|get" for a subcommand; None when unknown."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0]) or _views()[0].get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    for sub in subcommands(cmd):
        if sub.name.encode() == b"|".join(parts):
            return sub
    return None


def parent(cmd):
    """The container of a subcommand, None for a command."""
    if "|" not in cmd.name:
        return None
    base = cmd.name.split("|")[0].encode()
    return COMMANDS.get(base) or _views()[0].get(base)


def acl_command(cmd: Command) -> Command:
    """The command ACL checks for what the dispatcher found: DEBUG for a DEBUG subcommand."""
    container = parent(cmd)
    if container is not None and not container.lists_subcommands:
        return container
    return cmd

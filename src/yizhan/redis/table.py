"""The command table: each command's arity, flags, key positions and syntax, declared once.

Handlers register with the `command` decorator. The dispatcher checks arity from here, and
COMMAND / COMMAND INFO / COMMAND DOCS are generated from the same declarations, including the
argument lists that redis-cli shows as hints (parsed from the syntax line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from yizhan.redis.args import atoi, parse_int
from yizhan.resp import ErrorReply, ReplySet, Simple

COMMANDS: dict[bytes, "Command"] = {}
# The same commands under the exact bytes clients send ("GET" and "get"): the dispatcher finds
# a command without lowering its name. Containers (CLIENT, CONFIG, ...) are not here.
BY_REQUEST_NAME: dict[bytes, "Command"] = {}

# ACL categories implied by a command's group, and the order Redis lists categories in.
_GROUP_CATEGORY = {
    "string": "string", "bitmap": "bitmap", "generic": "keyspace", "connection": "connection",
    "server": "", "list": "list", "hash": "hash", "set": "set", "sorted_set": "sortedset",
    "hyperloglog": "hyperloglog", "pubsub": "pubsub", "transactions": "transaction", "geo": "geo",
    "stream": "stream",
}
_CATEGORY_ORDER = ("keyspace read write set sortedset list hash string bitmap hyperloglog geo stream "
                   "pubsub admin fast slow blocking dangerous connection transaction scripting").split()


@dataclass(eq=False)
class Command:
    name: str                        # lower case; a subcommand's is "container|sub"
    arity: int
    flags: tuple[str, ...]
    keys: tuple[int, int, int]       # first key, last key (-1: to the end), step
    handler: Callable | None
    group: str
    since: str
    summary: str
    syntax: str
    complexity: str = "O(1)"
    acl: str = ""                    # ACL categories beyond those the flags and group imply
    tips: str = ""                   # command tips, e.g. "request_policy:all_shards"
    numkeys: int = 0                 # index of a numkeys argument the keys follow (EVAL, FCALL)
    key_flags: str = ""              # the key spec's flags when the command's flags do not say them
    key_notes: str = ""              # the key spec's notes
    history: tuple = ()              # COMMAND DOCS history: (version, change) pairs
    subcommands: dict[bytes, "Command"] = field(default_factory=dict)
    # False for a command whose subcommands Redis dispatches inside one handler (DEBUG): COMMAND
    # INFO/DOCS show none, and an unknown one or a wrong count is one "subcommand syntax" error.
    lists_subcommands: bool = True
    no_auth: bool = field(init=False)  # may run before AUTH
    monitored: bool = field(init=False)  # shown to MONITOR after it ran (observer.py)
    slow_logged: bool = field(init=False)  # may enter the slow log
    touches_keyspace: bool = field(init=False)  # refused to a client in MONITOR mode

    def __post_init__(self) -> None:
        self.no_auth = "no_auth" in self.flags
        self.monitored = not {"admin", "skip_monitor"} & set(self.flags)
        self.slow_logged = "skip_slowlog" not in self.flags
        self.touches_keyspace = bool({"readonly", "write", "may_replicate"} & set(self.flags))

    @property
    def display_name(self) -> str:
        return self.name.split("|")[-1]

    def arity_fits(self, argc: int) -> bool:
        arity = self.arity
        return argc == arity if arity > 0 else argc >= -arity

    @property
    def is_write(self) -> bool:
        return "write" in self.flags

    def acl_categories(self) -> list[str]:
        cats = set(self.acl.split())
        if "write" in self.flags:
            cats.add("write")
        if "readonly" in self.flags and "scripting" not in cats:  # setImplicitACLCategories
            cats.add("read")
        if "admin" in self.flags:
            cats.update(("admin", "dangerous"))
        if "blocking" in self.flags:
            cats.add("blocking")
        cats.add("fast" if "fast" in self.flags else "slow")
        if not self.acl and self.handler is not None:  # a container is only @slow, as in Redis
            cats.update(_GROUP_CATEGORY.get(self.group, "").split())
        return ["@" + c for c in _CATEGORY_ORDER if c in cats]


def command(
    syntax: str,
    *,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str,
    since: str = "1.0.0",
    summary: str = "",
    complexity: str = "O(1)",
    acl: str = "",
    tips: str = "",
    numkeys: int = 0,
    key_flags: str = "",
    key_notes: str = "",
    history: tuple = (),
) -> Callable:
    """Register the decorated handler for the command named by the syntax line's first word
    (first two for a subcommand of a container, e.g. "CLIENT KILL ..."). `numkeys`: the
    index of the argument that counts the keys after it (a "keynum" key spec)."""

    def register(handler: Callable) -> Callable:
        words = syntax.split()
        container = COMMANDS.get(words[0].lower().encode())
        is_sub = container is not None and len(words) > 1 and words[1].replace("-", "").replace("_", "").isupper()
        name = f"{words[0]}|{words[1]}".lower() if is_sub else words[0].lower()
        cmd = Command(name, arity, tuple(flags.split()), keys, handler, group, since, summary,
                      syntax, complexity, acl, tips, numkeys, key_flags, key_notes, history)
        if is_sub:
            container.subcommands[words[1].lower().encode()] = cmd
            _forget_request_names(container.name)
        else:
            COMMANDS[name.encode()] = cmd
            BY_REQUEST_NAME[name.encode()] = BY_REQUEST_NAME[name.upper().encode()] = cmd
        return handler

    return register


def container(name: str, *, group: str, since: str, summary: str, flags: str = "",
              complexity: str = "Depends on subcommand.", handler: Callable | None = None) -> Command:
    """Declare a command that only has subcommands (CLIENT, CONFIG, OBJECT, ...). With a
    `handler`, it is DEBUG's kind (see `Command.lists_subcommands`): the handler answers an
    unknown subcommand or one with the wrong number of arguments."""
    cmd = Command(name.lower(), -2, tuple(flags.split()), (0, 0, 0), handler, group, since, summary,
                  f"{name} <subcommand>", complexity, lists_subcommands=handler is None)
    COMMANDS[name.lower().encode()] = cmd
    _forget_request_names(name)
    return cmd


def _forget_request_names(name: str) -> None:
    """A command with subcommands is dispatched through its container, never directly."""
    BY_REQUEST_NAME.pop(name.lower().encode(), None)
    BY_REQUEST_NAME.pop(name.upper().encode(), None)


# -- introspection: COMMAND INFO and COMMAND DOCS ------------------------------------------
def info_reply(cmd: Command) -> list:
    first, last, step = cmd.keys
    return [
        cmd.name.encode(),
        cmd.arity,
        set_of_status(cmd.flags),
        first,
        last,
        step,
        set_of_status(cmd.acl_categories()),
        ReplySet(tip.encode() for tip in cmd.tips.split()),
        ReplySet(key_specs(cmd)),
        ReplySet(info_reply(sub) for sub in cmd.subcommands.values() if cmd.lists_subcommands),
    ]


def set_of_status(names) -> ReplySet:
    return ReplySet(Simple(n) for n in names)


def key_specs(cmd: Command) -> list:
    first, last, step = cmd.keys
    if cmd.numkeys:
        spec = {b"notes": cmd.key_notes.encode()} if cmd.key_notes else {}
        spec[b"flags"] = set_of_status(cmd.key_flags.split())
        spec[b"begin_search"] = {b"type": b"index", b"spec": {b"index": cmd.numkeys}}
        spec[b"find_keys"] = {b"type": b"keynum", b"spec": {b"keynumidx": 0, b"firstkey": 1, b"keystep": 1}}
        return [spec]
    if not first:
        return []
    key_flags = ["RW"] if "write" in cmd.flags else ["RO"]
    return [{
        b"flags": set_of_status(key_flags + (["access"] if "readonly" in cmd.flags else ["update"])),
        b"begin_search": {b"type": b"index", b"spec": {b"index": first}},
        b"find_keys": {b"type": b"range",
                       b"spec": {b"lastkey": last - first if last >= 0 else last, b"keystep": step,
                                 b"limit": 0}},
    }]


def numkeys_keys(cmd: Command, argv: list[bytes]) -> list[bytes] | None:
    """The keys of a command with a numkeys argument, as COMMAND GETKEYS finds them: the key
    spec with a strictly parsed count, else the command's own atoi-based getkeys (genericGetKeys);
    None when neither finds any."""
    index = cmd.numkeys
    first = index + 1
    if index >= len(argv):
        return None
    raw = argv[index]
    try:
        count = parse_int(raw)
    except ErrorReply:
        count = -1
    if 0 < count and first + count <= len(argv):
        return argv[first:first + count]
    count = atoi(raw)
    if 1 <= count <= len(argv) - first:
        return argv[first:first + count]
    return None


def docs_reply(cmd: Command) -> dict:
    docs = {
        b"summary": cmd.summary.encode(),
        b"since": cmd.since.encode(),
        b"group": cmd.group.encode(),
    }
    if cmd.complexity:
        docs[b"complexity"] = cmd.complexity.encode()
    if cmd.history:
        docs[b"history"] = [[version.encode(), change.encode()] for version, change in cmd.history]
    name_words = len(cmd.name.split("|"))
    arguments = parse_syntax(" ".join(cmd.syntax.split()[name_words:]))
    if arguments and not cmd.subcommands:  # a container has subcommands, not arguments
        docs[b"arguments"] = [argument_doc(arg) for arg in arguments]
    if cmd.subcommands and cmd.lists_subcommands:
        docs[b"subcommands"] = {sub.name.encode(): docs_reply(sub) for sub in cmd.subcommands.values()}
    return docs


def argument_doc(arg: dict) -> dict:
    doc = {b"name": arg["name"].encode(), b"type": arg["type"].encode()}
    if arg["type"] == "key":
        doc[b"key_spec_index"] = 0
    if arg.get("token"):
        doc[b"token"] = arg["token"].encode()
    flags = [flag for flag in ("optional", "multiple") if arg.get(flag)]
    if flags:
        doc[b"flags"] = set_of_status(flags)
    if arg.get("arguments"):
        doc[b"arguments"] = [argument_doc(sub) for sub in arg["arguments"]]
    return doc


def parse_syntax(syntax: str) -> list[dict]:
    """Turn "SET key value [NX | XX] [EX seconds | PX milliseconds]" into argument docs."""
    tokens = syntax.replace("[", " [ ").replace("]", " ] ").replace("|", " | ").split()
    items, _ = _parse_sequence(tokens, 0)
    return items


def _parse_sequence(tokens: list[str], pos: int) -> tuple[list[dict], int]:
    alternatives: list[list[dict]] = [[]]
    while pos < len(tokens) and tokens[pos] != "]":
        token = tokens[pos]
        if token == "|":
            alternatives.append([])
            pos += 1
            continue
        if token == "[":
            inner, pos = _parse_sequence(tokens, pos + 1)
            pos += 1  # the closing "]"
            item = _group(inner, "block")
            item["optional"] = True
            if pos < len(tokens) and tokens[pos] == "...":
                item["multiple"] = True
                pos += 1
            alternatives[-1].append(item)
            continue  # pos is past the group already
        elif token == "...":
            if alternatives[-1]:
                alternatives[-1][-1]["multiple"] = True
            pos += 1
            continue
        elif token.isupper() or not token[0].isalpha():
            item = {"name": token.lower(), "type": "pure-token", "token": token}
            nxt = tokens[pos + 1] if pos + 1 < len(tokens) else ""
            if nxt and nxt[0].islower():
                item = {"name": nxt, "type": _arg_type(nxt), "token": token}
                pos += 1
        else:
            item = {"name": token, "type": _arg_type(token)}
        alternatives[-1].append(item)
        pos += 1
    if len(alternatives) > 1:
        return [{"name": "condition", "type": "oneof",
                 "arguments": [_group(alt, "block") for alt in alternatives]}], pos
    return alternatives[0], pos


def _group(items: list[dict], kind: str) -> dict:
    if len(items) == 1:
        return dict(items[0])
    return {"name": items[0]["name"] if items else "block", "type": kind, "arguments": items}


def _arg_type(name: str) -> str:
    if name.startswith("key") or name.endswith("key") or name in ("source", "destination", "newkey"):
        return "key"
    if name in ("seconds", "milliseconds", "count", "offset", "start", "end", "index", "db",
                "increment", "decrement", "cursor", "timeout", "numkeys", "unix-time-seconds",
                "unix-time-milliseconds", "bit", "value-integer", "destination-db", "port"):
        return "integer"
    return "string"

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
_PLAIN_GROUPS = frozenset(
    "string bitmap list hash set sorted_set hyperloglog geo stream".split())  # see Command.plain
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
    history: tuple = ()              # COMMAND DOCS history: (version, change) pairs
    key_specs: tuple["KeySpec", ...] = ()  # where the keys are, as Redis 7.0's key specs
    getkeys: Callable | None = None  # Redis's getkeys_proc: keys the specs cannot find (SORT STORE)
    subcommands: dict[bytes, "Command"] = field(default_factory=dict)
    # False for a command whose subcommands Redis dispatches inside one handler (DEBUG): COMMAND
    # INFO/DOCS show none, and an unknown one or a wrong count is one "subcommand syntax" error.
    lists_subcommands: bool = True
    no_auth: bool = field(init=False)  # may run before AUTH
    monitored: bool = field(init=False)  # shown to MONITOR after it ran (observer.py)
    slow_logged: bool = field(init=False)  # may enter the slow log
    touches_keyspace: bool = field(init=False)  # refused to a client in MONITOR mode
    # A data command (of a value type's group, no script): running it changes nothing that
    # decides how the connection dispatches the next command (MULTI, AUTH, the protocol,
    # subscriptions, CLIENT REPLY, MONITOR, tracking, pauses, config, ACL users), so
    # `RedisConnection.process` keeps its per-batch checks across it.
    plain: bool = field(init=False)

    def __post_init__(self) -> None:
        self.no_auth = "no_auth" in self.flags
        self.monitored = not {"admin", "skip_monitor"} & set(self.flags)
        self.slow_logged = "skip_slowlog" not in self.flags
        self.touches_keyspace = bool({"readonly", "write", "may_replicate"} & set(self.flags))
        self.plain = (self.group in _PLAIN_GROUPS and self.touches_keyspace and "noscript" not in self.flags
                      and "admin" not in self.flags and not self.subcommands)

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
    history: tuple = (),
    key_specs: str | None = None,
    getkeys: Callable | None = None,
) -> Callable:
    """Register the decorated handler for the command named by the syntax line's first word
    (first two for a subcommand of a container, e.g. "CLIENT KILL ..."). `key_specs`: the
    command's key specs in `parse_key_specs`'s notation; by default one spec from `keys`
    ("RO access" for a read-only command, "RW update" otherwise). `getkeys(argv)`: Redis's
    getkeys_proc, [(position, flags), ...], for when the specs cannot say (variable flags,
    unknown or incomplete specs)."""

    def register(handler: Callable) -> Callable:
        words = syntax.split()
        container = COMMANDS.get(words[0].lower().encode())
        is_sub = container is not None and len(words) > 1 and words[1].replace("-", "").replace("_", "").isupper()
        name = f"{words[0]}|{words[1]}".lower() if is_sub else words[0].lower()
        specs = parse_key_specs(key_specs) if key_specs is not None else default_key_specs(keys, flags)
        cmd = Command(name, arity, tuple(flags.split()), keys, handler, group, since, summary,
                      syntax, complexity, acl, tips, history, specs, getkeys)
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


def help_reply(argv: list[bytes], lines) -> list:
    """addReplyHelp: a container's HELP text, headed by the command name as the client typed it
    (upper-cased) and ending with HELP itself."""
    name = argv[0].decode("utf-8", "replace").upper()
    return [Simple(f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
            *map(Simple, lines), Simple("HELP"), Simple("    Prints this help.")]


def _forget_request_names(name: str) -> None:
    """A command with subcommands is dispatched through its container, never directly."""
    BY_REQUEST_NAME.pop(name.lower().encode(), None)
    BY_REQUEST_NAME.pop(name.upper().encode(), None)


# -- introspection: COMMAND INFO and COMMAND DOCS ------------------------------------------
# Flags Redis keeps from COMMAND INFO ("hidden on purpose" in addReplyCommandFlags).
HIDDEN_FLAGS = ("may_replicate",)


def info_reply(cmd: Command) -> list:
    first, last, step = cmd.keys
    return [
        cmd.name.encode(),
        cmd.arity,
        set_of_status(flag for flag in cmd.flags if flag not in HIDDEN_FLAGS),
        first,
        last,
        step,
        set_of_status(cmd.acl_categories()),
        ReplySet(tip.encode() for tip in cmd.tips.split()),
        ReplySet(key_specs_reply(cmd)),
        ReplySet(info_reply(sub) for sub in cmd.subcommands.values() if cmd.lists_subcommands),
    ]


def set_of_status(names) -> ReplySet:
    return ReplySet(Simple(n) for n in names)


# -- key specs: where a command's keys are (Redis 7.0's keySpec) ------------------------------
KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
                  "variable_flags")


@dataclass(frozen=True)
class KeySpec:
    """One key spec: its flags; where the search begins, ("index", position) or ("keyword",
    word, startfrom) or ("unknown",); how the keys are found from there, ("range", lastkey,
    keystep, limit) or ("keynum", keynumidx, firstkey, keystep) or ("unknown",)."""

    flags: tuple[str, ...]
    begin: tuple
    find: tuple
    notes: str = ""


def parse_key_specs(text: str) -> tuple[KeySpec, ...]:
    """Specs separated by ";", each "FLAGS... BEGIN [FIND] [-- notes]": BEGIN is index:N,
    keyword:WORD:STARTFROM or unknown (then FIND is unknown too); FIND is range:LAST:STEP:LIMIT
    (default range:0:1:0: one key) or keynum:IDX:FIRST:STEP. Example (LMOVE):
    "RW access delete index:1; RW insert index:2"."""
    specs = []
    for part in filter(str.strip, text.split(";")):
        part, _, notes = part.partition(" -- ")
        flags, begin, find = [], ("unknown",), ("range", 0, 1, 0)
        for word in part.split():
            kind, _, rest = word.partition(":")
            if kind == "index":
                begin = ("index", int(rest))
            elif kind == "keyword":
                keyword, startfrom = rest.split(":")
                begin = ("keyword", keyword, int(startfrom))
            elif kind in ("range", "keynum"):
                find = (kind, *map(int, rest.split(":")))
            elif kind == "unknown":
                begin = find = ("unknown",)
            else:
                flags.append(word)
        specs.append(KeySpec(tuple(f for f in KEY_FLAG_ORDER if f in flags), begin, find, notes.strip()))
    return tuple(specs)


def default_key_specs(keys: tuple[int, int, int], flags: str) -> tuple[KeySpec, ...]:
    first, last, step = keys
    if not first:
        return ()
    spec_flags = ("RO", "access") if "readonly" in flags.split() else ("RW", "update")
    return (KeySpec(spec_flags, ("index", first), ("range", last - first if last >= 0 else last, step, 0)),)


def key_specs_reply(cmd: Command) -> list:
    return [_spec_reply(spec) for spec in cmd.key_specs]


def _spec_reply(spec: KeySpec) -> dict:
    reply = {b"notes": spec.notes.encode()} if spec.notes else {}
    reply[b"flags"] = set_of_status(spec.flags)
    kind, *values = spec.begin
    names = {"index": (b"index",), "keyword": (b"keyword", b"startfrom")}.get(kind, ())
    reply[b"begin_search"] = {b"type": kind.encode(),
                              b"spec": {n: (v.encode() if isinstance(v, str) else v) for n, v in zip(names, values)}}
    kind, *values = spec.find
    names = {"range": (b"lastkey", b"keystep", b"limit"), "keynum": (b"keynumidx", b"firstkey", b"keystep")}.get(kind, ())
    reply[b"find_keys"] = {b"type": kind.encode(), b"spec": dict(zip(names, values))}
    return reply


def has_keys(cmd: Command) -> bool:
    """doesCommandHaveKeys."""
    return cmd.getkeys is not None or any("not_key" not in spec.flags for spec in cmd.key_specs)


def command_keys(cmd: Command, argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """getKeysFromCommandWithSpecs: (position, flags) of each key in argv, from the key specs
    unless they cannot tell (then the command's getkeys, or Redis's genericGetKeys for a numkeys
    command: an atoi-read count, flags unknown)."""
    reliable = not any("variable_flags" in spec.flags for spec in cmd.key_specs)
    if reliable and any("not_key" not in spec.flags for spec in cmd.key_specs):
        found = _keys_from_specs(cmd, argv)
        if found is not None:
            return found
    if cmd.getkeys is not None:
        return cmd.getkeys(argv)
    return _generic_numkeys(cmd, argv)


def _keys_from_specs(cmd: Command, argv: list[bytes]) -> list | None:
    """getKeysUsingKeySpecs; None for an invalid or incomplete result."""
    argc = len(argv)
    found = []
    for spec in cmd.key_specs:
        if "not_key" in spec.flags:
            continue
        first = _begin(spec.begin, argv)
        if first is None:
            return None
        if not first:
            continue
        kind = spec.find[0]
        if kind == "range":
            _, lastkey, step, limit = spec.find
            if lastkey >= 0:
                last = first + lastkey
            else:
                last = argc + lastkey if not limit else first + ((argc - first) // limit + lastkey)
        elif kind == "keynum":
            _, keynumidx, firstkey, step = spec.find
            if keynumidx >= argc or first + keynumidx >= argc:
                return None
            try:
                numkeys = parse_int(argv[first + keynumidx])
            except ErrorReply:
                return None
            if numkeys < 0:
                return None
            first += firstkey
            last = first + numkeys - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        found += [(i, spec.flags) for i in range(first, last + 1, step)]
        if "incomplete" in spec.flags:
            return None
    return found


def _begin(begin: tuple, argv: list[bytes]) -> int | None:
    """Where a spec's keys start: 0 when its keyword is absent, None when it is unknown. As in
    Redis, a search never looks at its end index: the last argument going forward, argument 1
    going backward (MIGRATE's KEYS search, from -2, skips a host named KEYS)."""
    kind = begin[0]
    if kind == "index":
        return begin[1]
    if kind != "keyword":
        return None
    _, keyword, startfrom = begin
    argc = len(argv)
    start = startfrom if startfrom > 0 else argc + startfrom
    end = argc - 1 if startfrom > 0 else 1
    i = start
    while i != end:
        if i >= argc or i < 1:
            break
        if argv[i].split(b"\0", 1)[0].upper() == keyword.encode():
            return i + 1
        i = i + 1 if start <= end else i - 1
    return 0


def _generic_numkeys(cmd: Command, argv: list[bytes]) -> list:
    """genericGetKeys for a command with a keynum spec: the count read with atoi, the keys after
    it, then a store key declared by an index spec before it (ZUNIONSTORE's destination)."""
    store = 0
    for spec in cmd.key_specs:
        if spec.find[0] == "keynum" and spec.begin[0] == "index":
            count_at = spec.begin[1] + spec.find[1]
            first, step = spec.begin[1] + spec.find[2], spec.find[3]
            count = atoi(argv[count_at]) if count_at < len(argv) else 0
            if count < 1 or count > (len(argv) - first) // step:
                return []
            positions = [first + i * step for i in range(count)] + ([store] if store else [])
            return [(position, ()) for position in positions]
        if spec.begin[0] == "index" and spec.find[0] == "range":
            store = spec.begin[1]
    return []


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
                "unix-time-milliseconds", "bit", "value-integer", "destination-db", "port", "version"):
        return "integer"
    return "string"

"""One ACL selector: the root selector of a user, or one given in parentheses.

It holds Redis's command bitmap as a set of commands (`allowed`) plus the reserved bit that
only +@all sets (`future`: describe starts from +@all), the ALLCOMMANDS flag, first-args
(`+select|0`), key patterns with their read/write permissions, and channel patterns.
`apply` is ACLSetSelector, `describe` is ACLDescribeSelector, `check` ACLSelectorCheckCmd.
"""

from __future__ import annotations

from yizhan.redis import glob
from yizhan.redis.acl import categories
from yizhan.redis.acl.categories import CATEGORIES
from yizhan.redis.table import Command, command_keys, has_keys

READ, WRITE = 1, 2
ALL = READ | WRITE
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4

# The reason ACLSetUser fails (Redis's errno values), worded by errors.acl_rule_error.
UNKNOWN, SYNTAX, KEYS_AFTER_ALL, CHANNELS_AFTER_ALL, NO_SUCH_PASSWORD, BAD_HASH, SUB_FIRSTARG = (
    "ENOENT", "EINVAL", "EEXIST", "EISDIR", "ENODEV", "EBADMSG", "ECHILD")

# Commands with channel arguments (Redis's commands_with_channels): first argument, count
# (-1: to the end), and whether they are patterns; only these are checked.
CHANNEL_COMMANDS = {"subscribe": (1, -1, False), "ssubscribe": (1, -1, False), "psubscribe": (1, -1, True),
                    "publish": (1, 1, False), "spublish": (1, 1, False)}
_KEY_ACCESS = {"access": READ, "insert": WRITE, "delete": WRITE, "update": WRITE}


class RuleError(Exception):
    """A rule ACL SETUSER refuses; `reason` is one of the errno names above."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_word(op: bytes, word: bytes) -> bool:
    """strcasecmp on the C string (cut at its first NUL)."""
    return op.split(b"\0", 1)[0].lower() == word


def has_spaces(text: bytes) -> bool:
    """ACLStringHasSpaces: whitespace (C isspace) or NUL."""
    return any(ch in b" \t\n\v\f\r\0" for ch in text)


class Selector:
    __slots__ = ("root", "allowed", "future", "all_commands", "firstargs", "all_keys", "keys",
                 "all_channels", "channels")

    def __init__(self, root: bool = False, all_channels: bool = False):
        self.root = root
        self.allowed: set[Command] = set()
        self.future = False  # the reserved bit of +@all
        self.all_commands = False
        self.firstargs: dict[Command, list[bytes]] = {}
        self.all_keys = False
        self.keys: list[list] = []  # [pattern, READ/WRITE bits]
        self.all_channels = all_channels
        self.channels: list[bytes] = []

    def copy(self) -> "Selector":
        other = Selector(self.root, self.all_channels)
        other.allowed = set(self.allowed)
        other.future, other.all_commands, other.all_keys = self.future, self.all_commands, self.all_keys
        other.firstargs = {cmd: list(args) for cmd, args in self.firstargs.items()}
        other.keys = [list(pattern) for pattern in self.keys]
        other.channels = list(self.channels)
        return other

    @property
    def unrestricted(self) -> bool:
        return self.all_commands and self.all_keys and self.all_channels

    # -- rules ---------------------------------------------------------------------------
    def apply(self, op: bytes) -> None:
        """One rule (ACLSetSelector); RuleError when it is refused."""
        if is_word(op, b"allkeys") or is_word(op, b"~*"):
            self.all_keys = True
            self.keys = []
        elif is_word(op, b"resetkeys"):
            self.all_keys = False
            self.keys = []
        elif is_word(op, b"allchannels") or is_word(op, b"&*"):
            self.all_channels = True
            self.channels = []
        elif is_word(op, b"resetchannels"):
            self.all_channels = False
            self.channels = []
        elif is_word(op, b"allcommands") or is_word(op, b"+@all"):
            self.allowed = set(categories.walk())
            self.future = self.all_commands = True
            self.firstargs = {}
        elif is_word(op, b"nocommands") or is_word(op, b"-@all"):
            self.allowed = set()
            self.future = self.all_commands = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            self._add_channel(op[1:])
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = categories.lookup(op[1:])
            if cmd is None:
                raise RuleError(UNKNOWN)
            self.change(cmd, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            category = categories.category_name(op[2:])
            if category is None:
                raise RuleError(UNKNOWN)
            self.set_category(category, op[:1] == b"+")
        else:
            raise RuleError(SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.all_keys:
            raise RuleError(KEYS_AFTER_ALL)
        flags, offset = 0, 1
        if op[:1] == b"%":
            while offset < len(op):
                ch = op[offset:offset + 1].upper()
                if ch == b"R" and not flags & READ:
                    flags |= READ
                elif ch == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(SYNTAX)
                offset += 1
        else:
            flags = ALL
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError(SYNTAX)
        for existing in self.keys:
            if existing[0] == pattern:
                existing[1] |= flags
                break
        else:
            self.keys.append([pattern, flags])
        self.all_keys = False

    def _add_channel(self, pattern: bytes) -> None:
        if self.all_channels:
            raise RuleError(CHANNELS_AFTER_ALL)
        if has_spaces(pattern):
            raise RuleError(SYNTAX)
        if pattern not in self.channels:
            self.channels.append(pattern)
        self.all_channels = False

    def _allow(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = categories.lookup(name)
            if cmd is None:
                raise RuleError(UNKNOWN)
            self.change(cmd, True)
            return
        base, _, sub = name.rpartition(b"|")
        cmd = categories.lookup(base)
        if cmd is None:
            raise RuleError(UNKNOWN)
        if categories.parent(cmd) is not None:
            raise RuleError(SUB_FIRSTARG)
        if not sub.split(b"\0", 1)[0]:
            raise RuleError(SYNTAX)
        if categories.subcommands(cmd):
            subcmd = categories.lookup(name)
            if subcmd is None:
                raise RuleError(UNKNOWN)
            self.change(subcmd, True)
            return
        allowed = self.firstargs.setdefault(cmd, [])
        if not any(sub.lower() == known.lower() for known in allowed):
            allowed.append(sub)

    def change(self, cmd: Command, allow: bool) -> None:
        """ACLChangeSelectorPerm: a command's bit and its subcommands' bits."""
        self._set_bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        for sub in categories.subcommands(cmd):
            self._set_bit(sub, allow)

    def _set_bit(self, cmd: Command, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.all_commands = False

    def set_category(self, category: str, allow: bool) -> None:
        for cmd in categories.in_category(category):
            self.change(cmd, allow)

    # -- description (ACL LIST, ACL GETUSER) ----------------------------------------------
    def describe(self) -> bytes:
        """ACLDescribeSelector: keys, channels, then the command rules."""
        parts = [b"~*"] if self.all_keys else [pattern_text(p) for p in self.keys]
        if self.all_channels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts += [b"&" + channel for channel in self.channels]
        parts.append(self.describe_commands())
        return b" ".join(parts)

    def describe_keys(self) -> bytes:
        return b"~*" if self.all_keys else b" ".join(pattern_text(p) for p in self.keys)

    def describe_channels(self) -> bytes:
        return b"&*" if self.all_channels else b" ".join(b"&" + channel for channel in self.channels)

    def describe_commands(self) -> bytes:
        """ACLDescribeSelectorCommandRules: +@all or -@all, the categories that fit best
        (applied to a fake selector as they are chosen), then single commands and first-args."""
        additive = not self.future
        fake = Selector()
        fake.apply(b"-@all" if additive else b"+@all")
        rules = [b"-@all" if additive else b"+@all"]
        remaining = set(self.allowed)  # Redis's temp selector
        applied = set()
        while True:
            best, min_diff, max_same = None, None, 0
            for category in CATEGORIES:
                if category in applied:
                    continue
                members = categories.in_category(category)
                on = sum(1 for cmd in members if cmd in remaining)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (min_diff is None or diff < min_diff or (diff == min_diff and same > max_same)):
                    best, min_diff, max_same = category, diff, same
            if best is None:
                break
            rules.append((b"+@" if additive else b"-@") + best.encode())
            fake.set_category(best, additive)
            temp = Selector()
            temp.allowed = remaining
            temp.set_category(best, not additive)
            applied.add(best)
        rules += self._single_commands(fake, categories.top_level())
        return b" ".join(rules)

    def _single_commands(self, fake: "Selector", commands) -> list[bytes]:
        rules = []
        for cmd in commands:
            mine = cmd in self.allowed
            if mine != (cmd in fake.allowed):
                rules.append((b"+" if mine else b"-") + cmd.name.encode())
                fake.change(cmd, mine)
            rules += self._single_commands(fake, categories.subcommands(cmd))
            if not mine:
                rules += [b"+" + cmd.name.encode() + b"|" + arg for arg in self.firstargs.get(cmd, ())]
        return rules

    # -- checks ----------------------------------------------------------------------------
    def check(self, cmd: Command, argv: list[bytes], keys_cache: list) -> tuple[int, int]:
        """ACLSelectorCheckCmd: (OK, 0) or (the denial, the argument position at fault)."""
        if not self.all_commands and not cmd.no_auth and cmd not in self.allowed:
            allowed = self.firstargs.get(cmd)
            if len(argv) < 2 or not allowed:
                return DENIED_CMD, 0
            first = argv[2 if categories.parent(cmd) is not None else 1].split(b"\0", 1)[0].lower()
            if not any(first == arg.split(b"\0", 1)[0].lower() for arg in allowed):
                return DENIED_CMD, 0
        if not self.all_keys and has_keys(cmd):
            if not keys_cache:
                keys_cache.append(command_keys(cmd, argv))
            for position, flags in keys_cache[0]:
                if not self.key_allowed(argv[position], flags):
                    return DENIED_KEY, position
        if not self.all_channels:
            spec = CHANNEL_COMMANDS.get(cmd.name)
            if spec is not None:
                start, count, is_pattern = spec
                stop = len(argv) if count == -1 else min(len(argv), start + count)
                for position in range(start, stop):
                    if not channel_allowed(self.channels, argv[position], is_pattern):
                        return DENIED_CHANNEL, position
        return OK, 0

    def key_allowed(self, key: bytes, spec_flags) -> bool:
        if self.all_keys:
            return True
        needed = 0
        for flag in spec_flags:
            needed |= _KEY_ACCESS.get(flag, 0)
        return any(flags & needed == needed and glob.match(pattern, key) for pattern, flags in self.keys)


def channel_allowed(patterns, channel: bytes, is_pattern: bool) -> bool:
    """ACLCheckChannelAgainstList: a pattern argument (PSUBSCRIBE) must equal an ACL
    pattern; a channel must match one."""
    if is_pattern:
        return any(pattern.split(b"\0", 1)[0] == channel.split(b"\0", 1)[0] for pattern in patterns)
    return any(glob.match(pattern, channel) for pattern in patterns)


def pattern_text(pattern: list) -> bytes:
    """sdsCatPatternString."""
    text, flags = pattern
    prefix = {ALL: b"~", READ: b"%R~", WRITE: b"%W~"}[flags]
    return prefix + text

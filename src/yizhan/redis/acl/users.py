"""An ACL user: its flags, password hashes and selectors; ACL SETUSER's rules (ACLSetUser),
the rule string of ACL LIST (ACLDescribeUser) and the map of ACL GETUSER."""

from __future__ import annotations

import hashlib

from yizhan.redis.acl.selectors import BAD_HASH, NO_SUCH_PASSWORD, RuleError, Selector, is_word
from yizhan.resp import ReplySet


def hash_password(password: bytes) -> bytes:
    """ACLHashPassword: the SHA-256 in lower-case hex."""
    return hashlib.sha256(password).hexdigest().encode()


def _valid_hash(text: bytes) -> bool:
    return len(text) == 64 and all(ch in b"0123456789abcdef" for ch in text)


class User:
    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors", "_described", "unrestricted")

    def __init__(self, name: bytes, channels_default: bool = False):
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize: str | None = None  # "skip-sanitize-payload" or "sanitize-payload"
        self.passwords: list[bytes] = []
        self.selectors = [Selector(root=True, all_channels=channels_default)]
        self._described: bytes | None = None
        # Every command on every key and channel (the root selector has allcommands, allkeys
        # and allchannels): the dispatcher then skips the check. A plain attribute, kept up
        # to date by every change, so the test is one attribute read.
        self.unrestricted = False

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy(self) -> "User":
        other = User(self.name)
        other.copy_from(self)
        return other

    def copy_from(self, other: "User") -> None:
        """ACLCopyUser: the rules of `other`, keeping this name."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [selector.copy() for selector in other.selectors]
        self._described = None
        self.unrestricted = other.unrestricted

    # -- rules -----------------------------------------------------------------------------
    def apply(self, op: bytes, channels_default: bool = False) -> None:
        """One rule (ACLSetUser); RuleError when refused (this user may be half changed:
        ACL SETUSER applies rules to a copy)."""
        self._described = None
        try:
            self._apply(op, channels_default)
        finally:
            self.unrestricted = self.root.unrestricted

    def _apply(self, op: bytes, channels_default: bool) -> None:
        if not op:
            return
        if is_word(op, b"on"):
            self.enabled = True
        elif is_word(op, b"off"):
            self.enabled = False
        elif is_word(op, b"skip-sanitize-payload"):
            self.sanitize = "skip-sanitize-payload"
        elif is_word(op, b"sanitize-payload"):
            self.sanitize = "sanitize-payload"
        elif is_word(op, b"nopass"):
            self.nopass = True
            self.passwords = []
        elif is_word(op, b"resetpass"):
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else self._hash_rule(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else self._hash_rule(op[1:])
            if digest not in self.passwords:
                raise RuleError(NO_SUCH_PASSWORD)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(all_channels=channels_default)
            for rule in split_args(op[1:-1]):
                selector.apply(rule)
            self.selectors.append(selector)
        elif is_word(op, b"clearselectors"):
            del self.selectors[1:]
        elif is_word(op, b"reset"):
            for rule in (b"resetpass", b"resetkeys", b"resetchannels"):
                self.apply(rule)
            if channels_default:
                self.apply(b"allchannels")
            for rule in (b"off", b"sanitize-payload", b"clearselectors", b"-@all"):
                self.apply(rule)
        else:
            self.root.apply(op)

    @staticmethod
    def _hash_rule(text: bytes) -> bytes:
        if not _valid_hash(text):
            raise RuleError(BAD_HASH)
        return text

    # -- description ------------------------------------------------------------------------
    def flags(self) -> list[bytes]:
        names = [b"on" if self.enabled else b"off"]
        if self.nopass:
            names.append(b"nopass")
        if self.sanitize is not None:
            names.append(self.sanitize.encode())
        return names

    def describe(self) -> bytes:
        """ACLDescribeUser: flags, #hashes, the root selector, then (selectors)."""
        if self._described is None:
            parts = self.flags() + [b"#" + digest for digest in self.passwords]
            parts.append(self.root.describe())
            parts += [b"(" + selector.describe() + b")" for selector in self.selectors[1:]]
            self._described = b" ".join(parts)
        return self._described

    def getuser_reply(self) -> dict:
        reply = {b"flags": ReplySet(self.flags()), b"passwords": list(self.passwords)}
        reply.update(_selector_fields(self.root))
        reply[b"selectors"] = [_selector_fields(selector) for selector in self.selectors[1:]]
        return reply

    def check_password(self, password: bytes) -> bool:
        if not self.enabled:
            return False
        return self.nopass or hash_password(password) in self.passwords

    def channel_patterns(self) -> tuple[bool, list[bytes]]:
        """(any selector allows every channel, all channel patterns of all selectors)."""
        if any(selector.all_channels for selector in self.selectors):
            return True, []
        return False, [pattern for selector in self.selectors for pattern in selector.channels]


def _selector_fields(selector: Selector) -> dict:
    return {b"commands": selector.describe_commands(), b"keys": selector.describe_keys(),
            b"channels": selector.describe_channels()}


def merge_selectors(args: list[bytes]) -> list[bytes] | int:
    """ACLMergeSelectorArguments: a selector spread over several arguments joined into one;
    the index of an unmatched "(" argument when one is left open."""
    merged, current, opened = [], None, -1
    for index, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            current, opened = op, index
            continue
        if opened != -1:
            current += b" " + op
            if op[-1:] == b")":
                opened = -1
                merged.append(current)
            continue
        merged.append(op)
    return opened if opened != -1 else merged


def split_args(text: bytes) -> list[bytes]:
    """sdssplitargs for the inside of a selector: words, or quoted words; unbalanced quotes
    give no words at all (Redis then makes an empty selector)."""
    out, i, n = [], 0, len(text)
    while True:
        while i < n and text[i:i + 1].isspace():
            i += 1
        if i >= n:
            return out
        quote = text[i:i + 1] if text[i:i + 1] in (b'"', b"'") else None
        if quote:
            end = text.find(quote, i + 1)
            if end == -1:
                return []
            out.append(text[i + 1:end])
            i = end + 1
        else:
            start = i
            while i < n and not text[i:i + 1].isspace():
                i += 1
            out.append(text[start:i])


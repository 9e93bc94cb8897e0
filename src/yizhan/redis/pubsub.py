"""Publish/subscribe state: who listens to which channel, pattern or shard channel, message
delivery as RESP2 arrays or RESP3 pushes, and keyspace notifications (which are messages too).

Subscribers are kept in insertion-ordered dicts so delivery order is subscription order, as in
Redis.
"""

from __future__ import annotations

from yizhan.redis.glob import match as glob_match
from yizhan.resp import Push

# notify-keyspace-events classes, as Redis spells them.
_CLASSES = "g$lshzxetmnd"   # generic string list set hash zset expired evicted stream key-miss new module
_ALL_ALIAS = "g$lshzxetd"   # what "A" stands for


def parse_notify_flags(text: str) -> str | None:
    """The canonical flag string for notify-keyspace-events, or None when it has unknown flags."""
    flags = set()
    for ch in text:
        if ch == "A":
            flags.update(_ALL_ALIAS)
        elif ch in _CLASSES or ch in "KE":
            flags.add(ch)
        else:
            return None
    return format_notify_flags(flags)


def format_notify_flags(flags: set[str]) -> str:
    """As Redis's keyspaceEventsFlagsToString: the classes ("A" for all of its alias), K, E,
    then m. (Redis also hides n behind A; here "An" stays, so that the value read back by
    CONFIG GET keeps the n class it stands for.)"""
    if set(_ALL_ALIAS) <= flags:
        out = "A" + ("n" if "n" in flags else "")
    else:
        out = "".join(c for c in "g$lshzxetdn" if c in flags)
    for letter in "KEm":
        if letter in flags:
            out += letter
    return out


class PubSub:
    def __init__(self):
        self.channels: dict[bytes, dict] = {}
        self.patterns: dict[bytes, dict] = {}
        self.shard_channels: dict[bytes, dict] = {}
        self.notify_flags = ""

    # -- subscriptions -------------------------------------------------------------------
    @staticmethod
    def _add(table: dict, name: bytes, client) -> bool:
        subscribers = table.setdefault(name, {})
        if client in subscribers:
            return False
        subscribers[client] = None
        return True

    @staticmethod
    def _remove(table: dict, name: bytes, client) -> bool:
        subscribers = table.get(name)
        if subscribers is None or client not in subscribers:
            return False
        del subscribers[client]
        if not subscribers:
            del table[name]
        return True

    def subscribe(self, client, channel: bytes) -> bool:
        return self._add(self.channels, channel, client)

    def unsubscribe(self, client, channel: bytes) -> bool:
        return self._remove(self.channels, channel, client)

    def psubscribe(self, client, pattern: bytes) -> bool:
        return self._add(self.patterns, pattern, client)

    def punsubscribe(self, client, pattern: bytes) -> bool:
        return self._remove(self.patterns, pattern, client)

    def ssubscribe(self, client, channel: bytes) -> bool:
        return self._add(self.shard_channels, channel, client)

    def sunsubscribe(self, client, channel: bytes) -> bool:
        return self._remove(self.shard_channels, channel, client)

    def drop_client(self, client) -> None:
        for channel in list(client.subscriptions):
            self.unsubscribe(client, channel)
        for pattern in list(client.patterns):
            self.punsubscribe(client, pattern)
        for channel in list(client.shard_subscriptions):
            self.sunsubscribe(client, channel)

    # -- delivery ------------------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes) -> int:
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            for client in list(subscribers):
                client.deliver(Push([b"message", channel, message]))
                receivers += 1
        if self.patterns:
            for pattern, clients in list(self.patterns.items()):
                if glob_match(pattern, channel):
                    for client in list(clients):
                        client.deliver(Push([b"pmessage", pattern, channel, message]))
                        receivers += 1
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        for client in list(subscribers):
            client.deliver(Push([b"smessage", channel, message]))
        return len(subscribers)

    def notify(self, klass: str, event: str, key: bytes, db_index: int) -> None:
        """A keyspace notification, if `notify-keyspace-events` asks for this class."""
        flags = self.notify_flags
        if not flags or (klass not in flags and not ("A" in flags and klass in _ALL_ALIAS)):
            return
        if not (self.channels or self.patterns):
            return
        if "K" in flags:
            self.publish(b"__keyspace@%d__:%b" % (db_index, key), event.encode())
        if "E" in flags:
            self.publish(b"__keyevent@%d__:%b" % (db_index, event.encode()), key)

"""Keyspace notifications as tests collect them: what a redis-py pubsub subscribed with
PSUBSCRIBE to `__keyspace@*`/`__keyevent@*` patterns has received."""

from __future__ import annotations

import time


def pattern_messages(pubsub, count: int, timeout: float = 5.0) -> list[tuple[bytes, bytes]]:
    """Up to `count` pattern messages, as (channel, data), waiting at most `timeout` seconds."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None and message["type"] == "pmessage":
            out.append((message["channel"], message["data"]))
    return out


def collect_events(pubsub, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
    """`pattern_messages` decoded, the channel cut after its first ':': (event, key) pairs from
    `__keyevent@N__:*`, (key, event) pairs from `__keyspace@N__:*`."""
    return [(channel.split(b":", 1)[1].decode(), data.decode())
            for channel, data in pattern_messages(pubsub, count, timeout)]

"""Test helpers for the message-side queue features (TTL, dead-lettering, limits, priorities):
read a message with its exact property bytes (types included) through raw frames, and
normalize what differs between two brokers by construction (generated names, the clock)."""

from __future__ import annotations

import time

from yizhan.amqp import codec
from yizhan.amqp.codec import ARRAY, TABLE, TIMESTAMP, FieldTable


def raw_get(raw, queue: str, channel: int = 1):
    """basic.get (no-ack) over a RawAMQP: None, or (body, Properties, exchange, routing key,
    redelivered, message count) with the properties decoded by type."""
    from pamqp import commands

    raw.send(channel, commands.Basic.Get(queue=queue, no_ack=True))
    method = raw.expect_method(channel)
    if isinstance(method, commands.Basic.GetEmpty):
        return None
    _, _, _, header = raw.receive()
    size = int.from_bytes(header[4:12], "big")
    props = codec.decode_properties(header[12:])
    body = b""
    while len(body) < size:
        body += raw.receive()[3]
    return (body, props, method.exchange, method.routing_key, method.redelivered,
            method.message_count)


def normalized(value, names: dict, now_s: float | None = None):
    """A typed header value with test names replaced by their roles (names: actual ->
    placeholder) and timestamps checked to be within 10 s of now, then replaced by "T"."""
    now_s = time.time() if now_s is None else now_s
    if isinstance(value, FieldTable):
        return [(key, kind, _value(kind, v, names, now_s)) for key, kind, v in value]
    return _value(None, value, names, now_s)


def _value(kind, value, names, now_s):
    if kind is TIMESTAMP:
        assert abs(value - now_s) < 10, (value, now_s)
        return "T"
    if kind is TABLE:
        return normalized(value, names, now_s)
    if kind is ARRAY:
        return [(k, _value(k, v, names, now_s)) for k, v in value]
    if isinstance(value, bytes):
        text = value.decode("utf-8", "surrogateescape")
        return names.get(text, text)
    return value

"""Driving a sans-IO protocol core (Redis's `RedisConnection`, AMQP's `AMQPConnection`) in a
test, as a transport does: bytes in through `receive`, then what it has to send."""

from __future__ import annotations

from yizhan.testing.raw import encode_command


def exchange(conn, data: bytes) -> bytes:
    """Feed `data` to the core; the bytes it answers with."""
    conn.receive(data)
    return conn.data_to_send()


def request(conn, *commands) -> bytes:
    """Redis: send `commands` (argument lists) in one read; the replies' bytes."""
    return exchange(conn, b"".join(encode_command(command) for command in commands))

"""Quorum queues' delivery count as RabbitMQ 3.10 keeps it (rabbit_fifo): every delivery
carries `x-delivery-count` (a long, in the sorted header table), each return (nack or reject
with requeue, a closed channel) counts one, and past `x-delivery-limit` the message is
dead-lettered with reason delivery_limit (or dropped without a dead-letter exchange)."""

import time

import pika
import pytest

from yizhan.amqp.codec import LONG, SIGNEDINT
from yizhan.testing.amqp import publish_confirmed, queue_counts, unique, wait_until
from yizhan.testing.amqp_messages import raw_get

P = pika.BasicProperties


@pytest.fixture
def quorum(broker):
    """Declares quorum queues on `broker` and deletes them after the test."""
    made = []
    ch = broker.channel()

    def declare(**arguments):
        name = unique("qq")
        arguments["x-queue-type"] = "quorum"
        ch.queue_declare(name, durable=True, arguments=arguments)
        made.append(name)
        return name

    yield declare
    cleanup = broker.channel()
    for name in made:
        cleanup.queue_delete(name)


def test_every_delivery_carries_the_count_in_sorted_headers(broker, quorum):
    ch = broker.channel()
    q = quorum()
    publish_confirmed(ch.connection, "", q, [b"m"], P(headers={"z": 1, "a": 2}))
    publish_confirmed(ch.connection, "", q, [b"n"], P(content_type="text/plain"))
    raw = broker.raw()
    first, second = raw_get(raw, q), raw_get(raw, q)
    assert first[1].headers == [("a", SIGNEDINT, 2), ("x-delivery-count", LONG, 0),
                                ("z", SIGNEDINT, 1)]
    assert second[1].headers == [("x-delivery-count", LONG, 0)]
    assert second[1].content_type == b"text/plain"


def test_consumers_see_the_count_only_once_a_message_came_back(broker, quorum):
    """basic.get always carries the count; a delivery to a consumer carries none the first time
    (the table stays as published, unsorted) and the count after a return."""
    ch = broker.channel()
    q = quorum()
    publish_confirmed(ch.connection, "", q, [b"m"], P(headers={"z": 1, "a": 2}))
    publish_confirmed(ch.connection, "", q, [b"n"])
    seen = []
    for method, props, body in ch.consume(q, inactivity_timeout=5):
        assert method is not None, f"only {seen} arrived"
        seen.append((body, method.redelivered, props.headers))
        if len(seen) == 1:
            ch.basic_nack(method.delivery_tag, requeue=True)
        else:
            ch.basic_ack(method.delivery_tag)
        if len(seen) == 3:
            break
    ch.cancel()
    assert seen == [(b"m", False, {"z": 1, "a": 2}), (b"n", False, None),
                    (b"m", True, {"a": 2, "x-delivery-count": 1, "z": 1})]
    assert list(seen[0][2]) == ["z", "a"] and list(seen[2][2]) == ["a", "x-delivery-count", "z"]


def test_returns_count_and_the_limit_dead_letters(broker, quorum):
    ch = broker.channel()
    dead = ch.queue_declare(unique("dead"), exclusive=True).method.queue
    q = quorum(**{"x-delivery-limit": 2, "x-dead-letter-exchange": "",
                  "x-dead-letter-routing-key": dead})
    publish_confirmed(ch.connection, "", q, [b"m"], P(headers={"h": 1}))
    seen = []
    for _ in range(3):
        method, props, body = ch.basic_get(q)
        seen.append((body, method.redelivered, props.headers["x-delivery-count"]))
        ch.basic_nack(method.delivery_tag, requeue=True)
    assert seen == [(b"m", False, 0), (b"m", True, 1), (b"m", True, 2)]
    wait_until(ch.connection, lambda: queue_counts(ch, dead)[0] == 1, "the dead letter")
    method, props, body = ch.basic_get(dead, auto_ack=True)
    assert props.headers["x-first-death-reason"] == "delivery_limit"
    assert [(d["reason"], d["queue"], d["count"]) for d in props.headers["x-death"]] == [
        ("delivery_limit", q, 1)]
    assert "x-delivery-count" not in props.headers and props.headers["h"] == 1
    assert queue_counts(ch, q)[0] == 0


def test_closed_channels_count_and_limit_zero_drops(broker, quorum):
    connection = broker.connect()
    q = quorum(**{"x-delivery-limit": 1})
    publish_confirmed(connection, "", q, [b"c"])
    counts = []
    for _ in range(3):
        ch = connection.channel()
        method, props, body = ch.basic_get(q)
        counts.append(props and props.headers["x-delivery-count"])
        ch.close()
        time.sleep(0.1)
    assert counts == [0, 1, None]
    zero = quorum(**{"x-delivery-limit": 0})
    ch = connection.channel()
    publish_confirmed(connection, "", zero, [b"z"])
    method, props, _ = ch.basic_get(zero)
    ch.basic_reject(method.delivery_tag, requeue=True)
    time.sleep(0.1)
    assert queue_counts(ch, zero)[0] == 0


def test_where_returns_go(broker, quorum):
    """Under a delivery limit a requeued message is served first; without one a nack or reject
    sends it to the back, but a closed channel's deliveries still come back first."""
    connection = broker.connect()
    ch = connection.channel()
    limited, plain = quorum(**{"x-delivery-limit": 5}), quorum()
    seen = {}
    for q in (limited, plain):
        publish_confirmed(connection, "", q, [b"a", b"b"])
        method, _, _ = ch.basic_get(q)
        ch.basic_nack(method.delivery_tag, requeue=True)
        time.sleep(0.1)
        other = connection.channel()
        method, props, body = other.basic_get(q)
        first = (body, props.headers["x-delivery-count"])
        other.close()
        time.sleep(0.1)
        got = [first]
        for _ in range(2):
            method, props, body = ch.basic_get(q, auto_ack=True)
            got.append((body, props.headers["x-delivery-count"]))
        seen[q] = got
    assert seen[limited] == [(b"a", 1), (b"a", 2), (b"b", 0)]
    assert seen[plain] == [(b"b", 0), (b"b", 1), (b"a", 1)]

"""Queue and exchange declarations as RabbitMQ answers them: server-named queues, DeclareOk
counts, passive declares, idempotent re-declares, deletes and unbinds of things that are not
there, and queues that outlive (or not) the connection that declared them."""

import re

import pika
import pytest

from yizhan.testing.amqp import publish_confirmed, queue_counts, queue_exists, unique

SERVER_NAME = re.compile(r"^amq\.gen-[A-Za-z0-9_-]{22}$")


def test_server_named_queues(broker):
    ch = broker.channel()
    first = ch.queue_declare("", exclusive=True).method
    second = ch.queue_declare("", exclusive=True).method
    assert SERVER_NAME.match(first.queue) and SERVER_NAME.match(second.queue)
    assert first.queue != second.queue
    assert (first.message_count, first.consumer_count) == (0, 0)


def test_redeclare_returns_counts(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("q"), exclusive=True).method.queue
    publish_confirmed(connection, "", q, [b"1", b"2"])
    connection.channel().basic_consume(q, lambda *a: None)
    ch.basic_qos(prefetch_count=1)
    ok = ch.queue_declare(q, exclusive=True).method
    # the consumer (no prefetch limit) has taken both messages: none is ready
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 1)


def test_passive_declare_returns_counts(broker):
    ch = broker.channel()
    q = ch.queue_declare(unique("q"), exclusive=True).method.queue
    publish_confirmed(ch.connection, "", q, [b"1", b"2", b"3"])
    ok = ch.queue_declare(q, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 3, 0)
    # passive ignores the other flags
    assert ch.queue_declare(q, passive=True, durable=True, auto_delete=True).method.message_count == 3


def test_passive_exchange_declare_ignores_type(broker):
    ch = broker.channel()
    assert ch.exchange_declare("amq.topic", "fanout", passive=True).method.NAME == "Exchange.DeclareOk"


def test_deleting_what_is_not_there_succeeds(broker):
    ch = broker.channel()
    assert ch.queue_delete(unique("nope")).method.message_count == 0
    assert ch.exchange_delete(unique("nope")).method.NAME == "Exchange.DeleteOk"
    q = ch.queue_declare("", exclusive=True).method.queue
    assert ch.queue_unbind(q, "amq.direct", "never-bound").method.NAME == "Queue.UnbindOk"
    assert ch.queue_unbind(q, unique("no-exchange"), "k").method.NAME == "Queue.UnbindOk"
    assert ch.exchange_unbind(unique("a"), unique("b"), "k").method.NAME == "Exchange.UnbindOk"


def test_durable_declarations(broker):
    ch = broker.channel()
    q, x = unique("durable"), unique("durable")
    try:
        assert ch.queue_declare(q, durable=True).method.queue == q
        assert ch.queue_declare(q, durable=True).method.queue == q          # equivalent: fine
        ch.exchange_declare(x, "topic", durable=True)
        ch.exchange_declare(x, "topic", durable=True)
        ch.queue_bind(q, x, "#")
        publish_confirmed(ch.connection, x, "k", [b"persistent"], pika.BasicProperties(delivery_mode=2))
        assert queue_counts(ch, q) == (1, 0)
    finally:
        ch.queue_delete(q)
        ch.exchange_delete(x)


def test_a_shared_queue_outlives_its_declaring_connection(broker):
    first = broker.connect()
    q = first.channel().queue_declare(unique("shared")).method.queue
    publish_confirmed(first, "", q, [b"waiting"])
    first.close()
    ch = broker.channel()
    try:
        assert queue_counts(ch, q) == (1, 0)
    finally:
        ch.queue_delete(q)


def test_exclusive_queue_is_usable_from_every_channel_of_its_connection(broker):
    connection = broker.connect()
    a, b = connection.channel(), connection.channel()
    q = a.queue_declare(unique("ex"), exclusive=True).method.queue
    b.queue_bind(q, "amq.fanout")
    b.basic_publish("", q, b"x")
    assert b.basic_get(q, auto_ack=True)[2] == b"x"
    assert b.queue_purge(q).method.message_count == 0
    assert b.queue_delete(q).method.message_count == 0
    assert not queue_exists(connection, q)


@pytest.mark.parametrize("name", ["with space", "ünïcödé", "slash/and.dots", "x" * 255])
def test_queue_names(broker, name):
    ch = broker.channel()
    q = name if len(name) == 255 else f"{name}-{unique('q')}"
    assert ch.queue_declare(q, exclusive=True).method.queue == q
    ch.basic_publish("", q, b"found")
    assert ch.basic_get(q, auto_ack=True)[2] == b"found"


def test_purge_returns_the_count(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    publish_confirmed(ch.connection, "", q, [b"m"] * 4)
    assert ch.queue_purge(q).method.message_count == 4
    assert ch.queue_purge(q).method.message_count == 0


def test_empty_queue_name_means_the_channels_last_declared_queue(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind("", "amq.fanout", "k")
    publish_confirmed(connection, "amq.fanout", "any", [b"via binding"])
    method, _, body = ch.basic_get("")
    assert (method.routing_key, body) == ("any", b"via binding")
    publish_confirmed(connection, "", q, [b"direct"])
    assert ch.queue_purge("").method.message_count == 1
    got = []
    ch.basic_consume("", lambda c, m, p, b: got.append(b), auto_ack=True)
    publish_confirmed(connection, "", q, [b"consumed"])
    from yizhan.testing.amqp import wait_until

    wait_until(connection, lambda: got == [b"consumed"], "the delivery")
    ch.queue_unbind("", "amq.fanout", "k")
    assert queue_exists(connection, q)


def test_server_named_queue_can_be_declared_passively(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ok = ch.queue_declare(q, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 0)


def test_delete_counts_ready_messages_and_acks_after_delete_are_fine(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("q"), exclusive=True).method.queue
    publish_confirmed(connection, "", q, [b"1", b"2", b"3"])
    first = ch.basic_get(q)[0].delivery_tag
    second = ch.basic_get(q)[0].delivery_tag
    assert ch.queue_delete(q).method.message_count == 1            # the unacked ones are not counted
    ch.basic_ack(first)                                             # their queue is gone: no error
    ch.basic_nack(second, requeue=True)
    assert ch.queue_declare("", exclusive=True).method.message_count == 0
    assert not queue_exists(connection, q)


def test_durable_exclusive_queue(broker):
    connection = broker.connect()
    q = connection.channel().queue_declare(unique("dx"), durable=True, exclusive=True).method.queue
    connection.close()
    from yizhan.testing.amqp import wait_gone

    wait_gone(broker.connect(), q)


def test_nowait_methods_get_no_reply(broker):
    """With nowait set the broker sends nothing back: the reply to the next synchronous method
    is the next frame."""
    from pamqp import commands as C

    raw = broker.raw()
    q, x = unique("nw"), unique("nw")
    steps = [
        C.Exchange.Declare(exchange=x, exchange_type="fanout", auto_delete=True, nowait=True),
        C.Queue.Declare(queue=q, exclusive=True, nowait=True),
        C.Queue.Bind(queue=q, exchange=x, nowait=True),
        C.Exchange.Bind(destination=x, source="amq.fanout", nowait=True),
        C.Basic.Consume(queue=q, consumer_tag="nw", nowait=True),
        C.Basic.Cancel(consumer_tag="nw", nowait=True),
        C.Exchange.Unbind(destination=x, source="amq.fanout", nowait=True),
        C.Queue.Purge(queue=q, nowait=True),
        C.Confirm.Select(nowait=True),
    ]
    for method in steps:
        raw.send(1, method)
        reply = raw.call(1, C.Basic.Qos(prefetch_count=0))
        assert reply.name == "Basic.QosOk", (method.name, reply.name)
    ok = raw.call(1, C.Queue.Declare(queue=q, passive=True))
    assert (ok.name, ok.consumer_count) == ("Queue.DeclareOk", 0)
    raw.send(1, C.Queue.Unbind(queue=q, exchange=x))       # Queue.Unbind has no nowait
    assert raw.expect_method(1).name == "Queue.UnbindOk"
    raw.send(1, C.Queue.Delete(queue=q, nowait=True), C.Exchange.Delete(exchange=x, nowait=True))
    assert raw.call(1, C.Basic.Qos(prefetch_count=0)).name == "Basic.QosOk"
    assert not queue_exists(broker.connect(), q)

"""Consumer priorities (`x-priority` on basic.consume) as RabbitMQ 3.10 applies them: the
highest-priority consumers get messages while they have credit, round-robin among equals; a
lower band is served only when every higher consumer is blocked, and takes over the moment
they are; negative priorities; the argument's validation errors, per queue type. Classic and
quorum queues (rabbit_fifo's service queue is a priority queue too) are both compared.

No test asserts that something did *not* arrive by waiting: full windows are read from the
queue's ready count."""

from decimal import Decimal

import pytest

from yizhan.testing.amqp import Recorder, broker_error, publish_confirmed, queue_counts, unique, wait_until


def publish(connection, q, n, start=0):
    publish_confirmed(connection, "", q, [f"m{i}".encode() for i in range(start, start + n)])


@pytest.fixture(params=["classic", "quorum"])
def queue(request, broker):
    """(connection, channel, queue) of each type; the quorum one is deleted afterwards."""
    connection = broker.connect()
    ch = connection.channel()
    if request.param == "classic":
        yield connection, ch, ch.queue_declare(unique("prio"), exclusive=True).method.queue
        return
    q = ch.queue_declare(unique("prio"), durable=True,
                         arguments={"x-queue-type": "quorum"}).method.queue
    yield connection, ch, q
    broker.connect().channel().queue_delete(q)


def test_equal_high_priorities_share_round_robin(queue):
    connection, ch, q = queue
    rec = Recorder()
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume(q, rec, consumer_tag="low", arguments={"x-priority": -5})
    ch.basic_consume(q, rec, consumer_tag="a", arguments={"x-priority": 3})
    ch.basic_consume(q, rec, consumer_tag="b", arguments={"x-priority": 3})
    ch.basic_consume(q, rec, consumer_tag="zero")
    publish(connection, q, 8)
    wait_until(connection, lambda: len(rec.got) == 8, "every window to fill")
    assert rec.tags() == [("a", "m0"), ("b", "m1"), ("a", "m2"), ("b", "m3"),
                          ("zero", "m4"), ("zero", "m5"), ("low", "m6"), ("low", "m7")]


def test_the_higher_consumer_takes_over_when_it_has_credit_again(queue):
    connection, ch, q = queue
    rec = Recorder()
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, rec, consumer_tag="high", arguments={"x-priority": 10})
    ch.basic_qos(prefetch_count=0)
    ch.basic_consume(q, rec, consumer_tag="low")
    publish(connection, q, 3)
    wait_until(connection, lambda: len(rec.got) == 3, "three deliveries")
    assert rec.tags() == [("high", "m0"), ("low", "m1"), ("low", "m2")]
    ch.basic_ack(rec.got[0][3])
    publish(connection, q, 1, start=3)
    wait_until(connection, lambda: len(rec.got) == 4, "the next delivery")
    assert rec.tags()[-1] == ("high", "m3")


def test_a_later_high_priority_consumer_gets_the_waiting_messages(queue):
    connection, ch, q = queue
    rec = Recorder()
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, rec, consumer_tag="low")
    publish(connection, q, 4)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume(q, rec, consumer_tag="high", arguments={"x-priority": 1})
    wait_until(connection, lambda: len(rec.got) == 3, "two more deliveries")
    assert rec.tags() == [("low", "m0"), ("high", "m1"), ("high", "m2")]
    assert queue_counts(ch, q) == (1, 2)


@pytest.mark.parametrize("value,kind", [("10", "longstr"), (Decimal("1.5"), "decimal"), (True, "bool")])
def test_x_priority_must_be_an_integer(broker, value, kind):
    ch = broker.channel()
    q = ch.queue_declare(unique("prio"), exclusive=True).method.queue
    assert broker_error(ch.basic_consume, q, lambda *a: None, arguments={"x-priority": value}) == (
        "channel", 406, f"PRECONDITION_FAILED - invalid arg 'x-priority' for queue '{q}' in vhost "
                        f"'/': \"expected integer, got {kind}\"")


def test_x_priority_is_not_a_stream_consumer_argument(broker):
    ch = broker.channel()
    q = unique("sq")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "stream"})
    try:
        ch.basic_qos(prefetch_count=1)
        assert broker_error(ch.basic_consume, q, lambda *a: None, arguments={"x-priority": 1}) == (
            "channel", 406, f"PRECONDITION_FAILED - invalid arg 'x-priority' for queue '{q}' in "
                            "vhost '/' of queue type rabbit_stream_queue")
    finally:
        broker.connect().channel().queue_delete(q)


def test_x_cancel_on_ha_failover_is_classic_only(broker):
    ch = broker.channel()
    q = unique("qq")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    try:
        assert broker_error(ch.basic_consume, q, lambda *a: None,
                            arguments={"x-cancel-on-ha-failover": True}) == (
            "channel", 406, f"PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for "
                            f"queue '{q}' in vhost '/' of queue type rabbit_quorum_queue")
    finally:
        broker.connect().channel().queue_delete(q)

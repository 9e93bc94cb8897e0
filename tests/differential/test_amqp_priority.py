"""Priority queues as RabbitMQ 3.10 has them (rabbit_priority_queue): `x-max-priority` up to
255, higher priority first, FIFO within a priority, a priority above the maximum counted as the
maximum, none as 0, requeued messages back in their place, consumers served the same way, and
the argument's validation."""

import pika
import pytest

from yizhan.testing.amqp import broker_error, unique, wait_until

P = pika.BasicProperties


def declare(ch, **arguments):
    return ch.queue_declare(unique("q"), exclusive=True, arguments=arguments or None).method.queue


def publish(connection, q, items):
    ch = connection.channel()
    ch.confirm_delivery()
    for body, priority in items:
        ch.basic_publish("", q, body, P(priority=priority) if priority is not None else None)
    ch.close()


def bodies(ch, q, auto_ack=True):
    out = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=auto_ack)
        if method is None:
            return out
        out.append((body.decode(), method.message_count))


def test_higher_priority_first_fifo_within(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-priority": 5})
    publish(ch.connection, q, [("a", None), ("b", 3), ("c", 1), ("d", 3), ("e", 0), ("f", 5)])
    assert [b for b, _ in bodies(ch, q)] == ["f", "b", "d", "c", "a", "e"]


def test_priority_above_the_maximum_counts_as_the_maximum(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-priority": 2})
    publish(ch.connection, q, [("a", 2), ("b", 200), ("c", 9), ("d", 1)])
    assert bodies(ch, q) == [("a", 3), ("b", 2), ("c", 1), ("d", 0)]


def test_requeue_keeps_the_order(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-priority": 3})
    publish(ch.connection, q, [("l1", 1), ("h1", 3), ("l2", 1), ("h2", 3), ("z", None)])
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(4)]  # h1 h2 l1 l2
    ch.basic_nack(tags[2], requeue=True)  # l1
    ch.basic_nack(tags[0], requeue=True)  # h1
    assert [b for b, _ in bodies(ch, q)] == ["h1", "l1", "z"]
    ch.basic_nack(tags[3], requeue=True)
    ch.basic_nack(tags[1], requeue=True)
    assert [b for b, _ in bodies(ch, q)] == ["h2", "l2"]


def test_consumers_get_the_highest_first(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = declare(ch, **{"x-max-priority": 10})
    publish(connection, q, [(str(i), i % 4) for i in range(12)])
    got = []
    ch.basic_qos(prefetch_count=1)

    def on_message(channel, method, props, body):
        got.append(body.decode())
        channel.basic_ack(method.delivery_tag)

    ch.basic_consume(q, on_message)
    wait_until(connection, lambda: len(got) == 12, "twelve deliveries")
    assert got == ["3", "7", "11", "2", "6", "10", "1", "5", "9", "0", "4", "8"]


def test_priority_zero_maximum_is_a_plain_queue(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-priority": 0})
    publish(ch.connection, q, [("a", 5), ("b", 0), ("c", 9)])
    assert [b for b, _ in bodies(ch, q)] == ["a", "b", "c"]


@pytest.mark.parametrize("value, text", [
    (256, "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '/': "
          "{max_value_exceeded,256}"),
    (-1, "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '/': "
         "{value_negative,-1}"),
    ("5", "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'Q' in vhost '/': "
          '"expected integer, got longstr"'),
])
def test_invalid_max_priority(broker, value, text):
    ch = broker.channel()
    q = unique("q")
    kind, code, reply = broker_error(ch.queue_declare, q, arguments={"x-max-priority": value})
    assert (kind, code, reply.replace(q, "Q")) == ("channel", 406, text)


def test_priority_with_ttl_and_limits(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-priority": 3, "x-max-length": 3})
    publish(ch.connection, q, [("l1", 0), ("h1", 3), ("l2", 0), ("h2", 3)])
    # drop-head drops the head: the highest priority's oldest
    assert [b for b, _ in bodies(ch, q)] == ["h2", "l1", "l2"]

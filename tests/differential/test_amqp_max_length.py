"""Length limits as RabbitMQ 3.10 applies them: `x-max-length` and `x-max-length-bytes` (body
bytes of ready messages) with `x-overflow` drop-head (the oldest dropped or dead-lettered with
reason maxlen), reject-publish (a confirm nack, or silently dropped without confirms; a waiting
consumer does not get it either) and reject-publish-dlx (also dead-lettered)."""

import pika
import pytest

from yizhan.testing.amqp import publish_confirmed, queue_counts, unique, wait_until

P = pika.BasicProperties


def declare(ch, **arguments):
    return ch.queue_declare(unique("q"), exclusive=True, arguments=arguments or None).method.queue


def bodies(ch, q):
    out = []
    while True:
        method, props, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return out
        out.append(body)


def confirm_results(ch, exchange, key, items):
    """Publish on a confirm channel: True per message acked, False per nack."""
    results = []
    for body in items:
        try:
            ch.basic_publish(exchange, key, body)
            results.append(True)
        except pika.exceptions.NackError:
            results.append(False)
    return results


def test_drop_head_keeps_the_newest(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-length": 2})
    publish_confirmed(ch.connection, "", q, [b"1", b"2", b"3", b"4"])
    assert bodies(ch, q) == [b"3", b"4"]


def test_max_length_bytes_counts_bodies(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-length-bytes": 10})
    publish_confirmed(ch.connection, "", q, [b"aaaa", b"bbbb", b"cccc", b"", b"dd"])
    assert bodies(ch, q) == [b"bbbb", b"cccc", b"", b"dd"]


def test_max_length_zero_drops_everything(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-length": 0})
    publish_confirmed(ch.connection, "", q, [b"1"])
    assert queue_counts(ch, q) == (0, 0)


def test_unacked_messages_do_not_count(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-length": 1})
    publish_confirmed(ch.connection, "", q, [b"1"])
    method, _, _ = ch.basic_get(q)
    publish_confirmed(ch.connection, "", q, [b"2"])
    assert queue_counts(ch, q) == (1, 0)
    ch.basic_nack(method.delivery_tag, requeue=True)  # back at the head, then dropped
    assert bodies(ch, q) == [b"2"]


def test_drop_head_dead_letters_with_reason_maxlen(broker):
    ch = broker.channel()
    dead = declare(ch)
    q = declare(ch, **{"x-max-length": 1, "x-dead-letter-exchange": "",
                       "x-dead-letter-routing-key": dead})
    publish_confirmed(ch.connection, "", q, [b"1", b"2"])
    wait_until(ch.connection, lambda: queue_counts(ch, dead)[0] == 1, "the dropped message")
    method, props, body = ch.basic_get(dead, auto_ack=True)
    assert body == b"1" and props.headers["x-death"][0]["reason"] == "maxlen"
    assert props.headers["x-first-death-reason"] == "maxlen"


@pytest.mark.parametrize("overflow", ["reject-publish", "reject-publish-dlx"])
def test_reject_publish_nacks(broker, overflow):
    ch = broker.channel()
    dead = declare(ch)
    q = declare(ch, **{"x-max-length": 2, "x-overflow": overflow, "x-dead-letter-exchange": "",
                       "x-dead-letter-routing-key": dead})
    ch.confirm_delivery()
    assert confirm_results(ch, "", q, [b"1", b"2", b"3", b"4"]) == [True, True, False, False]
    assert bodies(ch, q) == [b"1", b"2"]
    if overflow == "reject-publish-dlx":
        wait_until(ch.connection, lambda: queue_counts(ch, dead)[0] == 2, "the rejected ones")
        method, props, body = ch.basic_get(dead, auto_ack=True)
        assert body == b"3" and props.headers["x-death"][0]["reason"] == "maxlen"
    else:
        assert queue_counts(ch, dead) == (0, 0)


def test_reject_publish_without_confirms_drops(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    for body in (b"1", b"2", b"3"):
        ch.basic_publish("", q, body)
    # RabbitMQ may answer a declare before it enqueues publishes without confirms: poll
    wait_until(ch.connection, lambda: queue_counts(ch, q) == (1, 0), "the first message")
    ch.connection.process_data_events(time_limit=0.1)
    assert bodies(ch, q) == [b"1"]


def test_reject_publish_with_a_waiting_consumer(broker):
    """The limit is checked before delivery: max-length 0 refuses even a waiting consumer."""
    connection = broker.connect()
    ch = connection.channel()
    q = declare(ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append(body), auto_ack=True)
    pub = connection.channel()
    pub.confirm_delivery()
    assert confirm_results(pub, "", q, [b"1"]) == [False]
    connection.process_data_events(time_limit=0.1)
    assert got == []


def test_reject_publish_to_two_queues_nacks_but_delivers_to_the_other(broker):
    ch = broker.channel()
    x = unique("x")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    full = declare(ch, **{"x-max-length": 0, "x-overflow": "reject-publish"})
    open_queue = declare(ch)
    ch.queue_bind(full, x)
    ch.queue_bind(open_queue, x)
    ch.confirm_delivery()
    assert confirm_results(ch, x, "", [b"1"]) == [False]
    assert bodies(ch, open_queue) == [b"1"]

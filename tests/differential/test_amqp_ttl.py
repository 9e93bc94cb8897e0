"""Message TTL and queue expiry as RabbitMQ 3.10 has them: `x-message-ttl` and per-message
`expiration` (the lower wins), expired messages never delivered, expiry from the head only (the
counts a client sees), TTL 0 reaching only a waiting consumer, requeued messages keeping their
expiry, and `x-expires` deleting an unused queue. TTLs are tens of milliseconds; the tests
wait a little longer and poll, never asserting a timing."""

import time

import pika
import pytest

from yizhan.testing.amqp import broker_error, publish_confirmed, queue_counts, queue_exists, unique, wait_until

P = pika.BasicProperties


def declare(ch, **arguments):
    return ch.queue_declare(unique("q"), exclusive=True, arguments=arguments or None).method.queue


def untouched_exists(connection, q) -> bool:
    """Whether `q` exists, asked with queue.purge (a declare would restart its expiry)."""
    ch = connection.channel()
    try:
        ch.queue_purge(q)
    except pika.exceptions.ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    ch.close()
    return True


def wait_expired(connection, q) -> None:
    wait_until(connection, lambda: not untouched_exists(connection, q) or time.sleep(0.05),
               f"queue {q} to expire")


def bodies(ch, q):
    out = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return out
        out.append((body, method.message_count))


def test_queue_ttl_expires_messages(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-message-ttl": 30})
    publish_confirmed(ch.connection, "", q, [b"a", b"b"])
    time.sleep(0.1)
    assert queue_counts(ch, q) == (0, 0)
    assert ch.basic_get(q) == (None, None, None)


def test_the_lower_ttl_wins(broker):
    ch = broker.channel()
    long_queue = declare(ch, **{"x-message-ttl": 60000})
    short_queue = declare(ch, **{"x-message-ttl": 30})
    publish_confirmed(ch.connection, "", long_queue, [b"short"], P(expiration="30"))
    publish_confirmed(ch.connection, "", short_queue, [b"long"], P(expiration="60000"))
    publish_confirmed(ch.connection, "", long_queue, [b"kept"])
    time.sleep(0.1)
    assert bodies(ch, long_queue) == [(b"kept", 0)]
    assert bodies(ch, short_queue) == []


def test_expiry_is_from_the_head(broker):
    """An expired message behind a live one is still counted; once the head goes, basic.get
    drops it and its get-ok count says so."""
    ch = broker.channel()
    q = declare(ch)
    publish_confirmed(ch.connection, "", q, [b"live"])
    publish_confirmed(ch.connection, "", q, [b"brief", b"brief2"], P(expiration="20"))
    publish_confirmed(ch.connection, "", q, [b"tail"])
    time.sleep(0.1)
    assert queue_counts(ch, q) == (4, 0)
    assert bodies(ch, q) == [(b"live", 1), (b"tail", 0)]


def test_purge_counts_what_is_there(broker):
    ch = broker.channel()
    q = declare(ch)
    publish_confirmed(ch.connection, "", q, [b"live"])
    publish_confirmed(ch.connection, "", q, [b"brief"], P(expiration="20"))
    time.sleep(0.1)
    assert ch.queue_purge(q).method.message_count == 2


def test_ttl_zero_reaches_only_a_waiting_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = declare(ch, **{"x-message-ttl": 0})
    publish_confirmed(connection, "", q, [b"nobody"])
    assert queue_counts(ch, q) == (0, 0)
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append(body), auto_ack=True)
    publish_confirmed(connection, "", q, [b"waiting"])
    other = declare(ch)
    publish_confirmed(connection, "", other, [b"zero"], P(expiration="0"))
    ch.basic_consume(other, lambda c, m, p, body: got.append(body), auto_ack=True)
    publish_confirmed(connection, "", other, [b"zero-waiting"], P(expiration="0"))
    wait_until(connection, lambda: len(got) == 2, "the deliveries")
    assert got == [b"waiting", b"zero-waiting"]


def test_expired_messages_are_not_delivered(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = declare(ch)
    publish_confirmed(connection, "", q, [b"old"], P(expiration="20"))
    publish_confirmed(connection, "", q, [b"new"])
    time.sleep(0.1)
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append(body), auto_ack=True)
    wait_until(connection, lambda: got, "a delivery")
    connection.process_data_events(time_limit=0.1)
    assert got == [b"new"]


def test_requeued_message_keeps_its_expiry(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-message-ttl": 100})
    publish_confirmed(ch.connection, "", q, [b"m"])
    method, _, _ = ch.basic_get(q)
    time.sleep(0.2)
    ch.basic_nack(method.delivery_tag, requeue=True)
    assert queue_counts(ch, q) == (0, 0)


def test_ttl_survives_unacked_delivery_until_requeue(broker):
    ch = broker.channel()
    q = declare(ch, **{"x-message-ttl": 60000})
    publish_confirmed(ch.connection, "", q, [b"m"])
    method, _, _ = ch.basic_get(q)
    ch.basic_nack(method.delivery_tag, requeue=True)
    method, _, body = ch.basic_get(q, auto_ack=True)
    assert (body, method.redelivered) == (b"m", True)


@pytest.mark.parametrize("value, text", [
    ("-1", "PRECONDITION_FAILED - invalid expiration '-1': {value_negative,-1}"),
    ("abc", "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"),
    ("1x", "PRECONDITION_FAILED - invalid expiration '1x': {leftover_string,\"x\"}"),
])
def test_invalid_expiration_closes_the_channel(broker, value, text):
    ch = broker.channel()
    ch.confirm_delivery()
    q = declare(ch)
    assert broker_error(ch.basic_publish, "", q, b"m", P(expiration=value)) == ("channel", 406, text)


def test_unused_queue_expires(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = unique("expiring")
    ch.queue_declare(q, arguments={"x-expires": 100})
    wait_expired(connection, q)


def test_queue_with_a_consumer_does_not_expire(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = unique("kept")
    ch.queue_declare(q, arguments={"x-expires": 50})
    tag = ch.basic_consume(q, lambda *a: None)
    connection.process_data_events(time_limit=0.3)
    assert queue_exists(connection, q)
    ch.basic_cancel(tag)
    wait_expired(connection, q)


def test_redeclare_restarts_the_expiry(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = unique("renewed")
    ch.queue_declare(q, arguments={"x-expires": 300})
    for _ in range(5):
        time.sleep(0.1)
        ch.queue_declare(q, passive=True)
    assert untouched_exists(connection, q)
    wait_expired(connection, q)


def test_durable_queue_expires_with_its_messages(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = unique("durable-expiring")
    ch.queue_declare(q, durable=True, arguments={"x-expires": 100})
    publish_confirmed(connection, "", q, [b"m"], P(delivery_mode=2))
    wait_expired(connection, q)

"""Acknowledgements and redelivery: Basic.Get counts, Ack/Nack/Reject with `multiple`, requeue
at the original position with redelivered=true, Recover, and unacked messages returning to
their queues in order when a channel or connection closes."""

import pika

from yizhan.testing.amqp import publish_confirmed, queue_counts, unique, wait_until


def fill(ch, n, queue=None):
    """A fresh exclusive queue (or `queue`) holding messages m0..m{n-1}."""
    q = queue or ch.queue_declare(unique("q"), exclusive=True).method.queue
    publish_confirmed(ch.connection, "", q, [f"m{i}".encode() for i in range(n)])
    return q


def get_all(ch, q, auto_ack=True):
    """Every message left, as (body, redelivered, message_count)."""
    out = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=auto_ack)
        if method is None:
            return out
        out.append((body.decode(), method.redelivered, method.message_count))


def test_get_counts_down_then_get_empty(broker):
    ch = broker.channel()
    q = fill(ch, 3)
    assert get_all(ch, q) == [("m0", False, 2), ("m1", False, 1), ("m2", False, 0)]
    assert ch.basic_get(q) == (None, None, None)


def test_get_delivery_tags_count_per_channel(broker):
    connection = broker.connect()
    a, b = connection.channel(), connection.channel()
    q = fill(a, 4)
    tags = [a.basic_get(q)[0].delivery_tag, a.basic_get(q)[0].delivery_tag,
            b.basic_get(q)[0].delivery_tag, a.basic_get(q)[0].delivery_tag]
    assert tags == [1, 2, 1, 3]
    assert queue_counts(a, q) == (0, 0)


def test_declare_ok_counts_ready_messages_only(broker):
    ch = broker.channel()
    q = fill(ch, 3)
    ch.basic_get(q)
    assert queue_counts(ch, q) == (2, 0)
    ok = ch.queue_declare(q, exclusive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 2, 0)


def test_nack_requeues_at_the_original_position(broker):
    ch = broker.channel()
    q = fill(ch, 5)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(5)]
    ch.basic_nack(tags[3], requeue=True)
    ch.basic_nack(tags[1], requeue=True)
    ch.basic_ack(tags[4])
    assert get_all(ch, q) == [("m1", True, 1), ("m3", True, 0)]
    ch.basic_ack(tags[2], multiple=True)
    assert queue_counts(ch, q) == (0, 0)


def test_requeued_messages_go_before_ready_ones_by_position(broker):
    ch = broker.channel()
    q = fill(ch, 4)
    first, second = ch.basic_get(q)[0].delivery_tag, ch.basic_get(q)[0].delivery_tag
    ch.basic_reject(second, requeue=True)
    ch.basic_reject(first, requeue=True)
    assert get_all(ch, q) == [("m0", True, 3), ("m1", True, 2), ("m2", False, 1), ("m3", False, 0)]


def test_reject_without_requeue_drops(broker):
    ch = broker.channel()
    q = fill(ch, 2)
    ch.basic_reject(ch.basic_get(q)[0].delivery_tag, requeue=False)
    ch.basic_nack(ch.basic_get(q)[0].delivery_tag, requeue=False)
    assert queue_counts(ch, q) == (0, 0)


def test_nack_multiple_requeues_in_order(broker):
    ch = broker.channel()
    q = fill(ch, 5)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(4)]
    ch.basic_nack(tags[2], multiple=True, requeue=True)      # m0, m1, m2 back; m3 still unacked
    assert get_all(ch, q) == [("m0", True, 3), ("m1", True, 2), ("m2", True, 1), ("m4", False, 0)]
    ch.basic_ack(tags[3])


def test_nack_multiple_tag_zero_means_all(broker):
    ch = broker.channel()
    q = fill(ch, 3)
    for _ in range(3):
        ch.basic_get(q)
    ch.basic_nack(0, multiple=True, requeue=True)
    assert get_all(ch, q) == [("m0", True, 2), ("m1", True, 1), ("m2", True, 0)]


def test_ack_multiple(broker):
    ch = broker.channel()
    q = fill(ch, 4)
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(4)]
    ch.basic_ack(tags[2], multiple=True)
    ch.basic_recover(requeue=True)                           # only m3 was still unacked
    assert get_all(ch, q) == [("m3", True, 0)]


def test_redelivered_stays_true(broker):
    ch = broker.channel()
    q = fill(ch, 1)
    for _ in range(3):
        ch.basic_nack(ch.basic_get(q)[0].delivery_tag, requeue=True)
    assert get_all(ch, q) == [("m0", True, 0)]


def test_channel_close_requeues_unacked_in_order(broker):
    connection = broker.connect()
    keeper = connection.channel()
    q = fill(keeper, 5)
    doomed = connection.channel()
    for _ in range(3):
        doomed.basic_get(q)
    doomed.basic_ack(2)                                        # m1 is done; m0 and m2 go back
    doomed.close()
    wait_until(connection, lambda: queue_counts(keeper, q)[0] == 4, "the unacked messages to return")
    assert get_all(keeper, q) == [("m0", True, 3), ("m2", True, 2), ("m3", False, 1), ("m4", False, 0)]


def test_connection_close_requeues_unacked_in_order(broker):
    ch = broker.channel()
    q = fill(ch, 4, queue=ch.queue_declare(unique("q"), auto_delete=False).method.queue)
    try:
        other = broker.connect()
        taker = other.channel()
        taker.basic_get(q)
        taker.basic_get(q)
        other.close()
        connection = broker.connect()
        reader = connection.channel()
        wait_until(connection, lambda: queue_counts(reader, q)[0] == 4, "the unacked messages to return")
        assert get_all(reader, q) == [("m0", True, 3), ("m1", True, 2), ("m2", False, 1), ("m3", False, 0)]
    finally:
        ch.queue_delete(q)


def test_consumer_unacked_return_on_close(broker):
    connection = broker.connect()
    keeper = connection.channel()
    q = fill(keeper, 3)
    consumer = connection.channel()
    got = []
    consumer.basic_consume(q, lambda c, m, p, b: got.append(b))
    wait_until(connection, lambda: len(got) == 3, "three deliveries")
    consumer.close()
    wait_until(connection, lambda: queue_counts(keeper, q)[0] == 3, "the unacked messages to return")
    assert get_all(keeper, q) == [("m0", True, 2), ("m1", True, 1), ("m2", True, 0)]


def test_recover_redelivers_to_the_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = fill(ch, 2)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append((b, m.redelivered, m.delivery_tag)))
    wait_until(connection, lambda: len(got) == 2, "two deliveries")
    ch.basic_recover(requeue=True)
    wait_until(connection, lambda: len(got) == 4, "two redeliveries")
    assert got == [(b"m0", False, 1), (b"m1", False, 2), (b"m0", True, 3), (b"m1", True, 4)]
    ch.basic_ack(4, multiple=True)
    assert queue_counts(ch, q) == (0, 1)


def test_auto_ack_consumer_takes_everything(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = fill(ch, 3)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(b), auto_ack=True)
    wait_until(connection, lambda: len(got) == 3, "three deliveries")
    ch.close()
    assert queue_counts(connection.channel(), q) == (0, 0)


def test_purge_leaves_unacked(broker):
    connection = broker.connect()
    keeper = connection.channel()
    q = fill(keeper, 4)
    taker = connection.channel()
    taker.basic_get(q)
    assert keeper.queue_purge(q).method.message_count == 3
    taker.close()
    wait_until(connection, lambda: queue_counts(keeper, q)[0] == 1, "the unacked message to return")
    assert get_all(keeper, q) == [("m0", True, 0)]


def test_delete_returns_message_count(broker):
    ch = broker.channel()
    q = fill(ch, 3)
    ch.basic_get(q, auto_ack=True)
    assert ch.queue_delete(q).method.message_count == 2


def test_get_with_properties(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x", pika.BasicProperties(priority=1, message_id="id"))
    method, props, body = ch.basic_get(q)
    assert (method.delivery_tag, method.exchange, method.routing_key, props.priority, props.message_id, body) == (
        1, "", q, 1, "id", b"x")

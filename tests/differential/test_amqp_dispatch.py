"""Consumers: round-robin among the consumers of a queue, prefetch windows per consumer
(global=false) and per channel (global=true) as RabbitMQ 3.x applies them, fair dispatch with
prefetch 1, cancel (client and broker initiated), exclusive and auto-delete queues.

No test asserts that something did *not* arrive by waiting: full prefetch windows are checked
through the queue's ready count, which cannot change once every window is full."""

import pika
import pytest

from yizhan.testing.amqp import Recorder, broker_error, publish_confirmed, queue_counts, unique, wait_until


def publish(ch, q, n, start=0):
    """m{start}.. on a confirm channel of the same connection: enqueued when this returns."""
    publish_confirmed(ch.connection, "", q, [f"m{i}".encode() for i in range(start, start + n)])


def test_round_robin_between_consumers(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    rec = Recorder()
    for tag in ("a", "b", "c"):
        ch.basic_consume(q, rec, consumer_tag=tag)
    publish(ch, q, 7)
    wait_until(connection, lambda: len(rec.got) == 7, "seven deliveries")
    assert [(t, b) for t, b, _, _ in rec.got] == [
        ("a", "m0"), ("b", "m1"), ("c", "m2"), ("a", "m3"), ("b", "m4"), ("c", "m5"), ("a", "m6")]
    assert [tag for _, _, _, tag in rec.got] == list(range(1, 8))        # one tag sequence per channel


def test_round_robin_across_channels(broker):
    connection = broker.connect()
    publisher = connection.channel()
    q = publisher.queue_declare("", exclusive=True).method.queue
    rec = Recorder()
    channels = [connection.channel() for _ in range(2)]
    for i, ch in enumerate(channels):
        ch.basic_consume(q, rec, consumer_tag=f"c{i}")
    publish(publisher, q, 4)
    wait_until(connection, lambda: len(rec.got) == 4, "four deliveries")
    assert sorted((t, b, tag) for t, b, _, tag in rec.got) == [
        ("c0", "m0", 1), ("c0", "m2", 2), ("c1", "m1", 1), ("c1", "m3", 2)]


def test_messages_waiting_before_consume_go_to_the_first_consumer_in_order(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    publish(ch, q, 3)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="first")
    wait_until(connection, lambda: len(rec.got) == 3, "three deliveries")
    assert rec.of("first") == ["m0", "m1", "m2"]


def test_prefetch_one_per_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(ch, q, 5)
    wait_until(connection, lambda: len(rec.got) == 2, "one delivery per consumer")
    assert queue_counts(ch, q) == (3, 2)
    assert (rec.of("a"), rec.of("b")) == (["m0"], ["m1"])
    b_tag = [tag for t, _, _, tag in rec.got if t == "b"][0]
    ch.basic_ack(b_tag)                                   # b's window opens: it gets the next one
    wait_until(connection, lambda: len(rec.got) == 3, "the next delivery")
    assert rec.got[-1][:2] == ("b", "m2")
    assert queue_counts(ch, q) == (2, 2)


def test_fair_dispatch_skips_the_busy_worker(broker):
    """The seed's work queue: with prefetch 1 a worker that never acks gets one message; the
    one that acks gets all the others."""
    connection = broker.connect()
    busy, quick = connection.channel(), connection.channel()
    q = busy.queue_declare("", exclusive=True).method.queue
    rec = Recorder()

    def quick_worker(channel, method, properties, body):
        rec(channel, method, properties, body)
        channel.basic_ack(method.delivery_tag)

    for ch in (busy, quick):
        ch.basic_qos(prefetch_count=1)
    busy.basic_consume(q, rec, consumer_tag="busy")
    quick.basic_consume(q, quick_worker, consumer_tag="quick")
    publish(busy, q, 6)
    wait_until(connection, lambda: len(rec.got) == 6, "six deliveries")
    assert rec.of("busy") == ["m0"]
    assert rec.of("quick") == ["m1", "m2", "m3", "m4", "m5"]


def test_global_prefetch_is_shared_by_the_channel(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=3, global_qos=True)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(ch, q, 8)
    wait_until(connection, lambda: len(rec.got) == 3, "three deliveries")
    assert queue_counts(ch, q) == (5, 2)
    ch.basic_ack(rec.got[0][3])
    wait_until(connection, lambda: len(rec.got) == 4, "one more delivery")
    assert queue_counts(ch, q) == (4, 2)


@pytest.mark.parametrize("order,delivered,ready", [
    ("per-consumer-then-global", 3, 3),      # both apply: the channel's limit of 3 binds
    ("global-then-per-consumer", 4, 2),      # RabbitMQ: a global=false Qos lifts the channel limit
])
def test_global_and_per_consumer_prefetch_together(broker, order, delivered, ready):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    if order == "per-consumer-then-global":
        ch.basic_qos(prefetch_count=1)
        ch.basic_qos(prefetch_count=3, global_qos=True)
    else:
        ch.basic_qos(prefetch_count=3, global_qos=True)
        ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    for tag in ("a", "b", "c", "d"):
        ch.basic_consume(q, rec, consumer_tag=tag)
    publish(ch, q, 6)
    wait_until(connection, lambda: len(rec.got) == delivered, f"{delivered} deliveries")
    assert queue_counts(ch, q) == (ready, 4)
    assert [(t, b) for t, b, _, _ in rec.got] == [("a", "m0"), ("b", "m1"), ("c", "m2"), ("d", "m3")][:delivered]


def test_prefetch_applies_to_consumers_started_after_it(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="unlimited")
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, rec, consumer_tag="limited")
    publish(ch, q, 6)
    wait_until(connection, lambda: len(rec.got) == 6, "six deliveries")
    assert len(rec.of("limited")) == 1 and len(rec.of("unlimited")) == 5


def test_prefetch_does_not_limit_auto_ack_consumers(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1, global_qos=True)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="noack", auto_ack=True)
    publish(ch, q, 5)
    wait_until(connection, lambda: len(rec.got) == 5, "five deliveries")
    assert rec.of("noack") == ["m0", "m1", "m2", "m3", "m4"]


def test_raising_prefetch_releases_more(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1, global_qos=True)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    publish(ch, q, 4)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    assert queue_counts(ch, q) == (3, 1)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    wait_until(connection, lambda: len(rec.got) == 3, "two more deliveries")
    assert queue_counts(ch, q) == (1, 1)


def test_cancel_moves_dispatch_to_the_rest_and_keeps_unacked(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(ch, q, 4)
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries")
    ch.basic_cancel("a")
    assert queue_counts(ch, q) == (2, 1)                      # a's message is still unacked, not requeued
    ch.basic_ack(rec.got[1][3])                               # b acks m1 and receives m2
    wait_until(connection, lambda: len(rec.got) == 3, "the next delivery")
    assert rec.got[-1][:2] == ("b", "m2")
    ch.basic_ack(rec.got[0][3])                               # acking a's message after its cancel is fine
    assert queue_counts(ch, q) == (1, 1)


def test_broker_cancels_consumers_of_a_deleted_queue(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("q"), exclusive=True).method.queue
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    ch.basic_consume(q, lambda *a: None, consumer_tag="watcher")
    other = connection.channel()
    assert other.queue_delete(q).method.message_count == 0
    wait_until(connection, lambda: cancelled, "Basic.Cancel from the broker")
    assert cancelled == ["watcher"]
    assert ch.is_open


def test_auto_delete_queue_goes_with_its_last_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("ad"), auto_delete=True).method.queue
    publish_confirmed(connection, "", q, [b"kept until a consumer came and went"])
    assert queue_counts(ch, q) == (1, 0)                      # never consumed: it stays
    ch.basic_consume(q, lambda *a: None, consumer_tag="one", auto_ack=True)
    ch.basic_consume(q, lambda *a: None, consumer_tag="two", auto_ack=True)
    ch.basic_cancel("one")
    assert queue_counts(ch, q)[1] == 1
    ch.basic_cancel("two")
    assert broker_error(ch.queue_declare, q, passive=True) == (
        "channel", 404, f"NOT_FOUND - no queue '{q}' in vhost '/'")


def test_auto_delete_queue_goes_when_its_consumers_channel_closes(broker):
    connection = broker.connect()
    keeper = connection.channel()
    q = keeper.queue_declare(unique("ad"), auto_delete=True).method.queue
    consumer = connection.channel()
    consumer.basic_consume(q, lambda *a: None)
    consumer.close()
    from yizhan.testing.amqp import wait_gone

    wait_gone(connection, q)


def test_exclusive_queue_goes_with_its_connection(broker):
    owner = broker.connect()
    q = owner.channel().queue_declare(unique("ex"), exclusive=True).method.queue
    owner.close()
    from yizhan.testing.amqp import wait_gone

    wait_gone(broker.connect(), q)


def test_consumer_count(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    for tag in ("a", "b"):
        ch.basic_consume(q, lambda *a: None, consumer_tag=tag)
    other = connection.channel()
    other.basic_consume(q, lambda *a: None, consumer_tag="c")
    assert queue_counts(ch, q) == (0, 3)
    other.close()
    assert queue_counts(ch, q) == (0, 2)


@pytest.mark.parametrize("how", ["reject", "nack", "nack-multiple", "recover"])
def test_requeued_message_is_redelivered_before_later_ones(broker, how):
    """A consumer with a full prefetch window requeues its message: the message goes back to the
    head of the queue before the window reopens, so it is delivered again ahead of m1."""
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    publish(ch, q, 3)
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    wait_until(connection, lambda: len(rec.got) == 1, "the first delivery")
    tag = rec.got[0][3]
    if how == "reject":
        ch.basic_reject(tag, requeue=True)
    elif how == "nack":
        ch.basic_nack(tag, requeue=True)
    elif how == "nack-multiple":
        ch.basic_nack(tag, multiple=True, requeue=True)
    else:
        ch.basic_recover(requeue=True)
    wait_until(connection, lambda: len(rec.got) == 2, "the next delivery")
    assert rec.got == [("c", "m0", False, 1), ("c", "m0", True, 2)]
    assert queue_counts(ch, q) == (2, 1)


def test_requeued_message_goes_to_the_next_consumer_in_turn(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(ch, q, 4)
    wait_until(connection, lambda: len(rec.got) == 2, "one delivery each")
    ch.basic_nack(rec.got[0][3], requeue=True)                # a gives m0 back
    wait_until(connection, lambda: len(rec.got) == 3, "the redelivery")
    ch.basic_ack(rec.got[1][3])                               # b finishes m1
    wait_until(connection, lambda: len(rec.got) == 4, "the next delivery")
    assert [(t, b, r) for t, b, r, _ in rec.got] == [
        ("a", "m0", False), ("b", "m1", False), ("a", "m0", True), ("b", "m2", False)]


def test_unacked_of_a_closed_channel_go_to_the_other_consumer_after_its_ready_ones(broker):
    connection = broker.connect()
    a = connection.channel()
    q = a.queue_declare("", exclusive=True).method.queue
    a.basic_qos(prefetch_count=2)
    rec_a, rec_b = Recorder(), Recorder()
    a.basic_consume(q, rec_a, consumer_tag="a")
    publish(a, q, 4)
    wait_until(connection, lambda: len(rec_a.got) == 2, "a's window to fill")
    b = connection.channel()
    b.basic_consume(q, rec_b, consumer_tag="b")
    wait_until(connection, lambda: len(rec_b.got) == 2, "b to take the rest")
    a.close()
    wait_until(connection, lambda: len(rec_b.got) == 4, "a's messages to reach b")
    assert [(t, body, r) for t, body, r, _ in rec_a.got] == [("a", "m0", False), ("a", "m1", False)]
    assert [(t, body, r) for t, body, r, _ in rec_b.got] == [
        ("b", "m2", False), ("b", "m3", False), ("b", "m0", True), ("b", "m1", True)]


def test_changing_prefetch_does_not_resize_existing_consumers(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    publish(ch, q, 3)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    ch.basic_qos(prefetch_count=3)                            # only for consumers started later
    assert queue_counts(ch, q) == (2, 1)
    ch.basic_consume(q, rec, consumer_tag="later")
    wait_until(connection, lambda: len(rec.got) == 3, "the later consumer to take the rest")
    assert rec.of("later") == ["m1", "m2"]


@pytest.mark.parametrize("global_qos", [False, True])
def test_basic_get_is_outside_the_prefetch_window(broker, global_qos):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    publish(ch, q, 3)
    ch.basic_qos(prefetch_count=1, global_qos=global_qos)
    method, _, body = ch.basic_get(q)                          # unacked, but not counted
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    wait_until(connection, lambda: len(rec.got) == 1, "a delivery")
    assert (body, method.delivery_tag, rec.got) == (b"m0", 1, [("c", "m1", False, 2)])
    assert queue_counts(ch, q) == (1, 1)


def test_basic_get_beside_a_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    publish(ch, q, 3)
    wait_until(connection, lambda: len(rec.got) == 1, "a delivery")
    method, _, body = ch.basic_get(q)
    assert (rec.got, method.delivery_tag, body, method.message_count) == ([("c", "m0", False, 1)], 2, b"m1", 1)


def test_exclusive_consumer_cancelled_frees_the_queue(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_consume(q, lambda *a: None, consumer_tag="only", exclusive=True)
    ch.basic_cancel("only")
    assert ch.basic_consume(q, lambda *a: None, consumer_tag="next") == "next"
    assert ch.basic_consume(q, lambda *a: None, consumer_tag="and-another") == "and-another"


def test_consumer_priorities(broker):
    """x-priority (advertised as consumer_priorities): the higher-priority consumer is served
    while its window has room; the lower one gets what is left."""
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=2)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="low")
    ch.basic_consume(q, rec, consumer_tag="high", arguments={"x-priority": 10})
    publish(ch, q, 5)
    wait_until(connection, lambda: len(rec.got) == 4, "both windows to fill")
    assert [(t, b) for t, b, _, _ in rec.got] == [("high", "m0"), ("high", "m1"), ("low", "m2"), ("low", "m3")]
    assert queue_counts(ch, q) == (1, 2)


def test_direct_reply_to(broker):
    """amq.rabbitmq.reply-to (advertised as direct_reply_to; Celery's rpc backend uses it): the
    request carries a generated reply_to name that routes the answer straight to the consumer."""
    connection = broker.connect()
    client = connection.channel()
    answers = []
    client.basic_consume("amq.rabbitmq.reply-to", lambda c, m, p, b: answers.append((m.exchange, m.routing_key, b)),
                         auto_ack=True)
    server = connection.channel()
    requests = server.queue_declare("", exclusive=True).method.queue
    client.basic_publish("", requests, b"question", pika.BasicProperties(reply_to="amq.rabbitmq.reply-to"))
    seen = []
    wait_until(connection, lambda: seen.append(server.basic_get(requests, auto_ack=True)) or seen[-1][0] is not None,
               "the request")
    reply_to = seen[-1][1].reply_to
    assert reply_to.startswith("amq.rabbitmq.reply-to.") and len(reply_to) > len("amq.rabbitmq.reply-to.")
    server.basic_publish("", reply_to, b"answer")
    wait_until(connection, lambda: answers, "the answer")
    assert answers == [("", reply_to, b"answer")]


def test_cancelled_consumers_unacked_come_back_on_recover(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    publish(ch, q, 2)
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries")
    ch.basic_cancel("c")
    ch.basic_recover(requeue=True)
    wait_until(connection, lambda: queue_counts(ch, q) == (2, 0), "the requeue")
    assert [(ch.basic_get(q, auto_ack=True)[0].redelivered) for _ in range(2)] == [True, True]


def test_lifting_the_global_prefetch_releases_everything(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_qos(prefetch_count=1, global_qos=True)
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="c")
    publish(ch, q, 3)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    ch.basic_qos(prefetch_count=0, global_qos=True)
    wait_until(connection, lambda: len(rec.got) == 3, "the rest")
    assert rec.of("c") == ["m0", "m1", "m2"]


def test_consumers_on_other_connections_are_cancelled_when_the_queue_is_deleted(broker):
    owner = broker.connect()
    q = owner.channel().queue_declare(unique("q"), auto_delete=True).method.queue
    watcher = broker.connect()
    ch = watcher.channel()
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    ch.basic_consume(q, lambda *a: None, consumer_tag="remote")
    owner.channel().queue_delete(q)
    wait_until(watcher, lambda: cancelled, "Basic.Cancel from the broker")
    assert cancelled == ["remote"]

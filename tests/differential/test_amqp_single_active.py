"""Single active consumer (`x-single-active-consumer: true`) as RabbitMQ 3.10 runs it: one
consumer gets every message while the others wait; when it is cancelled or its channel closes
the next one in line takes over (for classic queues the highest-priority waiting consumer, for
quorum queues the one that registered first), and the messages the old one held unacked come
back first. Every consumer counts in declare-ok; an exclusive consume is refused.

No test asserts that something did *not* arrive by waiting: what a waiting consumer has not
received is read from the queue's ready count once the active one's window is full."""

import pytest

from yizhan.testing.amqp import Recorder, broker_error, publish_confirmed, queue_counts, unique, wait_until

SAC = {"x-single-active-consumer": True}
QUORUM_SAC = {"x-single-active-consumer": True, "x-queue-type": "quorum"}


def publish(connection, q, n, start=0):
    publish_confirmed(connection, "", q, [f"m{i}".encode() for i in range(start, start + n)])


def counted(kind, n):
    """The consumer count declare-ok reports with n consumers, one of them active: classic
    queues count the waiting ones, quorum queues (rabbit_fifo's query_stat) only the active one."""
    return n if kind == "classic" else min(n, 1)


@pytest.fixture(params=["classic", "quorum"])
def sac_queue(request, broker):
    """(connection, channel, queue name, kind) for a fresh single-active-consumer queue of each
    type; quorum queues are durable and deleted after the test."""
    connection = broker.connect()
    ch = connection.channel()
    if request.param == "classic":
        q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
        yield connection, ch, q, "classic"
        return
    q = ch.queue_declare(unique("sac"), durable=True, arguments=QUORUM_SAC).method.queue
    yield connection, ch, q, "quorum"
    broker.connect().channel().queue_delete(q)


def test_only_the_first_consumer_gets_messages(sac_queue):
    connection, ch, q, kind = sac_queue
    rec = Recorder()
    other = connection.channel()
    ch.basic_consume(q, rec, consumer_tag="first")
    other.basic_consume(q, rec, consumer_tag="second")
    ch.basic_consume(q, rec, consumer_tag="third")
    publish(connection, q, 5)
    wait_until(connection, lambda: len(rec.got) == 5, "five deliveries")
    assert rec.of("first") == ["m0", "m1", "m2", "m3", "m4"]
    assert queue_counts(ch, q) == (0, counted(kind, 3))


def test_prefetch_of_the_active_consumer_holds_back_the_rest(sac_queue):
    """The waiting consumers have credit, but only the active one is served."""
    connection, ch, q, kind = sac_queue
    rec = Recorder()
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume(q, rec, consumer_tag="active")
    connection.channel().basic_consume(q, rec, consumer_tag="waiting")
    publish(connection, q, 5)
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries")
    assert queue_counts(ch, q) == (3, counted(kind, 2))
    ch.basic_ack(rec.got[0][3])
    wait_until(connection, lambda: len(rec.got) == 3, "one more delivery")
    assert [t for t, _, _, _ in rec.got] == ["active"] * 3
    assert queue_counts(ch, q) == (2, counted(kind, 2))


def test_quorum_cancel_hands_over_and_the_old_consumer_keeps_its_unacked(broker):
    """On a quorum queue the next consumer is served as soon as the active one is cancelled;
    a classic queue waits for its next run (test_classic_cancel_hands_over_on_the_next_run)."""
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), durable=True, arguments=QUORUM_SAC).method.queue
    try:
        rec = Recorder()
        ch.basic_qos(prefetch_count=2)
        ch.basic_consume(q, rec, consumer_tag="a")
        connection.channel().basic_consume(q, rec, consumer_tag="b")
        publish(connection, q, 5)
        wait_until(connection, lambda: len(rec.got) == 2, "two deliveries to a")
        ch.basic_cancel("a")
        wait_until(connection, lambda: len(rec.got) == 5, "the rest to b")
        assert (rec.of("a"), rec.of("b")) == (["m0", "m1"], ["m2", "m3", "m4"])
        ch.basic_ack(rec.got[1][3], multiple=True)            # still a's to settle
        assert queue_counts(ch, q)[0] == 0
    finally:
        broker.connect().channel().queue_delete(q)


def test_classic_cancel_hands_over_on_the_next_run(yizhan_server):
    """yizhan only: RabbitMQ 3.10's classic queue does not run after the active consumer's
    basic.cancel, and with messages ready the next publish crashes it (rabbitmq-server#5460, a
    badmatch in rabbit_amqqueue_process:attempt_delivery: "has crashed and failed to restart").
    yizhan does not run either, and its next run serves the new active consumer in order."""
    from yizhan.testing.amqp import connect

    connection = connect(yizhan_server.amqp_url)
    try:
        ch = connection.channel()
        q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
        rec = Recorder()
        ch.basic_qos(prefetch_count=2)
        ch.basic_consume(q, rec, consumer_tag="a")
        connection.channel().basic_consume(q, rec, consumer_tag="b")
        publish(connection, q, 5)
        wait_until(connection, lambda: len(rec.got) == 2, "two deliveries to a")
        ch.basic_cancel("a")
        assert queue_counts(ch, q) == (3, 1)
        publish(connection, q, 1, start=5)
        wait_until(connection, lambda: len(rec.got) == 6, "the rest to b")
        assert rec.of("b") == ["m2", "m3", "m4", "m5"]
    finally:
        connection.close()


def test_channel_close_requeues_first_to_the_next_consumer(sac_queue):
    connection, ch, q, kind = sac_queue
    rec = Recorder()
    first = connection.channel()
    first.basic_qos(prefetch_count=2)
    first.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(connection, q, 4)
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries to a")
    first.close()
    wait_until(connection, lambda: len(rec.got) == 6, "everything to b")
    got = [(t, b, r) for t, b, r, _ in rec.got[2:]]
    if kind == "classic":   # rabbit_amqqueue_process: the new consumer, then requeue_and_run
        assert got == [("b", "m0", True), ("b", "m1", True), ("b", "m2", False), ("b", "m3", False)]
    else:                   # rabbit_fifo: the cancel activates b at once, the returns follow
        assert got == [("b", "m2", False), ("b", "m3", False), ("b", "m0", True), ("b", "m1", True)]
    assert queue_counts(ch, q) == (0, 1)


def test_a_waiting_consumer_that_leaves_changes_nothing(sac_queue):
    connection, ch, q, kind = sac_queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    waiting = connection.channel()
    waiting.basic_consume(q, rec, consumer_tag="b")
    waiting.basic_consume(q, rec, consumer_tag="c")
    waiting.basic_cancel("b")
    publish(connection, q, 2)
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries")
    assert rec.of("a") == ["m0", "m1"]
    assert queue_counts(ch, q) == (0, counted(kind, 2))
    ch.basic_cancel("a")
    publish(connection, q, 1, start=2)
    wait_until(connection, lambda: len(rec.got) == 3, "c's delivery")
    assert rec.got[-1][:2] == ("c", "m2")


def test_messages_wait_for_the_next_consumer_when_all_leave(sac_queue):
    connection, ch, q, kind = sac_queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_cancel("a")
    publish(connection, q, 2)
    assert queue_counts(ch, q) == (2, 0)
    ch.basic_consume(q, rec, consumer_tag="b")
    connection.channel().basic_consume(q, rec, consumer_tag="c")
    wait_until(connection, lambda: len(rec.got) == 2, "two deliveries")
    assert rec.of("b") == ["m0", "m1"]


def test_classic_next_active_is_the_highest_priority_waiting_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="first", arguments={"x-priority": 1})
    ch.basic_consume(q, rec, consumer_tag="low", arguments={"x-priority": 2})
    ch.basic_consume(q, rec, consumer_tag="high", arguments={"x-priority": 9})
    ch.basic_consume(q, rec, consumer_tag="high-later", arguments={"x-priority": 9})
    publish(connection, q, 1)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    assert rec.of("first") == ["m0"]              # the first one is active whatever its priority
    ch.basic_cancel("first")
    publish(connection, q, 1, start=1)
    wait_until(connection, lambda: len(rec.got) == 2, "the next delivery")
    assert rec.got[-1][:2] == ("high", "m1")


def test_quorum_next_active_is_the_first_waiting_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), durable=True, arguments=QUORUM_SAC).method.queue
    try:
        rec = Recorder()
        ch.basic_consume(q, rec, consumer_tag="first")
        ch.basic_consume(q, rec, consumer_tag="low", arguments={"x-priority": 2})
        ch.basic_consume(q, rec, consumer_tag="high", arguments={"x-priority": 9})
        ch.basic_cancel("first")
        publish(connection, q, 1)
        wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
        assert rec.got[-1][:2] == ("low", "m0")
    finally:
        broker.connect().channel().queue_delete(q)


def test_exclusive_consume_is_refused(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
    assert broker_error(ch.basic_consume, q, lambda *a: None, exclusive=True) == (
        "channel", 403, f"ACCESS_REFUSED - queue '{q}' in vhost '/' in exclusive use")


def test_false_means_round_robin(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("q"), exclusive=True,
                         arguments={"x-single-active-consumer": False}).method.queue
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(connection, q, 4)
    wait_until(connection, lambda: len(rec.got) == 4, "four deliveries")
    assert (rec.of("a"), rec.of("b")) == (["m0", "m2"], ["m1", "m3"])


def test_basic_get_ignores_the_active_consumer(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
    rec = Recorder()
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, rec, consumer_tag="a")
    publish(connection, q, 3)
    wait_until(connection, lambda: len(rec.got) == 1, "one delivery")
    method, _, body = ch.basic_get(q, auto_ack=True)
    assert (body, method.message_count) == (b"m1", 1)


def test_with_a_priority_queue_the_active_consumer_gets_the_highest_first(broker):
    import pika

    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), exclusive=True,
                         arguments={**SAC, "x-max-priority": 5}).method.queue
    ch2 = connection.channel()
    ch2.confirm_delivery()
    for body, priority in (("low", 1), ("high", 5), ("mid", 3)):
        ch2.basic_publish("", q, body.encode(), pika.BasicProperties(priority=priority))
    rec = Recorder()
    ch.basic_consume(q, rec, consumer_tag="a")
    ch.basic_consume(q, rec, consumer_tag="b")
    wait_until(connection, lambda: len(rec.got) == 3, "three deliveries")
    assert [(t, b) for t, b, _, _ in rec.got] == [("a", "high"), ("a", "mid"), ("a", "low")]


def test_quorum_single_active_allows_exclusive_consume(broker):
    """rabbit_quorum_queue:consume does not look at the exclusive flag."""
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), durable=True, arguments=QUORUM_SAC).method.queue
    try:
        assert ch.basic_consume(q, lambda *a: None, consumer_tag="x", exclusive=True) == "x"
        assert ch.basic_consume(q, lambda *a: None, consumer_tag="y", exclusive=True) == "y"
    finally:
        broker.connect().channel().queue_delete(q)


def test_a_closing_channel_with_two_consumers_hands_over(broker):
    """pika cancels a channel's consumers before closing it. (On a quorum queue the outcome
    hangs on rabbit_fifo's credit bookkeeping for a consumer that waited, so only the classic
    case is compared; the next test closes without cancels on both types.)"""
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("sac"), exclusive=True, arguments=SAC).method.queue
    rec = Recorder()
    closing = connection.channel()
    closing.basic_qos(prefetch_count=1)
    closing.basic_consume(q, rec, consumer_tag="a")
    closing.basic_consume(q, rec, consumer_tag="a2")
    ch.basic_consume(q, rec, consumer_tag="b")
    publish(connection, q, 3)
    wait_until(connection, lambda: len(rec.got) == 1, "a's delivery")
    closing.close()
    wait_until(connection, lambda: len(rec.got) == 4, "everything to b")
    assert [(t, b, r) for t, b, r, _ in rec.got[1:]] == [
        ("b", "m0", True), ("b", "m1", False), ("b", "m2", False)]


@pytest.mark.parametrize("kind", ["classic", "quorum"])
def test_a_channel_closed_without_cancels_skips_its_own_waiting_consumers(broker, kind):
    """channel.close straight away (no basic.cancel first, unlike pika): every consumer of the
    channel goes at once (erase_ch; rabbit_fifo's down), so the next active one is on another
    channel, and the closed channel's message comes back first."""
    from pamqp import commands as C

    connection = broker.connect()
    ch = connection.channel()
    args = SAC if kind == "classic" else QUORUM_SAC
    q = ch.queue_declare(unique("sac"), durable=kind == "quorum", arguments=args).method.queue
    try:
        raw = broker.raw()
        raw.call(1, C.Basic.Qos(prefetch_count=1))
        raw.call(1, C.Basic.Consume(queue=q, consumer_tag="a"))
        raw.call(1, C.Basic.Consume(queue=q, consumer_tag="a2"))
        rec = Recorder()
        ch.basic_consume(q, rec, consumer_tag="b")
        publish(connection, q, 3)
        _, _, frame, _ = raw.receive()
        assert (frame.consumer_tag, frame.redelivered) == ("a", False)
        raw.receive()                                           # header
        raw.receive()                                           # body
        close_ok = raw.call(1, C.Channel.Close(reply_code=200, reply_text="bye", class_id=0,
                                               method_id=0))
        assert type(close_ok) is C.Channel.CloseOk
        wait_until(connection, lambda: len(rec.got) == 3, "everything to b")
        assert [(t, b, r) for t, b, r, _ in rec.got] == [
            ("b", "m0", True), ("b", "m1", False), ("b", "m2", False)]
    finally:
        broker.connect().channel().queue_delete(q)

"""Quorum and stream queues as a client sees them in RabbitMQ 3.10: what queue.declare refuses
(server-named, non-durable, exclusive, auto-delete, arguments of other types) with RabbitMQ's
codes and texts, declare-ok and redeclare equivalence, global qos and exclusive consume, the
queue.delete flags quorum queues do not implement, and the consume/get refusals of streams.
Queues that get created are durable, so each test deletes what it made."""

import pytest

from yizhan.testing.amqp import broker_error, publish_confirmed, queue_counts, unique, wait_until

QUORUM = {"x-queue-type": "quorum"}
STREAM = {"x-queue-type": "stream"}


@pytest.fixture
def names(broker):
    """A fresh queue name per test; the queue is deleted afterwards if it was created."""
    made = []

    def new(prefix="qq"):
        made.append(unique(prefix))
        return made[-1]

    yield new
    ch = broker.connect().channel()
    for name in made:
        ch.queue_delete(name)


def rs(q):
    return f"queue '{q}' in vhost '/'"


DECLARE_ERRORS = {
    # (queue.declare keyword arguments, reply code, text after "NAME - ", closes)
    "quorum-non-durable": (dict(arguments=QUORUM), 406, "invalid property 'non-durable' for {rs}"),
    "quorum-exclusive": (dict(durable=True, exclusive=True, arguments=QUORUM), 406,
                         "invalid property 'exclusive-owner' for {rs}"),
    "quorum-auto-delete": (dict(durable=True, auto_delete=True, arguments=QUORUM), 406,
                           "invalid property 'auto-delete' for {rs}"),
    "quorum-auto-delete-before-exclusive": (
        dict(durable=True, exclusive=True, auto_delete=True, arguments=QUORUM), 406,
        "invalid property 'auto-delete' for {rs}"),
    "quorum-max-priority": (dict(durable=True, arguments={**QUORUM, "x-max-priority": 5}), 406,
                            "invalid arg 'x-max-priority' for {rs} of queue type rabbit_quorum_queue"),
    "quorum-lazy": (dict(durable=True, arguments={**QUORUM, "x-queue-mode": "lazy"}), 406,
                    "invalid arg 'x-queue-mode' for {rs} of queue type rabbit_quorum_queue"),
    "quorum-queue-version": (dict(durable=True, arguments={**QUORUM, "x-queue-version": 2}), 406,
                             "invalid arg 'x-queue-version' for {rs} of queue type rabbit_quorum_queue"),
    "quorum-bad-group-size": (dict(durable=True, arguments={**QUORUM, "x-quorum-initial-group-size": 0}),
                              406, "invalid arg 'x-quorum-initial-group-size' for {rs}: {{value_zero,0}}"),
    "quorum-bad-overflow": (dict(durable=True, arguments={**QUORUM, "x-overflow": "nope"}), 406,
                            "invalid arg 'x-overflow' for {rs}: invalid_overflow"),
    "quorum-non-durable-bad-arg-first": (dict(arguments={**QUORUM, "x-max-priority": 5}), 406,
                                         "invalid arg 'x-max-priority' for {rs} of queue type "
                                         "rabbit_quorum_queue"),
    "stream-non-durable": (dict(arguments=STREAM), 406, "invalid property 'non-durable' for {rs}"),
    "stream-max-length": (dict(durable=True, arguments={**STREAM, "x-max-length": 5}), 406,
                          "invalid arg 'x-max-length' for {rs} of queue type rabbit_stream_queue"),
    "stream-segment-too-large": (
        dict(durable=True, arguments={**STREAM, "x-stream-max-segment-size-bytes": 3_000_000_001}),
        406, "Exceeded max value for x-stream-max-segment-size-bytes"),
    "classic-delivery-limit": (dict(arguments={"x-delivery-limit": 5}), 406,
                               "invalid arg 'x-delivery-limit' for {rs} of queue type "
                               "rabbit_classic_queue"),
}
NAMES = {404: "NOT_FOUND", 406: "PRECONDITION_FAILED", 540: "NOT_IMPLEMENTED"}


@pytest.mark.parametrize("case", sorted(DECLARE_ERRORS))
def test_declare_refusals(broker, names, case):
    kwargs, code, text = DECLARE_ERRORS[case]
    q = names()
    ch = broker.channel()
    expected = f"{NAMES[code]} - " + text.format(rs=rs(q))
    assert broker_error(ch.queue_declare, q, **kwargs) == ("channel", code, expected)


@pytest.mark.parametrize("args,module", [(QUORUM, "rabbit_quorum_queue"),
                                         (STREAM, "rabbit_stream_queue")])
def test_server_named_is_classic_only(broker, args, module):
    ch = broker.channel()
    assert broker_error(ch.queue_declare, "", durable=True, arguments=args) == (
        "channel", 406, f"PRECONDITION_FAILED - Cannot declare a server-named queue for type {module}")


@pytest.mark.parametrize("qtype", ["foo", 5])
def test_server_named_with_an_unknown_type_crashes_the_channel(broker, qtype):
    """RabbitMQ looks the type up (rabbit_queue_type:discover) before validating it."""
    ch = broker.channel()
    assert broker_error(ch.queue_declare, "", durable=True, arguments={"x-queue-type": qtype}) == (
        "connection", 541, "INTERNAL_ERROR")


@pytest.mark.parametrize("args", [QUORUM, STREAM], ids=["quorum", "stream"])
def test_declare_ok_and_redeclare(broker, names, args):
    ch = broker.channel()
    q = names()
    ok = ch.queue_declare(q, durable=True, arguments=args).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 0)
    assert ch.queue_declare(q, durable=True, arguments=args).method.queue == q
    assert ch.queue_declare(q, passive=True).method.queue == q
    assert broker_error(ch.queue_declare, q, durable=True) == (
        "channel", 406, f"PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for {rs(q)}: "
                        f"received none but current is the value '{args['x-queue-type']}' of type "
                        "'longstr'")


def test_classic_redeclared_as_quorum(broker, names):
    ch = broker.channel()
    q = names()
    ch.queue_declare(q, durable=True)
    assert ch.queue_declare(q, durable=True, arguments={"x-queue-type": "classic"}).method.queue == q
    assert broker_error(ch.queue_declare, q, durable=True, arguments=QUORUM) == (
        "channel", 406, f"PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for {rs(q)}: "
                        "received the value 'quorum' of type 'longstr' but current is none")


def test_quorum_arguments_accepted(broker, names):
    ch = broker.channel()
    q = names()
    args = {**QUORUM, "x-overflow": "reject-publish-dlx", "x-single-active-consumer": True,
            "x-delivery-limit": 3, "x-max-length": 10, "x-dead-letter-exchange": "",
            "x-dead-letter-strategy": "at-least-once", "x-quorum-initial-group-size": 3,
            "x-queue-leader-locator": "balanced", "x-max-in-memory-length": 5}
    assert ch.queue_declare(q, durable=True, arguments=args).method.queue == q


def test_quorum_queue_refuses_global_qos(broker, names):
    connection = broker.connect()
    ch = connection.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    ch.basic_qos(prefetch_count=5, global_qos=True)
    assert broker_error(ch.basic_consume, q, lambda *a: None) == (
        "connection", 540, f"NOT_IMPLEMENTED - {rs(q)} does not support global qos")


def test_global_qos_set_after_a_quorum_consumer_started_does_not_limit_it(broker, names):
    """rabbit_channel activates the channel's limiter on classic queues only."""
    connection = broker.connect()
    ch = connection.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append(m.delivery_tag))
    ch.basic_qos(prefetch_count=1, global_qos=True)
    publish_confirmed(connection, "", q, [b"a", b"b", b"c"])
    wait_until(connection, lambda: len(got) == 3, "three deliveries")
    assert queue_counts(ch, q) == (0, 1)


def test_quorum_queue_global_qos_zero_is_no_limit(broker, names):
    ch = broker.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    ch.basic_qos(prefetch_count=0, global_qos=True)
    assert ch.basic_consume(q, lambda *a: None, consumer_tag="c") == "c"


def test_quorum_queue_allows_exclusive_consume_beside_others(broker, names):
    """rabbit_quorum_queue:consume does not look at the exclusive flag."""
    ch = broker.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    ch.basic_consume(q, lambda *a: None, consumer_tag="a")
    assert ch.basic_consume(q, lambda *a: None, consumer_tag="b", exclusive=True) == "b"
    assert ch.basic_consume(q, lambda *a: None, consumer_tag="c") == "c"
    assert queue_counts(ch, q) == (0, 3)


@pytest.mark.parametrize("flag", ["if_unused", "if_empty"])
def test_quorum_delete_flags_are_not_implemented(broker, names, flag):
    ch = broker.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    dashed = flag.replace("_", "-")
    assert broker_error(ch.queue_delete, q, **{flag: True}) == (
        "connection", 540, f"NOT_IMPLEMENTED - cannot delete {rs(q)}. queue.delete operations "
                           f"with {dashed} flag set are not supported by quorum queues")


def test_quorum_queue_without_prefetch_delivers_2000_at_a_time(broker, names):
    """rabbit_quorum_queue:consume gives a consumer without a prefetch count 2000 credits."""
    connection = broker.connect()
    ch = connection.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    publish_confirmed(connection, "", q, [b"m"] * 2010)
    got = []
    ch.basic_consume(q, lambda c, m, p, b: got.append(m.delivery_tag))
    wait_until(connection, lambda: len(got) == 2000, "2000 deliveries")
    assert queue_counts(ch, q) == (10, 1)
    ch.basic_ack(got[4], multiple=True)
    wait_until(connection, lambda: len(got) == 2005, "five more")
    assert queue_counts(ch, q) == (5, 1)


def test_quorum_queue_requeues_to_the_back(broker, names):
    """rabbit_fifo (3.10): a rejected or nacked message goes back behind the others."""
    connection = broker.connect()
    ch = connection.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    publish_confirmed(connection, "", q, [b"a", b"b", b"c"])
    assert queue_counts(ch, q) == (3, 0)
    method, _, body = ch.basic_get(q)
    assert (body, method.message_count, method.redelivered) == (b"a", 2, False)
    ch.basic_reject(method.delivery_tag, requeue=True)
    got = []
    for _ in range(3):
        method, _, body = ch.basic_get(q, auto_ack=True)
        got.append((body, method.redelivered, method.message_count))
    assert got == [(b"b", False, 2), (b"c", False, 1), (b"a", True, 0)]
    publish_confirmed(connection, "", q, [b"d", b"e"])
    deliveries = []
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, lambda c, m, p, b: deliveries.append((b, m.redelivered, m.delivery_tag)))
    wait_until(connection, lambda: len(deliveries) == 1, "one delivery")
    ch.basic_nack(deliveries[0][2], requeue=True)
    wait_until(connection, lambda: len(deliveries) == 2, "the next delivery")
    assert [d[:2] for d in deliveries] == [(b"d", False), (b"e", False)]
    assert ch.queue_purge(q).method.message_count == 1
    assert ch.queue_delete(q).method.message_count == 0


def test_stream_refuses_consume_without_prefetch_get_and_auto_ack(broker, names):
    connection = broker.connect()
    q = names("sq")
    connection.channel().queue_declare(q, durable=True, arguments=STREAM)
    assert broker_error(connection.channel().basic_consume, q, lambda *a: None) == (
        "channel", 406, f"PRECONDITION_FAILED - consumer prefetch count is not set for '{rs(q)}'")
    ch = connection.channel()
    ch.basic_qos(prefetch_count=10)
    assert broker_error(ch.basic_consume, q, lambda *a: None, auto_ack=True) == (
        "connection", 540, f"NOT_IMPLEMENTED - automatic acknowledgement not supported by stream "
                           f"queues {rs(q)}")
    ch = broker.connect().channel()
    assert broker_error(ch.basic_get, q) == (
        "connection", 540, f"NOT_IMPLEMENTED - basic.get not supported by stream queues {rs(q)}")


@pytest.mark.parametrize("settle", ["nack", "reject"])
def test_stream_refuses_nack_and_reject(broker, names, settle):
    connection = broker.connect()
    q = names("sq")
    ch = connection.channel()
    ch.queue_declare(q, durable=True, arguments=STREAM)
    ch.basic_qos(prefetch_count=10)
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append((body, m.delivery_tag)))
    publish_confirmed(connection, "", q, [b"m"])     # a stream consumer starts at "next"
    wait_until(connection, lambda: got, "the delivery")
    call = ch.basic_nack if settle == "nack" else ch.basic_reject
    assert broker_error(lambda: (call(got[0][1]), ch.queue_declare(q, passive=True))) == (
        "connection", 540, "NOT_IMPLEMENTED - basic.nack and basic.reject not supported by "
                           f"stream queues {rs(q)}")


def test_quorum_consumer_cancelled_with_unacked_messages_still_counts(broker, names):
    """rabbit_fifo keeps a consumer cancelled while it holds messages (status cancelled, in its
    consumers map: query_stat counts it) until its channel goes; one that held nothing goes."""
    connection = broker.connect()
    ch = connection.channel()
    q = names()
    ch.queue_declare(q, durable=True, arguments=QUORUM)
    publish_confirmed(connection, "", q, [b"a", b"b"])
    holder = connection.channel()
    holder.basic_qos(prefetch_count=1)
    got = []
    holder.basic_consume(q, lambda c, m, p, body: got.append(m.delivery_tag), consumer_tag="h")
    ch.basic_consume(q, lambda *a: None, consumer_tag="idle", auto_ack=True)
    wait_until(connection, lambda: got, "the holder's delivery")
    ch.basic_cancel("idle")
    holder.basic_cancel("h")
    assert queue_counts(ch, q)[1] == 1
    holder.basic_ack(got[0])
    assert queue_counts(ch, q)[1] == 1
    holder.close()          # rabbit_fifo hears of the channel's end asynchronously
    wait_until(connection, lambda: queue_counts(ch, q)[1] == 0, "the consumer to go")

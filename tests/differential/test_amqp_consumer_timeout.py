"""The consumer timeout (RabbitMQ's consumer_timeout; yizhan's `amqp-consumer-timeout MS`) with
a short value on both brokers: a delivery left unacknowledged past it closes its channel with
406 and rabbit_channel's text (class and method 0), its messages go back to the queue, and the
rest of the connection carries on. RabbitMQ gets the value (and a 100 ms channel tick instead
of 60 s) through `rabbitmqctl eval` for the duration of the module, yizhan through a config file
of its own server process. Tests wait for the close by polling, never by sleeping a fixed time."""

import time

import pytest
from pamqp import commands as C

from yizhan.testing.amqp import Broker, RawAMQP, publish_confirmed, unique, wait_until
from yizhan.testing.process import ServerProcess

TIMEOUT_MS = 600
TEXT = ("PRECONDITION_FAILED - delivery acknowledgement on channel {n} timed out. Timeout value "
        f"used: {TIMEOUT_MS} ms. This timeout value can be configured, see consumers doc guide "
        "to learn more")


@pytest.fixture(scope="module")
def yizhan_short_timeout(tmp_path_factory):
    base = tmp_path_factory.mktemp("consumer-timeout")
    (base / "yizhan.conf").write_text(f"amqp-consumer-timeout {TIMEOUT_MS}\n")
    server = ServerProcess(base / "data", base / "log.txt", "--config", str(base / "yizhan.conf"))
    yield f"amqp://guest:guest@127.0.0.1:{server.amqp_port}/%2F"
    server.stop()


def _env(ref, key):
    return ref.ctl("eval", f"application:get_env(rabbit, {key}).").stdout.strip()


@pytest.fixture(scope="module")
def rabbitmq_short_timeout(reference_rabbitmq):
    ref = reference_rabbitmq
    saved = {key: _env(ref, key) for key in ("consumer_timeout", "channel_tick_interval")}
    ref.ctl("eval", f"application:set_env(rabbit, consumer_timeout, {TIMEOUT_MS}), "
                    "application:set_env(rabbit, channel_tick_interval, 100).")
    yield ref.url
    for key, value in saved.items():  # "{ok,1800000}" or "undefined"
        if value.startswith("{ok,"):
            ref.ctl("eval", f"application:set_env(rabbit, {key}, {value[4:-1]}).")
        else:
            ref.ctl("eval", f"application:unset_env(rabbit, {key}).")


@pytest.fixture(params=["yizhan", "rabbitmq"])
def short(request):
    """A `Broker` whose consumer timeout is TIMEOUT_MS; new channels only (RabbitMQ reads the
    value when a channel opens)."""
    fixture = "yizhan_short_timeout" if request.param == "yizhan" else "rabbitmq_short_timeout"
    handle = Broker(request.param, request.getfixturevalue(fixture))
    yield handle
    handle.close_all()


def expect_close(raw: RawAMQP, channel: int):
    """Skip deliveries until channel.close arrives on `channel`; answer it."""
    while True:
        kind, number, frame, _ = raw.receive()
        if kind == 1 and number == channel and isinstance(frame, C.Channel.Close):
            raw.send(channel, C.Channel.CloseOk())
            return frame


def test_unacked_consume_closes_the_channel_and_requeues(short):
    q = unique("ct")
    connection = short.connect()
    connection.channel().queue_declare(q, auto_delete=False, exclusive=False)
    publish_confirmed(connection, "", q, [b"held"])
    raw = short.raw()
    try:
        raw.call(1, C.Basic.Consume(queue=q, consumer_tag="slow"))
        close = expect_close(raw, 1)
        assert (close.reply_code, close.reply_text, close.class_id, close.method_id) == (
            406, TEXT.format(n=1), 0, 0)
        method, _, body = connection.channel().basic_get(q, auto_ack=True)
        assert (body, method.redelivered) == (b"held", True)
    finally:
        connection.channel().queue_delete(q)


def test_unacked_basic_get_times_out_too(short):
    q = unique("ct")
    connection = short.connect()
    connection.channel().queue_declare(q)
    publish_confirmed(connection, "", q, [b"got"])
    raw = short.raw(channel=3)
    try:
        raw.send(3, C.Basic.Get(queue=q))
        close = expect_close(raw, 3)
        assert (close.reply_code, close.reply_text) == (406, TEXT.format(n=3))
        assert connection.channel().queue_declare(q, passive=True).method.message_count == 1
    finally:
        connection.channel().queue_delete(q)


def test_the_rest_of_the_connection_carries_on(short):
    connection = short.connect()
    holder, other = connection.channel(), connection.channel()
    q = other.queue_declare(unique("ct"), exclusive=True).method.queue
    closed = []
    holder._impl.add_on_close_callback(lambda channel, reason: closed.append(
        (reason.reply_code, reason.reply_text)))
    holder.basic_qos(prefetch_count=1)
    holder.basic_consume(q, lambda *args: None, consumer_tag="holder")
    publish_confirmed(connection, "", q, [b"a", b"b"])
    wait_until(connection, lambda: closed, "the holder's channel to be closed")
    assert closed == [(406, TEXT.format(n=holder.channel_number))]
    got = []
    other.basic_consume(q, lambda ch, m, p, body: (got.append((body, m.redelivered)),
                                                   ch.basic_ack(m.delivery_tag)))
    wait_until(connection, lambda: len(got) == 2, "both messages on the other channel")
    assert got == [(b"a", True), (b"b", False)]


def test_acks_in_time_keep_the_channel_open(short):
    """A consumer that acks each delivery at once outlives several timeouts of traffic."""
    connection = short.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("ct"), exclusive=True).method.queue
    got = []
    ch.basic_consume(q, lambda c, m, p, body: (got.append(body), c.basic_ack(m.delivery_tag)))
    deadline = time.monotonic() + 3 * TIMEOUT_MS / 1000
    sent = 0
    while time.monotonic() < deadline:
        publish_confirmed(connection, "", q, [b"m%d" % sent])
        sent += 1
        wait_until(connection, lambda: len(got) == sent, "the delivery")
    assert ch.is_open and ch.queue_declare(q, passive=True).method.message_count == 0


def test_auto_ack_consumers_never_time_out(short):
    connection = short.connect()
    ch = connection.channel()
    q = ch.queue_declare(unique("ct"), exclusive=True).method.queue
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append(body), auto_ack=True)
    publish_confirmed(connection, "", q, [b"x"])
    wait_until(connection, lambda: got, "the delivery")
    connection.process_data_events(time_limit=3 * TIMEOUT_MS / 1000)
    assert ch.is_open and ch.queue_declare(q, passive=True).method.consumer_count == 1


def test_a_timed_out_single_active_consumer_hands_over(short):
    """The active consumer's channel is closed by the timeout: the waiting consumer becomes
    active and gets the held message first, redelivered."""
    connection = short.connect()
    holder, other = connection.channel(), connection.channel()
    q = other.queue_declare(unique("ct"), exclusive=True,
                            arguments={"x-single-active-consumer": True}).method.queue
    closed = []
    holder._impl.add_on_close_callback(lambda channel, reason: closed.append(reason.reply_code))
    holder.basic_qos(prefetch_count=1)
    holder.basic_consume(q, lambda *args: None, consumer_tag="holder")
    got = []
    other.basic_consume(q, lambda ch, m, p, body: (got.append((body, m.redelivered)),
                                                   ch.basic_ack(m.delivery_tag)))
    publish_confirmed(connection, "", q, [b"a", b"b"])
    wait_until(connection, lambda: closed and len(got) == 2, "the hand-over")
    assert (closed, got) == ([406], [(b"a", True), (b"b", False)])

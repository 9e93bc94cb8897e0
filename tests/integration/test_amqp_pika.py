"""pika 1.x against yizhan's AMQP port: BlockingConnection for the whole protocol surface
(topology, publishing with confirms and mandatory, get/consume/ack/nack/reject, prefetch,
transactions, properties, large bodies, exclusive queues, cancel notifications) and
SelectConnection for the asynchronous, callback-driven style."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, UnroutableError

WAIT = 10.0


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def connection(yizhan_amqp_url):
    conn = pika.BlockingConnection(pika.URLParameters(yizhan_amqp_url))
    yield conn
    if conn.is_open:
        conn.close()


@pytest.fixture
def channel(connection):
    return connection.channel()


def drain(channel, queue: str, count: int, auto_ack: bool = True) -> list:
    """The next `count` deliveries of `queue` as (method, properties, body)."""
    out = []
    for method, props, body in channel.consume(queue, auto_ack=auto_ack, inactivity_timeout=WAIT):
        if method is None:
            raise AssertionError(f"only {len(out)} of {count} messages arrived")
        out.append((method, props, body))
        if len(out) == count:
            break
    channel.cancel()
    return out


def test_publish_get_and_counts(channel):
    queue = channel.queue_declare(name()).method.queue
    for i in range(3):
        channel.basic_publish("", queue, f"m{i}".encode())
    ok = channel.queue_declare(queue, passive=True).method
    assert (ok.message_count, ok.consumer_count) == (3, 0)
    method, _props, body = channel.basic_get(queue)
    assert (body, method.message_count, method.redelivered) == (b"m0", 2, False)
    channel.basic_nack(method.delivery_tag, requeue=True)
    method, _props, body = channel.basic_get(queue, auto_ack=True)
    assert (body, method.redelivered) == (b"m0", True)
    assert channel.queue_purge(queue).method.message_count == 2
    assert channel.basic_get(queue) == (None, None, None)


def test_server_named_exclusive_queue(channel):
    queue = channel.queue_declare("", exclusive=True).method.queue
    assert queue.startswith("amq.gen-") and len(queue) == len("amq.gen-") + 22


def test_routing_through_every_exchange_type(channel):
    queues = {kind: channel.queue_declare(name(kind)).method.queue
              for kind in ("direct", "fanout", "topic", "headers")}
    for kind in queues:
        channel.exchange_declare(f"x-{kind}-{queues[kind]}", kind)
    channel.queue_bind(queues["direct"], f"x-direct-{queues['direct']}", "info")
    channel.queue_bind(queues["fanout"], f"x-fanout-{queues['fanout']}")
    channel.queue_bind(queues["topic"], f"x-topic-{queues['topic']}", "*.error.#")
    channel.queue_bind(queues["headers"], f"x-headers-{queues['headers']}",
                       arguments={"x-match": "any", "kind": "a", "n": 1})
    channel.basic_publish(f"x-direct-{queues['direct']}", "info", b"d")
    channel.basic_publish(f"x-fanout-{queues['fanout']}", "whatever", b"f")
    channel.basic_publish(f"x-topic-{queues['topic']}", "app.error", b"t1")
    channel.basic_publish(f"x-topic-{queues['topic']}", "app.warning", b"no")
    channel.basic_publish(f"x-topic-{queues['topic']}", "app.error.disk.full", b"t2")
    channel.basic_publish(f"x-headers-{queues['headers']}", "", b"h",
                          pika.BasicProperties(headers={"n": 1}))
    assert [b for _, _, b in drain(channel, queues["direct"], 1)] == [b"d"]
    assert [b for _, _, b in drain(channel, queues["fanout"], 1)] == [b"f"]
    assert [b for _, _, b in drain(channel, queues["topic"], 2)] == [b"t1", b"t2"]
    assert [b for _, _, b in drain(channel, queues["headers"], 1)] == [b"h"]


def test_exchange_to_exchange_and_alternate_exchange(channel):
    source, middle, alternate = name("src"), name("mid"), name("ae")
    channel.exchange_declare(alternate, "fanout")
    channel.exchange_declare(source, "topic", arguments={"alternate-exchange": alternate})
    channel.exchange_declare(middle, "direct")
    channel.exchange_bind(middle, source, "a.*")
    routed = channel.queue_declare(name()).method.queue
    fallback = channel.queue_declare(name()).method.queue
    channel.queue_bind(routed, middle, "a.b")
    channel.queue_bind(fallback, alternate)
    channel.basic_publish(source, "a.b", b"via middle")
    channel.basic_publish(source, "z", b"via alternate")
    assert [b for _, _, b in drain(channel, routed, 1)] == [b"via middle"]
    assert [b for _, _, b in drain(channel, fallback, 1)] == [b"via alternate"]
    channel.exchange_unbind(middle, source, "a.*")
    channel.basic_publish(source, "a.b", b"now to alternate")
    assert [b for _, _, b in drain(channel, fallback, 1)] == [b"now to alternate"]


def test_confirms_and_mandatory(channel):
    channel.confirm_delivery()
    queue = channel.queue_declare(name()).method.queue
    channel.basic_publish("", queue, b"routed", mandatory=True)
    with pytest.raises(UnroutableError) as info:
        channel.basic_publish("", name("nowhere"), b"lost", mandatory=True)
    returned = info.value.messages[0]
    assert (returned.method.reply_code, returned.method.reply_text, returned.body) == \
        (312, "NO_ROUTE", b"lost")
    channel.basic_publish("", name("nowhere"), b"dropped")  # unroutable, still confirmed
    assert channel.queue_declare(queue, passive=True).method.message_count == 1


def test_properties_and_headers_arrive_as_published(channel):
    queue = channel.queue_declare(name()).method.queue
    stamp = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        priority=3, correlation_id="corr", reply_to="back", expiration="60000",
        message_id="mid", timestamp=1700000000, type="kind", user_id="guest", app_id="app",
        headers={"str": "s", "int": -5, "big": 2 ** 40, "bool": True,
                 "none": None, "list": [1, "two", [3]], "table": {"nested": {"deep": "x"}},
                 "decimal": decimal.Decimal("3.14"), "when": stamp, "bytes": b"\x00\xff"})
    channel.basic_publish("", queue, b"{}", props)
    _method, got, body = drain(channel, queue, 1)[0]
    assert body == b"{}"
    for attr in ("content_type", "content_encoding", "delivery_mode", "priority",
                 "correlation_id", "reply_to", "expiration", "message_id", "timestamp",
                 "type", "user_id", "app_id"):
        assert getattr(got, attr) == getattr(props, attr), attr
    expected = dict(props.headers, bytes=b"\x00\xff")
    assert got.headers == expected


@pytest.mark.parametrize("size", [0, 1, 131064, 131065, 1_000_003])
def test_bodies_split_at_frame_max(channel, size):
    queue = channel.queue_declare(name()).method.queue
    body = bytes(i % 251 for i in range(size))
    channel.basic_publish("", queue, body)
    assert drain(channel, queue, 1)[0][2] == body


def test_small_frame_max(yizhan_amqp_url):
    params = pika.URLParameters(yizhan_amqp_url)
    params.frame_max = 4096
    with pika.BlockingConnection(params) as conn:
        channel = conn.channel()
        queue = channel.queue_declare(name()).method.queue
        body = b"y" * 20000
        channel.basic_publish("", queue, body)
        assert channel.basic_get(queue, auto_ack=True)[2] == body


def test_prefetch_one_is_fair_dispatch(connection):
    producer = connection.channel()
    queue = producer.queue_declare(name()).method.queue
    busy, idle = connection.channel(), connection.channel()
    for channel in (busy, idle):
        channel.basic_qos(prefetch_count=1)
    got = {"busy": [], "idle": []}
    busy.basic_consume(queue, lambda ch, m, p, b: got["busy"].append(m.delivery_tag))
    idle.basic_consume(queue, lambda ch, m, p, b: (got["idle"].append(b),
                                                   ch.basic_ack(m.delivery_tag)))
    for i in range(5):
        producer.basic_publish("", queue, f"task{i}".encode())
    connection.process_data_events(time_limit=0)
    deadline = 200
    while len(got["busy"]) + len(got["idle"]) < 5 and deadline:
        connection.process_data_events(time_limit=0.05)
        deadline -= 1
    assert got["busy"] == [1]           # never acks: one message, then nothing more
    assert len(got["idle"]) == 4


def test_ack_nack_reject_and_unknown_tag(channel):
    queue = channel.queue_declare(name()).method.queue
    for i in range(4):
        channel.basic_publish("", queue, f"m{i}".encode())
    deliveries = drain(channel, queue, 4, auto_ack=False)
    tags = [m.delivery_tag for m, _, _ in deliveries]
    assert tags == [1, 2, 3, 4]
    channel.basic_ack(2, multiple=True)
    channel.basic_reject(3, requeue=False)
    channel.basic_nack(4, requeue=True)
    assert [b for _, _, b in drain(channel, queue, 1)] == [b"m3"]
    with pytest.raises(ChannelClosedByBroker) as info:
        channel.basic_ack(99)
        channel.queue_declare(queue, passive=True)
    assert (info.value.reply_code, info.value.reply_text) == \
        (406, "PRECONDITION_FAILED - unknown delivery tag 99")


def test_unacked_messages_return_in_order_when_the_channel_closes(connection):
    channel = connection.channel()
    queue = channel.queue_declare(name()).method.queue
    for i in range(5):
        channel.basic_publish("", queue, f"m{i}".encode())
    consumer = connection.channel()
    consumer.basic_qos(prefetch_count=3)
    got = drain(consumer, queue, 3, auto_ack=False)
    consumer.basic_ack(got[1][0].delivery_tag)
    consumer.close()
    again = [(m.redelivered, b) for m, _, b in drain(channel, queue, 4)]
    assert again == [(True, b"m0"), (True, b"m2"), (False, b"m3"), (False, b"m4")]


def test_transactions(channel):
    queue = channel.queue_declare(name()).method.queue
    channel.tx_select()
    channel.basic_publish("", queue, b"rolled back")
    channel.tx_rollback()
    channel.basic_publish("", queue, b"committed")
    assert channel.queue_declare(queue, passive=True).method.message_count == 0
    channel.tx_commit()
    method, _p, body = channel.basic_get(queue)
    assert body == b"committed"
    channel.basic_ack(method.delivery_tag)
    channel.tx_rollback()                 # the ack is undone: the message is unacked again
    channel.basic_ack(method.delivery_tag)
    channel.tx_commit()
    assert channel.queue_declare(queue, passive=True).method.message_count == 0


def test_channel_errors_as_rabbitmq(connection):
    cases = [
        (lambda ch: ch.queue_declare(name(), passive=True), 404),
        (lambda ch: ch.exchange_declare("amq.custom", "direct"), 403),
        (lambda ch: ch.basic_publish(name("missing"), "k", b""), 404),
    ]
    for action, code in cases:
        channel = connection.channel()
        with pytest.raises(ChannelClosedByBroker) as info:
            action(channel)
            channel.queue_declare(name())  # a synchronous call surfaces the close
        assert info.value.reply_code == code
    assert connection.is_open


def test_inequivalent_redeclare(channel):
    queue = channel.queue_declare(name(), durable=True).method.queue
    with pytest.raises(ChannelClosedByBroker) as info:
        channel.queue_declare(queue, durable=False)
    assert info.value.reply_text == (f"PRECONDITION_FAILED - inequivalent arg 'durable' for "
                                     f"queue '{queue}' in vhost '/': received 'false' but "
                                     "current is 'true'")


def test_exclusive_queue_is_locked_for_other_connections(yizhan_amqp_url, channel):
    queue = channel.queue_declare(name(), exclusive=True).method.queue
    with pika.BlockingConnection(pika.URLParameters(yizhan_amqp_url)) as other:
        with pytest.raises(ChannelClosedByBroker) as info:
            other.channel().basic_consume(queue, lambda *a: None)
        assert info.value.reply_code == 405


def test_exclusive_queue_goes_with_its_connection(yizhan_amqp_url, channel):
    with pika.BlockingConnection(pika.URLParameters(yizhan_amqp_url)) as owner:
        queue = owner.channel().queue_declare(name(), exclusive=True).method.queue
    with pytest.raises(ChannelClosedByBroker) as info:
        channel.queue_declare(queue, passive=True)
    assert info.value.reply_code == 404


def test_consumer_cancel_notification(connection):
    channel = connection.channel()
    queue = channel.queue_declare(name()).method.queue
    cancelled = []
    channel.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = channel.basic_consume(queue, lambda *a: None)
    connection.channel().queue_delete(queue)
    connection.process_data_events(time_limit=0.2)
    assert cancelled == [tag]


def test_basic_recover_redelivers(channel):
    queue = channel.queue_declare(name()).method.queue
    channel.basic_publish("", queue, b"again")
    method, _p, _b = channel.basic_get(queue)
    channel.basic_recover(requeue=True)
    method, _p, body = channel.basic_get(queue, auto_ack=True)
    assert (body, method.redelivered) == (b"again", True)


def test_heartbeat_negotiation(yizhan_amqp_url):
    params = pika.URLParameters(yizhan_amqp_url)
    params.heartbeat = 5
    with pika.BlockingConnection(params) as conn:
        assert conn._impl.params.heartbeat == 5
        conn.process_data_events(time_limit=0.1)


def test_select_connection_round_trip(yizhan_amqp_url):
    """The callback style: open, declare, consume, publish, receive, close."""
    received, queue_name = [], name()

    def on_open(conn):
        conn.channel(on_open_callback=on_channel)

    def on_channel(channel):
        channel.queue_declare(queue_name, callback=lambda frame: on_declared(channel))

    def on_declared(channel):
        channel.basic_consume(queue_name, on_message, auto_ack=True)
        channel.basic_publish("", queue_name, b"select")

    def on_message(channel, method, props, body):
        received.append(body)
        channel.connection.close()

    conn = pika.SelectConnection(pika.URLParameters(yizhan_amqp_url), on_open_callback=on_open,
                                 on_open_error_callback=lambda c, e: c.ioloop.stop(),
                                 on_close_callback=lambda c, r: c.ioloop.stop())
    conn.ioloop.call_later(WAIT, conn.ioloop.stop)
    conn.ioloop.start()
    assert received == [b"select"]


def test_wrong_password(yizhan_amqp_url):
    url = yizhan_amqp_url.replace("guest:guest", "guest:wrong")
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as info:
        pika.BlockingConnection(pika.URLParameters(url))
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(info.value)


def test_unknown_vhost(yizhan_amqp_url):
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as info:
        pika.BlockingConnection(pika.URLParameters(yizhan_amqp_url[:-3] + "nope"))
    assert "NOT_ALLOWED - vhost nope not found" in str(info.value)

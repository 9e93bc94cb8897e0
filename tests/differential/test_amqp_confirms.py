"""Publisher confirms, mandatory returns and transactions: sequence numbers per channel, acks
(with `multiple`) for routed and unroutable messages alike, Basic.Return (312 NO_ROUTE) before
the confirm of the same message, and Tx.Select/Commit/Rollback for publishes and acks."""

import pika
import pytest
from pamqp import body as B, commands as C, frame, header

from yizhan.testing.amqp import publish_confirmed, queue_counts, unique, wait_until


def publish_frames(channel, exchange, routing_key, body, mandatory=False):
    return (frame.marshal(C.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory), channel)
            + frame.marshal(header.ContentHeader(0, len(body), C.Basic.Properties(message_id=body.decode())), channel)
            + frame.marshal(B.ContentBody(body), channel))


def events_until_confirmed(raw, count):
    """Read frames on channel 1 until publishes 1..count are all confirmed; returns the events
    with every ack expanded to the tags it covers: ("ack", tag) / ("nack", tag) / ("return", ...).
    RabbitMQ may confirm an unroutable message before routed ones published earlier."""
    events, confirmed = [], set()
    while len(confirmed) < count:
        kind, channel, value, _ = raw.receive()
        if value.name == "Basic.Return":
            _, _, props, _ = raw.receive()               # content header
            raw.receive()                                # body
            events.append(("return", value.reply_code, value.reply_text, value.exchange, value.routing_key,
                           props.properties.message_id))
        elif value.name in ("Basic.Ack", "Basic.Nack"):
            upto = value.delivery_tag
            tags = [t for t in range(1, upto + 1) if t not in confirmed] if value.multiple else [upto]
            assert tags and not confirmed.intersection(tags), f"{value.name} {upto} confirms nothing new"
            for tag in tags:
                events.append((value.name[6:].lower(), tag))
            confirmed.update(tags)
        else:
            raise AssertionError(f"unexpected {value!r}")
    return events


def test_confirms_count_from_one_and_cover_every_publish(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    raw.send_bytes(publish_frames(1, "", q, b"before-select"))           # not counted
    assert raw.call(1, C.Confirm.Select()).name == "Confirm.SelectOk"
    raw.send_bytes(b"".join(publish_frames(1, "", q, f"m{i}".encode()) for i in range(10)))
    assert events_until_confirmed(raw, 10) == [("ack", tag) for tag in range(1, 11)]
    assert raw.call(1, C.Queue.Declare(queue=q, passive=True)).message_count == 11


def test_return_comes_before_the_confirm_and_unroutable_is_acked(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    x = unique("x")
    raw.call(1, C.Exchange.Declare(exchange=x, exchange_type="direct", auto_delete=True))
    raw.call(1, C.Queue.Bind(queue=q, exchange=x, routing_key="here"))
    raw.call(1, C.Confirm.Select())
    plan = [(x, "here", True), (x, "nowhere", True), ("", q, True), (x, "nowhere", False),
            ("", "no-such-queue-" + q, True), (x, "here", False)]
    raw.send_bytes(b"".join(publish_frames(1, e, rk, f"m{i}".encode(), mandatory=m) for i, (e, rk, m) in enumerate(plan)))
    events = events_until_confirmed(raw, len(plan))
    assert sorted(e for e in events if e[0] == "ack") == [("ack", tag) for tag in range(1, 7)]
    assert [e for e in events if e[0] == "return"] == [
        ("return", 312, "NO_ROUTE", x, "nowhere", "m1"), ("return", 312, "NO_ROUTE", "", "no-such-queue-" + q, "m4")]
    for tag, body in ((2, "m1"), (5, "m4")):     # each return precedes the ack that covers its message
        assert events.index(next(e for e in events if e[0] == "return" and e[-1] == body)) < events.index(("ack", tag))
    assert raw.call(1, C.Queue.Declare(queue=q, passive=True)).message_count == 3


def test_mandatory_return_without_confirms(broker):
    connection = broker.connect()
    ch = connection.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.reply_text, m.exchange,
                                                                  m.routing_key, p.message_id, b)))
    rk = unique("nowhere")
    ch.basic_publish("amq.direct", rk, b"back to sender", pika.BasicProperties(message_id="r1"), mandatory=True)
    ch.basic_publish("amq.direct", rk, b"dropped silently")
    connection.process_data_events(time_limit=0)
    ch.queue_declare("", exclusive=True)       # a round trip: the return was sent before this reply
    connection.process_data_events(time_limit=0)
    assert returned == [(312, "NO_ROUTE", "amq.direct", rk, "r1", b"back to sender")]


def test_pika_confirm_delivery_raises_unroutable(broker):
    ch = broker.channel()
    ch.confirm_delivery()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"fine", mandatory=True)
    with pytest.raises(pika.exceptions.UnroutableError) as info:
        ch.basic_publish("", unique("nowhere"), b"lost", mandatory=True)
    assert [m.body for m in info.value.messages] == [b"lost"]
    assert queue_counts(ch, q) == (1, 0)


def test_confirm_sequence_is_per_channel(broker):
    raw = broker.raw()
    raw.open_channel(2)
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    for channel in (1, 2):
        assert raw.call(channel, C.Confirm.Select()).name == "Confirm.SelectOk"
    raw.send_bytes(publish_frames(1, "", q, b"a") + publish_frames(1, "", q, b"b") + publish_frames(2, "", q, b"c"))
    acks = {1: 0, 2: 0}
    while acks != {1: 2, 2: 1}:
        kind, channel, value, _ = raw.receive()
        assert value.name == "Basic.Ack"
        acks[channel] = value.delivery_tag


def test_transaction_commit_and_rollback_of_publishes(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.tx_select()
    ch.basic_publish("", q, b"rolled back")
    assert queue_counts(ch, q) == (0, 0)
    ch.tx_rollback()
    assert queue_counts(ch, q) == (0, 0)
    ch.basic_publish("", q, b"m1")
    ch.basic_publish("", q, b"m2")
    ch.tx_commit()
    assert [ch.basic_get(q, auto_ack=True)[2] for _ in range(3)] == [b"m1", b"m2", None]


def test_transaction_of_acks(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    for i in range(3):
        ch.basic_publish("", q, f"m{i}".encode())
    ch.tx_select()
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(3)]
    ch.basic_ack(tags[0])
    ch.tx_rollback()                       # the ack is forgotten: m0 is still unacked
    ch.basic_ack(tags[1])
    ch.tx_commit()
    ch.basic_recover(requeue=True)         # what is still unacked comes back: m0 and m2
    got = []
    while True:
        method, _, body = ch.basic_get(q)
        if method is None:
            break
        got.append((body, method.redelivered))
        ch.basic_ack(method.delivery_tag)
    ch.tx_commit()
    assert got == [(b"m0", True), (b"m2", True)]
    assert queue_counts(ch, q) == (0, 0)


def test_transaction_mandatory_return_on_commit(broker):
    connection = broker.connect()
    ch = connection.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, b)))
    ch.tx_select()
    ch.basic_publish("amq.direct", unique("nowhere"), b"lost", mandatory=True)
    ch.tx_commit()
    connection.process_data_events(time_limit=0)
    assert returned == [(312, b"lost")]


def test_transaction_mixing_nack_and_publish(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    publish_confirmed(connection, "", q, [b"a", b"b", b"c"])
    ch.tx_select()
    first, second = ch.basic_get(q)[0].delivery_tag, ch.basic_get(q)[0].delivery_tag
    ch.basic_nack(first, requeue=True)
    ch.basic_publish("", q, b"d")
    assert queue_counts(ch, q) == (1, 0)             # nothing happens before the commit
    ch.tx_commit()
    wait_until(connection, lambda: queue_counts(ch, q) == (3, 0), "the commit to take effect")
    ch.basic_ack(second)
    ch.tx_commit()
    got = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            break
        got.append((body, method.redelivered))
    assert got == [(b"a", True), (b"c", False), (b"d", False)]


def test_closing_a_transactional_channel_discards_uncommitted_publishes(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    tx = connection.channel()
    tx.tx_select()
    tx.basic_publish("", q, b"never")
    tx.close()
    publish_confirmed(connection, "", q, [b"after"])
    assert ch.basic_get(q, auto_ack=True)[2] == b"after"
    assert ch.basic_get(q, auto_ack=True)[0] is None


def test_mandatory_through_an_exchange_binding_to_nothing(broker):
    connection = broker.connect()
    ch = connection.channel()
    source, destination = unique("src"), unique("dst")
    ch.exchange_declare(source, "direct", auto_delete=True)
    ch.exchange_declare(destination, "fanout", auto_delete=True)
    ch.exchange_bind(destination, source, "k")
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.reply_text, m.exchange, m.routing_key)))
    ch.basic_publish(source, "k", b"reaches no queue", mandatory=True)
    ch.queue_declare("", exclusive=True)
    connection.process_data_events(time_limit=0)
    assert returned == [(312, "NO_ROUTE", source, "k")]

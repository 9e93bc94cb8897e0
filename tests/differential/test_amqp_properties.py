"""Message properties and header tables are delivered byte for byte as published: every AMQP
field type (bool, signed and unsigned ints of each size, float, double, decimal, long string,
byte array, timestamp, void, nested arrays and tables), all fourteen basic properties, through
Basic.Get, Basic.Deliver, fanout copies and Basic.Return; and the Deliver/GetOk fields."""

import datetime
import decimal
import struct

import pika
import pytest
from pamqp import commands as C

from yizhan.testing.amqp import body_bytes, content_header_bytes, unique, wait_until


def sstr(text: str) -> bytes:
    data = text.encode()
    return bytes([len(data)]) + data


def lstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def table(entries) -> bytes:
    data = b"".join(sstr(key) + value for key, value in entries)
    return struct.pack(">I", len(data)) + data


def array(values) -> bytes:
    data = b"".join(values)
    return struct.pack(">I", len(data)) + data


EVERY_FIELD_TYPE = [
    ("bool_t", b"t\x01"), ("bool_f", b"t\x00"),
    ("i8", b"b" + struct.pack(">b", -5)), ("u8", b"B" + struct.pack(">B", 250)),
    ("i16", b"s" + struct.pack(">h", -300)), ("u16", b"u" + struct.pack(">H", 65000)),
    ("i32", b"I" + struct.pack(">i", -70000)), ("u32", b"i" + struct.pack(">I", 4000000000)),
    ("i64", b"l" + struct.pack(">q", -2 ** 40)),
    ("f32", b"f" + struct.pack(">f", 1.5)), ("f64", b"d" + struct.pack(">d", -2.25)),
    ("dec", b"D" + struct.pack(">Bi", 2, 31415)),
    ("str", b"S" + lstr("héllo wörld".encode())), ("empty_str", b"S" + lstr(b"")),
    ("bytes", b"x" + lstr(b"\x00\xff\x10")),
    ("ts", b"T" + struct.pack(">Q", 1700000000)), ("void", b"V"),
    ("arr", b"A" + array([b"I" + struct.pack(">i", 1), b"S" + lstr(b"two"), b"t\x01", b"V",
                          b"F" + table([("k", b"S" + lstr(b"v"))]), b"A" + array([b"b\x01", b"d" + struct.pack(">d", 0.5)]),
                          b"D" + struct.pack(">Bi", 0, -1), b"T" + struct.pack(">Q", 0)])),
    ("empty_arr", b"A" + array([])),
    ("tbl", b"F" + table([("inner", b"F" + table([("deep", b"l" + struct.pack(">q", 7)),
                                                   ("arr", b"A" + array([b"s" + struct.pack(">h", 2)]))])),
                          ("empty", b"F" + table([]))])),
    ("x-weird key.with dots", b"S" + lstr(b"ok")),
]

HEADERS = table(EVERY_FIELD_TYPE)
HEADERS_BIT = 1 << 13

ALL_PROPERTIES = (  # bits 15..2 in order, each present
    sstr("application/json") + sstr("gzip") + HEADERS + bytes([2]) + bytes([7]) + sstr("corr-1")
    + sstr("reply.here") + sstr("60000") + sstr("msg-1") + struct.pack(">Q", 1700000001) + sstr("kind")
    + sstr("guest") + sstr("app") + sstr("cluster"))
ALL_BITS = sum(1 << bit for bit in range(2, 16))


def publish_raw(raw, exchange, routing_key, flags, properties, body, mandatory=False):
    raw.send(1, C.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory))
    raw.send_bytes(content_header_bytes(1, len(body), flags, properties) + (body_bytes(1, body) if body else b""))


def content(raw):
    """The next content header payload and the body that follows it."""
    kind, _, header = raw.receive_raw()
    assert kind == 2, kind
    size = struct.unpack(">Q", header[4:12])[0]
    body = b""
    while len(body) < size:
        kind, _, payload = raw.receive_raw()
        assert kind == 3, kind
        body += payload
    return header, body


def header_payload(body_size, flags, properties):
    return struct.pack(">HHQH", 60, 0, body_size, flags) + properties


@pytest.mark.parametrize("flags,properties", [(HEADERS_BIT, HEADERS), (ALL_BITS, ALL_PROPERTIES), (0, b"")],
                         ids=["every-field-type", "all-fourteen-properties", "no-properties"])
def test_get_returns_the_content_header_byte_for_byte(broker, flags, properties):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    publish_raw(raw, "", q, flags, properties, b"payload")
    raw.send(1, C.Basic.Get(queue=q, no_ack=True))
    ok = raw.expect_method(1)
    assert (ok.name, ok.redelivered, ok.exchange, ok.routing_key, ok.message_count) == ("Basic.GetOk", False, "", q, 0)
    assert content(raw) == (header_payload(7, flags, properties), b"payload")


def test_deliver_to_consumers_of_a_fanout_keeps_the_bytes(broker):
    raw = broker.raw()
    x = unique("fan")
    raw.call(1, C.Exchange.Declare(exchange=x, exchange_type="fanout", auto_delete=True))
    queues = [raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue for _ in range(2)]
    for i, q in enumerate(queues):
        raw.call(1, C.Queue.Bind(queue=q, exchange=x))
        raw.call(1, C.Basic.Consume(queue=q, consumer_tag=f"c{i}", no_ack=True))
    publish_raw(raw, x, "any.key", ALL_BITS, ALL_PROPERTIES, b"fan body")
    seen = {}
    for _ in queues:
        deliver = raw.expect_method(1)
        assert (deliver.name, deliver.redelivered, deliver.exchange, deliver.routing_key) == (
            "Basic.Deliver", False, x, "any.key")
        assert deliver.delivery_tag == len(seen) + 1
        seen[deliver.consumer_tag] = content(raw)
    assert seen == {"c0": (header_payload(8, ALL_BITS, ALL_PROPERTIES), b"fan body"),
                    "c1": (header_payload(8, ALL_BITS, ALL_PROPERTIES), b"fan body")}


def test_return_keeps_the_bytes(broker):
    raw = broker.raw()
    rk = unique("nowhere")
    publish_raw(raw, "", rk, HEADERS_BIT, HEADERS, b"back", mandatory=True)
    ret = raw.expect_method(1)
    assert (ret.name, ret.reply_code, ret.reply_text, ret.exchange, ret.routing_key) == (
        "Basic.Return", 312, "NO_ROUTE", "", rk)
    assert content(raw) == (header_payload(4, HEADERS_BIT, HEADERS), b"back")


def test_empty_body_has_no_body_frame(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    publish_raw(raw, "", q, 0, b"", b"")
    raw.send(1, C.Basic.Get(queue=q, no_ack=True))
    assert raw.expect_method(1).name == "Basic.GetOk"
    kind, _, header = raw.receive_raw()
    assert (kind, header) == (2, header_payload(0, 0, b""))
    assert raw.call(1, C.Basic.Get(queue=q, no_ack=True)).name == "Basic.GetEmpty"   # the next frame is the reply


PIKA_HEADERS = {  # pika cannot encode floats; the raw tests above cover them
    "str": "text", "int": 42, "negative": -7, "big": 2 ** 40, "true": True, "false": False,
    "decimal": decimal.Decimal("3.14"), "none": None, "bytes": b"\x00\x01",
    "timestamp": datetime.datetime(2024, 5, 6, 7, 8, 9),
    "list": [1, "a", [2, 3], {"k": "v"}], "nested": {"a": {"b": {"c": [True]}}}, "empty": {},
}


def test_pika_properties_round_trip(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    props = pika.BasicProperties(
        content_type="text/plain", content_encoding="utf-8", headers=PIKA_HEADERS, delivery_mode=2,
        priority=3, correlation_id="c-1", reply_to="r", expiration="100000", message_id="m-1",
        timestamp=1700000002, type="t", user_id="guest", app_id="tests", cluster_id="cl")
    ch.basic_publish("", q, "Grüße".encode(), props)
    method, got, body = ch.basic_get(q, auto_ack=True)
    assert body == "Grüße".encode()
    expected = dict(vars(props), headers=dict(PIKA_HEADERS, bytes=bytearray(b"\x00\x01"),
                                              timestamp=datetime.datetime(2024, 5, 6, 7, 8, 9,
                                                                          tzinfo=datetime.timezone.utc)))
    assert vars(got) == expected


def test_consumer_sees_deliver_fields(broker):
    connection = broker.connect()
    ch = connection.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    got = []
    tag = ch.basic_consume(q, lambda c, m, p, b: got.append((m, p, b)), consumer_tag="my-tag")
    assert tag == "my-tag"
    ch.basic_publish("", q, b"one", pika.BasicProperties(message_id="1"))
    ch.basic_publish("amq.direct", "unbound", b"dropped")
    ch.basic_publish("", q, b"two")
    wait_until(connection, lambda: len(got) == 2, "two deliveries")
    assert [(m.consumer_tag, m.delivery_tag, m.redelivered, m.exchange, m.routing_key, p.message_id, b)
            for m, p, b in got] == [("my-tag", 1, False, "", q, "1", b"one"), ("my-tag", 2, False, "", q, None, b"two")]


def test_server_generated_consumer_tag(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    tag = raw.call(1, C.Basic.Consume(queue=q)).consumer_tag
    assert tag.startswith("amq.ctag-") and len(tag) == len("amq.ctag-") + 22
    assert raw.call(1, C.Basic.Cancel(consumer_tag=tag)).consumer_tag == tag


def test_requeued_and_redelivered_messages_keep_the_bytes(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    publish_raw(raw, "", q, ALL_BITS, ALL_PROPERTIES, b"twice")
    raw.send(1, C.Basic.Get(queue=q, no_ack=False))
    assert raw.expect_method(1).delivery_tag == 1
    content(raw)
    raw.send(1, C.Basic.Reject(delivery_tag=1, requeue=True))
    raw.send(1, C.Basic.Get(queue=q, no_ack=True))
    ok = raw.expect_method(1)
    assert (ok.name, ok.delivery_tag, ok.redelivered) == ("Basic.GetOk", 2, True)
    assert content(raw) == (header_payload(5, ALL_BITS, ALL_PROPERTIES), b"twice")


def test_transactional_publish_keeps_the_bytes(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    raw.call(1, C.Tx.Select())
    publish_raw(raw, "", q, HEADERS_BIT, HEADERS, b"tx")
    assert raw.call(1, C.Tx.Commit()).name == "Tx.CommitOk"
    raw.send(1, C.Basic.Get(queue=q, no_ack=True))
    assert raw.expect_method(1).name == "Basic.GetOk"
    assert content(raw) == (header_payload(2, HEADERS_BIT, HEADERS), b"tx")

"""Routing as RabbitMQ 3.10 does it: topic patterns (`*` one word, `#` zero or more, empty
words, `#` in the middle), headers matching (x-match all/any/all-with-x/any-with-x, void values,
Erlang-style value equality across field types), direct and fanout, the default exchange,
exchange-to-exchange bindings, alternate exchanges and auto-delete exchanges.

Each table is what RabbitMQ delivered for it: every binding gets its own queue, every routing
key or header set is published once, then each queue is drained."""

import decimal
import struct

import pika
import pytest
from pamqp import commands as C

from yizhan.testing.amqp import (body_bytes, broker_error, content_header_bytes, publish_confirmed, queue_counts,
                                 unique)

TOPIC_KEYS = ["", "a", "b", "a.b", "a.a", "b.a", "a.x.b", "a.x.y.b", "a..b", "a.b.c", "x.a.y", ".", "..", "a.", ".a",
              "quick.orange.rabbit", "lazy.orange.elephant", "quick.brown.fox", "lazy", "lazy.brown.fox.jumps",
              "a#", "a*", "#", "*"]

TOPIC_TABLE = {
    '#': TOPIC_KEYS,
    '*': ['a', 'b', 'lazy', 'a#', 'a*', '#', '*'],
    'a': ['a'],
    'a.*': ['a.b', 'a.a', 'a.'],
    'a.#': ['a', 'a.b', 'a.a', 'a.x.b', 'a.x.y.b', 'a..b', 'a.b.c', 'a.'],
    '#.a': ['a', 'a.a', 'b.a', '.a'],
    '*.a': ['a.a', 'b.a', '.a'],
    'a.*.b': ['a.x.b', 'a..b'],
    'a.#.b': ['a.b', 'a.x.b', 'a.x.y.b', 'a..b'],
    '#.b.#': ['b', 'a.b', 'b.a', 'a.x.b', 'a.x.y.b', 'a..b', 'a.b.c'],
    '*.*': ['a.b', 'a.a', 'b.a', '.', 'a.', '.a'],
    'a.*.#': ['a.b', 'a.a', 'a.x.b', 'a.x.y.b', 'a..b', 'a.b.c', 'a.'],
    '#.#': TOPIC_KEYS,
    '*.#': TOPIC_KEYS[1:],                     # every key but the empty one
    '#.*': TOPIC_KEYS[1:],                     # every key but the empty one
    'a..b': ['a..b'],
    '.': ['.'],
    '': [''],
    'a.#.#.b': ['a.b', 'a.x.b', 'a.x.y.b', 'a..b'],
    '#.a.#': ['a', 'a.b', 'a.a', 'b.a', 'a.x.b', 'a.x.y.b', 'a..b', 'a.b.c', 'x.a.y', 'a.', '.a'],
    '*.orange.*': ['quick.orange.rabbit', 'lazy.orange.elephant'],
    '*.*.rabbit': ['quick.orange.rabbit'],
    'lazy.#': ['lazy.orange.elephant', 'lazy', 'lazy.brown.fox.jumps'],
    'a.b.c': ['a.b.c'],
    'a#': ['a#'],
    'a*': ['a*'],
}


def drain(ch, q):
    out = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return out
        out.append(body.decode())


def route_table(ch, exchange_type, bindings, publish):
    """Bind one queue per binding (`bindings` is a list of (routing_key, arguments)), publish
    every message with `publish(ch, exchange, i)`, and return each queue's message indexes."""
    x = unique(exchange_type)
    ch.exchange_declare(x, exchange_type, auto_delete=True)
    queues = []
    for routing_key, arguments in bindings:
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.queue_bind(q, x, routing_key, arguments=arguments)
        queues.append(q)
    count = publish(ch, x)
    ch.queue_declare("", exclusive=True)            # a round trip after the publishes
    return [sorted(int(b) for b in drain(ch, q)) for q in queues], count


def test_topic_routing_table(broker):
    ch = broker.channel()

    def publish(ch, x):
        for i, key in enumerate(TOPIC_KEYS):
            ch.basic_publish(x, key, str(i).encode())
        return len(TOPIC_KEYS)

    got, _ = route_table(ch, "topic", [(b, None) for b in TOPIC_TABLE], publish)
    assert {b: [TOPIC_KEYS[i] for i in ids] for b, ids in zip(TOPIC_TABLE, got)} == TOPIC_TABLE


HEADER_BINDINGS = [
    {"x-match": "all", "a": 1, "b": "two"}, {"x-match": "any", "a": 1, "b": "two"}, {"a": 1},
    {"x-match": "all"}, {"x-match": "any"}, {"x-match": "all-with-x", "x-k": "v"},
    {"x-match": "any-with-x", "x-k": "v", "a": 2}, {"x-match": "all", "x-k": "v"}, {"x-match": "any", "x-k": "v"},
    {"x-match": "all", "n": None}, {"a": "1"}, {"flag": True}, {"x-match": "all-with-x", "x-k": "v", "a": 1},
    {"x-match": "any", "a": 2, "n": None},
]
HEADER_MESSAGES = [
    {"a": 1, "b": "two"}, {"a": 1}, {"b": "two"}, {"a": 1, "b": "three"}, {}, None, {"x-k": "v"},
    {"x-k": "v", "a": 1, "b": "two"}, {"a": "1"}, {"a": 2}, {"n": None}, {"n": 5}, {"flag": True}, {"flag": 1},
    {"a": 1, "extra": "ignored", "b": "two"}, {"x-k": "v", "a": 1},
]
HEADER_TABLE = [   # for each binding above: the messages (by index) it receives
    [0, 7, 14], [0, 1, 2, 3, 7, 14, 15], [0, 1, 3, 7, 14, 15], list(range(16)), [], [6, 7, 15], [6, 7, 9, 15],
    list(range(16)), [], [10, 11], [8], [12], [7, 15], [9, 10, 11],
]


def test_headers_routing_table(broker):
    ch = broker.channel()

    def publish(ch, x):
        for i, headers in enumerate(HEADER_MESSAGES):
            ch.basic_publish(x, "ignored", str(i).encode(), pika.BasicProperties(headers=headers))
        return len(HEADER_MESSAGES)

    got, _ = route_table(ch, "headers", [("", b) for b in HEADER_BINDINGS], publish)
    assert got == HEADER_TABLE


def _sstr(text):
    return bytes([len(text)]) + text.encode()


def _table(entries):
    data = b"".join(_sstr(k) + v for k, v in entries)
    return struct.pack(">I", len(data)) + data


TYPED_ONE = {   # the value 1 (or "1") in each field type
    "I": b"I" + struct.pack(">i", 1), "b": b"b\x01", "B": b"B\x01", "s": b"s" + struct.pack(">h", 1),
    "u": b"u" + struct.pack(">H", 1), "i": b"i" + struct.pack(">I", 1), "l": b"l" + struct.pack(">q", 1),
    "d": b"d" + struct.pack(">d", 1.0), "f": b"f" + struct.pack(">f", 1.0), "T": b"T" + struct.pack(">Q", 1),
    "S": b"S" + struct.pack(">I", 1) + b"1", "x": b"x" + struct.pack(">I", 1) + b"1", "t": b"t\x01",
    "D": b"D" + struct.pack(">Bi", 0, 1),
}
EQUAL_CLASSES = ["IbBsuildfT", "Sx", "t", "D"]     # RabbitMQ compares values as Erlang's ==


def test_headers_match_compares_values_across_field_types(broker):
    raw = broker.raw()
    x = unique("hdr")
    raw.call(1, C.Exchange.Declare(exchange=x, exchange_type="headers", auto_delete=True))
    queues = {}
    for kind, value in TYPED_ONE.items():
        q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
        arguments = _table([("x-match", b"S" + struct.pack(">I", 3) + b"all"), ("a", value)])
        payload = struct.pack(">HHH", 50, 20, 0) + _sstr(q) + _sstr(x) + _sstr("") + b"\x00" + arguments
        raw.send_bytes(struct.pack(">BHI", 1, 1, len(payload)) + payload + b"\xce")
        assert raw.expect_method(1).name == "Queue.BindOk"
        queues[kind] = q
    for kind, value in TYPED_ONE.items():
        raw.send(1, C.Basic.Publish(exchange=x, routing_key=""))
        raw.send_bytes(content_header_bytes(1, 1, 1 << 13, _table([("a", value)])) + body_bytes(1, kind.encode()))
    got = {}
    for kind, q in queues.items():
        got[kind] = ""
        while True:
            reply = raw.call(1, C.Basic.Get(queue=q, no_ack=True))
            if reply.name == "Basic.GetEmpty":
                break
            raw.receive()
            got[kind] += raw.receive()[3].decode()
    expected = {kind: next(c for c in EQUAL_CLASSES if kind in c) for kind in TYPED_ONE}
    assert {k: "".join(sorted(v)) for k, v in got.items()} == {k: "".join(sorted(v)) for k, v in expected.items()}


def test_direct_routing(broker):
    ch = broker.channel()

    def publish(ch, x):
        for i, key in enumerate(["info", "warning", "error", "", "INFO"]):
            ch.basic_publish(x, key, str(i).encode())
        return 5

    bindings = [("info", None), ("error", None), ("info", None), ("", None), ("info", {"x-ignored": 1})]
    got, _ = route_table(ch, "direct", bindings, publish)
    assert got == [[0], [2], [0], [3], [0]]


def test_a_queue_bound_twice_gets_one_copy(broker):
    ch = broker.channel()
    x = unique("direct")
    ch.exchange_declare(x, "direct", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "k")
    ch.queue_bind(q, x, "k")                      # the same binding again: no-op
    ch.queue_bind(q, x, "k", arguments={"x-other": 1})   # arguments make it a second binding
    ch.basic_publish(x, "k", b"once")
    assert drain(ch, q) == ["once"]


def test_fanout_ignores_the_routing_key(broker):
    ch = broker.channel()

    def publish(ch, x):
        ch.basic_publish(x, "any", b"0")
        ch.basic_publish(x, "", b"1")
        return 2

    got, _ = route_table(ch, "fanout", [("", None), ("ignored", None)], publish)
    assert got == [[0, 1], [0, 1]]


def test_default_exchange_routes_by_queue_name(broker):
    ch = broker.channel()
    q = ch.queue_declare(unique("named"), exclusive=True).method.queue
    ch.basic_publish("", q, b"direct to queue")
    ch.basic_publish("", q + "-nope", b"dropped")
    ch.basic_publish("amq.default", q, b"amq.default is not the default exchange")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as info:
        ch.queue_declare("", exclusive=True)
    assert (info.value.reply_code, info.value.reply_text) == (
        404, "NOT_FOUND - no exchange 'amq.default' in vhost '/'")
    assert drain(ch.connection.channel(), q) == ["direct to queue"]


@pytest.mark.parametrize("name,kind", [("amq.direct", "direct"), ("amq.fanout", "fanout"), ("amq.topic", "topic"),
                                       ("amq.headers", "headers"), ("amq.match", "headers")])
def test_predeclared_exchanges(broker, name, kind):
    ch = broker.channel()
    assert ch.exchange_declare(name, kind, passive=True).method.NAME == "Exchange.DeclareOk"
    assert ch.exchange_declare(name, kind, durable=True).method.NAME == "Exchange.DeclareOk"


def test_unbind_stops_routing(broker):
    ch = broker.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, "amq.topic", "a.*")
    ch.basic_publish("amq.topic", "a.b", b"1")
    ch.queue_unbind(q, "amq.topic", "a.*")
    ch.basic_publish("amq.topic", "a.b", b"2")
    assert drain(ch, q) == ["1"]


def test_exchange_to_exchange_bindings(broker):
    ch = broker.channel()
    top, fan, other = unique("top"), unique("fan"), unique("dir")
    ch.exchange_declare(top, "topic", auto_delete=True)
    ch.exchange_declare(fan, "fanout", auto_delete=True)
    ch.exchange_declare(other, "direct", auto_delete=True)
    ch.exchange_bind(fan, top, "logs.#")            # destination, source
    ch.exchange_bind(top, fan)                      # a cycle: each message still reaches a queue once
    ch.exchange_bind(other, top, "logs.error")
    q1, q2, q3 = (ch.queue_declare("", exclusive=True).method.queue for _ in range(3))
    ch.queue_bind(q1, fan)
    ch.queue_bind(q2, top, "#")
    ch.queue_bind(q3, other, "logs.error")
    for key in ("logs.info", "logs.error", "metrics"):
        ch.basic_publish(top, key, key.encode())
    assert drain(ch, q1) == ["logs.info", "logs.error"]
    assert drain(ch, q2) == ["logs.info", "logs.error", "metrics"]
    assert drain(ch, q3) == ["logs.error"]
    ch.exchange_unbind(fan, top, "logs.#")
    ch.basic_publish(top, "logs.info", b"after unbind")
    assert (drain(ch, q1), drain(ch, q2)) == ([], ["after unbind"])


def test_alternate_exchange(broker):
    connection = broker.connect()
    ch = connection.channel()
    ae, main = unique("ae"), unique("main")
    ch.exchange_declare(ae, "fanout", auto_delete=True)
    ch.exchange_declare(main, "direct", auto_delete=True, arguments={"alternate-exchange": ae})
    routed, spare = (ch.queue_declare("", exclusive=True).method.queue for _ in range(2))
    ch.queue_bind(routed, main, "known")
    ch.queue_bind(spare, ae)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append(b))
    ch.basic_publish(main, "known", b"routed")
    ch.basic_publish(main, "unknown", b"to the alternate", mandatory=True)
    assert drain(ch, routed) == ["routed"]
    assert drain(ch, spare) == ["to the alternate"]
    connection.process_data_events(time_limit=0)
    assert returned == []                           # routed through the alternate: not returned


def test_alternate_exchange_that_does_not_exist(broker):
    connection = broker.connect()
    ch = connection.channel()
    main = unique("main")
    ch.exchange_declare(main, "direct", auto_delete=True, arguments={"alternate-exchange": unique("missing")})
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, main, "known")
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.reply_text, b)))
    ch.basic_publish(main, "unknown", b"lost", mandatory=True)
    ch.basic_publish(main, "known", b"kept")
    assert drain(ch, q) == ["kept"]
    connection.process_data_events(time_limit=0)
    assert returned == [(312, "NO_ROUTE", b"lost")]


def test_auto_delete_exchange_goes_with_its_last_binding(broker):
    ch = broker.channel()
    x = unique("ad")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    assert ch.exchange_declare(x, passive=True).method.NAME == "Exchange.DeclareOk"   # never bound: stays
    ch.queue_bind(q, x)
    ch.queue_unbind(q, x)
    assert broker_error(ch.exchange_declare, x, passive=True) == (
        "channel", 404, f"NOT_FOUND - no exchange '{x}' in vhost '/'")


def test_deleting_an_exchange_removes_its_bindings(broker):
    ch = broker.channel()
    x = unique("gone")
    ch.exchange_declare(x, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.exchange_delete(x)
    ch.exchange_declare(x, "fanout")
    try:
        publish_confirmed(ch.connection, x, "", [b"no binding survived"])
        assert queue_counts(ch, q) == (0, 0)
    finally:
        ch.exchange_delete(x)


def test_deleting_a_queue_removes_its_bindings_and_auto_delete_exchange(broker):
    ch = broker.channel()
    x = unique("ad")
    ch.exchange_declare(x, "topic", auto_delete=True)
    q = ch.queue_declare(unique("q"), exclusive=True).method.queue
    ch.queue_bind(q, x, "#")
    ch.queue_delete(q)
    assert broker_error(ch.exchange_declare, x, passive=True)[1:] == (404, f"NOT_FOUND - no exchange '{x}' in vhost '/'")


def test_decimal_and_nested_binding_arguments_match(broker):
    ch = broker.channel()

    def publish(ch, x):
        ch.basic_publish(x, "", b"0", pika.BasicProperties(headers={"d": decimal.Decimal("1.50"), "t": {"k": [1]}}))
        ch.basic_publish(x, "", b"1", pika.BasicProperties(headers={"d": decimal.Decimal("2.5"), "t": {"k": [1]}}))
        return 2

    got, _ = route_table(ch, "headers", [("", {"d": decimal.Decimal("1.50")}), ("", {"t": {"k": [1]}})], publish)
    assert got == [[0], [0, 1]]


def test_fanout_bindings_are_keyed_by_routing_key(broker):
    connection = broker.connect()
    ch = connection.channel()
    x = unique("fan")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "a")
    ch.queue_unbind(q, x, "b")                 # not the binding's key: the binding stays
    ch.basic_publish(x, "z", b"1")
    assert drain(ch, q) == ["1"]
    ch.queue_bind(q, x, "c")                   # a second binding, still one copy
    ch.basic_publish(x, "z", b"2")
    assert drain(ch, q) == ["2"]
    ch.queue_unbind(q, x, "a")
    ch.queue_unbind(q, x, "c")                 # the last binding of an auto-delete exchange
    assert broker_error(ch.exchange_declare, x, passive=True)[1] == 404


def test_exchange_bound_to_itself(broker):
    ch = broker.channel()
    x = unique("self")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    ch.exchange_bind(x, x)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.basic_publish(x, "", b"once")
    assert drain(ch, q) == ["once"]


def test_mandatory_to_a_fanout_without_bindings_is_returned(broker):
    connection = broker.connect()
    ch = connection.channel()
    x = unique("fan")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m.reply_code, m.reply_text, m.exchange, b)))
    ch.basic_publish(x, "", b"nobody", mandatory=True)
    ch.queue_declare("", exclusive=True)
    connection.process_data_events(time_limit=0)
    assert returned == [(312, "NO_ROUTE", x, b"nobody")]

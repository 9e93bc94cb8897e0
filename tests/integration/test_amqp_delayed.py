"""The `x-delayed-message` exchange type, as the community plugin rabbitmq-delayed-message-exchange
(release 3.10.2, for RabbitMQ 3.10) behaves. Debian's rabbitmq-server does not ship the plugin,
so these run on yizhan alone; each states the plugin behaviour it checks, from the plugin's
README and source (https://github.com/rabbitmq/rabbitmq-delayed-message-exchange, tag 3.10.2:
rabbit_exchange_type_delayed_message.erl, rabbit_delayed_message.erl,
rabbit_delayed_message_utils.erl) and its own test suite (plugin_SUITE: delay_order,
e2e_delay, routing_*, string_delay_header, node_restart_before_delay_expires).

Delays are short (tens to hundreds of ms); tests poll for deliveries and assert order and
content, never timing."""

from __future__ import annotations

import time

import pika
import pytest

from yizhan.testing.amqp import broker_error, connect, publish_confirmed, unique, wait_until
from yizhan.testing.process import ServerProcess


@pytest.fixture
def conn(yizhan_amqp_url):
    connection = connect(yizhan_amqp_url)
    yield connection
    if connection.is_open:
        connection.close()


def delayed_exchange(ch, routing_type="direct", **kwargs):
    x = unique("dx")
    ch.exchange_declare(x, "x-delayed-message", arguments={"x-delayed-type": routing_type},
                        **kwargs)
    return x


def delay(ms, **props):
    return pika.BasicProperties(headers={"x-delay": ms}, **props)


def consume(connection, ch, q):
    got = []
    ch.basic_consume(q, lambda c, m, p, body: got.append((body.decode(), p.headers)),
                     auto_ack=True)
    return got


# -- declaring (rabbit_exchange_type_delayed_message:validate) -----------------------------------
@pytest.mark.parametrize("args,code,text", [
    ({}, 406, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing "
              "exchange type"),
    ({"x-delayed-type": 5}, 406, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must "
                                 "be an existing exchange type"),
    ({"x-delayed-type": "x-delayed-message"}, 406, "PRECONDITION_FAILED - Invalid argument, "
                                                   "'x-delayed-message' can't be used for "
                                                   "'x-delayed-type'"),
    ({"x-delayed-type": "nope"}, 503, "COMMAND_INVALID - unknown exchange type 'nope'"),
])
def test_declare_needs_an_existing_routing_type(conn, args, code, text):
    ch = conn.channel()
    kind = "channel" if code == 406 else "connection"
    assert broker_error(ch.exchange_declare, unique("dx"), "x-delayed-message",
                        arguments=args) == (kind, code, text)


def test_redeclare_compares_the_type_but_not_x_delayed_type(conn):
    """validate runs for a new exchange only; assert_args_equivalence is the routing type's
    (alternate-exchange only), and the exchange type itself must match."""
    ch = conn.channel()
    x = delayed_exchange(ch, "topic")
    ch.exchange_declare(x, "x-delayed-message", arguments={"x-delayed-type": "fanout"})
    assert broker_error(ch.exchange_declare, x, "topic") == (
        "channel", 406, f"PRECONDITION_FAILED - inequivalent arg 'type' for exchange '{x}' in "
                        "vhost '/': received 'topic' but current is 'x-delayed-message'")


# -- holding and releasing --------------------------------------------------------------------------
def test_messages_come_out_in_delay_order(conn):
    """plugin_SUITE delay_order: each message is routed when its own delay has passed."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    for ms in (400, 100, 300, 200, 100):
        ch.basic_publish(x, "", str(ms).encode(), delay(ms))
    got = consume(conn, ch, q)
    wait_until(conn, lambda: len(got) == 5, "five delayed messages")
    assert [body for body, _ in got] == ["100", "100", "200", "300", "400"]


def test_held_messages_are_not_in_the_queue_yet(conn):
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    publish_confirmed(conn, x, "", [b"later"], delay(400))
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 1,
               "the release")


@pytest.mark.parametrize("header", [None, 0, -500, 2**32, True, {"nested": 1}],
                         ids=["absent", "zero", "negative", "beyond-erlang-timer", "bool", "table"])
def test_no_usable_delay_routes_at_once(conn, header):
    """get_delay: only 0 < Delay =< 2^32-1 delays; anything else (or no header) routes now."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    props = pika.BasicProperties(headers=None if header is None else {"x-delay": header})
    publish_confirmed(conn, x, "", [b"now"], props)
    assert ch.queue_declare(q, passive=True).method.message_count == 1


def test_string_and_float_delays(conn):
    """string_delay_header: a longstr of digits is binary_to_integer'd; a double is truncated."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    ch.basic_publish(x, "", b"string", delay("300"))
    ch.basic_publish(x, "", b"zero-string", delay("0"))
    got = consume(conn, ch, q)
    wait_until(conn, lambda: len(got) == 2, "both")
    assert [body for body, _ in got] == ["zero-string", "string"]


def test_a_bad_string_delay_crashes_the_channel(conn):
    """binary_to_integer(<<"soon">>) raises in the channel process: connection.close 541."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    ch.basic_publish(x, "", b"x", delay("soon"))
    assert broker_error(ch.queue_declare, "", exclusive=True) == (
        "connection", 541, "INTERNAL_ERROR")


def test_consumers_see_the_x_delay_header_they_sent(conn):
    """The plugin flips x-delay to -Delay in the decoded properties only; the content keeps the
    client's encoded properties, which are what consumers get (plugin issue #64)."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    ch.basic_publish(x, "", b"m", pika.BasicProperties(headers={"x-delay": 50, "app": "a"},
                                                       content_type="text/plain"))
    got = consume(conn, ch, q)
    wait_until(conn, lambda: got, "the release")
    assert got == [("m", {"x-delay": 50, "app": "a"})]


def test_a_per_message_ttl_counts_from_the_release(conn):
    """The plugin routes the message it stored, expiration included: its TTL starts in the
    queue, after the delay."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    publish_confirmed(conn, x, "", [b"short-lived"], delay(100, expiration="150"))
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 1,
               "the release")
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 0,
               "the expiry")


# -- routing --------------------------------------------------------------------------------------
@pytest.mark.parametrize("routing_type,binding_keys,routing_keys,count", [
    ("topic", ["a.b.c", "a.*.c", "a.#"], ["a.b.c", "a.z.c", "a.j.k", "b.b.c"], 3),
    ("direct", ["mykey"], ["mykey", "noroute", "mykey"], 2),
    ("fanout", ["mykey", "", "otherkey"], ["mykey", "noroute", "mykey"], 3),
])
@pytest.mark.parametrize("ms", [0, 50])
def test_routes_as_its_x_delayed_type(conn, routing_type, binding_keys, routing_keys, count, ms):
    """plugin_SUITE routing_topic/direct/fanout, with and without a delay."""
    ch = conn.channel()
    x = delayed_exchange(ch, routing_type)
    q = ch.queue_declare("", exclusive=True).method.queue
    for key in binding_keys:
        ch.queue_bind(q, x, key)
    for key in routing_keys:
        publish_confirmed(conn, x, key, [key.encode()], delay(ms))
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == count,
               f"{count} messages")


def test_headers_routing_type(conn):
    ch = conn.channel()
    x = delayed_exchange(ch, "headers")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "", arguments={"x-match": "all", "kind": "wanted"})
    ch.basic_publish(x, "", b"no", pika.BasicProperties(headers={"x-delay": 30, "kind": "other"}))
    ch.basic_publish(x, "", b"yes", pika.BasicProperties(headers={"x-delay": 60, "kind": "wanted"}))
    got = consume(conn, ch, q)
    wait_until(conn, lambda: got, "the matching message")
    publish_confirmed(conn, x, "", [b"marker"], pika.BasicProperties(headers={"kind": "wanted"}))
    wait_until(conn, lambda: len(got) == 2, "the marker")
    assert [body for body, _ in got] == ["yes", "marker"]


def test_exchange_to_exchange_after_the_delay(conn):
    """plugin_SUITE e2e_delay: released messages follow exchange-to-exchange bindings."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    inner = unique("x")
    ch.exchange_declare(inner, "direct", auto_delete=True)
    ch.exchange_bind(inner, x, "")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, inner, "")
    for ms in (300, 100, 200):
        ch.basic_publish(x, "", str(ms).encode(), delay(ms))
    got = consume(conn, ch, q)
    wait_until(conn, lambda: len(got) == 3, "three released messages")
    assert [body for body, _ in got] == ["100", "200", "300"]


def test_a_delayed_exchange_behind_another_delays_too(conn):
    ch = conn.channel()
    front = unique("x")
    ch.exchange_declare(front, "fanout", auto_delete=True)
    x = delayed_exchange(ch)
    ch.exchange_bind(x, front, "")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    publish_confirmed(conn, front, "", [b"held"], delay(200))
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 1,
               "the release")


def test_mandatory_is_returned_at_once_and_still_delivered_later(conn):
    """README, Limitations: the mandatory flag is not supported. While held the exchange routes
    nowhere, so the channel returns the message (312 NO_ROUTE) at publish time; the plugin
    still routes it when the delay passes."""
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    returned = []
    ch.add_on_return_callback(lambda c, m, p, body: returned.append((m.reply_code, m.reply_text,
                                                                     body)))
    ch.basic_publish(x, "", b"m", delay(100), mandatory=True)
    wait_until(conn, lambda: returned, "basic.return")
    assert returned == [(312, "NO_ROUTE", b"m")]
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 1,
               "the release")


def test_an_alternate_exchange_gets_a_copy_at_once(conn):
    """rabbit_exchange:route sends a message an exchange routed nowhere to its alternate
    exchange, and a held message is routed nowhere at publish time."""
    ch = conn.channel()
    ae = unique("ae")
    ch.exchange_declare(ae, "fanout", auto_delete=True)
    alt = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(alt, ae)
    x = unique("dx")
    ch.exchange_declare(x, "x-delayed-message", auto_delete=True,
                        arguments={"x-delayed-type": "direct", "alternate-exchange": ae})
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "k")
    publish_confirmed(conn, x, "k", [b"m"], delay(100))
    assert ch.queue_declare(alt, passive=True).method.message_count == 1
    wait_until(conn, lambda: ch.queue_declare(q, passive=True).method.message_count == 1,
               "the release")


def test_a_deleted_exchange_drops_its_held_messages(conn):
    ch = conn.channel()
    x = delayed_exchange(ch)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "")
    publish_confirmed(conn, x, "", [b"lost"], delay(100))
    ch.exchange_delete(x)
    publish_confirmed(conn, "", q, [b"marker"], delay(300))   # default exchange: no delay
    got = consume(conn, ch, q)
    wait_until(conn, lambda: got, "the marker")
    conn.process_data_events(time_limit=0.3)
    assert [body for body, _ in got] == ["marker"]


# -- restarts (the plugin's Mnesia table is disc_copies) --------------------------------------------
def test_held_messages_survive_a_restart(tmp_path):
    """plugin_SUITE node_restart_before_delay_expires: held messages, persistent or not, come
    back after a restart and are released in delay order; overdue ones at once."""
    data = tmp_path / "data"
    server = ServerProcess(data, tmp_path / "log1.txt")
    try:
        connection = server.connect()
        ch = connection.channel()
        ch.exchange_declare("dx", "x-delayed-message", durable=True,
                            arguments={"x-delayed-type": "direct"})
        ch.queue_declare("dq", durable=True)
        ch.queue_bind("dq", "dx", "k")
        for ms, mode in ((2500, 2), (1500, 1), (300, 2), (2000, 2)):
            ch.basic_publish("dx", "k", f"{ms}".encode(), delay(ms, delivery_mode=mode))
        ch.queue_declare("dq", passive=True)
        connection.close()
    finally:
        server.stop()
    time.sleep(0.4)                 # the 300 ms one is overdue when the server comes back
    server = ServerProcess(data, tmp_path / "log2.txt")
    try:
        connection = server.connect()
        ch = connection.channel()
        got = consume(connection, ch, "dq")
        wait_until(connection, lambda: len(got) == 4, "four released messages")
        assert [body for body, _ in got] == ["300", "1500", "2000", "2500"]
        connection.close()
    finally:
        server.stop()
    server = ServerProcess(data, tmp_path / "log3.txt")   # released ones stay released
    try:
        connection = server.connect()
        assert connection.channel().queue_declare("dq", passive=True).method.message_count == 0
        connection.close()
    finally:
        server.stop()

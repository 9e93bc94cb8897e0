"""A connection's output per loop turn is bounded (connection.OUTPUT_HIGH_WATER): past the mark
it counts as not writable, so queues park its consumers as for a full socket, and it takes
deliveries again once the transport has the bytes (`flushed`), in order, round-robin kept."""

from __future__ import annotations

from pamqp import commands as C
from pamqp import frame as pframe

from yizhan.amqp.broker import Broker
from yizhan.amqp.connection import OUTPUT_HIGH_WATER
from test_amqp_helpers import Wire, messages, name, parse
from test_amqp_hot_path import publish

B = C.Basic
BODY = 4096


def filled(count: int):
    broker = Broker()
    pub = Wire(broker)
    pub.open()
    pub.send(C.Queue.Declare(queue="q"), 1)
    pub.raw(b"".join(publish(b"%08d" % i + b"x" * (BODY - 8)) for i in range(count)))
    return broker, broker.vhosts["/"].queues["q"]


def drain(sub: Wire) -> list:
    """One flush: the bytes produced so far go to the 'socket'; then the connection hears so."""
    data = sub.conn.data_to_send()
    assert len(data) <= OUTPUT_HIGH_WATER + BODY + 512  # at most one delivery past the mark
    sub.conn.flushed()
    return parse(data)


def test_a_no_ack_consumer_takes_a_long_queue_one_bounded_turn_at_a_time():
    count = 3 * OUTPUT_HIGH_WATER // BODY
    broker, queue = filled(count)
    sub = Wire(broker)
    sub.open()
    sub.conn.receive(pframe.marshal(B.Consume(queue="q", consumer_tag="c", no_ack=True), 1))
    assert not sub.conn.writable and queue.blocked  # parked at the mark, the rest still ready
    assert 0 < queue.message_count < count
    assert broker.unwritable == 1
    bodies, turns = [], 0
    while len(bodies) < count:
        frames = drain(sub)
        bodies += [body[:8] for _m, _p, body in messages(frames)]
        turns += 1
        assert turns <= count
    assert bodies == [b"%08d" % i for i in range(count)]
    assert turns >= 3 and sub.conn.writable and broker.unwritable == 0
    assert queue.message_count == 0 and not sub.conn.out_full


def test_a_full_socket_still_holds_deliveries_after_the_flush():
    count = 2 * OUTPUT_HIGH_WATER // BODY
    broker, queue = filled(count)
    sub = Wire(broker)
    sub.open()
    sub.conn.receive(pframe.marshal(B.Consume(queue="q", consumer_tag="c", no_ack=True), 1))
    first = messages(parse(sub.conn.data_to_send()))
    sub.conn.pause_writing()         # the transport's write filled its buffer
    sub.conn.flushed()
    assert not sub.conn.writable and sub.conn.data_to_send() == b""
    assert broker.unwritable == 1    # counted once for both reasons
    sub.conn.resume_writing()
    rest = messages(parse(sub.conn.data_to_send()))
    assert [m[2][:8] for m in first + rest] == [b"%08d" % i for i in range(len(first + rest))]


def test_round_robin_between_two_connections_goes_on_past_the_mark():
    count = 2 * OUTPUT_HIGH_WATER // BODY
    broker, queue = filled(count)
    subs = []
    for tag in ("a", "b"):
        sub = Wire(broker)
        sub.open()
        sub.conn.receive(pframe.marshal(B.Consume(queue="q", consumer_tag=tag, no_ack=True), 1))
        subs.append(sub)
    got = {"a": [], "b": []}
    while sum(map(len, got.values())) < count:
        for sub in subs:
            for method, _p, body in messages(drain(sub)):
                got[method.consumer_tag].append(int(body[:8]))
    every = sorted(got["a"] + got["b"])
    assert every == list(range(count))
    assert got["a"] == sorted(got["a"]) and got["b"] == sorted(got["b"])
    assert len(got["a"]) > count // 4 and len(got["b"]) > count // 4


def test_output_below_the_mark_keeps_the_connection_writable():
    broker, queue = filled(10)
    sub = Wire(broker)
    sub.open()
    frames = sub.send(B.Consume(queue="q", consumer_tag="c", no_ack=True), 1)
    assert name(frames[0][1]) == "Basic.ConsumeOk"
    assert len(messages(frames)) == 10 and sub.conn.writable and not queue.blocked


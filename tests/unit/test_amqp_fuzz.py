"""A misbehaving client never crashes the broker: arbitrary bytes, arbitrary frames and
arbitrary method arguments end in a reply, a connection error or a close, never an exception,
and a well-behaved connection on the same broker keeps working."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pamqp import commands as C

from yizhan.amqp import codec
from yizhan.amqp.broker import Broker
from yizhan.amqp.connection import AMQPConnection
from test_amqp_helpers import HEADER, Wire, messages, parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def healthy(broker: Broker) -> None:
    """Another connection still publishes and gets a message."""
    wire = Wire(broker)
    wire.open(1)
    wire.send(C.Queue.Declare(queue="canary"), 1)
    wire.publish(1, b"alive", routing_key="canary")
    assert messages(wire.send(C.Basic.Get(queue="canary", no_ack=True), 1))[0][2] == b"alive"


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_before_the_handshake(data):
    broker = Broker()
    conn = AMQPConnection(broker)
    conn.receive(data)
    conn.data_to_send()
    healthy(broker)


@FUZZ
@given(st.lists(st.binary(max_size=120), max_size=6))
def test_arbitrary_bytes_after_the_handshake(chunks):
    broker = Broker()
    wire = Wire(broker)
    wire.open(1)
    for chunk in chunks:
        wire.conn.receive(chunk)
    wire.conn.data_to_send()
    healthy(broker)


frame_types = st.sampled_from([1, 2, 3, 8, 0, 9])
method_ids = st.sampled_from(sorted(codec.SPECS)) | st.integers(0, 2 ** 32 - 1)


@st.composite
def frames(draw):
    kind = draw(frame_types)
    channel = draw(st.sampled_from([0, 1, 2]))
    if kind == 1:
        payload = struct.pack(">I", draw(method_ids)) + draw(st.binary(max_size=60))
    elif kind == 2:
        payload = struct.pack(">HHQ", draw(st.sampled_from([60, 40])), draw(st.integers(0, 1)),
                              draw(st.integers(0, 10))) + draw(st.binary(max_size=30))
    else:
        payload = draw(st.binary(max_size=20))
    return codec.frame(kind, channel, payload)


@FUZZ
@given(st.lists(frames(), min_size=1, max_size=12))
def test_well_framed_nonsense(sequence):
    broker = Broker()
    wire = Wire(broker)
    wire.open(1)
    wire.conn.receive(b"".join(sequence))
    out = wire.conn.data_to_send()
    parse_or_raw(out)
    healthy(broker)


def parse_or_raw(data: bytes) -> None:
    """The output is a sequence of complete frames (their texts may not be UTF-8)."""
    while data:
        size = struct.unpack(">I", data[3:7])[0]
        assert data[7 + size] == 0xCE
        data = data[8 + size:]


@FUZZ
@given(st.lists(st.sampled_from(sorted(codec.SPECS)), min_size=1, max_size=8), st.data())
def test_valid_methods_with_random_arguments(indexes, data):
    """Every client method, with arguments drawn from their types, in any order."""
    broker = Broker()
    wire = Wire(broker)
    wire.open(1)
    for index in indexes:
        spec = codec.SPECS[index]
        values = {attr: data.draw(_value(kind)) for attr, kind in spec.fields}
        method = codec.new(spec.cls, **values)
        try:
            encoded = codec.method_frame(1, method)
        except (ValueError, KeyError):
            continue
        wire.conn.receive(encoded)
        if spec.has_content:
            wire.conn.receive(codec.frame(2, 1, struct.pack(">HHQ", 60, 0, 1) + b"\x00\x00"))
            wire.conn.receive(codec.frame(3, 1, b"x"))
    parse_or_raw(wire.conn.data_to_send())
    healthy(broker)


def _value(kind):
    names = st.sampled_from(["", "q1", "amq.direct", "amq.x", "x", "a.b", "#"])
    return {
        "bit": st.booleans(), "octet": st.integers(0, 255), "short": st.integers(0, 65535),
        "long": st.integers(0, 2 ** 32 - 1), "longlong": st.integers(0, 2 ** 64 - 1),
        "shortstr": names, "longstr": st.binary(max_size=10),
        "table": st.sampled_from([None, {}, {"x-match": "any", "a": 1},
                                  {"alternate-exchange": "x"}, {"x-max-length": -1},
                                  {"x-priority": 3}]).map(_table),
    }[kind]


def _table(values):
    return None if values is None else codec.decode_table(codec.encode_table(values)[4:])


def test_protocol_header_fuzz_keeps_header_semantics():
    conn = AMQPConnection(Broker())
    conn.receive(HEADER[:4] + b"\xff\xff\xff\xff")
    assert parse(conn.data_to_send()) == [(None, HEADER)]

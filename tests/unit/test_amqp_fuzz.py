"""A misbehaving client never crashes the broker: arbitrary bytes, arbitrary frames and
arbitrary method arguments end in a reply, a connection error or a close, never an exception:
no 541 INTERNAL_ERROR (the answer to a bug) comes out and nothing is logged at error level, and
a well-behaved connection on the same broker keeps working."""

from __future__ import annotations

import logging
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pamqp import commands as C

from yizhan.amqp import codec
from yizhan.amqp.errors import INTERNAL_ERROR
from yizhan.amqp.broker import Broker
from yizhan.amqp.connection import AMQPConnection
from test_amqp_helpers import HEADER, Wire, messages, parse

# caplog is cleared by each example itself (`clean`), so sharing it across examples is safe.
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CLOSE_METHODS = {C.Connection.Close.index, C.Channel.Close.index}


def healthy(broker: Broker) -> None:
    """Another connection still publishes and gets a message."""
    wire = Wire(broker)
    wire.open(1)
    wire.send(C.Queue.Declare(queue="canary"), 1)
    wire.publish(1, b"alive", routing_key="canary")
    assert messages(wire.send(C.Basic.Get(queue="canary", no_ack=True), 1))[0][2] == b"alive"


def close_codes(data: bytes) -> list[int]:
    """The reply codes of the connection.close and channel.close frames in broker output, which
    must be a sequence of complete frames (after a protocol header, if any)."""
    if data.startswith(b"AMQP"):
        data = data[8:]
    codes = []
    while data:
        kind, _channel, size = struct.unpack(">BHI", data[:7])
        assert data[7 + size] == codec.FRAME_END
        payload = data[7:7 + size]
        if kind == codec.FRAME_METHOD and struct.unpack(">I", payload[:4])[0] in CLOSE_METHODS:
            codes.append(struct.unpack(">H", payload[4:6])[0])
        data = data[8 + size:]
    return codes


def clean(caplog, data: bytes) -> None:
    """No internal error answered, none logged (then ready for the next example)."""
    assert INTERNAL_ERROR not in close_codes(data)
    logged = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    caplog.clear()
    assert logged == []


def test_the_checks_see_an_internal_error(caplog):
    """What `clean` looks for is there when a handler has a bug: a 541 close and a logged error."""
    wire = Wire()
    wire.open(1)
    wire.conn.channels[1].handle_method_frame = None  # a bug: calling it raises TypeError
    caplog.clear()
    out = wire.raw_bytes(codec.method_frame(1, C.Queue.Declare(queue="q")))
    assert close_codes(out) == [INTERNAL_ERROR]
    assert [record.levelno for record in caplog.records] == [logging.ERROR]


@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_before_the_handshake(caplog, data):
    caplog.clear()
    broker = Broker()
    conn = AMQPConnection(broker)
    conn.receive(data)
    clean(caplog, conn.data_to_send())
    healthy(broker)


@FUZZ
@given(chunks=st.lists(st.binary(max_size=120), max_size=6))
def test_arbitrary_bytes_after_the_handshake(caplog, chunks):
    caplog.clear()
    broker = Broker()
    wire = Wire(broker)
    wire.open(1)
    for chunk in chunks:
        wire.conn.receive(chunk)
    clean(caplog, wire.conn.data_to_send())
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
@given(sequence=st.lists(frames(), min_size=1, max_size=12))
def test_well_framed_nonsense(caplog, sequence):
    caplog.clear()
    broker = Broker()
    wire = Wire(broker)
    wire.open(1)
    wire.conn.receive(b"".join(sequence))
    clean(caplog, wire.conn.data_to_send())
    healthy(broker)


@FUZZ
@given(indexes=st.lists(st.sampled_from(sorted(codec.SPECS)), min_size=1, max_size=8), data=st.data())
def test_valid_methods_with_random_arguments(caplog, indexes, data):
    """Every client method, with arguments drawn from their types, in any order."""
    caplog.clear()
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
    clean(caplog, wire.conn.data_to_send())
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

"""The AMQP codec without sockets: methods against pamqp's encoding, typed field tables,
content properties, frame splitting at every offset, Erlang-formatted reply texts."""

from __future__ import annotations

import datetime
import decimal
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pamqp import commands as C
from pamqp import encode as pencode
from pamqp import frame as pframe
from pamqp import header as pheader

from yizhan.amqp import codec, erlang, errors
from yizhan.amqp.codec import FieldTable


# -- methods --------------------------------------------------------------------------------
CLIENT_METHODS = [
    C.Connection.StartOk(client_properties={"product": "t", "n": 5}, mechanism="PLAIN",
                         response="\0guest\0guest"),
    C.Connection.TuneOk(channel_max=10, frame_max=4096, heartbeat=30),
    C.Connection.Open(virtual_host="/v"),
    C.Channel.Open(),
    C.Exchange.Declare(exchange="x", exchange_type="topic", durable=True, internal=True,
                       arguments={"alternate-exchange": "ae"}),
    C.Queue.Declare(queue="q", exclusive=True, auto_delete=True, nowait=True,
                    arguments={"x-max-length": 10}),
    C.Queue.Bind(queue="q", exchange="x", routing_key="a.*", arguments={"x-match": "any"}),
    C.Basic.Publish(exchange="x", routing_key="rk", mandatory=True),
    C.Basic.Consume(queue="q", consumer_tag="c", no_ack=True, exclusive=True),
    C.Basic.Ack(delivery_tag=2 ** 63 - 1, multiple=True),
    C.Basic.Nack(delivery_tag=7, multiple=False, requeue=True),
    C.Basic.Qos(prefetch_count=65535, global_=True),
    C.Queue.Delete(queue="q", if_unused=True, if_empty=True, nowait=True),
]


@pytest.mark.parametrize("method", CLIENT_METHODS, ids=lambda m: m.name)
def test_decode_matches_pamqp(method):
    payload = pframe.marshal(method, 1)[7:-1]
    decoded = codec.decode_method(codec.lookup_method(payload), payload)
    assert type(decoded) is type(method)
    for attr in method.__slots__:
        ours = getattr(decoded, attr)
        if isinstance(ours, FieldTable):
            ours = ours.to_python()
            theirs = {k: (v.encode() if isinstance(v, str) else v)
                      for k, v in (getattr(method, attr) or {}).items()}
            assert ours == theirs
        elif isinstance(ours, bytes):
            assert ours == getattr(method, attr).encode()
        else:
            assert ours == getattr(method, attr), attr


SERVER_METHODS = [
    C.Connection.Tune(channel_max=2047, frame_max=131072, heartbeat=60),
    C.Connection.Close(reply_code=320, reply_text="CONNECTION_FORCED - bye", class_id=0,
                       method_id=0),
    C.Channel.Close(reply_code=404, reply_text="NOT_FOUND - no queue 'x' in vhost '/'",
                    class_id=50, method_id=10),
    C.Queue.DeclareOk(queue="amq.gen-abc", message_count=3, consumer_count=1),
    C.Basic.Deliver(consumer_tag="amq.ctag-x", delivery_tag=9, redelivered=True, exchange="e",
                    routing_key="k"),
    C.Basic.GetOk(delivery_tag=1, redelivered=False, exchange="", routing_key="q",
                  message_count=4),
    C.Basic.Return(reply_code=312, reply_text="NO_ROUTE", exchange="x", routing_key="k"),
    C.Basic.Ack(delivery_tag=5, multiple=True),
    C.Basic.Cancel(consumer_tag="t", nowait=True),
    C.Channel.FlowOk(active=True),
]


@pytest.mark.parametrize("method", SERVER_METHODS, ids=lambda m: m.name)
def test_encode_matches_pamqp(method):
    ours = codec.method_frame(3, codec.new(type(method), **dict(method)))
    assert ours == pframe.marshal(method, 3)


def test_fast_paths_match_generic_encoding():
    deliver = codec.deliver_payload(codec.shortstr("ct"), 77, True, codec.shortstr("ex"),
                                    codec.shortstr("rk"))
    assert deliver == codec.encode_method(codec.new(
        C.Basic.Deliver, consumer_tag="ct", delivery_tag=77, redelivered=True, exchange="ex",
        routing_key="rk"))
    get_ok = codec.get_ok_payload(3, False, codec.shortstr(""), codec.shortstr("q"), 12)
    assert get_ok == codec.encode_method(codec.new(
        C.Basic.GetOk, delivery_tag=3, redelivered=False, exchange="", routing_key="q",
        message_count=12))
    assert codec.ack_frame(1, 9, True) == pframe.marshal(C.Basic.Ack(delivery_tag=9, multiple=True), 1)
    assert codec.ack_frame(1, 9, False, nack=True) == pframe.marshal(
        C.Basic.Nack(delivery_tag=9, multiple=False, requeue=False), 1)


def test_server_names_need_not_pass_pamqp_validation():
    """RabbitMQ accepts exchange names such as 'a b'; deliveries must still encode them."""
    payload = codec.encode_method(codec.new(C.Basic.Deliver, consumer_tag="c", delivery_tag=1,
                                            exchange="a b", routing_key="k é"))
    decoded = codec.decode_method(codec.lookup_method(payload), payload)
    assert decoded.exchange == "a b" and decoded.routing_key == "k é"


def test_trailing_or_missing_bytes_do_not_decode():
    payload = pframe.marshal(C.Basic.Qos(prefetch_count=1), 1)[7:-1]
    method_spec = codec.lookup_method(payload)
    with pytest.raises(codec.DecodeError):
        codec.decode_method(method_spec, payload + b"\x00")
    with pytest.raises(codec.DecodeError):
        codec.decode_method(method_spec, payload[:-1])


def test_malformed_utf8_only_refused_outside_content_methods():
    declare = b"\x00\x32\x00\x0a\x00\x00\x02\xff\xfe\x00\x00\x00\x00\x00"
    with pytest.raises(codec.Utf8Error):
        codec.decode_method(codec.lookup_method(declare), declare)
    publish = b"\x00\x3c\x00\x28\x00\x00\x01\xff\x01\xfe\x00"
    method = codec.decode_method(codec.lookup_method(publish), publish)
    assert codec.shortstr(method.exchange) == b"\x01\xff"


def test_unknown_method_has_no_spec():
    assert codec.lookup_method(b"\x00\x14\x00\x63") is None


# -- field tables ---------------------------------------------------------------------------
def test_every_field_type_keeps_its_tag_and_bytes():
    raw = b"".join([
        b"\x01SS\x00\x00\x00\x03abc", b"\x01II\xff\xff\xff\xfe", b"\x01ii\x00\x00\x00\x05",
        b"\x01DD\x02\x00\x00\x01\x3a", b"\x01TT\x00\x00\x00\x00\x00\x00\x00\x07",
        b"\x01FF\x00\x00\x00\x04\x01kt\x01", b"\x01bb\xff", b"\x01BB\xff",
        b"\x01ss\xff\xfe", b"\x01uu\xff\xfe", b"\x01dd" + struct.pack(">d", 1.5),
        b"\x01ff" + struct.pack(">f", 2.5), b"\x01ll" + struct.pack(">q", -3),
        b"\x01LL" + struct.pack(">q", 4), b"\x01tt\x00", b"\x01AA\x00\x00\x00\x05I\x00\x00\x00\x01",
        b"\x01xx\x00\x00\x00\x02\x00\xff", b"\x01VV",
    ])
    table = codec.decode_table(raw)
    kinds = {key: kind for key, kind, _ in table}
    assert kinds == {"S": "longstr", "I": "signedint", "i": "unsignedint", "D": "decimal",
                     "T": "timestamp", "F": "table", "b": "byte", "B": "unsignedbyte",
                     "s": "short", "u": "unsignedshort", "d": "double", "f": "float",
                     "l": "long", "L": "long", "t": "bool", "A": "array", "x": "binary",
                     "V": "void"}
    values = {key: value for key, _, value in table}
    assert values["I"] == -2 and values["B"] == 255 and values["b"] == -1
    assert values["D"] == (2, 314) and values["t"] is False and values["V"] is None
    assert values["A"] == [("signedint", 1)] and values["x"] == b"\x00\xff"
    assert values["F"] == [("k", "bool", True)]
    encoded = codec.encode_table(table)[4:]
    assert encoded == raw.replace(b"\x01LL", b"\x01Ll")  # 'L' is read as long, written 'l'


def test_unknown_field_type_is_a_table_error():
    with pytest.raises(codec.TableError):
        codec.decode_table(b"\x01aZ")
    with pytest.raises(codec.TableError):
        codec.decode_table(b"\x01aS\x00\x00\x00\x09ab")


def test_lookup_returns_first_duplicate():
    table = codec.decode_table(b"\x01aI\x00\x00\x00\x01\x01aI\x00\x00\x00\x02")
    assert table.lookup("a") == ("signedint", 1)
    assert table.lookup("b") is None


# -- properties -----------------------------------------------------------------------------
def test_properties_roundtrip_pamqp():
    props = C.Basic.Properties(
        content_type="application/json", content_encoding="gzip",
        headers={"s": "v", "n": 7, "f": 1.25, "b": True, "nested": {"a": [1, "x", None]},
                 "when": datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                 "dec": decimal.Decimal("3.14")},
        delivery_mode=2, priority=5, correlation_id="c", reply_to="r", expiration="60000",
        message_id="m", timestamp=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc),
        message_type="t", user_id="guest", app_id="a", cluster_id="")
    raw = pheader.ContentHeader(0, 0, props).marshal()[12:]
    decoded = codec.decode_properties(raw)
    assert decoded.content_type == b"application/json" and decoded.delivery_mode == 2
    assert decoded.headers.value("n") == 7 and decoded.headers.lookup("dec") == ("decimal", (2, 314))
    assert codec.encode_properties(decoded) == raw


def test_properties_with_trailing_bytes_fail():
    with pytest.raises(codec.DecodeError):
        codec.decode_properties(b"\x00\x00xyz")
    with pytest.raises(codec.DecodeError):
        codec.decode_properties(b"\x80\x00\x05ab")


# -- frames ---------------------------------------------------------------------------------
STREAM = (pframe.marshal(C.Basic.Publish(exchange="", routing_key="q"), 1)
          + pframe.marshal(pheader.ContentHeader(0, 3, C.Basic.Properties()), 1)
          + codec.frame(codec.FRAME_BODY, 1, b"abc") + codec.HEARTBEAT_FRAME)


def _frames(chunks, frame_max=131072):
    reader = codec.FrameReader(frame_max)
    out = []
    for chunk in chunks:
        reader.feed(chunk)
        while (frame := reader.next()) is not None:
            out.append(frame)
    return out


def test_frames_split_at_every_offset():
    whole = _frames([STREAM])
    assert [f[0] for f in whole] == [1, 2, 3, 8]
    for cut in range(1, len(STREAM)):
        assert _frames([STREAM[:cut], STREAM[cut:]]) == whole
    assert _frames([bytes([b]) for b in STREAM]) == whole


def test_frame_limits():
    reader = codec.FrameReader(4096)
    reader.feed(codec.frame(codec.FRAME_BODY, 1, b"x" * 4096))
    assert reader.next()[2] == b"x" * 4096  # RabbitMQ allows frame_max - 8 + 8 bytes
    reader.feed(b"\x03\x00\x01\x00\x00\x10\x01")
    with pytest.raises(codec.FrameTooLarge) as info:
        reader.next()
    assert (info.value.size, info.value.limit) == (4097, 4088)
    reader = codec.FrameReader(4096)
    reader.feed(b"\x01\x00\x01\x00\x00\x00\x01\x00\xcd")
    with pytest.raises(codec.BadFrameEnd):
        reader.next()


def test_body_split_at_frame_max():
    body = bytes(range(256)) * 50
    data = codec.content_frames(1, codec.encode_method(codec.new(C.Basic.GetOk, delivery_tag=1,
                                                                 routing_key="q")),
                                len(body), b"\x00\x00", body, 4096)
    frames = _frames([data], 4096)
    bodies = [payload for kind, _, payload in frames if kind == codec.FRAME_BODY]
    assert [len(b) for b in bodies] == [4088, 4088, 4088, 536]
    assert b"".join(bodies) == body
    empty = _frames([codec.content_frames(1, b"\x00\x3c\x00\x47", 0, b"\x00\x00", b"", 4096)])
    assert [kind for kind, _, _ in empty] == [1, 2]


# -- reply texts ----------------------------------------------------------------------------
def test_erlang_terms_as_rabbitmq_prints_them():
    assert erlang.write(b"abcde") == '<<"abcde">>'
    assert erlang.write(b"ab\ncd") == '<<"ab\\ncd">>'
    assert erlang.write(b'ab"cd') == '<<"ab\\"cd">>'
    assert erlang.write(b"ab\\cd") == '<<"ab\\\\cd">>'
    assert erlang.write(b"ab\x7fcd") == "<<97,98,127,99,100>>"
    assert erlang.write(b"ab\x1bc\x00") == "<<97,98,27,99,0>>"
    assert erlang.write(b"") == "<<>>"
    assert erlang.write((erlang.Atom("frame_too_large"), 196608, 131064)) == \
        "{frame_too_large,196608,131064}"


def test_frame_error_texts_match_rabbitmq():
    marker = (erlang.Atom("invalid_frame_end_marker"), 205)
    assert errors.frame_error(1, b"\x00\x14\x00\x0a\x00", marker).reply_text == \
        b"FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,205}"
    # long texts wrap as io_lib's ~p does
    assert errors.frame_error(1, bytes(range(20)), marker).reply_text == (
        b"FRAME_ERROR - type 1, first 16 octets = <<0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15>>: "
        b"{invalid_frame_end_marker,\n" + b" " * 70 + b"205}")
    assert errors.frame_error(1, bytes(range(200, 220)), marker).reply_text == (
        b'FRAME_ERROR - type 1, first 16 octets = <<"' + bytes(range(200, 216))
        + b'">>: {invalid_frame_end_marker,\n' + b" " * 51 + b"205}")


def test_reply_text_truncated_like_rabbitmq():
    error = errors.no_queue("q" * 300, "/")
    assert len(error.reply_text) == 255 and error.reply_text.endswith(b"...")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(
    st.text(max_size=20), st.integers(-2 ** 31, 2 ** 31 - 1), st.booleans(),
    st.floats(width=32, allow_nan=False, allow_infinity=False), st.none()), max_size=6))
def test_tables_decode_what_pamqp_encodes(table):
    raw = pencode.field_table(table)[4:]
    decoded = codec.decode_table(raw)
    assert codec.encode_table(decoded)[4:] == raw

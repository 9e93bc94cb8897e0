"""The connection's hot path (basic.publish + header + body and single basic.ack handled straight
from the read buffer) must answer exactly as the generic frame loop does. Each scenario runs
three times on fresh brokers: with the hot path switched off, fed in whole reads, and fed one
byte at a time; every byte every connection sends must be the same in all three runs."""

from __future__ import annotations

import pytest
from pamqp import body as pbody
from pamqp import commands as C
from pamqp import frame as pframe
from pamqp import header as pheader

from yizhan.amqp.broker import Broker, Limits
from yizhan.amqp.connection import AMQPConnection
from test_amqp_helpers import Wire, parse

B, Q, X = C.Basic, C.Queue, C.Exchange


def method(m, channel: int = 1) -> bytes:
    return pframe.marshal(m, channel)


def publish(body: bytes = b"hello", routing_key: str = "q", exchange: str = "", channel: int = 1,
            mandatory: bool = False, properties=None, class_id: int = 60) -> bytes:
    data = method(B.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory), channel)
    header = pframe.marshal(pheader.ContentHeader(0, len(body), properties or B.Properties()), channel)
    if class_id != 60:
        header = header[:7] + class_id.to_bytes(2, "big") + header[9:]
    data += header
    if body:
        data += pframe.marshal(pbody.ContentBody(body), channel)
    return data


def ack(tag: int, multiple: bool = False, channel: int = 1) -> bytes:
    return method(B.Ack(delivery_tag=tag, multiple=multiple), channel)


def setup(*queues: str, prefetch: int = 0, channels=(1,)) -> bytes:
    """Open the channels, declare the queues, set a per-consumer prefetch."""
    data = b""
    for channel in channels:
        data += method(C.Channel.Open(), channel)
        if prefetch:
            data += method(B.Qos(prefetch_count=prefetch), channel)
    for queue in queues:
        data += method(Q.Declare(queue=queue), channels[0])
    return data


SCENARIOS = {
    "publish then consume and ack one by one": [
        ("pub", setup("q")),
        ("pub", publish(b"a") + publish(b"b") + publish(b"c")),
        ("sub", setup(prefetch=2) + method(B.Consume(queue="q", consumer_tag="c1"))),
        ("sub", ack(1) + ack(2) + ack(3)),
        ("pub", publish(b"d") * 3),
        ("sub", ack(4) + ack(5) + ack(6)),
    ],
    "acks for two queues on one channel, interleaved": [
        ("pub", setup("q", "r")),
        ("pub", publish(b"q1") + publish(b"r1", "r") + publish(b"q2") + publish(b"r2", "r")
         + publish(b"q3") + publish(b"r3", "r")),
        ("sub", setup(prefetch=1) + method(B.Consume(queue="q", consumer_tag="cq"))
         + method(B.Consume(queue="r", consumer_tag="cr"))),
        ("sub", ack(2) + ack(1) + ack(3) + ack(4)),
        ("sub", ack(5) + ack(6)),
    ],
    "two consumers on one queue, several acks in one read": [
        ("pub", setup("q")),
        ("pub", publish(b"m") * 8),
        ("sub", setup(prefetch=1, channels=(1, 2)) + method(B.Consume(queue="q", consumer_tag="a"))
         + method(B.Consume(queue="q", consumer_tag="b"), 2)),
        ("sub", ack(1) + ack(2) + ack(1, channel=2) + ack(3)),
        ("sub", ack(2, channel=2) + ack(4) + ack(3, channel=2)),
    ],
    "acks then other methods in the same read": [
        ("pub", setup("q")),
        ("pub", publish(b"m") * 5),
        ("sub", setup(prefetch=1) + method(B.Consume(queue="q", consumer_tag="c1"))),
        ("sub", ack(1) + method(Q.Declare(queue="q", passive=True)) + ack(2)
         + method(B.Cancel(consumer_tag="c1")) + ack(3)),
    ],
    "ack of an unknown tag, multiple and zero tags": [
        ("pub", setup("q")),
        ("pub", publish(b"m") * 6),
        ("sub", setup(prefetch=3) + method(B.Consume(queue="q", consumer_tag="c1"))),
        ("sub", ack(2, multiple=True) + ack(3) + ack(0, multiple=True)),
        ("sub", ack(1) + ack(99) + ack(4)),
        ("sub", method(C.Channel.CloseOk()) + method(C.Channel.Open())),
    ],
    "global prefetch window": [
        ("pub", setup("q", "r")),
        ("pub", publish(b"q") * 4 + publish(b"r", "r") * 4),
        ("sub", method(C.Channel.Open()) + method(B.Qos(prefetch_count=3, global_=True))
         + method(B.Consume(queue="q", consumer_tag="cq"))
         + method(B.Consume(queue="r", consumer_tag="cr"))),
        ("sub", ack(1) + ack(3) + ack(2)),
        ("sub", ack(4) + ack(5) + ack(6) + ack(7) + ack(8)),
    ],
    "publish errors and a closing channel": [
        ("pub", setup("q")),
        ("pub", publish(b"x", exchange="missing") + publish(b"y") + publish(b"z")),
        ("pub", method(C.Channel.CloseOk()) + method(C.Channel.Open()) + publish(b"after")),
        ("pub", method(X.Declare(exchange="int", exchange_type="fanout", internal=True))
         + publish(b"i", exchange="int") + publish(b"j")),
    ],
    "mandatory, unroutable, properties, CC and BCC": [
        ("pub", setup("q", "cc", "bcc")),
        ("pub", publish(b"lost", "nowhere", mandatory=True) + publish(b"lost", "nowhere")),
        ("pub", publish(b"p", properties=B.Properties(content_type="text/plain", delivery_mode=2,
                                                      headers={"CC": ["cc"], "BCC": ["bcc"]}))),
        ("pub", publish(b"e", properties=B.Properties(expiration="soon"))),
        ("pub", method(C.Channel.Open(), 2) + publish(b"u", channel=2,
                                                     properties=B.Properties(user_id="other"))),
        ("sub", setup(channels=(1, 2, 3)) + method(B.Consume(queue="q", consumer_tag="q", no_ack=True))
         + method(B.Consume(queue="cc", consumer_tag="cc", no_ack=True), 2)
         + method(B.Consume(queue="bcc", consumer_tag="bcc", no_ack=True), 3)),
    ],
    "confirms and transactions": [
        ("pub", setup("q") + method(C.Confirm.Select())),
        ("pub", publish(b"c1") + publish(b"c2", "nowhere") + publish(b"c3")),
        ("sub", setup(prefetch=10, channels=(1,)) + method(C.Tx.Select())
         + method(B.Consume(queue="q", consumer_tag="t"))),
        ("sub", ack(1) + publish(b"in-tx") + method(C.Tx.Commit()) + ack(2)
         + method(C.Tx.Rollback()) + ack(2) + method(C.Tx.Commit())),
    ],
    "an empty body, a body in two frames": [
        ("pub", setup("q")),
        ("pub", publish(b"") + publish(b"after empty")),
        ("pub", publish(b"two frames")[:-18] + pframe.marshal(pbody.ContentBody(b"two "), 1)
         + pframe.marshal(pbody.ContentBody(b"frames"), 1) + publish(b"next")),
        ("sub", setup(channels=(1,)) + method(B.Consume(queue="q", consumer_tag="c", no_ack=True))),
    ],
    "a header for another class": [
        ("pub", setup("q")),
        ("pub", publish(b"k", class_id=50)),
    ],
    "a method where the content header belongs": [
        ("pub", setup("q")),
        ("pub", method(B.Publish(routing_key="q")) + ack(1)),
    ],
    "a header on another channel": [
        ("pub", setup("q", channels=(1, 2))),
        ("pub", method(B.Publish(routing_key="q"))
         + publish(b"x", channel=2)[len(method(B.Publish(routing_key="q"), 2)):]),
    ],
    "a publish on a channel never opened": [
        ("pub", setup("q")),
        ("pub", publish(b"fine") + publish(b"on a channel never opened", channel=9)),
    ],
    "a bad frame end inside a publish": [
        ("pub", setup("q")),
        ("pub", publish(b"fine") + publish(b"broken")[:-1] + b"\x00"),
    ],
    "a frame over frame_max": [
        ("pub", setup("q")),
        ("pub", publish(b"fine") + publish(b"b" * 5000)),
    ],
}


class _Generic(AMQPConnection):
    def _hot_frames(self) -> None:
        return None


def _run(steps, mode: str, monkeypatch) -> list[bytes]:
    limits = Limits(frame_max=4096)
    broker = Broker(limits)
    with monkeypatch.context() as patch:
        if mode == "generic":
            patch.setattr("test_amqp_helpers.AMQPConnection", _Generic)
        wires = {"pub": Wire(broker, frame_max=4096), "sub": Wire(broker, frame_max=4096)}
    transcript = []
    for who, data in steps:
        conn = wires[who].conn
        if mode == "bytewise":
            for i in range(len(data)):
                conn.receive(data[i:i + 1])
        else:
            conn.receive(data)
        for name in ("pub", "sub"):
            transcript.append(wires[name].conn.data_to_send())
    return transcript


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_hot_path_answers_as_the_generic_loop(scenario, monkeypatch):
    steps = SCENARIOS[scenario]
    generic = _run(steps, "generic", monkeypatch)
    assert _run(steps, "whole", monkeypatch) == generic
    assert _run(steps, "bytewise", monkeypatch) == generic
    assert any(parse(out) for out in generic)


def test_generic_connection_really_skips_the_hot_path(monkeypatch):
    """The reference run must not use the hot path; the others do."""
    broker = Broker()
    calls = []
    hot_run = AMQPConnection._hot_run

    def counting(self, held):
        calls.append(self)
        return hot_run(self, held)

    monkeypatch.setattr(AMQPConnection, "_hot_run", counting)
    with monkeypatch.context() as patch:
        patch.setattr("test_amqp_helpers.AMQPConnection", _Generic)
        generic = Wire(broker)
    generic.raw(setup("q") + publish(b"m"))
    assert calls == []
    fast = Wire(broker)
    fast.raw(setup("q") + publish(b"m"))
    assert fast.conn in calls


def _frames_of(reader, chunks) -> list:
    frames = []
    for chunk in chunks:
        reader.feed(chunk)
        while (frame := reader.next()) is not None:
            frames.append(frame)
    return frames


def test_frame_reader_gives_the_same_frames_however_the_stream_is_cut():
    from yizhan.amqp.codec import FrameReader
    stream = (setup("q") + publish(b"a" * 300) + ack(7) + publish(b"b" * 100_000)
              + publish(b"") + ack(8, multiple=True))
    whole = _frames_of(FrameReader(131072), [stream])
    assert [f[0] for f in whole] == [1, 1, 1, 2, 3, 1, 1, 2, 3, 1, 2, 1]
    assert whole[8][2] == b"b" * 100_000
    for size in (1, 5, 7, 8, 13, 1000, 4096, 65536):
        chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
        assert _frames_of(FrameReader(131072), chunks) == whole, size
        assert _frames_of(FrameReader(131072), [bytearray(c) for c in chunks]) == whole, size


def test_frame_reader_keeps_what_it_has_not_parsed():
    """A large frame still incomplete after several reads: the frames before it are out, and
    take_rest returns everything after them, in order."""
    from yizhan.amqp.codec import FrameReader
    big = publish(b"c" * 50_000)
    body_start = len(big) - (8 + 50_000)
    reader = FrameReader(131072)
    frames = _frames_of(reader, [big[:30_000], big[30_000:35_000], big[35_000:40_000]])
    assert [f[0] for f in frames] == [1, 2]
    assert reader.take_rest() == big[body_start:40_000]
    assert reader.next() is None

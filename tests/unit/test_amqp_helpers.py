"""A sans-IO AMQP client for unit tests: drives an `AMQPConnection` with frames built by pamqp
and decodes what it answers. No sockets; tests see exactly the bytes the broker produced."""

from __future__ import annotations

import struct

from pamqp import body as pbody
from pamqp import commands as C
from pamqp import frame as pframe
from pamqp import header as pheader

from yizhan.amqp.broker import Broker
from yizhan.amqp.connection import AMQPConnection
from yizhan.testing.core import exchange

HEADER = b"AMQP\x00\x00\x09\x01"
CAPS = {"consumer_cancel_notify": True, "authentication_failure_close": True,
        "publisher_confirms": True, "basic.nack": True}


def parse(data: bytes) -> list:
    """(channel, frame) pairs from broker output (a leading protocol header is returned as is)."""
    out = []
    if data.startswith(b"AMQP"):
        out.append((None, data[:8]))
        data = data[8:]
    while data:
        _type, channel, size = struct.unpack(">BHI", data[:7])
        consumed, channel, value = pframe.unmarshal(data[:size + 8])
        out.append((channel, value))
        data = data[consumed:]
    return out


def name(frame) -> str:
    return getattr(frame, "name", type(frame).__name__)


class Wire:
    def __init__(self, broker: Broker | None = None, handshake: bool = True, caps=None,
                 user: str = "guest", password: str = "guest", vhost: str = "/",
                 loopback: bool = True, frame_max: int = 131072, heartbeat: int = 0):
        self.broker = broker or Broker()
        self.conn = AMQPConnection(self.broker, loopback=loopback)
        if handshake:
            start = self.raw(HEADER)
            assert name(start[0][1]) == "Connection.Start"
            tune = self.send(C.Connection.StartOk(
                client_properties={"capabilities": CAPS if caps is None else caps},
                mechanism="PLAIN", response=f"\0{user}\0{password}"))
            assert name(tune[0][1]) == "Connection.Tune", tune
            assert self.send(C.Connection.TuneOk(channel_max=2047, frame_max=frame_max,
                                                 heartbeat=heartbeat)) == []
            opened = self.send(C.Connection.Open(virtual_host=vhost))
            assert name(opened[0][1]) == "Connection.OpenOk", opened

    def raw(self, data: bytes) -> list:
        return parse(exchange(self.conn, data))

    def raw_bytes(self, data: bytes) -> bytes:
        return exchange(self.conn, data)

    def send(self, method, channel: int = 0) -> list:
        return self.raw(pframe.marshal(method, channel))

    def open(self, channel: int = 1) -> None:
        reply = self.send(C.Channel.Open(), channel)
        assert name(reply[0][1]) == "Channel.OpenOk", reply

    def publish(self, channel: int, body: bytes = b"x", exchange: str = "", routing_key: str = "q",
                mandatory: bool = False, properties=None) -> list:
        data = pframe.marshal(C.Basic.Publish(exchange=exchange, routing_key=routing_key,
                                              mandatory=mandatory), channel)
        data += pframe.marshal(pheader.ContentHeader(0, len(body),
                                                     properties or C.Basic.Properties()), channel)
        if body:
            data += pframe.marshal(pbody.ContentBody(body), channel)
        return self.raw(data)

    def output(self) -> list:
        return parse(self.conn.data_to_send())


def close_of(frames) -> tuple:
    """(reply_code, reply_text, class_id, method_id) of the close among `frames`."""
    for _channel, frame in frames:
        if name(frame) in ("Channel.Close", "Connection.Close"):
            return frame.reply_code, frame.reply_text, frame.class_id, frame.method_id
    raise AssertionError(f"no close in {frames}")


def messages(frames) -> list:
    """[(method, properties, body)] of the content-bearing methods among `frames`."""
    out, current, size = [], None, 0
    for _channel, frame in frames:
        if name(frame) in ("Basic.Deliver", "Basic.GetOk", "Basic.Return"):
            current = [frame, None, b""]
        elif isinstance(frame, pheader.ContentHeader):
            current[1], size = frame.properties, frame.body_size
            if size == 0:
                out.append(tuple(current))
        elif isinstance(frame, pbody.ContentBody):
            current[2] += frame.value
            if len(current[2]) == size:
                out.append(tuple(current))
    return out

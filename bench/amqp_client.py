"""A lean AMQP 0-9-1 load client: blocking sockets, pamqp for the handshake and synchronous
methods, hand-built frames on the hot path (publish is one pre-marshalled byte string repeated;
deliveries are parsed with struct and acknowledged in one write per read).

pika and aio-pika top out at a few thousand messages a second on this machine, below what either
broker can do; this client spends a few microseconds per message, so the broker is what is
measured. Each publisher and consumer runs in its own process (see amqp_suite.py).
"""

from __future__ import annotations

import socket
import struct
import time

from pamqp import body as pbody
from pamqp import commands, frame, header

FRAME_END = 0xCE
HEADER = struct.Struct(">BHI")
METHOD = struct.Struct(">HH")
ACK = struct.Struct(">BHIHHQBB")        # a whole basic.ack frame: header, class/method, tag, bits, end
LONGLONG = struct.Struct(">Q")
PUBLISH_BATCH = 200                     # messages per sendall


class BrokerClosed(RuntimeError):
    pass


class Connection:
    """One AMQP connection on a blocking socket, with a receive buffer and frame reader."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self.expect(0, commands.Connection.Start)
        self.send(0, commands.Connection.StartOk(
            client_properties={"product": "yizhan-bench"}, mechanism="PLAIN",
            response="\0guest\0guest", locale="en_US"))
        tune = self.expect(0, commands.Connection.Tune)
        self.send(0, commands.Connection.TuneOk(channel_max=tune.channel_max or 2047,
                                                frame_max=min(tune.frame_max or 131072, 131072), heartbeat=0))
        self.send(0, commands.Connection.Open(virtual_host="/"))
        self.expect(0, commands.Connection.OpenOk)

    # -- frames --------------------------------------------------------------------------
    def send(self, channel: int, value) -> None:
        self.sock.sendall(frame.marshal(value, channel))

    def fill(self) -> None:
        data = self.sock.recv(1 << 18)
        if not data:
            raise BrokerClosed("the broker closed the connection")
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def next_frame(self):
        """The next whole frame, decoded by pamqp: (channel, value)."""
        while True:
            if len(self.buf) - self.pos >= 7:
                _, _, size = HEADER.unpack_from(self.buf, self.pos)
                end = self.pos + 8 + size
                if len(self.buf) >= end:
                    _, channel, value = frame.unmarshal(bytes(self.buf[self.pos:end]))
                    self.pos = end
                    return channel, value
            self.fill()

    def expect(self, channel: int, kind):
        """Read frames until a `kind` method arrives on `channel`; a close from the broker raises."""
        while True:
            ch, value = self.next_frame()
            if isinstance(value, (commands.Connection.Close, commands.Channel.Close)):
                raise BrokerClosed(f"{value.reply_code} {value.reply_text}")
            if ch == channel and isinstance(value, kind):
                return value

    def rpc(self, channel: int, method, reply):
        self.send(channel, method)
        return self.expect(channel, reply)

    def open_channel(self, channel: int) -> None:
        self.rpc(channel, commands.Channel.Open(), commands.Channel.OpenOk)

    def close(self) -> None:
        try:
            self.rpc(0, commands.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0), commands.Connection.CloseOk)
        except (OSError, BrokerClosed):
            pass
        finally:
            self.sock.close()


def publish_bytes(exchange: str, routing_key: str, size: int, persistent: bool, channel: int = 1) -> bytes:
    """basic.publish + content header + body, marshalled once and sent as is for every message."""
    properties = commands.Basic.Properties(delivery_mode=2 if persistent else None)
    return (frame.marshal(commands.Basic.Publish(exchange=exchange, routing_key=routing_key), channel)
            + frame.marshal(header.ContentHeader(0, size, properties), channel)
            + frame.marshal(pbody.ContentBody(b"x" * size), channel))


# -- the work each process does ------------------------------------------------------------
def publish(port: int, exchange: str, routing_key: str, count: int, size: int = 100,
            persistent: bool = False, confirm_window: int = 0) -> float:
    """Publish `count` messages; with `confirm_window`, use publisher confirms and keep at most
    that many unconfirmed. Returns the monotonic time when the last one was sent (or confirmed)."""
    conn = Connection(port)
    conn.open_channel(1)
    one = publish_bytes(exchange, routing_key, size, persistent)
    if not confirm_window:
        batch = one * PUBLISH_BATCH
        full, rest = divmod(count, PUBLISH_BATCH)
        for _ in range(full):
            conn.sock.sendall(batch)
        conn.sock.sendall(one * rest)
        # a synchronous round trip on the same channel: everything before it has been handled
        conn.rpc(1, commands.Basic.Qos(prefetch_count=0), commands.Basic.QosOk)
        done = time.monotonic()
        conn.close()
        return done
    conn.rpc(1, commands.Confirm.Select(), commands.Confirm.SelectOk)
    step = max(1, min(PUBLISH_BATCH, confirm_window // 2))
    sent = confirmed = 0
    extra: set[int] = set()              # individually confirmed tags above `confirmed`
    while confirmed < count:
        if sent < count and sent - confirmed + step <= confirm_window:
            n = min(step, count - sent)
            conn.sock.sendall(one * n)
            sent += n
            continue
        conn.fill()
        buf, pos, end_of_data = conn.buf, conn.pos, len(conn.buf)
        while end_of_data - pos >= 7:
            kind, _, length = HEADER.unpack_from(buf, pos)
            end = pos + 8 + length
            if end > end_of_data:
                break
            if kind == 1:
                class_id, method_id = METHOD.unpack_from(buf, pos + 7)
                if class_id == 60 and method_id in (80, 120):          # basic.ack / basic.nack
                    tag = LONGLONG.unpack_from(buf, pos + 11)[0]
                    if buf[pos + 19] & 1:
                        confirmed = max(confirmed, tag)
                        extra = {t for t in extra if t > confirmed}
                    else:
                        extra.add(tag)
                    while confirmed + 1 in extra:
                        confirmed += 1
                        extra.discard(confirmed)
                elif (class_id, method_id) in ((10, 50), (20, 40)):
                    raise BrokerClosed(f"broker closed during publish: {bytes(buf[pos:end])!r}")
            pos = end
        conn.pos = pos
    done = time.monotonic()
    conn.close()
    return done


def consume(port: int, queues: list[str], count: int, prefetch: int = 500, ready=None) -> float:
    """Consume `count` deliveries in total from `queues` (one channel each), acknowledging every
    delivery individually (one write per read). Returns the monotonic time of the last delivery."""
    conn = Connection(port)
    for number, queue in enumerate(queues, start=1):
        conn.open_channel(number)
        conn.rpc(number, commands.Basic.Qos(prefetch_count=prefetch), commands.Basic.QosOk)
        conn.rpc(number, commands.Basic.Consume(queue=queue, consumer_tag=f"bench-{number}"),
                 commands.Basic.ConsumeOk)
    if ready is not None:
        ready.set()
    received = 0
    pack = ACK.pack
    sock = conn.sock
    while received < count:
        conn.fill()
        buf, pos, end_of_data = conn.buf, conn.pos, len(conn.buf)
        acks = []
        while end_of_data - pos >= 7:
            kind, channel, length = HEADER.unpack_from(buf, pos)
            end = pos + 8 + length
            if end > end_of_data:
                break
            if kind == 1:
                class_id, method_id = METHOD.unpack_from(buf, pos + 7)
                if class_id == 60 and method_id == 60:                 # basic.deliver
                    tag_at = pos + 12 + buf[pos + 11]
                    acks.append(pack(1, channel, 13, 60, 80, LONGLONG.unpack_from(buf, tag_at)[0], 0, FRAME_END))
                elif (class_id, method_id) in ((10, 50), (20, 40)):
                    raise BrokerClosed(f"broker closed during consume: {bytes(buf[pos:end])!r}")
            pos = end
        conn.pos = pos
        if acks:
            received += len(acks)
            sock.sendall(b"".join(acks))
    done = time.monotonic()
    conn.close()
    return done

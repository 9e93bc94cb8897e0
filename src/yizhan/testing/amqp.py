"""Client-side helpers for AMQP tests that run the same scenario against yizhan and RabbitMQ:
a pika connection with short timeouts, waiting for deliveries without timing assertions,
capturing a broker's channel/connection error as (code, text), unique names, and `RawAMQP`, a
socket client that speaks frames through pamqp so tests can send and compare exact bytes.
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
from urllib.parse import urlsplit

WAIT = 10.0          # how long a test waits for something the broker must send (a failure, not a pass)

FRAME_END = b"\xce"
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


def unique(prefix: str = "t") -> str:
    """A name no other test uses, so tests can share one broker."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def params(url: str, **extra):
    """pika connection parameters for `url` that fail fast instead of hanging."""
    import pika

    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    parameters.stack_timeout = 8
    parameters.blocked_connection_timeout = 10
    for name, value in extra.items():
        setattr(parameters, name, value)
    return parameters


def connect(url: str, **extra):
    """A pika BlockingConnection to `url` (see `params`)."""
    import pika

    return pika.BlockingConnection(params(url, **extra))


def wait_until(connection, predicate, what: str = "the broker", timeout: float = WAIT) -> None:
    """Pump `connection` (pika Blocking) until `predicate()` holds; fail if it never does."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        connection.process_data_events(time_limit=0.02)


def broker_error(call, *args, **kwargs) -> tuple[str, int, str]:
    """Run a pika call expected to make the broker close something: ("channel"|"connection",
    reply code, reply text). Anything else (no error) is an assertion failure."""
    import pika.exceptions as errors

    try:
        result = call(*args, **kwargs)
    except errors.ChannelClosedByBroker as exc:
        return "channel", exc.reply_code, exc.reply_text
    except errors.ConnectionClosedByBroker as exc:
        return "connection", exc.reply_code, exc.reply_text
    raise AssertionError(f"the broker accepted it: {result!r}")


def publish_confirmed(connection, exchange: str, routing_key: str, bodies, properties=None) -> None:
    """Publish `bodies` on a fresh confirm-mode channel and return once all are confirmed.

    RabbitMQ answers a Queue.Declare (its counts) ahead of publishes still in the queue's
    mailbox, so a test that counts after publishing must wait for the confirms first."""
    channel = connection.channel()
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(exchange, routing_key, body, properties)
    channel.close()


class Recorder:
    """A pika consumer callback for many consumers: deliveries as (consumer_tag, body,
    redelivered, delivery_tag), in arrival order."""

    def __init__(self):
        self.got = []

    def __call__(self, channel, method, properties, body):
        self.got.append((method.consumer_tag, body.decode(), method.redelivered, method.delivery_tag))

    def of(self, tag):
        """The bodies `tag` received."""
        return [body for t, body, _, _ in self.got if t == tag]

    def tags(self):
        """(consumer_tag, body) of every delivery."""
        return [(t, body) for t, body, _, _ in self.got]


def queue_counts(channel, queue: str) -> tuple[int, int]:
    """(message_count, consumer_count) from a passive Queue.Declare."""
    ok = channel.queue_declare(queue, passive=True).method
    return ok.message_count, ok.consumer_count


# -- raw frames ---------------------------------------------------------------------------------
class RawAMQP:
    """A blocking socket client that sends and receives whole frames (pamqp objects or bytes).

        with RawAMQP.open(url) as raw:           # handshake done, channel 1 open
            raw.send(1, commands.Queue.Declare(queue="q"))
            kind, channel, frame, payload = raw.receive()
    """

    def __init__(self, host: str, port: int, timeout: float = WAIT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.tune = None
        self.start = None

    @classmethod
    def open(cls, url: str, channel: int = 1, frame_max: int = 131072) -> "RawAMQP":
        parts = urlsplit(url)
        raw = cls(parts.hostname or "127.0.0.1", parts.port or 5672)
        raw.handshake(parts.username or "guest", parts.password or "guest", frame_max=frame_max)
        if channel:
            raw.open_channel(channel)
        return raw

    def __enter__(self) -> "RawAMQP":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- sending -----------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, channel: int, *frames) -> None:
        from pamqp import frame

        self.sock.sendall(b"".join(frame.marshal(f, channel) for f in frames))

    def call(self, channel: int, method):
        """Send a synchronous method and return the method frame that answers it."""
        self.send(channel, method)
        return self.expect_method(channel)

    # -- receiving ---------------------------------------------------------------------------
    def receive_raw(self) -> tuple[int, int, bytes]:
        """The next frame as (type, channel, payload bytes), heartbeats included."""
        while len(self.buffer) < 7:
            self._fill()
        kind, channel, size = struct.unpack(">BHI", self.buffer[:7])
        while len(self.buffer) < 8 + size:
            self._fill()
        payload, end = self.buffer[7:7 + size], self.buffer[7 + size:8 + size]
        if end != FRAME_END:
            raise AssertionError(f"frame end {end!r}")
        self.buffer = self.buffer[8 + size:]
        return kind, channel, payload

    def receive(self):
        """The next non-heartbeat frame as (type, channel, pamqp frame, payload bytes)."""
        from pamqp import frame

        while True:
            kind, channel, payload = self.receive_raw()
            if kind == 8:
                continue
            whole = struct.pack(">BHI", kind, channel, len(payload)) + payload + FRAME_END
            return kind, channel, frame.unmarshal(whole)[2], payload

    def expect_method(self, channel: int | None = None):
        kind, got_channel, value, _ = self.receive()
        if kind != 1 or (channel is not None and got_channel != channel):
            raise AssertionError(f"expected a method on channel {channel}, got {value!r} on {got_channel}")
        return value

    def read_until_closed(self) -> bytes:
        """Everything the peer sends until it closes the socket."""
        data = self.buffer
        self.buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        self.buffer += chunk

    # -- the handshake -----------------------------------------------------------------------
    def handshake(self, user: str = "guest", password: str = "guest", vhost: str = "/",
                  frame_max: int = 131072, heartbeat: int = 0, capabilities: dict | None = None):
        from pamqp import commands

        self.send_bytes(PROTOCOL_HEADER)
        self.start = self.expect_method(0)
        if capabilities is None:
            capabilities = {"consumer_cancel_notify": True, "basic.nack": True,
                            "publisher_confirms": True, "authentication_failure_close": True}
        self.send(0, commands.Connection.StartOk(
            client_properties={"product": "yizhan-tests", "capabilities": capabilities},
            mechanism="PLAIN", response=f"\0{user}\0{password}"))
        self.tune = self.expect_method(0)
        self.send(0, commands.Connection.TuneOk(channel_max=self.tune.channel_max,
                                                frame_max=min(frame_max, self.tune.frame_max),
                                                heartbeat=heartbeat))
        return self.call(0, commands.Connection.Open(virtual_host=vhost))

    def open_channel(self, channel: int):
        from pamqp import commands

        return self.call(channel, commands.Channel.Open())


def content_header_bytes(channel: int, body_size: int, flags: int, properties: bytes) -> bytes:
    """A content header frame for class Basic with the property list given as raw bytes."""
    payload = struct.pack(">HHQH", 60, 0, body_size, flags) + properties
    return struct.pack(">BHI", 2, channel, len(payload)) + payload + FRAME_END


def body_bytes(channel: int, body: bytes) -> bytes:
    return struct.pack(">BHI", 3, channel, len(body)) + body + FRAME_END


class Broker:
    """One broker under test: `.name`, `.url`, `.connect()` (pika, closed by `close_all`),
    `.raw()` (a RawAMQP after the handshake, with channel 1 open)."""

    def __init__(self, name: str, url: str):
        self.name = name
        self.url = url
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5672
        self._open: list = []

    def connect(self, **extra):
        connection = connect(self.url, **extra)
        self._open.append(connection)
        return connection

    def channel(self, **extra):
        """A channel on a new connection."""
        return self.connect(**extra).channel()

    def raw(self, channel: int = 1, frame_max: int = 131072) -> RawAMQP:
        raw = RawAMQP.open(self.url, channel=channel, frame_max=frame_max)
        self._open.append(raw)
        return raw

    def socket(self) -> RawAMQP:
        """A RawAMQP before the protocol header."""
        raw = RawAMQP(self.host, self.port)
        self._open.append(raw)
        return raw

    def close_all(self) -> None:
        for item in reversed(self._open):
            try:
                if isinstance(item, RawAMQP):
                    item.close()
                elif item.is_open:
                    item.close()
            except Exception:
                pass
        self._open.clear()


def queue_exists(connection, queue: str) -> bool:
    """Whether `queue` exists, asked with a passive declare on a fresh channel of `connection`."""
    import pika.exceptions as errors

    channel = connection.channel()
    try:
        channel.queue_declare(queue, passive=True)
    except errors.ChannelClosedByBroker as exc:
        if exc.reply_code == 404:
            return False
        raise
    channel.close()
    return True


def wait_gone(connection, queue: str) -> None:
    """Wait until `queue` no longer exists (deletions that follow a close are asynchronous)."""
    wait_until(connection, lambda: not queue_exists(connection, queue), f"queue {queue!r} to be deleted")

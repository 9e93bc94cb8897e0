"""yizhan's AMQP socket layer: protocol header refusal, heartbeats in both directions over a
real socket, a silent peer being dropped, and a slow consumer not losing messages."""

from __future__ import annotations

import socket
import struct
import time
import uuid

import pika
from pamqp import commands as C
from pamqp import frame as pframe

HEADER = b"AMQP\x00\x00\x09\x01"


def _address(url: str) -> tuple[str, int]:
    hostport = url.split("@")[1].split("/")[0]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    head = _exactly(sock, 7)
    kind, _channel, size = struct.unpack(">BHI", head)
    payload = _exactly(sock, size + 1)
    return kind, head + payload


def _exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _handshake(sock: socket.socket, heartbeat: int) -> None:
    sock.sendall(HEADER)
    _read_frame(sock)
    sock.sendall(pframe.marshal(C.Connection.StartOk(
        client_properties={}, mechanism="PLAIN", response="\0guest\0guest"), 0))
    _read_frame(sock)
    sock.sendall(pframe.marshal(C.Connection.TuneOk(channel_max=10, frame_max=131072,
                                                    heartbeat=heartbeat), 0))
    sock.sendall(pframe.marshal(C.Connection.Open(virtual_host="/"), 0))
    _read_frame(sock)


def test_wrong_header_is_answered_and_closed(yizhan_amqp_url):
    with socket.create_connection(_address(yizhan_amqp_url), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert _exactly(sock, 8) == HEADER
        assert sock.recv(10) == b""


def test_silent_peer_gets_heartbeats_then_is_dropped(yizhan_amqp_url):
    with socket.create_connection(_address(yizhan_amqp_url), timeout=15) as sock:
        _handshake(sock, heartbeat=1)
        kinds = []
        try:
            while True:
                kinds.append(_read_frame(sock)[0])
        except (EOFError, ConnectionResetError):
            pass
        assert kinds and set(kinds) == {8}   # only heartbeats, then the close


def test_heartbeating_client_stays_connected(yizhan_amqp_url):
    params = pika.URLParameters(yizhan_amqp_url)
    params.heartbeat = 1
    with pika.BlockingConnection(params) as conn:
        channel = conn.channel()
        deadline = time.monotonic() + 3.5     # longer than two heartbeat intervals
        while time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.2)
        assert conn.is_open
        channel.queue_declare("", exclusive=True)


def test_consumer_that_reads_late_gets_everything(yizhan_amqp_url):
    """Deliveries to a client that stops reading pause with the socket's buffer; nothing is
    lost when it reads again."""
    queue = f"slow-{uuid.uuid4().hex[:8]}"
    body = b"z" * 60_000
    count = 300
    with pika.BlockingConnection(pika.URLParameters(yizhan_amqp_url)) as publisher:
        channel = publisher.channel()
        channel.queue_declare(queue, auto_delete=True)
        with socket.create_connection(_address(yizhan_amqp_url), timeout=15) as sock:
            _handshake(sock, heartbeat=0)
            sock.sendall(pframe.marshal(C.Channel.Open(), 1))
            _read_frame(sock)
            sock.sendall(pframe.marshal(C.Basic.Consume(queue=queue, no_ack=True), 1))
            _read_frame(sock)
            for _ in range(count):
                channel.basic_publish("", queue, body)
            publisher.process_data_events(time_limit=0.5)   # the consumer is not reading
            received = 0
            while received < count * len(body):
                kind, frame = _read_frame(sock)
                if kind == 3:
                    received += len(frame) - 8
            assert received == count * len(body)

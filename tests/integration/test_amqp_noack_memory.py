"""A no-ack consumer on a long paged queue does not pull the whole queue into the server's
memory: `python -m yizhan serve` gets 100k 1 KB messages in a durable queue (paged), then a raw
socket consumes them with no-ack, not reading at first; the server's RSS (from /proc) stays far
below the data size, and every message arrives once, in order (connection.OUTPUT_HIGH_WATER)."""

from __future__ import annotations

import socket
import struct
import threading
import time

from pamqp import commands as C

from yizhan.testing.amqp import RawAMQP, body_bytes, content_header_bytes
from yizhan.testing.process import ServerProcess

COUNT = 100_000
BODY = 1024
GROWTH_LIMIT = 40 * 1024 * 1024  # the data is 100 MB; unbounded output grew by more than that


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def body(i: int) -> bytes:
    return b"%08d" % i + b"x" * (BODY - 8)


def publish_all(raw: RawAMQP) -> None:
    publish = raw_method(1, C.Basic.Publish(exchange="", routing_key="long"))
    header = content_header_bytes(1, BODY, 0x1000, b"\x02")  # delivery-mode 2
    batch = []
    for i in range(COUNT):
        batch.append(publish + header + body_bytes(1, body(i)))
        if len(batch) == 1000:
            raw.send_bytes(b"".join(batch))
            batch = []
    raw.send_bytes(b"".join(batch))
    deadline = time.monotonic() + 300
    while raw.call(1, C.Queue.Declare(queue="long", durable=True, passive=True)).message_count < COUNT:
        assert time.monotonic() < deadline, "the publishes did not all arrive"
        time.sleep(0.2)


def raw_method(channel: int, method) -> bytes:
    from pamqp import frame

    return frame.marshal(method, channel)


class Peak(threading.Thread):
    """Samples the server's RSS every 20 ms until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.02)


def read_deliveries(sock: socket.socket, count: int) -> list:
    """Read frames until `count` bodies arrived; the first 8 bytes of each body."""
    heads, buffer, pos = [], b"", 0
    sock.settimeout(60)
    while len(heads) < count:
        chunk = sock.recv(1 << 20)
        assert chunk, f"the server closed the connection after {len(heads)} messages"
        buffer = buffer[pos:] + chunk
        pos = 0
        while len(buffer) - pos >= 7:
            kind, _channel, size = struct.unpack_from(">BHI", buffer, pos)
            if len(buffer) - pos < 8 + size:
                break
            if kind == 3:
                heads.append(buffer[pos + 7:pos + 15])
            pos += 8 + size
    return heads


def test_a_no_ack_consumer_on_a_long_paged_queue_keeps_server_memory_bounded(tmp_path):
    srv = ServerProcess(tmp_path / "data", tmp_path / "log.txt")
    try:
        url = f"amqp://guest:guest@127.0.0.1:{srv.port}/"
        with RawAMQP.open(url) as admin:
            admin.call(1, C.Queue.Declare(queue="long", durable=True))
            publish_all(admin)
        time.sleep(1.0)
        before = rss(srv.process.pid)
        peak = Peak(srv.process.pid)
        peak.start()
        with RawAMQP.open(url) as consumer:
            consumer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            consumer.send(1, C.Basic.Consume(queue="long", consumer_tag="c", no_ack=True))
            time.sleep(2.0)  # not reading: the server's writes back up
            stalled = rss(srv.process.pid)
            heads = read_deliveries(consumer.sock, COUNT)
        peak.done.set()
        peak.join()
        assert heads == [b"%08d" % i for i in range(COUNT)]
        assert stalled - before < GROWTH_LIMIT, (before, stalled)
        assert peak.peak - before < GROWTH_LIMIT, (before, peak.peak)
    finally:
        srv.stop()

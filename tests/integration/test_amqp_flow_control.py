"""Flow control and memory, measured on a real server process (issue 13): a raw-socket
publisher sends 1 KB transient messages as fast as the socket takes them while a slow pika
consumer acknowledges each one. Whatever the consumer's prefetch, the server's RSS stays under
its configured memory high watermark plus a margin and the consumer keeps receiving in every
window of the run (progress is asserted, never a rate)."""

from __future__ import annotations

import os
import threading
import time

import pika
import pytest
from pamqp import body as pbody
from pamqp import commands as C
from pamqp import frame as pframe
from pamqp import header as pheader

from yizhan.testing.amqp import RawAMQP
from yizhan.testing.process import ServerProcess

WATERMARK = 160 * 1024 * 1024
MARGIN = 64 * 1024 * 1024
SIZE = 1000
WINDOWS = 4          # consumer progress is checked in each window
WINDOW = 1.5         # seconds


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Publisher(threading.Thread):
    """Publishes to `queue` as fast as the socket takes it, until stopped."""

    def __init__(self, port: int, queue: str):
        super().__init__(daemon=True)
        self.raw = RawAMQP.open(f"amqp://guest:guest@127.0.0.1:{port}/")
        one = (pframe.marshal(C.Basic.Publish(exchange="", routing_key=queue), 1)
               + pframe.marshal(pheader.ContentHeader(0, SIZE, C.Basic.Properties()), 1)
               + pframe.marshal(pbody.ContentBody(b"x" * SIZE), 1))
        self.batch = one * 100
        self.sent = 0
        self.stopped = False

    def run(self) -> None:
        try:
            while not self.stopped:
                self.raw.sock.sendall(self.batch)
                self.sent += 100
        except OSError:
            pass

    def stop(self) -> None:
        self.stopped = True
        self.raw.close()
        self.join(10)


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "yizhan.conf"
    config.write_text(f"amqp-vm-memory-high-watermark-absolute {WATERMARK}\n")
    proc = ServerProcess(tmp_path / "data", tmp_path / "server.log", "--config", str(config))
    yield proc
    proc.stop()


@pytest.mark.parametrize("prefetch", [0, 20], ids=["unlimited-prefetch", "prefetch-20"])
def test_memory_stays_bounded_and_the_consumer_keeps_receiving(server, prefetch):
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", server.amqp_port))
    channel = connection.channel()
    queue = channel.queue_declare(queue=f"flow-{prefetch}").method.queue
    if prefetch:
        channel.basic_qos(prefetch_count=prefetch)
    received = [0]

    def on_message(ch, method, properties, body):
        assert len(body) == SIZE
        ch.basic_ack(method.delivery_tag)
        received[0] += 1
        time.sleep(0.0002)  # a slow consumer

    channel.basic_consume(queue, on_message)
    consumer = threading.Thread(target=channel.start_consuming, daemon=True)
    consumer.start()
    publisher = Publisher(server.amqp_port, queue)
    publisher.start()
    peak, progress = 0, []
    try:
        for _ in range(WINDOWS):
            before = received[0]
            end = time.monotonic() + WINDOW
            while time.monotonic() < end:
                peak = max(peak, rss(server.process.pid))
                time.sleep(0.05)
            progress.append(received[0] - before)
    finally:
        publisher.stop()
        connection.add_callback_threadsafe(channel.stop_consuming)
        consumer.join(30)
    depth = channel.queue_declare(queue=queue, passive=True).method.message_count
    connection.close()
    assert all(count > 0 for count in progress), progress
    assert peak < WATERMARK + MARGIN, (peak, depth, progress)
    if prefetch:      # the consumer sets its own pace: the queue grew, paged under pressure
        assert depth > 4096, (depth, publisher.sent, received[0])
        assert "memory pressure on" in open(server.log_path).read()
    else:             # held to the socket-paced consumer: the backlog stays within the budget
        assert depth <= 2 * 4096, (depth, publisher.sent, received[0])

"""Paging through real restarts: `python -m yizhan serve` with a tiny memory bound
(YIZHAN_AMQP_PAGE_MESSAGES=50) so a few thousand persistent messages page out; pika publishes
with confirms, consumes, is killed with SIGKILL, and every message comes back in order with its
properties and redelivered flag; acked space is reclaimed."""

from __future__ import annotations

import signal
import time

import pika

from yizhan.testing.process import ServerProcess

COUNT = 3000


PAGE_BOUND = {"YIZHAN_AMQP_PAGE_MESSAGES": "50"}


def start(data_dir, tmp_path) -> ServerProcess:
    return ServerProcess(data_dir, tmp_path / f"log-{time.monotonic_ns()}.txt", env=PAGE_BOUND)


def props(i: int) -> pika.BasicProperties:
    return pika.BasicProperties(delivery_mode=2, content_type="text/plain", message_id=f"m{i}",
                                headers={"i": i, "s": "x" * (i % 7)}, priority=i % 10)


def segments_size(data_dir) -> int:
    folder = data_dir / "amqp" / "messages"
    return sum(p.stat().st_size for p in folder.iterdir())


def drain(ch, queue: str, count: int, ack_after: int | None = None) -> list:
    """Consume `count` messages with a consumer (prefetch 100); ack the first `ack_after`."""
    ch.basic_qos(prefetch_count=100)
    got = []
    for method, properties, body in ch.consume(queue, inactivity_timeout=10):
        assert method is not None, f"stalled after {len(got)}"
        got.append((body, method.redelivered, properties))
        if ack_after is None or len(got) <= ack_after:
            ch.basic_ack(method.delivery_tag)
        if len(got) == count:
            break
    ch.cancel()
    return got


def test_a_paged_queue_survives_sigkill_in_order_with_properties_and_flags(tmp_path):
    data_dir = tmp_path / "data"
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("big", durable=True)
        for i in range(COUNT):
            if i == 1500:  # transient, between paged ones: not back after the restart
                ch.basic_publish("", "big", b"transient", pika.BasicProperties(delivery_mode=1))
            ch.basic_publish("", "big", b"p%d" % i, props(i))
        assert ch.queue_declare("big", passive=True).method.message_count == COUNT + 1
        got = drain(ch, "big", 200, ack_after=150)  # 50 delivered, not acked
        assert [b for b, _, _ in got] == [b"p%d" % i for i in range(200)]
        conn.process_data_events(0.2)
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        assert ch.queue_declare("big", passive=True).method.message_count == COUNT - 150
        got = drain(ch, "big", COUNT - 150 - 1000, ack_after=COUNT)  # leave 1000 for later
        assert [b for b, _, _ in got] == [b"p%d" % i for i in range(150, COUNT - 1000)]
        # delivered before the kill: the 50 unacked ones and whatever else the prefetch window
        # (100) had sent to pika's buffer come back redelivered, the rest not
        flags = [r for _, r, _ in got]
        again = flags.index(False)
        assert 50 <= again <= 100 and not any(flags[again:])
        for body, _, properties in got:
            i = int(body[1:])
            assert properties.message_id == f"m{i}" and properties.headers == {
                "i": i, "s": "x" * (i % 7)} and properties.priority == i % 10
            assert properties.delivery_mode == 2 and properties.content_type == "text/plain"
        conn.close()
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        assert ch.queue_declare("big", passive=True).method.message_count == 1000
        got = drain(ch, "big", 1000)
        assert [b for b, _, _ in got] == [b"p%d" % i for i in range(COUNT - 1000, COUNT)]
        flags = [r for _, r, _ in got]  # those the last window had sent before the kill
        assert flags.index(False) <= 100 and not any(flags[flags.index(False):])
        conn.close()
        assert segments_size(data_dir) < 100_000  # acked messages' space came back
    finally:
        srv.stop()


def test_purge_and_delete_of_paged_queues_survive_sigkill(tmp_path):
    data_dir = tmp_path / "data"
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.confirm_delivery()
        for name in ("purged", "deleted"):
            ch.queue_declare(name, durable=True)
            for i in range(1000):
                ch.basic_publish("", name, b"%d" % i, props(i))
        assert ch.queue_purge("purged").method.message_count == 1000
        assert ch.queue_delete("deleted").method.message_count == 1000
        ch.queue_declare("deleted", durable=True)
        ch.basic_publish("", "deleted", b"new", props(0))
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        assert ch.queue_declare("purged", passive=True).method.message_count == 0
        assert ch.queue_declare("deleted", passive=True).method.message_count == 1
        assert ch.basic_get("deleted", auto_ack=True)[2] == b"new"
    finally:
        srv.stop()

"""Queue features of durable queues through real restarts (`python -m yizhan serve`, SIGTERM
or SIGKILL): priority order, dead-lettered persistent copies, message TTL and dead-lettering
after a restart (TTL counted from the message's arrival, not the restart), length limits over
paged messages, and queue expiry (its timer restarts at boot, as RabbitMQ's does)."""

from __future__ import annotations

import signal
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from yizhan.testing.process import ServerProcess

KILLS = [signal.SIGTERM, signal.SIGKILL]
PERSISTENT = 2


def start(data_dir, tmp_path, pages: int | None = None) -> ServerProcess:
    env = {"YIZHAN_AMQP_PAGE_MESSAGES": str(pages)} if pages else None
    return ServerProcess(data_dir, tmp_path / f"log-{time.monotonic_ns()}.txt", env=env)


def drain(ch, queue):
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((body, props))


def publish(ch, queue, items):
    ch.confirm_delivery()
    for body, props in items:
        ch.basic_publish("", queue, body, props)


def exists(conn, queue) -> bool:
    ch = conn.channel()
    try:
        ch.queue_purge(queue)  # not a declare: that would restart its expiry
    except ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    ch.close()
    return True


@pytest.mark.parametrize("signum", KILLS, ids=["SIGTERM", "SIGKILL"])
def test_priority_queue_order_survives(tmp_path, signum):
    data = tmp_path / "data"
    srv = start(data, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("pq", durable=True, arguments={"x-max-priority": 9})
        publish(ch, "pq", [(f"m{i}".encode(), pika.BasicProperties(delivery_mode=PERSISTENT,
                                                                    priority=i % 3))
                           for i in range(9)])
        taken = ch.basic_get("pq")  # m2 (priority 2), unacked at the stop: back redelivered
        assert taken[2] == b"m2"
    finally:
        srv.stop(signum)
    srv = start(data, tmp_path)
    try:
        ch = srv.connect().channel()
        got = [body.decode() for body, _ in drain(ch, "pq")]
        assert got == ["m2", "m5", "m8", "m1", "m4", "m7", "m0", "m3", "m6"]
    finally:
        srv.stop()


@pytest.mark.parametrize("signum", KILLS, ids=["SIGTERM", "SIGKILL"])
def test_dead_lettered_persistent_copies_survive(tmp_path, signum):
    data = tmp_path / "data"
    srv = start(data, tmp_path, pages=4)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.queue_declare("dead", durable=True)
        ch.queue_declare("work", durable=True, arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"})
        publish(ch, "work", [(b"w%d" % i, pika.BasicProperties(delivery_mode=PERSISTENT))
                             for i in range(10)])
        for _ in range(6):
            method, _, _ = ch.basic_get("work")
            ch.basic_reject(method.delivery_tag, requeue=False)
        ch.queue_declare("dead", durable=True, passive=True)  # a round trip: all rejected
        conn.process_data_events(0.2)
    finally:
        srv.stop(signum)
    srv = start(data, tmp_path, pages=4)
    try:
        ch = srv.connect().channel()
        dead = drain(ch, "dead")
        assert [body for body, _ in dead] == [b"w%d" % i for i in range(6)]
        assert all(p.delivery_mode == PERSISTENT and p.headers["x-death"][0]["reason"] ==
                   "rejected" for _, p in dead)
        assert [body for body, _ in drain(ch, "work")] == [b"w%d" % i for i in range(6, 10)]
    finally:
        srv.stop()


def test_ttl_and_dead_lettering_after_a_restart(tmp_path):
    data = tmp_path / "data"
    srv = start(data, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("dead", durable=True)
        ch.queue_declare("ttl", durable=True, arguments={
            "x-message-ttl": 60000, "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "dead"})
        publish(ch, "ttl", [(b"short", pika.BasicProperties(delivery_mode=PERSISTENT,
                                                            expiration="300")),
                            (b"long", pika.BasicProperties(delivery_mode=PERSISTENT))])
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        deadline = time.monotonic() + 10
        while ch.queue_declare("dead", passive=True).method.message_count == 0:
            assert time.monotonic() < deadline, "the short-lived message was not dead-lettered"
            conn.process_data_events(0.05)
        (body, props), = drain(ch, "dead")
        assert body == b"short" and props.expiration is None
        assert props.headers["x-death"][0]["reason"] == "expired"
        assert props.headers["x-death"][0]["original-expiration"] == "300"
        assert [b for b, _ in drain(ch, "ttl")] == [b"long"]
    finally:
        srv.stop()


def test_length_limit_over_paged_messages_survives(tmp_path):
    data = tmp_path / "data"
    srv = start(data, tmp_path, pages=4)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("capped", durable=True, arguments={"x-max-length": 10})
        publish(ch, "capped", [(b"c%d" % i, pika.BasicProperties(delivery_mode=PERSISTENT))
                               for i in range(20)])
        assert ch.queue_declare("capped", durable=True, passive=True).method.message_count == 10
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data, tmp_path, pages=4)
    try:
        ch = srv.connect().channel()
        publish(ch, "capped", [(b"new", pika.BasicProperties(delivery_mode=PERSISTENT))])
        assert [b for b, _ in drain(ch, "capped")] == [b"c%d" % i for i in range(11, 20)] + [b"new"]
    finally:
        srv.stop()


def test_queue_expiry_restarts_at_boot(tmp_path):
    data = tmp_path / "data"
    srv = start(data, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("brief", durable=True, arguments={"x-expires": 1500})
        ch.basic_publish("", "brief", b"m", pika.BasicProperties(delivery_mode=PERSISTENT))
    finally:
        srv.stop(signal.SIGKILL)
    time.sleep(1.6)  # longer than the expiry while the server is down
    srv = start(data, tmp_path)
    try:
        conn = srv.connect()
        assert exists(conn, "brief")  # the timer starts again at boot
        deadline = time.monotonic() + 10
        while exists(conn, "brief"):
            assert time.monotonic() < deadline, "the queue did not expire"
            time.sleep(0.1)
    finally:
        srv.stop()
    srv = start(data, tmp_path)
    try:
        assert not exists(srv.connect(), "brief")
    finally:
        srv.stop()


def test_a_stored_message_expires_at_its_original_time_after_a_restart(tmp_path):
    """RabbitMQ keeps a persistent message's expiry across restarts: TTL counts from its
    arrival, not from the restart. The message must be gone before restart + TTL (when it would
    expire if its TTL counted from the restart)."""
    data = tmp_path / "data"
    ttl = 5.0
    srv = start(data, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("dead", durable=True)
        ch.queue_declare("ttl", durable=True, arguments={
            "x-message-ttl": int(ttl * 1000), "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "dead"})
        publish(ch, "ttl", [(b"m", pika.BasicProperties(delivery_mode=PERSISTENT))])
        time.sleep(3.0)  # most of its TTL passes before the restart
        restarted = time.monotonic()
    finally:
        srv.stop(signal.SIGTERM)
    srv = start(data, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        deadline = restarted + ttl - 0.5  # 2.5 s after its original expiry
        while ch.queue_declare("dead", passive=True).method.message_count == 0:
            assert time.monotonic() < deadline, "the message outlived its original expiry"
            conn.process_data_events(0.05)
        assert ch.queue_declare("ttl", passive=True).method.message_count == 0
        (body, props), = drain(ch, "dead")
        assert body == b"m" and props.headers["x-death"][0]["reason"] == "expired"
    finally:
        srv.stop()

"""AMQP durability through real restarts: `python -m yizhan serve` subprocesses on one data dir,
stopped with SIGTERM or SIGKILL, driven with pika. Durable definitions and persistent messages
of durable queues come back (in order, with their properties, delivered ones redelivered);
everything else does not. Damaged store files are recovered or named in a clear error."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from yizhan.testing.process import ServerProcess

KILLS = [signal.SIGTERM, signal.SIGKILL]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def start(data_dir, tmp_path) -> ServerProcess:
    return ServerProcess(data_dir, tmp_path / f"log-{time.monotonic_ns()}.txt")


def exists(conn, kind: str, name: str) -> bool:
    ch = conn.channel()
    try:
        if kind == "queue":
            ch.queue_declare(name, passive=True)
        else:
            ch.exchange_declare(name, passive=True)
    except ChannelClosedByBroker as exc:
        assert exc.reply_code == 404
        return False
    ch.close()
    return True


@pytest.mark.parametrize("signum", KILLS, ids=["SIGTERM", "SIGKILL"])
def test_durable_definitions_survive_a_restart(data_dir, tmp_path, signum):
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.exchange_declare("dx", "topic", durable=True)
        ch.exchange_declare("dx2", "fanout", durable=True, arguments={"alternate-exchange": "ae"})
        ch.exchange_declare("tx", "direct", durable=False)
        ch.queue_declare("dq", durable=True, arguments={"x-max-length": 10})
        ch.queue_declare("tq", durable=False)
        ch.queue_declare("xq", durable=True, exclusive=True)
        ch.queue_bind("dq", "dx", "a.*")
        ch.exchange_bind("dx", "dx2", "")  # exchange to exchange: dx2 -> dx
        ch.queue_bind("tq", "dx", "#")     # not durable: its queue is not
        ch.queue_declare("gone", durable=True)
        ch.queue_delete("gone")
        conn.close()
    finally:
        srv.stop(signum)
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        assert exists(conn, "exchange", "dx") and exists(conn, "exchange", "dx2")
        assert exists(conn, "queue", "dq")
        for kind, name in [("exchange", "tx"), ("queue", "tq"), ("queue", "xq"),
                           ("queue", "gone")]:
            assert not exists(conn, kind, name), name
        ch = conn.channel()
        # the same arguments: an equivalent redeclare is fine, a different one is refused
        ch.queue_declare("dq", durable=True, arguments={"x-max-length": 10})
        ch.exchange_declare("dx2", "fanout", durable=True, arguments={"alternate-exchange": "ae"})
        ch.basic_publish("dx2", "a.b", b"through both bindings")
        ch.basic_publish("dx", "b.c", b"matches nothing")
        method, _, body = ch.basic_get("dq", auto_ack=True)
        assert body == b"through both bindings"
        assert ch.basic_get("dq")[0] is None
        conn.close()
    finally:
        srv.stop()


PROPS = pika.BasicProperties(
    content_type="application/json", content_encoding="utf-8", delivery_mode=2, priority=3,
    correlation_id="c-1", reply_to="replies", expiration="600000", message_id="m-1",
    timestamp=1700000000, type="t", app_id="app",
    headers={"s": "text", "i": 7, "b": True, "l": [1, "x"], "t": {"n": None}})


@pytest.mark.parametrize("signum", KILLS, ids=["SIGTERM", "SIGKILL"])
def test_persistent_messages_survive_in_order_and_delivered_ones_come_back_redelivered(
        data_dir, tmp_path, signum):
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("dq", durable=True)
        ch.queue_declare("tq", durable=False)
        for i in range(5):
            ch.basic_publish("", "dq", b"p%d" % i, PROPS)
        ch.basic_publish("", "dq", b"transient", pika.BasicProperties(delivery_mode=1))
        ch.basic_publish("", "tq", b"persistent in a transient queue", PROPS)
        taken = ch.basic_get("dq")          # delivered, never acked
        assert taken[2] == b"p0"
        acked = ch.basic_get("dq")          # acked: gone for good
        ch.basic_ack(acked[0].delivery_tag)
        assert acked[2] == b"p1"
        ch.basic_get("tq", auto_ack=False)
        conn.process_data_events(0.2)
        if signum == signal.SIGTERM:
            conn.close()
    finally:
        srv.stop(signum)
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        got = []
        while True:
            method, props, body = ch.basic_get("dq", auto_ack=True)
            if method is None:
                break
            got.append((body, method.redelivered, props))
        assert [(b, r) for b, r, _ in got] == [(b"p0", True), (b"p2", False), (b"p3", False),
                                               (b"p4", False)]
        for _, _, props in got:
            assert props.__dict__ == PROPS.__dict__
        assert not exists(conn, "queue", "tq")
        conn.close()
    finally:
        srv.stop()
    srv = start(data_dir, tmp_path)  # consumed with auto-ack: not back a second time
    try:
        conn = srv.connect()
        assert conn.channel().basic_get("dq")[0] is None
        conn.close()
    finally:
        srv.stop()


def test_a_committed_transaction_is_on_disk_before_commit_ok(data_dir, tmp_path):
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("txq", durable=True)
        ch.tx_select()
        for i in range(3):
            ch.basic_publish("", "txq", b"t%d" % i, PROPS)
        ch.tx_commit()
    finally:
        srv.stop(signal.SIGKILL)  # at once after commit-ok
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        assert [ch.basic_get("txq", auto_ack=True)[2] for _ in range(4)] == [b"t0", b"t1",
                                                                             b"t2", None]
    finally:
        srv.stop()


def test_purged_and_deleted_queues_do_not_bring_messages_back(data_dir, tmp_path):
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("purged", durable=True)
        ch.queue_declare("again", durable=True)
        for i in range(3):
            ch.basic_publish("", "purged", b"x", PROPS)
            ch.basic_publish("", "again", b"old", PROPS)
        ch.queue_purge("purged")
        ch.queue_delete("again")
        ch.queue_declare("again", durable=True)
        ch.basic_publish("", "again", b"new", PROPS)
        conn.close()
    finally:
        srv.stop(signal.SIGKILL)
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        assert ch.queue_declare("purged", passive=True).method.message_count == 0
        assert ch.basic_get("again", auto_ack=True)[2] == b"new"
        assert ch.basic_get("again")[0] is None
    finally:
        srv.stop()


def test_a_truncated_segment_tail_is_cut_off_and_the_rest_recovered(data_dir, tmp_path):
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.confirm_delivery()
        ch.queue_declare("dq", durable=True)
        for i in range(3):
            ch.basic_publish("", "dq", b"m%d" % i, PROPS)
    finally:
        srv.stop(signal.SIGKILL)
    segments = sorted((data_dir / "amqp" / "messages").iterdir())
    with open(segments[-1], "ab") as f:
        f.write(b"\x00\x00\x01\x00garbage-a-torn-write")
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        assert [ch.basic_get("dq", auto_ack=True)[2] for _ in range(4)] == [b"m0", b"m1", b"m2",
                                                                            None]
    finally:
        srv.stop()


def test_a_corrupt_definitions_log_is_a_clear_error_naming_the_file(data_dir, tmp_path):
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("dq", durable=True)
        ch.queue_declare("dq2", durable=True)
    finally:
        srv.stop()
    log = data_dir / "amqp" / "definitions.log"
    lines = log.read_bytes().split(b"\n")
    lines[0] = b"{not json"
    log.write_bytes(b"\n".join(lines))
    result = subprocess.run(
        [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0",
         "--http-port", "0", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert str(log) in result.stderr and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_sigkill_during_confirmed_publishing_loses_nothing(data_dir, tmp_path):
    """Several rounds: a publisher with confirms runs, the server is SIGKILLed at a random
    moment, restarted on the same data dir; every confirmed message must be there."""
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    confirmed: list[bytes] = []
    rounds = 10
    for round_ in range(rounds):
        srv = start(data_dir, tmp_path)
        stop = threading.Event()

        def publish(port=srv.port, round_=round_):
            try:
                conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
                ch = conn.channel()
                ch.queue_declare("crash", durable=True)
                ch.confirm_delivery()
                i = 0
                while not stop.is_set():
                    body = b"%d-%d" % (round_, i)
                    ch.basic_publish("", "crash", body, pika.BasicProperties(delivery_mode=2))
                    confirmed.append(body)  # basic_publish returned: the broker confirmed it
                    i += 1
            except Exception:
                pass  # the server was killed under us

        worker = threading.Thread(target=publish)
        worker.start()
        time.sleep(rng.uniform(0.3, 1.5))
        srv.stop(signal.SIGKILL)
        stop.set()
        worker.join(30)
    srv = start(data_dir, tmp_path)
    try:
        conn = srv.connect()
        ch = conn.channel()
        found = set()
        while True:
            method, _, body = ch.basic_get("crash", auto_ack=True)
            if method is None:
                break
            found.add(body)
        lost = [b for b in confirmed if b not in found]
        print(f"crash test: {rounds} kills, {len(confirmed)} confirmed, lost = {len(lost)}")
        assert confirmed and not lost
        conn.close()
    finally:
        srv.stop()


def test_definitions_export_and_import_in_rabbitmq_format(data_dir, tmp_path):
    srv = start(data_dir, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.exchange_declare("ex", "topic", durable=True, arguments={"alternate-exchange": "ae"})
        ch.exchange_declare("transient", "direct", durable=False)
        ch.queue_declare("qq", durable=True, arguments={"x-max-length": 5, "x-queue-mode": "lazy"})
        ch.queue_bind("qq", "ex", "a.#", arguments={"k": "v"})
    finally:
        srv.stop()
    out = tmp_path / "definitions.json"
    cli = [sys.executable, "-m", "yizhan", "definitions"]
    subprocess.run([*cli, "export", str(out), "--data-dir", str(data_dir)], check=True,
                   timeout=60)
    exported = json.loads(out.read_text())
    assert exported["rabbit_version"] == "3.10.8" and {"name": "/"} in exported["vhosts"]
    assert exported["queues"] == [{"name": "qq", "vhost": "/", "durable": True,
                                   "auto_delete": False,
                                   "arguments": {"x-max-length": 5, "x-queue-mode": "lazy"}}]
    assert exported["exchanges"] == [{"name": "ex", "vhost": "/", "type": "topic",
                                      "durable": True, "auto_delete": False, "internal": False,
                                      "arguments": {"alternate-exchange": "ae"}}]
    assert exported["bindings"] == [{"source": "ex", "vhost": "/", "destination": "qq",
                                     "destination_type": "queue", "routing_key": "a.#",
                                     "arguments": {"k": "v"}}]
    fresh = tmp_path / "fresh"
    subprocess.run([*cli, "import", str(out), "--data-dir", str(fresh)], check=True, timeout=60)
    srv = start(fresh, tmp_path)
    try:
        ch = srv.connect().channel()
        ch.queue_declare("qq", durable=True, arguments={"x-max-length": 5, "x-queue-mode": "lazy"})
        ch.basic_publish("ex", "a.b", b"routed")
        assert ch.basic_get("qq", auto_ack=True)[2] == b"routed"
    finally:
        srv.stop()

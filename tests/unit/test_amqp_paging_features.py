"""Paging of queues with features (issue 13): priority queues page per band, queues with TTL
and length limits keep only ids, sizes and expiries of paged messages, and a stored message's
TTL counts from its arrival across a restart. The bound is tiny (5 in memory, runs of 4) so a
few dozen messages page; time is a ManualClock."""

from __future__ import annotations

from pamqp import commands as C

from test_amqp_helpers import messages, name
from test_amqp_paging import LIMIT, boot as paging_boot, declared_count, get_all

from yizhan.amqp import alarms
from yizhan.amqp.message import PagedRun
from yizhan.clock import ManualClock

START = 1_700_000_000_000


def boot(data_dir, monkeypatch, clock=None):
    return paging_boot(data_dir, monkeypatch, clock=clock or ManualClock(START))


def publish(wire, queue: str, body: bytes, mode: int = 1, **props) -> None:
    wire.publish(1, body, routing_key=queue,
                 properties=C.Basic.Properties(delivery_mode=mode, **props))


def in_memory(queue) -> int:
    return sum(1 for _ in queue.ready)  # a PriorityReady iterates its entries in memory


def test_a_priority_queue_pages_each_band_and_serves_highest_first_fifo_within(
        tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    alarms.set_memory_pressure(broker, True)
    wire.send(C.Queue.Declare(queue="pq", arguments={"x-max-priority": 5}), 1)
    for i in range(60):
        publish(wire, "pq", b"m%d" % i, priority=i % 4 * 3)  # 0, 3, 6 (capped at 5), 9 (5)
    queue = broker.vhosts["/"].queues["pq"]
    assert in_memory(queue) == LIMIT and len(queue.ready) == 60
    runs = list(queue.ready.runs())
    assert all(r.transient for r in runs) and sum(len(r) for r in runs) == 55
    assert store.messages.live_count() == 55
    assert declared_count_plain(wire, "pq") == 60
    got = [b for b, _, _, _ in get_all(wire, "pq")]
    rank = {0: 0, 1: 3, 2: 5, 3: 5}
    expected = sorted(range(60), key=lambda i: (-rank[i % 4], i))
    assert got == [b"m%d" % i for i in expected]
    assert store.messages.live_count() == 0
    store.close()


def declared_count_plain(wire, queue: str) -> int:
    frames = wire.send(C.Queue.Declare(queue=queue, passive=True), 1)
    return frames[0][1].message_count


def test_a_requeued_message_goes_back_before_its_bands_paged_tail(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="pq", durable=True, arguments={"x-max-priority": 2}), 1)
    for i in range(20):
        publish(wire, "pq", b"m%d" % i, mode=2 if i % 2 else 1, priority=i % 2)
    taken = [messages(wire.send(C.Basic.Get(queue="pq", no_ack=False), 1))[0]
             for _ in range(3)]
    assert [body for _, _, body in taken] == [b"m1", b"m3", b"m5"]
    for method, _, _ in reversed(taken):
        wire.send(C.Basic.Reject(delivery_tag=method.delivery_tag, requeue=True), 1)
    got = [(b, r) for b, r, _, _ in get_all(wire, "pq")]
    assert got == ([(b"m%d" % i, i in (1, 3, 5)) for i in range(1, 20, 2)]
                   + [(b"m%d" % i, False) for i in range(0, 20, 2)])
    assert store.messages.live_count() == 0
    store.close()


def test_a_priority_queue_comes_back_after_a_restart_paged_and_in_order(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="pq", durable=True, arguments={"x-max-priority": 9}), 1)
    for i in range(40):
        publish(wire, "pq", b"m%d" % i, mode=2, priority=i % 3)
    wire.send(C.Basic.Get(queue="pq", no_ack=False), 1)  # m2, delivered and never acked
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    queue = broker.vhosts["/"].queues["pq"]
    assert in_memory(queue) <= LIMIT and len(queue.ready) == 40
    got = [(b, r) for b, r, _, _ in get_all(wire, "pq")]
    expected = sorted(range(40), key=lambda i: (-(i % 3), i))
    assert got == [(b"m%d" % i, i == 2) for i in expected]
    store.close()


def test_paged_messages_of_a_ttl_queue_keep_their_expiry_and_expire_from_the_head(
        tmp_path, monkeypatch):
    clock = ManualClock(START)
    store, broker, wire = boot(tmp_path, monkeypatch, clock)
    wire.send(C.Queue.Declare(queue="tq", durable=True,
                              arguments={"x-message-ttl": 10_000}), 1)
    for i in range(30):  # transient, with and without their own shorter expiration
        publish(wire, "tq", b"m%d" % i, expiration="1000" if i < 20 else None)
    queue = broker.vhosts["/"].queues["tq"]
    assert len(queue.ready) == LIMIT and queue.paged_count == 25
    runs = list(queue.paged)
    assert all(type(r) is PagedRun and r.transient and r.expires is not None for r in runs)
    clock.now_us += 999 * 1000
    assert declared_count(wire, "tq") == 30
    clock.now_us += 1000
    assert declared_count(wire, "tq") == 10  # the 20 at the head expired, paged ones too
    clock.now_us += 9000 * 1000
    assert declared_count(wire, "tq") == 0
    assert store.messages.live_count() == 0
    store.close()


def test_max_length_bytes_counts_paged_messages(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    alarms.set_memory_pressure(broker, True)
    wire.send(C.Queue.Declare(queue="lq", arguments={"x-max-length-bytes": 200}), 1)
    for i in range(30):
        publish(wire, "lq", b"%010d" % i)  # 10 bytes each
    queue = broker.vhosts["/"].queues["lq"]
    assert len(queue.ready) <= LIMIT and queue.paged_count >= 15 and queue.ready_bytes == 200
    assert declared_count_plain(wire, "lq") == 20
    got = [b for b, _, _, _ in get_all(wire, "lq")]
    assert got == [b"%010d" % i for i in range(10, 30)]
    store.close()


def test_a_stored_message_expires_at_its_original_time_after_a_restart(tmp_path, monkeypatch):
    clock = ManualClock(START)
    store, broker, wire = boot(tmp_path, monkeypatch, clock)
    wire.send(C.Queue.Declare(queue="tq", durable=True,
                              arguments={"x-message-ttl": 10_000}), 1)
    publish(wire, "tq", b"kept", mode=2)
    store.close()
    clock.now_us += 6000 * 1000
    store, broker, wire = boot(tmp_path, monkeypatch, clock)
    assert declared_count(wire, "tq") == 1
    clock.now_us += 4000 * 1000  # 10 s after it arrived: gone (not 10 s after the restart)
    assert declared_count(wire, "tq") == 0
    store.close()


def test_records_without_an_arrival_time_still_load_and_count_ttl_from_the_restart(
        tmp_path, monkeypatch):
    clock = ManualClock(START)
    store, broker, wire = boot(tmp_path, monkeypatch, clock)
    wire.send(C.Queue.Declare(queue="tq", durable=True,
                              arguments={"x-message-ttl": 10_000}), 1)
    store.messages.publish(["/\x00tq"], "", "tq", b"\x10\x00\x02", b"old")  # no arrival field
    store.close()
    clock.now_us += 60_000 * 1000
    store, broker, wire = boot(tmp_path, monkeypatch, clock)
    assert declared_count(wire, "tq") == 1
    clock.now_us += 9999 * 1000
    frames = wire.send(C.Basic.Get(queue="tq", no_ack=True), 1)
    assert name(frames[0][1]) == "Basic.GetOk" and messages(frames)[0][2] == b"old"
    store.close()


def test_purge_and_delete_of_a_paged_priority_queue_release_its_stored_messages(
        tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    for q in ("purged", "deleted"):
        wire.send(C.Queue.Declare(queue=q, durable=True, arguments={"x-max-priority": 3}), 1)
        for i in range(30):
            publish(wire, q, b"m%d" % i, mode=2 if i % 3 else 1, priority=i % 4)
    frames = wire.send(C.Queue.Purge(queue="purged"), 1)
    assert frames[0][1].message_count == 30
    frames = wire.send(C.Queue.Delete(queue="deleted"), 1)
    assert frames[0][1].message_count == 30
    assert store.messages.live_count() == 0
    assert declared_count(wire, "purged") == 0
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert declared_count(wire, "purged") == 0 and store.messages.live_count() == 0
    store.close()

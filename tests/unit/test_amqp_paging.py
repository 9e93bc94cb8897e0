"""Paging in-process: a durable queue beyond its memory bound keeps stored messages as ids only
and reads them back in batches; order, counts, redelivered flags, purge, delete and restarts
hold as for a queue in memory. The bound is made tiny so a few dozen messages page."""

from __future__ import annotations

from pamqp import commands as C

from test_amqp_helpers import Wire, messages, name

from yizhan.amqp import alarms
from yizhan.amqp import queue as queue_module
from yizhan.amqp.broker import Broker
from yizhan.amqp.message import Message, PagedRun
from yizhan.amqp.store import DiskStore
from yizhan.amqp.timers import Timers

LIMIT = 5


def boot(data_dir, monkeypatch, limit=LIMIT, batch=4, clock=None):
    """A broker on `data_dir` (a restart when it holds a store), paging past `limit` messages,
    with a wire whose channel 1 is open; `clock` is the broker's (a real one by default)."""
    monkeypatch.setenv("YIZHAN_AMQP_PAGE_MESSAGES", str(limit))
    monkeypatch.setattr(queue_module, "PAGE_BATCH", batch)
    store = DiskStore(str(data_dir))
    broker = Broker(store=store, timers=Timers(clock))
    broker.recover()
    wire = Wire(broker)
    wire.open(1)
    return store, broker, wire


def props(i: int) -> C.Basic.Properties:
    return C.Basic.Properties(delivery_mode=2, content_type="text/plain", message_id=f"m{i}",
                              headers={"i": i})


def publish_all(wire, count: int, queue: str = "dq", transient_at=()) -> None:
    for i in range(count):
        if i in transient_at:
            wire.publish(1, b"t%d" % i, routing_key=queue, properties=C.Basic.Properties(
                delivery_mode=1, message_id=f"m{i}"))
        else:
            wire.publish(1, b"p%d" % i, routing_key=queue, properties=props(i))


def get_all(wire, queue: str = "dq", no_ack: bool = True) -> list:
    out = []
    while True:
        frames = wire.send(C.Basic.Get(queue=queue, no_ack=no_ack), 1)
        if name(frames[0][1]) == "Basic.GetEmpty":
            return out
        method, properties, body = messages(frames)[0]
        out.append((body, method.redelivered, method.message_count, properties))


def declared_count(wire, queue: str = "dq") -> int:
    frames = wire.send(C.Queue.Declare(queue=queue, durable=True, passive=True), 1)
    return frames[0][1].message_count


def test_a_queue_beyond_its_bound_keeps_ids_only_and_delivers_everything_in_order(
        tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    publish_all(wire, 30, transient_at={12})
    queue = broker.vhosts["/"].queues["dq"]
    assert len(queue.ready) == LIMIT and queue.paged_count == 25
    runs = [item for item in queue.paged if type(item) is PagedRun]
    assert sum(len(r) for r in runs if not r.transient) == 24
    assert [len(r) for r in runs if r.transient] == [1]  # the transient one: a T record, in order
    assert not any(isinstance(getattr(item, "ids", None), Message) for item in queue.paged)
    assert declared_count(wire) == 30
    got = get_all(wire)
    assert [b for b, _, _, _ in got] == [(b"t%d" if i == 12 else b"p%d") % i for i in range(30)]
    assert [c for _, _, c, _ in got] == list(range(29, -1, -1))  # get-ok counts paged ones
    for i, (_, redelivered, _, properties) in enumerate(got):
        assert not redelivered and properties.message_id == f"m{i}"
        if i != 12:
            assert properties.headers == {"i": i} and properties.delivery_mode == 2
    assert store.messages.live_count() == 0
    store.close()


def test_consumers_drain_a_paged_queue_in_order_and_requeued_messages_go_first(
        tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    publish_all(wire, 40)
    taken = messages(wire.send(C.Basic.Get(queue="dq", no_ack=False), 1))[0]
    assert taken[2] == b"p0"
    wire.send(C.Basic.Qos(prefetch_count=3), 1)
    frames = wire.send(C.Basic.Consume(queue="dq", consumer_tag="c"), 1)
    seen = [(body, m.redelivered) for m, _, body in messages(frames)]
    assert seen == [(b"p1", False), (b"p2", False), (b"p3", False)]
    # given back while the consumer's window is full: it goes before everything still queued
    assert messages(wire.send(C.Basic.Reject(delivery_tag=taken[0].delivery_tag,
                                             requeue=True), 1)) == []
    last = 4
    while True:
        delivered = messages(wire.send(C.Basic.Ack(delivery_tag=last, multiple=True), 1))
        if not delivered:
            break
        seen += [(body, m.redelivered) for m, _, body in delivered]
        last = delivered[-1][0].delivery_tag
    assert seen[3:] == [(b"p0", True)] + [(b"p%d" % i, False) for i in range(4, 40)]
    assert declared_count(wire) == 0
    assert store.messages.live_count() == 0
    store.close()


def test_paged_messages_come_back_after_a_restart_with_redelivered_flags(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    publish_all(wire, 25, transient_at={20})
    for _ in range(2):  # delivered, never acked
        wire.send(C.Basic.Get(queue="dq", no_ack=False), 1)
    wire.send(C.Basic.Get(queue="dq", no_ack=True), 1)  # gone for good
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    queue = broker.vhosts["/"].queues["dq"]
    assert queue.paged_count > 0 and len(queue.ready) <= 4
    assert declared_count(wire) == 23
    got = get_all(wire)
    assert [(b, r) for b, r, _, _ in got] == [(b"p0", True), (b"p1", True)] + [
        (b"p%d" % i, False) for i in range(3, 25) if i != 20]
    assert all(p.message_id == "m%s" % b[1:].decode() and p.headers["i"] == int(b[1:])
               for b, _, _, p in got)
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert declared_count(wire) == 0
    store.close()


def test_purge_and_delete_of_paged_queues_reach_the_store(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    for q in ("purged", "deleted", "kept"):
        wire.send(C.Queue.Declare(queue=q, durable=True), 1)
        publish_all(wire, 20, queue=q)
    wire.send(C.Basic.Get(queue="deleted", no_ack=False), 1)  # held by the channel
    assert wire.send(C.Queue.Purge(queue="purged"), 1)[0][1].message_count == 20
    assert wire.send(C.Queue.Delete(queue="deleted"), 1)[0][1].message_count == 19
    wire.send(C.Basic.Ack(delivery_tag=1), 1)
    assert store.messages.live_count() == 20
    wire.send(C.Queue.Declare(queue="deleted", durable=True), 1)
    publish_all(wire, 1, queue="deleted")
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert declared_count(wire, "purged") == 0
    assert [b for b, _, _, _ in get_all(wire, "deleted")] == [b"p0"]
    assert [b for b, _, _, _ in get_all(wire, "kept")] == [b"p%d" % i for i in range(20)]
    store.close()


def test_a_message_in_two_paged_queues_stays_for_the_other(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Exchange.Declare(exchange="fan", exchange_type="fanout", durable=True), 1)
    for q in ("a", "b"):
        wire.send(C.Queue.Declare(queue=q, durable=True), 1)
        wire.send(C.Queue.Bind(queue=q, exchange="fan"), 1)
    for i in range(15):
        wire.publish(1, b"f%d" % i, exchange="fan", routing_key="", properties=props(i))
    assert [b for b, _, _, _ in get_all(wire, "a")] == [b"f%d" % i for i in range(15)]
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert declared_count(wire, "a") == 0
    assert [b for b, _, _, _ in get_all(wire, "b")] == [b"f%d" % i for i in range(15)]
    assert store.messages.live_count() == 0
    store.close()


def test_messages_of_a_queue_missing_at_boot_leave_the_store(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    store.messages.publish(["/\x00ghost"], "", "ghost", b"\x00\x00", b"orphan")
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    publish_all(wire, 3)
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert "ghost" not in broker.vhosts["/"].queues
    assert store.messages.live_count() == 3
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    assert store.messages.live_count() == 3
    assert [b for b, _, _, _ in get_all(wire)] == [b"p0", b"p1", b"p2"]
    store.close()


# -- transient messages page too, under memory pressure (issue 13) ---------------------------
def transient_all(wire, count: int, queue: str) -> None:
    for i in range(count):
        wire.publish(1, b"t%d" % i, routing_key=queue,
                     properties=C.Basic.Properties(message_id=f"m{i}", headers={"i": i}))


def test_a_non_durable_queue_pages_transient_messages_and_reads_them_back_in_order(
        tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    alarms.set_memory_pressure(broker, True)
    wire.send(C.Queue.Declare(queue="tq"), 1)
    transient_all(wire, 30, "tq")
    queue = broker.vhosts["/"].queues["tq"]
    assert len(queue.ready) == LIMIT and queue.paged_count == 25
    assert all(type(r) is PagedRun and r.transient for r in queue.paged)
    assert store.messages.live_count() == 25          # on disk, not in memory
    got = get_all(wire, "tq")
    assert [b for b, _, _, _ in got] == [b"t%d" % i for i in range(30)]
    assert [p.headers for _, _, _, p in got] == [{"i": i} for i in range(30)]
    assert [c for _, _, c, _ in got] == list(range(29, -1, -1))
    assert store.messages.live_count() == 0
    store.close()


def test_purge_and_delete_release_transient_pages(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    alarms.set_memory_pressure(broker, True)
    for q in ("a", "b"):
        wire.send(C.Queue.Declare(queue=q), 1)
        transient_all(wire, 20, q)
    assert store.messages.live_count() == 30
    assert wire.send(C.Queue.Purge(queue="a"), 1)[0][1].message_count == 20
    assert store.messages.live_count() == 15
    assert wire.send(C.Queue.Delete(queue="b"), 1)[0][1].message_count == 20
    assert store.messages.live_count() == 0
    store.close()


def test_transient_paged_messages_do_not_survive_a_restart(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    publish_all(wire, 30, transient_at=set(range(10, 30, 2)))
    assert broker.vhosts["/"].queues["dq"].paged_count == 25
    store.close()
    store, broker, wire = boot(tmp_path, monkeypatch)
    got = get_all(wire)
    assert [b for b, _, _, _ in got] == [b"p%d" % i for i in range(30) if i < 10 or i % 2]
    assert store.messages.live_count() == 0
    store.close()


def test_non_durable_queues_page_only_under_memory_pressure(tmp_path, monkeypatch):
    store, broker, wire = boot(tmp_path, monkeypatch)
    wire.send(C.Queue.Declare(queue="tq"), 1)
    transient_all(wire, 10, "tq")
    queue = broker.vhosts["/"].queues["tq"]
    assert len(queue.ready) == 10 and queue.paged_count == 0
    alarms.set_memory_pressure(broker, True)     # an existing queue pages from now on
    transient_all(wire, 10, "tq")
    assert len(queue.ready) == 10 and queue.paged_count == 10
    alarms.set_memory_pressure(broker, False)    # later ones queue behind the paged ones
    transient_all(wire, 2, "tq")
    assert queue.paged_count == 12
    got = get_all(wire, "tq")
    assert [b for b, _, _, _ in got] == [b"t%d" % i for i in range(10)] * 2 + [b"t0", b"t1"]
    assert store.messages.live_count() == 0
    store.close()


def test_the_monitor_turns_memory_pressure_on_at_the_paging_ratio(tmp_path):
    broker = Broker(store=DiskStore(str(tmp_path)))
    monitor = alarms.ResourceMonitor(broker, str(tmp_path), watermark_absolute=1 << 50)
    rss = alarms.process_rss()
    monitor.memory_limit = int(rss * 1.5)      # RSS above half of it: pressure, no alarm
    monitor.check_memory()
    assert broker.store.memory_pressure and broker.alarms == set()
    monitor.memory_limit = rss * 4
    monitor.check_memory()
    assert not broker.store.memory_pressure
    broker.store.close()

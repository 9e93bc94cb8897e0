"""The AMQP store in-process: the segment message store (recovery, reclaiming, damaged files),
the definitions log (torn tail, compaction) and the per-loop-turn fsync batching."""

from __future__ import annotations

import os

import pytest

from yizhan.amqp import codec
from yizhan.amqp.message import Message
from yizhan.amqp.store import DiskStore, StoreError
from yizhan.amqp.store.definitions import DefinitionsLog
from yizhan.amqp.store.messages import MessageStore

PERSISTENT = codec.encode_properties(codec.Properties(delivery_mode=2, content_type=b"text/x"))


def segments(directory) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".seg"))


def test_live_messages_come_back_in_order_with_their_fields(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    ids = [store.publish(["/\x00q", "/\x00r"], "x", f"k{i}", b"\x00\x00", b"body%d" % i)
           for i in range(4)]
    store.remove(ids[1], "/\x00q")
    store.remove(ids[1], "/\x00r")
    store.remove(ids[2], "/\x00q")
    store.delivered(ids[0], "/\x00q")
    store.close()
    live = MessageStore(str(tmp_path)).load()
    assert [(r.body, r.queues, r.routing_key, r.exchange) for r in live] == [
        (b"body0", ["/\x00q", "/\x00r"], "k0", "x"), (b"body2", ["/\x00r"], "k2", "x"),
        (b"body3", ["/\x00q", "/\x00r"], "k3", "x")]
    assert live[0].delivered == {"/\x00q"}


def test_boot_compacts_into_one_segment_and_fully_acked_segments_are_deleted(tmp_path):
    store = MessageStore(str(tmp_path), segment_limit=200)
    store.load()
    ids = []
    for i in range(20):
        ids.append(store.publish(["q"], "", "q", b"", b"x" * 50))
        store.flush(sync=False)
    assert len(segments(tmp_path)) > 5
    for msg_id in ids[:-1]:
        store.remove(msg_id, "q")
    store.flush(sync=False)
    assert len(segments(tmp_path)) <= 2  # the segment with the last live message, the current
    store.close()
    again = MessageStore(str(tmp_path))
    assert [r.msg_id for r in again.load()] == [ids[-1]]
    assert len(segments(tmp_path)) == 1


def test_a_torn_tail_is_cut_off(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    for i in range(3):
        store.publish(["q"], "", "q", b"", b"m%d" % i)
    store.close()
    path = tmp_path / segments(tmp_path)[-1]
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # the last record loses its end
    assert [r.body for r in MessageStore(str(tmp_path)).load()] == [b"m0", b"m1"]


def test_a_corrupt_record_before_the_last_segment_is_an_error_naming_the_file(tmp_path):
    store = MessageStore(str(tmp_path), segment_limit=10)
    store.load()
    for i in range(3):
        store.publish(["q"], "", "q", b"", b"m%d" % i)
        store.flush(sync=False)
    store.close()
    first = tmp_path / segments(tmp_path)[0]
    data = bytearray(first.read_bytes())
    data[-1] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(first)):
        MessageStore(str(tmp_path)).load()


def test_definitions_log_drops_a_torn_last_line_and_compacts(tmp_path):
    path = str(tmp_path / "definitions.log")
    log = DefinitionsLog(path)
    log.load()
    log.append({"op": "q+", "vhost": "/", "name": "a", "auto_delete": False, "args": ""})
    log.append({"op": "q+", "vhost": "/", "name": "b", "auto_delete": False, "args": ""})
    log.append({"op": "q-", "vhost": "/", "name": "a"})
    log.close()
    with open(path, "ab") as f:
        f.write(b'{"op":"q+","vhost":"/","na')
    state = DefinitionsLog(path).load()
    assert list(state.queues) == [("/", "b")]
    assert open(path, "rb").read().count(b"\n") == 1


def test_definitions_log_corrupt_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "definitions.log"
    path.write_bytes(b'garbage\n{"op":"q-","vhost":"/","name":"a"}\n')
    with pytest.raises(StoreError, match="definitions.log:1"):
        DefinitionsLog(str(path)).load()


class _Queue:
    kind = "queue"
    durable = True

    def __init__(self, name):
        self.name = name
        self.vhost = type("V", (), {"name": "/"})()


def test_one_fsync_serves_every_confirm_of_a_loop_turn(tmp_path):
    turn = []
    store = DiskStore(str(tmp_path), scheduler=turn.append)
    store.messages.load()
    queue = _Queue("q")
    confirmed = []
    for i in range(50):
        message = Message("", "q", PERSISTENT, b"m%d" % i)
        assert store.publish(message, [queue])
        store.after_sync(lambda i=i: confirmed.append(i))
    transient = Message("", "q", b"\x00\x00", b"t")
    assert not store.publish(transient, [queue])
    assert confirmed == [] and len(turn) == 1  # nothing confirmed before the sync
    before = store.messages.fsyncs
    turn.pop()()
    assert confirmed == list(range(50))
    assert store.messages.fsyncs - before == 1
    store.close()


def test_confirms_of_persistent_messages_wait_for_the_sync_and_keep_their_order(tmp_path):
    from pamqp import commands as C

    from test_amqp_helpers import Wire, name

    from yizhan.amqp.broker import Broker

    turn = []
    store = DiskStore(str(tmp_path), scheduler=turn.append)
    broker = Broker(store=store)
    broker.recover()
    wire = Wire(broker)
    wire.open(1)
    wire.send(C.Queue.Declare(queue="dq", durable=True), 1)
    wire.send(C.Queue.Declare(queue="tq"), 1)
    wire.send(C.Confirm.Select(), 1)
    persistent = C.Basic.Properties(delivery_mode=2)
    assert wire.publish(1, b"t", routing_key="tq") != []  # transient: confirmed at once
    assert wire.publish(1, b"p", routing_key="dq", properties=persistent) == []
    assert wire.publish(1, b"t2", routing_key="tq") == []  # does not overtake the held one
    assert wire.publish(1, b"p2", routing_key="tq", properties=persistent) == []
    assert len(turn) == 1
    turn.pop()()  # the end of the loop turn: one fsync, then the confirms
    acks = [frame.delivery_tag for _, frame in wire.output() if name(frame) == "Basic.Ack"]
    assert acks == [2, 3, 4]
    store.close()

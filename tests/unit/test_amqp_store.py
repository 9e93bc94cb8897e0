"""The AMQP store in-process: the segment message store (recovery, reclaiming, damaged files),
the definitions log (torn tail, compaction) and the per-loop-turn fsync batching."""

from __future__ import annotations

import os
from array import array

import pytest

from yizhan.amqp import codec
from yizhan.amqp.message import Message
from yizhan.amqp.store import DiskStore, StoreError
from yizhan.amqp.store.definitions import DefinitionsLog
from yizhan.amqp.store.messages import MessageStore

PERSISTENT = codec.encode_properties(codec.Properties(delivery_mode=2, content_type=b"text/x"))


def segments(directory) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".seg"))


def boot(directory, **kw):
    store = MessageStore(str(directory), **kw)
    found = store.load()
    return store, {key: list(r.ids) for key, r in found.items()}, found


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
    again, queues, found = boot(tmp_path)
    assert queues == {"/\x00q": [ids[0], ids[3]], "/\x00r": [ids[0], ids[2], ids[3]]}
    assert found["/\x00q"].delivered == {ids[0]} and found["/\x00r"].delivered == set()
    assert [(m.body, m.queues, m.routing_key, m.exchange, m.props)
            for m in again.read(queues["/\x00r"])] == [
        (b"body0", ["/\x00q", "/\x00r"], "k0", "x", b"\x00\x00"),
        (b"body2", ["/\x00q", "/\x00r"], "k2", "x", b"\x00\x00"),
        (b"body3", ["/\x00q", "/\x00r"], "k3", "x", b"\x00\x00")]
    again.close()


def test_fully_acked_segments_are_deleted_and_boot_rewrites_nothing(tmp_path):
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
    # the segment with the last live message, the ones its acks refer to, the current one
    assert len(segments(tmp_path)) <= 3
    store.close()
    before = {n: (tmp_path / n).read_bytes() for n in segments(tmp_path)}
    again, queues, _ = boot(tmp_path, segment_limit=200)
    assert queues == {"q": [ids[-1]]}
    assert [m.body for m in again.read([ids[-1]])] == [b"x" * 50]
    for n, data in before.items():  # kept segments are read, never rewritten
        if (tmp_path / n).exists():
            assert (tmp_path / n).read_bytes() == data
    again.close()


def test_a_stuck_message_does_not_keep_later_acked_segments(tmp_path):
    store = MessageStore(str(tmp_path), segment_limit=200)
    store.load()
    stuck = store.publish(["q"], "", "q", b"", b"s" * 50)
    ids = []
    for i in range(30):
        ids.append(store.publish(["q"], "", "q", b"", b"x" * 50))
        store.flush(sync=False)
        if i >= 2:
            store.remove(ids[i - 2], "q")
    for msg_id in ids[-2:]:
        store.remove(msg_id, "q")
    for _ in range(3):  # roll over a few times: the last acks' segment is no longer current
        other = store.publish(["other"], "", "o", b"", b"y" * 200)
        store.remove(other, "o")
        store.flush(sync=False)
    assert store.current > 15
    # the stuck message's segment, the segments acking its neighbours, the current one
    assert len(segments(tmp_path)) <= 4
    store.close()
    _, queues, _ = boot(tmp_path, segment_limit=200)
    assert queues["q"] == [stuck]


def test_an_ack_never_outlives_the_segment_of_its_message(tmp_path):
    """The segment holding acks of an older segment's messages stays while that one does."""
    store = MessageStore(str(tmp_path), segment_limit=150)
    store.load()
    keep = store.publish(["q"], "", "q", b"", b"k" * 40)
    acked = store.publish(["q"], "", "q", b"", b"a" * 40)
    store.flush(sync=False)
    for _ in range(3):
        store.publish(["o"], "", "o", b"", b"o" * 100)
        store.flush(sync=False)
    store.remove(acked, "q")  # its A record lands in a later segment
    for _ in range(4):
        msg_id = store.publish(["o"], "", "o", b"", b"o" * 100)
        store.flush(sync=False)
        store.remove(msg_id, "o")
        store.flush(sync=False)
    store.close()
    _, queues, _ = boot(tmp_path, segment_limit=150)
    assert queues["q"] == [keep]  # `acked` stays acked
    again, queues, _ = boot(tmp_path, segment_limit=150)
    assert queues["q"] == [keep]
    again.remove(keep, "q")
    again.close()
    _, queues, _ = boot(tmp_path, segment_limit=150)
    assert "q" not in queues


def test_multi_queue_messages_live_until_every_queue_let_go(tmp_path):
    store = MessageStore(str(tmp_path), segment_limit=150)
    store.load()
    shared = store.publish(["a", "b", "c"], "fan", "", b"", b"m" * 60)
    store.flush(sync=False)
    store.remove(shared, "b")
    store.delivered(shared, "a")
    store.close()
    store, queues, found = boot(tmp_path, segment_limit=150)
    assert queues == {"a": [shared], "c": [shared]}
    assert found["a"].delivered == {shared} and found["c"].delivered == set()
    store.remove(shared, "a")
    store.close()
    store, queues, _ = boot(tmp_path, segment_limit=150)
    assert queues == {"c": [shared]}
    store.remove(shared, "c")
    store.close()
    _, queues, _ = boot(tmp_path, segment_limit=150)
    assert queues == {}


def test_many_queues_overflow_the_count_byte(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    names = [f"q{i}" for i in range(300)]
    msg_id = store.publish(names, "", "", b"", b"fan")
    for name_ in names[:299]:
        store.remove(msg_id, name_)
    assert store.live_count() == 1
    store.close()
    store, queues, _ = boot(tmp_path)
    assert queues == {"q299": [msg_id]}
    store.remove(msg_id, "q299")
    assert store.live_count() == 0
    store.close()


def test_purge_and_delete_records_release_messages_across_a_restart(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    a = [store.publish(["p"], "", "p", b"", b"p%d" % i) for i in range(50)]
    b = [store.publish(["d", "e"], "", "", b"", b"d%d" % i) for i in range(5)]
    store.remove_many("p", [array("Q", a[:20]), array("Q", a[25:40])])
    store.queue_deleted("d", b[:3])  # b[3:] are held by channels: they go when settled
    store.remove(b[3], "d")
    later = store.publish(["d"], "", "d", b"", b"after the delete")
    store.close()
    store, queues, _ = boot(tmp_path)
    assert queues["p"] == a[20:25] + a[40:]
    assert queues["e"] == b
    assert queues["d"] == [later]  # b[4] was deleted with its queue although never settled
    store.close()


def test_a_torn_tail_is_cut_off(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    ids = [store.publish(["q"], "", "q", b"", b"m%d" % i) for i in range(3)]
    store.close()
    path = tmp_path / segments(tmp_path)[-1]
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # the last record loses its end
    store, queues, _ = boot(tmp_path)
    assert [m.body for m in store.read(queues["q"])] == [b"m0", b"m1"]
    assert queues["q"] == ids[:2]
    store.close()


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


def test_reading_a_damaged_record_is_an_error_naming_the_file(tmp_path):
    store = MessageStore(str(tmp_path))
    store.load()
    msg_id = store.publish(["q"], "", "q", b"", b"intact body")
    store.flush(sync=False)
    path = tmp_path / segments(tmp_path)[-1]
    data = bytearray(path.read_bytes())
    data[data.index(b"intact")] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(path)):
        store.read([msg_id])
    store.close()


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
    assert open(path, "rb").read().count(b"\n") == 1 + 1  # the format line and queue b


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

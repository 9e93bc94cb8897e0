"""Streams through redis-py with several connections: blocking XREAD / XREADGROUP served by XADD
in arrival order, woken with Redis's errors when the group or the stream goes, timeouts, keyspace
events. Tests taking `both_servers` run against yizhan and against redis-server 7.0, so what they
assert is Redis's own behaviour. Every blocking call has a timeout or is released by the test."""

import time

import pytest
import redis

from yizhan.testing.blocking import blocked_count, connect, wait_blocked
from yizhan.testing.raw import RawClient


def test_xread_block_served_by_xadd(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xadd("s", {"f": "old"}, id="1-1")
    future = pool.submit(reader.xread, {"s": "$"}, None, 5000)
    wait_blocked(writer)
    writer.xadd("s", {"f": "new"}, id="2-1")
    assert future.result(timeout=5) == [[b"s", [(b"2-1", {b"f": b"new"})]]]
    assert blocked_count(writer) == 0


def test_xread_block_several_streams_served_from_the_one_written(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    future = pool.submit(reader.xread, {"a": "0", "b": "0"}, 10, 5000)
    wait_blocked(writer)
    writer.xadd("b", {"x": "1"}, id="5-0")
    assert future.result(timeout=5) == [[b"b", [(b"5-0", {b"x": b"1"})]]]


def test_xread_blocked_readers_served_in_arrival_order_all_of_them(both_servers, pool):
    writer = connect(both_servers)
    futures = []
    for n in range(3):
        futures.append(pool.submit(connect(both_servers).xread, {"s": "$"}, 1, 5000))
        wait_blocked(writer, n + 1)
    writer.xadd("s", {"f": "v"}, id="1-0")
    replies = [f.result(timeout=5) for f in futures]
    assert replies == [[[b"s", [(b"1-0", {b"f": b"v"})]]]] * 3


def test_xread_block_times_out_with_null(both_servers):
    reader = connect(both_servers)
    assert reader.xread({"s": "$"}, block=50) == []
    raw = RawClient("127.0.0.1", both_servers)
    try:
        assert raw.call("XREAD", "BLOCK", "30", "STREAMS", "s", "$") == b"*-1\r\n"
    finally:
        raw.close()


def test_xreadgroup_block_served_in_arrival_order_one_entry_each(both_servers, pool):
    writer = connect(both_servers)
    writer.xgroup_create("s", "g", "$", mkstream=True)
    futures = []
    for n, name in enumerate(["c1", "c2"]):
        futures.append(pool.submit(connect(both_servers).xreadgroup, "g", name, {"s": ">"}, 1, 5000))
        wait_blocked(writer, n + 1)
    writer.xadd("s", {"f": "1"}, id="1-0")
    first = futures[0].result(timeout=5)
    assert first == [[b"s", [(b"1-0", {b"f": b"1"})]]]
    time.sleep(0.05)
    assert not futures[1].done()  # the group's last ID moved: nothing new for the second reader
    writer.xadd("s", {"f": "2"}, id="2-0")
    assert futures[1].result(timeout=5) == [[b"s", [(b"2-0", {b"f": b"2"})]]]
    pending = writer.xpending("s", "g")
    assert pending["pending"] == 2
    assert sorted(pending["consumers"], key=lambda c: c["name"]) == [
        {"name": b"c1", "pending": 1}, {"name": b"c2", "pending": 1}]


def test_xreadgroup_blocked_reader_told_when_group_destroyed(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xgroup_create("s", "g", "$", mkstream=True)
    future = pool.submit(reader.xreadgroup, "g", "c", {"s": ">"}, None, 5000)
    wait_blocked(writer)
    assert writer.xgroup_destroy("s", "g") == 1
    with pytest.raises(redis.ResponseError, match="^NOGROUP the consumer group this client was blocked on no longer exists"):
        future.result(timeout=5)


def test_xreadgroup_blocked_reader_told_when_stream_deleted(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xgroup_create("s", "g", "$", mkstream=True)
    future = pool.submit(reader.xreadgroup, "g", "c", {"s": ">"}, None, 5000)
    wait_blocked(writer)
    assert writer.delete("s") == 1
    with pytest.raises(redis.ResponseError, match="^UNBLOCKED the stream key no longer exists"):
        future.result(timeout=5)


def test_xreadgroup_blocked_reader_told_when_stream_overwritten(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xgroup_create("s", "g", "$", mkstream=True)
    future = pool.submit(reader.xreadgroup, "g", "c", {"s": ">"}, None, 5000)
    wait_blocked(writer)
    writer.set("s", "string now")
    with pytest.raises(redis.ResponseError, match="^UNBLOCKED the stream key no longer exists"):
        future.result(timeout=5)


def test_xread_not_woken_by_delete_and_served_after_recreate(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xadd("s", {"f": "v"}, id="5-0")
    future = pool.submit(reader.xread, {"s": "$"}, None, 5000)
    wait_blocked(writer)
    writer.delete("s")
    time.sleep(0.05)
    assert blocked_count(writer) == 1
    writer.xadd("s", {"f": "w"}, id="6-0")
    assert future.result(timeout=5) == [[b"s", [(b"6-0", {b"f": b"w"})]]]


def test_xreadgroup_noack_block(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    writer.xgroup_create("s", "g", "$", mkstream=True)
    future = pool.submit(reader.xreadgroup, "g", "c", {"s": ">"}, None, 5000, True)
    wait_blocked(writer)
    writer.xadd("s", {"f": "v"}, id="1-0")
    assert future.result(timeout=5) == [[b"s", [(b"1-0", {b"f": b"v"})]]]
    assert writer.xpending("s", "g")["pending"] == 0
    assert writer.xinfo_groups("s")[0]["last-delivered-id"] == b"1-0"


def test_xread_block_resp3_map(both_servers, pool):
    reader = redis.Redis(port=both_servers, protocol=3)
    writer = connect(both_servers)
    future = pool.submit(reader.execute_command, "XREAD", "BLOCK", "5000", "STREAMS", "s", "$")
    wait_blocked(writer)
    writer.xadd("s", {"f": "v"}, id="1-0")
    assert future.result(timeout=5) == {b"s": [[(b"1-0", {b"f": b"v"})]]}


def test_xadd_in_multi_serves_blocked_reader_after_exec(both_servers, pool):
    reader, writer = connect(both_servers), connect(both_servers)
    future = pool.submit(reader.xread, {"s": "$"}, None, 5000)
    wait_blocked(writer)
    pipe = writer.pipeline(transaction=True)
    pipe.xadd("s", {"a": "1"}, id="1-0")
    pipe.xadd("s", {"b": "2"}, id="2-0")
    pipe.execute()
    assert future.result(timeout=5) == [[b"s", [(b"1-0", {b"a": b"1"}), (b"2-0", {b"b": b"2"})]]]


def test_stream_keyspace_events(both_servers):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "KEt")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xadd("s", {"f": "v"}, id="2-0", maxlen=1, approximate=False)
    r.xdel("s", "2-0", "9-9")
    r.xadd("s", {"f": "v"}, id="3-0")
    r.xtrim("s", maxlen=0, approximate=False)
    r.execute_command("XSETID", "s", "5-0")
    r.xgroup_create("s", "g", "$")
    r.xgroup_createconsumer("s", "g", "c")
    r.xgroup_setid("s", "g", "0")
    r.xadd("s", {"f": "v"}, id="6-0")
    r.xreadgroup("g", "new", {"s": ">"})
    r.xclaim("s", "g", "other", 0, ["6-0"])
    r.xgroup_delconsumer("s", "g", "c")
    r.xgroup_destroy("s", "g")
    r.xgroup_create("t", "g", "$", mkstream=True)
    events = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and len(events) < 17:
        message = p.get_message(timeout=0.2)
        if message and message["type"] == "pmessage":
            events.append(message["channel"].split(b":", 1)[1])
    r.config_set("notify-keyspace-events", "")
    assert events == [b"xadd", b"xadd", b"xtrim", b"xdel", b"xadd", b"xtrim", b"xsetid", b"xgroup-create",
                      b"xgroup-createconsumer", b"xgroup-setid", b"xadd", b"xgroup-createconsumer",
                      b"xgroup-createconsumer", b"xgroup-delconsumer", b"xgroup-destroy", b"xgroup-create"]


def test_redis_py_stream_api_round_trip(both_servers):
    r = connect(both_servers, decode_responses=True)
    ids = [r.xadd("jobs", {"n": str(i)}) for i in range(5)]
    assert r.xlen("jobs") == 5
    assert [entry[0] for entry in r.xrange("jobs")] == ids
    assert [entry[0] for entry in r.xrevrange("jobs", count=2)] == ids[:-3:-1]
    r.xgroup_create("jobs", "workers", "0")
    got = r.xreadgroup("workers", "w1", {"jobs": ">"}, count=3)
    assert [entry[0] for entry in got[0][1]] == ids[:3]
    assert r.xack("jobs", "workers", *ids[:2]) == 2
    assert r.xclaim("jobs", "workers", "w2", 0, [ids[2]], justid=True) == [ids[2]]
    info = r.xinfo_stream("jobs")
    assert info["length"] == 5 and info["entries-added"] == 5 and info["groups"] == 1
    assert r.xinfo_groups("jobs")[0]["lag"] == 2


@pytest.mark.parametrize("how", ["TIMEOUT", "ERROR"])
def test_client_unblock_of_blocked_stream_readers(both_servers, pool, how):
    other = connect(both_servers)
    other.xgroup_create("s", "g", "$", mkstream=True)
    for read in (lambda r: r.xread({"s": "$"}, block=5000), lambda r: r.xreadgroup("g", "c", {"s": ">"}, block=5000)):
        reader = connect(both_servers)
        reader_id = reader.client_id()  # the pool's one connection, which the read then uses
        future = pool.submit(read, reader)
        wait_blocked(other)
        assert other.client_unblock(reader_id, error=how == "ERROR") is True
        if how == "ERROR":
            with pytest.raises(redis.ResponseError, match="^UNBLOCKED client unblocked via CLIENT UNBLOCK"):
                future.result(timeout=5)
        else:
            assert future.result(timeout=5) == []

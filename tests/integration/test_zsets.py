"""Sorted set commands through redis-py: real blocking (BZPOPMIN, BZPOPMAX, BZMPOP) with several
connections, keyspace events, change accounting, random sampling, complete ZSCAN iterations, the
stored representation, and the speed of range queries on a large set.

Tests taking `both_servers` run once against yizhan and once against redis-server 7.0, so the
behaviour they assert is Redis's own. Every blocking call has a timeout or is released by the
test, so a bug fails the test instead of hanging it."""

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import redis.asyncio

from yizhan.testing.blocking import blocked_count, connect, wait_blocked
from yizhan.testing.keyspace_events import collect_events
from yizhan.testing.raw import RawClient


def stored(server, key: bytes, db: int = 0):
    return server.call(lambda: server.runtime.redis.dbs[db].data.get(key))


# -- blocking ---------------------------------------------------------------------------------
def test_bzpopmin_served_by_zadd_from_another_client(both_servers, pool):
    waiter, writer = connect(both_servers), connect(both_servers)
    future = pool.submit(waiter.bzpopmin, ["z"], 5)
    wait_blocked(writer)
    assert writer.zadd("z", {"b": 2, "a": 1}) == 2
    assert future.result(timeout=5) == (b"z", b"a", 1.0)
    assert writer.zrange("z", 0, -1, withscores=True) == [(b"b", 2.0)]
    assert blocked_count(writer) == 0


def test_blocked_clients_served_in_the_order_they_blocked(both_servers, pool):
    writer = connect(both_servers)
    futures = []
    for n in range(3):
        futures.append(pool.submit(connect(both_servers).bzpopmax, ["z"], 5))
        wait_blocked(writer, n + 1)
    writer.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert [f.result(timeout=5) for f in futures] == [(b"z", b"d", 4.0), (b"z", b"c", 3.0), (b"z", b"b", 2.0)]
    assert writer.zrange("z", 0, -1) == [b"a"]


def test_fifo_survives_a_client_that_times_out(both_servers, pool):
    writer = connect(both_servers)
    first = pool.submit(connect(both_servers).bzpopmin, ["z"], 5)
    wait_blocked(writer, 1)
    short = pool.submit(connect(both_servers).bzpopmin, ["z"], 0.5)
    wait_blocked(writer, 2)
    third = pool.submit(connect(both_servers).bzpopmin, ["z"], 5)
    wait_blocked(writer, 3)
    assert short.result(timeout=5) is None
    wait_blocked(writer, 2)
    writer.zadd("z", {"x": 1})
    assert first.result(timeout=5) == (b"z", b"x", 1.0)
    writer.zadd("z", {"y": 2})
    assert third.result(timeout=5) == (b"z", b"y", 2.0)


def test_several_keys_served_by_the_written_one(both_servers, pool):
    writer = connect(both_servers)
    future = pool.submit(connect(both_servers).bzpopmin, ["a", "b", "c"], 5)
    wait_blocked(writer)
    writer.zadd("b", {"x": 5, "y": 6})
    assert future.result(timeout=5) == (b"b", b"x", 5.0)
    assert writer.zcard("b") == 1


def test_bzmpop_blocks_then_pops_up_to_count(both_servers, pool):
    writer = connect(both_servers)
    future = pool.submit(connect(both_servers).execute_command, "BZMPOP", 5, 2, "a", "b", "MAX", "COUNT", 5)
    wait_blocked(writer)
    writer.zadd("b", {"x": 1, "y": 2, "z": 3})
    assert future.result(timeout=5) == [b"b", [[b"z", b"3"], [b"y", b"2"], [b"x", b"1"]]]
    assert writer.exists("b") == 0


def test_resp3_reply_shapes_after_blocking(both_servers, pool):
    writer = connect(both_servers)
    waiter = connect(both_servers, protocol=3)
    pop = pool.submit(waiter.execute_command, "BZPOPMIN", "z", 5)
    wait_blocked(writer)
    writer.zadd("z", {"m": 1.5})
    assert pop.result(timeout=5) == [b"z", b"m", 1.5]
    mpop = pool.submit(waiter.execute_command, "BZMPOP", 5, 1, "z", "MIN")
    wait_blocked(writer)
    writer.zadd("z", {"n": 2.5})
    assert mpop.result(timeout=5) == [b"z", [[b"n", 2.5]]]


def test_a_key_of_another_type_does_not_wake(both_servers, pool):
    writer = connect(both_servers)
    future = pool.submit(connect(both_servers).bzpopmin, ["k"], 5)
    wait_blocked(writer)
    writer.set("k", "string")
    time.sleep(0.1)
    assert not future.done()
    writer.delete("k")
    writer.zadd("k", {"m": 1})
    assert future.result(timeout=5) == (b"k", b"m", 1.0)


def test_woken_by_a_store_into_the_waited_key(both_servers, pool):
    writer = connect(both_servers)
    writer.zadd("src", {"a": 3, "b": 1})
    union = pool.submit(connect(both_servers).bzpopmin, ["dst"], 5)
    wait_blocked(writer)
    assert writer.zunionstore("dst", ["src"]) == 2
    assert union.result(timeout=5) == (b"dst", b"b", 1.0)
    ranged = pool.submit(connect(both_servers).bzpopmax, ["dst2"], 5)
    wait_blocked(writer)
    assert writer.zrangestore("dst2", "src", 0, -1) == 2
    assert ranged.result(timeout=5) == (b"dst2", b"a", 3.0)


def test_woken_by_exec_of_a_multi(both_servers, pool):
    writer = connect(both_servers)
    future = pool.submit(connect(both_servers).bzpopmin, ["z"], 5)
    wait_blocked(writer)
    pipe = writer.pipeline(transaction=True)
    pipe.zadd("z", {"a": 1, "b": 2})
    pipe.zrem("z", "a")
    pipe.execute()
    assert future.result(timeout=5) == (b"z", b"b", 2.0)


def test_a_multi_that_adds_then_deletes_does_not_wake(both_servers, pool):
    writer = connect(both_servers)
    future = pool.submit(connect(both_servers).bzpopmin, ["z"], 1)
    wait_blocked(writer)
    pipe = writer.pipeline(transaction=True)
    pipe.zadd("z", {"a": 1})
    pipe.delete("z")
    pipe.execute()
    assert future.result(timeout=5) is None


@pytest.mark.parametrize("call", [
    lambda r: r.bzpopmin(["none"], 1.5),
    lambda r: r.bzpopmax(["none", "other"], 1.5),
    lambda r: r.execute_command("BZMPOP", "1.5", 1, "none", "MIN"),
], ids=["bzpopmin", "bzpopmax", "bzmpop"])
def test_fractional_timeouts(both_servers, call):
    r = connect(both_servers)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call, connect(both_servers))
        wait_blocked(r, 1, timeout=1.0)  # waiting: a fractional timeout is not read as "return at once"
        assert future.result(timeout=5) is None
    assert blocked_count(r) == 0


@pytest.mark.parametrize("proto, expected", [(2, b"*-1\r\n"), (3, b"_\r\n")])
def test_timeout_reply_is_a_null_array(both_servers, proto, expected):
    with RawClient("127.0.0.1", both_servers) as client:
        if proto == 3:
            client.call("HELLO", "3")
        assert client.call("BZPOPMIN", "none", "0.05") == expected
        assert client.call("BZPOPMAX", "none", "0.05") == expected
        assert client.call("BZMPOP", "0.05", "1", "none", "MAX", "COUNT", "2") == expected
        assert client.call("PING") == b"+PONG\r\n"


def test_disconnected_blocked_client_is_released(both_servers):
    r = connect(both_servers)
    client = RawClient("127.0.0.1", both_servers)
    client.send_raw(b"*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n0\r\n")
    wait_blocked(r, 1)
    client.close()
    wait_blocked(r, 0)
    assert r.zadd("z", {"kept": 1}) == 1
    time.sleep(0.05)
    assert r.zrange("z", 0, -1) == [b"kept"]


def test_asyncio_clients_block_and_wake(both_servers):
    async def scenario():
        waiters = [redis.asyncio.Redis(port=both_servers) for _ in range(2)]
        writer = redis.asyncio.Redis(port=both_servers)
        try:
            first = asyncio.create_task(waiters[0].bzpopmin(["az"], 5))
            while (await writer.info("clients"))["blocked_clients"] < 1:
                await asyncio.sleep(0.01)
            second = asyncio.create_task(waiters[1].execute_command("BZMPOP", 5, 1, "az", "MIN", "COUNT", 5))
            while (await writer.info("clients"))["blocked_clients"] < 2:
                await asyncio.sleep(0.01)
            await writer.zadd("az", {"a": 1, "b": 2, "c": 3})
            return await first, await second
        finally:
            for client in (*waiters, writer):
                await client.aclose()

    assert asyncio.run(scenario()) == ((b"az", b"a", 1.0), [b"az", [[b"b", b"2"], [b"c", b"3"]]])


# -- keyspace events and change accounting ------------------------------------------------------
def zset_workload(r: redis.Redis) -> None:
    """Writes of every kind, including ones that change nothing (and so fire nothing)."""
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    r.zadd("z", {"a": 1})
    r.zadd("z", {"x": 9}, xx=True)
    r.zincrby("z", 5, "a")
    r.zadd("z", {"a": 1}, incr=True)
    r.zrem("z", "nope")
    r.zrem("z", "b")
    r.zremrangebyscore("z", 100, 200)
    r.zremrangebyscore("z", 3, 3)
    r.zremrangebyrank("z", 0, 0)
    r.zadd("l", {"m": 0, "n": 0, "o": 0})
    r.zremrangebylex("l", "[m", "[n")
    r.zpopmin("z")
    r.zpopmax("l", 5)
    r.zadd("s1", {"p": 1, "q": 2})
    r.zadd("s2", {"q": 3})
    r.zunionstore("u", ["s1", "s2"])
    r.zinterstore("i", ["s1", "s2"])
    r.zdiffstore("d", ["s1", "s2"])
    r.zinterstore("i", ["s1", "none"])
    r.zrangestore("r", "s1", 0, 0)
    r.zrangestore("r", "s1", 5, 6)
    r.execute_command("ZMPOP", 1, "s1", "MAX", "COUNT", 10)


def test_keyspace_events_of_zset_commands(both_servers):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "Ezg")
    try:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyevent@0__:*")
        time.sleep(0.05)
        zset_workload(r)
        expected = [
            ("zadd", "z"), ("zincr", "z"), ("zincr", "z"), ("zrem", "z"), ("zremrangebyscore", "z"),
            ("zremrangebyrank", "z"), ("zadd", "l"), ("zremrangebylex", "l"), ("zpopmin", "z"),
            ("del", "z"), ("zpopmax", "l"), ("del", "l"), ("zadd", "s1"), ("zadd", "s2"), ("zunionstore", "u"),
            ("zinterstore", "i"), ("zdiffstore", "d"), ("del", "i"), ("zrangestore", "r"), ("del", "r"),
            ("zpopmax", "s1"), ("del", "s1"),
        ]
        assert collect_events(p, len(expected)) == expected
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_keyspace_events_when_a_blocked_client_is_served(both_servers, pool):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "Ezg")
    try:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyevent@0__:*")
        time.sleep(0.05)
        popper = pool.submit(connect(both_servers).bzpopmax, ["z"], 5)
        wait_blocked(r, 1)
        r.zadd("z", {"x": 1})
        assert popper.result(timeout=5) == (b"z", b"x", 1.0)
        expected = [("zadd", "z"), ("zpopmax", "z"), ("del", "z")]
        assert collect_events(p, len(expected)) == expected
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def dirty(r: redis.Redis) -> int:
    return int(r.info("persistence")["rdb_changes_since_last_save"])


def test_change_counter_matches_redis(yizhan_redis, reference_redis):
    ref = connect(reference_redis.port)
    ref.flushall()
    counts = []
    for r in (yizhan_redis, ref):
        before = dirty(r)
        zset_workload(r)
        counts.append(dirty(r) - before)
    assert counts[0] == counts[1]
    ref.close()


def test_watch_is_spoiled_only_by_real_changes(both_servers):
    r = connect(both_servers)
    r.zadd("z", {"a": 1})
    other = connect(both_servers)
    pipe = r.pipeline(transaction=True)
    pipe.watch("z")
    other.zadd("z", {"a": 1})  # same score: no change
    other.zrem("z", "nope")
    pipe.multi()
    pipe.zcard("z")
    assert pipe.execute() == [1]
    pipe = r.pipeline(transaction=True)
    pipe.watch("z")
    other.zincrby("z", 1, "a")
    pipe.multi()
    pipe.zcard("z")
    with pytest.raises(redis.WatchError):
        pipe.execute()


# -- random members -----------------------------------------------------------------------------
def test_zrandmember_counts_shapes_and_membership(yizhan_redis):
    r = yizhan_redis
    members = {f"m{i}".encode(): float(i) / 4 for i in range(40)}
    r.zadd("z", members)
    assert r.zrandmember("z") in members
    for count in (1, 5, 39, 40):
        picked = r.zrandmember("z", count)
        assert len(picked) == count == len(set(picked))
        assert set(picked) <= set(members)
    assert sorted(r.zrandmember("z", 100)) == sorted(members)
    repeated = r.zrandmember("z", -200)
    assert len(repeated) == 200 and set(repeated) <= set(members)
    assert len(set(repeated)) > 20  # repeats allowed, but it is not one member over and over
    pairs = r.zrandmember("z", 10, withscores=True)
    assert len(pairs) == 20
    for member, score in zip(pairs[::2], pairs[1::2]):
        assert members[member] == float(score)
    seen = set()
    for _ in range(400):
        seen.add(r.zrandmember("z"))
    assert seen == set(members)  # every member can come out


def test_zrandmember_resp3_pairs(yizhan_server):
    r = redis.Redis(port=yizhan_server.port, protocol=3)
    r.flushall()
    r.zadd("z", {"a": 1.5, "b": 2.5})
    pairs = r.execute_command("ZRANDMEMBER", "z", -5, "WITHSCORES")
    assert len(pairs) == 5
    assert all(pair in ([b"a", 1.5], [b"b", 2.5]) for pair in pairs)
    r.close()


# -- ZSCAN --------------------------------------------------------------------------------------
def test_zscan_walks_a_large_set_completely(yizhan_redis):
    r = yizhan_redis
    members = {f"member:{i}": i * 0.5 for i in range(1000)}
    r.zadd("z", members)
    assert r.object("encoding", "z") == b"skiplist"
    cursor, seen, calls = 0, {}, 0
    while True:
        cursor, page = r.zscan("z", cursor, count=20)
        seen.update({m.decode(): s for m, s in page})
        calls += 1
        if cursor == 0:
            break
    assert seen == members
    assert calls > 10  # it really paged


def test_zscan_returns_members_present_throughout_despite_changes(yizhan_redis):
    r = yizhan_redis
    r.zadd("z", {f"keep:{i}": i for i in range(500)})
    r.zadd("z", {f"drop:{i}": i for i in range(300)})
    cursor, seen, step = 0, set(), 0
    while True:
        cursor, page = r.zscan("z", cursor, count=15)
        seen.update(m for m, _ in page)
        step += 1
        if step == 3:  # grow and shrink the set mid-iteration
            r.zadd("z", {f"new:{i}": i for i in range(700)})
            r.zrem("z", *[f"drop:{i}" for i in range(300)])
        if cursor == 0:
            break
    assert {f"keep:{i}".encode() for i in range(500)} <= seen


def test_zscan_match_on_a_skiplist(yizhan_redis):
    r = yizhan_redis
    r.zadd("z", {f"{p}:{i}": i for p in ("a", "b") for i in range(200)})
    cursor, seen = 0, set()
    while True:
        cursor, page = r.zscan("z", cursor, match="a:1*", count=50)
        seen.update(m for m, _ in page)
        if cursor == 0:
            break
    assert seen == {f"a:{i}".encode() for i in range(200) if str(i).startswith("1")}


# -- stored representation and the redis-py API ------------------------------------------------
def test_stored_value_and_encodings(yizhan_server, yizhan_redis):
    from yizhan.redis.types.zsets import ZSet

    r = yizhan_redis
    r.zadd("z", {"b": 2, "a": 2, "c": -0.0})
    value = stored(yizhan_server, b"z")
    assert type(value) is ZSet and value.listpack
    assert list(value.order) == [(0.0, b"c"), (2.0, b"a"), (2.0, b"b")]
    assert math.copysign(1, value.scores[b"c"]) == 1  # a listpack turns -0 into 0
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {"x" * 65: 1})
    assert r.object("encoding", "z") == b"skiplist"
    r.zrem("z", "x" * 65)
    assert r.object("encoding", "z") == b"skiplist"  # never converted back
    r.zadd("z", {"neg": -0.0})
    assert math.copysign(1, stored(yizhan_server, b"z").scores[b"neg"]) == -1
    assert r.copy("z", "z2") is True
    r.zadd("z2", {"a": 100})
    assert r.zscore("z", "a") == 2.0 and r.zscore("z2", "a") == 100.0
    assert r.object("encoding", "z2") == b"skiplist"
    r.zpopmin("z", 10)
    assert stored(yizhan_server, b"z") is None


def test_redis_py_api(yizhan_redis):
    r = yizhan_redis
    assert r.zadd("z", {"a": 1.5, "b": 0.5}) == 2
    assert r.zincrby("z", 0.25, "b") == 0.75
    assert r.zrange("z", 0, -1, withscores=True) == [(b"b", 0.75), (b"a", 1.5)]
    assert r.zrevrange("z", 0, 0, withscores=True) == [(b"a", 1.5)]
    assert r.zrangebyscore("z", "(0.75", "+inf") == [b"a"]
    assert r.zmscore("z", ["a", "nope"]) == [1.5, None]
    assert r.zrank("z", "a") == 1 and r.zrevrank("z", "a") == 0
    assert r.zcount("z", "-inf", "+inf") == 2
    assert r.zunion(["z", "z"], withscores=True) == [(b"b", 1.5), (b"a", 3.0)]
    assert r.zpopmax("z") == [(b"a", 1.5)]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.set("s", "x") and r.zadd("s", {"a": 1})


def test_resp3_doubles(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as client:
        client.call("FLUSHALL")
        client.call("HELLO", "3")
        client.call("ZADD", "z", "1.1", "a", "inf", "b", "-0.0", "c")
        assert client.call("ZSCORE", "z", "a") == b",1.1000000000000001\r\n"
        assert client.call("ZSCORE", "z", "b") == b",inf\r\n"
        assert client.call("ZINCRBY", "z", "-0.0", "new") == b",-0\r\n"
        assert client.call("ZPOPMIN", "z") == b"*2\r\n$1\r\nc\r\n,0\r\n"
        assert client.call("ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$3\r\nnew\r\n,0\r\n"


# -- speed on a large set ------------------------------------------------------------------------
def test_range_queries_stay_fast_on_a_large_set(yizhan_redis):
    """200k members; thousands of rank/score/lex queries must not each cost O(N) (which would
    take minutes here), nor may writes re-sort the set."""
    r = yizhan_redis
    size = 200_000
    pipe = r.pipeline(transaction=False)
    for start in range(0, size, 20_000):
        pipe.zadd("big", {f"m{i:06d}": i for i in range(start, start + 20_000)})
        pipe.zadd("lex", {f"m{i:06d}": 0 for i in range(start, start + 20_000)})
    pipe.execute()
    assert r.zcard("big") == size
    pipe = r.pipeline(transaction=False)
    for i in range(0, size, 100):
        pipe.zrank("big", f"m{i:06d}")
        pipe.zrangebyscore("big", i, "+inf", start=0, num=3)
        pipe.zrange("big", i, i + 2)
        pipe.zcount("big", i, i + 1000)
        pipe.zrangebylex("lex", f"[m{i:06d}", "+", start=0, num=2)
        pipe.zlexcount("lex", f"[m{i:06d}", "+")
        pipe.zadd("big", {f"m{i:06d}": i + 0.5})
    replies = pipe.execute()
    assert replies[0] == 0 and replies[1] == [b"m000000", b"m000001", b"m000002"]
    assert replies[3] == 1001 and replies[4] == [b"m000000", b"m000001"] and replies[5] == size

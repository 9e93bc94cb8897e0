"""List commands through redis-py: real blocking (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) with
several connections, keyspace events, and the stored representation.

Tests taking `both_servers` run once against yizhan and once against redis-server 7.0, so the
behaviour they assert is Redis's own. Every blocking call has a timeout or is released by the
test, so a bug fails the test instead of hanging it."""

import asyncio
import time

import pytest
import redis
import redis.asyncio

from yizhan.testing.blocking import blocked_count, connect, wait_blocked
from yizhan.testing.keyspace_events import collect_events
from yizhan.testing.raw import RawClient


# -- woken by pushes --------------------------------------------------------------------------
def test_blpop_served_by_push_from_another_client(both_servers, pool):
    waiter, pusher = connect(both_servers), connect(both_servers)
    future = pool.submit(waiter.blpop, ["q"], 5)
    wait_blocked(pusher)
    assert pusher.rpush("q", "job") == 1
    assert list(future.result(timeout=5)) == [b"q", b"job"]
    assert pusher.exists("q") == 0
    assert blocked_count(pusher) == 0


def test_blocked_clients_served_in_the_order_they_blocked(both_servers, pool):
    pusher = connect(both_servers)
    futures = []
    for n in range(3):
        futures.append(pool.submit(connect(both_servers).blpop, ["q"], 5))
        wait_blocked(pusher, n + 1)
    assert pusher.rpush("q", "a", "b", "c", "d") == 4
    assert [list(f.result(timeout=5)) for f in futures] == [[b"q", b"a"], [b"q", b"b"], [b"q", b"c"]]
    assert pusher.lrange("q", 0, -1) == [b"d"]


def test_fifo_survives_a_client_that_leaves_the_queue(both_servers, pool):
    pusher = connect(both_servers)
    first = pool.submit(connect(both_servers).brpop, ["q"], 5)
    wait_blocked(pusher, 1)
    short = pool.submit(connect(both_servers).brpop, ["q"], 0.5)
    wait_blocked(pusher, 2)
    third = pool.submit(connect(both_servers).brpop, ["q"], 5)
    wait_blocked(pusher, 3)
    assert short.result(timeout=5) is None  # timed out: leaves the queue
    wait_blocked(pusher, 2)
    pusher.lpush("q", "x")
    assert list(first.result(timeout=5)) == [b"q", b"x"]
    pusher.lpush("q", "y")
    assert list(third.result(timeout=5)) == [b"q", b"y"]


def test_blocked_client_does_not_block_the_server(both_servers, pool):
    waiter = connect(both_servers)
    other = connect(both_servers, socket_timeout=5)  # a server stuck on the waiter fails here
    future = pool.submit(waiter.blpop, ["never"], 10)
    wait_blocked(other)
    for i in range(200):
        other.set(f"k{i}", i)
        assert other.get(f"k{i}") == str(i).encode()
    assert other.ping() is True
    assert not future.done()
    other.rpush("never", "now")
    assert list(future.result(timeout=5)) == [b"never", b"now"]


def test_blpop_on_several_keys_is_served_by_the_pushed_one(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blpop, ["a", "b", "c"], 5)
    wait_blocked(pusher)
    pusher.rpush("b", "x", "y")
    assert list(future.result(timeout=5)) == [b"b", b"x"]
    assert pusher.lrange("b", 0, -1) == [b"y"]


def test_brpop_and_blmpop_block(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).brpop, ["q"], 5)
    wait_blocked(pusher)
    pusher.rpush("q", "1", "2", "3")
    assert list(future.result(timeout=5)) == [b"q", b"3"]
    future = pool.submit(connect(both_servers).execute_command, "BLMPOP", 5, 2, "none", "r", "RIGHT", "COUNT", 2)
    wait_blocked(pusher)
    pusher.rpush("r", "a", "b", "c")
    assert future.result(timeout=5) == [b"r", [b"c", b"b"]]
    future = pool.submit(connect(both_servers).execute_command, "BLMPOP", 5, 1, "s", "LEFT", "COUNT", 10)
    wait_blocked(pusher)
    pusher.rpush("s", "a", "b")
    assert future.result(timeout=5) == [b"s", [b"a", b"b"]]
    assert pusher.exists("s") == 0


def test_blocking_the_same_key_twice_is_one_wait(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blpop, ["q", "q"], 5)
    wait_blocked(pusher)
    pusher.rpush("q", "a", "b")
    assert list(future.result(timeout=5)) == [b"q", b"a"]
    assert blocked_count(pusher) == 0
    pusher.rpush("q", "c")
    time.sleep(0.05)
    assert pusher.lrange("q", 0, -1) == [b"b", b"c"]


# -- moving into a waited key -----------------------------------------------------------------
def test_woken_by_lmove_and_rpoplpush_into_the_waited_key(both_servers, pool):
    mover = connect(both_servers)
    mover.rpush("src", "a", "b")
    future = pool.submit(connect(both_servers).blpop, ["dst"], 5)
    wait_blocked(mover)
    assert mover.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert list(future.result(timeout=5)) == [b"dst", b"a"]
    future = pool.submit(connect(both_servers).brpop, ["dst"], 5)
    wait_blocked(mover)
    assert mover.rpoplpush("src", "dst") == b"b"
    assert list(future.result(timeout=5)) == [b"dst", b"b"]
    assert mover.exists("src", "dst") == 0


def test_blmove_chain_serves_the_next_waiter(both_servers, pool):
    pusher = connect(both_servers)
    mover = pool.submit(connect(both_servers).blmove, "src", "mid", 5, "LEFT", "RIGHT")
    wait_blocked(pusher, 1)
    popper = pool.submit(connect(both_servers).blpop, ["mid"], 5)
    wait_blocked(pusher, 2)
    pusher.rpush("src", "x")
    assert mover.result(timeout=5) == b"x"
    assert list(popper.result(timeout=5)) == [b"mid", b"x"]
    assert pusher.exists("src", "mid") == 0


def test_brpoplpush_and_blmove_block_then_move(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).brpoplpush, "src", "dst", 5)
    wait_blocked(pusher)
    pusher.rpush("src", "a", "b")
    assert future.result(timeout=5) == b"b"
    assert pusher.lrange("dst", 0, -1) == [b"b"]
    future = pool.submit(connect(both_servers).brpoplpush, "rot", "rot", 5)
    wait_blocked(pusher)
    pusher.rpush("rot", "only")
    assert future.result(timeout=5) == b"only"
    assert pusher.lrange("rot", 0, -1) == [b"only"]
    pusher.delete("src")
    future = pool.submit(connect(both_servers).blmove, "src", "dst", 5, "RIGHT", "LEFT")
    wait_blocked(pusher)
    pusher.lpush("src", "1", "2")
    assert future.result(timeout=5) == b"1"
    assert pusher.lrange("dst", 0, -1) == [b"1", b"b"]
    assert pusher.lrange("src", 0, -1) == [b"2"]


def test_blmove_woken_with_a_destination_of_the_wrong_type(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blmove, "src", "dst", 5, "LEFT", "LEFT")
    wait_blocked(pusher)
    pusher.set("dst", "string")
    pusher.rpush("src", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        future.result(timeout=5)
    assert pusher.lrange("src", 0, -1) == [b"x"]
    assert pusher.get("dst") == b"string"
    assert blocked_count(pusher) == 0


def test_a_key_of_another_type_does_not_wake(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blpop, ["k"], 5)
    wait_blocked(pusher)
    pusher.set("k", "v")
    time.sleep(0.1)
    assert not future.done()
    pusher.delete("k")
    pusher.rpush("k", "x")
    assert list(future.result(timeout=5)) == [b"k", b"x"]


def test_waits_are_per_database(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers, db=1).blpop, ["k"], 5)
    wait_blocked(pusher)
    pusher.rpush("k", "db0")
    time.sleep(0.1)
    assert not future.done()
    assert pusher.lrange("k", 0, -1) == [b"db0"]
    connect(both_servers, db=1).rpush("k", "db1")
    assert list(future.result(timeout=5)) == [b"k", b"db1"]


# -- transactions -----------------------------------------------------------------------------
def test_woken_by_exec_of_a_multi_that_pushes(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blpop, ["q"], 5)
    wait_blocked(pusher)
    with pusher.pipeline(transaction=True) as pipe:
        pipe.rpush("q", "a", "b")
        pipe.lpush("q", "first")
        assert not future.done()
        pipe.execute()
    assert list(future.result(timeout=5)) == [b"q", b"first"]
    assert pusher.lrange("q", 0, -1) == [b"a", b"b"]


def test_a_multi_that_pushes_then_deletes_does_not_wake(both_servers, pool):
    pusher = connect(both_servers)
    future = pool.submit(connect(both_servers).blpop, ["q"], 0.3)
    wait_blocked(pusher)
    with pusher.pipeline(transaction=True) as pipe:
        pipe.rpush("q", "a")
        pipe.delete("q")
        pipe.execute()
    assert future.result(timeout=5) is None
    assert pusher.exists("q") == 0


def test_blocking_commands_inside_multi_do_not_block(both_servers):
    r = connect(both_servers, socket_timeout=5)
    with r.pipeline(transaction=True) as pipe:
        pipe.blpop(["empty"], 0)
        pipe.brpoplpush("empty", "dst", 0)
        pipe.execute_command("BLMPOP", 0, 1, "empty", "LEFT")
        assert pipe.execute() == [None, None, None]
    assert blocked_count(r) == 0


# -- timeouts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda r: r.blpop(["none"], 1.5),
    lambda r: r.brpop(["none", "other"], 1.5),
    lambda r: r.blmove("none", "dst", 1.5, "LEFT", "RIGHT"),
    lambda r: r.brpoplpush("none", "dst", 1.5),
    lambda r: r.execute_command("BLMPOP", "1.5", 1, "none", "LEFT"),
], ids=["blpop", "brpop", "blmove", "brpoplpush", "blmpop"])
def test_fractional_timeouts(both_servers, call, pool):
    r = connect(both_servers)
    future = pool.submit(call, connect(both_servers))
    wait_blocked(r, 1, timeout=1.0)  # waiting: a fractional timeout is not read as "return at once"
    assert future.result(timeout=5) is None
    assert r.exists("dst") == 0
    assert blocked_count(r) == 0


@pytest.mark.parametrize("proto, expected", [(2, b"*-1\r\n"), (3, b"_\r\n")])
def test_timeout_reply_is_a_null_array(both_servers, proto, expected):
    with RawClient("127.0.0.1", both_servers) as client:
        if proto == 3:
            client.call("HELLO", "3")
        assert client.call("BLPOP", "none", "0.05") == expected
        assert client.call("BLMOVE", "none", "dst", "LEFT", "LEFT", "0.05") == expected
        assert client.call("BRPOPLPUSH", "none", "dst", "0.05") == expected
        assert client.call("BLMPOP", "0.05", "1", "none", "RIGHT", "COUNT", "2") == expected
        assert client.call("PING") == b"+PONG\r\n"


def test_tiny_timeout_rounds_up_to_a_millisecond(both_servers):
    # ceil(0.1 ms) = 1 ms, not 0 ("forever"): the socket timeout catches a client left waiting
    with RawClient("127.0.0.1", both_servers, timeout=5) as client:
        assert client.call("BLPOP", "none", "0.0001") == b"*-1\r\n"
        assert client.call("BLMOVE", "none", "dst", "LEFT", "LEFT", "1e-400") == b"*-1\r\n"


# -- disconnects ------------------------------------------------------------------------------
def test_disconnected_blocked_client_is_released(both_servers):
    r = connect(both_servers)
    client = RawClient("127.0.0.1", both_servers)
    client.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n")
    wait_blocked(r, 1)
    client.close()
    wait_blocked(r, 0)
    assert r.rpush("q", "kept") == 1
    time.sleep(0.05)
    assert r.lrange("q", 0, -1) == [b"kept"]


def test_pipelined_commands_after_a_blocking_one_wait_for_it(both_servers):
    r = connect(both_servers)
    with RawClient("127.0.0.1", both_servers) as client:
        client.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n5\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n")
        wait_blocked(r, 1)
        r.rpush("q", "a", "b")
        assert client.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
        assert client.read_reply() == b":1\r\n"


# -- asyncio ----------------------------------------------------------------------------------
def test_asyncio_clients_block_and_wake(both_servers):
    async def scenario():
        waiters = [redis.asyncio.Redis(port=both_servers) for _ in range(2)]
        pusher = redis.asyncio.Redis(port=both_servers)
        try:
            first = asyncio.create_task(waiters[0].blpop(["aq"], 5))
            while (await pusher.info("clients"))["blocked_clients"] < 1:
                await asyncio.sleep(0.01)
            second = asyncio.create_task(waiters[1].execute_command("BLMPOP", 5, 1, "aq", "LEFT", "COUNT", 5))
            while (await pusher.info("clients"))["blocked_clients"] < 2:
                await asyncio.sleep(0.01)
            await pusher.rpush("aq", "1", "2", "3")
            return list(await first), await second
        finally:
            for client in (*waiters, pusher):
                await client.aclose()

    assert asyncio.run(scenario()) == ([b"aq", b"1"], [b"aq", [b"2", b"3"]])


# -- keyspace events --------------------------------------------------------------------------
def test_keyspace_events_of_list_commands(both_servers):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "Elg")
    try:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyevent@0__:*")
        time.sleep(0.05)
        r.rpush("l", "a", "b")
        r.lpush("l", "c")
        r.lpushx("none", "x")
        r.linsert("l", "BEFORE", "a", "x")
        r.linsert("l", "BEFORE", "zz", "x")
        r.lset("l", 0, "y")
        r.lrem("l", 1, "x")
        r.lrem("l", 1, "nope")
        r.ltrim("l", 0, -1)
        r.lmove("l", "m", "LEFT", "RIGHT")
        r.rpoplpush("m", "m")
        r.lpop("l", 10)
        r.lpop("none")
        r.rpush("q", "1")
        r.execute_command("LMPOP", 1, "q", "RIGHT")
        r.rpush("t", "1", "2")
        r.ltrim("t", 5, 10)
        r.rpush("b", "1")
        r.blpop(["b"], 1)
        expected = [
            ("rpush", "l"), ("lpush", "l"), ("linsert", "l"), ("lset", "l"), ("lrem", "l"),
            ("ltrim", "l"), ("rpush", "m"), ("lpop", "l"), ("lpush", "m"), ("rpop", "m"),
            ("lpop", "l"), ("del", "l"), ("rpush", "q"), ("rpop", "q"), ("del", "q"),
            ("rpush", "t"), ("ltrim", "t"), ("del", "t"), ("rpush", "b"), ("lpop", "b"), ("del", "b"),
        ]
        assert collect_events(p, len(expected)) == expected
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_keyspace_events_when_a_blocked_client_is_served(both_servers, pool):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "Elg")
    try:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyevent@0__:*")
        time.sleep(0.05)
        popper = pool.submit(connect(both_servers).brpop, ["q"], 5)
        wait_blocked(r, 1)
        r.rpush("q", "x")
        assert list(popper.result(timeout=5)) == [b"q", b"x"]
        mover = pool.submit(connect(both_servers).blmove, "src", "dst", 5, "LEFT", "LEFT")
        wait_blocked(r, 1)
        r.rpush("src", "y")
        assert mover.result(timeout=5) == b"y"
        expected = [("rpush", "q"), ("rpop", "q"), ("del", "q"),
                    ("rpush", "src"), ("lpush", "dst"), ("lpop", "src"), ("del", "src")]
        assert collect_events(p, len(expected)) == expected
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


# -- the stored value -------------------------------------------------------------------------
def test_stored_list_is_a_redis_list_of_bytes(yizhan_server, yizhan_redis):
    from yizhan.redis.types.lists import RedisList

    yizhan_redis.rpush("l", "a", 1, b"\x00")
    database = yizhan_server.runtime.redis.dbs[0]
    value = yizhan_server.call(lambda: database.data.get(b"l"))
    assert type(value) is RedisList
    assert list(value) == [b"a", b"1", b"\x00"]
    assert value.encoding() == "quicklist"
    copied = value.copy()
    copied.append(b"more")
    assert type(copied) is RedisList and len(value) == 3
    yizhan_redis.lpop("l", 3)
    assert yizhan_server.call(lambda: b"l" in database.data) is False


def test_long_list_pushes_and_pops_at_both_ends(yizhan_redis):
    pipe = yizhan_redis.pipeline(transaction=False)
    for start in range(0, 100_000, 5000):
        pipe.rpush("big", *range(start, start + 5000))
    pipe.execute()
    for _ in range(500):
        yizhan_redis.lpush("big", "h")
        yizhan_redis.rpop("big")
        yizhan_redis.lindex("big", -1)
    assert yizhan_redis.llen("big") == 100_000
    assert yizhan_redis.lrange("big", -3, -1) == [b"99497", b"99498", b"99499"]
    assert yizhan_redis.lindex("big", 0) == b"h"

"""String commands driven through redis-py, sync and asyncio, checking what the server stores
(value types, absolute expiry times) as well as what the client sees."""

import asyncio
import time

import pytest
import redis
import redis.asyncio


def stored(server, key: bytes, db: int = 0):
    """(value, absolute expiry ms or None) of `key`, read on the server's own loop."""
    database = server.runtime.redis.dbs[db]
    return server.call(lambda: (database.data.get(key), database.expires.get(key)))


def test_set_get_binary_and_options(yizhan_redis):
    value = b"a\r\nb\x00c"
    assert yizhan_redis.set(b"bin\r\n", value) is True
    assert yizhan_redis.get(b"bin\r\n") == value
    assert yizhan_redis.set("k", "v", nx=True) is True
    assert yizhan_redis.set("k", "w", nx=True) is None
    assert yizhan_redis.set("k", "w", xx=True, get=True) == b"v"
    assert yizhan_redis.set("absent", "x", xx=True) is None
    assert yizhan_redis.get("k") == b"w"
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        yizhan_redis.set("k", "v", ex=0)


def test_expiry_options_store_absolute_times(yizhan_server, yizhan_redis):
    when_s = int(time.time()) + 1000
    yizhan_redis.set("exat", "v", exat=when_s)
    assert stored(yizhan_server, b"exat") == (b"v", when_s * 1000)
    yizhan_redis.set("pxat", "v", pxat=when_s * 1000 + 7)
    assert stored(yizhan_server, b"pxat")[1] == when_s * 1000 + 7
    before = int(time.time() * 1000)
    yizhan_redis.set("ex", "v", ex=100)
    yizhan_redis.execute_command("SETEX", "setex", 100, "v")
    yizhan_redis.execute_command("PSETEX", "psetex", 100_000, "v")
    after = int(time.time() * 1000)
    for key in (b"ex", b"setex", b"psetex"):
        assert before + 100_000 <= stored(yizhan_server, key)[1] <= after + 100_000
    yizhan_redis.set("ex", "w", keepttl=True)
    assert before + 100_000 <= stored(yizhan_server, b"ex")[1] <= after + 100_000
    yizhan_redis.set("ex", "x")
    assert stored(yizhan_server, b"ex") == (b"x", None)


def test_getex_sets_and_clears_expiry(yizhan_server, yizhan_redis):
    yizhan_redis.set("k", "v")
    when_s = int(time.time()) + 500
    assert yizhan_redis.getex("k", exat=when_s) == b"v"
    assert stored(yizhan_server, b"k")[1] == when_s * 1000
    assert yizhan_redis.getex("k", persist=True) == b"v"
    assert stored(yizhan_server, b"k") == (b"v", None)
    assert yizhan_redis.getex("k", pxat=1) == b"v"
    assert stored(yizhan_server, b"k") == (None, None)
    assert yizhan_redis.getex("k") is None


def test_counters_store_canonical_bytes(yizhan_server, yizhan_redis):
    assert yizhan_redis.incr("n") == 1
    assert yizhan_redis.incrby("n", 41) == 42
    assert yizhan_redis.decrby("n", 50) == -8
    assert stored(yizhan_server, b"n") == (b"-8", None)
    assert type(stored(yizhan_server, b"n")[0]) is bytes
    assert yizhan_redis.incrbyfloat("f", 10.5) == 10.5
    assert yizhan_redis.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    assert stored(yizhan_server, b"f")[0] == b"10.6"
    yizhan_redis.set("big", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        yizhan_redis.incr("big")
    with pytest.raises(redis.ResponseError, match="decrement would overflow"):
        yizhan_redis.decrby("other", -(2**63))


def test_in_place_edits_keep_earlier_replies_intact(yizhan_server, yizhan_redis):
    yizhan_redis.set("s", "abc")
    assert type(stored(yizhan_server, b"s")[0]) is bytes
    assert yizhan_redis.append("s", "def") == 6
    assert type(stored(yizhan_server, b"s")[0]) is bytearray
    pipe = yizhan_redis.pipeline(transaction=False)
    pipe.get("s").append("s", "ghi").setrange("s", 0, "XY").get("s").mget("s", "missing")
    assert pipe.execute() == [b"abcdef", 9, 9, b"XYcdefghi", [b"XYcdefghi", None]]
    assert yizhan_redis.setrange("fresh", 3, "x") == 4
    assert yizhan_redis.get("fresh") == b"\x00\x00\x00x"
    assert yizhan_redis.getrange("fresh", -2, -1) == b"\x00x"


def test_mset_msetnx_getset_getdel(yizhan_redis):
    assert yizhan_redis.mset({"a": "1", "b": "2"}) is True
    assert yizhan_redis.msetnx({"b": "3", "c": "4"}) is False
    assert yizhan_redis.mget("a", "b", "c") == [b"1", b"2", None]
    assert yizhan_redis.getset("a", "new") == b"1"
    assert yizhan_redis.getdel("a") == b"new"
    assert yizhan_redis.getdel("a") is None
    assert yizhan_redis.strlen("b") == 1


@pytest.mark.parametrize("protocol", [2, 3])
def test_lcs_through_redis_py(yizhan_redis_url, protocol):
    client = redis.Redis.from_url(yizhan_redis_url, protocol=protocol)
    try:
        client.mset({"key1": "ohmytext", "key2": "mynewtext"})
        assert client.lcs("key1", "key2") == b"mytext"
        assert client.lcs("key1", "key2", len=True) == 6
        reply = client.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True)
        if isinstance(reply, list):  # RESP2: a flat array of key/value pairs
            reply = dict(zip(reply[::2], reply[1::2]))
        assert reply == {b"matches": [[[4, 7], [5, 8], 4]], b"len": 6}
    finally:
        client.close()


async def test_asyncio_counters_and_strings(yizhan_redis_url):
    client = redis.asyncio.Redis.from_url(yizhan_redis_url)
    try:
        await client.flushall()
        await asyncio.gather(*(client.incr("counter") for _ in range(50)))
        assert await client.get("counter") == b"50"
        assert await client.append("text", b"\x00\r\n") == 3
        assert await client.append("text", "tail") == 7
        assert await client.getrange("text", 0, 2) == b"\x00\r\n"
        assert await client.incrbyfloat("float", "5.0e3") == 5000.0
        assert await client.get("float") == b"5000"
        assert await client.getex("text", px=100_000) == b"\x00\r\ntail"
        with pytest.raises(redis.ResponseError, match="value is not a valid float"):
            await client.incrbyfloat("text", 1)
    finally:
        await client.aclose()

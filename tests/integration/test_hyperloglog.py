"""HyperLogLog through redis-py: values move between yizhan and redis-server unchanged, the
estimate stays within Redis's error bounds, keyspace events and WATCH see what Redis's do, and
PFADD/PFCOUNT cost stays reasonable in pure Python (per-op costs are printed with -s)."""

import math
import random
import socket

import pytest
import redis

from yizhan.redis.types.hll import pack

STD_ERROR = 1.04 / math.sqrt(16384)


@pytest.fixture
def reference(reference_redis):
    client = redis.Redis(port=reference_redis.port)
    client.flushall()
    yield client
    client.close()


def test_values_interoperate_both_ways(yizhan_redis, reference):
    rng = random.Random(1)
    for n in (3, 700, 2500, 30000):
        items = [rng.randbytes(rng.randrange(1, 30)) for _ in range(n)]
        for i in range(0, n, 5000):
            reference.pfadd("h", *items[i:i + 5000])
        from_redis = reference.get("h")
        yizhan_redis.set("h", from_redis)
        more = [b"more%d" % i for i in range(300)]
        assert yizhan_redis.pfadd("h", *more) == reference.pfadd("h", *more)
        assert yizhan_redis.get("h") == reference.get("h")
        assert yizhan_redis.pfcount("h") == reference.pfcount("h")
        reference.set("back", yizhan_redis.get("h"))
        assert reference.pfcount("back") == yizhan_redis.pfcount("h")
        reference.delete("h")


def test_estimate_error_within_three_standard_errors(yizhan_redis):
    rng = random.Random(2)
    for n in (100, 1000, 10000, 50000):
        for trial in range(2):
            key = f"h{n}-{trial}"
            prefix = rng.randbytes(6)
            items = [prefix + i.to_bytes(4, "big") for i in range(n)]
            for i in range(0, n, 10000):
                yizhan_redis.pfadd(key, *items[i:i + 10000])
            estimate = yizhan_redis.pfcount(key)
            assert abs(estimate - n) <= 3 * STD_ERROR * n, (n, estimate)
    # The union of disjoint sets, counted without storing and after storing.
    keys = [f"h{n}-0" for n in (1000, 10000, 50000)]
    union = yizhan_redis.pfcount(*keys)
    assert abs(union - 61000) <= 3 * STD_ERROR * 61000
    yizhan_redis.pfmerge("all", *keys)
    assert yizhan_redis.pfcount("all") == union


def test_saturated_registers_count_as_redis_does(yizhan_server, reference_redis):
    """All registers at 51: the estimator divides by zero and Redis replies LLONG_MIN (read off
    the socket: hiredis refuses to parse that integer)."""
    value = b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80" + bytes(pack(bytes([51]) * 16384))
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port)
        client.set("h", value)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for command in (b"PFCOUNT h", b"PFCOUNT h nokey", b"PFCOUNT h"):
                sock.sendall(command + b"\r\n")
                assert sock.recv(100) == b":-9223372036854775808\r\n"
        assert client.getrange("h", 8, 15) == bytes(7) + b"\x80"  # the cache stays stale
        client.close()


@pytest.mark.parametrize("server", ["yizhan", "redis"])
def test_keyspace_events(server, yizhan_redis, reference):
    client = yizhan_redis if server == "yizhan" else reference
    client.config_set("notify-keyspace-events", "KEA")
    pubsub = client.pubsub()
    try:
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
        client.pfadd("h", "a")
        client.pfadd("h", "a")  # no register changes: no event
        client.pfcount("h")     # rewrites the cache, but fires nothing
        client.pfmerge("d", "h")
        client.pfadd("h", "b")
        events = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            events.append((message["channel"], message["data"]))
        assert events == [(b"__keyevent@0__:pfadd", b"h"), (b"__keyevent@0__:pfadd", b"d"),
                          (b"__keyevent@0__:pfadd", b"h")]
    finally:
        pubsub.close()
        client.config_set("notify-keyspace-events", "")


@pytest.mark.parametrize("server", ["yizhan", "redis"])
def test_pfcount_recomputing_the_cache_touches_watchers(server, yizhan_redis, reference):
    client = yizhan_redis if server == "yizhan" else reference
    client.pfadd("h", "a", "b")
    with client.pipeline() as pipe:
        pipe.watch("h")
        client.pfcount("h")  # another connection: the stale cache is rewritten
        pipe.multi()
        pipe.get("h")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    with client.pipeline() as pipe:
        pipe.watch("h")
        client.pfcount("h")  # the cache is valid now: nothing is written
        pipe.multi()
        pipe.pfcount("h")
        assert pipe.execute() == [2]


def test_pfselftest(yizhan_redis):
    assert yizhan_redis.execute_command("PFSELFTEST") == b"OK"

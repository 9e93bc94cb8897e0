"""Memory figures against redis-server 7.0 (issues 14 and 17): MEMORY USAGE of one key of every
encoding, MEMORY STATS's fields and INFO memory's rows.

MEMORY USAGE is compared as a number. Where Redis's figure is deterministic (strings, listpacks,
intsets, quicklists, streams, dense HyperLogLogs) yizhan must give the same number of bytes.
Where it is not, a tolerance is stated per case, from what makes redis-server's own figure move:
a dict counts both tables while it rehashes (a set or hash of 20-1000 members is often mid-way,
up to +50% of its bucket bytes, about 10% of the whole), a skiplist node's level is random, a
large list's node boundaries depend on each node's fill, and a sparse HyperLogLog holds the room
its last growth gave it (between its length and twice it)."""

from __future__ import annotations

import pytest
import redis

STRING_KEYS = {"str:embstr": ("set", "value:00000001"), "str:int": ("set", "123456789"),
               "str:negative": ("set", "-42"), "str:raw": ("set", "x" * 100), "str:big": ("set", "y" * 5000),
               "str:44": ("set", "z" * 44), "str:45": ("set", "z" * 45)}


def fill(client: redis.Redis) -> None:
    client.flushall()
    p = client.pipeline(transaction=False)
    for key, (_, value) in STRING_KEYS.items():
        p.set(key, value)
    p.setrange("str:appended", 0, "abc")
    p.append("str:appended", "defgh" * 10)
    p.hset("hash:listpack", mapping={f"field:{i}": f"value:{i}" for i in range(20)})
    p.hset("hash:listpack-ints", mapping={str(i): i * 1000 for i in range(30)})
    p.hset("hash:hashtable", mapping={f"field:{i}": f"value:{i}" for i in range(1000)})
    p.sadd("set:intset16", *range(20))
    p.sadd("set:intset64", *[i * 10_000_000_000 for i in range(20)])
    p.sadd("set:hashtable", *[f"member:{i}" for i in range(1000)])
    p.sadd("set:small-strings", *[f"member:{i}" for i in range(20)])
    p.zadd("zset:listpack", {f"member:{i}": i * 3 for i in range(20)})
    p.zadd("zset:listpack-floats", {f"m{i}": i / 7 for i in range(20)})
    p.zadd("zset:listpack-infinite", {"low": "-inf", "high": "inf", "mid": 1.5, "big": 2 ** 70})
    p.zadd("zset:skiplist", {f"member:{i}": i * 3 for i in range(1000)})
    p.rpush("list:small", *[f"element:{i}" for i in range(20)])
    p.rpush("list:large", *[f"element:{i}" for i in range(20000)])
    p.pfadd("hll:sparse", *range(100))
    p.pfadd("hll:dense", *range(5000))
    for i in range(50):
        p.xadd("stream", {"field": f"v{i}", "other": "x"})
    p.execute()


EXACT = sorted([*STRING_KEYS, "str:appended", "hash:listpack", "hash:listpack-ints", "set:intset16",
                "set:intset64", "zset:listpack", "zset:listpack-floats", "zset:listpack-infinite", "list:small", "hll:dense", "stream"])
TOLERANCE = {"hash:hashtable": 0.05, "set:hashtable": 0.05, "set:small-strings": 0.15, "zset:skiplist": 0.05,
             "list:large": 0.05, "hll:sparse": 0.3}


@pytest.fixture(scope="module")
def usages(yizhan_server, reference_redis) -> dict[str, tuple[int, int]]:
    """(yizhan, redis-server) MEMORY USAGE ... SAMPLES 0 of every key."""
    ours, theirs = redis.Redis(port=yizhan_server.port), redis.Redis(port=reference_redis.port)
    fill(ours)
    fill(theirs)
    keys = sorted(k.decode() for k in theirs.keys())
    assert keys == sorted(k.decode() for k in ours.keys())
    result = {key: (ours.memory_usage(key, samples=0), theirs.memory_usage(key, samples=0)) for key in keys}
    ours.flushall()
    theirs.flushall()
    return result


def test_every_case_is_checked(usages):
    assert sorted(usages) == sorted([*EXACT, *TOLERANCE])


@pytest.mark.parametrize("key", EXACT)
def test_usage_equals_redis(usages, key):
    ours, theirs = usages[key]
    assert ours == theirs


@pytest.mark.parametrize("key", sorted(TOLERANCE))
def test_usage_close_to_redis(usages, key):
    ours, theirs = usages[key]
    assert abs(ours - theirs) <= TOLERANCE[key] * theirs, (ours, theirs)


def _shape(value):
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else type(value).__name__


@pytest.mark.parametrize("protocol", [2, 3])
def test_memory_stats_has_redis_fields(yizhan_server, reference_redis, protocol):
    shapes = []
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port, protocol=protocol)
        client.flushall()
        client.set("a", "1")
        client.set("b", "2", ex=100)
        client.execute_command("SELECT", 3)
        client.set("c", "3")
        reply = client.execute_command("MEMORY", "STATS")
        if isinstance(reply, list):  # RESP2: a flat list, the db.N entries flat lists too
            reply = _pairs(reply)
        shapes.append(_shape(reply))
        client.flushall()
    ours, theirs = shapes
    assert list(ours) == list(theirs)
    assert ours == theirs


def _pairs(flat: list) -> dict:
    return {flat[i]: _pairs(flat[i + 1]) if isinstance(flat[i + 1], list) else flat[i + 1]
            for i in range(0, len(flat), 2)}


def test_info_memory_rows_are_redis_rows(yizhan_server, reference_redis):
    rows = []
    for port in (yizhan_server.port, reference_redis.port):
        rows.append(list(redis.Redis(port=port).info("memory")))
    assert rows[0] == rows[1]


def test_memory_doctor_on_an_empty_instance(yizhan_server, reference_redis):
    replies = []
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port)
        client.flushall()
        replies.append(client.execute_command("MEMORY", "DOCTOR"))
    assert replies[0] == replies[1]


CONFIG_CASES = [
    ["CONFIG", "SET", "maxmemory-clients", "10%"], ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "1000"], ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "1mb"], ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "-5"], ["CONFIG", "SET", "maxmemory-clients", "abc"],
    ["CONFIG", "SET", "maxmemory-clients", "200%"], ["CONFIG", "SET", "maxmemory-clients", "x%"],
    ["CONFIG", "SET", "maxmemory-clients", "100%"], ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "0"], ["CONFIG", "GET", "maxmemory-clients"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_maxmemory_clients_config(differential, proto):
    differential.check(CONFIG_CASES, proto=proto)

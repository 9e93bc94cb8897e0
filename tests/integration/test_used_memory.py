"""INFO used_memory follows the data, as redis-server's does (issue 17): it grows as keys are
written, shrinks as they go, comes back to where it started after FLUSHALL, and is the figure
maxmemory holds the server to. The growth for the same writes is compared with redis-server's."""

from __future__ import annotations

import pytest
import redis


def used(client: redis.Redis) -> int:
    return client.info("memory")["used_memory"]


def data_memory(client: redis.Redis) -> int:
    """used_memory less what other tests of the session may leave moving: client buffers and
    a replication backlog (a replica attached earlier keeps it growing with every write)."""
    info = client.info("memory")
    return (info["used_memory"] - info["mem_clients_normal"] - info["mem_clients_slaves"]
            - info["mem_replication_backlog"])


def load_strings(client: redis.Redis, count: int, prefix: str = "key") -> None:
    p = client.pipeline(transaction=False)
    for i in range(count):
        p.set(f"{prefix}:{i:08d}", f"value:{i:08d}")
    p.execute()


def load_hashes(client: redis.Redis, count: int) -> None:
    p = client.pipeline(transaction=False)
    for i in range(count):
        p.hset(f"hash:{i}", mapping={f"field:{f}": f"value:{f}" for f in range(30)})
    p.execute()


@pytest.fixture
def both(yizhan_server, reference_redis):
    clients = [redis.Redis(port=yizhan_server.port), redis.Redis(port=reference_redis.port)]
    for client in clients:
        client.flushall()
    yield clients
    for client in clients:
        client.config_set("maxmemory", 0)
        client.config_set("maxmemory-policy", "noeviction")
        client.flushall()


@pytest.mark.parametrize("load", [load_strings, load_hashes], ids=["strings", "hashes"])
def test_growth_is_redis_growth(both, load):
    growths = []
    for client in both:
        before = data_memory(client)
        load(client, 5000)
        growths.append(data_memory(client) - before)
    ours, theirs = growths
    assert 0.9 * theirs <= ours <= 1.1 * theirs, growths


def test_grows_and_shrinks_with_the_data(yizhan_redis):
    start = data_memory(yizhan_redis)
    load_strings(yizhan_redis, 10_000)
    load_hashes(yizhan_redis, 1000)
    full = data_memory(yizhan_redis)
    assert full - start > 10_000 * 60
    yizhan_redis.delete(*[f"key:{i:08d}" for i in range(5000)])
    half = data_memory(yizhan_redis)
    assert start < half < full - 5000 * 60
    p = yizhan_redis.pipeline(transaction=False)
    for i in range(1000):
        p.hdel(f"hash:{i}", *[f"field:{f}" for f in range(20)])
    p.execute()
    fewer_fields = data_memory(yizhan_redis)
    assert fewer_fields < half - 1000 * 20 * 15
    yizhan_redis.flushall()
    assert abs(data_memory(yizhan_redis) - start) < 4096


def test_dataset_and_overhead_add_up(yizhan_redis):
    load_strings(yizhan_redis, 1000)
    yizhan_redis.expire("key:00000001", 100)
    info = yizhan_redis.info("memory")
    assert info["used_memory"] == info["used_memory_overhead"] + info["used_memory_dataset"]
    assert info["used_memory_peak"] >= info["used_memory"]
    stats = yizhan_redis.memory_stats()
    assert stats["db.0"]["overhead.hashtable.expires"] > 0
    assert stats["keys.count"] == 1000
    # Redis 7.0 counts the dict entries (24 bytes) and value headers (16) as overhead; the
    # dataset is the rest of each key's MEMORY USAGE, plus the 8 bytes jemalloc rounds each
    # dict entry (the main dict's 1000, the expires dict's 1) up to
    usages = sum(yizhan_redis.memory_usage(f"key:{i:08d}") for i in range(1000))
    assert stats["dataset.bytes"] == usages - 1000 * (24 + 16) + 1001 * 8


def test_maxmemory_holds_used_memory_under_the_limit(both):
    for client in both:
        load_strings(client, 2000)
        limit = used(client) + 100_000
        client.config_set("maxmemory-policy", "allkeys-random")
        client.config_set("maxmemory", limit)
        load_strings(client, 10_000, prefix="more")
        assert client.info("stats")["evicted_keys"] > 0
        assert used(client) <= limit + 4096

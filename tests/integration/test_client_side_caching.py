"""redis-py's client-side caching (RESP3, `cache_config`) on both servers: reads are served
from the local cache until another client's write, a delete, an expiry or a flush makes the
server push an invalidation; redis-py's MONITOR and SLOWLOG helpers read the server's output."""

from __future__ import annotations

import time

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection


@pytest.fixture(autouse=True)
def _allow_redis_7_0(monkeypatch):
    """redis-py enables client-side caching only for servers that say they are 7.4 or later
    (a client policy: 7.0's tracking protocol, which it uses, is the same); both servers say
    7.0, so the floor is lowered for both alike."""
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")


def _cached_client(port: int) -> redis.Redis:
    return redis.Redis(port=port, protocol=3, cache_config=CacheConfig(), single_connection_client=True)


def test_reads_come_from_the_cache_until_invalidated(both_servers):
    writer = redis.Redis(port=both_servers)
    cached = _cached_client(both_servers)
    cache = cached.get_cache()
    writer.set("csc:k", "one")
    writer.hset("csc:h", "f", "v")
    assert cached.get("csc:k") == b"one"
    assert cached.hget("csc:h", "f") == b"v"
    assert cache.size == 2
    # served locally: a second read does not reach the server
    calls = _calls(writer, "get")
    assert cached.get("csc:k") == b"one"
    assert _calls(writer, "get") == calls
    writer.set("csc:k", "two")
    _settle(cached)
    assert cached.get("csc:k") == b"two"
    writer.hdel("csc:h", "f")
    _settle(cached)
    assert cached.hget("csc:h", "f") is None
    assert cached.get("csc:k") == b"two"
    assert cache.size >= 1
    writer.flushall()
    _settle(cached)
    assert cached.get("csc:other") is None  # reading the null invalidation empties the cache
    assert cache.size == 0
    cached.close()


def test_expiry_invalidates(both_servers):
    writer = redis.Redis(port=both_servers)
    cached = _cached_client(both_servers)
    writer.set("csc:e", "v", px=50)
    assert cached.get("csc:e") == b"v"
    time.sleep(0.2)
    assert writer.get("csc:e") is None  # the access that expires the key sends the invalidation
    _settle(cached)
    assert cached.get("csc:e") is None
    cached.close()


def test_monitor_and_slowlog_helpers(both_servers):
    client = redis.Redis(port=both_servers)
    with client.monitor() as monitor:
        redis.Redis(port=both_servers).set("csc:m", "x y")
        seen = monitor.next_command()
        while seen["command"].startswith("CLIENT") or seen["command"].startswith("HELLO"):
            seen = monitor.next_command()
    assert seen["command"] == "SET csc:m x y" and seen["db"] == 0 and seen["client_type"] == "tcp"
    client.slowlog_reset()
    client.config_set("slowlog-log-slower-than", 0)
    try:
        client.get("csc:slow")
        entries = client.slowlog_get(1)
    finally:
        client.config_set("slowlog-log-slower-than", 10000)
    assert entries[0]["command"] == b"CONFIG SET slowlog-log-slower-than 0" or entries[0]["command"] == b"GET csc:slow"
    assert set(entries[0]) >= {"id", "start_time", "duration", "command", "client_address", "client_name"}


def _calls(client: redis.Redis, name: str) -> int:
    return client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0)


def _settle(client: redis.Redis) -> None:
    """Let the invalidation arrive before the next read looks at the cache."""
    time.sleep(0.05)

"""pottery (Redis-backed Python containers and Redlock) end to end, on yizhan and on
redis-server 7.0, with the same assertions.

pottery builds Python's dict, list, set, deque, Counter and queue on Redis types, mostly inside
WATCH/MULTI/EXEC transactions that re-read what they changed; its Redlock acquires with SET NX PX
and extends and releases with Lua scripts (EVALSHA); NextID hands out ids with a Lua script;
BloomFilter sets and tests bits in pipelines (SETBIT/GETBIT); HyperLogLog is PFADD/PFCOUNT/
PFMERGE; RedisSimpleQueue is a stream (XADD, XREAD with BLOCK, XDEL); `redis_cache` memoizes into
a hash with an expiry."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from pottery import (BloomFilter, HyperLogLog, NextID, RedisCounter, RedisDeque, RedisDict, RedisList, RedisSet,
                     RedisSimpleQueue, Redlock, redis_cache)
from pottery.exceptions import ReleaseUnlockedLock

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


@pytest.fixture
def client(both_servers):
    return redis.Redis(port=both_servers)


def name() -> str:
    return f"pottery-{uuid.uuid4().hex[:8]}"


def test_containers(client):
    d = RedisDict({"a": 1, "b": [1, 2]}, redis=client, key=name())
    d["c"] = {"nested": True}
    d.update(d=4)
    assert dict(d) == {"a": 1, "b": [1, 2], "c": {"nested": True}, "d": 4}
    del d["a"]
    assert len(d) == 3 and "a" not in d and client.type(d.key) == b"hash"

    items = RedisList([1, 2, 3], redis=client, key=name())
    items.append(4)
    items.insert(0, 0)
    items[2] = "two"
    assert list(items) == [0, 1, "two", 3, 4] and items.pop() == 4 and items.pop(0) == 0
    del items[1]
    assert list(items) == [1, 3] and items.index(3) == 1

    members = RedisSet({"x", "y"}, redis=client, key=name())
    members |= {"z"}
    assert members == {"x", "y", "z"} and members.isdisjoint({"w"}) and "z" in members
    members.discard("x")
    assert sorted(members) == ["y", "z"]

    counts = RedisCounter("abracadabra", redis=client, key=name())
    assert counts.most_common(2) == [("a", 5), ("b", 2)] or counts.most_common(2) == [("a", 5), ("r", 2)]
    counts.update({"z": 3})
    counts.subtract({"a": 4})
    assert counts["a"] == 1 and counts["z"] == 3 and sum(counts.values()) == 10

    deque = RedisDeque([1, 2, 3], maxlen=4, redis=client, key=name())
    deque.appendleft(0)
    deque.append(4)  # maxlen: drops the left end
    assert list(deque) == [1, 2, 3, 4]
    deque.rotate(1)
    assert list(deque) == [4, 1, 2, 3] and deque.popleft() == 4 and deque.pop() == 3


def test_redlock_excludes_extends_and_releases(client):
    key = name()
    first = Redlock(key=key, masters={client}, auto_release_time=5)
    second = Redlock(key=key, masters={client}, auto_release_time=5)
    assert first.acquire() is True
    assert first.locked() > 0 and client.exists(f"redlock:{key}") == 1
    assert second.acquire(blocking=False) is False
    pttl_before = client.pttl(f"redlock:{key}")
    first.extend()
    assert client.pttl(f"redlock:{key}") >= pttl_before - 50
    released = threading.Event()

    def waiter():
        with second:
            released.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    first.release()
    assert released.wait(WAIT)
    thread.join(WAIT)
    assert client.exists(f"redlock:{key}") == 0
    with pytest.raises(ReleaseUnlockedLock):
        first.release()


def test_nextid_bloom_hyperloglog_queue_and_cache(client):
    ids = NextID(key=name(), masters={client})
    assert [next(ids) for _ in range(3)] == [1, 2, 3]

    bloom = BloomFilter(num_elements=100, false_positives=0.01, redis=client, key=name())
    bloom.update({"apple", "pear"})
    bloom.add("plum")
    assert "apple" in bloom and "plum" in bloom and "grape" not in bloom
    assert len(bloom) == 3 and client.type(bloom.key) == b"string"

    hll = HyperLogLog(["a", "b", "c", "a"], redis=client, key=name())
    other = HyperLogLog(["c", "d"], redis=client, key=name())
    assert len(hll) == 3
    hll.update(other)
    assert len(hll) == 4 and "d" in hll and "q" not in hll

    queue = RedisSimpleQueue(redis=client, key=name())
    for n in range(3):
        queue.put({"n": n})
    assert queue.qsize() == 3 and client.type(queue.key) == b"stream"
    assert [queue.get(timeout=1)["n"] for _ in range(3)] == [0, 1, 2]
    assert queue.empty()
    got = []
    consumer = threading.Thread(target=lambda: got.append(queue.get(timeout=WAIT)))
    consumer.start()
    queue.put("late")
    consumer.join(WAIT)
    assert got == ["late"]

    calls = []
    cache_key = name()

    @redis_cache(redis=client, key=cache_key, timeout=60)
    def expensive(n):
        calls.append(n)
        return n * 10

    assert [expensive(2), expensive(2), expensive(3)] == [20, 20, 30] and calls == [2, 3]
    assert client.hlen(cache_key) == 2 and 0 < client.ttl(cache_key) <= 60
    expensive.cache_clear()
    assert client.exists(cache_key) == 0

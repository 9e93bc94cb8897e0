"""cashews (an asyncio cache with decorators) end to end on its Redis backend, on yizhan and on
redis-server 7.0 (redis.asyncio underneath).

The plain backend SETs pickled values with PX, reads with GET/MGET, deletes by pattern with SCAN
+ UNLINK, counts hits with INCRBY + PEXPIRE in a Lua script and sliding windows with a sorted-set
script, and locks with SET NX PX plus a Lua unlock; the client-side backend keeps a local copy and
drops it on the invalidation messages of `CLIENT TRACKING on REDIRECT <id> BCAST PREFIX cashews:`,
which its SUBSCRIBEd connection to `__redis__:invalidate` receives."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis
from cashews import Cache
from cashews.exceptions import LockedError, RateLimitError

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


@pytest.fixture
async def cache(both_servers):
    cache = Cache()
    cache.setup(f"redis://127.0.0.1:{both_servers}", suppress=False)
    await cache.init()
    yield cache
    await cache.close()


async def test_decorators_and_plain_calls(cache, both_servers):
    client = redis.Redis(port=both_servers)
    calls = []
    prefix = uuid.uuid4().hex[:6]

    @cache(ttl="1m", key=prefix + ":square:{n}")
    async def square(n):
        calls.append(n)
        return n * n

    assert [await square(3), await square(3), await square(4)] == [9, 9, 16] and calls == [3, 4]
    assert 59_000 < client.pttl(f"{prefix}:square:3") <= 60_000
    await cache.set(f"{prefix}:a", {"x": 1}, expire=30)
    await cache.set_many({f"{prefix}:b": 2, f"{prefix}:c": [3]}, expire=30)
    assert await cache.get_many(f"{prefix}:a", f"{prefix}:b", f"{prefix}:missing") == ({"x": 1}, 2, None)
    assert await cache.incr(f"{prefix}:counter") == 1 and await cache.incr(f"{prefix}:counter", 5) == 6
    assert sorted([key async for key in cache.scan(f"{prefix}:*")]) == sorted(
        f"{prefix}:{k}" for k in ["square:3", "square:4", "a", "b", "c", "counter"])
    await cache.delete_match(f"{prefix}:square:*")
    assert client.exists(f"{prefix}:square:3", f"{prefix}:square:4") == 0
    assert await square(3) == 9 and calls == [3, 4, 3]
    assert await cache.get_keys_count() == client.dbsize()


async def test_locks_and_rate_limits(cache):
    name = uuid.uuid4().hex[:6]
    async with cache.lock(f"{name}:lock", expire=10):
        assert await cache.is_locked(f"{name}:lock")
        with pytest.raises(LockedError):
            async with cache.lock(f"{name}:lock", expire=10, wait=False):
                pass
    assert not await cache.is_locked(f"{name}:lock")

    @cache.rate_limit(limit=3, period="1m")
    async def fixed(key):
        return key

    @cache.slice_rate_limit(limit=2, period="1m")
    async def sliding(key):
        return key

    assert [await fixed(name) for _ in range(3)] == [name] * 3
    with pytest.raises(RateLimitError):
        await fixed(name)
    assert [await sliding(name) for _ in range(2)] == [name] * 2
    with pytest.raises(RateLimitError):
        await sliding(name)


async def test_client_side_cache_is_invalidated_by_tracking(both_servers):
    url = f"redis://127.0.0.1:{both_servers}"
    reader, writer = Cache(), Cache()
    # RESP2: cashews reads invalidations as pub/sub messages; under redis-py 8's RESP3 default they
    # arrive as push frames that its listener never sees (on redis-server as on yizhan)
    reader.setup(url, client_side=True, suppress=False, protocol=2)
    writer.setup(url, client_side=True, suppress=False, protocol=2)
    await reader.init()
    await writer.init()
    key = f"cs-{uuid.uuid4().hex[:6]}"
    try:
        await writer.set(key, "v1")
        assert await reader.get(key) == "v1"
        redis.Redis(port=both_servers).set(f"cashews:{key}", b"not read")  # the local copy answers
        await writer.delete(key)
        await writer.set(key, "v2")
        deadline = time.monotonic() + WAIT
        while (value := await reader.get(key)) != "v2":  # the invalidation message drops the local copy
            assert time.monotonic() < deadline, f"the reader still sees {value!r}"
            await asyncio.sleep(0.01)
    finally:
        await reader.close()
        await writer.close()

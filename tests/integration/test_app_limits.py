"""limits (the rate-limiting library under Flask-Limiter and SlowAPI) end to end, on yizhan and on
redis-server 7.0, through its sync and asyncio Redis storages.

Every strategy is a Lua script that limits registers once and runs with EVALSHA: the fixed
window INCRBYs a counter and EXPIREs it on the first hit; the moving window LPUSHes Lua numbers
(timestamps with a fraction, which Redis turns into strings as Lua's %.17g) into a list, LTRIMs
it and binary-searches it with LINDEX; the sliding window counter weighs the previous window's
count by its PTTL and RENAMEs the current window into the previous one when it rolls over.
`reset()` deletes the prefix's keys from a script that calls KEYS."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from limits import parse
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from yizhan.testing.wait import wait_for

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing
STRATEGIES = [FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter]


@pytest.fixture
def storage(both_servers):
    return RedisStorage(f"redis://127.0.0.1:{both_servers}", key_prefix=f"lim-{uuid.uuid4().hex[:6]}")


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_strategy_allows_the_limit_then_refuses(storage, strategy):
    limiter = strategy(storage)
    limit = parse("5/minute")
    assert [limiter.hit(limit, "user", "a") for _ in range(7)] == [True] * 5 + [False] * 2
    assert limiter.test(limit, "user", "b") is True and limiter.test(limit, "user", "a") is False
    stats = limiter.get_window_stats(limit, "user", "a")
    assert stats.remaining == 0 and stats.reset_time > time.time()
    assert limiter.hit(limit, "user", "b", cost=5) is True and limiter.hit(limit, "user", "b") is False
    assert limiter.hit(limit, "user", "c", cost=6) is False
    limiter.clear(limit, "user", "a")
    assert limiter.hit(limit, "user", "a") is True
    assert limiter.get_window_stats(limit, "user", "a").remaining == 4


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_window_opens_again_after_it_passes(storage, strategy):
    limiter = strategy(storage)
    limit = parse("3/second")
    assert [limiter.hit(limit, "burst") for _ in range(4)] == [True, True, True, False]
    wait_for(lambda: limiter.test(limit, "burst"), "the window to pass", timeout=5)
    assert limiter.hit(limit, "burst") is True


def test_stored_keys_and_reset(storage, both_servers):
    client = redis.Redis(port=both_servers)
    prefix = storage.key_prefix
    FixedWindowRateLimiter(storage).hit(parse("10/hour"), "fixed")
    MovingWindowRateLimiter(storage).hit(parse("10/hour"), "moving", cost=3)
    SlidingWindowCounterRateLimiter(storage).hit(parse("10/hour"), "sliding", cost=2)
    fixed = f"{prefix}:LIMITER/fixed/10/1/hour"
    moving = f"{prefix}:LIMITER/moving/10/1/hour"
    assert client.get(fixed) == b"1" and 3590 < client.ttl(fixed) <= 3600
    entries = client.lrange(moving, 0, -1)
    assert len(entries) == 3 and len(set(entries)) == 1
    # LPUSH of a Lua number: Redis converts it with %.17g, so the fraction survives
    assert abs(float(entries[0]) - time.time()) < 60 and b"." in entries[0]
    sliding = sorted(key for key in client.keys(f"{prefix}:*sliding*"))
    assert len(sliding) == 1 and client.get(sliding[0]) == b"2" and 7190_000 < client.pttl(sliding[0]) <= 7200_000
    assert storage.reset() == 3
    assert client.keys(f"{prefix}:*") == []


async def test_async_storage_moving_window(both_servers):
    storage = AsyncRedisStorage(f"async+redis://127.0.0.1:{both_servers}", key_prefix=f"alim-{uuid.uuid4().hex[:6]}",
                                implementation="redispy")
    limiter = AsyncMovingWindowRateLimiter(storage)
    limit = parse("4 per 10 seconds")
    assert [await limiter.hit(limit, "k") for _ in range(5)] == [True] * 4 + [False]
    stats = await limiter.get_window_stats(limit, "k")
    assert stats.remaining == 0 and time.time() < stats.reset_time <= time.time() + 10
    assert await storage.check() is True

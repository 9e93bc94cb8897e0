"""python-redis-lock end to end, on yizhan and on redis-server 7.0.

A lock is `SET lock:<name> <id> NX EX <expire>`; a waiter BLPOPs the lock's signal list; release
runs a Lua script (EVALSHA) that checks the owner, DELetes the lock, LPUSHes the signal and
PEXPIREs it, which wakes exactly one waiter; `extend` and `reset` are scripts too, the renewal
thread extends a held lock, and `reset_all` finds every lock with KEYS inside a script."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
import redis_lock

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


@pytest.fixture
def client(both_servers):
    return redis.Redis(port=both_servers)


def test_lock_excludes_and_release_wakes_a_waiter(client):
    name = f"res-{uuid.uuid4().hex[:6]}"
    first = redis_lock.Lock(client, name, expire=30, id=b"first")
    assert first.acquire() is True
    assert client.get(f"lock:{name}") == b"first" and 25 < client.ttl(f"lock:{name}") <= 30
    assert first.locked() and first.get_owner_id() == "first"
    assert redis_lock.Lock(client, name, id=b"other").acquire(blocking=False) is False
    acquired = threading.Event()
    waiter_lock = redis_lock.Lock(client, name, expire=30, id=b"waiter")

    def waiter():
        if waiter_lock.acquire(timeout=WAIT):  # BLPOP on lock-signal:<name>
            acquired.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.monotonic() + WAIT
    while client.info("clients")["blocked_clients"] < 1:
        assert time.monotonic() < deadline, "the waiter never blocked"
        time.sleep(0.01)
    first.release()
    assert acquired.wait(WAIT)
    thread.join(WAIT)
    assert client.get(f"lock:{name}") == b"waiter"
    with pytest.raises(redis_lock.NotAcquired):
        first.release()
    waiter_lock.release()
    assert client.exists(f"lock:{name}") == 0
    assert client.lrange(f"lock-signal:{name}", 0, -1) == [b"1"] and 0 < client.pttl(f"lock-signal:{name}") <= 1000


def test_extend_renewal_and_reset(client):
    name = f"res-{uuid.uuid4().hex[:6]}"
    lock = redis_lock.Lock(client, name, expire=2)
    with lock:
        client.expire(f"lock:{name}", 1)
        lock.extend(expire=50)
        assert 45 < client.ttl(f"lock:{name}") <= 50
        with pytest.raises(redis_lock.NotExpirable):
            client.persist(f"lock:{name}")
            lock.extend(expire=10)
    renewed = redis_lock.Lock(client, f"{name}-auto", expire=1, auto_renewal=True)
    renewed.acquire()
    key = f"lock:{name}-auto"
    lowest = client.pttl(key)  # falls until the renewer thread (every 2/3 s) puts it back to 1 s
    deadline = time.monotonic() + WAIT
    while (pttl := client.pttl(key)) <= lowest:
        lowest = pttl
        time.sleep(0.01)
        assert client.exists(key) == 1 and time.monotonic() < deadline, "the renewer never extended the lock"
    renewed.release()
    held = [redis_lock.Lock(client, f"{name}-{n}", expire=60) for n in range(3)]
    for lock in held:
        lock.acquire()
    held[0].reset()
    assert client.exists(f"lock:{name}-0") == 0
    redis_lock.reset_all(client)
    assert client.keys("lock:*") == []

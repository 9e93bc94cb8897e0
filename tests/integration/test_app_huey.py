"""huey end to end, on yizhan and on redis-server 7.0: a consumer (worker threads plus the
scheduler thread) runs in the test process.

RedisHuey keeps its queue in a list (LPUSH, BRPOP with a fractional timeout), scheduled tasks in a
sorted set popped by a Lua script (EVALSHA of ZRANGEBYSCORE + ZREMRANGEBYSCORE), results, locks
and revocations in a hash (HSET, HSETNX for locks, HDEL to read once); PriorityRedisHuey keeps the
queue in a sorted set instead (ZADD with negated priorities, BZPOPMIN)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from huey import PriorityRedisHuey, RedisHuey, crontab
from huey.exceptions import TaskException

from yizhan.testing.wait import wait_for

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


def start_consumer(huey, workers: int = 2):
    consumer = huey.create_consumer(workers=workers, periodic=True, check_worker_health=False,
                                    initial_delay=0.01, max_delay=0.05)
    consumer.start()
    return consumer


@pytest.fixture
def huey(both_servers):
    return RedisHuey(f"huey-{uuid.uuid4().hex[:6]}", port=both_servers, read_timeout=0.1)


def test_tasks_results_retries_schedule_and_periodic(huey):
    ran = []
    tries = {"n": 0}

    @huey.task()
    def multiply(a, b):
        return a * b

    @huey.task(retries=2, retry_delay=0)
    def flaky():
        tries["n"] += 1
        if tries["n"] < 3:
            raise RuntimeError("again")
        return "done"

    @huey.task()
    def broken():
        raise ValueError("nope")

    @huey.periodic_task(crontab())  # every minute: the scheduler enqueues it at its first check
    def every_minute():
        ran.append("periodic")

    results = [multiply(n, 3) for n in range(6)]
    scheduled = multiply.schedule((5, 5), delay=0.5)
    past_eta = multiply.schedule((4, 4), eta=datetime.datetime.now() - datetime.timedelta(seconds=1))
    retried = flaky()
    failed = broken()
    assert huey.pending_count() == 10
    consumer = start_consumer(huey)
    try:
        assert [r.get(blocking=True, timeout=WAIT) for r in results] == [0, 3, 6, 9, 12, 15]
        assert scheduled.get(blocking=True, timeout=WAIT) == 25
        assert past_eta.get(blocking=True, timeout=WAIT) == 16
        assert retried.get(blocking=True, timeout=WAIT) == "done" and tries["n"] == 3
        with pytest.raises(TaskException) as caught:
            failed.get(blocking=True, timeout=WAIT)
        assert "ValueError" in caught.value.metadata["error"]
        wait_for(lambda: ran, "the periodic task")
    finally:
        consumer.stop(graceful=True)
    assert huey.pending_count() == 0 and huey.scheduled_count() == 0
    assert huey.result(results[0].id) is None  # a result is read once (HDEL)
    assert len(huey.all_results()) == 0


def test_revoke_lock_and_result_store(huey):
    @huey.task()
    def echo(value):
        return value

    @huey.task()
    @huey.lock_task("the-lock")
    def locked():
        return "ran"

    kept = echo("kept")
    revoked = echo("revoked")
    revoked.revoke()
    assert revoked.is_revoked()
    after = echo("after")
    with huey.lock_task("the-lock"):
        assert huey.is_locked("the-lock")
        refused = locked()
        consumer = start_consumer(huey, workers=1)
        try:
            with pytest.raises(TaskException) as caught:
                refused.get(blocking=True, timeout=WAIT)
            assert caught.value.metadata["error"].startswith("TaskLockedException")
            assert kept.get(blocking=True, timeout=WAIT) == "kept" and after.get(blocking=True, timeout=WAIT) == "after"
        finally:
            consumer.stop(graceful=True)
    assert not huey.is_locked("the-lock")
    assert revoked.get() is None and huey.pending_count() == 0
    echo.revoke()
    assert echo.is_revoked()
    echo.restore()
    assert not echo.is_revoked()
    huey.put("a-key", {"answer": 42})
    assert huey.get("a-key", peek=True) == {"answer": 42}
    assert huey.get("a-key") == {"answer": 42} and huey.get("a-key") is None
    consumer = start_consumer(huey, workers=1)
    try:
        assert locked().get(blocking=True, timeout=WAIT) == "ran"
    finally:
        consumer.stop(graceful=True)


def test_priority_queue_runs_highest_priority_first(both_servers):
    huey = PriorityRedisHuey(f"hp-{uuid.uuid4().hex[:6]}", port=both_servers, read_timeout=0.1)
    order = []

    @huey.task()
    def record(n):
        order.append(n)

    for n, priority in enumerate([1, 9, 0, 5, 9, 3]):
        huey.enqueue(record.s(n, priority=priority))
    assert huey.pending_count() == 6
    consumer = start_consumer(huey, workers=1)
    try:
        wait_for(lambda: len(order) == 6, "six tasks")
    finally:
        consumer.stop(graceful=True)
    assert order == [1, 4, 3, 5, 0, 2]

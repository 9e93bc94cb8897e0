"""arq end to end, on yizhan and on redis-server 7.0 (redis.asyncio underneath).

arq keeps its queue in a sorted set scored by the time a job may run (ZADD, ZRANGEBYSCORE with
LIMIT), claims a job with WATCH/MULTI/EXEC on an in-progress key (PSETEX), stores jobs and results
as pickled strings with expiries, retries by re-scoring the job, aborts through a second sorted
set, and enqueues a unique job id only once (a transaction that WATCHes the job key). The worker
runs in burst mode: it returns once the queue's sorted set is empty."""

from __future__ import annotations

import asyncio

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.cron import cron
from arq.jobs import JobStatus
from arq.worker import Retry, Worker, func

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


async def add(ctx, a, b):
    return a + b


async def flaky(ctx, n):
    if ctx["job_try"] < 3:
        raise Retry(defer=0.01)
    return n * ctx["job_try"]


async def fails(ctx, message):
    raise ValueError(message)


async def sleeper(ctx):
    await asyncio.sleep(60)


async def tick(ctx):
    await ctx["redis"].incr("ticks")


@pytest.fixture
async def pool(both_servers):
    redis_pool = await create_pool(RedisSettings(port=both_servers))
    yield redis_pool
    await redis_pool.aclose()


def make_worker(port: int, **options) -> Worker:
    return Worker(functions=[add, func(flaky, max_tries=5), fails, sleeper], redis_settings=RedisSettings(port=port),
                  burst=True, poll_delay=0.01, handle_signals=False, **options)


async def test_jobs_results_retries_and_deferred_jobs(pool, both_servers):
    jobs = [await pool.enqueue_job("add", n, 10) for n in range(5)]
    deferred = await pool.enqueue_job("add", 1, 1, _defer_by=0.2)
    retried = await pool.enqueue_job("flaky", 7)
    failed = await pool.enqueue_job("fails", "boom")
    unique = await pool.enqueue_job("add", 2, 2, _job_id="only-once")
    assert await pool.enqueue_job("add", 3, 3, _job_id="only-once") is None
    assert await deferred.status() == JobStatus.deferred
    assert await jobs[0].status() == JobStatus.queued
    assert len(await pool.queued_jobs()) == 9

    worker = make_worker(both_servers)
    await asyncio.wait_for(worker.main(), WAIT)
    await worker.close()

    assert [await job.result(timeout=WAIT) for job in jobs] == [10, 11, 12, 13, 14]
    assert await deferred.result(timeout=WAIT) == 2
    assert await retried.result(timeout=WAIT) == 21
    assert await unique.result(timeout=WAIT) == 4
    with pytest.raises(ValueError, match="boom"):
        await failed.result(timeout=WAIT)
    info = await retried.result_info()
    assert info.success and info.job_try == 3 and info.function == "flaky"
    assert await jobs[0].status() == JobStatus.complete
    assert (worker.jobs_complete, worker.jobs_failed, worker.jobs_retried) == (8, 1, 2)
    results = await pool.all_job_results()
    assert sorted(r.job_id for r in results) == sorted(j.job_id for j in [*jobs, deferred, retried, failed, unique])
    assert await pool.queued_jobs() == []


async def test_abort_a_running_job(pool, both_servers):
    job = await pool.enqueue_job("sleeper")
    worker = make_worker(both_servers, allow_abort_jobs=True)
    running = asyncio.create_task(worker.main())
    for _ in range(int(WAIT * 100)):
        if await job.status() == JobStatus.in_progress:
            break
        await asyncio.sleep(0.01)
    assert await job.abort(timeout=WAIT) is True
    await asyncio.wait_for(running, WAIT)
    await worker.close()
    assert worker.jobs_failed == 1
    assert await pool.zcard("arq:abort") == 0


async def test_cron_job_runs_at_startup(pool, both_servers):
    worker = Worker(functions=[add], cron_jobs=[cron(tick, run_at_startup=True, second=0, minute=0, hour=0)],
                    redis_settings=RedisSettings(port=both_servers), burst=True, poll_delay=0.01,
                    handle_signals=False)
    await asyncio.wait_for(worker.main(), WAIT)
    health = await pool.get("arq:queue:health-check")  # PSETEX'd at the first heartbeat, deleted by close()
    assert b"j_complete=0 " in health and 3600_000 < await pool.pttl("arq:queue:health-check") <= 3601_000
    await worker.close()
    assert await pool.exists("arq:queue:health-check") == 0
    assert await pool.get("ticks") == b"1"
    assert worker.jobs_complete == 1

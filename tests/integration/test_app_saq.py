"""saq (Simple Async Queue) end to end on its Redis queue, on yizhan and on redis-server 7.0: a
worker runs as a task in the test's event loop.

saq enqueues with a Lua script (SET the job unless its key exists, RPUSH the id or ZADD it to the
schedule), a worker takes ids with BLMOVE from the queue list to an active list, moves due
scheduled jobs with another script, reports each job's status by PUBLISHing on its id (clients
waiting in `apply`/`map` PSUBSCRIBE the queue's prefix), retries failed jobs, and keeps
worker info in keys with expiries.

Aborting a running job is left out: saq's worker notices an abort only on a poll that races the
job's own status updates, and the job then ran to its end once on redis-server too."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from saq import Queue, Worker
from saq.job import Status

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


async def add(ctx, *, a, b):
    return a + b


async def flaky(ctx, *, n):
    if ctx["job"].attempts < 3:
        raise RuntimeError(f"attempt {ctx['job'].attempts}")
    return n


async def fails(ctx):
    raise ValueError("broken")


@pytest.fixture
async def queue(both_servers):
    queue = Queue.from_url(f"redis://127.0.0.1:{both_servers}", name=f"saq-{uuid.uuid4().hex[:6]}")
    await queue.connect()
    yield queue
    await queue.disconnect()


class Running:
    def __init__(self, queue):
        self.worker = Worker(queue, functions=[add, flaky, fails], concurrency=4, dequeue_timeout=0.1,
                             timers={"schedule": 1, "abort": 1, "sweep": 60, "worker_info": 10})

    async def __aenter__(self):
        self.task = asyncio.create_task(self.worker.start())
        # The worker sweeps its active list once at start (then every 60 s); a job moved there
        # before its status says active would be swept, a race in saq that hits redis-server
        # too. The sweep's script leaves its lock key behind: the first sweep is done then.
        queue = self.worker.queue
        deadline = time.monotonic() + WAIT
        while not await queue.redis.exists(queue._sweep):
            assert time.monotonic() < deadline, "the worker never swept"
            await asyncio.sleep(0.01)
        return self.worker

    async def __aexit__(self, *exc):
        await self.worker.stop()
        await asyncio.wait_for(self.task, WAIT)


async def test_jobs_results_retries_schedule_and_failures(queue):
    async with Running(queue):
        assert await queue.apply("add", timeout=WAIT, a=1, b=2) == 3
        assert await queue.map("add", [{"a": n, "b": n} for n in range(5)], timeout=WAIT) == [0, 2, 4, 6, 8]
        retried = await queue.enqueue("flaky", n=42, retries=3, retry_delay=0.0)
        scheduled = await queue.enqueue("add", a=5, b=5, scheduled=time.time() + 0.5)
        failed = await queue.enqueue("fails")
        for job in (retried, scheduled, failed):
            await job.refresh(until_complete=WAIT)
        assert (retried.status, retried.result, retried.attempts) == (Status.COMPLETE, 42, 3)
        assert (scheduled.status, scheduled.result) == (Status.COMPLETE, 10)
        assert failed.status == Status.FAILED and "ValueError: broken" in failed.error
        unique = await queue.enqueue("add", key="only-once", a=1, b=1)
        assert await queue.enqueue("add", key="only-once", a=1, b=1) is None  # the enqueue script's SET NX
        await unique.refresh(until_complete=WAIT)
        assert unique.result == 2
        info = await queue.info(jobs=True)
        assert info["queued"] == 0 and info["scheduled"] == 0
        assert len(info["workers"]) == 1
    assert await queue.count("queued") == 0 and await queue.count("incomplete") == 0

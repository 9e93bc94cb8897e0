"""taskiq with taskiq-redis end to end, on yizhan and on redis-server 7.0: a receiver (taskiq's
worker loop, started with `taskiq.api.run_receiver_task`) runs in the test's event loop.

- RedisStreamBroker: XGROUP CREATE ... MKSTREAM, XADD, XREADGROUP with BLOCK and COUNT, XACK,
  and a pipeline that takes a redis-py lock (SET NX PX), XAUTOCLAIMs messages idle longer than
  `idle_timeout` (a dead consumer's) and releases the lock with a Lua script;
- ListQueueBroker: LPUSH and BRPOP; PubSubBroker: PUBLISH to a subscribed worker;
- RedisAsyncResultBackend: results and progress as pickled strings (SET with EX, GETDEL);
- ListRedisScheduleSource: cron and one-off schedules in keys and lists."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid

import pytest
import redis
from taskiq.api import run_receiver_task
from taskiq.depends.progress_tracker import TaskProgress, TaskState
from taskiq.scheduler.scheduled_task import ScheduledTask
from taskiq_redis import (ListQueueBroker, ListRedisScheduleSource, PubSubBroker, RedisAsyncResultBackend,
                          RedisStreamBroker)

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


async def wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class Running:
    """A broker with its tasks, started, and its receiver in a background task."""

    def __init__(self, broker):
        self.broker = broker

    async def __aenter__(self):
        await self.broker.startup()
        self.receiver = asyncio.create_task(run_receiver_task(self.broker))
        return self.broker

    async def __aexit__(self, *exc):
        self.receiver.cancel()
        await asyncio.gather(self.receiver, return_exceptions=True)
        await self.broker.shutdown()


def with_tasks(broker):
    @broker.task(task_name="add")
    async def add(a: int, b: int) -> int:
        return a + b

    @broker.task(task_name="fail")
    async def fail(message: str) -> None:
        raise ValueError(message)

    @broker.task(task_name="square")
    def square(n: int) -> int:  # a sync task: taskiq runs it in a thread
        return n * n

    return add, fail, square


@pytest.fixture
def url(both_servers):
    return f"redis://127.0.0.1:{both_servers}"


def backend(url: str, keep_results: bool = True):
    return RedisAsyncResultBackend(url, keep_results=keep_results, result_ex_time=60,
                                   prefix_str=f"res-{uuid.uuid4().hex[:6]}")


@pytest.mark.parametrize("kind", ["stream", "list", "pubsub"])
async def test_tasks_run_and_results_read_back(url, both_servers, kind):
    queue = f"tq-{uuid.uuid4().hex[:6]}"
    if kind == "stream":
        broker = RedisStreamBroker(url, queue_name=queue, xread_block=100)
    elif kind == "list":
        broker = ListQueueBroker(url, queue_name=queue)
    else:
        broker = PubSubBroker(url, queue_name=queue)
    broker = broker.with_result_backend(backend(url))
    add, fail, square = with_tasks(broker)
    client = redis.asyncio.Redis(port=both_servers)
    async with Running(broker):
        if kind == "pubsub":  # a publish before the worker subscribes reaches nobody
            await wait_for(lambda: _subscribers(client, queue), "the worker's subscription")
        sent = [await add.kiq(n, 100) for n in range(5)] + [await square.kiq(12)]
        failed = await fail.kiq("boom")
        results = [await task.wait_result(timeout=WAIT) for task in sent]
        assert [r.return_value for r in results] == [100, 101, 102, 103, 104, 144]
        assert not any(r.is_err for r in results)
        error = await failed.wait_result(timeout=WAIT)
        assert error.is_err and isinstance(error.error, ValueError) and str(error.error) == "boom"
    if kind == "stream":
        group = (await client.xinfo_groups(queue))[0]
        assert group["name"] == b"taskiq" and group["pending"] == 0 and group["entries-read"] == 7
        assert await client.xlen(queue) == 7
    elif kind == "list":
        assert await client.llen(queue) == 0
    await client.aclose()


async def _subscribers(client, channel: str) -> bool:
    return dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) == 1


async def test_stream_broker_claims_a_dead_consumers_messages(url, both_servers):
    queue = f"tq-{uuid.uuid4().hex[:6]}"
    client = redis.asyncio.Redis(port=both_servers)
    producer = RedisStreamBroker(url, queue_name=queue).with_result_backend(backend(url))
    add, _, _ = with_tasks(producer)
    await producer.startup()
    sent = [await add.kiq(n, n) for n in range(3)]
    # a consumer reads them and dies without acking
    read = await client.xreadgroup("taskiq", "dead-consumer", {queue: ">"}, count=10)
    assert len(read[0][1]) == 3
    assert (await client.xpending(queue, "taskiq"))["pending"] == 3
    worker = RedisStreamBroker(url, queue_name=queue, xread_block=50, idle_timeout=1,
                               unacknowledged_lock_timeout=5).with_result_backend(producer.result_backend)
    with_tasks(worker)
    async with Running(worker):
        # the worker claims idle messages after each batch of new ones it reads
        assert (await (await add.kiq(5, 5)).wait_result(timeout=WAIT)).return_value == 10
        assert [(await task.wait_result(timeout=WAIT)).return_value for task in sent] == [0, 2, 4]
    assert (await client.xpending(queue, "taskiq"))["pending"] == 0
    consumers = {c["name"]: c["pending"] for c in await client.xinfo_consumers(queue, "taskiq")}
    assert consumers[b"dead-consumer"] == 0 and consumers[worker.consumer_name.encode()] == 0
    assert await client.exists(f"autoclaim:taskiq:{queue}") == 0
    await producer.shutdown()
    await client.aclose()


async def test_result_backend_and_schedule_source(url, both_servers):
    results = backend(url, keep_results=False)
    broker = ListQueueBroker(url, queue_name=f"tq-{uuid.uuid4().hex[:6]}").with_result_backend(results)
    add, _, _ = with_tasks(broker)
    client = redis.asyncio.Redis(port=both_servers)
    source = ListRedisScheduleSource(url, prefix=f"sched-{uuid.uuid4().hex[:6]}")
    await source.startup()
    cron = ScheduledTask(task_name="add", labels={}, args=[1, 2], kwargs={}, cron="*/5 * * * *", schedule_id="c1")
    past = ScheduledTask(task_name="add", labels={}, args=[3, 4], kwargs={}, time=_utc_in(-120), schedule_id="t1")
    await source.add_schedule(cron)
    await source.add_schedule(past)
    # the first read also finds the one-off schedules of past minutes (a SCAN over their keys)
    schedules = {s.schedule_id: s for s in await source.get_schedules()}
    assert set(schedules) == {"c1", "t1"} and schedules["c1"].cron == "*/5 * * * *"
    assert schedules["t1"].args == [3, 4]
    await source.delete_schedule("c1")
    await source.delete_schedule("t1")
    assert await source.get_schedules() == []
    await source.shutdown()
    async with Running(broker):
        task = await add.kiq(20, 22)
        await wait_for(task.is_ready, "the result")
        key = f"{results.prefix_str}:{task.task_id}"
        assert 55 <= await client.ttl(key) <= 60  # SET ... EX result_ex_time
        result = await task.get_result()
        assert result.return_value == 42 and result.execution_time >= 0
        assert await task.is_ready() is False  # read with keep_results=False: GETDEL
        await results.set_progress(task.task_id, TaskProgress(state=TaskState.STARTED, meta={"done": 3}))
        progress = await results.get_progress(task.task_id)
        assert progress.state == TaskState.STARTED and progress.meta == {"done": 3}
    await client.aclose()


def _utc_in(seconds: float):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)

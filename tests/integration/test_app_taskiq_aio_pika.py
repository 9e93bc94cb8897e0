"""taskiq with taskiq-aio-pika end to end against yizhan and RabbitMQ 3.10 (results on the same
kind of server's Redis side through taskiq-redis: yizhan for yizhan, redis-server for RabbitMQ).

The broker declares a direct exchange, a durable task queue with `x-dead-letter-exchange` into a
dead-letter queue, and a delay queue whose messages carry a per-message `expiration` and
dead-letter back into the task exchange when it passes (the `delay` label); a receiver in the
test's event loop consumes with a prefetch (basic.qos) and acks."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from taskiq.api import run_receiver_task
from taskiq_aio_pika import AioPikaBroker
from taskiq_aio_pika.exchange import Exchange
from taskiq_aio_pika.queue import Queue
from taskiq_redis import RedisAsyncResultBackend

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


@pytest.fixture
def urls(both_brokers, request):
    name, url = both_brokers
    server = request.getfixturevalue("yizhan_server" if name == "yizhan" else "reference_redis")
    return url, f"redis://127.0.0.1:{server.port}"


async def test_tasks_delays_and_results(urls):
    amqp_url, redis_url = urls
    tag = uuid.uuid4().hex[:6]
    broker = AioPikaBroker(amqp_url, exchange=Exchange(name=f"tq-{tag}"), task_queues=[Queue(name=f"tq-{tag}")],
                           dead_letter_queue=Queue(name=f"tq-{tag}.dead"), delay_queue=Queue(name=f"tq-{tag}.delay"))
    broker = broker.with_result_backend(RedisAsyncResultBackend(redis_url, result_ex_time=60, prefix_str=tag))

    @broker.task(task_name="add")
    async def add(a: int, b: int) -> int:
        return a + b

    @broker.task(task_name="fail")
    async def fail() -> None:
        raise KeyError("gone")

    broker.is_worker_process = True  # the receiver runs here: startup opens the read channel too
    await broker.startup()
    receiver = asyncio.create_task(run_receiver_task(broker))
    try:
        sent = [await add.kiq(n, 1) for n in range(5)]
        delayed = await add.kicker().with_labels(delay=1).kiq(40, 2)
        failed = await fail.kiq()
        assert [(await t.wait_result(timeout=WAIT)).return_value for t in sent] == [1, 2, 3, 4, 5]
        assert (await delayed.wait_result(timeout=WAIT)).return_value == 42
        error = await failed.wait_result(timeout=WAIT)
        assert error.is_err and isinstance(error.error, KeyError)
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await broker.shutdown()

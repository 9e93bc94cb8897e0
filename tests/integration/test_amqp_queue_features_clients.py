"""Queue features through the clients users run, against yizhan: aiormq's publisher confirm
nack from a reject-publish queue (the scenario of aiormq's test_broker_nack_details), aio-pika
per-message expiration dead-lettered into a delay queue's target (the delay/timeout pattern of
taskiq and aio-pika RPC users), aio-pika and kombu priority queues, and a Dramatiq-style
nack without requeue kept by dead-lettering."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import aiormq
import kombu
import pytest
from aiormq.exceptions import DeliveryError
from pamqp.commands import Basic

WAIT = 10.0


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_aiormq_reject_publish_nack_details(yizhan_amqp_url):
    connection = await aiormq.connect(yizhan_amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.queue_declare(
            exclusive=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        await channel.basic_publish(b"accepted", routing_key=queue.queue)
        with pytest.raises(DeliveryError) as caught:
            await channel.basic_publish(b"rejected", routing_key=queue.queue)
        error = caught.value
        assert isinstance(error.frame, Basic.Nack)
        assert error.frame.delivery_tag == 2
        assert "Basic.Nack" in str(error) and "delivery_tag=2" in str(error)
        message = await channel.basic_get(queue.queue, no_ack=True)
        assert message.body == b"accepted"
    finally:
        await connection.close()


async def test_aio_pika_expiration_dead_letters_into_the_target(yizhan_amqp_url):
    """A delay queue without consumers: messages expire after their own `expiration` and are
    dead-lettered to the work queue, shortest first only if they reach the head first."""
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        work = await channel.declare_queue(name("work"), exclusive=True)
        delay = await channel.declare_queue(name("delay"), exclusive=True, arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": work.name})
        for body, ms in ((b"first", 30), (b"second", 10)):
            await channel.default_exchange.publish(
                aio_pika.Message(body, expiration=ms / 1000), routing_key=delay.name)
        got = []
        async with work.iterator() as messages:
            async for message in messages:
                async with message.process():
                    got.append((message.body, message.headers["x-death"][0]["reason"],
                                message.expiration))
                if len(got) == 2:
                    break
        assert got == [(b"first", "expired", None), (b"second", "expired", None)]


async def test_aio_pika_priority_queue(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name("prio"), exclusive=True,
                                            arguments={"x-max-priority": 10})
        for body, priority in ((b"low", 1), (b"high", 9), (b"none", None), (b"mid", 5)):
            await channel.default_exchange.publish(aio_pika.Message(body, priority=priority),
                                                   routing_key=queue.name)
        got = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            got.append(message.body)
        assert got == [b"high", b"mid", b"low", b"none"]


async def test_nack_without_requeue_is_kept_by_dead_lettering(yizhan_amqp_url):
    """What Dramatiq relies on: a failed message nacked with requeue=false lands in the
    dead-letter queue with its x-death record."""
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.declare_queue(name("dq"), exclusive=True)
        queue = await channel.declare_queue(name("q"), exclusive=True, arguments={
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead.name})
        await channel.default_exchange.publish(aio_pika.Message(b"job", delivery_mode=2),
                                               routing_key=queue.name)
        message = await queue.get(timeout=WAIT)
        await message.nack(requeue=False)
        for _ in range(100):
            kept = await dead.get(no_ack=True, fail=False)
            if kept is not None:
                break
            await asyncio.sleep(0.02)
        assert kept.body == b"job" and kept.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert kept.headers["x-first-death-reason"] == "rejected"


def test_kombu_message_ttl_and_priority(yizhan_amqp_url):
    url = yizhan_amqp_url.replace("amqp://", "pyamqp://")
    with kombu.Connection(url) as conn:
        ttl_queue = kombu.Queue(name("ttl"), routing_key="ttl", message_ttl=0.02,
                                auto_delete=True)
        prio_queue = kombu.Queue(name("prio"), routing_key="prio", max_priority=5,
                                 auto_delete=True)
        with conn.channel() as channel:
            producer = kombu.Producer(channel)
            for queue in (ttl_queue, prio_queue):
                queue(channel).declare()
            producer.publish({"m": "expires"}, routing_key=ttl_queue.name, retry=False)
            for m, priority in (("a", 1), ("b", 5), ("c", 3)):
                producer.publish({"m": m}, routing_key=prio_queue.name, priority=priority,
                                 retry=False)
            asyncio.run(asyncio.sleep(0.1))
            assert ttl_queue(channel).get(no_ack=True) is None
            bound = prio_queue(channel)
            assert [bound.get(no_ack=True).payload["m"] for _ in range(3)] == ["b", "c", "a"]

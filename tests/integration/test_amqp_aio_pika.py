"""aio-pika (on aiormq) against yizhan: robust connection, publisher confirms, queue iterators,
prefetch, the RPC pattern with a reply queue and correlation ids, and field tables aiormq
encodes (floats included)."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import pytest

WAIT = 10.0


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_publish_and_consume_with_confirms(yizhan_amqp_url):
    connection = await aio_pika.connect_robust(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name(), auto_delete=True)
        for i in range(10):
            await channel.default_exchange.publish(aio_pika.Message(f"m{i}".encode()),
                                                   routing_key=queue.name)
        bodies = []
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():
                    bodies.append(message.body)
                if len(bodies) == 10:
                    break
        assert bodies == [f"m{i}".encode() for i in range(10)]


async def test_unroutable_mandatory_publish_is_returned(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        with pytest.raises(aio_pika.exceptions.DeliveryError) as info:
            await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=name(),
                                                   mandatory=True)
        assert info.value.message.body == b"x"


async def test_headers_with_floats_and_nesting(yizhan_amqp_url):
    headers = {"f": 1.25, "i": 7, "s": "text", "b": False, "nested": {"l": [1, 2.5, "x"]}}
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name(), exclusive=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"h", headers=headers, content_type="text/plain", priority=4),
            routing_key=queue.name)
        message = await queue.get(timeout=WAIT)
        await message.ack()
        assert message.headers == headers
        assert (message.content_type, message.priority) == ("text/plain", 4)


async def test_prefetch_limits_deliveries(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=2)
        queue = await channel.declare_queue(name(), exclusive=True)
        for i in range(5):
            await channel.default_exchange.publish(aio_pika.Message(b"%d" % i), routing_key=queue.name)
        held = []
        got_two = asyncio.Event()

        async def on_message(message):
            held.append(message)
            if len(held) == 2:
                got_two.set()

        await queue.consume(on_message)
        await asyncio.wait_for(got_two.wait(), WAIT)
        declared = await channel.declare_queue(queue.name, passive=True)
        assert declared.declaration_result.message_count == 3
        assert len(held) == 2
        for message in held:
            await message.ack()


async def test_rpc_pattern(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        server_channel = await connection.channel()
        requests = await server_channel.declare_queue(name("rpc"), auto_delete=True)

        async def serve(message):
            async with message.process():
                n = int(message.body)
                await server_channel.default_exchange.publish(
                    aio_pika.Message(str(n * n).encode(), correlation_id=message.correlation_id),
                    routing_key=message.reply_to)

        await requests.consume(serve)
        client = await connection.channel()
        replies = await client.declare_queue("", exclusive=True)
        futures: dict[str, asyncio.Future] = {}

        async def on_reply(message):
            async with message.process():
                futures.pop(message.correlation_id).set_result(int(message.body))

        await replies.consume(on_reply)
        results = []
        for n in (3, 4, 5):
            correlation = str(uuid.uuid4())
            future = futures[correlation] = asyncio.get_running_loop().create_future()
            await client.default_exchange.publish(
                aio_pika.Message(str(n).encode(), correlation_id=correlation,
                                 reply_to=replies.name), routing_key=requests.name)
            results.append(await asyncio.wait_for(future, WAIT))
        assert results == [9, 16, 25]


async def test_channel_error_is_raised_and_connection_survives(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await channel.declare_queue(name("missing"), passive=True)
        channel = await connection.channel()
        queue = await channel.declare_queue(name(), exclusive=True)
        assert queue.name


async def test_topic_exchange(yizhan_amqp_url):
    connection = await aio_pika.connect(yizhan_amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name("topic"), aio_pika.ExchangeType.TOPIC,
                                                  auto_delete=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "#.critical")
        for key in ("kern.critical", "a.b.critical", "critical", "kern.info"):
            await exchange.publish(aio_pika.Message(key.encode()), routing_key=key)
        got = []
        for _ in range(3):
            message = await queue.get(timeout=WAIT)
            await message.ack()
            got.append(message.body)
        assert got == [b"kern.critical", b"a.b.critical", b"critical"]
        assert await queue.get(fail=False) is None

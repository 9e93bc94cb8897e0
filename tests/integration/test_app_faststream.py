"""FastStream end to end with its RabbitMQ broker (aio-pika underneath) against yizhan and
RabbitMQ 3.10, and with its Redis broker (redis.asyncio) against yizhan and redis-server 7.0.

RabbitMQ: subscribers declare durable queues and bind them to direct, topic and fanout
exchanges; a handler's return value goes to the request's `reply_to`, and `broker.request` waits
for it on Direct Reply-to (`amq.rabbitmq.reply-to`); `@publisher` forwards a handler's result to
another queue; an exception nacks the message, which RabbitMQ redelivers once when requeued.
Redis: channel subscribers (SUBSCRIBE, PSUBSCRIBE for `{name}` patterns), list subscribers
(LPOP batches) and stream subscribers in a consumer group (XREADGROUP, XACK), with request/reply
over a temporary channel."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from faststream import AckPolicy, Path
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.redis import ListSub, RedisBroker, StreamSub

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


class Inbox:
    """Messages handlers received, and a way to wait for a number of them."""

    def __init__(self):
        self.items: list = []
        self.changed = asyncio.Event()

    def add(self, item) -> None:
        self.items.append(item)
        self.changed.set()

    async def wait(self, count: int) -> list:
        async def enough():
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), WAIT)
        return self.items


async def test_rabbitmq_routing_rpc_publishers_and_redelivery(both_brokers):
    _, url = both_brokers
    tag = uuid.uuid4().hex[:6]
    broker = RabbitBroker(url, logger=None)
    inbox, forwarded, attempts = Inbox(), Inbox(), []
    topic = RabbitExchange(f"logs-{tag}", type=ExchangeType.TOPIC, auto_delete=True)
    fanout = RabbitExchange(f"fan-{tag}", type=ExchangeType.FANOUT, auto_delete=True)

    @broker.subscriber(RabbitQueue(f"rpc-{tag}", auto_delete=True))
    async def double(n: int) -> int:
        return 2 * n

    @broker.subscriber(RabbitQueue(f"errors-{tag}", auto_delete=True, routing_key="logs.error.*"), topic)
    async def errors(body: dict):
        inbox.add(("error", body["text"]))

    def fanout_consumer(n: int):
        async def fanned(body: str):
            inbox.add((f"fan{n}", body))
        broker.subscriber(RabbitQueue(f"fan-{tag}-{n}", auto_delete=True), fanout)(fanned)

    fanout_consumer(0)
    fanout_consumer(1)

    @broker.subscriber(RabbitQueue(f"in-{tag}", auto_delete=True))
    @broker.publisher(f"out-{tag}")
    async def shout(text: str) -> str:
        return text.upper()

    @broker.subscriber(RabbitQueue(f"out-{tag}", auto_delete=True))
    async def collect(text: str):
        forwarded.add(text)

    @broker.subscriber(RabbitQueue(f"flaky-{tag}", auto_delete=True), ack_policy=AckPolicy.NACK_ON_ERROR)
    async def flaky(text: str):
        attempts.append(text)
        if len(attempts) == 1:
            raise RuntimeError("first delivery fails")  # nack with requeue: RabbitMQ redelivers it
        inbox.add(("flaky", text))

    async with broker:
        await broker.start()
        replies = [await broker.request(n, f"rpc-{tag}", timeout=WAIT) for n in range(3)]
        assert [await reply.decode() for reply in replies] == [0, 2, 4]
        await broker.publish({"text": "disk"}, exchange=topic, routing_key="logs.error.disk")
        await broker.publish({"text": "ignored"}, exchange=topic, routing_key="logs.info.disk")
        await broker.publish("hello", exchange=fanout)
        await broker.publish("quiet", f"in-{tag}")
        await broker.publish("again", f"flaky-{tag}")
        items = await inbox.wait(4)
        assert sorted(items) == [("error", "disk"), ("fan0", "hello"), ("fan1", "hello"), ("flaky", "again")]
        assert await forwarded.wait(1) == ["QUIET"]
        assert attempts == ["again", "again"]


@pytest.mark.parametrize("kind", ["channel", "list", "stream"])
async def test_redis_subscribers_and_request_reply(both_servers, kind):
    tag = uuid.uuid4().hex[:6]
    broker = RedisBroker(f"redis://127.0.0.1:{both_servers}", logger=None)
    inbox = Inbox()
    if kind == "channel":
        source = {"channel": f"events-{tag}"}
    elif kind == "list":
        source = {"list": ListSub(f"jobs-{tag}", batch=False, polling_interval=0.01)}
    else:
        source = {"stream": StreamSub(f"stream-{tag}", group="workers", consumer="w1", polling_interval=10)}

    @broker.subscriber(**source)
    async def handle(body: dict) -> dict:
        inbox.add(body["n"])
        return {"n": body["n"], "squared": body["n"] ** 2}

    @broker.subscriber(f"orders.{{region}}-{tag}")  # a pattern channel (PSUBSCRIBE)
    async def orders(body: str, region: str = Path()):
        inbox.add((region, body))

    async with broker:
        await broker.start()
        target = {k: (v if isinstance(v, str) else v.name) for k, v in source.items()}
        for n in range(3):
            await broker.publish({"n": n}, **target)
        assert sorted(await inbox.wait(3)) == [0, 1, 2]
        reply = await broker.request({"n": 7}, timeout=WAIT, **target)
        assert (await reply.decode()) == {"n": 7, "squared": 49}
        await broker.publish("shipped", f"orders.eu-{tag}")
        assert (await inbox.wait(5))[3:] == [7, ("eu", "shipped")]

"""The other clients users run, against both brokers: kombu on py-amqp (PLAIN and AMQPLAIN),
aio-pika (publisher confirms, QoS, RPC, headers), and pika's asynchronous SelectConnection."""

import asyncio
import datetime
import decimal

import pytest

from yizhan.testing.amqp import unique

HEADERS = {"int": 7, "neg": -70000, "big": 2 ** 40, "str": "text", "bool": True, "none": None,
           "decimal": decimal.Decimal("1.25"), "list": [1, "two", [3]], "table": {"k": {"deep": False}},
           "bytes": bytearray(b"\x00\xff"), "float": 0.5}


# -- kombu / py-amqp ---------------------------------------------------------------------------
def next_message(connection, got):
    """The oldest delivery, draining the connection only if none has arrived yet (py-amqp
    also runs consumer callbacks while it waits for replies, e.g. during publish(declare=))."""
    while not got:
        connection.drain_events(timeout=10)
    return got.pop(0)


@pytest.mark.parametrize("login_method", ["PLAIN", "AMQPLAIN"])
def test_kombu_simple_queue(both_brokers, login_method):
    import kombu

    _, url = both_brokers
    name = unique("kombu")
    with kombu.Connection(url, login_method=login_method, connect_timeout=5) as connection:
        queue = connection.SimpleQueue(name, queue_opts={"auto_delete": True})
        queue.put({"n": 1, "list": [1, 2]}, headers={"h": "v"})
        queue.put("second", serializer="json")
        first = queue.get(timeout=10)
        assert (first.payload, first.headers["h"], first.delivery_info["routing_key"]) == (
            {"n": 1, "list": [1, 2]}, "v", name)
        first.ack()
        second = queue.get(timeout=10)
        assert second.payload == "second"
        second.ack()
        with pytest.raises(queue.Empty):
            queue.get(block=False)
        queue.close()


def test_kombu_exchange_routing_and_requeue(both_brokers):
    import kombu

    _, url = both_brokers
    exchange = kombu.Exchange(unique("kx"), type="topic", auto_delete=True)
    queue = kombu.Queue(unique("kq"), exchange, routing_key="jobs.#", auto_delete=True)
    got = []
    with kombu.Connection(url, connect_timeout=5) as connection:
        with connection.Consumer(queue, callbacks=[lambda body, message: got.append((body, message))],
                                 accept=["json"], prefetch_count=1):
            producer = connection.Producer(serializer="json")
            producer.publish({"job": 1}, exchange=exchange, routing_key="jobs.a", declare=[queue])
            producer.publish({"job": 2}, exchange=exchange, routing_key="other", declare=[queue])
            producer.publish({"job": 3}, exchange=exchange, routing_key="jobs.b.c", declare=[queue])
            body, message = next_message(connection, got)
            assert (body, message.delivery_info["redelivered"]) == ({"job": 1}, False)
            message.requeue()
            body, message = next_message(connection, got)
            assert (body, message.delivery_info["redelivered"]) == ({"job": 1}, True)
            message.ack()
            body, message = next_message(connection, got)
            assert body == {"job": 3}
            message.ack()


# -- aio-pika ----------------------------------------------------------------------------------
async def test_aio_pika_confirms_qos_and_headers(both_brokers):
    import aio_pika

    _, url = both_brokers
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=2)
        queue = await channel.declare_queue(unique("aio"), exclusive=True)
        stamp = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        for i in range(3):
            confirmation = await channel.default_exchange.publish(
                aio_pika.Message(f"m{i}".encode(), headers=HEADERS, correlation_id=str(i), timestamp=stamp,
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT, priority=i),
                routing_key=queue.name)
            assert confirmation.delivery_tag == i + 1
        received = []
        async with queue.iterator() as messages:
            async for message in messages:
                received.append((message.body, message.correlation_id, message.priority, message.timestamp,
                                 message.headers))
                await message.ack()
                if len(received) == 3:
                    break
        expected_headers = dict(HEADERS, bytes=b"\x00\xff")
        assert [(b, c, p, t) for b, c, p, t, _ in received] == [
            (b"m0", "0", 0, stamp), (b"m1", "1", 1, stamp), (b"m2", "2", 2, stamp)]
        for *_, headers in received:
            assert {k: bytes(v) if isinstance(v, bytearray) else v for k, v in headers.items()} == expected_headers


async def test_aio_pika_rpc_round_trip(both_brokers):
    import aio_pika

    _, url = both_brokers
    server_queue = unique("rpc")
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        server = await connection.channel()
        requests = await server.declare_queue(server_queue, exclusive=True)

        async def serve(message: aio_pika.abc.AbstractIncomingMessage):
            async with message.process():
                n = int(message.body)
                await server.default_exchange.publish(
                    aio_pika.Message(str(n * n).encode(), correlation_id=message.correlation_id),
                    routing_key=message.reply_to)

        await requests.consume(serve)
        client = await connection.channel()
        callback = await client.declare_queue("", exclusive=True)
        answers: dict[str, asyncio.Future] = {}

        async def on_answer(message: aio_pika.abc.AbstractIncomingMessage):
            answers[message.correlation_id].set_result(message.body)

        await callback.consume(on_answer, no_ack=True)
        loop = asyncio.get_running_loop()
        for n in (3, 12):
            answers[str(n)] = loop.create_future()
            await client.default_exchange.publish(
                aio_pika.Message(str(n).encode(), correlation_id=str(n), reply_to=callback.name),
                routing_key=server_queue)
        results = await asyncio.wait_for(asyncio.gather(*answers.values()), 10)
        assert results == [b"9", b"144"]


async def test_aio_pika_channel_error(both_brokers):
    import aio_pika

    _, url = both_brokers
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        name = unique("missing")
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity) as info:
            await channel.declare_queue(name, passive=True)
        assert info.value.args[0] == f"NOT_FOUND - no queue '{name}' in vhost '/'"
        other = await connection.channel()                  # the connection survives
        assert (await other.declare_queue("", exclusive=True)).name.startswith("amq.gen-")


# -- pika SelectConnection ---------------------------------------------------------------------
def test_pika_select_connection_publish_and_consume(both_brokers):
    import pika

    from yizhan.testing.amqp import params

    _, url = both_brokers
    events = []
    state = {}

    def on_open(connection):
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        state["channel"] = channel
        channel.confirm_delivery(lambda frame: events.append(("confirm", frame.method.NAME,
                                                               frame.method.delivery_tag)))
        channel.queue_declare("", exclusive=True, callback=on_declared)

    def on_declared(frame):
        channel = state["channel"]
        queue = frame.method.queue
        channel.basic_consume(queue, on_message)
        for i in range(3):
            channel.basic_publish("", queue, f"m{i}".encode(), pika.BasicProperties(headers={"i": i}))

    def on_message(channel, method, properties, body):
        events.append(("deliver", body, properties.headers["i"], method.delivery_tag))
        channel.basic_ack(method.delivery_tag)
        if body == b"m2":
            state["connection"].close()

    connection = pika.SelectConnection(params(url), on_open_callback=on_open,
                                       on_open_error_callback=lambda c, e: events.append(("open-error", str(e))))
    state["connection"] = connection
    connection.ioloop.call_later(10, connection.ioloop.stop)
    connection.add_on_close_callback(lambda c, reason: c.ioloop.stop())
    connection.ioloop.start()
    deliveries = [e for e in events if e[0] == "deliver"]
    confirmed = {e[2] for e in events if e[0] == "confirm"}
    assert deliveries == [("deliver", b"m0", 0, 1), ("deliver", b"m1", 1, 2), ("deliver", b"m2", 2, 3)]
    assert max(confirmed) == 3 and all(e[1] == "Basic.Ack" for e in events if e[0] == "confirm")

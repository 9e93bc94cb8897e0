"""kombu (over py-amqp) and py-amqp directly against yizhan: what Celery relies on — declared
entities from kombu's Queue/Exchange, producers with serializers, consumers with drain_events,
SimpleQueue, acknowledgement and requeue, and py-amqp's typed field tables."""

from __future__ import annotations

import uuid

import amqp
import kombu
import pytest

WAIT = 10.0


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def kombu_connection(yizhan_amqp_url):
    with kombu.Connection(yizhan_amqp_url.replace("amqp://", "pyamqp://")) as conn:
        conn.connect()
        yield conn


def test_producer_and_consumer(kombu_connection):
    exchange = kombu.Exchange(name("tasks"), type="direct", durable=False, auto_delete=True)
    queue = kombu.Queue(name("celery"), exchange, routing_key="task", auto_delete=True)
    with kombu_connection.Producer(serializer="json") as producer:
        for i in range(3):
            producer.publish({"task": "add", "args": [i, i]}, exchange=exchange,
                             routing_key="task", declare=[queue], retry=False)
    received = []

    def on_message(body, message):
        received.append(body["args"])
        message.ack()

    with kombu_connection.Consumer(queue, callbacks=[on_message], accept=["json"]):
        while len(received) < 3:
            kombu_connection.drain_events(timeout=WAIT)
    assert received == [[0, 0], [1, 1], [2, 2]]


def test_simple_queue_requeue(kombu_connection):
    queue_name = name("simple")
    queue = kombu_connection.SimpleQueue(queue_name)
    queue.put({"n": 1})
    message = queue.get(timeout=WAIT)
    assert message.payload == {"n": 1}
    message.requeue()
    message = queue.get(timeout=WAIT)
    assert message.delivery_info["redelivered"] is True
    message.ack()
    assert queue.qsize() == 0
    queue.close()
    kombu_connection.default_channel.queue_delete(queue_name)


def test_celery_style_declarations(kombu_connection):
    """Celery declares its queues with arguments and a fanout for broadcasts."""
    channel = kombu_connection.default_channel
    queue = kombu.Queue(name("celery"), kombu.Exchange(name("celery"), "direct"),
                        routing_key="celery", queue_arguments={"x-max-priority": 10})
    bound = queue(channel)
    bound.declare()
    bound.declare()  # equivalent redeclare
    pidbox = kombu.Exchange(name("reply.celery.pidbox"), "direct", durable=False,
                            delivery_mode="transient", auto_delete=True)
    pidbox(channel).declare()
    bound.delete()


def test_py_amqp_field_tables_and_confirms(yizhan_amqp_url):
    port = int(yizhan_amqp_url.split(":")[-1].split("/")[0])
    connection = amqp.Connection(f"127.0.0.1:{port}", userid="guest", password="guest",
                                 confirm_publish=True)
    connection.connect()
    try:
        channel = connection.channel()
        queue, _count, _consumers = channel.queue_declare(name(), exclusive=True)
        headers = {"f": 2.5, "i": -3, "s": "x", "t": True, "a": [1, "b"], "d": {"k": "v"}}
        channel.basic_publish(amqp.Message(b"body", application_headers=headers,
                                           content_type="text/plain"), routing_key=queue)
        message = channel.basic_get(queue, no_ack=True)
        assert message.body == b"body"
        assert message.headers == headers
        assert message.content_type == "text/plain"
        with pytest.raises(amqp.exceptions.NotFound):
            channel.queue_declare(name("missing"), passive=True)
    finally:
        connection.close()

"""Dramatiq end to end, on yizhan and on the real servers (RabbitMQ 3.10, redis-server 7.0).

With its RabbitMQ broker, Dramatiq declares each queue with `x-dead-letter-exchange` /
`x-dead-letter-routing-key` (and `x-max-priority` when asked), a delay queue `<q>.DQ` for retries
and delayed messages, and a dead-letter queue `<q>.XQ` with `x-message-ttl`; a worker consumes
from both the queue and its delay queue, nacks a message whose retries are spent (RabbitMQ then
dead-letters it into `<q>.XQ`) and reads queue depths with passive `queue.declare`.

With its Redis broker everything is one Lua script (`dispatch.lua`, run with EVALSHA): fetch moves
message ids from a list into a per-worker ack set, heartbeats live in a sorted set, and the
maintenance step puts a dead worker's unacked messages back on the queue.

Results come back through Dramatiq's Results middleware with its Redis backend (LPUSH + BRPOPLPUSH
on a result key) on the same kind of server as the broker: yizhan for yizhan, redis-server for
RabbitMQ and redis-server."""

from __future__ import annotations

import uuid

import pika
import pytest
import redis
from dramatiq import Worker, actor, set_broker
from dramatiq.common import current_millis
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

from yizhan.testing.wait import wait_for

WAIT = 10.0  # seconds: an upper bound for a condition, never a timing


@pytest.fixture
def rabbit(both_brokers, request):
    """(RabbitmqBroker, redis port of the same kind of server, amqp url, queue name)."""
    name, url = both_brokers
    if name == "yizhan":
        port = request.getfixturevalue("yizhan_server").port
    else:
        port = request.getfixturevalue("reference_redis").port
    broker = RabbitmqBroker(url=url, max_priority=10)
    broker.add_middleware(Results(backend=RedisBackend(client=redis.Redis(port=port), namespace=f"r-{uuid.uuid4().hex}")))
    queue = f"dq-{uuid.uuid4().hex[:8]}"
    set_broker(broker)  # Message.get_result asks the global broker for its results backend
    yield broker, port, url, queue
    broker.close()


@pytest.fixture
def redis_broker(both_servers):
    broker = RedisBroker(client=redis.Redis(port=both_servers), namespace=f"dramatiq-{uuid.uuid4().hex[:6]}")
    broker.add_middleware(Results(backend=RedisBackend(client=redis.Redis(port=both_servers))))
    set_broker(broker)
    yield broker, both_servers
    broker.close()


def run_worker(broker, threads: int = 2) -> Worker:
    worker = Worker(broker, worker_threads=threads, worker_timeout=50)
    worker.start()
    return worker


# -- RabbitMQ broker ---------------------------------------------------------------------------
def test_rabbitmq_results_retries_and_delayed_messages(rabbit):
    broker, _, _, queue = rabbit
    attempts: dict[int, int] = {}

    def square(n):
        return n * n

    def flaky(n):
        attempts[n] = attempts.get(n, 0) + 1
        if attempts[n] < 3:
            raise RuntimeError(f"attempt {attempts[n]}")
        return n + 100

    square_actor = actor(square, broker=broker, queue_name=queue, store_results=True)
    flaky_actor = actor(flaky, broker=broker, queue_name=queue, store_results=True,
                        min_backoff=10, max_backoff=50, max_retries=5)
    worker = run_worker(broker)
    try:
        squares = [square_actor.send(n) for n in range(5)]
        delayed = square_actor.send_with_options(args=(7,), delay=100)
        retried = flaky_actor.send(1)
        assert [m.get_result(block=True, timeout=int(WAIT * 1000)) for m in squares] == [0, 1, 4, 9, 16]
        assert delayed.get_result(block=True, timeout=int(WAIT * 1000)) == 49
        assert retried.get_result(block=True, timeout=int(WAIT * 1000)) == 101
        assert attempts == {1: 3}
        broker.join(queue, timeout=int(WAIT * 1000))
        assert broker.get_queue_message_counts(queue) == (0, 0, 0)
    finally:
        worker.stop()


def test_rabbitmq_spent_retries_are_dead_lettered(rabbit):
    broker, _, url, queue = rabbit

    def always_fails(n):
        raise ValueError(f"bad {n}")

    failing = actor(always_fails, broker=broker, queue_name=queue, max_retries=1, min_backoff=10, max_backoff=20)
    worker = run_worker(broker)
    try:
        for n in range(3):
            failing.send(n)
        wait_for(lambda: broker.get_queue_message_counts(queue)[2] == 3, "three dead letters")
        broker.join(queue, timeout=int(WAIT * 1000))
    finally:
        worker.stop()
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        channel = conn.channel()
        dead = []
        while (got := channel.basic_get(f"{queue}.XQ", auto_ack=True))[0] is not None:
            dead.append(got)
    deaths = [props.headers["x-death"][0] for _, props, _ in dead]
    assert sorted(d["queue"] for d in deaths) == [queue] * 3
    assert {d["reason"] for d in deaths} == {"rejected"}
    assert {d["routing-keys"][0] for d in deaths} == {queue}
    assert all(props.headers["x-first-death-queue"] == queue for _, props, _ in dead)


def test_rabbitmq_priorities_order_the_queue(rabbit):
    broker, _, _, queue = rabbit

    def record(n):
        return n

    recorder = actor(record, broker=broker, queue_name=queue)
    for n, priority in enumerate([1, 9, 0, 5, 9, 3]):
        recorder.send_with_options(args=(n,), broker_priority=priority)
    consumer = broker.consume(queue, prefetch=1, timeout=100)
    order = []
    try:
        while len(order) < 6:
            message = next(consumer)
            if message is not None:
                order.append(message.args[0])
                consumer.ack(message)
    finally:
        consumer.close()
    assert order == [1, 4, 3, 5, 0, 2]


# -- Redis broker ------------------------------------------------------------------------------
def test_redis_broker_results_retries_and_delays(redis_broker):
    broker, _ = redis_broker
    attempts: dict[int, int] = {}

    def double(n):
        return 2 * n

    def flaky(n):
        attempts[n] = attempts.get(n, 0) + 1
        if attempts[n] < 2:
            raise RuntimeError("once")
        return -n

    double_actor = actor(double, broker=broker, store_results=True)
    flaky_actor = actor(flaky, broker=broker, store_results=True, min_backoff=10, max_backoff=20, max_retries=3)
    worker = run_worker(broker)
    try:
        doubled = [double_actor.send(n) for n in range(10)]
        delayed = double_actor.send_with_options(args=(21,), delay=100)
        retried = flaky_actor.send(4)
        assert [m.get_result(block=True, timeout=int(WAIT * 1000)) for m in doubled] == [2 * n for n in range(10)]
        assert delayed.get_result(block=True, timeout=int(WAIT * 1000)) == 42
        assert retried.get_result(block=True, timeout=int(WAIT * 1000)) == -4
        broker.join("default", timeout=int(WAIT * 1000))
    finally:
        worker.stop()


def test_redis_broker_dead_letters_and_requeues_a_dead_workers_messages(redis_broker):
    broker, port = redis_broker
    client = redis.Redis(port=port)

    def echo(n):
        return n

    echo_actor = actor(echo, broker=broker, store_results=True)

    def never(n):
        raise ValueError(n)

    failing = actor(never, broker=broker, max_retries=0)
    sent = [echo_actor.send(n) for n in range(4)]
    # a worker that fetches messages and dies before acking them: its ids sit in its ack set
    dead_broker = RedisBroker(client=redis.Redis(port=port), namespace=broker.namespace, heartbeat_timeout=1)
    dead_broker.declare_queue("default")
    consumer = dead_broker.consume("default", prefetch=4, timeout=100)
    fetched = wait_for(lambda: next(consumer), "a fetched message")
    assert fetched.message_id in {m.message_id for m in sent}
    ack_key = f"{broker.namespace}:__acks__.{dead_broker.broker_id}.default"
    assert client.scard(ack_key) == 4
    assert client.llen(f"{broker.namespace}:default") == 0
    heartbeat = client.zscore(f"{broker.namespace}:__heartbeats__", dead_broker.broker_id)
    assert heartbeat is not None
    # a live broker whose every command runs the maintenance step puts them back after the heartbeat times out
    broker.heartbeat_timeout = 1
    broker.maintenance_chance = 1_000_000
    wait_for(lambda: current_millis() > heartbeat + 1, "the dead worker's heartbeat to age")
    broker.do_qsize("default")
    assert client.exists(ack_key) == 0
    assert client.llen(f"{broker.namespace}:default") == 4
    broker.heartbeat_timeout = 60_000
    broker.maintenance_chance = 0
    worker = run_worker(broker)
    try:
        assert sorted(m.get_result(block=True, timeout=int(WAIT * 1000)) for m in sent) == [0, 1, 2, 3]
        failing.send(13)
        wait_for(lambda: client.zcard(f"{broker.namespace}:default.XQ") == 1, "a dead-lettered message")
        assert client.hlen(f"{broker.namespace}:default.XQ.msgs") == 1
    finally:
        worker.stop()

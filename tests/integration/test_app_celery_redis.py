"""Celery on kombu's Redis transport and the Redis result backend, end to end, on yizhan and on
redis-server 7.0 (the RabbitMQ side is in test_amqp_kombu.py and test_control_restart.py).

kombu's Redis transport keeps each queue in a list (LPUSH, BRPOP over several keys with a
timeout), bindings in sets, unacked messages in a hash plus a sorted set indexed by delivery time
(a MULTI/EXEC pipeline), restores messages whose visibility timeout passed (a SET NX mutex,
ZRANGE ... BYSCORE REV LIMIT, then a WATCH/MULTI restore per message), emulates priorities with
one list per priority step (`queue\\x06\\x163`...) read in order by BRPOP, and fans out with
PUBLISH to subscribers (Celery's remote control: `inspect().ping()` reaches the worker over
pub/sub and the reply comes back on a direct queue). Celery's result backend SETs results,
PUBLISHes them to waiting clients (SUBSCRIBE per task) and counts chord parts with INCR."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import celery
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from kombu import Connection, Exchange, Queue

WAIT = 20.0  # seconds: an upper bound for a condition, never a timing


def make_app(port: int, **conf) -> celery.Celery:
    url = f"redis://127.0.0.1:{port}/0"
    app = celery.Celery(f"app{uuid.uuid4().hex[:6]}", broker=url, backend=url)
    app.conf.update(result_expires=60, broker_connection_retry_on_startup=True,
                    task_default_queue=f"q-{uuid.uuid4().hex[:6]}", **conf)
    return app


def test_tasks_results_chords_retries_and_remote_control(both_servers):
    app = make_app(both_servers)
    attempts = []

    @app.task(name=f"{app.main}.add")
    def add(x, y):
        return x + y

    @app.task(name=f"{app.main}.total")
    def total(numbers):
        return sum(numbers)

    @app.task(name=f"{app.main}.flaky", bind=True, max_retries=3)
    def flaky(self, value):
        attempts.append(self.request.retries)
        if self.request.retries < 2:
            raise self.retry(countdown=0.05)
        return value

    @app.task(name=f"{app.main}.fails")
    def fails():
        raise KeyError("missing")

    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"):
        assert add.delay(2, 3).get(timeout=WAIT) == 5
        pongs = app.control.inspect(timeout=WAIT, limit=1).ping()  # a broadcast over pub/sub, replies on a list
        assert list(pongs.values()) == [{"ok": "pong"}]
        assert celery.group(add.s(i, i) for i in range(8))().get(timeout=WAIT) == [2 * i for i in range(8)]
        assert celery.chord(add.s(i, 1) for i in range(5))(total.s()).get(timeout=WAIT) == 15
        assert celery.chain(add.s(1, 2), add.s(10), add.s(100))().get(timeout=WAIT) == 113
        assert flaky.delay("ok").get(timeout=WAIT) == "ok" and attempts == [0, 1, 2]
        failed = fails.delay()
        with pytest.raises(KeyError):
            failed.get(timeout=WAIT)
        assert failed.state == "FAILURE" and "KeyError" in failed.traceback
        replies = app.control.inspect(timeout=WAIT, limit=1).active_queues()
        assert [q["name"] for q in next(iter(replies.values()))] == [app.conf.task_default_queue]
        eta = add.apply_async((5, 5), countdown=0.2)
        assert eta.get(timeout=WAIT) == 10
    client = redis.Redis(port=both_servers)
    assert client.llen(app.conf.task_default_queue) == 0
    assert client.zcard("unacked_index") == 0 and client.hlen("unacked") == 0


def test_priorities_by_queue_name(both_servers):
    app = make_app(both_servers, worker_prefetch_multiplier=1,
                   broker_transport_options={"queue_order_strategy": "priority", "priority_steps": list(range(10))})
    order, done = [], threading.Event()

    @app.task(name=f"{app.main}.record")
    def record(n):
        order.append(n)
        if len(order) == 6:
            done.set()

    for n, priority in enumerate([5, 9, 0, 3, 9, 1]):
        record.apply_async((n,), priority=priority)
    queue = app.conf.task_default_queue
    client = redis.Redis(port=both_servers)
    assert sorted(k for k in client.keys(f"{queue}*")) == sorted(
        [queue.encode()] + [f"{queue}\x06\x16{p}".encode() for p in (1, 3, 5, 9)])
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"):
        assert done.wait(WAIT)
    assert order == [2, 5, 3, 0, 1, 4]  # 0 first: kombu's lists are read from the lowest step up


CONSUME_AND_DIE = textwrap.dedent("""
    import os, sys
    from kombu import Connection
    with Connection(sys.argv[1], transport_options={"visibility_timeout": 3600}) as conn:
        queue = conn.SimpleQueue(sys.argv[2])
        message = queue.get(timeout=10)
        print(message.payload, flush=True)
        os._exit(0)  # dies holding the message unacked
""")


def test_unacked_message_of_a_dead_consumer_is_restored(both_servers):
    url = f"redis://127.0.0.1:{both_servers}/0"
    name = f"vq-{uuid.uuid4().hex[:6]}"
    client = redis.Redis(port=both_servers)
    with Connection(url) as conn:
        conn.SimpleQueue(name).put({"job": 1})
    died = subprocess.run([sys.executable, "-c", CONSUME_AND_DIE, url, name], capture_output=True, text=True,
                          timeout=60, env=os.environ)
    assert died.stdout.strip() == "{'job': 1}", died.stderr
    assert client.llen(name) == 0 and client.zcard("unacked_index") == 1 and client.hlen("unacked") == 1
    options = {"visibility_timeout": 0.2, "unacked_restore_throttle": 1}
    deadline = time.monotonic() + WAIT
    with Connection(url, transport_options=options) as conn:
        queue = conn.SimpleQueue(name)
        while True:  # each poll restores the messages whose visibility timeout has passed
            try:
                message = queue.get(timeout=0.1)
                break
            except queue.Empty:
                assert time.monotonic() < deadline, "the unacked message never came back"
        assert message.payload == {"job": 1}
        message.ack()
    assert client.zcard("unacked_index") == 0 and client.hlen("unacked") == 0
    assert client.exists("unacked_mutex") == 0


def test_fanout_reaches_every_bound_queue(both_servers):
    """Two consumers (each on its own connection, as two workers are) of queues bound to one fanout
    exchange both get every message: PUBLISH to the exchange's topic, PSUBSCRIBEd by each."""
    url = f"redis://127.0.0.1:{both_servers}/0"
    exchange = Exchange(f"fan-{uuid.uuid4().hex[:6]}", type="fanout")
    probe = redis.Redis(port=both_servers)
    patterns_before = pattern_subscriptions(probe)
    connections = [Connection(url) for _ in range(2)]
    received = {n: [] for n in range(2)}
    consumers = []
    try:
        for n, conn in enumerate(connections):
            consumer = conn.Consumer(Queue(f"{exchange.name}-{n}", exchange),
                                     callbacks=[lambda body, message, n=n: (received[n].append(body), message.ack())])
            consumer.consume()
            consumers.append(consumer)
        # PSUBSCRIBE is sent when a consumer starts polling: wait until the server counts both
        deadline = time.monotonic() + WAIT
        while pattern_subscriptions(probe) < patterns_before + 2:
            for conn in connections:
                drain(conn, 0.05)
            assert time.monotonic() < deadline, "the consumers never subscribed"
        with Connection(url) as sender:
            producer = sender.Producer()
            for n in range(3):
                producer.publish({"n": n}, exchange=exchange, declare=[exchange])
        while sum(map(len, received.values())) < 6:
            for conn in connections:
                drain(conn, 0.05)
            assert time.monotonic() < deadline, f"only {received} arrived"
    finally:
        for consumer in consumers:
            consumer.cancel()
        for conn in connections:
            conn.release()
    assert received == {n: [{"n": 0}, {"n": 1}, {"n": 2}] for n in range(2)}


def pattern_subscriptions(client) -> int:
    """Pattern subscriptions over all clients (PUBSUB NUMPAT counts distinct patterns)."""
    return sum(int(c["psub"]) for c in client.client_list())


def drain(conn, timeout: float) -> None:
    try:
        conn.drain_events(timeout=timeout)
    except TimeoutError:
        pass

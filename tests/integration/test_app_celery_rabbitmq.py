"""Celery on quorum queues with native delayed delivery, end to end against yizhan and RabbitMQ
3.10 (Celery's classic-queue workflow is in test_amqp_kombu.py and test_control_restart.py).

With `task_default_queue_type = "quorum"` a Celery worker declares its queue with
`x-queue-type: quorum`, turns off global QoS, and at start declares kombu's native delayed
delivery topology: 28 topic exchanges and quorum queues `celery_delayed_<level>` whose
`x-message-ttl` is 2^level seconds, each dead-lettering (`x-dead-letter-strategy: at-least-once`,
`x-overflow: reject-publish`) into the next level's exchange, exchange-to-exchange bindings on
routing keys of binary digits, and a `celery_delayed_delivery` exchange bound to the task queue.
A task sent with a countdown is published into that chain and reaches the worker after its
messages' TTLs expire level by level. Its first delivery from the quorum queue carries no
`x-delivery-count` header (Celery copies message headers into the task request)."""

from __future__ import annotations

import uuid

import celery
import pika
from celery.contrib.testing.worker import start_worker

WAIT = 30.0  # seconds: an upper bound for a condition, never a timing


def test_quorum_queue_tasks_and_native_delayed_delivery(both_brokers):
    _, url = both_brokers
    app = celery.Celery(f"q{uuid.uuid4().hex[:6]}", broker=url, backend="rpc://")
    queue = f"quorum-{uuid.uuid4().hex[:6]}"
    app.conf.update(task_default_queue=queue, task_default_queue_type="quorum",
                    broker_native_delayed_delivery_queue_type="quorum", worker_detect_quorum_queues=True,
                    broker_connection_retry_on_startup=True, worker_enable_prefetch_count_reduction=False,
                    broker_heartbeat=0)  # no heartbeat thread to wait out at shutdown
    runs = []

    @app.task(name=f"{app.main}.add", bind=True)
    def add(self, x, y):
        runs.append((x, y, "x-delivery-count" in vars(self.request)))
        return x + y

    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=WAIT):
        assert [r.get(timeout=WAIT) for r in [add.delay(n, n) for n in range(4)]] == [0, 2, 4, 6]
        delayed = add.apply_async((20, 22), countdown=1)
        assert delayed.get(timeout=WAIT) == 42
        # a quorum queue's first delivery to a consumer carries no x-delivery-count header
        assert sorted(runs) == [(n, n, False) for n in range(4)] + [(20, 22, False)]  # two threads: any order
    with pika.BlockingConnection(pika.URLParameters(url)) as conn:
        channel = conn.channel()
        declared = channel.queue_declare(queue, passive=True)
        assert declared.method.message_count == 0
        for level in (0, 1, 27):
            assert channel.queue_declare(f"celery_delayed_{level}", passive=True).method.message_count == 0
        channel.exchange_declare("celery_delayed_delivery", passive=True)

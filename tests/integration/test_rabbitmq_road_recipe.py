"""The README's "Moving to RabbitMQ" recipe, end to end, with messages in flight the whole time:
publishers keep publishing (with confirms) and a consumer keeps consuming on yizhan while

1. `yizhan definitions export` (on the running server's data dir) is imported into RabbitMQ
   3.10 through its management API, and RabbitMQ's own export then equals yizhan's (every
   vhost, user with its password hash, permission, policy, exchange, queue and binding);
2. one dynamic shovel per queue (`ack-mode: on-confirm`) moves each yizhan queue into the
   RabbitMQ queue of the same name and keeps it drained;
3. consumers move to RabbitMQ, then publishers (logging in with the imported users);
4. each shovel is deleted once its yizhan queue holds nothing (ready or unacknowledged).

Every confirmed message must then have been consumed exactly once, and what the shovels moved
arrive in publishing order. The test prints the volumes moved and the time taken."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from yizhan.testing.process import ServerProcess
from yizhan.testing.rabbitmq import RabbitMQReference
from yizhan.testing.road import (ROAD_PLUGINS, Consumer, Management, Publisher, comparable,
                                 drain, prefill, quote, shovel_definition, wait_for)

pytestmark = pytest.mark.timeout(600)

SIZE = 1024                  # bytes per message
ORDERS_BACKLOG = 10_000      # published to the `orders` exchange before the move (x3 queues)
JOBS_BACKLOG = 5_000
SHOP_QUEUES = ("orders.eu", "orders.all", "audit.log")
CONFIG = """\
amqp-user shop shop-secret shop
amqp-policy shop keep-a-day '^orders\\.' '{"message-ttl": 86400000}' priority 1 apply-to queues
amqp-policy / jobs-limit '^jobs$' '{"max-length": 1000000}' priority 0 apply-to queues
"""


@pytest.fixture(scope="module")
def rabbitmq():
    with RabbitMQReference(management=True, plugins=ROAD_PLUGINS) as ref:
        yield ref


def amqp_url(port: int, vhost: str, user: str, password: str) -> str:
    return f"amqp://{user}:{password}@127.0.0.1:{port}/{quote(vhost)}"


def declare_topology(shop_url: str, root_url: str) -> None:
    """The application's topology, declared on yizhan by its own clients."""
    from yizhan.testing.amqp import connect

    with connect(shop_url) as conn:
        channel = conn.channel()
        channel.exchange_declare("orders", "topic", durable=True)
        channel.exchange_declare("audit", "fanout", durable=True)
        channel.exchange_bind("audit", "orders", "orders.#")
        channel.queue_declare("orders.eu", durable=True, arguments={"x-max-priority": 3})
        channel.queue_declare("orders.all", durable=True)
        channel.queue_declare("audit.log", durable=True,
                              arguments={"x-queue-mode": "lazy", "x-max-length": 5_000_000})
        channel.queue_bind("orders.eu", "orders", "orders.eu.*")
        channel.queue_bind("orders.all", "orders", "orders.#")
        channel.queue_bind("audit.log", "audit", "")
    with connect(root_url) as conn:
        conn.channel().queue_declare("jobs", durable=True)


def export_definitions(data_dir, config, target) -> dict:
    subprocess.run([sys.executable, "-m", "yizhan", "definitions", "export", str(target),
                    "--data-dir", str(data_dir), "--config", str(config)],
                   check=True, timeout=60)
    return json.loads(target.read_text())


def with_acting_user_grants(definitions: dict, user: str) -> dict:
    """What RabbitMQ holds after importing `definitions` through its management API as `user`:
    rabbit_vhost:put_vhost also grants the acting user full permissions on every vhost the import
    creates (`/` exists already)."""
    granted = [{"user": user, "vhost": v["name"], "configure": ".*", "write": ".*", "read": ".*"}
               for v in definitions["vhosts"] if v["name"] != "/"]
    have = {(p["user"], p["vhost"]) for p in definitions["permissions"]}
    extra = [p for p in granted if (p["user"], p["vhost"]) not in have]
    return {**definitions, "permissions": definitions["permissions"] + extra}


def test_moving_to_rabbitmq_with_messages_in_flight(rabbitmq, tmp_path, capsys):
    config = tmp_path / "yizhan.conf"
    config.write_text(CONFIG)
    yizhan = ServerProcess(tmp_path / "data", tmp_path / "yizhan.log", "--config", str(config))
    try:
        run_recipe(yizhan, rabbitmq, config, tmp_path, capsys)
    finally:
        yizhan.stop()


def run_recipe(yizhan, rabbitmq, config, tmp_path, capsys) -> None:
    ours = {"shop": amqp_url(yizhan.amqp_port, "shop", "shop", "shop-secret"),
            "/": amqp_url(yizhan.amqp_port, "/", "guest", "guest")}
    theirs = {"shop": amqp_url(rabbitmq.port, "shop", "shop", "shop-secret"),
              "/": amqp_url(rabbitmq.port, "/", "guest", "guest")}
    queues = {"orders.eu": "shop", "orders.all": "shop", "audit.log": "shop", "jobs": "/"}
    declare_topology(ours["shop"], ours["/"])
    orders_backlog = prefill(ours["shop"], "orders", "orders.eu.paris", "o", ORDERS_BACKLOG, SIZE)
    jobs_backlog = prefill(ours["/"], "", "jobs", "j", JOBS_BACKLOG, SIZE)

    # clients at work on yizhan: two publishers, one consumer
    orders = Publisher("o", ours["shop"], "orders", "orders.eu.paris", SIZE,
                       first_sequence=ORDERS_BACKLOG)
    jobs = Publisher("j", ours["/"], "", "jobs", SIZE, first_sequence=JOBS_BACKLOG)
    worker = Consumer("jobs-on-yizhan", ours["/"], "jobs").start()
    orders.start()
    jobs.start()
    orders.wait_confirmed(300)
    began = time.monotonic()

    # 1. definitions
    api = Management(rabbitmq.http_port)
    exported = export_definitions(tmp_path / "data", config, tmp_path / "definitions.json")
    api.import_definitions(exported)
    imported = api.export_definitions()
    assert comparable(imported) == comparable(with_acting_user_grants(exported, "guest"))
    assert {q["name"] for q in exported["queues"]} == set(queues)
    definitions_done = time.monotonic()

    # 2. a shovel per queue
    for queue, vhost in queues.items():
        api.set_parameter("shovel", vhost, f"move {queue}", shovel_definition(
            ours[vhost], queue, f"amqp:///{quote(vhost)}", queue))
    wait_for(lambda: sum(s["state"] == "running" for s in api.shovels()) == len(queues),
             "every shovel to run")
    orders.wait_confirmed(len(orders.confirmed) + 1000)

    # 3. consumers move, then 4. publishers move
    consumers = {queue: Consumer(queue, theirs[vhost], queue).start()
                 for queue, vhost in queues.items()}
    on_yizhan = worker.stop()
    jobs.wait_confirmed(len(jobs.confirmed) + 500)
    orders.move_to(theirs["shop"])
    jobs.move_to(theirs["/"])
    wait_for(lambda: orders.moves and jobs.moves, "the publishers to move")

    # 5. each shovel goes once its yizhan queue is empty
    ours_api = Management(yizhan.http_port)
    for queue, vhost in queues.items():
        wait_for(lambda: ours_api.queue(vhost, queue)["messages"] == 0,
                 f"the shovel to empty {queue} on yizhan", timeout=300)
        api.delete_parameter("shovel", vhost, f"move {queue}")
    shovels_done = time.monotonic()
    orders.wait_confirmed(len(orders.confirmed) + 200)
    published = {"o": orders_backlog + orders.stop(), "j": jobs_backlog + jobs.stop()}
    on_yizhan_published = {"shop": orders_backlog + orders.confirmed_before_move(),
                           "/": jobs_backlog + jobs.confirmed_before_move()}

    expected = {queue: published["o"] for queue in SHOP_QUEUES} | {"jobs": published["j"]}
    for queue, consumer in consumers.items():
        wait_for(lambda: len(consumer.received) + (len(on_yizhan) if queue == "jobs" else 0)
                 >= len(expected[queue]), f"{queue}'s consumer to get everything", timeout=120)
    received = {queue: consumer.stop() for queue, consumer in consumers.items()}

    # nothing lost, nothing twice, the shovelled part in order
    moved = {}
    for queue, vhost in queues.items():
        got = received[queue] + (on_yizhan if queue == "jobs" else [])
        assert len(got) == len(set(got)), f"duplicates in {queue}"
        assert sorted(got) == sorted(expected[queue]), f"lost messages in {queue}"
        assert drain(theirs[vhost], queue) == [] and drain(ours[vhost], queue) == []
        from_yizhan = set(on_yizhan_published[vhost])
        shovelled = [i for i in received[queue] if i in from_yizhan]
        moved[queue] = len(shovelled)
        if queue != "jobs":   # the jobs worker's unacked deliveries went back when it stopped
            assert shovelled == sorted(shovelled, key=lambda i: i[1])
    report(capsys, moved, published, on_yizhan, definitions_done - began,
           shovels_done - definitions_done, shovels_done - began)


def report(capsys, moved, published, on_yizhan, definitions_s, shovels_s, total_s) -> None:
    total = sum(moved.values())
    lines = [f"moving to RabbitMQ: {total} messages ({total * SIZE / 1e6:.1f} MB) moved by "
             f"{len(moved)} shovels in {shovels_s:.1f} s (definitions {definitions_s:.1f} s, "
             f"recipe {total_s:.1f} s); lost 0, duplicated 0",
             "  per queue: " + ", ".join(f"{q} {n}" for q, n in moved.items()),
             f"  published {len(published['o'])} orders and {len(published['j'])} jobs "
             f"(1 KB each), {len(on_yizhan)} jobs consumed on yizhan before the move"]
    with capsys.disabled():
        print("\n" + "\n".join(lines))

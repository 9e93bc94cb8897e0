"""RabbitMQ 3.10's own plugins use yizhan as the other broker: a dynamic shovel (the Erlang AMQP
0-9-1 client) drains a yizhan queue into RabbitMQ while a publisher keeps publishing to yizhan,
and the federation plugin takes yizhan as its upstream (exchange federation through the
`x-federation-upstream` exchange, queue federation through an `x-priority` -1 consumer).
Messages are numbered; every confirmed one must arrive exactly once and in order.

One RabbitMQ (management, shovel and federation plugins; a missing plugin is an error) and one
yizhan serve the whole module; each test uses its own queue and exchange names."""

from __future__ import annotations

import signal

import pika
import pytest
from pika.compat import long

from yizhan.testing.amqp import broker_error, connect, unique
from yizhan.testing.process import ServerProcess
from yizhan.testing.rabbitmq import RabbitMQReference
from yizhan.testing.reference import free_port
from yizhan.testing.road import (ROAD_PLUGINS, Consumer, Management, Publisher, drain,
                                 message_id, prefill, shovel_definition, wait_for)

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def rabbitmq():
    with RabbitMQReference(management=True, plugins=ROAD_PLUGINS) as ref:
        yield ref


@pytest.fixture(scope="module")
def yizhan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("road-plugins")
    srv = ServerProcess(tmp / "data", tmp / "yizhan.log")
    yield srv
    srv.stop()


def url(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


def in_order_once(ids: list) -> None:
    assert len(ids) == len(set(ids)), "duplicates"
    assert ids == sorted(ids, key=lambda i: i[1]), "out of order"


def test_shovel_with_queue_length_moves_the_backlog_while_publishers_keep_publishing(rabbitmq, yizhan):
    """`src-delete-after: queue-length` moves exactly the messages the queue held when the
    shovel started (its passive queue.declare), then deletes itself; what the publisher added
    meanwhile stays on yizhan, and extra deliveries of its prefetch go back to the queue."""
    api = Management(rabbitmq.http_port)
    queue, ours = unique("orders"), url(yizhan.amqp_port)
    with connect(ours) as conn:
        conn.channel().queue_declare(queue, durable=True)
    backlog = prefill(ours, "", queue, "p", 5000, 512)
    publisher = Publisher("p", ours, "", queue, size=512, first_sequence=len(backlog))
    publisher.start()
    publisher.wait_confirmed(200)
    api.set_parameter("shovel", "/", queue, shovel_definition(
        ours, queue, "amqp://", queue, delete_after="queue-length", prefetch=250))
    wait_for(lambda: not api.parameter_exists("shovel", "/", queue), "the shovel to finish")
    confirmed = backlog + publisher.stop()

    moved = drain(rabbitmq.url, queue)
    left = drain(ours, queue)
    assert len(moved) >= len(backlog) + 200   # at least what the queue held when it started
    assert moved + left == confirmed           # nothing lost or duplicated, order kept
    in_order_once(moved)


def test_shovel_drains_a_queue_live_until_the_publisher_moves(rabbitmq, yizhan):
    """A shovel that never deletes itself keeps a yizhan queue drained into RabbitMQ while
    publishing goes on; once the publisher moved to RabbitMQ and the yizhan queue is empty (no
    ready nor unacknowledged message), deleting the shovel leaves nothing behind."""
    api = Management(rabbitmq.http_port)
    queue, ours = unique("live"), url(yizhan.amqp_port)
    with connect(ours) as conn:
        conn.channel().queue_declare(queue, durable=True)
    with connect(rabbitmq.url) as conn:
        conn.channel().queue_declare(queue, durable=True)
    publisher = Publisher("q", ours, "", queue, size=1024)
    publisher.start()
    publisher.wait_confirmed(100)
    api.set_parameter("shovel", "/", queue, shovel_definition(ours, queue, "amqp://", queue))
    wait_for(lambda: any(s["name"] == queue and s["state"] == "running" for s in api.shovels()),
             "the shovel to run")
    publisher.wait_confirmed(len(publisher.confirmed) + 2000)
    publisher.move_to(rabbitmq.url)
    wait_for(lambda: publisher.moves, "the publisher to move")
    with connect(ours) as conn:
        channel = conn.channel()
        wait_for(lambda: channel.queue_declare(queue, passive=True).method.message_count == 0,
                 "the shovel to empty the yizhan queue")
    wait_for(lambda: (api.queue("/", queue) or {}).get("messages", 0) >= publisher.moves[0][1],
             "RabbitMQ to hold every message published to yizhan")
    api.delete_parameter("shovel", "/", queue)
    confirmed = publisher.stop()

    assert drain(ours, queue) == []
    arrived = drain(rabbitmq.url, queue)
    assert arrived == confirmed
    in_order_once(arrived)


HOPS = [  # x-received-from headers and whether an x-max-hops 2 exchange for "down" "/" forwards
    (None, True),
    ([], True),
    ([{"cluster-name": "other", "vhost": "/"}], True),
    ([{"cluster-name": "down", "vhost": "v"}], True),
    ([{"cluster-name": "down", "vhost": "/"}], False),
    (["not a table"], True),
    ([{"cluster-name": "a"}, {"cluster-name": "b"}], False),
    ("not an array", True),
]


def federation_upstream_exchange_behaviour(broker_url: str, name: str) -> list:
    """Declares, refusals and routing of `x-federation-upstream` exchanges on one broker."""
    seen = []
    with connect(broker_url) as conn:
        for arguments in ({}, {"x-max-hops": 1}, {"x-max-hops": "1"}):
            seen.append(broker_error(conn.channel().exchange_declare, name + ".bad",
                                     "x-federation-upstream", arguments=arguments))
        channel = conn.channel()
        arguments = {"x-max-hops": long(2), "x-downstream-name": "down",
                     "x-downstream-vhost": "/", "x-internal-purpose": "federation"}
        channel.exchange_declare(name, "x-federation-upstream", arguments=arguments)
        channel.exchange_declare(name, "x-federation-upstream",   # only x-max-hops is compared
                                 arguments={"x-max-hops": 2, "alternate-exchange": "elsewhere"})
        seen.append(broker_error(channel.exchange_declare, name, "x-federation-upstream",
                                 arguments={"x-max-hops": long(3)})[1:])
        channel = conn.channel()
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, name, "ignored")
        channel.confirm_delivery()
        for index, (hops, _) in enumerate(HOPS):
            headers = {"x-received-from": hops} if hops is not None else None
            channel.basic_publish(name, "any", str(index).encode(),
                                  pika.BasicProperties(headers=headers))
        routed = []
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            routed.append(int(got[2]))
        seen.append(routed)
        channel.exchange_delete(name)
    return seen


def test_the_federation_upstream_exchange_type_as_rabbitmq_with_the_plugin(rabbitmq, yizhan):
    """The exchange type the federation plugin declares on its upstream: yizhan refuses and
    routes as RabbitMQ with the plugin does (hop limit, cycle detection, its argument checks)."""
    name = unique("xfu")
    ours = federation_upstream_exchange_behaviour(url(yizhan.amqp_port), name)
    assert ours == federation_upstream_exchange_behaviour(rabbitmq.url, name)
    assert ours[-1] == [index for index, (_, forwards) in enumerate(HOPS) if forwards]
    assert ours[0] == ("channel", 406, "PRECONDITION_FAILED - Argument x-max-hops missing")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_shovel_resumes_after_yizhan_restarts_and_loses_nothing(rabbitmq, tmp_path, signum):
    """yizhan stopped (cleanly or killed) while a shovel drains a persistent backlog: the shovel
    reconnects once yizhan is back on the same port and finishes; every message reaches RabbitMQ.
    Deliveries in flight when the link broke may arrive twice (at-least-once, as with RabbitMQ
    as the source); how many is reported, and none beyond those is accepted."""
    api = Management(rabbitmq.http_port)
    queue, port = unique("restart"), free_port()
    ours = url(port)
    srv = ServerProcess(tmp_path / "data", tmp_path / "yizhan-1.log", "--amqp-port", str(port))
    try:
        with connect(ours) as conn:
            conn.channel().queue_declare(queue, durable=True)
        backlog = prefill(ours, "", queue, "k", 20_000, 1024)
        definition = shovel_definition(ours, queue, "amqp://", queue, prefetch=200)
        api.set_parameter("shovel", "/", queue, {**definition, "reconnect-delay": 1})
        wait_for(lambda: (api.queue("/", queue) or {}).get("messages", 0) >= 3000,
                 "the shovel to move part of the backlog", pause=0.02)
        srv.stop(signum)
        srv = ServerProcess(tmp_path / "data", tmp_path / "yizhan-2.log", "--amqp-port", str(port))
        with connect(ours) as conn:
            channel = conn.channel()
            wait_for(lambda: channel.queue_declare(queue, passive=True).method.message_count == 0,
                     "the shovel to finish after the restart", timeout=120)
        yizhan_api = Management(srv.http_port)
        wait_for(lambda: yizhan_api.queue("/", queue)["messages"] == 0, "the last acks")
        api.delete_parameter("shovel", "/", queue)
        arrived = drain(rabbitmq.url, queue)
    finally:
        srv.stop()
    lost = set(backlog) - set(arrived)
    assert not lost, f"{len(lost)} lost, e.g. {sorted(lost)[:5]}"
    duplicates = len(arrived) - len(backlog)
    print(f"\nyizhan {signal.Signals(signum).name} mid-shovel: {len(backlog)} moved, "
          f"{duplicates} delivered twice")
    assert duplicates <= 200, f"{duplicates} delivered twice"   # at most the prefetch window


def test_exchange_federation_takes_yizhan_as_upstream(rabbitmq, yizhan):
    """The federated exchange on RabbitMQ gets what is published to the same exchange on yizhan,
    for the bindings made on RabbitMQ only (the link mirrors them onto yizhan's internal
    upstream exchange)."""
    api = Management(rabbitmq.http_port)
    exchange, ours = unique("fedx"), url(yizhan.amqp_port)
    upstream = unique("yizhan")
    api.set_parameter("federation-upstream", "/", upstream, {"uri": ours, "expires": 600000,
                                                             "message-ttl": 600000})
    api.set_policy("/", exchange, f"^{exchange}$", {"federation-upstream": upstream},
                   apply_to="exchanges")
    with connect(rabbitmq.url) as conn:
        channel = conn.channel()
        channel.exchange_declare(exchange, "topic", durable=True)
        for name, key in (("eu", "orders.eu.*"), ("all", "orders.#")):
            channel.queue_declare(f"{exchange}.{name}", durable=True)
            channel.queue_bind(f"{exchange}.{name}", exchange, key)
    wait_for(lambda: [link for link in api.federation_links()
                      if link["exchange"] == exchange and link["status"] == "running"],
             "the federation link to run")
    with connect(ours) as conn:
        channel = conn.channel()
        channel.exchange_declare(exchange, passive=True)   # the link declared it on yizhan
        wait_for(lambda: _bound_keys(yizhan, exchange) >= {"orders.eu.*", "orders.#"},
                 "the link to bind its upstream exchange")
    internal = [x for x in Management(yizhan.http_port).ok("GET", "/exchanges/%2F")
                if x["name"].startswith(f"federation: {exchange} -> ")]
    assert [(x["type"], x["internal"], x["auto_delete"], x["durable"]) for x in internal] == \
        [("x-federation-upstream", True, True, True)]   # not the fanout it falls back to
    assert internal[0]["arguments"]["x-max-hops"] == 1
    link_queues = [q for q in Management(yizhan.http_port).ok("GET", "/queues/%2F")
                   if q["name"].startswith(f"federation: {exchange} -> ")]
    assert [(q["durable"], q["arguments"]["x-expires"], q["arguments"]["x-message-ttl"])
            for q in link_queues] == [(True, 600000, 600000)]

    publisher = Publisher("f", ours, exchange, "orders.eu.paris", size=256)
    publisher.start()
    publisher.wait_confirmed(1000)
    confirmed = publisher.stop()
    with connect(ours) as conn:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, "orders.us.nyc", b"f:-1:us", pika.BasicProperties())
    all_queue = f"{exchange}.all"
    wait_for(lambda: (api.queue("/", all_queue) or {}).get("messages", 0) >= len(confirmed) + 1,
             "every message to reach RabbitMQ")
    eu, everything = drain(rabbitmq.url, f"{exchange}.eu"), drain(rabbitmq.url, all_queue)
    assert eu == confirmed
    assert everything == confirmed + [("f", -1)]


def _bound_keys(yizhan, exchange: str) -> set:
    """The routing keys bound on yizhan's upstream exchange `exchange` (management API)."""
    api = Management(yizhan.http_port)
    return {b["routing_key"] for b in api.ok("GET", f"/exchanges/%2F/{exchange}/bindings/source")}


def test_queue_federation_moves_messages_to_rabbitmq_consumers(rabbitmq, yizhan):
    """Queue federation consumes from yizhan's queue with `x-priority: -1` while RabbitMQ's
    queue has consumers: a consumer on yizhan (priority 0) is served first up to its prefetch,
    everything else reaches the consumer on RabbitMQ; nothing twice, nothing lost."""
    api = Management(rabbitmq.http_port)
    queue, ours = unique("fedq"), url(yizhan.amqp_port)
    upstream = unique("yizhan")
    api.set_parameter("federation-upstream", "/", upstream, {"uri": ours})
    api.set_policy("/", queue, f"^{queue}$", {"federation-upstream": upstream}, apply_to="queues")
    with connect(ours) as conn:
        conn.channel().queue_declare(queue, durable=True)
    local = connect(ours)
    local_channel = local.channel()
    local_channel.basic_qos(prefetch_count=50)
    held = []
    local_channel.basic_consume(queue, lambda ch, m, p, body: held.append(body))   # never acks
    remote = connect(rabbitmq.url)
    remote_channel = remote.channel()
    remote_channel.queue_declare(queue, durable=True)
    remote_channel.basic_qos(prefetch_count=100)
    received = []

    def on_message(channel, method, properties, body):
        received.append(body)
        channel.basic_ack(method.delivery_tag)

    remote_channel.basic_consume(queue, on_message)
    wait_for(lambda: [link for link in api.federation_links()
                      if link.get("queue") == queue and link["status"] == "running"],
             "the federation link to run")
    publisher = Publisher("r", ours, "", queue, size=256)
    publisher.start()
    publisher.wait_confirmed(2000)
    confirmed = publisher.stop()

    def settled():
        local.process_data_events(0)
        remote.process_data_events(0.1)
        return len(held) + len(received) >= len(confirmed)

    wait_for(settled, "every message to reach a consumer", pause=0)
    local.process_data_events(0.5)
    remote.process_data_events(0.5)
    on_yizhan = [message_id(b) for b in held]
    on_rabbitmq = [message_id(b) for b in received]
    assert len(on_yizhan) == 50                      # its prefetch, served before the link
    assert on_yizhan == confirmed[:50]
    assert sorted(on_yizhan + on_rabbitmq) == sorted(confirmed)
    in_order_once(on_rabbitmq)
    local.close()
    remote.close()


def test_queue_federation_consumes_from_yizhan_only_while_rabbitmq_has_consumers(rabbitmq, yizhan):
    """The queue link subscribes to yizhan's queue when the federated queue on RabbitMQ gets a
    consumer and cancels when it has none: meanwhile messages stay on yizhan, and all of them
    arrive once a consumer is back."""
    api, yizhan_api = Management(rabbitmq.http_port), Management(yizhan.http_port)
    queue, ours = unique("stopgo"), url(yizhan.amqp_port)
    upstream = unique("yizhan")
    api.set_parameter("federation-upstream", "/", upstream, {"uri": ours})
    api.set_policy("/", queue, f"^{queue}$", {"federation-upstream": upstream}, apply_to="queues")
    with connect(ours) as conn:
        conn.channel().queue_declare(queue, durable=True)
    first = prefill(ours, "", queue, "s", 300, 256)
    with connect(rabbitmq.url) as conn:
        conn.channel().queue_declare(queue, durable=True)
    wait_for(lambda: [link for link in api.federation_links()
                      if link.get("queue") == queue and link["status"] == "running"],
             "the federation link to run")

    def on_yizhan():
        found = yizhan_api.queue("/", queue)
        return found["consumers"], found["messages"]

    assert on_yizhan() == (0, 300)               # no consumer on RabbitMQ: the link waits
    consumer = Consumer("stopgo-1", rabbitmq.url, queue, prefetch=50).start()
    wait_for(lambda: len(consumer.received) == 300, "the backlog to reach RabbitMQ's consumer")
    wait_for(lambda: on_yizhan() == (1, 0), "the link's acks (its consumer stays)")
    got = consumer.stop()
    wait_for(lambda: on_yizhan()[0] == 0, "the link to cancel its consumer on yizhan")
    second = prefill(ours, "", queue, "t", 200, 256)
    assert on_yizhan() == (0, 200)
    consumer = Consumer("stopgo-2", rabbitmq.url, queue, prefetch=50).start()
    wait_for(lambda: len(consumer.received) == 200, "the rest to reach RabbitMQ's consumer")
    got += consumer.stop()
    got += drain(rabbitmq.url, queue)
    assert got == first + second


def test_a_durable_federation_upstream_exchange_comes_back_after_a_restart(tmp_path):
    """The link's internal exchange is durable: after a restart yizhan still knows its type and
    arguments (hop limit and cycle detection) and its bindings."""
    srv = ServerProcess(tmp_path / "data", tmp_path / "yizhan-1.log")
    arguments = {"x-max-hops": long(1), "x-downstream-name": "down", "x-downstream-vhost": "/"}
    try:
        with connect(url(srv.amqp_port)) as conn:
            channel = conn.channel()
            channel.exchange_declare("xfu", "x-federation-upstream", durable=True,
                                     arguments=arguments)
            channel.queue_declare("xfu.q", durable=True)
            channel.queue_bind("xfu.q", "xfu")
    finally:
        srv.stop()
    srv = ServerProcess(tmp_path / "data", tmp_path / "yizhan-2.log")
    try:
        with connect(url(srv.amqp_port)) as conn:
            channel = conn.channel()
            channel.exchange_declare("xfu", "x-federation-upstream", durable=True,
                                     arguments=arguments)   # equivalent: no error
            channel.confirm_delivery()
            for body, hops in ((b"new", None), (b"one hop", [{"cluster-name": "a"}])):
                headers = {"x-received-from": hops} if hops else None
                channel.basic_publish("xfu", "", body, pika.BasicProperties(headers=headers))
            assert channel.basic_get("xfu.q", auto_ack=True)[2] == b"new"
            assert channel.basic_get("xfu.q", auto_ack=True)[0] is None   # max hops 1
    finally:
        srv.stop()

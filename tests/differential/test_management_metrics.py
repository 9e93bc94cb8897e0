"""rabbitmq_prometheus's dead-lettered counters, its per-object families and the node's churn
fields of /api/nodes, against RabbitMQ 3.10 with rabbitmq_management and rabbitmq_prometheus
enabled: the same scenario on both servers, then the families (name, type, help, label sets)
parsed with prometheus_client's parser and their values compared, and the node's churn counts.
"""

from __future__ import annotations

import time

import pika
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import yizhan
from yizhan.testing.rabbitmq import RabbitMQReference

AUTH = ("guest", "guest")
SETTLE = 10.0  # seconds RabbitMQ gets to count what its queue processes do after a reply


class Target:
    def __init__(self, name: str, amqp_url: str, http_base: str, metrics_base: str):
        self.name = name
        self.amqp_url = amqp_url
        self.http_base = http_base
        self.metrics_base = metrics_base

    def families(self, path: str = "/metrics") -> dict:
        response = requests.get(self.metrics_base + path, timeout=30)
        assert response.status_code == 200, (self.name, path, response.status_code)
        return {f.name: f for f in text_string_to_metric_families(response.text)}

    def api(self, path: str):
        response = requests.get(self.http_base + path, auth=AUTH, timeout=30)
        assert response.status_code == 200, (self.name, path, response.status_code)
        return response.json()


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    with RabbitMQReference(management=True) as ref, \
            yizhan.Server(http_port=0, data_dir=str(tmp_path_factory.mktemp("metrics")), save="") as srv:
        yield (Target("rabbitmq", ref.url, f"http://127.0.0.1:{ref.http_port}",
                      f"http://127.0.0.1:{ref.metrics_port}"),
               Target("yizhan", srv.amqp_url, srv.http_url, f"http://127.0.0.1:{srv.metrics_port}"))


def settled(target: Target, read, expected):
    """`read()` once for yizhan (it counts before it answers); for RabbitMQ until it equals
    `expected` (yizhan's reading) or SETTLE seconds passed, since its queue processes count
    after the channel answered."""
    value = read()
    deadline = time.monotonic() + SETTLE
    while target.name == "rabbitmq" and value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


# -- rabbitmq_global_messages_dead_lettered_* -----------------------------------------------------
DEAD_LETTERED = [f"rabbitmq_global_messages_dead_lettered_{reason}_total"
                 for reason in ("confirmed", "delivery_limit", "expired", "maxlen", "rejected")]


def family(families: dict, name: str):
    """A family by its exposed name (the parser names a counter's family without `_total`)."""
    return families[name] if name in families else families[name.removesuffix("_total")]


def dead_lettered(target: Target) -> dict:
    """{(reason, queue type, strategy): value}."""
    families = target.families()
    return {(name[len("rabbitmq_global_messages_dead_lettered_"):-len("_total")],
             s.labels["queue_type"], s.labels["dead_letter_strategy"]): s.value
            for name in DEAD_LETTERED for s in family(families, name).samples}


def test_dead_lettered_families(targets):
    rabbit, ours = targets
    theirs, mine = rabbit.families(), ours.families()
    for name in DEAD_LETTERED:
        m, t = family(mine, name), family(theirs, name)
        assert (m.type, m.documentation) == (t.type, t.documentation), name
        assert [s.labels for s in m.samples] == [s.labels for s in t.samples], name


def _drained(ch, queue: str) -> None:
    """Wait until `queue` holds nothing (its messages expired or were dead-lettered)."""
    deadline = time.monotonic() + SETTLE
    while ch.queue_declare(queue, passive=True).method.message_count:
        assert time.monotonic() < deadline, f"{queue} still holds messages"
        time.sleep(0.05)


def _get(ch, queue: str):
    deadline = time.monotonic() + SETTLE
    while True:
        method, _, _ = ch.basic_get(queue)
        if method is not None or time.monotonic() > deadline:
            return method
        time.sleep(0.05)


def dead_letter_steps(ch):
    """(name, step) pairs; `ch` is a confirm-mode channel, `plain` one without confirms."""
    plain = ch.connection.channel()
    sink = ("dl.dlx", "dl.sink")

    def ttl_without_dlx():
        ch.queue_declare("dl.ttl", arguments={"x-message-ttl": 30})
        for _ in range(2):
            ch.basic_publish("", "dl.ttl", b"x")
        _drained(ch, "dl.ttl")

    def ttl_with_dlx():
        ch.queue_declare("dl.ttl2", arguments={"x-message-ttl": 30, "x-dead-letter-exchange": sink[0]})
        for _ in range(3):
            ch.basic_publish("", "dl.ttl2", b"x")
        _drained(ch, "dl.ttl2")

    def ttl_zero_and_message_ttl():
        ch.queue_declare("dl.ttl0", arguments={"x-message-ttl": 0})
        ch.basic_publish("", "dl.ttl0", b"x")
        ch.queue_declare("dl.pm")
        ch.basic_publish("", "dl.pm", b"x", pika.BasicProperties(expiration="30"))
        _drained(ch, "dl.pm")

    def ttl_missing_dlx():
        ch.queue_declare("dl.ttl3", arguments={"x-message-ttl": 30, "x-dead-letter-exchange": "dl.none"})
        ch.basic_publish("", "dl.ttl3", b"x")
        _drained(ch, "dl.ttl3")

    def maxlen_drop_head():
        ch.queue_declare("dl.max", arguments={"x-max-length": 1})
        ch.queue_declare("dl.max2", arguments={"x-max-length": 1, "x-dead-letter-exchange": sink[0]})
        for _ in range(3):
            ch.basic_publish("", "dl.max", b"x")
            ch.basic_publish("", "dl.max2", b"x")

    def reject_publish():
        for name, overflow, dlx in (("dl.rp", "reject-publish", sink[0]),
                                    ("dl.rpd", "reject-publish-dlx", sink[0]),
                                    ("dl.rpn", "reject-publish-dlx", None)):
            args = {"x-max-length": 1, "x-overflow": overflow}
            if dlx:
                args["x-dead-letter-exchange"] = dlx
            plain.queue_declare(name, arguments=args)
            for _ in range(3):
                plain.basic_publish("", name, b"x")
        plain.queue_declare("dl.rpn", passive=True)

    def reject_and_nack():
        ch.queue_declare("dl.rej")
        ch.queue_declare("dl.rej2", arguments={"x-dead-letter-exchange": sink[0]})
        for _ in range(3):
            ch.basic_publish("", "dl.rej", b"x")
            ch.basic_publish("", "dl.rej2", b"x")
        ch.basic_reject(_get(ch, "dl.rej").delivery_tag, requeue=False)
        _get(ch, "dl.rej")
        ch.basic_nack(_get(ch, "dl.rej").delivery_tag, multiple=True, requeue=False)
        ch.basic_nack(_get(ch, "dl.rej2").delivery_tag, requeue=False)
        ch.basic_reject(_get(ch, "dl.rej2").delivery_tag, requeue=True)
        ch.queue_declare("dl.rej2", passive=True)

    def nothing_dead_lettered():
        """Purge, delete, requeue and a closed channel's unacked messages dead-letter nothing."""
        ch.queue_declare("dl.pd", arguments={"x-dead-letter-exchange": sink[0]})
        ch.basic_publish("", "dl.pd", b"x")
        ch.queue_purge("dl.pd")
        ch.basic_publish("", "dl.pd", b"x")
        closing = ch.connection.channel()
        _get(closing, "dl.pd")
        closing.close()
        ch.queue_delete("dl.pd")

    def quorum_reject():
        for name, dlx in (("dl.qr", None), ("dl.qr2", sink[0]), ("dl.qr3", "dl.none")):
            args = {"x-queue-type": "quorum"}
            if dlx:
                args["x-dead-letter-exchange"] = dlx
            ch.queue_declare(name, durable=True, arguments=args)
            ch.basic_publish("", name, b"x")
            ch.basic_reject(_get(ch, name).delivery_tag, requeue=False)

    def quorum_delivery_limit():
        for name, dlx in (("dl.qdl", sink[0]), ("dl.qdl2", None)):
            args = {"x-queue-type": "quorum", "x-delivery-limit": 0}
            if dlx:
                args["x-dead-letter-exchange"] = dlx
            ch.queue_declare(name, durable=True, arguments=args)
            ch.basic_publish("", name, b"x")
            ch.basic_nack(_get(ch, name).delivery_tag, requeue=True)
            _drained(ch, name)

    def quorum_ttl_and_maxlen():
        ch.queue_declare("dl.qt", durable=True, arguments={
            "x-queue-type": "quorum", "x-message-ttl": 30, "x-dead-letter-exchange": sink[0]})
        ch.basic_publish("", "dl.qt", b"x")
        _drained(ch, "dl.qt")
        ch.queue_declare("dl.qm", durable=True, arguments={
            "x-queue-type": "quorum", "x-max-length": 1, "x-dead-letter-exchange": sink[0]})
        for _ in range(3):
            ch.basic_publish("", "dl.qm", b"x")

    def quorum_at_least_once():
        for name, overflow in (("dl.ql", "reject-publish"), ("dl.qln", "drop-head")):
            ch.queue_declare(name, durable=True, arguments={
                "x-queue-type": "quorum", "x-dead-letter-exchange": sink[0],
                "x-dead-letter-strategy": "at-least-once", "x-overflow": overflow})
            ch.basic_publish("", name, b"x")
            ch.basic_reject(_get(ch, name).delivery_tag, requeue=False)

    return [(step.__name__, step) for step in (
        ttl_without_dlx, ttl_with_dlx, ttl_zero_and_message_ttl, ttl_missing_dlx, maxlen_drop_head,
        reject_publish, reject_and_nack, nothing_dead_lettered, quorum_reject,
        quorum_delivery_limit, quorum_ttl_and_maxlen, quorum_at_least_once)]


def dead_letter_increments(target: Target, expected: list | None) -> list:
    connection = pika.BlockingConnection(pika.URLParameters(target.amqp_url))
    ch = connection.channel()
    ch.confirm_delivery()
    ch.exchange_declare("dl.dlx", "fanout")
    ch.queue_declare("dl.sink")
    ch.queue_bind("dl.sink", "dl.dlx")
    out = []
    for i, (name, step) in enumerate(dead_letter_steps(ch)):
        before = dead_lettered(target)
        step()

        def delta():
            after = dead_lettered(target)
            return name, {key: after[key] - before[key] for key in after if after[key] != before[key]}
        out.append(settled(target, delta, expected[i] if expected else None))
    connection.close()
    return out


def test_dead_lettered_counts(targets):
    """Each step's increments of the dead-lettered counters, equal on both servers."""
    rabbit, ours = targets
    mine = dead_letter_increments(ours, None)
    theirs = dead_letter_increments(rabbit, mine)
    assert mine == theirs
    steps = dict(mine)
    assert steps["ttl_without_dlx"] == {("expired", "rabbit_classic_queue", "disabled"): 2}
    assert steps["nothing_dead_lettered"] == {}
    assert steps["quorum_at_least_once"] == {
        ("confirmed", "rabbit_quorum_queue", "at_least_once"): 1,
        ("rejected", "rabbit_quorum_queue", "at_least_once"): 1,
        ("rejected", "rabbit_quorum_queue", "at_most_once"): 1}


# -- /api/nodes churn -----------------------------------------------------------------------------
CHURN = ["connection_created", "connection_closed", "channel_created", "channel_closed",
         "queue_declared", "queue_created", "queue_deleted"]


def node_with_churn(target: Target) -> dict:
    """/api/nodes' node once it has the churn fields (RabbitMQ adds them with its first node
    statistics, about 5 s after start)."""
    deadline = time.monotonic() + 30
    node = target.api("/api/nodes")[0]
    while "connection_created" not in node and time.monotonic() < deadline:
        time.sleep(0.25)
        node = target.api("/api/nodes")[0]
    return node


def node_churn(target: Target) -> dict:
    node = node_with_churn(target)
    return {key: node[key] for key in CHURN}


def churn_scenario(amqp_url: str) -> None:
    """Two connections, four channels (one closed early), queues declared (twice; a passive
    declare is not counted), created and deleted (a quorum queue counts twice, an exclusive
    one goes with its connection), then everything closed."""
    first = pika.BlockingConnection(pika.URLParameters(amqp_url))
    second = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = first.channel()
    extra = first.channel()
    other = second.channel()
    ch.queue_declare("churn.a")
    ch.queue_declare("churn.a")
    ch.queue_declare("churn.a", passive=True)
    ch.queue_declare("churn.q", durable=True, arguments={"x-queue-type": "quorum"})
    other.queue_declare("", exclusive=True)
    extra.close()
    second.channel().queue_declare("churn.b")
    ch.queue_delete("churn.a")
    ch.queue_delete("churn.q")
    ch.queue_delete("churn.b")
    first.close()
    second.close()


def test_node_churn_fields(targets):
    """/api/nodes' churn counters and their `_details`: RabbitMQ's keys and shapes, and the same
    increments over one scenario (RabbitMQ's absolute counts include the reference harness's
    port probes); yizhan's equal the overview's churn_rates."""
    rabbit, ours = targets
    for target in targets:
        node = node_with_churn(target)
        assert {k: node[k + "_details"] for k in CHURN} == {k: {"rate": node[k + "_details"]["rate"]} for k in CHURN}
        assert all(isinstance(node[k], int) for k in CHURN), target.name
    increments = {}
    for target in (ours, rabbit):
        before = node_churn(target)
        churn_scenario(target.amqp_url)

        def delta():
            after = node_churn(target)
            return {key: after[key] - before[key] for key in CHURN}
        increments[target.name] = settled(target, delta, increments.get("yizhan"))
    assert increments["yizhan"] == increments["rabbitmq"]
    assert increments["yizhan"] == {"connection_created": 2, "connection_closed": 2,
                                    "channel_created": 4, "channel_closed": 4,
                                    "queue_declared": 5, "queue_created": 4, "queue_deleted": 5}
    overview = ours.api("/api/overview")["churn_rates"]
    node = ours.api("/api/nodes")[0]
    assert {k: overview[k] for k in CHURN} == node_churn(ours)
    detail = ours.api("/api/nodes/" + node["name"])
    assert {k: detail[k] for k in CHURN} == {k: node[k] for k in CHURN}

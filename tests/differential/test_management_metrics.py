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


METRIC_CHURN = {"connection_created": "rabbitmq_connections_opened_total",
                "connection_closed": "rabbitmq_connections_closed_total",
                "channel_created": "rabbitmq_channels_opened_total",
                "channel_closed": "rabbitmq_channels_closed_total",
                "queue_declared": "rabbitmq_queues_declared_total",
                "queue_created": "rabbitmq_queues_created_total",
                "queue_deleted": "rabbitmq_queues_deleted_total"}


def caught_up_churn(target: Target) -> dict:
    """The node's churn once it equals the churn metrics (RabbitMQ's node statistics are
    sampled every 5 s, so the closes of an earlier test may not be in them yet)."""
    deadline = time.monotonic() + 3 * SETTLE
    while True:
        churn = node_churn(target)
        families = target.families()
        metrics = {key: family(families, name).samples[0].value for key, name in METRIC_CHURN.items()}
        if churn == metrics or time.monotonic() > deadline:
            return churn
        time.sleep(0.25)


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
        for key in CHURN:
            assert list(node[key + "_details"]) == ["rate"], (target.name, key)
            assert isinstance(node[key + "_details"]["rate"], float), (target.name, key)
        assert all(isinstance(node[k], int) for k in CHURN), target.name
    increments = {}
    for target in (ours, rabbit):
        before = caught_up_churn(target)
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
    assert {k: overview[k] for k in CHURN} == node_churn(ours) == caught_up_churn(ours)
    detail = ours.api("/api/nodes/" + node["name"])
    assert {k: detail[k] for k in CHURN} == {k: node[k] for k in CHURN}


# -- /metrics/per-object: queue, channel and connection families ----------------------------------
QUEUE_FAMILIES = ["rabbitmq_queue_" + name for name in (
    "messages_ready", "messages_unacked", "messages", "consumers", "consumer_capacity",
    "consumer_utilisation", "messages_ram", "messages_ram_bytes", "messages_ready_ram",
    "messages_unacked_ram", "messages_persistent", "messages_persistent_bytes", "messages_bytes",
    "messages_ready_bytes", "messages_unacked_bytes", "messages_paged_out",
    "messages_paged_out_bytes", "head_message_timestamp", "disk_reads_total", "disk_writes_total")]
CHANNEL_FAMILIES = ["rabbitmq_channel_consumers", "rabbitmq_channel_messages_unacked",
                    "rabbitmq_channel_messages_unconfirmed", "rabbitmq_channel_messages_uncommitted",
                    "rabbitmq_channel_acks_uncommitted", "rabbitmq_consumer_prefetch",
                    "rabbitmq_channel_prefetch"]
CHANNEL_PAIR_FAMILIES = ["rabbitmq_channel_" + name for name in (
    "messages_published_total", "messages_confirmed_total", "messages_unroutable_returned_total",
    "messages_unroutable_dropped_total", "get_ack_total", "get_total",
    "messages_delivered_ack_total", "messages_delivered_total", "messages_redelivered_total",
    "messages_acked_total", "get_empty_total")] + ["rabbitmq_queue_messages_published_total"]
CONNECTION_FAMILIES = ["rabbitmq_connection_" + name for name in (
    "incoming_bytes_total", "outgoing_bytes_total", "incoming_packets_total",
    "outgoing_packets_total", "pending_packets", "channels")]
OBJECT_FAMILIES = QUEUE_FAMILIES + CHANNEL_FAMILIES + CHANNEL_PAIR_FAMILIES + CONNECTION_FAMILIES
# values that depend on timing or on bytes the servers word differently, and the queue disk
# reads and writes yizhan does not count (README)
UNEQUAL_VALUES = {"rabbitmq_queue_consumer_capacity", "rabbitmq_queue_consumer_utilisation",
                  "rabbitmq_queue_disk_reads_total", "rabbitmq_queue_disk_writes_total",
                  "rabbitmq_connection_incoming_bytes_total", "rabbitmq_connection_outgoing_bytes_total",
                  "rabbitmq_connection_incoming_packets_total",
                  "rabbitmq_connection_outgoing_packets_total"}
# per-object families about Erlang processes and Ra that yizhan does not have
NOT_GIVEN = {"rabbitmq_queue_process_reductions", "rabbitmq_queue_process_memory_bytes",
             "rabbitmq_channel_process_reductions", "rabbitmq_connection_process_reductions",
             "rabbitmq_raft_term", "rabbitmq_raft_log_snapshot_index",
             "rabbitmq_raft_log_last_applied_index", "rabbitmq_raft_log_commit_index",
             "rabbitmq_raft_log_last_written_index", "rabbitmq_raft_entry_commit_latency_seconds"}


def object_scenario(amqp_url: str) -> list:
    """Queues po.* (classic behind a fanout, quorum, durable and transient classic ones with
    persistent messages), confirmed publishes, an unroutable
    mandatory and an unroutable plain one, gets (auto, manual, empty), a redelivery, acks, a
    consumer (prefetch 2, one message held), a transactional channel with an uncommitted
    publish and ack. The connections stay open."""
    first = pika.BlockingConnection(pika.URLParameters(amqp_url))
    ch = first.channel()
    ch.confirm_delivery()
    ch.exchange_declare("po.fan", "fanout")
    ch.exchange_declare("po.empty", "direct")
    ch.queue_declare("po.classic")
    ch.queue_declare("po.quorum", durable=True, arguments={"x-queue-type": "quorum"})
    ch.queue_bind("po.classic", "po.fan")
    ch.queue_bind("po.quorum", "po.fan")
    for i in range(4):
        ch.basic_publish("po.fan", "", f"m{i}".encode())
    ch.basic_publish("", "po.classic", b"direct")
    plain = first.channel()
    plain.basic_publish("po.empty", "x", b"dropped")
    plain.basic_publish("po.empty", "x", b"returned", mandatory=True)
    _get(plain, "po.classic")
    plain.basic_get("po.classic", auto_ack=True)
    method = _get(plain, "po.quorum")
    plain.basic_nack(method.delivery_tag, requeue=True)
    plain.basic_ack(_get(plain, "po.quorum").delivery_tag)
    plain.queue_declare("po.empty.q")
    assert plain.basic_get("po.empty.q") == (None, None, None)
    ch.queue_declare("po.durable", durable=True)
    persistent = pika.BasicProperties(delivery_mode=2)
    for body, props in ((b"aaaa", persistent), (b"bb", persistent), (b"c", None), (b"ddddd", persistent)):
        ch.basic_publish("", "po.durable", body, props)
    _get(plain, "po.durable")  # persistent, held unacknowledged: still counted
    ch.queue_declare("po.transient")
    ch.basic_publish("", "po.transient", b"eee", persistent)  # persistent only in a durable queue
    second = pika.BlockingConnection(pika.URLParameters(amqp_url))
    consuming = second.channel()
    consuming.basic_qos(prefetch_count=2)
    got = []
    consuming.basic_consume("po.quorum", lambda *delivery: got.append(delivery))
    while len(got) < 2:
        second.process_data_events(time_limit=0.1)
    consuming.basic_ack(got[0][1].delivery_tag)
    tx = second.channel()
    tx.tx_select()
    tx.basic_publish("", "po.classic", b"uncommitted")
    tx.basic_qos(prefetch_count=3, global_qos=True)
    return [first, second]


def object_samples(target: Target, path: str) -> dict:
    """{family: (type, help, sorted [(labels but channel, value)])}: the po.* queues' and the
    open channels' and connections' samples (other tests' queues left out), channel pids
    dropped (they differ), values that cannot be equal left out."""
    families = target.families(path)
    out = {}
    for name in OBJECT_FAMILIES:
        f = family(families, name)
        rows = []
        for s in f.samples:
            if s.labels.get("queue", "po.").startswith("po."):
                labels = sorted((k, v) for k, v in s.labels.items() if k != "channel")
                value = None if name in UNEQUAL_VALUES else ("NaN" if s.value != s.value else s.value)
                rows.append((sorted(s.labels), labels, value))
        out[name] = (f.type, f.documentation, sorted(rows))
    return out


@pytest.fixture(scope="module")
def objects(targets):
    connections = [c for t in targets for c in object_scenario(t.amqp_url)]
    yield targets
    for connection in connections:
        connection.close()


def test_per_object_families(objects):
    """Every queue, channel and connection family of the per-object endpoint: type, help,
    label names and (where both servers can agree) each object's value."""
    rabbit, ours = objects
    mine = object_samples(ours, "/metrics/per-object")
    theirs = settled(rabbit, lambda: object_samples(rabbit, "/metrics/per-object"), mine)
    for name in OBJECT_FAMILIES:
        assert mine[name] == theirs[name], name
    assert ([[("queue", "po.classic"), ("vhost", "/")], 3.0] in
            [[labels, value] for _, labels, value in mine["rabbitmq_queue_messages_ready"][2]])
    persistent = {dict(labels)["queue"]: value
                  for _, labels, value in mine["rabbitmq_queue_messages_persistent_bytes"][2]}
    assert (persistent["po.durable"], persistent["po.transient"]) == (11.0, 0.0)
    names = lambda target: {n for n, f in target.families("/metrics/per-object").items()  # noqa: E731
                            if any({"queue", "channel"} & set(s.labels) for s in f.samples)}
    assert names(rabbit) - names(ours) == NOT_GIVEN


def aggregated_samples(target: Target) -> dict:
    families = target.families("/metrics")
    return {name: (f.type, f.documentation, [(s.labels, s.value) for s in f.samples])
            for name in OBJECT_FAMILIES
            if (f := families.get(name, families.get(name.removesuffix("_total")))) is not None}


def test_aggregated_object_families(objects):
    """/metrics sums the same families (one unlabelled sample; the plugin gives
    consumer_capacity, persistent_bytes and head_message_timestamp none); the channel and
    connection sums (only this scenario's are open) equal RabbitMQ's."""
    rabbit, ours = objects
    mine = aggregated_samples(ours)
    live = [n for n in mine if n in CHANNEL_FAMILIES + CHANNEL_PAIR_FAMILIES and n not in UNEQUAL_VALUES]
    theirs = aggregated_samples(rabbit)
    deadline = time.monotonic() + SETTLE
    while any(mine[n] != theirs[n] for n in live) and time.monotonic() < deadline:
        time.sleep(0.2)
        theirs = aggregated_samples(rabbit)
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        assert mine[name][:2] == theirs[name][:2], name
        assert [labels for labels, _ in mine[name][2]] == [labels for labels, _ in theirs[name][2]], name
    assert {n: mine[n] for n in live} == {n: theirs[n] for n in live}
    per_object = ours.families("/metrics/per-object")
    for name in mine:
        if mine[name][2]:
            assert mine[name][2][0][1] == sum(s.value for s in family(per_object, name).samples), name


# -- confirms: a nack is not a confirm ------------------------------------------------------------
def confirm_counts(target: Target) -> dict:
    """The global confirm counters and the per-object channel counts for the default exchange
    (summed over the open channels)."""
    families = target.families("/metrics/per-object")
    out = {name: family(families, name).samples[0].value for name in (
        "rabbitmq_global_messages_confirmed_total", "rabbitmq_global_messages_received_confirm_total")}
    for name in ("rabbitmq_channel_messages_published_total", "rabbitmq_channel_messages_confirmed_total"):
        out[name] = sum(s.value for s in family(families, name).samples if s.labels["exchange"] == "")
    return out


def test_nacked_publishes_are_not_confirmed(targets):
    """Publishes in confirm mode into a full reject-publish queue are nacked: counted as
    received in confirm mode and published, not as confirmed."""
    rabbit, ours = targets
    increments = {}
    for target in (ours, rabbit):
        connection = pika.BlockingConnection(pika.URLParameters(target.amqp_url))
        ch = connection.channel()
        ch.confirm_delivery()
        ch.queue_declare("nk.full", arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
        before = confirm_counts(target)
        nacked = 0
        for _ in range(3):
            try:
                ch.basic_publish("", "nk.full", b"x")
            except pika.exceptions.NackError:
                nacked += 1
        assert nacked == 2

        def delta():
            after = confirm_counts(target)
            return {key: after[key] - before[key] for key in after}
        increments[target.name] = settled(target, delta, increments.get("yizhan"))
        ch.queue_delete("nk.full")
        connection.close()
    assert increments["yizhan"] == increments["rabbitmq"] == {
        "rabbitmq_global_messages_confirmed_total": 1,
        "rabbitmq_global_messages_received_confirm_total": 3,
        "rabbitmq_channel_messages_published_total": 3,
        "rabbitmq_channel_messages_confirmed_total": 1}

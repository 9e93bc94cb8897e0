"""Prometheus `/metrics` in the text exposition format (version 0.0.4): the AMQP side under
rabbitmq_prometheus's names, aggregated as its default endpoint aggregates them (one sample
per metric for the node), and the Redis side under redis_exporter's names, read from the
same fields INFO reports. The global message counters, the dead-lettered counters and the
churn counters are read from yizhan.amqp.counters (the channels' and queues' own counters,
folded into their vhost when they go), never counted a second time here.
"""

from __future__ import annotations

import math
import platform

from yizhan.amqp import arguments, counters
from yizhan.amqp.broker import VERSION
from yizhan.management import per_object, views
from yizhan.redis.commands.server import info_fields

CONTENT_TYPE = "text/plain; version=0.0.4"


def render(runtime, each_object: bool = False) -> str:
    """`/metrics` (the queue, channel and connection families summed), or `/metrics/per-object`
    (one sample per object, as rabbitmq_prometheus's per-object endpoint)."""
    lines: list[str] = []
    broker = runtime.broker
    objects = per_object.families(broker) if each_object else per_object.aggregated(broker)
    for name, kind, text, samples in objects + rabbitmq_metrics(runtime) + redis_metrics(runtime.redis):
        lines.append(f"# TYPE {name} {kind}")
        lines.append(f"# HELP {name} {text}")
        for labels, value in samples:
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


PROTOCOL = {"protocol": "amqp091"}
QUEUE_TYPES = {"classic": "rabbit_classic_queue", "quorum": "rabbit_quorum_queue",
               "stream": "rabbit_stream_queue"}
CHURN = [  # (metric, counters key, help)
    ("rabbitmq_connections_opened_total", "connection_created", "Total number of connections opened"),
    ("rabbitmq_connections_closed_total", "connection_closed",
     "Total number of connections closed or terminated"),
    ("rabbitmq_channels_opened_total", "channel_created", "Total number of channels opened"),
    ("rabbitmq_channels_closed_total", "channel_closed", "Total number of channels closed"),
    ("rabbitmq_queues_declared_total", "queue_declared", "Total number of queues declared"),
    ("rabbitmq_queues_created_total", "queue_created", "Total number of queues created"),
    ("rabbitmq_queues_deleted_total", "queue_deleted", "Total number of queues deleted"),
]
GLOBAL_BY_PROTOCOL = [  # (metric suffix, help, channel counter keys summed)
    ("messages_received_total", "Total number of messages received from publishers", ("publish",)),
    ("messages_received_confirm_total",
     "Total number of messages received from publishers expecting confirmations",
     ("received_confirm",)),
    ("messages_unroutable_dropped_total", "Total number of messages published as non-mandatory "
     "into an exchange and dropped as unroutable", ("drop_unroutable",)),
    ("messages_unroutable_returned_total", "Total number of messages published as mandatory into "
     "an exchange and returned to the publisher as unroutable", ("return_unroutable",)),
    ("messages_confirmed_total", "Total number of messages confirmed to publishers", ("confirm",)),
]
GLOBAL_BY_QUEUE_TYPE = [  # (metric suffix, help, queue counter keys summed)
    ("messages_delivered_total", "Total number of messages delivered to consumers",
     ("deliver", "deliver_no_ack", "get", "get_no_ack")),
    ("messages_delivered_consume_auto_ack_total", "Total number of messages delivered to "
     "consumers using basic.consume with automatic acknowledgment", ("deliver_no_ack",)),
    ("messages_delivered_consume_manual_ack_total", "Total number of messages delivered to "
     "consumers using basic.consume with manual acknowledgment", ("deliver",)),
    ("messages_delivered_get_auto_ack_total", "Total number of messages delivered to consumers "
     "using basic.get with automatic acknowledgment", ("get_no_ack",)),
    ("messages_delivered_get_manual_ack_total", "Total number of messages delivered to consumers "
     "using basic.get with manual acknowledgment", ("get",)),
    ("messages_get_empty_total", "Total number of times basic.get operations fetched no message",
     ("get_empty",)),
    ("messages_redelivered_total", "Total number of messages redelivered to consumers",
     ("redeliver",)),
    ("messages_acknowledged_total", "Total number of messages acknowledged by consumers", ("ack",)),
]


DEAD_LETTERED = [  # (reason, help, the (queue type, strategy) pairs rabbitmq_prometheus 3.10 exposes)
    ("confirmed", "Total number of messages dead-lettered and confirmed by target queues",
     [("quorum", "at_least_once")]),
    ("delivery_limit", "Total number of messages dead-lettered due to delivery-limit exceeded",
     [("quorum", "at_least_once"), ("quorum", "at_most_once"), ("quorum", "disabled")]),
    ("expired", "Total number of messages dead-lettered due to message TTL exceeded",
     [("classic", "at_most_once"), ("classic", "disabled"), ("quorum", "at_least_once"),
      ("quorum", "at_most_once"), ("quorum", "disabled")]),
    ("maxlen", "Total number of messages dead-lettered due to overflow drop-head or "
     "reject-publish-dlx", [("classic", "at_most_once"), ("classic", "disabled"),
                            ("quorum", "at_most_once"), ("quorum", "disabled")]),
    ("rejected", "Total number of messages dead-lettered due to basic.reject or basic.nack",
     [("classic", "at_most_once"), ("classic", "disabled"), ("quorum", "at_least_once"),
      ("quorum", "at_most_once"), ("quorum", "disabled")]),
]


def dead_lettered_metrics(broker) -> list:
    """rabbitmq_global_messages_dead_lettered_*_total, labelled queue type and dead-letter
    strategy, from the counts dead_letter.py keeps."""
    counts = counters.node_dead_lettered(broker)
    return [(f"rabbitmq_global_messages_dead_lettered_{reason}_total", "counter", text,
             [({"queue_type": QUEUE_TYPES[kind], "dead_letter_strategy": strategy},
               counts[(kind, strategy, reason)]) for kind, strategy in pairs])
            for reason, text, pairs in DEAD_LETTERED]


def node_channel_totals(broker) -> dict:
    """The node's channel counters since start (every vhost's, closed channels included)."""
    live = [c for conn in broker.connections for c in conn.channels.values()]
    totals = dict.fromkeys(counters.CHANNEL_KEYS, 0)
    for vhost in broker.vhosts.values():
        for key, value in counters.vhost_channel_totals(vhost, live).items():
            totals[key] += value
    return totals


def global_metrics(broker) -> list:
    """rabbitmq_global_*: rabbit_global_counters' message counters and the publisher and
    consumer gauges, as rabbitmq_prometheus 3.10 labels them."""
    channel = node_channel_totals(broker)
    by_type = {kind: dict.fromkeys(counters.QUEUE_KEYS, 0) for kind in QUEUE_TYPES}
    for vhost in broker.vhosts.values():
        for kind, counts in counters.queue_type_totals(
                vhost, lambda q: arguments.queue_type(q.arguments)).items():
            for key in counters.QUEUE_KEYS:
                by_type.setdefault(kind, dict.fromkeys(counters.QUEUE_KEYS, 0))[key] += counts[key]
    out = [(f"rabbitmq_global_{suffix}", "counter", text, [(PROTOCOL, sum(channel[k] for k in keys))])
           for suffix, text, keys in GLOBAL_BY_PROTOCOL]
    routed = channel["publish"] - channel["drop_unroutable"] - channel["return_unroutable"]
    out.append(("rabbitmq_global_messages_routed_total", "counter",
                "Total number of messages routed to queues or streams", [(PROTOCOL, routed)]))
    for suffix, text, keys in GLOBAL_BY_QUEUE_TYPE:
        out.append((f"rabbitmq_global_{suffix}", "counter", text,
                    [({**PROTOCOL, "queue_type": QUEUE_TYPES[kind]},
                      sum(by_type[kind][k] for k in keys)) for kind in QUEUE_TYPES]))
    out += dead_lettered_metrics(broker)
    channels = [c for conn in broker.connections for c in conn.channels.values() if not c.released]
    out.append(("rabbitmq_global_publishers", "gauge", "Current number of publishers",
                [(PROTOCOL, counters.publishers(broker))]))
    out.append(("rabbitmq_global_consumers", "gauge", "Current number of consumers",
                [(PROTOCOL, sum(len(c.consumers) for c in channels))]))
    return out


def churn_metrics(broker) -> list:
    churn = counters.node_churn(broker)
    return [(name, "counter", text, [({}, churn[key])]) for name, key, text in CHURN]


def rabbitmq_metrics(runtime) -> list:
    broker = runtime.broker
    totals = views.object_totals(broker)
    node = views.node_name()
    cluster = broker.server_properties()["cluster_name"]
    return [
        ("rabbitmq_connections", "gauge", "Connections currently open", [({}, totals["connections"])]),
        ("rabbitmq_channels", "gauge", "Channels currently open", [({}, totals["channels"])]),
        ("rabbitmq_consumers", "gauge", "Consumers currently connected", [({}, totals["consumers"])]),
        ("rabbitmq_queues", "gauge", "Queues available", [({}, totals["queues"])]),
        ("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info",
         [({"rabbitmq_version": VERSION, "prometheus_plugin_version": VERSION,
            "prometheus_client_version": "yizhan",
            "erlang_version": f"Python {platform.python_version()}"}, 1)]),
        ("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info",
         [({"rabbitmq_node": node, "rabbitmq_cluster": cluster,
            "rabbitmq_cluster_permanent_id": f"rabbitmq-cluster-id-{cluster}"}, 1)]),
    ] + churn_metrics(broker) + global_metrics(broker)


def redis_metrics(redis) -> list:
    clients = dict(info_fields(redis, "clients"))
    stats = dict(info_fields(redis, "stats"))
    memory = dict(info_fields(redis, "memory"))
    return [
        ("redis_up", "gauge", "Information about the Redis instance", [({}, 1)]),
        ("redis_connected_clients", "gauge", "connected_clients metric",
         [({}, clients["connected_clients"])]),
        ("redis_commands_processed_total", "counter", "commands_processed_total metric",
         [({}, stats["total_commands_processed"])]),
        ("redis_keyspace_hits_total", "counter", "keyspace_hits_total metric",
         [({}, stats["keyspace_hits"])]),
        ("redis_keyspace_misses_total", "counter", "keyspace_misses_total metric",
         [({}, stats["keyspace_misses"])]),
        ("redis_memory_used_bytes", "gauge", "memory_used_bytes metric",
         [({}, memory["used_memory"])]),
        ("redis_db_keys", "gauge", "Total number of keys by DB",
         [({"db": f"db{db.index}"}, len(db)) for db in redis.dbs]),
        ("redis_db_keys_expiring", "gauge", "Total number of expiring keys by DB",
         [({"db": f"db{db.index}"}, len(db.expires)) for db in redis.dbs]),
    ]


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return str(int(value)) if isinstance(value, int) or float(value).is_integer() else repr(float(value))

"""Prometheus `/metrics` in the text exposition format (version 0.0.4): the AMQP side under
rabbitmq_prometheus's names, aggregated as its default endpoint aggregates them (one sample
per metric for the node), and the Redis side under redis_exporter's names, read from the
same fields INFO reports.
"""

from __future__ import annotations

import platform

from yizhan.amqp.broker import VERSION
from yizhan.management import views
from yizhan.redis.commands.server import info_fields

CONTENT_TYPE = "text/plain; version=0.0.4"


def render(runtime) -> str:
    lines: list[str] = []
    for name, kind, text, samples in rabbitmq_metrics(runtime) + redis_metrics(runtime.redis):
        lines.append(f"# TYPE {name} {kind}")
        lines.append(f"# HELP {name} {text}")
        for labels, value in samples:
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
    return "\n".join(lines) + "\n"


def rabbitmq_metrics(runtime) -> list:
    broker = runtime.broker
    totals = views.object_totals(broker)
    queues = [q for v in broker.vhosts.values() for q in v.queues.values()]
    node = views.node_name()
    cluster = broker.server_properties()["cluster_name"]
    return [
        ("rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
         [({}, sum(q.message_count for q in queues))]),
        ("rabbitmq_queue_messages_unacked", "gauge",
         "Messages delivered to consumers but not yet acknowledged",
         [({}, sum(q.unacked for q in queues))]),
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
    ]


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
    return str(int(value)) if isinstance(value, int) or float(value).is_integer() else repr(float(value))

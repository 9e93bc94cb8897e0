"""The JSON objects of RabbitMQ 3.10's management API, built from the broker's live state:
field names, types and nesting as rabbit_mgmt_format writes them.

Statistics that yizhan does not sample yet (message rates, per-object message_stats, byte
counters, churn) are left out rather than invented; fields that only describe Erlang internals
(garbage_collection, reductions, backing_queue_status) keep RabbitMQ's shape with yizhan's
plain values, so clients that read them still find them.
"""

from __future__ import annotations

import datetime
import platform
import socket
from urllib.parse import quote_plus

from yizhan.amqp import passwords
from yizhan.amqp.broker import VERSION
from yizhan.amqp.channel import ENTRY, QUEUE
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.store import is_persistent
from yizhan.amqp.store.definitions_json import json_value

ALL_PERMISSIONS = {"configure": ".*", "write": ".*", "read": ".*"}
EXCHANGE_DESCRIPTIONS = [
    ("direct", "AMQP direct exchange, as per the AMQP specification"),
    ("fanout", "AMQP fanout exchange, as per the AMQP specification"),
    ("headers", "AMQP headers exchange, as per the AMQP specification"),
    ("topic", "AMQP topic exchange, as per the AMQP specification"),
]
PREDECLARED_CREATOR = "rmq-internal"


def node_name() -> str:
    return f"yizhan@{socket.gethostname()}"


def rate(value) -> dict:
    return {"rate": float(value)}


def arguments_json(table) -> dict:
    """rabbit_mgmt_format:amqp_table: a field table as a JSON object (keys sorted)."""
    return {key: json_value(value) for key, value in sorted(table.to_python().items())}


def iso_time(ms: int) -> str:
    """idle_since as RabbitMQ 3.10 formats it: 2026-12-07T19:54:57.418+00:00."""
    when = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+00:00"


# -- queues -----------------------------------------------------------------------------------
NOTHING_HELD = (0, 0, 0)


def unacked_totals(broker) -> dict:
    """{queue: (body bytes, persistent messages, their body bytes)} of the messages delivered
    and not yet acknowledged (the channels hold them), counted once per request."""
    held: dict = {}
    for connection in broker.connections:
        for channel in connection.channels.values():
            for item in channel.unacked.values():
                queue = item[QUEUE]
                size, persistent, persistent_size = held.get(queue, NOTHING_HELD)
                message = item[ENTRY].message
                body = len(message.body)
                if is_persistent(message):
                    persistent, persistent_size = persistent + 1, persistent_size + body
                held[queue] = (size + body, persistent, persistent_size)
    return held


def persistent_ready(queue) -> tuple[int, int]:
    """(messages, body bytes) of the queue's ready messages in memory that are persistent."""
    count = size = 0
    for entry in queue.ready:
        message = entry.message
        if is_persistent(message):
            count, size = count + 1, size + len(message.body)
    return count, size


def queue_json(queue, now_ms: int, held: dict) -> dict:
    """A queue in /api/queues: the classic shape, or the quorum one (rabbit_quorum_queue's
    info items: leader, members, online, no backing queue). `held`: `unacked_totals`. A
    classic queue's persistent messages are those a durable queue holds (rabbit_variable_queue
    counts a persistent message in a transient queue as transient)."""
    unacked_size, unacked_persistent, unacked_persistent_size = held.get(queue, NOTHING_HELD)
    if queue.quorum:
        return quorum_queue_json(queue, unacked_size)
    ready = queue.message_count
    unacked = queue.unacked
    ready_bytes = sum(len(e.message.body) for e in queue.ready)
    persistent, persistent_size = persistent_ready(queue) if queue.durable else (0, 0)
    if queue.durable:
        persistent += unacked_persistent
        persistent_size += unacked_persistent_size
    consumers = queue.consumer_count
    return {
        "arguments": arguments_json(queue.arguments),
        "auto_delete": queue.auto_delete,
        "backing_queue_status": backing_queue_status(queue, ready),
        "consumer_capacity": 1.0 if consumers else 0,
        "consumer_utilisation": 1.0 if consumers else 0,
        "consumers": consumers,
        "durable": queue.durable,
        "effective_policy_definition": dict(queue.policy or {}),
        "exclusive": queue.exclusive_owner is not None,
        "exclusive_consumer_tag": (queue.exclusive_consumer.tag
                                   if queue.exclusive_consumer is not None else None),
        "garbage_collection": {"fullsweep_after": 0, "max_heap_size": 0, "min_bin_vheap_size": 0,
                               "min_heap_size": 0, "minor_gcs": 0},
        "head_message_timestamp": None,
        "idle_since": iso_time(now_ms),  # activity is not tracked yet: idle as of this request
        "memory": 0,
        "message_bytes": ready_bytes + unacked_size,
        "message_bytes_paged_out": 0,
        "message_bytes_persistent": persistent_size,
        "message_bytes_ram": ready_bytes + unacked_size,
        "message_bytes_ready": ready_bytes,
        "message_bytes_unacknowledged": unacked_size,
        "messages": ready + unacked,
        "messages_details": rate(0),
        "messages_paged_out": queue.paged_count,
        "messages_persistent": persistent,
        "messages_ram": len(queue.ready) + unacked,
        "messages_ready": ready,
        "messages_ready_details": rate(0),
        "messages_ready_ram": len(queue.ready),
        "messages_unacknowledged": unacked,
        "messages_unacknowledged_details": rate(0),
        "messages_unacknowledged_ram": unacked,
        "name": queue.name,
        "node": node_name(),
        "operator_policy": None,
        "policy": None,
        "recoverable_slaves": None,
        "reductions": 0,
        "reductions_details": rate(0),
        "single_active_consumer_tag": (queue.active_consumer.tag
                                       if queue.active_consumer is not None else None),
        "state": "running",
        "type": queue.type_name,
        "vhost": queue.vhost.name,
    }


def quorum_queue_json(queue, unacked_size: int) -> dict:
    ready = queue.message_count
    unacked = queue.unacked
    ready_bytes = sum(len(e.message.body) for e in queue.ready)
    consumers = queue.consumer_count
    node = node_name()
    return {
        "arguments": arguments_json(queue.arguments),
        "auto_delete": queue.auto_delete,
        "consumer_capacity": 1.0 if consumers else 0,
        "consumer_utilisation": 1.0 if consumers else 0,
        "consumers": consumers,
        "durable": queue.durable,
        "effective_policy_definition": dict(queue.policy or {}),
        "exclusive": False,
        "garbage_collection": {"fullsweep_after": 0, "max_heap_size": 0, "min_bin_vheap_size": 0,
                               "min_heap_size": 0, "minor_gcs": 0},
        "leader": node,
        "members": [node],
        "memory": 0,
        "message_bytes": ready_bytes + unacked_size,
        "message_bytes_dlx": 0,
        "message_bytes_persistent": ready_bytes + unacked_size,
        "message_bytes_ram": 0,
        "message_bytes_ready": ready_bytes,
        "message_bytes_unacknowledged": unacked_size,
        "messages": ready + unacked,
        "messages_details": rate(0),
        "messages_dlx": 0,
        "messages_persistent": ready + unacked,
        "messages_ram": 0,
        "messages_ready": ready,
        "messages_ready_details": rate(0),
        "messages_unacknowledged": unacked,
        "messages_unacknowledged_details": rate(0),
        "name": queue.name,
        "node": node,
        "online": [node],
        "open_files": {node: 0},
        "operator_policy": None,
        "policy": None,
        "reductions": 0,
        "reductions_details": rate(0),
        "single_active_consumer_ctag": (queue.active_consumer.tag
                                        if queue.active_consumer is not None else None),
        "state": "running",
        "type": "quorum",
        "vhost": queue.vhost.name,
    }


def backing_queue_status(queue, ready: int) -> dict:
    """rabbit_variable_queue's status in its shape: every ready message counts in q4 (RAM)."""
    return {"avg_ack_egress_rate": 0.0, "avg_ack_ingress_rate": 0.0, "avg_egress_rate": 0.0,
            "avg_ingress_rate": 0.0, "delta": ["delta", "undefined", 0, 0, "undefined"],
            "len": ready, "mode": "default", "next_deliver_seq_id": 0,
            "next_seq_id": queue.next_seq, "q1": 0, "q2": 0, "q3": 0, "q4": ready,
            "target_ram_count": "infinity", "version": 1}


def queue_detail_json(queue, now_ms: int, held: dict) -> dict:
    """GET /api/queues/{vhost}/{name}: the list entry plus consumer_details, deliveries, incoming."""
    return {"consumer_details": [], **queue_json(queue, now_ms, held), "deliveries": [],
            "incoming": []}


# -- exchanges and bindings ---------------------------------------------------------------
def exchange_json(exchange, vhost_name: str) -> dict:
    return {
        "arguments": arguments_json(exchange.arguments),
        "auto_delete": exchange.auto_delete,
        "durable": exchange.durable,
        "internal": exchange.internal,
        "name": exchange.name,
        "type": exchange.type_name,
        "vhost": vhost_name,
    }


def exchange_detail_json(exchange, vhost_name: str) -> dict:
    return {**exchange_json(exchange, vhost_name), "incoming": [], "outgoing": []}


def binding_json(vhost_name: str, source: str, dest_kind: str, dest: str, key: str, args) -> dict:
    table = arguments_json(args)
    return {"source": source, "vhost": vhost_name, "destination": dest,
            "destination_type": dest_kind, "routing_key": key, "arguments": table,
            "properties_key": properties_key(key, table)}


def properties_key(key: str, arguments: dict) -> str:
    """rabbit_mgmt_format:pack_binding_props: the routing key quoted as a form value (space
    `+`); with arguments a `~` and a digest of them follows (yizhan's digest, not Erlang's
    phash2)."""
    quoted = quote_plus(key, safe="")
    if not arguments:
        return quoted or "~"
    digest = passwords.hash_password(repr(sorted(arguments.items())), salt=b"\0\0\0\0")
    return quoted + "~" + digest[8:14].replace("+", "-").replace("/", "_")


def vhost_bindings(vhost) -> list[dict]:
    """The default exchange's implicit bindings (queue by queue) then the explicit ones, in
    the order rabbit_mgmt_wm_bindings sorts them in (source, destination, routing key)."""
    rows = [binding_json(vhost.name, "", "queue", name, name, FieldTable())
            for name in sorted(vhost.queues)]
    explicit = []
    for exchange in vhost.exchanges.values():
        for binding in exchange.bindings.values():
            explicit.append(binding)
    explicit.sort(key=lambda b: (b.source.name, b.destination.name, b.key))
    rows += [binding_json(vhost.name, b.source.name, b.destination.kind, b.destination.name,
                          b.key, b.args) for b in explicit]
    return rows


# -- vhosts, users, permissions ---------------------------------------------------------------
def vhost_json(vhost) -> dict:
    ready = sum(q.message_count for q in vhost.queues.values())
    unacked = sum(q.unacked for q in vhost.queues.values())
    metadata = vhost.metadata
    description = metadata.get("description", "Default virtual host" if vhost.name == "/" else "")
    tags = list(metadata.get("tags", []))
    return {
        "cluster_state": {node_name(): "running"},
        "default_queue_type": "undefined",
        "description": description,
        "messages": ready + unacked,
        "messages_details": rate(0),
        "messages_ready": ready,
        "messages_ready_details": rate(0),
        "messages_unacknowledged": unacked,
        "messages_unacknowledged_details": rate(0),
        "metadata": {"description": description, "tags": tags},
        "name": vhost.name,
        "tags": tags,
        "tracing": False,
    }


def user_json(user) -> dict:
    password_hash = user.password_hash or (passwords.hash_password(user.password)
                                           if user.password is not None else "")
    return {"name": user.name, "password_hash": password_hash,
            "hashing_algorithm": user.hashing_algorithm, "tags": list(user.tags),
            "limits": dict(user.limits)}


def user_vhosts(user, broker) -> list[str]:
    if "*" in user.vhosts:
        return sorted(broker.vhosts)
    return sorted(v for v in user.vhosts if v in broker.vhosts)


def permissions_json(broker) -> list[dict]:
    """Every user's permissions, sorted as rabbit_mgmt_wm_permissions sorts them (vhost, user)."""
    rows = []
    for name in sorted(broker.users):
        user = broker.users[name]
        for vhost in user_vhosts(user, broker):
            granted = user.permissions.get(vhost, ALL_PERMISSIONS)
            rows.append({"user": name, "vhost": vhost, **{k: granted[k] for k in
                                                          ("configure", "write", "read")}})
    return sorted(rows, key=lambda row: (row["vhost"], row["user"]))


# -- overview ---------------------------------------------------------------------------------
def overview_json(runtime, cluster_name: str) -> dict:
    broker = runtime.broker
    queues = [q for v in broker.vhosts.values() for q in v.queues.values()]
    ready = sum(q.message_count for q in queues)
    unacked = sum(q.unacked for q in queues)
    node = node_name()
    return {
        "management_version": VERSION,
        "rates_mode": "none",
        "sample_retention_policies": {"global": [600, 3600, 28800, 86400], "basic": [600, 3600],
                                      "detailed": [600]},
        "exchange_types": [{"name": name, "description": text, "enabled": True}
                           for name, text in EXCHANGE_DESCRIPTIONS],
        "product_version": VERSION,
        "product_name": "RabbitMQ",
        "rabbitmq_version": VERSION,
        "cluster_name": cluster_name,
        "erlang_version": f"Python {platform.python_version()}",
        "erlang_full_version": f"Python {platform.python_version()} ({platform.python_implementation()})",
        "release_series_support_status": "supported",
        "disable_stats": False,
        "enable_queue_totals": False,
        "message_stats": {},
        "queue_totals": {"messages": ready + unacked, "messages_details": rate(0),
                         "messages_ready": ready, "messages_ready_details": rate(0),
                         "messages_unacknowledged": unacked,
                         "messages_unacknowledged_details": rate(0)},
        "object_totals": object_totals(broker),
        "statistics_db_event_queue": 0,
        "node": node,
        "listeners": listeners_json(runtime, node),
        "contexts": contexts_json(runtime, node),
    }


def object_totals(broker) -> dict:
    vhosts = broker.vhosts.values()
    return {"channels": sum(len(c.channels) for c in broker.connections),
            "connections": len(broker.connections),
            "consumers": sum(len(q.consumers) for v in vhosts for q in v.queues.values()),
            "exchanges": sum(len(v.exchanges) for v in vhosts),
            "queues": sum(len(v.queues) for v in vhosts)}


def contexts_json(runtime, node: str) -> list[dict]:
    """rabbit_web_dispatch's HTTP contexts: the API's, then the metrics port's (their values
    as RabbitMQ renders them: port as a string, Erlang terms in text)."""
    ip = runtime.config.bind
    base = {"ssl_opts": [], "node": node, "path": "/", "cowboy_opts": "[{sendfile,false}]",
            "ip": ip}
    rows = [{**base, "description": "RabbitMQ Management", "port": str(runtime.http_port)}]
    if runtime.metrics_port:
        rows.append({**base, "description": "RabbitMQ Prometheus",
                     "port": str(runtime.metrics_port), "protocol": "'http/prometheus'"})
    return [{k: row[k] for k in ("ssl_opts", "node", "description", "path", "cowboy_opts", "ip",
                                 "port", "protocol") if k in row} for row in rows]


def listeners_json(runtime, node: str) -> list[dict]:
    ip = runtime.config.bind
    cfg = runtime.config
    rows = [{"node": node, "protocol": "amqp", "ip_address": ip, "port": runtime.amqp_port,
             "socket_opts": {"backlog": 511, "nodelay": True}}]
    if runtime.amqps_port:  # RabbitMQ's socket_opts of an ssl listener carry its ssl_options
        files = {"keyfile": cfg.amqp_ssl_keyfile, "certfile": cfg.amqp_ssl_certfile,
                 "cacertfile": cfg.amqp_ssl_cacertfile}
        rows.append({"node": node, "protocol": "amqp/ssl", "ip_address": ip, "port": runtime.amqps_port,
                     "socket_opts": {"backlog": 511, "nodelay": True, "versions": ["tlsv1.3", "tlsv1.2"],
                                     **{k: v for k, v in files.items() if v},
                                     "fail_if_no_peer_cert": cfg.amqp_ssl_fail_if_no_peer_cert,
                                     "verify": cfg.amqp_ssl_verify}})
    rows.append({"node": node, "protocol": "http", "ip_address": ip, "port": runtime.http_port,
                 "socket_opts": {"ip": ip, "port": runtime.http_port}})
    if runtime.metrics_port:
        rows.append({"node": node, "protocol": "http/prometheus", "ip_address": ip,
                     "port": runtime.metrics_port,
                     "socket_opts": {"ip": ip, "port": runtime.metrics_port,
                                     "protocol": "http/prometheus"}})
    if runtime.https_port:
        files = {"cacertfile": cfg.management_ssl_cacertfile, "keyfile": cfg.management_ssl_keyfile,
                 "certfile": cfg.management_ssl_certfile}
        rows.append({"node": node, "protocol": "https", "ip_address": ip, "port": runtime.https_port,
                     "socket_opts": {"port": runtime.https_port, "ssl": True,
                                     "ssl_opts": {**{k: v for k, v in files.items() if v}, "ip": ip,
                                                  "port": runtime.https_port}}})
    return rows

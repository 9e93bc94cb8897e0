"""The JSON of what is live on the broker, as RabbitMQ 3.10's management API shows it:
connections (named "peer -> local" as rabbit_reader names them), channels ("<connection>
(<number>)"), consumers and the node.

Erlang-process statistics keep RabbitMQ's shape with yizhan's plain values (garbage_collection,
reductions). Node counters yizhan does not keep (Mnesia transactions, file I/O, context switches,
object churn) are left out rather than invented.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import time

from yizhan.amqp.broker import VERSION
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.store.definitions_json import json_value
from yizhan.management import views

GC = {"fullsweep_after": 0, "max_heap_size": 0, "min_bin_vheap_size": 0, "min_heap_size": 0,
      "minor_gcs": 0}
STARTED = time.monotonic()
AUTH_MECHANISMS = [
    {"name": "PLAIN", "description": "SASL PLAIN authentication mechanism", "enabled": True},
    {"name": "AMQPLAIN", "description": "QPid AMQPLAIN mechanism", "enabled": True},
    {"name": "RABBIT-CR-DEMO",
     "description": "RabbitMQ Demo challenge-response authentication mechanism", "enabled": False},
]


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 0


def table_json(table) -> dict:
    """A field table as rabbit_mgmt_format shows client properties (keys in table order)."""
    if not isinstance(table, FieldTable):
        return {}
    return {key: json_value(value) for key, value in table.to_python().items()}


# -- connections --------------------------------------------------------------------------------
def connection_name(connection) -> str:
    return f"{connection.peer} -> {connection.local}"


def open_connections(broker) -> list:
    """Connections past the handshake, oldest first (RabbitMQ lists only those it tracks)."""
    return sorted((c for c in broker.connections if c.user is not None and c.vhost is not None
                   and c.state not in ("closed", "dead")), key=lambda c: c.id)


def connection_json(connection) -> dict:
    peer_host, peer_port = _split(connection.peer)
    host, port = _split(connection.local)
    provided = connection.client_properties.value("connection_name") \
        if isinstance(connection.client_properties, FieldTable) else None
    row = {
        "auth_mechanism": connection.mechanism,
        "channel_max": connection.channel_max,
        "channels": len(connection.channels),
        "client_properties": table_json(connection.client_properties),
        "connected_at": connection.connected_at,
        "frame_max": connection.frame_max,
        "garbage_collection": dict(GC),
        "host": host,
        "name": connection_name(connection),
        "node": views.node_name(),
        "peer_cert_issuer": None,
        "peer_cert_subject": None,
        "peer_cert_validity": None,
        "peer_host": peer_host,
        "peer_port": peer_port,
        "port": port,
        "protocol": "AMQP 0-9-1",
        "recv_cnt": connection.recv_cnt,
        "recv_oct": connection.recv_oct,
        "recv_oct_details": views.rate(0),
        "reductions": 0,
        "reductions_details": views.rate(0),
        "send_cnt": connection.send_cnt,
        "send_oct": connection.send_oct,
        "send_oct_details": views.rate(0),
        "send_pend": 0,
        "ssl": connection.ssl,
        "ssl_cipher": None,
        "ssl_hash": None,
        "ssl_key_exchange": None,
        "ssl_protocol": None,
        "state": "blocked" if connection.blocked else "running",
        "timeout": connection.heartbeat,
        "type": "network",
        "user": connection.user.name,
        "user_who_performed_action": connection.user.name,
        "vhost": connection.vhost.name,
    }
    if provided is not None:
        row["user_provided_name"] = json_value(provided)
    return dict(sorted(row.items()))


# -- channels -----------------------------------------------------------------------------------
def channel_name(channel) -> str:
    return f"{connection_name(channel.conn)} ({channel.number})"


def open_channels(broker) -> list:
    return [ch for c in open_connections(broker) for _, ch in sorted(c.channels.items())]


def channel_json(channel, now_ms: int) -> dict:
    peer_host, peer_port = _split(channel.conn.peer)
    user = channel.conn.user.name
    tx = channel.tx
    return {
        "acks_uncommitted": len(tx.acks) if tx is not None else 0,
        "confirm": channel.confirm,
        "connection_details": {"name": connection_name(channel.conn), "peer_host": peer_host,
                               "peer_port": peer_port},
        "consumer_count": len(channel.consumers),
        "garbage_collection": dict(GC),
        "global_prefetch_count": channel.global_prefetch,
        "idle_since": views.iso_time(now_ms),
        "messages_unacknowledged": len(channel.unacked),
        "messages_uncommitted": len(tx.publishes) if tx is not None else 0,
        "messages_unconfirmed": len(channel.confirms_waiting),
        "name": channel_name(channel),
        "node": views.node_name(),
        "number": channel.number,
        "pending_raft_commands": 0,
        "prefetch_count": channel.consumer_prefetch,
        "reductions": 0,
        "reductions_details": views.rate(0),
        "state": "running",
        "transactional": tx is not None,
        "user": user,
        "user_who_performed_action": user,
        "vhost": channel.vhost.name,
    }


def channel_detail_json(channel, now_ms: int) -> dict:
    row = channel_json(channel, now_ms)
    row["consumer_details"] = [consumer_json(c) for c in channel.consumers.values()
                               if c.queue is not None]
    row["deliveries"] = []
    row["publishes"] = []
    return dict(sorted(row.items()))


# -- consumers ----------------------------------------------------------------------------------
def consumer_json(consumer) -> dict:
    channel = consumer.channel
    peer_host, peer_port = _split(channel.conn.peer)
    queue = consumer.queue
    return {
        "arguments": views.arguments_json(consumer.args or FieldTable()),
        "channel_details": {"connection_name": connection_name(channel.conn),
                            "name": channel_name(channel), "node": views.node_name(),
                            "number": channel.number, "peer_host": peer_host,
                            "peer_port": peer_port, "user": channel.conn.user.name},
        "ack_required": not consumer.no_ack,
        "active": True,
        "activity_status": "up",
        "consumer_tag": consumer.tag,
        "exclusive": consumer.exclusive,
        "prefetch_count": consumer.prefetch,
        "queue": {"name": queue.name, "vhost": queue.vhost.name},
    }


def vhost_consumers(vhost) -> list[dict]:
    return [consumer_json(c) for name in sorted(vhost.queues)
            for c in vhost.queues[name].consumers.values()]


# -- the node -----------------------------------------------------------------------------------
def node_json(runtime) -> dict:
    broker = runtime.broker
    monitor = runtime.monitor
    disk = shutil.disk_usage(runtime.config.data_dir)
    fds = _open_fds()
    return {
        "applications": [{"name": "rabbit", "description": "RabbitMQ",
                          "version": VERSION}],
        "auth_mechanisms": AUTH_MECHANISMS,
        "cluster_links": [],
        "config_files": [],
        "contexts": [{k: v for k, v in c.items() if k not in ("node", "ssl_opts")}  # reversed, as the node lists them
                     for c in reversed(views.contexts_json(runtime, views.node_name()))],
        "db_dir": os.path.abspath(runtime.config.data_dir),
        "disk_free": disk.free,
        "disk_free_alarm": "disk" in broker.alarms,
        "disk_free_details": views.rate(0),
        "disk_free_limit": monitor.disk_free_limit,
        "enabled_plugins": ["rabbitmq_management", "rabbitmq_prometheus"],
        "exchange_types": [{"name": name, "description": text, "enabled": True}
                           for name, text in views.EXCHANGE_DESCRIPTIONS],
        "fd_total": _fd_limit(),
        "fd_used": fds,
        "fd_used_details": views.rate(0),
        "gc_num": sum(s["collections"] for s in gc.get_stats()),
        "gc_num_details": views.rate(0),
        "log_files": ["<stdout>"],
        "mem_alarm": "memory" in broker.alarms,
        "mem_calculation_strategy": "rss",
        "mem_limit": monitor.memory_limit or 0,
        "mem_used": monitor.rss,
        "mem_used_details": views.rate(0),
        "name": views.node_name(),
        "net_ticktime": 60,
        "os_pid": str(os.getpid()),
        "partitions": [],
        "proc_total": 1048576,
        "proc_used": len(broker.connections) + sum(len(c.channels) for c in broker.connections),
        "proc_used_details": views.rate(0),
        "processors": os.cpu_count() or 1,
        "rates_mode": "basic",
        "run_queue": 0,
        "running": True,
        "sockets_total": _fd_limit(),
        "sockets_used": len(broker.connections),
        "sockets_used_details": views.rate(0),
        "type": "disc",
        "uptime": int((time.monotonic() - STARTED) * 1000),
    }


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _fd_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]

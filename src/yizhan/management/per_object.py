"""rabbitmq_prometheus 3.10's queue, channel and connection metric families: on
`/metrics/per-object` one sample per object, on `/metrics` one sum per family, as the plugin's
two endpoints give them.

The values are the management API's own (views.queue_json, live.channel_json,
live.connection_json), so the API and the metrics cannot disagree; the per-exchange and
per-queue channel counters are the channel's PairCounts (amqp/counters.py). Labels are the
plugin's: `vhost`/`queue` for queues, `channel` for channels and, as 3.10 labels them, for
connections too, its value an Erlang-pid-like `<0.N.0>` for a connection with id N and
`<0.N.C>` for its channel C. The families about Erlang processes (`*_process_reductions_total`,
`rabbitmq_queue_process_memory_bytes`) and Ra's `rabbitmq_raft_*` per quorum queue are not
given: yizhan has no such processes.
"""

from __future__ import annotations

import math

from yizhan.amqp import counters
from yizhan.management import live, views

# (metric, type, help, the /api/queues field); a queue whose row lacks the field (a quorum
# queue's lacks the classic-only ones) has no sample, as in rabbitmq_prometheus
QUEUE = [
    ("rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
     "messages_ready"),
    ("rabbitmq_queue_messages_unacked", "gauge",
     "Messages delivered to consumers but not yet acknowledged", "messages_unacknowledged"),
    ("rabbitmq_queue_messages", "gauge",
     "Sum of ready and unacknowledged messages - total queue depth", "messages"),
    ("rabbitmq_queue_consumers", "gauge", "Consumers on a queue", "consumers"),
    ("rabbitmq_queue_consumer_capacity", "gauge", "Consumer capacity", "consumer_capacity"),
    ("rabbitmq_queue_consumer_utilisation", "gauge", "Same as consumer capacity",
     "consumer_utilisation"),
    ("rabbitmq_queue_messages_ram", "gauge", "Ready and unacknowledged messages stored in memory",
     "messages_ram"),
    ("rabbitmq_queue_messages_ram_bytes", "gauge",
     "Size of ready and unacknowledged messages stored in memory", "message_bytes_ram"),
    ("rabbitmq_queue_messages_ready_ram", "gauge", "Ready messages stored in memory",
     "messages_ready_ram"),
    ("rabbitmq_queue_messages_unacked_ram", "gauge", "Unacknowledged messages stored in memory",
     "messages_unacknowledged_ram"),
    ("rabbitmq_queue_messages_persistent", "gauge", "Persistent messages", "messages_persistent"),
    ("rabbitmq_queue_messages_persistent_bytes", "gauge", "Size in bytes of persistent messages",
     "message_bytes_persistent"),
    ("rabbitmq_queue_messages_bytes", "gauge", "Size in bytes of ready and unacknowledged messages",
     "message_bytes"),
    ("rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages",
     "message_bytes_ready"),
    ("rabbitmq_queue_messages_unacked_bytes", "gauge",
     "Size in bytes of all unacknowledged messages", "message_bytes_unacknowledged"),
    ("rabbitmq_queue_messages_paged_out", "gauge", "Messages paged out to disk",
     "messages_paged_out"),
    ("rabbitmq_queue_messages_paged_out_bytes", "gauge",
     "Size in bytes of messages paged out to disk", "message_bytes_paged_out"),
    ("rabbitmq_queue_head_message_timestamp", "gauge",
     "Timestamp of the first message in the queue, if any", "head_message_timestamp"),
    ("rabbitmq_queue_disk_reads_total", "counter",
     "Total number of times queue read messages from disk", "disk_reads"),
    ("rabbitmq_queue_disk_writes_total", "counter",
     "Total number of times queue wrote messages to disk", "disk_writes"),
]
CHANNEL = [  # (metric, type, help, the /api/channels field)
    ("rabbitmq_channel_consumers", "gauge", "Consumers on a channel", "consumer_count"),
    ("rabbitmq_channel_messages_unacked", "gauge", "Delivered but not yet acknowledged messages",
     "messages_unacknowledged"),
    ("rabbitmq_channel_messages_unconfirmed", "gauge", "Published but not yet confirmed messages",
     "messages_unconfirmed"),
    ("rabbitmq_channel_messages_uncommitted", "gauge",
     "Messages received in a transaction but not yet committed", "messages_uncommitted"),
    ("rabbitmq_channel_acks_uncommitted", "gauge",
     "Message acknowledgements in a transaction not yet committed", "acks_uncommitted"),
    ("rabbitmq_consumer_prefetch", "gauge", "Limit of unacknowledged messages for each consumer",
     "prefetch_count"),
    ("rabbitmq_channel_prefetch", "gauge",
     "Total limit of unacknowledged messages for all consumers on a channel",
     "global_prefetch_count"),
]
CHANNEL_EXCHANGE = [  # (metric, help, the PairCounts column)
    ("rabbitmq_channel_messages_published_total",
     "Total number of messages published into an exchange on a channel", counters.PUBLISH),
    ("rabbitmq_channel_messages_confirmed_total",
     "Total number of messages published into an exchange and confirmed on the channel",
     counters.CONFIRM),
    ("rabbitmq_channel_messages_unroutable_returned_total", "Total number of messages published "
     "as mandatory into an exchange and returned to the publisher as unroutable",
     counters.RETURN_UNROUTABLE),
    ("rabbitmq_channel_messages_unroutable_dropped_total", "Total number of messages published "
     "as non-mandatory into an exchange and dropped as unroutable", counters.DROP_UNROUTABLE),
]
CHANNEL_QUEUE = [
    ("rabbitmq_channel_get_ack_total",
     "Total number of messages fetched with basic.get in manual acknowledgement mode",
     counters.GET),
    ("rabbitmq_channel_get_total",
     "Total number of messages fetched with basic.get in automatic acknowledgement mode",
     counters.GET_NO_ACK),
    ("rabbitmq_channel_messages_delivered_ack_total",
     "Total number of messages delivered to consumers in manual acknowledgement mode",
     counters.DELIVER),
    ("rabbitmq_channel_messages_delivered_total",
     "Total number of messages delivered to consumers in automatic acknowledgement mode",
     counters.DELIVER_NO_ACK),
    ("rabbitmq_channel_messages_redelivered_total",
     "Total number of messages redelivered to consumers", counters.REDELIVER),
    ("rabbitmq_channel_messages_acked_total", "Total number of messages acknowledged by consumers",
     counters.ACK),
    ("rabbitmq_channel_get_empty_total",
     "Total number of times basic.get operations fetched no message", counters.GET_EMPTY),
]
CONNECTION = [  # (metric, type, help, the /api/connections field)
    ("rabbitmq_connection_incoming_bytes_total", "counter",
     "Total number of bytes received on a connection", "recv_oct"),
    ("rabbitmq_connection_outgoing_bytes_total", "counter",
     "Total number of bytes sent on a connection", "send_oct"),
    ("rabbitmq_connection_incoming_packets_total", "counter",
     "Total number of packets received on a connection", "recv_cnt"),
    ("rabbitmq_connection_outgoing_packets_total", "counter",
     "Total number of packets sent on a connection", "send_cnt"),
    ("rabbitmq_connection_pending_packets", "gauge",
     "Number of packets waiting to be sent on a connection", "send_pend"),
    ("rabbitmq_connection_channels", "gauge", "Channels on a connection", "channels"),
]
QUEUE_PUBLISHED = ("rabbitmq_queue_messages_published_total", "counter",
                   "Total number of messages published to queues")
# the plugin gives these families no sample on its aggregated endpoint (their TYPE and HELP only)
NOT_AGGREGATED = {"rabbitmq_queue_consumer_capacity", "rabbitmq_queue_messages_persistent_bytes",
                  "rabbitmq_queue_head_message_timestamp"}


def connection_pid(connection) -> str:
    return f"<0.{connection.id}.0>"


def channel_pid(channel) -> str:
    return f"<0.{channel.conn.id}.{channel.number}>"


def families(broker) -> list:
    """(metric, type, help, [(labels, value)]) of every object family, one sample per object."""
    channels = [c for c in live.open_channels(broker) if not c.released]
    return (queue_families(broker) + channel_families(channels)
            + connection_families(live.open_connections(broker))
            + [(*QUEUE_PUBLISHED, queue_published(channels))])


def aggregated(broker) -> list:
    """The same families summed over their objects, one unlabelled sample each."""
    return [(name, kind, text,
             [] if name in NOT_AGGREGATED else [({}, sum(value for _, value in samples))])
            for name, kind, text, samples in families(broker)]


def queue_families(broker) -> list:
    held = views.unacked_totals(broker)
    rows = []
    for vhost in broker.vhosts.values():
        for queue in vhost.queues.values():
            row = views.queue_json(queue, 0, held)
            if not queue.quorum:
                row |= {"disk_reads": 0, "disk_writes": 0}  # yizhan counts no queue disk I/O
            rows.append(({"vhost": vhost.name, "queue": queue.name}, row))
    return [(name, kind, text, [(labels, _number(row[field])) for labels, row in rows if field in row])
            for name, kind, text, field in QUEUE]


def channel_families(channels: list) -> list:
    rows = [({"channel": channel_pid(c)}, live.channel_json(c, 0)) for c in channels]
    out = [(name, kind, text, [(labels, row[field]) for labels, row in rows])
           for name, kind, text, field in CHANNEL]
    by_exchange = [({"channel": channel_pid(c), "vhost": c.vhost.name, "exchange": x.name}, counts)
                   for c in channels for x, counts in c.by_exchange.items() if not x.deleted]
    out += [(name, "counter", text, [(labels, counts[column]) for labels, counts in by_exchange])
            for name, text, column in CHANNEL_EXCHANGE]
    by_queue = [({"channel": channel_pid(c), "vhost": q.vhost.name, "queue": q.name}, counts)
                for c in channels for q, counts in c.by_queue.items() if not q.deleted]
    out += [(name, "counter", text, [(labels, counts[column]) for labels, counts in by_queue])
            for name, text, column in CHANNEL_QUEUE]
    return out


def queue_published(channels: list) -> list:
    return [({"channel": channel_pid(c), "queue_vhost": q.vhost.name, "queue": q.name,
              "exchange_vhost": c.vhost.name, "exchange": x.name}, counts[0])
            for c in channels for (q, x), counts in c.by_queue_exchange.items()
            if not (q.deleted or x.deleted)]


def connection_families(connections: list) -> list:
    rows = [({"channel": connection_pid(c)}, live.connection_json(c)) for c in connections]
    return [(name, kind, text, [(labels, row[field]) for labels, row in rows])
            for name, kind, text, field in CONNECTION]


def _number(value):
    """A JSON field as a sample value: null (no head message timestamp) is NaN."""
    return math.nan if value is None else value

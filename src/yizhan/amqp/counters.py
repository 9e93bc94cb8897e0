"""Counters that outlive the objects that counted them: the message counters of channels and
queues (their `n_*` attributes, counted once where the AMQP code already is) are folded into
their vhost when the channel shuts down or the queue is deleted, so a vhost's or the node's
total is the folded part plus the live objects' counters (no second counting); and the churn
counters (connections, channels and queues opened, closed, declared) that rabbitmq_prometheus
and the overview's churn report; the dead-lettered message counters (per queue type,
dead-letter strategy and reason, counted by dead_letter.py); and a channel's counters per
exchange, per queue and per (queue, exchange) pair (`PairCounts`, rabbitmq_prometheus's
per-object channel families), pruned of deleted queues and exchanges as they grow.
"""

from __future__ import annotations

from collections import Counter

CHANNEL_KEYS = ("ack", "confirm", "deliver", "deliver_no_ack", "drop_unroutable", "get",
                "get_empty", "get_no_ack", "publish", "redeliver", "return_unroutable",
                "received_confirm")
QUEUE_KEYS = ("ack", "deliver", "deliver_no_ack", "get", "get_empty", "get_no_ack", "publish",
              "redeliver")
CHURN_KEYS = ("connection_created", "connection_closed", "channel_created", "channel_closed",
              "queue_declared", "queue_created", "queue_deleted")


# a channel's PairCounts columns, as rabbit_channel's exchange_stats / queue_stats keep them
EXCHANGE_COLUMNS = ("publish", "confirm", "return_unroutable", "drop_unroutable")
QUEUE_COLUMNS = ("get", "get_no_ack", "deliver", "deliver_no_ack", "redeliver", "ack", "get_empty")
PUBLISH, CONFIRM, RETURN_UNROUTABLE, DROP_UNROUTABLE = range(4)
GET, GET_NO_ACK, DELIVER, DELIVER_NO_ACK, REDELIVER, ACK, GET_EMPTY = range(7)
PRUNE_FROM = 64


class PairCounts(dict):
    """{queue, exchange or (queue, exchange): [counts]} of one channel. When it reaches its
    limit it drops the keys whose queue or exchange was deleted (as RabbitMQ's metrics GC
    does) and sets the limit to twice what is left, so it stays bounded by the live objects the
    channel used and pruning costs O(1) per new key."""

    __slots__ = ("width", "limit")

    def __init__(self, width: int):
        super().__init__()
        self.width = width
        self.limit = PRUNE_FROM

    def of(self, key) -> list:
        counts = self.get(key)
        if counts is None:
            if len(self) >= self.limit:
                self.prune()
            counts = self[key] = [0] * self.width
        return counts

    def prune(self) -> None:
        for key in [k for k in self if _gone(k)]:
            del self[key]
        self.limit = max(PRUNE_FROM, 2 * len(self))


def _gone(key) -> bool:
    if isinstance(key, tuple):
        return any(part.deleted for part in key)
    return key.deleted


def channel_count(channel, key: str) -> int:
    """One of a channel's counters; `received_confirm` (publishes in confirm mode) is the
    confirm sequence number it reached."""
    if key == "received_confirm":
        return channel.publish_seq - 1
    return getattr(channel, "n_" + key)


def fold_channel(channel) -> None:
    """A channel shut down: its counts join its vhost's closed-channel totals."""
    closed = channel.vhost.closed_channels
    for key in CHANNEL_KEYS:
        closed[key] += channel_count(channel, key)
    closed["publishers"] += 1 if channel.n_publish else 0


def fold_queue(queue, queue_type: str) -> None:
    """A queue was deleted: its counts join its vhost's totals for its queue type."""
    closed = queue.vhost.closed_queues.setdefault(queue_type, Counter())
    for key in QUEUE_KEYS:
        closed[key] += getattr(queue, "n_" + key)


def vhost_channel_totals(vhost, live_channels) -> dict:
    """The vhost's channel counters since start: closed channels plus the live ones."""
    totals = Counter(vhost.closed_channels)
    for channel in live_channels:
        if channel.vhost is vhost and not channel.released:
            for key in CHANNEL_KEYS:
                totals[key] += channel_count(channel, key)
    return {key: totals[key] for key in CHANNEL_KEYS}


def queue_type_totals(vhost, queue_type_of) -> dict:
    """{queue type: {key: count}} of the vhost's queues since start (deleted ones included)."""
    out = {kind: Counter(counts) for kind, counts in vhost.closed_queues.items()}
    for queue in vhost.queues.values():
        totals = out.setdefault(queue_type_of(queue), Counter())
        for key in QUEUE_KEYS:
            totals[key] += getattr(queue, "n_" + key)
    return out


DEAD_LETTER_REASONS = ("confirmed", "delivery_limit", "expired", "maxlen", "rejected")


def count_dead_lettered(vhost, queue_type: str, strategy: str, reason: str, count: int) -> None:
    vhost.dead_lettered[(queue_type, strategy, reason)] += count


def node_dead_lettered(broker) -> Counter:
    """{(queue type, strategy, reason): messages} since start, every vhost's."""
    total = Counter()
    for vhost in broker.vhosts.values():
        total.update(vhost.dead_lettered)
    return total


def new_churn() -> Counter:
    return Counter({key: 0 for key in CHURN_KEYS})


def publishers(broker) -> int:
    """rabbitmq_global_publishers as RabbitMQ 3.10 keeps it: channels that ever published
    (its channels never count a publisher down when they close)."""
    live = sum(1 for conn in broker.connections for c in conn.channels.values()
               if c.n_publish and not c.released)
    return live + sum(v.closed_channels["publishers"] for v in broker.vhosts.values())


def node_churn(broker) -> Counter:
    """The node's churn since start: connections and channels (the broker's), queues (every
    vhost's)."""
    churn = Counter(broker.churn)
    for vhost in broker.vhosts.values():
        churn.update(vhost.churn)
    return churn

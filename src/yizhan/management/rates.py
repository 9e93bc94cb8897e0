"""message_stats: the message counters that channels, queues and exchanges keep (`n_publish`,
`n_deliver`, ... : plain integer attributes, one addition where the AMQP code already is), and
their rates, sampled as the management plugin samples them: a sample of every counter at most
every INTERVAL seconds (RabbitMQ's collect_statistics_interval, 5 s), taken when the API is
asked (nothing is sampled while nobody asks); a rate is the change between the last two
samples divided by the time between them, so `*_details.rate` covers the last interval.
"""

from __future__ import annotations

import time

from yizhan.amqp import counters

INTERVAL = 5.0
QUEUE_KEYS = ("ack", "deliver", "deliver_no_ack", "get", "get_empty", "get_no_ack", "publish",
              "redeliver")
PUBLISH_KEYS = ("confirm", "drop_unroutable", "publish", "return_unroutable")
DELIVER_KEYS = ("ack", "deliver", "deliver_no_ack", "get", "get_empty", "get_no_ack", "redeliver")
EXCHANGE_KEYS = ("publish_in", "publish_out")
DELIVER_GET = ("deliver", "deliver_no_ack", "get", "get_no_ack")
VHOST_KEYS = PUBLISH_KEYS + DELIVER_KEYS


class Rates:
    """The last two samples of every counted object (held by the ManagementAPI)."""

    def __init__(self, now=time.monotonic):
        self.now = now
        self.taken: float | None = None
        self.samples: dict = {}   # id(object) -> (object, counts)
        self.rates: dict = {}     # id(object) -> {key: per second}
        self.vhost_samples: dict = {}  # vhost name -> its totals (vhost_totals)
        self.lengths: dict = {}        # id(queue) -> (queue, (ready, unacked)) at the last sample
        self.churn: dict | None = None  # the node's churn counters at the last sample
        self.churn_rates: dict = {}
        self.length_rates: dict = {}   # id(queue) -> (ready rate, unacked rate)
        self.vhost_rates: dict = {}    # vhost name -> {key: per second}

    def refresh(self, broker) -> None:
        now = self.now()
        if self.taken is not None and now - self.taken < INTERVAL:
            return
        elapsed = None if self.taken is None else now - self.taken
        samples, rates = {}, {}
        for obj, keys in _counted(broker):
            counts = tuple(getattr(obj, "n_" + key) for key in keys)
            samples[id(obj)] = (obj, counts)
            old = self.samples.get(id(obj))
            if old is not None and old[0] is obj and elapsed:
                rates[id(obj)] = {k: (c - o) / elapsed for k, c, o in zip(keys, counts, old[1])}
        self.samples, self.rates, self.taken = samples, rates, now
        totals = {name: vhost_totals(broker, vhost) for name, vhost in broker.vhosts.items()}
        self.vhost_rates = {name: {k: (counts[k] - self.vhost_samples[name][k]) / elapsed
                                   for k in VHOST_KEYS}
                            for name, counts in totals.items()
                            if elapsed and name in self.vhost_samples}
        self.vhost_samples = totals
        self._sample_lengths(broker, elapsed)
        churn = counters.node_churn(broker)
        self.churn_rates = ({k: (churn[k] - self.churn[k]) / elapsed for k in counters.CHURN_KEYS}
                            if elapsed and self.churn is not None else {})
        self.churn = churn

    def _sample_lengths(self, broker, elapsed) -> None:
        """Queue lengths (ready, unacknowledged): their rates of change over the interval."""
        lengths, length_rates = {}, {}
        for vhost in broker.vhosts.values():
            for queue in vhost.queues.values():
                now = (queue.message_count, queue.unacked)
                lengths[id(queue)] = (queue, now)
                old = self.lengths.get(id(queue))
                if old is not None and old[0] is queue and elapsed:
                    length_rates[id(queue)] = tuple((n - o) / elapsed for n, o in zip(now, old[1]))
        self.lengths, self.length_rates = lengths, length_rates

    def length_rate(self, queues) -> dict:
        """The `*_details` of messages, messages_ready and messages_unacknowledged summed over
        `queues`."""
        ready = sum(self.length_rates.get(id(q), (0.0, 0.0))[0] for q in queues)
        unacked = sum(self.length_rates.get(id(q), (0.0, 0.0))[1] for q in queues)
        return {"messages_details": {"rate": float(ready + unacked)},
                "messages_ready_details": {"rate": float(ready)},
                "messages_unacknowledged_details": {"rate": float(unacked)}}

    def rate(self, obj, key: str) -> float:
        return float(self.rates.get(id(obj), {}).get(key, 0.0))


def _counted(broker):
    for vhost in broker.vhosts.values():
        for queue in vhost.queues.values():
            yield queue, QUEUE_KEYS
        for exchange in vhost.exchanges.values():
            yield exchange, EXCHANGE_KEYS
    for connection in broker.connections:
        for channel in connection.channels.values():
            yield channel, PUBLISH_KEYS + DELIVER_KEYS


def _stats(obj, keys, rates: Rates | None) -> dict:
    out = {}
    for key in keys:
        out[key] = getattr(obj, "n_" + key)
        out[key + "_details"] = {"rate": rates.rate(obj, key) if rates is not None else 0.0}
    return out


def _with_deliver_get(obj, stats: dict, rates: Rates | None) -> dict:
    stats["deliver_get"] = sum(getattr(obj, "n_" + k) for k in DELIVER_GET)
    rate = sum(rates.rate(obj, k) for k in DELIVER_GET) if rates is not None else 0.0
    stats["deliver_get_details"] = {"rate": float(rate)}
    return dict(sorted(stats.items()))


def queue_stats(queue, rates: Rates | None) -> dict | None:
    """A queue's message_stats: `publish` once a message arrived, the delivering side once one
    left (RabbitMQ reports each group once its first event came); None before either."""
    stats = {}
    if queue.n_publish:
        stats.update(_stats(queue, ("publish",), rates))
    if any(getattr(queue, "n_" + k) for k in DELIVER_KEYS):
        stats.update(_with_deliver_get(queue, _stats(queue, DELIVER_KEYS, rates), rates))
    return dict(sorted(stats.items())) if stats else None


def exchange_stats(exchange, rates: Rates | None) -> dict | None:
    keys = [k for k in EXCHANGE_KEYS if getattr(exchange, "n_" + k)]
    return _stats(exchange, keys, rates) if keys else None


def channel_stats(channel, rates: Rates | None) -> dict | None:
    """The publishing side once the channel published, the delivering side once it consumed
    or got (RabbitMQ reports each group once its first event came)."""
    stats = {}
    if channel.n_publish or channel.n_drop_unroutable or channel.n_return_unroutable:
        stats.update(_stats(channel, PUBLISH_KEYS, rates))
    if any(getattr(channel, "n_" + k) for k in DELIVER_KEYS) or channel.consumers:
        stats.update(_with_deliver_get(channel, _stats(channel, DELIVER_KEYS, rates), rates))
    return dict(sorted(stats.items())) if stats else None


def with_length_rates(row: dict, queues, rates: Rates | None) -> dict:
    """A queue, vhost or queue_totals row with the rates of its queue lengths."""
    if rates is None:
        return row
    return {**row, **rates.length_rate(queues)}


def vhost_totals(broker, vhost) -> dict:
    """A vhost's channel counters since start (closed channels included: amqp/counters.py)."""
    live = [c for conn in broker.connections for c in conn.channels.values()]
    return counters.vhost_channel_totals(vhost, live)


def _totals_stats(counts: dict, rates: dict) -> dict:
    stats = {}
    for key in VHOST_KEYS:
        stats[key] = counts[key]
        stats[key + "_details"] = {"rate": float(rates.get(key, 0.0))}
    stats["deliver_get"] = sum(counts[k] for k in DELIVER_GET)
    stats["deliver_get_details"] = {"rate": float(sum(rates.get(k, 0.0) for k in DELIVER_GET))}
    return stats


def vhost_stats(broker, vhost, rates: Rates | None) -> dict | None:
    """A vhost's message_stats (the channel counters of its channels, closed ones included);
    None before its channels counted anything."""
    counts = vhost_totals(broker, vhost)
    if not any(counts[k] for k in VHOST_KEYS):
        return None
    return dict(sorted(_totals_stats(counts, rates.vhost_rates.get(vhost.name, {})
                                     if rates is not None else {}).items()))


def overview_stats(broker, rates: Rates | None) -> dict:
    """The overview's message_stats: every vhost's summed, plus disk_reads and disk_writes
    (yizhan counts no queue disk operations: always 0); {} before anything was counted."""
    counts = dict.fromkeys(VHOST_KEYS, 0)
    per_second = dict.fromkeys(VHOST_KEYS, 0.0)
    for vhost in broker.vhosts.values():
        for key, value in vhost_totals(broker, vhost).items():
            if key in counts:
                counts[key] += value
        for key, value in (rates.vhost_rates.get(vhost.name, {}) if rates is not None else {}).items():
            per_second[key] += value
    if not any(counts.values()):
        return {}
    stats = _totals_stats(counts, per_second)
    for key in ("disk_reads", "disk_writes"):
        stats[key], stats[key + "_details"] = 0, {"rate": 0.0}
    return dict(sorted(stats.items()))


def churn_rates(broker, rates: Rates | None) -> dict:
    """The overview's churn_rates: connections, channels and queues created, closed, declared
    and deleted since start (amqp/counters.py), with their sampled rates."""
    churn = counters.node_churn(broker)
    per_second = rates.churn_rates if rates is not None else {}
    out = {}
    for key in counters.CHURN_KEYS:
        out[key] = churn[key]
        out[key + "_details"] = {"rate": float(per_second.get(key, 0.0))}
    return dict(sorted(out.items()))

"""Management API handlers for what is live: connections (GET, and DELETE, which closes one
with 320 CONNECTION_FORCED as rabbit_networking:close_connection does), channels, consumers
and the node.

Who sees what, as rabbit_mgmt_util:filter_conn_ch_list: administrators and monitoring users
see every connection and channel, other management users only their own; consumers are listed
for the vhosts the user may see; the node needs monitoring (or administrator).
"""

from __future__ import annotations

from yizhan.amqp import errors
from yizhan.management import live, rates, views
from yizhan.management.call import NOT_FOUND, SEES_ALL_VHOSTS, Call, HTTPError, with_stats

DEFAULT_CLOSE_REASON = "Closed via management plugin"


def _sees_all(call: Call) -> bool:
    return bool(SEES_ALL_VHOSTS & set(call.user.tags))


def _connections(call: Call) -> list:
    found = live.open_connections(call.broker)
    if _sees_all(call):
        return found
    return [c for c in found if c.user.name == call.user.name]


def _connection(call: Call):
    for connection in _connections(call):
        if live.connection_name(connection) == call.params[0]:
            return connection
    raise NOT_FOUND


def get_connections(call: Call):
    return [live.connection_json(c) for c in _connections(call)]


def get_vhost_connections(call: Call):
    vhost = call.vhost(call.params[0])
    return [live.connection_json(c) for c in _connections(call) if c.vhost is vhost]


def get_connection(call: Call):
    return live.connection_json(_connection(call))


def delete_connection(call: Call):
    connection = _connection(call)
    reason = call.headers.get("x-reason") or DEFAULT_CLOSE_REASON
    connection.close_by_server(errors.connection_forced(reason))


def get_connection_channels(call: Call):
    connection = _connection(call)
    now = call.broker.timers.clock.ms()
    return [_channel(call, ch, now) for _, ch in sorted(connection.channels.items())]


def _channels(call: Call) -> list:
    allowed = set(_connections(call))
    return [ch for ch in live.open_channels(call.broker) if ch.conn in allowed]


def _channel(call: Call, channel, now: int) -> dict:
    return with_stats(live.channel_json(channel, now), rates.channel_stats(channel, call.rates))


def get_channels(call: Call):
    now = call.broker.timers.clock.ms()
    return [_channel(call, ch, now) for ch in _channels(call)]


def get_vhost_channels(call: Call):
    vhost = call.vhost(call.params[0])
    now = call.broker.timers.clock.ms()
    return [_channel(call, ch, now) for ch in _channels(call) if ch.vhost is vhost]


def get_channel(call: Call):
    for channel in _channels(call):
        if live.channel_name(channel) == call.params[0]:
            return with_stats(live.channel_detail_json(channel, call.broker.timers.clock.ms()),
                              rates.channel_stats(channel, call.rates))
    raise NOT_FOUND


def get_consumers(call: Call):
    return [row for name in call.visible_vhosts()
            for row in live.vhost_consumers(call.broker.vhosts[name])]


def get_vhost_consumers(call: Call):
    return live.vhost_consumers(call.vhost(call.params[0]))


def _require_monitor(call: Call) -> None:
    if not _sees_all(call):
        raise HTTPError(401, "not_authorised", "Not monitor user")


def _node(call: Call) -> dict:
    """The node, with the churn counters and their rates as the overview's churn_rates."""
    node = live.node_json(call.runtime) | rates.churn_rates(call.broker, call.rates)
    return dict(sorted(node.items()))


def get_nodes(call: Call):
    _require_monitor(call)
    return [_node(call)]


def get_node(call: Call):
    _require_monitor(call)
    if call.params[0] != views.node_name():
        raise HTTPError(500)  # RabbitMQ 3.10's handler crashes on a node it does not know
    return _node(call)

"""The `x-federation-upstream` exchange type of RabbitMQ's federation plugin (3.10), which a
downstream RabbitMQ's exchange-federation link declares on its upstream: an internal,
auto-delete fanout exchange, bound to the exchange being federated with the downstream's
bindings and to the link's queue, that forwards a message only while it has travelled fewer than
`x-max-hops` links and has not already passed through the downstream (cycle detection).

Both tests read the `x-received-from` header, the array of tables every federation link
prepends a hop to (with the hop's `cluster-name` and `vhost`); the exchange's own arguments name
the downstream (`x-downstream-name`, `x-downstream-vhost`). `x-max-hops` must be a `long` when
the exchange is created, and it is the only argument a redeclare is checked against.
"""

from __future__ import annotations

from yizhan.amqp import codec, errors
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.exchanges import CREATE_CHECKS, TYPES, FanoutExchange

TYPE_NAME = "x-federation-upstream"
MAX_HOPS = "x-max-hops"
DOWNSTREAM_NAME = "x-downstream-name"
DOWNSTREAM_VHOST = "x-downstream-vhost"
ROUTING_HEADER = "x-received-from"


class FederationUpstreamExchange(FanoutExchange):
    type_name = TYPE_NAME
    needs_headers = True
    equivalence_keys = (MAX_HOPS,)   # rabbit_federation_upstream_exchange:assert_args_equivalence

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        found = self.arguments.lookup(MAX_HOPS)
        self.max_hops = found[1] if found is not None else 0
        self.downstream = (_longstr(self.arguments, DOWNSTREAM_NAME),
                           _longstr(self.arguments, DOWNSTREAM_VHOST))

    def route(self, routing_keys, headers):
        if not should_forward(headers, self.max_hops, *self.downstream):
            return []
        return super().route(routing_keys, headers)


def _longstr(table: FieldTable, key: str) -> bytes | None:
    """A longstr argument's value; None (matching no header) when missing or of another type,
    as the plugin's `unknown`."""
    found = table.lookup(key)
    return found[1] if found is not None and found[0] is codec.LONGSTR else None


def should_forward(headers: FieldTable | None, max_hops: int, name: bytes | None,
                   vhost: bytes | None) -> bool:
    """rabbit_federation_util:should_forward: fewer hops than `max_hops` and not seen by the
    downstream `name`/`vhost` (a header that is not an array is no hop at all)."""
    found = headers.lookup(ROUTING_HEADER) if headers is not None else None
    if found is None or found[0] is not codec.ARRAY:
        return True
    hops = found[1]
    return len(hops) < max_hops and not _already_seen(hops, name, vhost)


def _already_seen(hops: list, name: bytes | None, vhost: bytes | None) -> bool:
    if name is None or vhost is None:
        return False
    for kind, table in hops:
        if kind is codec.TABLE and (table.lookup("cluster-name") == (codec.LONGSTR, name)
                                    and table.lookup("vhost") == (codec.LONGSTR, vhost)):
            return True
    return False


def check_arguments(args: FieldTable) -> None:
    """rabbit_federation_util:validate_arg(x-max-hops, long, Args) when the exchange is made."""
    found = args.lookup(MAX_HOPS)
    if found is None:
        raise errors.federation_argument_missing(MAX_HOPS)
    if found[0] is not codec.LONG:
        raise errors.federation_argument_type(MAX_HOPS, "long")


TYPES[TYPE_NAME] = FederationUpstreamExchange
CREATE_CHECKS[TYPE_NAME] = check_arguments

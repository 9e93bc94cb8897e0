"""A published message: where it was published, its raw properties and its body.

The properties are the client's content-header bytes, kept as they arrived so every property
and header table reaches consumers byte for byte; `properties()` decodes them on demand.
A message routed to several queues is one object shared by all of them. A durable queue
beyond its memory bound keeps its stored messages as `PagedRun`s of store ids instead.
"""

from __future__ import annotations

from yizhan.amqp import codec


class Message:
    __slots__ = ("exchange", "routing_key", "routing_keys", "raw_properties", "body",
                 "exchange_s", "routing_key_s", "publisher", "_properties", "store_id",
                 "expiration", "rejected")

    def __init__(self, exchange: str, routing_key: str, raw_properties: bytes, body: bytes,
                 publisher=None, routing_keys: list[str] | None = None):
        self.exchange = exchange
        self.routing_key = routing_key
        self.routing_keys = routing_keys if routing_keys is not None else [routing_key]
        self.raw_properties = raw_properties
        self.body = body
        self.exchange_s = codec.cached_shortstr(exchange)
        self.routing_key_s = codec.cached_shortstr(routing_key)
        self.publisher = publisher  # the publishing connection, for no-local consumers
        self._properties = None
        self.store_id = None  # its id in the message store, if it was written there
        self.expiration = None  # its `expiration` property in ms (per-message TTL), if set
        self.rejected = False  # a queue refused it (reject-publish): the confirm is a nack

    @property
    def body_size(self) -> int:
        return len(self.body)

    def properties(self) -> codec.Properties:
        if self._properties is None:
            self._properties = codec.decode_properties(self.raw_properties)
        return self._properties

    def read_expiration(self) -> None:
        """Set `expiration` from the properties (a stored message read back; the value was
        checked when it was published)."""
        if codec.property_flags(self.raw_properties) & codec.FLAG_EXPIRATION:
            self.expiration = int(self.properties().expiration)

    def headers(self) -> codec.FieldTable | None:
        if not codec.property_flags(self.raw_properties) & codec.FLAG_HEADERS:
            return None
        return self.properties().headers

    def __repr__(self) -> str:
        return f"Message({self.exchange!r}, {self.routing_key!r}, {self.body[:40]!r})"


class PagedRun:
    """Messages of a queue kept on disk only (paged out): their store ids in queue order, the
    sequence number of the first (the others follow it), and the ids that come back
    redelivered (delivered before a restart or requeued). `transient`: the run's records are
    `T` copies of transient messages (or of messages this queue does not hold durably),
    released when read back and forgotten at boot. Queues with features (queue_features.py)
    keep `sizes`, each message's body size (for max-length-bytes), and `expires`, each one's
    expiry (clock ms, NO_EXPIRY for none), so expiry from the head and length limits work
    without reading the bodies; both None in plain queues' runs and in runs restored at boot
    (read back, their TTL counts from the stored arrival time)."""

    __slots__ = ("first_seq", "ids", "redelivered", "transient", "sizes", "expires")

    def __init__(self, first_seq: int, ids, redelivered=None, transient: bool = False,
                 sizes=None, expires=None):
        self.first_seq = first_seq
        self.ids = ids
        self.redelivered = redelivered
        self.transient = transient
        self.sizes = sizes
        self.expires = expires

    def __len__(self) -> int:
        return len(self.ids)


NO_EXPIRY = -1  # in PagedRun.expires: the message never expires

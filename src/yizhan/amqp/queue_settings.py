"""A queue's effective feature settings: what its arguments (and the policy that applies to it)
ask of it, in one object the queue consults.

`QueueSettings.of(queue)` is None for a plain queue (its messages take the fast paths in
queue.py); otherwise it carries message TTL, queue expiry, length limits and overflow mode, the
dead-letter exchange and routing key, the priority maximum and the quorum delivery limit.
Arguments were validated at declare (arguments.py); the argument-vs-policy rule is
rabbit_queue_type_util / rabbit_amqqueue_process's: numeric limits take the lower of the two,
the others the argument.
"""

from __future__ import annotations

from yizhan.amqp import codec

# the policy key, the argument, and how the two combine (None: the argument wins)
POLICY_KEYS = {
    "message-ttl": ("x-message-ttl", min),
    "expires": ("x-expires", min),
    "max-length": ("x-max-length", min),
    "max-length-bytes": ("x-max-length-bytes", min),
    "delivery-limit": ("x-delivery-limit", min),
    "overflow": ("x-overflow", None),
    "dead-letter-exchange": ("x-dead-letter-exchange", None),
    "dead-letter-routing-key": ("x-dead-letter-routing-key", None),
    "dead-letter-strategy": ("x-dead-letter-strategy", None),
    "queue-mode": ("x-queue-mode", None),
}


class QueueSettings:
    __slots__ = ("message_ttl", "expires", "max_length", "max_length_bytes", "overflow",
                 "dlx", "dlrk", "dlx_strategy", "max_priority", "delivery_limit", "quorum")

    def __init__(self):
        self.message_ttl = None       # ms
        self.expires = None           # ms
        self.max_length = None
        self.max_length_bytes = None
        self.overflow = "drop-head"
        self.dlx = None               # exchange name (str) or None
        self.dlrk = None
        self.dlx_strategy = "at-most-once"
        self.max_priority = None
        self.delivery_limit = None
        self.quorum = False

    @property
    def limited(self) -> bool:
        return self.max_length is not None or self.max_length_bytes is not None

    @classmethod
    def of(cls, arguments, policy: dict | None = None) -> "QueueSettings | None":
        """The settings of a queue with these arguments under `policy` (a policy definition
        dict, or None); None when nothing special applies."""
        values = {}
        for key, (arg, combine) in POLICY_KEYS.items():
            found = arguments.lookup(arg)
            mine = None if found is None else _plain(found[1])
            theirs = policy.get(key) if policy else None
            if mine is not None and theirs is not None and combine is not None:
                values[key] = combine(mine, theirs)
            else:
                values[key] = mine if mine is not None else theirs
        found = arguments.lookup("x-max-priority")
        qtype = arguments.lookup("x-queue-type")
        quorum = qtype is not None and qtype[1] == b"quorum"
        if not any(v is not None for v in values.values()) and found is None:
            return None
        settings = cls()
        settings.message_ttl = values["message-ttl"]
        settings.expires = values["expires"]
        settings.max_length = values["max-length"]
        settings.max_length_bytes = values["max-length-bytes"]
        settings.overflow = values["overflow"] or "drop-head"
        settings.dlx = values["dead-letter-exchange"]
        settings.dlrk = values["dead-letter-routing-key"] if settings.dlx is not None else None
        settings.dlx_strategy = values["dead-letter-strategy"] or "at-most-once"
        settings.quorum = quorum
        settings.delivery_limit = values["delivery-limit"] if quorum else None
        if found is not None and found[0] in _INTS and not quorum:
            settings.max_priority = found[1]
        return settings


_INTS = {codec.BYTE, codec.SHORT, codec.SIGNEDINT, codec.LONG, codec.UNSIGNEDBYTE,
         codec.UNSIGNEDSHORT, codec.UNSIGNEDINT}


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value

"""Declare arguments: validation of queue arguments and the equivalence checks of a redeclare,
with rabbit_amqqueue's and rabbit_misc's rules and error texts.
"""

from __future__ import annotations

from yizhan.amqp import codec, errors
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.erlang import Atom

INTEGER_TYPES = {codec.BYTE, codec.SHORT, codec.SIGNEDINT, codec.LONG, codec.UNSIGNEDBYTE,
                 codec.UNSIGNEDSHORT, codec.UNSIGNEDINT}
TEN_YEARS_MS = 315_360_000_000
MAX_PRIORITY = 255

QUEUE_TYPE_ARGS = {
    "classic": ["x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
                "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow",
                "x-queue-mode", "x-queue-version", "x-single-active-consumer", "x-queue-type",
                "x-queue-master-locator"],
    "quorum": ["x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy",
               "x-expires", "x-max-length", "x-max-length-bytes", "x-max-in-memory-length",
               "x-max-in-memory-bytes", "x-overflow", "x-single-active-consumer", "x-queue-type",
               "x-quorum-initial-group-size", "x-delivery-limit", "x-message-ttl",
               "x-queue-leader-locator"],
    "stream": ["x-max-length-bytes", "x-queue-type", "x-max-age",
               "x-stream-max-segment-size-bytes", "x-initial-cluster-size",
               "x-queue-leader-locator"],
}
TYPE_MODULES = {"classic": "rabbit_classic_queue", "quorum": "rabbit_quorum_queue",
                "stream": "rabbit_stream_queue"}
ALL_QUEUE_ARGS = sorted({arg for args in QUEUE_TYPE_ARGS.values() for arg in args})


def _int(kind, value, args):
    if kind in INTEGER_TYPES:
        return None
    return f"expected integer, got {kind}"


def _non_neg_int(kind, value, args):
    error = _int(kind, value, args)
    if error is None and value < 0:
        return (Atom("value_negative"), value)
    return error


def _expiry(value):
    if value < 0:
        return (Atom("value_negative"), value)
    if value > TEN_YEARS_MS:
        return (Atom("value_too_large"), value)
    return None


def _expires(kind, value, args):
    error = _int(kind, value, args)
    if error is not None:
        return error
    return (Atom("value_zero"), value) if value == 0 else _expiry(value)


def _message_ttl(kind, value, args):
    error = _int(kind, value, args)
    return error if error is not None else _expiry(value)


def _dlx_name(kind, value, args):
    return None if kind is codec.LONGSTR else (Atom("unacceptable_type"), kind)


def _dlx_routing_key(kind, value, args):
    if kind is not codec.LONGSTR:
        return (Atom("unacceptable_type"), kind)
    if args.lookup("x-dead-letter-exchange") is None:
        return Atom("routing_key_but_no_dlx_defined")
    return None


def _one_of(values, error_atom=None, text=None):
    def check(kind, value, args):
        if kind is not codec.LONGSTR:
            return (Atom("unacceptable_type"), kind)
        if value in values:
            return None
        if text is not None:
            return text.format(value.decode("utf-8", "surrogateescape"))
        return Atom(error_atom)
    return check


def _max_priority(kind, value, args):
    error = _non_neg_int(kind, value, args)
    if error is None and value > MAX_PRIORITY:
        return (Atom("max_value_exceeded"), value)
    return error


def _queue_version(kind, value, args):
    error = _non_neg_int(kind, value, args)
    if error is None and value not in (1, 2):
        return f"unsupported queue version '{value}'"
    return error


def _bool(kind, value, args):
    return None if kind is codec.BOOL else (Atom("unacceptable_type"), kind)


def _initial_size(kind, value, args):
    error = _non_neg_int(kind, value, args)
    if error is None and value == 0:
        return (Atom("value_zero"), value)
    return error


def _max_age(kind, value, args):
    if kind is not codec.LONGSTR:
        return (Atom("unacceptable_type"), kind)
    text = value.decode("latin-1")
    digits = len(text) - len(text.lstrip("0123456789"))
    if digits and int(text[:digits]) > 0 and text[digits:] in ("Y", "M", "D", "h", "m", "s"):
        return None
    return Atom("invalid_max_age")


# rabbit_amqqueue:declare_args(), in its order
VALIDATORS = [
    ("x-expires", _expires),
    ("x-message-ttl", _message_ttl),
    ("x-dead-letter-exchange", _dlx_name),
    ("x-dead-letter-routing-key", _dlx_routing_key),
    ("x-dead-letter-strategy", _one_of({b"at-most-once", b"at-least-once"}, "invalid_dlx_strategy")),
    ("x-max-length", _non_neg_int),
    ("x-max-length-bytes", _non_neg_int),
    ("x-max-in-memory-length", _non_neg_int),
    ("x-max-in-memory-bytes", _non_neg_int),
    ("x-max-priority", _max_priority),
    ("x-overflow", _one_of({b"drop-head", b"reject-publish", b"reject-publish-dlx"},
                           "invalid_overflow")),
    ("x-queue-mode", _one_of({b"default", b"lazy"}, text="unsupported queue mode '{}'")),
    ("x-queue-version", _queue_version),
    ("x-single-active-consumer", _bool),
    ("x-queue-type", _one_of({b"classic", b"quorum", b"stream"}, text="unsupported queue type '{}'")),
    ("x-quorum-initial-group-size", _initial_size),
    ("x-max-age", _max_age),
    ("x-stream-max-segment-size-bytes", _non_neg_int),
    ("x-initial-cluster-size", _initial_size),
    ("x-queue-leader-locator", _one_of({b"client-local", b"balanced"}, "invalid_queue_locator_arg")),
]
_VALIDATOR_OF = dict(VALIDATORS)


def queue_type(args: FieldTable) -> str:
    found = args.lookup("x-queue-type")
    if found is None or found[0] is not codec.LONGSTR:
        return "classic"
    return found[1].decode("latin-1")


def check_queue_arguments(args: FieldTable, name: str, vhost: str) -> None:
    """rabbit_amqqueue:check_declare_arguments."""
    _check_values(args, ["x-queue-type"], name, vhost)
    qtype = queue_type(args)
    allowed = QUEUE_TYPE_ARGS[qtype]
    _check_values(args, [key for key, _ in VALIDATORS if key in allowed], name, vhost)
    for key, _kind, _value in args:
        if key in ALL_QUEUE_ARGS and key not in allowed:
            raise errors.invalid_arg_for_type(key, name, vhost, TYPE_MODULES[qtype])


def _check_values(args: FieldTable, keys, name: str, vhost: str) -> None:
    for key in keys:
        found = args.lookup(key)
        if found is None:
            continue
        error = _VALIDATOR_OF[key](found[0], found[1], args)
        if error is not None:
            raise errors.invalid_arg(key, name, vhost, error)


CONSUMER_ARGS = {"classic": ["x-cancel-on-ha-failover", "x-priority", "x-credit"],
                 "quorum": ["x-priority", "x-credit"], "stream": ["x-stream-offset", "x-credit"]}


def check_consumer_arguments(args: FieldTable, name: str, vhost: str, qtype: str) -> None:
    """rabbit_amqqueue:check_consume_arguments (x-priority must be an integer)."""
    allowed = CONSUMER_ARGS[qtype]
    for key, check in (("x-priority", _int), ("x-cancel-on-ha-failover", _bool)):
        found = args.lookup(key) if key in allowed else None
        if found is not None:
            error = check(found[0], found[1], args)
            if error is not None:
                raise errors.invalid_arg(key, name, vhost, error)
    invalid = {a for v in CONSUMER_ARGS.values() for a in v}
    for key, _kind, _value in args:
        if key in invalid and key not in allowed:
            raise errors.invalid_arg_for_type(key, name, vhost, TYPE_MODULES[qtype])


# -- equivalence ------------------------------------------------------------------------------
_TYPE_CLASS = {codec.BYTE: "int", codec.SHORT: "int", codec.SIGNEDINT: "int", codec.LONG: "int",
               codec.DECIMAL: "int", codec.UNSIGNEDBYTE: "int", codec.UNSIGNEDSHORT: "int",
               codec.UNSIGNEDINT: "int", codec.FLOAT: "float", codec.DOUBLE: "float"}


def _type_class(kind):
    return _TYPE_CLASS.get(kind, kind)


def _exact(a, b) -> bool:
    """Erlang's =:= (pattern identity): no int/float or bool/int mixing."""
    return type(a) is type(b) and a == b


def assert_field(current, received, key: str, kind: str, name: str, vhost: str) -> None:
    """rabbit_misc:assert_field_equivalence."""
    if _exact(current, received):
        return
    if key == "x-queue-type" and _classic_or_missing(current, received):
        return
    raise errors.inequivalent(key, kind, name, vhost, _term(received), _term(current))


def _classic_or_missing(a, b) -> bool:
    classic = (codec.LONGSTR, b"classic")
    return (a is None and b == classic) or (b is None and a == classic)


def _term(value):
    """A value as rabbit_misc:val/1 gets it: typed pairs stay pairs, tables become lists."""
    if isinstance(value, FieldTable):
        return [(key.encode("utf-8", "surrogateescape"), kind, _term(v)) for key, kind, v in value]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Atom):
        return (value[0], _term(value[1]))
    return value


def assert_args(current: FieldTable, received: FieldTable | None, keys, kind: str, name: str,
                vhost: str) -> None:
    """rabbit_misc:assert_args_equivalence over `keys`."""
    received = received if received is not None else FieldTable()
    for key in keys:
        old, new = current.lookup(key), received.lookup(key)
        if old is not None and new is not None:
            if _exact(old, new):
                continue
            if _type_class(old[0]) == _type_class(new[0]) and old[1] == new[1]:
                continue
            assert_field(old[1], new[1], key, kind, name, vhost)
        elif old != new:
            assert_field(old, new, key, kind, name, vhost)

"""Every AMQP error yizhan sends: reply codes, and reply texts worded exactly as RabbitMQ 3.10.

Handlers raise `AMQPError` (usually through one of the helpers below). Whether an error closes
the channel or the whole connection follows from its reply code, as in RabbitMQ: soft errors
(403-406 and the 31x codes) close the channel, hard errors (5xx, 320, 402) the connection. The
method that failed is filled in by the dispatcher unless the error names one itself.
"""

from __future__ import annotations

from yizhan.amqp import erlang

REPLY_SUCCESS = 200
CONTENT_TOO_LARGE = 311
NO_ROUTE = 312
NO_CONSUMERS = 313
CONNECTION_FORCED = 320
INVALID_PATH = 402
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
FRAME_ERROR = 501
SYNTAX_ERROR = 502
COMMAND_INVALID = 503
CHANNEL_ERROR = 504
UNEXPECTED_FRAME = 505
RESOURCE_ERROR = 506
NOT_ALLOWED = 530
NOT_IMPLEMENTED = 540
INTERNAL_ERROR = 541

NAMES = {
    CONTENT_TOO_LARGE: "CONTENT_TOO_LARGE", NO_ROUTE: "NO_ROUTE", NO_CONSUMERS: "NO_CONSUMERS",
    CONNECTION_FORCED: "CONNECTION_FORCED", INVALID_PATH: "INVALID_PATH",
    ACCESS_REFUSED: "ACCESS_REFUSED", NOT_FOUND: "NOT_FOUND", RESOURCE_LOCKED: "RESOURCE_LOCKED",
    PRECONDITION_FAILED: "PRECONDITION_FAILED", FRAME_ERROR: "FRAME_ERROR",
    SYNTAX_ERROR: "SYNTAX_ERROR", COMMAND_INVALID: "COMMAND_INVALID", CHANNEL_ERROR: "CHANNEL_ERROR",
    UNEXPECTED_FRAME: "UNEXPECTED_FRAME", RESOURCE_ERROR: "RESOURCE_ERROR",
    NOT_ALLOWED: "NOT_ALLOWED", NOT_IMPLEMENTED: "NOT_IMPLEMENTED", INTERNAL_ERROR: "INTERNAL_ERROR",
}
SOFT = frozenset({CONTENT_TOO_LARGE, NO_ROUTE, NO_CONSUMERS, ACCESS_REFUSED, NOT_FOUND,
                  RESOURCE_LOCKED, PRECONDITION_FAILED})

NO_METHOD = (0, 0)


class AMQPError(Exception):
    """A protocol error: `code`, RabbitMQ's `explanation`, and the failing method's ids."""

    def __init__(self, code: int, explanation: str | None, method: tuple[int, int] | None = None):
        super().__init__(code, explanation)
        self.code = code
        self.explanation = explanation
        self.method = method

    @property
    def hard(self) -> bool:
        return self.code not in SOFT

    @property
    def reply_text(self) -> bytes:
        """"NAME - explanation", cut to 255 bytes the way rabbit_binary_generator cuts it."""
        if self.explanation is None:  # a crash in RabbitMQ: the bare name
            return NAMES[self.code].encode()
        text = f"{NAMES[self.code]} - {self.explanation}".encode("utf-8", "surrogateescape")
        return text if len(text) <= 255 else text[:252] + b"..."

    def __repr__(self) -> str:
        return f"AMQPError({self.code}, {self.explanation!r}, {self.method})"


class SilentClose(Exception):
    """RabbitMQ drops the socket without a Close method (handshake errors, crashes); `delay` is
    how long it waits first (3 s after a failed handshake, its SILENT_CLOSE_DELAY)."""

    def __init__(self, reason: str, delay: float = 0.0):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


# -- resources ------------------------------------------------------------------------------
def rs(kind: str, name: str, vhost: str) -> str:
    """rabbit_misc:rs/1: "queue 'q' in vhost '/'"."""
    return f"{kind} '{name}' in vhost '{vhost}'"


def not_found(kind: str, name: str, vhost: str) -> AMQPError:
    return AMQPError(NOT_FOUND, f"no {rs(kind, name, vhost)}")


def no_queue(name: str, vhost: str) -> AMQPError:
    return not_found("queue", name, vhost)


def no_exchange(name: str, vhost: str) -> AMQPError:
    return not_found("exchange", name, vhost)


def no_previous_queue() -> AMQPError:
    return AMQPError(NOT_FOUND, "no previously declared queue")


def default_exchange() -> AMQPError:
    return AMQPError(ACCESS_REFUSED, "operation not permitted on the default exchange")


def reserved_name(kind: str, name: str) -> AMQPError:
    return AMQPError(ACCESS_REFUSED, f"{kind} name '{name}' contains reserved prefix 'amq.*'")


def system_exchange_deletion(name: str, vhost: str) -> AMQPError:
    return AMQPError(ACCESS_REFUSED, f"deletion of system {rs('exchange', name, vhost)} not allowed")


def internal_exchange(name: str, vhost: str) -> AMQPError:
    return AMQPError(ACCESS_REFUSED, f"cannot publish to internal {rs('exchange', name, vhost)}")


def in_use(kind: str, name: str, vhost: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, f"{rs(kind, name, vhost)} in use")


def not_empty(name: str, vhost: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, f"{rs('queue', name, vhost)} not empty")


def resource_locked(name: str, vhost: str) -> AMQPError:
    return AMQPError(
        RESOURCE_LOCKED,
        f"cannot obtain exclusive access to locked {rs('queue', name, vhost)}. It could be "
        "originally declared on another connection or the exclusive property value does not "
        "match that of the original declaration.")


def exclusive_consume(name: str, vhost: str) -> AMQPError:
    return AMQPError(ACCESS_REFUSED, f"{rs('queue', name, vhost)} in exclusive use")


def unknown_exchange_type(type_name: str, known_atom: bool) -> AMQPError:
    """rabbit_exchange:check_type: "invalid" when the name is an existing Erlang atom."""
    word = "invalid" if known_atom else "unknown"
    return AMQPError(COMMAND_INVALID, f"{word} exchange type '{type_name}'")


# -- argument checks ------------------------------------------------------------------------
def value_text(value) -> str:
    """rabbit_misc:val/1 for the texts of inequivalent arguments."""
    if value is None:
        return "none"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], erlang.Atom):
        tag, inner = value
        shown = _s(inner) if isinstance(inner, bytes) else erlang.write(inner)
        return f"the value '{shown}' of type '{tag}'"
    if isinstance(value, bytes):
        return f"'{_s(value)}'"
    return f"'{erlang.write(value)}'"


def _s(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def inequivalent(key: str, kind: str, name: str, vhost: str, received, current) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED,
                     f"inequivalent arg '{key}' for {rs(kind, name, vhost)}: "
                     f"received {value_text(received)} but current is {value_text(current)}")


def invalid_arg_type(tag: str, key: str, kind: str, name: str, vhost: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED,
                     f"invalid type '{tag}' for arg '{key}' in {rs(kind, name, vhost)}")


def invalid_arg(key: str, name: str, vhost: str, error) -> AMQPError:
    """rabbit_amqqueue:check_arguments_type_and_value: "invalid arg 'k' for queue ...: ~255p"."""
    prefix = f"invalid arg '{key}' for {rs('queue', name, vhost)}: "
    return AMQPError(PRECONDITION_FAILED, erlang.format_p(prefix, error, 255))


def invalid_arg_for_type(key: str, name: str, vhost: str, queue_type: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED,
                     f"invalid arg '{key}' for {rs('queue', name, vhost)} of queue type {queue_type}")


# -- channel protocol -----------------------------------------------------------------------
def unknown_delivery_tag(tag: int) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, f"unknown delivery tag {tag}")


def ctag_reuse(tag: str) -> AMQPError:
    return AMQPError(NOT_ALLOWED, f"attempt to reuse consumer tag '{tag}'")


def prefetch_size(size: int) -> AMQPError:
    return AMQPError(NOT_IMPLEMENTED, f"prefetch_size!=0 ({size})")


def message_too_large(size: int, maximum: int) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED,
                     f"message size {size} is larger than configured max size {maximum}")


def not_implemented(what: str) -> AMQPError:
    return AMQPError(NOT_IMPLEMENTED, what)


def federation_argument_missing(key: str) -> AMQPError:
    """rabbit_federation_util:validate_arg (the federation plugin's exchange types)."""
    return AMQPError(PRECONDITION_FAILED, f"Argument {key} missing")


def federation_argument_type(key: str, type_name: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, f"Argument {key} must be of type {type_name}")


def precondition(text: str) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, text)


def unimplemented_method() -> AMQPError:
    return AMQPError(COMMAND_INVALID, "unimplemented method")


NOT_TRANSACTIONAL = "channel is not transactional"
CONFIRM_TO_TX = "cannot switch from confirm to tx mode"
TX_TO_CONFIRM = "cannot switch from tx to confirm mode"
EXPECTED_OPEN = "expected 'channel.open'"
SECOND_OPEN = "second 'channel.open' seen"


# -- connection and framing -----------------------------------------------------------------
def channel_max_reached(count: int, channel_max: int) -> AMQPError:
    return AMQPError(NOT_ALLOWED, f"number of channels opened ({count}) has reached the "
                                  f"negotiated channel_max ({channel_max})", NO_METHOD)


def connection_forced(reason: str) -> AMQPError:
    """A connection closed from outside (the management API's DELETE with its X-Reason, a
    deleted vhost), as rabbit_networking:close_connection."""
    return AMQPError(CONNECTION_FORCED, reason, NO_METHOD)


def vhost_not_found(vhost: str) -> AMQPError:
    return AMQPError(NOT_ALLOWED, f"vhost {vhost} not found")


def vhost_access_refused(user: str, vhost: str) -> AMQPError:
    return AMQPError(NOT_ALLOWED, f"access to vhost '{vhost}' refused for user '{user}'")


def login_refused(mechanism: str) -> AMQPError:
    return AMQPError(ACCESS_REFUSED, f"Login was refused using authentication mechanism "
                                     f"{mechanism}. For details see the broker logfile.", NO_METHOD)


def frame_error(frame_type: int, payload: bytes, error) -> AMQPError:
    """rabbit_reader:frame_error: "type T, all octets = <<...>>: Error"."""
    return AMQPError(FRAME_ERROR, _octets(f"type {frame_type}, ", payload, ": ", error), NO_METHOD)


def unexpected_frame(frame_type: int, payload: bytes) -> AMQPError:
    return AMQPError(UNEXPECTED_FRAME, _octets(f"type {frame_type}, ", payload), NO_METHOD)


def _octets(prefix: str, payload: bytes, separator: str = "", error=None) -> str:
    which = "all" if len(payload) <= 16 else "first 16"
    text = erlang.format_p(f"{prefix}{which} octets = ", bytes(payload[:16]))
    if error is not None:
        text = erlang.format_p(text + separator, error)
    return text


def cannot_decode(fields: bytes, method: tuple[int, int]) -> AMQPError:
    return AMQPError(FRAME_ERROR, f"cannot decode {erlang.write(bytes(fields))}", method)


def malformed_utf8(method: tuple[int, int]) -> AMQPError:
    return AMQPError(FRAME_ERROR, "Malformed UTF-8 in shortstr", method)


EXPECTED_METHOD = "expected method frame, got non method frame instead"
EXPECTED_BODY = "expected content body, got non content body frame instead"


def expected_header(class_id: int, got: int | None) -> str:
    if got is None:
        return f"expected content header for class {class_id}, got non content header frame instead"
    return f"expected content header for class {class_id}, got one for class {got} instead"

"""What each queue type (`x-queue-type`: classic, quorum, stream) refuses, as RabbitMQ 3.10's
queue type modules decide it: server-named declares (rabbit_channel, is_server_named_allowed),
the declare-time properties (rabbit_queue_type_util's checks in rabbit_quorum_queue:declare and
rabbit_stream_queue:declare), consume (exclusive use for classic queues; global qos for quorum
and stream queues; prefetch and no-ack for streams), basic.get on a stream, and the
queue.delete flags quorum queues do not implement, and nack/reject on a stream.

Which arguments each type accepts is arguments.py's business; the behaviour of quorum and stream
queues past these checks is a classic queue's (see docs/ARCHITECTURE.md), apart from what
queue.py does per type (single-active-consumer order, consumer counts).
"""

from __future__ import annotations

from yizhan.amqp import arguments, errors
from yizhan.amqp.codec import FieldTable

# rabbit_quorum_queue:consume: a consumer without a prefetch count gets 2000 credits
QUORUM_DEFAULT_PREFETCH = 2000
MAX_STREAM_SEGMENT_SIZE = 3_000_000_000  # rabbit.hrl's ?MAX_STREAM_MAX_SEGMENT_SIZE
KNOWN = {b"classic": "classic", b"quorum": "quorum", b"stream": "stream"}


def check_server_named(args: FieldTable) -> None:
    """queue.declare with an empty name: only classic queues may be server-named. RabbitMQ looks
    the type up before validating the arguments, so a type it does not know crashes the channel
    (rabbit_queue_type:discover has no clause for it): connection.close 541."""
    found = args.lookup("x-queue-type")
    if found is None:
        return
    qtype = KNOWN.get(found[1]) if isinstance(found[1], bytes) else None
    if qtype is None:
        raise errors.AMQPError(errors.INTERNAL_ERROR, None, errors.NO_METHOD)
    if qtype != "classic":
        raise errors.precondition(
            f"Cannot declare a server-named queue for type {arguments.TYPE_MODULES[qtype]}")


def check_declare(qtype: str, name: str, vhost: str, durable: bool, exclusive: bool,
                  auto_delete: bool, args: FieldTable) -> None:
    """rabbit_quorum_queue:declare / rabbit_stream_queue:declare run_checks, in their order
    (after the arguments were validated)."""
    if qtype == "classic":
        return
    resource = errors.rs("queue", name, vhost)
    if auto_delete:
        raise errors.precondition(f"invalid property 'auto-delete' for {resource}")
    if exclusive:
        raise errors.precondition(f"invalid property 'exclusive-owner' for {resource}")
    if not durable:
        raise errors.precondition(f"invalid property 'non-durable' for {resource}")
    if qtype == "stream":
        found = args.lookup("x-stream-max-segment-size-bytes")
        if found is not None and found[1] > MAX_STREAM_SEGMENT_SIZE:
            raise errors.precondition("Exceeded max value for x-stream-max-segment-size-bytes")


def check_consume(queue, channel, no_ack: bool, exclusive: bool) -> None:
    """rabbit_queue_type:consume for the queue's type (after the consumer arguments)."""
    resource = errors.rs("queue", queue.name, queue.vhost.name)
    qtype = queue.type_name
    if qtype == "classic":
        if queue.single_active:
            if exclusive:
                raise errors.exclusive_consume(queue.name, queue.vhost.name)
        elif queue.exclusive_consumer is not None or (exclusive and queue.consumers):
            raise errors.exclusive_consume(queue.name, queue.vhost.name)
        return
    if qtype == "stream":
        if channel.consumer_prefetch == 0:
            raise errors.precondition(f"consumer prefetch count is not set for '{resource}'")
        if no_ack:
            raise errors.not_implemented(
                f"automatic acknowledgement not supported by stream queues {resource}")
    if channel.global_prefetch:  # the channel's limiter is active
        raise errors.not_implemented(f"{resource} does not support global qos")


def consumer_prefetch(queue, channel) -> int:
    """The prefetch a new consumer of `queue` gets on `channel`."""
    prefetch = channel.consumer_prefetch
    if prefetch == 0 and queue.quorum:
        return QUORUM_DEFAULT_PREFETCH
    return prefetch


def check_get(queue) -> None:
    if queue.type_name == "stream":
        raise errors.not_implemented("basic.get not supported by stream queues "
                                     + errors.rs("queue", queue.name, queue.vhost.name))


def check_reject(queues) -> None:
    """rabbit_stream_queue:settle: a stream takes acks only."""
    for queue in queues:
        if queue.type_name == "stream":
            raise errors.not_implemented(
                "basic.nack and basic.reject not supported by stream queues "
                + errors.rs("queue", queue.name, queue.vhost.name))


def check_delete(queue, if_unused: bool, if_empty: bool) -> None:
    """rabbit_quorum_queue:delete: the if-unused and if-empty flags are not implemented."""
    if not queue.quorum:
        return
    for flag, given in (("if-unused", if_unused), ("if-empty", if_empty)):
        if given:
            raise errors.not_implemented(
                f"cannot delete {errors.rs('queue', queue.name, queue.vhost.name)}. queue.delete "
                f"operations with {flag} flag set are not supported by quorum queues")

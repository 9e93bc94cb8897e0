"""Direct reply-to: RPC replies sent straight to the requesting channel, without a queue.

As in RabbitMQ 3.10: a channel consumes from the pseudo-queue `amq.rabbitmq.reply-to` (no-ack
only, one consumer per channel); a message it publishes with `reply_to` set to that name leaves
with `amq.rabbitmq.reply-to.<channel>.<key>` instead; a message published to the default
exchange with such a routing key is delivered to that channel's reply consumer. Replies are not
queued, so they count as unroutable for `mandatory`, and (a RabbitMQ quirk kept here) they reuse
the channel's next delivery tag without consuming it.
"""

from __future__ import annotations

import base64
import os

from yizhan.amqp import codec, errors

PSEUDO_QUEUE = "amq.rabbitmq.reply-to"
PREFIX = PSEUDO_QUEUE + "."


def _token() -> str:
    return base64.b64encode(os.urandom(12)).decode()


class ReplyConsumer:
    __slots__ = ("tag", "tag_s", "key", "suffix", "token")

    def __init__(self, tag: str):
        self.tag = tag
        self.tag_s = codec.shortstr(tag)
        self.token = _token().replace("+", "-").replace("/", "_")
        self.key = _token()
        self.suffix = f"{self.token}.{self.key}"


def consume(channel, tag: str, no_ack: bool) -> ReplyConsumer:
    """basic.consume on the pseudo-queue (the tag is already checked for reuse)."""
    if not no_ack:
        raise errors.precondition("reply consumer cannot acknowledge")
    if channel.reply_consumer is not None:
        raise errors.precondition("reply consumer already set")
    consumer = ReplyConsumer(tag)
    channel.reply_consumer = consumer
    channel.broker.reply_channels[consumer.token] = channel
    return consumer


def release(channel) -> None:
    consumer = channel.reply_consumer
    if consumer is not None:
        channel.reply_consumer = None
        channel.broker.reply_channels.pop(consumer.token, None)


def reply_address(channel) -> bytes:
    """The reply_to a publish on this channel gets in place of the pseudo-queue's name."""
    consumer = channel.reply_consumer
    if consumer is None:
        raise errors.precondition("fast reply consumer does not exist")
    return (PREFIX + consumer.suffix).encode()


def _target(broker, routing_key: str):
    token, _, key = routing_key[len(PREFIX):].partition(".")
    channel = broker.reply_channels.get(token)
    if channel is None or channel.reply_consumer is None or channel.reply_consumer.key != key:
        return None
    return channel


def deliver(broker, routing_keys: list[str], message) -> None:
    """Replies among a default-exchange publish's routing keys go to their channels."""
    for key in sorted(set(routing_keys)):
        if key.startswith(PREFIX):
            channel = _target(broker, key)
            if channel is not None and channel.state == "open":
                channel.deliver_reply(message)


def declare(broker, name: str, vhost: str) -> None:
    """queue.declare (passive or not) of a name starting with the pseudo-queue's: fine for the
    pseudo-queue and live reply addresses, 404 otherwise."""
    if name == PSEUDO_QUEUE or (name.startswith(PREFIX) and _target(broker, name) is not None):
        return
    raise errors.no_queue(name, vhost)

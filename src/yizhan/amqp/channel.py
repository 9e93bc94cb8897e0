"""An AMQP channel: content assembly, the channel methods, and the channel's bookkeeping.

The channel owns what RabbitMQ's rabbit_channel owns: its consumers, delivery tags and the
deliveries awaiting acknowledgement, the prefetch limits (per consumer, and rabbit_limiter's
per-channel window for `global` qos), publisher confirms and transactions. Topology changes go
through the vhost; messages go to queues, which call back `deliver`.

Handlers are synchronous. A soft error (`AMQPError` with a 4xx code) closes the channel with
channel.close; a hard one propagates to the connection, which closes.
"""

from __future__ import annotations

from pamqp import commands as spec

from yizhan.amqp import arguments, codec, counters, erlang, errors, queue_types, reply_to
from yizhan.amqp.codec import FieldTable, new
from yizhan.amqp.counters import ACK, DELIVER, DELIVER_NO_ACK, PUBLISH, REDELIVER
from yizhan.amqp.erlang import Atom
from yizhan.amqp.headers import with_delivery_count
from yizhan.amqp.message import Message
from yizhan.amqp.queue import Consumer
from yizhan.amqp.vhost import generated_name

Basic, Queue_, Exchange_, Channel_, Tx, Confirm = (spec.Basic, spec.Queue, spec.Exchange,
                                                   spec.Channel, spec.Tx, spec.Confirm)
PUBLISH_IDS = codec.SPEC_OF[Basic.Publish].ids
ACK_SPEC = codec.SPEC_OF[Basic.Ack]


# A delivery awaiting ack is a tuple (delivery tag, queue, queue entry, consumer), the consumer
# None for basic.get: a tuple costs far less to build than an object, once per delivery.
TAG, QUEUE, ENTRY, CONSUMER = range(4)


class _Assembly:
    """A content method waiting for its header (remaining None) and body frames."""

    __slots__ = ("method", "spec", "props", "parts", "remaining", "body_size", "keep")

    def __init__(self, method, method_spec):
        self.method = method
        self.spec = method_spec
        self.props = b""
        self.parts: list[bytes] = []
        self.remaining: int | None = None
        self.body_size = 0
        self.keep = True


class Transaction:
    __slots__ = ("publishes", "acks")

    def __init__(self):
        self.publishes: list = []  # (exchange, message, mandatory)
        self.acks: list = []       # ("ack" | True | False, [unacked delivery tuples])


class Channel:
    def __init__(self, connection, number: int):
        self.conn = connection
        self.number = number
        self.vhost = connection.vhost
        self.broker = connection.broker
        self.state = "starting"  # starting -> open -> closing (we sent channel.close)
        # content assembly: None, or [method, spec, props, body_parts, remaining]
        self.assembling = None
        self.consumers: dict[str, Consumer] = {}
        self.unacked: dict[int, tuple] = {}  # delivery tag -> (tag, queue, entry, consumer)
        self.next_tag = 1
        self.consumer_prefetch = 0
        self.global_prefetch = 0
        self.global_volume = 0
        self.limited_queues: set = set()
        self.holding_queues: set = set()  # quorum queues counting a cancelled consumer of ours
        self.confirm = False
        self.publish_seq = 1
        self.confirms_waiting: list[int] = []  # confirms held until the store has synced
        self.nacks: set[int] = set()  # sequence numbers a queue refused (reject-publish)
        self.tx: Transaction | None = None
        self.recent_queue = ""
        self.released = False
        self.reply_consumer = None
        self.held_queue = None  # its consumer got credit back in a run of acks: unblock it later
        # message counters the management API samples (management/rates.py): publish, confirm,
        # return_unroutable, drop_unroutable, deliver, deliver_no_ack, get, get_no_ack,
        # get_empty, redeliver, ack
        self.n_publish = self.n_confirm = self.n_return_unroutable = self.n_drop_unroutable = 0
        self.n_deliver = self.n_deliver_no_ack = self.n_get = self.n_get_no_ack = 0
        self.n_get_empty = self.n_redeliver = self.n_ack = 0
        # the same per exchange, per queue and per (queue, exchange) routed to (per-object metrics)
        self.by_exchange = counters.PairCounts(len(counters.EXCHANGE_COLUMNS))
        self.by_queue = counters.PairCounts(len(counters.QUEUE_COLUMNS))
        self.by_queue_exchange = counters.PairCounts(1)
        self.waiting_exchanges: list = []  # the exchange of each of confirms_waiting
        self.broker.churn["channel_created"] += 1

    @property
    def writable(self) -> bool:
        return self.conn.writable and self.state == "open"

    # -- frames in --------------------------------------------------------------------------
    def handle_method_frame(self, method_spec, method) -> None:
        pending = self.assembling
        if pending is not None:
            self._unexpected(errors.EXPECTED_BODY if pending.remaining is not None
                             else errors.expected_header(pending.spec.ids[0], None))
        if method_spec.has_content:
            self.assembling = _Assembly(method, method_spec)
            return
        self.dispatch(method_spec, method, None)

    def handle_header_frame(self, class_id: int, weight: int, body_size: int, props: bytes) -> None:
        """rabbit_command_assembler: a content header must follow a content method, name the
        method's class and have weight 0."""
        pending = self.assembling
        if pending is None:
            raise errors.AMQPError(errors.UNEXPECTED_FRAME, errors.EXPECTED_METHOD, errors.NO_METHOD)
        if pending.remaining is not None:
            self._unexpected(errors.EXPECTED_BODY)
        expected = pending.spec.ids[0]
        if weight != 0:
            self._unexpected(errors.expected_header(expected, None))
        if class_id != expected:
            self._unexpected(errors.expected_header(expected, class_id))
        pending.props = props
        pending.body_size = body_size
        if body_size == 0:
            self.assembling = None
            self.dispatch(pending.spec, pending.method, (props, b""))
        else:
            pending.remaining = body_size
            pending.keep = body_size <= self.broker.limits.max_message_size

    def handle_body_frame(self, payload: bytes) -> None:
        pending = self.assembling
        if pending is None:
            raise errors.AMQPError(errors.UNEXPECTED_FRAME, errors.EXPECTED_METHOD, errors.NO_METHOD)
        if pending.remaining is None:
            self._unexpected(errors.expected_header(pending.spec.ids[0], None))
        pending.remaining -= len(payload)
        if pending.keep:
            pending.parts.append(payload)
        if pending.remaining != 0:  # a body longer than announced never completes (as RabbitMQ)
            return
        self.assembling = None
        if not pending.keep:
            self.dispatch(pending.spec, pending.method, (pending.props, None, pending.body_size))
            return
        parts = pending.parts
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        self.dispatch(pending.spec, pending.method, (pending.props, body))

    def _unexpected(self, text: str):
        raise errors.AMQPError(errors.UNEXPECTED_FRAME, text, self.assembling.spec.ids)

    # -- method dispatch --------------------------------------------------------------------
    def dispatch(self, method_spec, method, content) -> None:
        state = self.state
        if state == "starting":
            if type(method) is not Channel_.Open:
                raise errors.AMQPError(errors.CHANNEL_ERROR, errors.EXPECTED_OPEN, method_spec.ids)
            self.state = "open"
            self.send(new(Channel_.OpenOk, channel_id=b""))
            return
        kind = type(method)
        if kind is Channel_.Open:
            raise errors.AMQPError(errors.CHANNEL_ERROR, errors.SECOND_OPEN, method_spec.ids)
        if state == "closing":
            if kind is Channel_.CloseOk:
                self.conn.forget_channel(self)
            elif kind is Channel_.Close:
                self.send(new(Channel_.CloseOk))
            return
        handler = HANDLERS.get(kind)
        try:
            if handler is None:
                raise errors.unimplemented_method()
            handler(self, method, content)
        except errors.AMQPError as error:
            if error.method is None:
                error.method = method_spec.ids
            if error.hard:
                raise
            self.fail(error)

    def fail(self, error: errors.AMQPError) -> None:
        """A channel error: release everything, send channel.close and await close-ok."""
        self.shutdown()
        self.state = "closing"
        self.conn.write(codec.method_frame(self.number, new(
            Channel_.Close, reply_code=error.code, reply_text=error.reply_text,
            class_id=error.method[0], method_id=error.method[1])))

    def send(self, method) -> None:
        if self.state != "closing" or type(method) is Channel_.CloseOk:
            self.write(codec.method_frame(self.number, method))

    def write(self, data: bytes) -> None:
        self.conn.write(data)

    # -- channel class ----------------------------------------------------------------------
    def on_close(self, method, content) -> None:
        self.shutdown()
        self.state = "closing"
        self.write(codec.method_frame(self.number, new(Channel_.CloseOk)))
        self.conn.forget_channel(self)

    def on_flow(self, method, content) -> None:
        if not method.active:
            raise errors.not_implemented("active=false")
        self.send(new(Channel_.FlowOk, active=True))

    def on_access_request(self, method, content) -> None:
        self.send(new(codec.Access.RequestOk, ticket=1))

    def shutdown(self) -> None:
        """The channel goes away (closed, failed, or its connection is gone): its consumers
        are removed and its unacknowledged deliveries return to their queues."""
        if self.released:
            return
        self.released = True
        self.broker.churn["channel_closed"] += 1
        counters.fold_channel(self)
        self.held_queue = None
        consumers, self.consumers = self.consumers, {}
        for consumer in consumers.values():
            consumer.queue.remove_consumer(consumer, channel_down=True)
        self._requeue_all()
        for queue in {consumer.queue for consumer in consumers.values()}:
            if not queue.deleted:  # requeue_and_run: a new single active consumer runs now
                queue.dispatch()
        reply_to.release(self)
        for queue in self.limited_queues | self.holding_queues:
            queue.forget_channel(self)
        self.limited_queues.clear()
        self.holding_queues.clear()
        self.assembling = None

    def _requeue_all(self) -> None:
        unacked, self.unacked = self.unacked, {}
        by_queue: dict = {}
        for item in unacked.values():
            by_queue.setdefault(item[QUEUE], []).append(item[ENTRY])
        for queue, entries in by_queue.items():
            queue.forget_channel(self)
            queue.requeue(entries, returned=True)

    # -- exchanges --------------------------------------------------------------------------
    def on_exchange_declare(self, m, content) -> None:
        self.vhost.declare_exchange(m.exchange, m.exchange_type, m.passive, m.durable,
                                    m.auto_delete, m.internal, m.arguments)
        if not m.nowait:
            self.send(new(Exchange_.DeclareOk))

    def on_exchange_delete(self, m, content) -> None:
        self.vhost.delete_exchange(m.exchange, m.if_unused)
        if not m.nowait:
            self.send(new(Exchange_.DeleteOk))

    def on_exchange_bind(self, m, content) -> None:
        self.vhost.bind(m.source, "exchange", m.destination, m.routing_key, m.arguments, self.conn)
        if not m.nowait:
            self.send(new(Exchange_.BindOk))

    def on_exchange_unbind(self, m, content) -> None:
        self.vhost.unbind(m.source, "exchange", m.destination, m.routing_key, m.arguments,
                          self.conn)
        if not m.nowait:
            self.send(new(Exchange_.UnbindOk))

    # -- queues -----------------------------------------------------------------------------
    def _queue_name(self, name: str) -> str:
        """rabbit_channel:expand_queue_name_shortcut."""
        if name:
            return name
        if not self.recent_queue:
            raise errors.no_previous_queue()
        return self.recent_queue

    def on_queue_declare(self, m, content) -> None:
        if m.queue.startswith(reply_to.PSEUDO_QUEUE):
            name = m.queue.replace("\r", "").replace("\n", "")
            reply_to.declare(self.broker, name, self.vhost.name)
            self.recent_queue = name
            if not m.nowait:
                self.send(new(Queue_.DeclareOk, queue=name, message_count=0, consumer_count=1))
            return
        queue = self.vhost.declare_queue(self.conn, m.queue, m.passive, m.durable, m.exclusive,
                                         m.auto_delete, m.arguments)
        self.recent_queue = queue.name
        if not m.nowait:
            self.send(new(Queue_.DeclareOk, queue=queue.name, message_count=queue.message_count,
                          consumer_count=queue.consumer_count))

    def on_queue_bind(self, m, content) -> None:
        queue = self._queue_name(m.queue)
        key = m.routing_key if (m.queue or m.routing_key) else queue
        self.vhost.bind(m.exchange, "queue", queue, key, m.arguments, self.conn)
        if not m.nowait:
            self.send(new(Queue_.BindOk))

    def on_queue_unbind(self, m, content) -> None:
        queue = self._queue_name(m.queue)
        key = m.routing_key if (m.queue or m.routing_key) else queue
        self.vhost.unbind(m.exchange, "queue", queue, key, m.arguments, self.conn)
        self.send(new(Queue_.UnbindOk))

    def on_queue_purge(self, m, content) -> None:
        queue = self.vhost.exclusive_queue_or_die(self._queue_name(m.queue), self.conn)
        count = queue.purge()
        if not m.nowait:
            self.send(new(Queue_.PurgeOk, message_count=count))

    def on_queue_delete(self, m, content) -> None:
        count = self.vhost.delete_queue_checked(self.conn, self._queue_name(m.queue),
                                                m.if_unused, m.if_empty)
        if not m.nowait:
            self.send(new(Queue_.DeleteOk, message_count=count))

    # -- publishing -------------------------------------------------------------------------
    def on_publish(self, m, content) -> None:
        raw_props, body = content[0], content[1]
        limit = self.broker.limits.max_message_size
        if not m.immediate and (body is None or len(body) > limit):
            raise errors.message_too_large(content[2] if body is None else len(body), limit)
        self.publish_content(m.exchange, m.routing_key, m.mandatory, m.immediate, raw_props, body)

    def publish_content(self, exchange_name: str, routing_key: str, mandatory: bool,
                        immediate: bool, raw_props: bytes, body: bytes) -> None:
        """basic.publish with its content (from `on_publish`, or from the connection's hot
        path, which checked the frames as the assembly does and the size against the limit);
        errors are handled as `dispatch` handles them."""
        try:
            if immediate:
                raise errors.not_implemented("immediate=true")
            vhost = self.vhost
            exchange = vhost.exchanges.get(exchange_name)
            if exchange is None:
                raise errors.no_exchange(exchange_name, vhost.name)
            if exchange.internal:
                raise errors.internal_exchange(exchange_name, vhost.name)
            if raw_props == b"\x00\x00":  # no properties: nothing to check or decode
                message = Message(exchange_name, routing_key, raw_props, body, self.conn,
                                  [routing_key])
            else:
                routing_keys, raw_props, expiration, props = self._check_properties(routing_key,
                                                                                    raw_props)
                message = Message(exchange_name, routing_key, raw_props, body, self.conn,
                                  routing_keys)
                message.expiration = expiration
                message._properties = props  # decoded once: the store and queues read them
            if self.tx is not None:
                self.tx.publishes.append((exchange, message, mandatory))
                return
            seq = None
            if self.confirm:
                seq = self.publish_seq
                self.publish_seq += 1
            stored = self._route(exchange, message, mandatory)
            self.n_publish += 1
            rejected = message.rejected
        except errors.AMQPError as error:
            if error.method is None:
                error.method = PUBLISH_IDS
            if error.hard:
                raise
            self.fail(error)
            return
        if seq is None:
            return
        if rejected:  # a queue refused it (reject-publish): basic.nack
            self.nacks.add(seq)
        if stored or self.confirms_waiting:  # on disk first; confirms keep their order
            self.confirms_waiting.append(seq)
            self.waiting_exchanges.append(exchange)
            if stored:
                self.broker.store.after_sync(self._send_waiting_confirms)
            return
        # everything else is settled once routed: confirm at once, as RabbitMQ does for
        # unroutable ones
        self._send_confirm(seq, exchange)

    def _send_confirm(self, seq: int, exchange) -> None:
        """basic.ack, or basic.nack for a publish a queue refused; only an ack counts as
        confirmed (the global, channel and per-exchange counters), as rabbit_channel counts."""
        if seq in self.nacks:
            self.write(codec.ack_frame(self.number, seq, False, True))
            self.nacks.discard(seq)
            return
        self.write(codec.ack_frame(self.number, seq, False, False))
        self.n_confirm += 1
        (self.by_exchange.get(exchange) or self.by_exchange.of(exchange))[counters.CONFIRM] += 1

    def _send_waiting_confirms(self) -> None:
        """The store synced: the confirms held for it (and those queued behind) go out."""
        waiting, self.confirms_waiting = self.confirms_waiting, []
        exchanges, self.waiting_exchanges = self.waiting_exchanges, []
        if self.released or self.state != "open":
            return
        for seq, exchange in zip(waiting, exchanges):
            self._send_confirm(seq, exchange)

    def _check_properties(self, routing_key: str, raw: bytes):
        return check_properties(routing_key, raw, self.conn.user.name, self)

    def _route(self, exchange, message: Message, mandatory: bool) -> bool:
        """Route and enqueue; True when the message went to the store (persistent, durable
        queue) and a confirm must wait for the sync."""
        queues, stored = route_message(self.broker, self.vhost, exchange, message)
        counts = self.by_exchange.get(exchange) or self.by_exchange.of(exchange)
        counts[PUBLISH] += 1
        pairs = self.by_queue_exchange
        for queue in queues:
            (pairs.get((queue, exchange)) or pairs.of((queue, exchange)))[0] += 1
        if not queues:
            if not mandatory:
                self.n_drop_unroutable += 1
                counts[counters.DROP_UNROUTABLE] += 1
                return stored
            self.n_return_unroutable += 1
            counts[counters.RETURN_UNROUTABLE] += 1
            self.write(codec.content_frames(
                self.number,
                codec.return_payload(errors.NO_ROUTE, b"\x08NO_ROUTE", message.exchange_s,
                                     message.routing_key_s),
                message.body_size, message.raw_properties, message.body, self.conn.frame_max))
        return stored

    # -- consuming --------------------------------------------------------------------------
    def on_consume(self, m, content) -> None:
        if m.consumer_tag in self.consumers:  # the reply consumer's tag does not count
            raise errors.ctag_reuse(m.consumer_tag)
        if m.queue == reply_to.PSEUDO_QUEUE:
            consumer = reply_to.consume(self, m.consumer_tag or generated_name("amq.ctag"),
                                        m.no_ack)
            if not m.nowait:
                self.send(new(Basic.ConsumeOk, consumer_tag=consumer.tag))
            return
        queue = self.vhost.exclusive_queue_or_die(self._queue_name(m.queue), self.conn)
        tag = m.consumer_tag or generated_name("amq.ctag")
        args = m.arguments if m.arguments is not None else FieldTable()
        arguments.check_consumer_arguments(args, queue.name, self.vhost.name,
                                           arguments.queue_type(queue.arguments))
        queue_types.check_consume(queue, self, m.no_ack, m.exclusive)
        priority = args.value("x-priority", 0)
        consumer = Consumer(tag, codec.shortstr(tag), self, queue, m.no_ack, m.exclusive, args,
                            priority if isinstance(priority, int) else 0,
                            queue_types.consumer_prefetch(queue, self))
        self.consumers[tag] = consumer
        if not m.nowait:
            self.send(new(Basic.ConsumeOk, consumer_tag=tag))
        queue.add_consumer(consumer)

    def on_cancel(self, m, content) -> None:
        if self.reply_consumer is not None and m.consumer_tag == self.reply_consumer.tag:
            reply_to.release(self)
        consumer = self.consumers.pop(m.consumer_tag, None)
        if consumer is not None:
            queue = consumer.queue
            queue.remove_consumer(consumer)
            if queue.quorum and any(item[CONSUMER] is consumer for item in self.unacked.values()):
                queue.cancelled_holding.add(consumer)  # rabbit_fifo's `cancelled` consumer
                self.holding_queues.add(queue)
        if not m.nowait:
            self.send(new(Basic.CancelOk, consumer_tag=m.consumer_tag))

    def consumer_cancelled_by_broker(self, consumer: Consumer) -> None:
        """The consumer's queue was deleted: forget the consumer and, if the client said it
        understands consumer_cancel_notify, tell it with basic.cancel (after the current reply)."""
        if self.consumers.get(consumer.tag) is not consumer:
            return
        del self.consumers[consumer.tag]
        if self.conn.capability("consumer_cancel_notify"):
            self.broker.defer(lambda: self.send(new(Basic.Cancel, consumer_tag=consumer.tag,
                                                    nowait=True)))

    def deliver(self, consumer: Consumer, queue, entry) -> None:
        """Called by a queue: send basic.deliver with the message to the client."""
        tag = self.next_tag
        self.next_tag = tag + 1
        counts = consumer.counts
        if counts is None:
            counts = consumer.counts = self.by_queue.of(queue)
        if not consumer.no_ack:
            self.unacked[tag] = (tag, queue, entry, consumer)
            self.n_deliver += 1
            queue.n_deliver += 1
            counts[DELIVER] += 1
        else:
            self.n_deliver_no_ack += 1
            queue.n_deliver_no_ack += 1
            counts[DELIVER_NO_ACK] += 1
        if entry.redelivered:
            self.n_redeliver += 1
            queue.n_redeliver += 1
            counts[REDELIVER] += 1
        message = entry.message
        conn = self.conn
        props = message.raw_properties
        if queue.quorum and entry.delivery_count:  # a first delivery to a consumer has no count
            props = with_delivery_count(props, entry.delivery_count)
        conn.write(codec.deliver_frames(self.number, consumer.tag_s, tag, entry.redelivered,
                                        message.exchange_s, message.routing_key_s,
                                        props, message.body, conn.frame_max))

    def deliver_reply(self, message: Message) -> None:
        """A direct reply-to message for this channel's reply consumer."""
        self.write(codec.content_frames(
            self.number,
            codec.deliver_payload(self.reply_consumer.tag_s, self.next_tag, False,
                                  message.exchange_s, message.routing_key_s),
            len(message.body), message.raw_properties, message.body, self.conn.frame_max))

    def on_get(self, m, content) -> None:
        queue = self.vhost.exclusive_queue_or_die(self._queue_name(m.queue), self.conn)
        queue_types.check_get(queue)
        entry = queue.get()
        if entry is None:
            self.n_get_empty += 1
            queue.n_get_empty += 1
            self.by_queue.of(queue)[counters.GET_EMPTY] += 1
            self.send(new(Basic.GetEmpty, cluster_id=""))
            return
        tag = self.next_tag
        self.next_tag = tag + 1
        count_get(self, queue, entry, m.no_ack)
        if not m.no_ack:
            queue.unacked += 1
            self.unacked[tag] = (tag, queue, entry, None)
        if queue.durable:
            queue.delivered(entry, m.no_ack)
        message = entry.message
        props = message.raw_properties
        if queue.quorum:
            props = with_delivery_count(props, entry.delivery_count)
        self.write(codec.content_frames(
            self.number,
            codec.get_ok_payload(tag, entry.redelivered, message.exchange_s,
                                 message.routing_key_s, queue.message_count),
            len(message.body), props, message.body, self.conn.frame_max))

    # -- acknowledgements -------------------------------------------------------------------
    def _collect(self, tag: int, multiple: bool) -> list[tuple]:
        """rabbit_channel:collect_acks: the tag (and with `multiple` every older one)."""
        unacked = self.unacked
        if multiple and tag == 0:
            items = list(unacked.values())
            unacked.clear()
            return items
        if tag not in unacked:
            raise errors.unknown_delivery_tag(tag)
        if not multiple:
            return [unacked.pop(tag)]
        tags = []
        for current in unacked:  # ordered by tag: stop at the first newer one
            if current > tag:
                break
            tags.append(current)
        return [unacked.pop(current) for current in tags]

    def ack(self, tag: int, multiple: bool) -> None:
        """basic.ack from the connection's hot path: one known tag outside a transaction is
        settled here as `_settle` would; anything else (multiple, tx, an unknown tag) goes
        through `dispatch` and `on_ack`."""
        item = None if multiple or self.tx is not None else self.unacked.pop(tag, None)
        if item is None:
            self.release_held()
            method = codec.new(Basic.Ack, delivery_tag=tag, multiple=multiple)
            self.dispatch(ACK_SPEC, method, None)
            return
        _, queue, entry, consumer = item
        self.n_ack += 1
        queue.n_ack += 1
        if consumer is None:  # basic.get: no credit, no window
            self.by_queue.of(queue)[ACK] += 1
            queue.settle([entry])
            return
        consumer.counts[ACK] += 1
        credit = consumer.credit
        if credit is not None:
            consumer.credit = credit + 1
        queue.settle([entry])
        if credit == 0:
            held = self.held_queue
            if held is not queue:
                if held is not None:
                    self.release_held()
                if len(queue.consumers) == 1 and not self.global_prefetch:
                    self.held_queue = queue
                else:
                    queue.unblock(self)
        if self.global_prefetch:
            self._release(1)

    def release_held(self) -> None:
        """End of a run of acks: the queue whose only consumer got credit back runs now.

        Each ack would run it at once, delivering one message; with one consumer the queue
        delivers the same messages in the same order when it runs once for the whole run, as
        long as nothing else happens in between (the connection calls this before anything
        else)."""
        queue = self.held_queue
        if queue is not None:
            self.held_queue = None
            queue.unblock(self)

    def on_ack(self, m, content) -> None:
        items = self._collect(m.delivery_tag, m.multiple)
        if self.tx is not None:
            self.tx.acks.append(("ack", items))
            return
        self._settle(items, None)

    def on_reject(self, m, content) -> None:
        self._reject(self._collect(m.delivery_tag, False), m.requeue)

    def on_nack(self, m, content) -> None:
        self._reject(self._collect(m.delivery_tag, m.multiple), m.requeue)

    def _reject(self, items: list[tuple], requeue: bool) -> None:
        queue_types.check_reject({item[QUEUE] for item in items})
        if self.tx is not None:
            self.tx.acks.append((requeue, items))
            return
        self._settle(items, requeue)

    def _settle(self, items: list[tuple], requeue: bool | None) -> None:
        """Acked (requeue None), rejected, or requeued deliveries, queue by queue: messages
        are settled or put back, then consumers whose credit came back rejoin the line."""
        by_queue: dict = {}
        released = 0
        for item in items:
            by_queue.setdefault(item[QUEUE], []).append(item)
        for queue in sorted(by_queue, key=lambda q: q.name):
            group = by_queue[queue]
            unpark = False
            for item in group:
                consumer = item[CONSUMER]
                if consumer is None:
                    continue
                released += 1
                if consumer.credit is not None:
                    unpark = unpark or consumer.credit == 0
                    consumer.credit += 1
            if requeue is None:
                self.n_ack += len(group)
                queue.n_ack += len(group)
                self.by_queue.of(queue)[counters.ACK] += len(group)
            if requeue:  # rabbit_amqqueue_process: requeue first, then run the queue
                queue.requeue([item[ENTRY] for item in group], dispatch=not unpark)
            elif requeue is False:  # rejected: dead-lettered if the queue says so
                queue.reject([item[ENTRY] for item in group])
            else:
                queue.settle([item[ENTRY] for item in group])
            if unpark:
                queue.unblock(self)
        self._release(released)

    def _release(self, count: int) -> None:
        """rabbit_limiter's ack: the global window shrinks; queues it had refused resume."""
        if not self.global_prefetch or not count:
            return
        before = self.global_volume
        self.global_volume = 0 if before == 0 else before - count
        if before >= self.global_prefetch > self.global_volume:
            self._resume_limited()

    def _resume_limited(self) -> None:
        queues, self.limited_queues = self.limited_queues, set()
        for queue in sorted(queues, key=lambda q: q.name):
            queue.resume(self)

    def on_recover(self, m, content) -> None:
        if not m.requeue:
            raise errors.not_implemented("requeue=false")
        if type(m) is Basic.Recover:
            self.send(new(Basic.RecoverOk))
        self.requeue_unacked()

    def requeue_unacked(self) -> int:
        """Every unacknowledged delivery back to its queue, redelivered (basic.recover
        requeue=true; also a test control's "redeliver"); how many."""
        items = list(self.unacked.values())
        self.unacked = {}
        self._settle(items, True)
        return len(items)

    def on_qos(self, m, content) -> None:
        if m.prefetch_size != 0:
            raise errors.prefetch_size(m.prefetch_size)
        was_limited = self.global_prefetch and self.global_volume >= self.global_prefetch
        if not m.global_:  # rabbit_channel also drops the channel-wide limit here
            self.consumer_prefetch = m.prefetch_count
            self.global_prefetch = 0
        elif m.prefetch_count == 0:
            self.global_prefetch = 0
        else:
            if not self.global_prefetch:
                self.global_volume = len(self.unacked)
            self.global_prefetch = m.prefetch_count
        self.send(new(Basic.QosOk))
        if was_limited and (not self.global_prefetch or self.global_volume < self.global_prefetch):
            self._resume_limited()

    # -- confirms and transactions ------------------------------------------------------------
    def on_confirm_select(self, m, content) -> None:
        if self.tx is not None:
            raise errors.precondition(errors.TX_TO_CONFIRM)
        self.confirm = True
        if not m.nowait:
            self.send(new(Confirm.SelectOk))

    def on_tx_select(self, m, content) -> None:
        if self.confirm:
            raise errors.precondition(errors.CONFIRM_TO_TX)
        if self.tx is None:
            self.tx = Transaction()
        self.send(new(Tx.SelectOk))

    def on_tx_commit(self, m, content) -> None:
        tx = self.tx
        if tx is None:
            raise errors.precondition(errors.NOT_TRANSACTIONAL)
        self.tx = Transaction()
        stored = False
        for exchange, message, mandatory in tx.publishes:
            stored = self._route(exchange, message, mandatory) or stored
        for what, items in tx.acks:
            self._settle(items, None if what == "ack" else what)
        if stored:  # the commit's persistent messages are on disk before commit-ok
            self.broker.store.sync_now()
        self.send(new(Tx.CommitOk))

    def on_tx_rollback(self, m, content) -> None:
        tx = self.tx
        if tx is None:
            raise errors.precondition(errors.NOT_TRANSACTIONAL)
        self.tx = Transaction()
        if tx.acks:
            restored = {item[TAG]: item for _, items in tx.acks for item in items}
            restored.update(self.unacked)
            self.unacked = dict(sorted(restored.items()))
        self.send(new(Tx.RollbackOk))

    # -- flow from the transport ------------------------------------------------------------
    def resume_delivery(self) -> None:
        """The connection drains again: parked consumers of this channel may take messages."""
        for queue in {c.queue for c in self.consumers.values()}:
            queue.unblock(self)


def route_message(broker, vhost, exchange, message) -> tuple[list, bool]:
    """basic.publish's routing (and the management API's publish): the queues the message
    went to, and whether it went to the store (persistent, durable queue)."""
    if exchange is vhost.default_exchange and broker.reply_channels:
        reply_to.deliver(broker, message.routing_keys, message)
    exchange.n_publish_in += 1
    queues = vhost.route(exchange, message.routing_keys, message)
    if not queues:
        return queues, False
    exchange.n_publish_out += 1
    stored = broker.store.publish(message, queues)
    for queue in queues:
        queue.n_publish += 1
        if not queue.publish(message):
            message.rejected = True
    return queues, stored


def count_get(channel, queue, entry, no_ack: bool) -> None:
    """basic.get's counters (the management API's message_stats); `channel` None for the
    API's own get."""
    for holder in (channel, queue):
        if holder is None:
            continue
        if no_ack:
            holder.n_get_no_ack += 1
        else:
            holder.n_get += 1
        if entry.redelivered:
            holder.n_redeliver += 1
    if channel is not None:
        counts = channel.by_queue.of(queue)
        counts[counters.GET_NO_ACK if no_ack else counters.GET] += 1
        if entry.redelivered:
            counts[counters.REDELIVER] += 1


def check_properties(routing_key: str, raw: bytes, user_name: str, channel=None):
    """What RabbitMQ checks in the properties of a publish: they must decode, user_id must
    be the user, expiration a valid TTL, delivery_mode 1 or 2; CC and BCC add routes.
    Returns (routing keys, property bytes, expiration, the decoded properties). `channel`: the
    publishing channel (direct reply-to), None for the management API's publish."""
    if raw == b"\x00\x00":
        return [routing_key], raw, None, None
    try:
        props = codec.decode_properties(raw)
    except (codec.DecodeError, codec.TableError):
        raise errors.AMQPError(errors.INTERNAL_ERROR, None, errors.NO_METHOD) from None
    if props.user_id is not None and props.user_id != user_name.encode():
        raise errors.precondition(
            f"user_id property set to '{_text(props.user_id)}' but authenticated user "
            f"was '{user_name}'")
    expiration = None
    if props.expiration is not None:
        expiration = _check_expiration(props.expiration)
    if props.reply_to == b"amq.rabbitmq.reply-to" and channel is not None:
        props.reply_to = reply_to.reply_address(channel)
        raw = codec.encode_properties(props)
    if props.delivery_mode not in (None, 1, 2):
        raise _invalid_message((Atom("delivery_mode_unknown"), props.delivery_mode))
    keys = [routing_key]
    if props.headers is not None:
        keys += _header_routes(props.headers)
        if props.headers.lookup("BCC") is not None:
            props.headers = FieldTable(e for e in props.headers if e[0] != "BCC")
            raw = codec.encode_properties(props)
    return keys, raw, expiration, props


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _check_expiration(raw: bytes) -> int:
    """rabbit_basic:parse_expiration, with string:to_integer's rules."""
    text = raw.decode("latin-1")
    digits_start = 1 if text[:1] in ("+", "-") else 0
    end = digits_start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    if end == digits_start:
        error = Atom("no_integer")
    elif end != len(text):
        error = (Atom("leftover_string"), text[end:])
    else:
        value = int(text[:end])
        error = ((Atom("value_negative"), value) if value < 0 else
                 (Atom("value_too_large"), value) if value > arguments.TEN_YEARS_MS else None)
    if error is not None:
        raise errors.precondition(erlang.format_p(f"invalid expiration '{_text(raw)}': ", error))
    return value


def _invalid_message(term) -> errors.AMQPError:
    return errors.precondition(erlang.format_p("invalid message: ", term))


def _header_routes(headers: FieldTable) -> list[str]:
    """rabbit_basic:header_routes: the longstr entries of the CC and BCC arrays."""
    routes = []
    for key in ("CC", "BCC"):
        found = headers.lookup(key)
        if found is None:
            continue
        kind, value = found
        if kind is not codec.ARRAY:
            raise _invalid_message((Atom("unacceptable_type_in_header"), key, kind))
        routes += [_text(v) for k, v in value if k is codec.LONGSTR]
    return routes


HANDLERS = {
    Channel_.Close: Channel.on_close,
    Channel_.Flow: Channel.on_flow,
    codec.Access.Request: Channel.on_access_request,
    Exchange_.Declare: Channel.on_exchange_declare,
    Exchange_.Delete: Channel.on_exchange_delete,
    Exchange_.Bind: Channel.on_exchange_bind,
    Exchange_.Unbind: Channel.on_exchange_unbind,
    Queue_.Declare: Channel.on_queue_declare,
    Queue_.Bind: Channel.on_queue_bind,
    Queue_.Unbind: Channel.on_queue_unbind,
    Queue_.Purge: Channel.on_queue_purge,
    Queue_.Delete: Channel.on_queue_delete,
    Basic.Publish: Channel.on_publish,
    Basic.Consume: Channel.on_consume,
    Basic.Cancel: Channel.on_cancel,
    Basic.Get: Channel.on_get,
    Basic.Ack: Channel.on_ack,
    Basic.Reject: Channel.on_reject,
    Basic.Nack: Channel.on_nack,
    Basic.Recover: Channel.on_recover,
    Basic.RecoverAsync: Channel.on_recover,
    Basic.Qos: Channel.on_qos,
    Confirm.Select: Channel.on_confirm_select,
    Tx.Select: Channel.on_tx_select,
    Tx.Commit: Channel.on_tx_commit,
    Tx.Rollback: Channel.on_tx_rollback,
}

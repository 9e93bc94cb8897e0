"""The `x-delayed-message` exchange type of the community plugin rabbitmq-delayed-message-exchange,
as its 3.10-era release (3.10.2) behaves, and the broker's store of delayed messages.

An exchange declared with type `x-delayed-message` must name its routing type in the
`x-delayed-type` argument (checked when the exchange is created, with the plugin's texts); it
binds and matches as that type. A message whose `x-delay` header is an integer (or a string of
digits, or a float, which is truncated) greater than 0 and at most 2^32-1 ms is held and routed
by the exchange when the delay has passed; any other message is routed at once. While held,
the exchange routes it nowhere, so a mandatory publish gets basic.return 312 NO_ROUTE at once
and an alternate exchange gets a copy at once, as with the plugin (its README: "the mandatory
flag is not supported"). When released, the message is routed with its delay spent (the plugin
flips x-delay to -Delay in the decoded properties only; clients still read the header bytes
they sent) through the exchange's bindings at that time; if the exchange is gone it is dropped.

The plugin keeps every delayed message in a disc_copies Mnesia table whatever its delivery mode
or its exchange's durability, so held messages survive a restart; `DelayedMessages` keeps them
in store/delayed.py's log (when the broker has a data directory) and re-arms the timer at boot.
"""

from __future__ import annotations

import heapq
import re

from yizhan.amqp import codec, errors
from yizhan.amqp.exchanges import CREATE_CHECKS, TYPES, Exchange
from yizhan.amqp.message import Message

TYPE_NAME = "x-delayed-message"
ERL_MAX_T = 4294967295  # the longest Erlang timer, the plugin's upper bound
INTEGER_KINDS = {codec.BYTE, codec.SHORT, codec.SIGNEDINT, codec.LONG, codec.UNSIGNEDBYTE,
                 codec.UNSIGNEDSHORT, codec.UNSIGNEDINT}
FLOAT_KINDS = {codec.DOUBLE, codec.FLOAT}
_ERLANG_INTEGER = re.compile(rb"[+-]?[0-9]+\Z")


def crash() -> errors.AMQPError:
    """The plugin's route raises inside the channel process: the connection closes with 541."""
    return errors.AMQPError(errors.INTERNAL_ERROR, None, errors.NO_METHOD)


def delay_of(headers) -> int | None:
    """rabbit_delayed_message_utils:get_delay: the delay in ms, or None to route at once."""
    if headers is None:
        return None
    found = headers.lookup("x-delay")
    if found is None:
        return None
    kind, value = found
    if kind in INTEGER_KINDS:
        delay = value
    elif kind is codec.LONGSTR:  # binary_to_integer: a bad string crashes the channel
        if not _ERLANG_INTEGER.match(value):
            raise crash()
        delay = int(value)
    elif kind in FLOAT_KINDS:
        delay = int(value)  # trunc
    elif kind is codec.DECIMAL:  # trunc of Erlang's {Scale, Value} tuple: badarg
        raise crash()
    else:
        return None
    return delay if 0 < delay <= ERL_MAX_T else None


class _Delayed:
    """Mixed in before a routing type's class: the delayed exchange of that type."""

    type_name = TYPE_NAME
    delays = True
    needs_headers = True

    def route_message(self, vhost, routing_keys, headers, message, undelayed: bool) -> list:
        if not undelayed:
            delay = delay_of(headers)
            if delay is not None:
                vhost.delayed.hold(vhost, self, message, delay)
                return []
        return self.route(routing_keys, headers)


_CLASSES: dict = {}


def _delayed_class(base):
    cls = _CLASSES.get(base)
    if cls is None:
        cls = _CLASSES[base] = type("Delayed" + base.__name__, (_Delayed, base), {})
    return cls


def new_delayed_exchange(name: str, arguments=None, **flags) -> Exchange:
    """The exchange for a declare that `check_arguments` accepted (or a recovered one)."""
    found = arguments.lookup("x-delayed-type") if arguments is not None else None
    base = TYPES[found[1].decode("utf-8", "surrogateescape")]
    return _delayed_class(base)(name, arguments=arguments, **flags)


def check_arguments(args) -> None:
    """rabbit_exchange_type_delayed_message:validate: x-delayed-type names a routing type."""
    found = args.lookup("x-delayed-type") if args is not None else None
    if found is None or not isinstance(found[1], bytes):
        raise errors.precondition(
            "Invalid argument, 'x-delayed-type' must be an existing exchange type")
    type_name = found[1].decode("utf-8", "surrogateescape")
    if type_name == TYPE_NAME:
        raise errors.precondition(
            "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'")
    if type_name not in TYPES:
        raise errors.unknown_exchange_type(type_name, known_atom=(type_name == ""))


TYPES[TYPE_NAME] = new_delayed_exchange
CREATE_CHECKS[TYPE_NAME] = check_arguments


class DelayedMessages:
    """The broker's held messages, in release order, and the one timer that releases them
    (through the broker's Timers: its clock, and callbacks once the loop runs; `start` arms the
    timer when the server's loop is set). Without a loop `release_due(now_ms)` releases."""

    def __init__(self, broker):
        self.broker = broker
        self.heap: list = []   # (release at ms, id, vhost name, exchange name, message)
        self.next_id = 1
        self.log = None        # store/delayed.py's DelayedLog when the broker has a data dir
        self.timer = None
        self.timer_at = None

    def now_ms(self) -> int:
        return self.broker.timers.now()

    def hold(self, vhost, exchange, message, delay: int) -> None:
        held = Message(message.exchange, message.routing_key, message.raw_properties,
                       message.body, None, message.routing_keys)
        held.expiration = message.expiration  # a per-message TTL counts from the queue
        self._add(self.now_ms() + delay, vhost.name, exchange.name, held)

    def _add(self, at: int, vhost: str, exchange: str, message, msg_id: int | None = None) -> None:
        if msg_id is None:
            msg_id = self.next_id
            if self.log is not None:
                self.log.add(msg_id, at, vhost, exchange, message)
        self.next_id = max(self.next_id, msg_id + 1)
        heapq.heappush(self.heap, (at, msg_id, vhost, exchange, message))
        self._arm()

    def restore(self, records) -> None:
        """Boot: the held messages from the log, (id, at, vhost, exchange, message)."""
        for msg_id, at, vhost, exchange, message in records:
            self._add(at, vhost, exchange, message, msg_id)

    def held(self) -> list:
        """Every held message as (release at ms, vhost name, exchange name, message), in release
        order (a test control's snapshot)."""
        return [(at, vhost, exchange, message) for at, _id, vhost, exchange, message in sorted(self.heap)]

    def hold_until(self, at: int, vhost: str, exchange: str, message) -> None:
        """Hold `message` for release at `at` (clock ms; a test control's restore)."""
        self._add(at, vhost, exchange, message)

    def drop_all(self) -> int:
        """Forget every held message (a test control's flush and restore); how many."""
        count = len(self.heap)
        if self.log is not None:
            for item in self.heap:
                self.log.remove(item[1])
        self.heap = []
        self.stop()
        return count

    def count(self, vhost: str, exchange: str) -> int:
        """The plugin's messages_delayed for one exchange."""
        return sum(1 for item in self.heap if item[2] == vhost and item[3] == exchange)

    # -- the timer ------------------------------------------------------------------------------
    def start(self) -> None:
        """The server's loop runs (broker.timers.loop is set): arm for the first release."""
        self._arm()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.timer_at = None

    def _arm(self) -> None:
        if not self.heap:
            return
        at = self.heap[0][0]
        if self.timer is not None:
            if self.timer_at <= at:
                return
            self.timer.cancel()
        self.timer = self.broker.timers.at(at, self._fire)
        self.timer_at = at if self.timer is not None else None

    def _fire(self) -> None:
        self.timer = self.timer_at = None
        self.release_due(self.now_ms())
        self._arm()

    def release_due(self, now_ms: int) -> None:
        heap = self.heap
        while heap and heap[0][0] <= now_ms:
            _, msg_id, vhost_name, exchange_name, message = heapq.heappop(heap)
            if self.log is not None:
                self.log.remove(msg_id)
            self._route(vhost_name, exchange_name, message)
        self.broker.run_deferred()

    def _route(self, vhost_name: str, exchange_name: str, message) -> None:
        """rabbit_delayed_message:route: through the exchange as it is now, delay spent."""
        vhost = self.broker.vhosts.get(vhost_name)
        exchange = vhost.exchanges.get(exchange_name) if vhost is not None else None
        if exchange is None:
            return
        try:
            queues = vhost.route(exchange, message.routing_keys, message, undelayed=True)
        except errors.AMQPError:
            return  # the plugin's gen_server would crash on it; nothing reaches a client
        if queues:
            self.broker.store.publish(message, queues)
            for queue in queues:
                queue.publish(message)

"""A virtual host: its exchanges, queues and bindings, and the only code that changes them.

Every topology operation checks what RabbitMQ checks, in RabbitMQ's order, and raises the
same errors (rabbit_channel's handlers, rabbit_exchange, rabbit_amqqueue, rabbit_binding).
`route` follows a message from an exchange through exchange-to-exchange bindings and
alternate exchanges to the set of queues it lands in.
"""

from __future__ import annotations

import base64
import os
from collections import Counter

from yizhan.amqp import arguments, counters, errors, flow, queue_types
from yizhan.amqp import delayed, federation_upstream  # noqa: F401 (they register their exchange types)
from yizhan.amqp.codec import LONGSTR, FieldTable
from yizhan.amqp.erlang import Atom
from yizhan.amqp.exchanges import CREATE_CHECKS, TYPES, Binding, Exchange, freeze, new_exchange
from yizhan.amqp.queue import Queue
from yizhan.amqp.store import NullStore
from yizhan.amqp.policies import select
from yizhan.amqp.timers import Timers

PREDECLARED = [("", "direct", False), ("amq.direct", "direct", False),
               ("amq.fanout", "fanout", False), ("amq.topic", "topic", False),
               ("amq.headers", "headers", False), ("amq.match", "headers", False),
               ("amq.rabbitmq.trace", "topic", True)]


def generated_name(prefix: str) -> str:
    """rabbit_guid:binary(gen_secure(), Prefix): prefix, "-", base64url of 16 random bytes."""
    return prefix + "-" + base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def strip_cr_lf(name: str) -> str:
    return name.replace("\n", "").replace("\r", "") if ("\n" in name or "\r" in name) else name


class VHost:
    def __init__(self, name: str, store=None, timers: Timers | None = None):
        self.name = name
        self.store = store if store is not None else NullStore()  # durable definitions go here
        self.timers = timers if timers is not None else Timers()  # message TTL, queue expiry
        self.policies: dict = {}  # name -> policies.Policy
        self.metadata: dict = {}  # RabbitMQ's vhost metadata (description, tags), as data
        self.delayed = None  # the broker's DelayedMessages (x-delayed-message exchanges)
        self.exchanges: dict[str, Exchange] = {}
        self.queues: dict[str, Queue] = {}
        self.closed_channels = Counter()  # counters.py: counts of shut-down channels
        self.closed_queues: dict = {}     # counters.py: queue type -> counts of deleted queues
        self.churn = counters.new_churn()  # queues declared, created, deleted
        self.dead_lettered = Counter()  # counters.py: (queue type, strategy, reason) -> messages
        for xname, type_name, internal in PREDECLARED:
            self.exchanges[xname] = new_exchange(type_name, xname, durable=True, internal=internal)
        self.default_exchange = self.exchanges[""]

    # -- exchanges --------------------------------------------------------------------------
    def declare_exchange(self, name: str, type_name: str, passive: bool, durable: bool,
                         auto_delete: bool, internal: bool, args: FieldTable | None) -> Exchange:
        name = strip_cr_lf(name)
        if passive:
            if name == "":
                raise errors.default_exchange()
            return self.exchange_or_die(name)
        if type_name not in TYPES:
            raise errors.unknown_exchange_type(type_name, known_atom=(type_name == ""))
        if name == "":
            raise errors.default_exchange()
        args = args if args is not None else FieldTable()
        exchange = self.exchanges.get(name)
        if exchange is None:
            if name.startswith("amq."):
                raise errors.reserved_name("exchange", name)
            found = args.lookup("alternate-exchange")
            if found is not None and found[0] is not LONGSTR:
                raise errors.invalid_arg_type(found[0], "alternate-exchange", "exchange", name,
                                              self.name)
            check = CREATE_CHECKS.get(type_name)
            if check is not None:
                check(args)
            exchange = new_exchange(type_name, name, durable=durable, auto_delete=auto_delete,
                                    internal=internal, arguments=args)
            self.exchanges[name] = exchange
            self.store.exchange_added(self, exchange)
        self._assert_exchange(exchange, type_name, durable, auto_delete, internal, args)
        return exchange

    def _assert_exchange(self, x: Exchange, type_name, durable, auto_delete, internal, args):
        field = arguments.assert_field
        field(Atom(x.type_name), Atom(type_name), "type", "exchange", x.name, self.name)
        field(x.durable, durable, "durable", "exchange", x.name, self.name)
        field(x.auto_delete, auto_delete, "auto_delete", "exchange", x.name, self.name)
        field(x.internal, internal, "internal", "exchange", x.name, self.name)
        arguments.assert_args(x.arguments, args, x.equivalence_keys, "exchange", x.name,
                              self.name)

    def exchange_or_die(self, name: str) -> Exchange:
        exchange = self.exchanges.get(name)
        if exchange is None:
            raise errors.no_exchange(name, self.name)
        return exchange

    def delete_exchange(self, name: str, if_unused: bool) -> None:
        name = strip_cr_lf(name)
        if name == "":
            raise errors.default_exchange()
        if name.startswith("amq."):
            raise errors.system_exchange_deletion(name, self.name)
        exchange = self.exchanges.get(name)
        if exchange is None:
            return
        if if_unused and exchange.bindings:
            raise errors.in_use("exchange", name, self.name)
        self._remove_exchange(exchange)

    def _remove_exchange(self, exchange: Exchange) -> None:
        del self.exchanges[exchange.name]
        exchange.deleted = True
        self.store.exchange_removed(self, exchange)
        for binding in list(exchange.bindings.values()):
            self._drop_binding(binding, auto_delete=False)
        sources = set()
        for binding in list(exchange.bound_from.values()):
            sources.add(binding.source)
            self._drop_binding(binding, auto_delete=False)
        for source in sources:
            self._maybe_auto_delete(source)

    def _maybe_auto_delete(self, exchange: Exchange) -> None:
        if exchange.auto_delete and not exchange.bindings and not exchange.deleted:
            self._remove_exchange(exchange)

    # -- bindings ---------------------------------------------------------------------------
    def bind(self, source: str, dest_kind: str, dest: str, key: str, args: FieldTable | None,
             connection) -> None:
        src, destination = self._binding_ends(source, dest_kind, dest, connection)
        error = src.validate_binding(args)
        if error is not None:
            raise errors.precondition(error)
        binding = Binding(src, destination, key, args)
        if src.add(binding):
            destination.bound_from[(src.name,) + binding.ident] = binding
            self.store.binding_added(self, binding)

    def unbind(self, source: str, dest_kind: str, dest: str, key: str, args: FieldTable | None,
               connection) -> None:
        source, dest = strip_cr_lf(source), strip_cr_lf(dest)
        if source == "" or (dest_kind == "exchange" and dest == ""):
            raise errors.default_exchange()
        src = self.exchanges.get(source)
        table = self.queues if dest_kind == "queue" else self.exchanges
        destination = table.get(dest)
        if src is None or destination is None:
            return
        if dest_kind == "queue":
            self.check_exclusive(destination, connection)
        binding = src.bindings.get((dest_kind, dest, key, freeze(args)))
        if binding is not None:
            self._drop_binding(binding, auto_delete=True)

    def _binding_ends(self, source: str, dest_kind: str, dest: str, connection):
        source, dest = strip_cr_lf(source), strip_cr_lf(dest)
        if (dest_kind == "exchange" and dest == "") or source == "":
            raise errors.default_exchange()
        src = self.exchanges.get(source)
        if src is None:
            raise errors.no_exchange(source, self.name)
        if dest_kind == "queue":
            destination = self.queues.get(dest)
            if destination is None:
                raise errors.no_queue(dest, self.name)
            self.check_exclusive(destination, connection)
        else:
            destination = self.exchanges.get(dest)
            if destination is None:
                raise errors.no_exchange(dest, self.name)
        return src, destination

    def _drop_binding(self, binding: Binding, auto_delete: bool) -> None:
        source = binding.source
        source.remove(binding.ident)
        binding.destination.bound_from.pop((source.name,) + binding.ident, None)
        self.store.binding_removed(self, binding)
        if auto_delete:
            self._maybe_auto_delete(source)

    # -- queues -----------------------------------------------------------------------------
    def declare_queue(self, connection, name: str, passive: bool, durable: bool,
                      exclusive: bool, auto_delete: bool, args: FieldTable | None):
        """queue.declare: returns (queue, message_count, consumer_count)."""
        name = strip_cr_lf(name)
        if passive:
            queue = self.queue_or_die(name)
            self.check_exclusive(queue, connection)
            queue.touch()
            return queue
        args = args if args is not None else FieldTable()
        self.churn["queue_declared"] += 1
        if name == "":
            queue_types.check_server_named(args)
            name = generated_name("amq.gen")
        elif name.startswith("amq."):
            raise errors.reserved_name("queue", name)
        durable = durable and not exclusive
        owner = connection if exclusive else None
        queue = self.queues.get(name)
        if queue is not None:
            self._assert_queue(queue, durable, auto_delete, args, owner)
            queue.touch()
            return queue
        found = args.lookup("x-dead-letter-exchange")
        if found is not None and found[0] is not LONGSTR:
            raise errors.invalid_arg_type(found[0], "x-dead-letter-exchange", "queue", name,
                                          self.name)
        arguments.check_queue_arguments(args, name, self.name)
        queue_types.check_declare(arguments.queue_type(args), name, self.name, durable, exclusive,
                                  auto_delete, args)
        queue = Queue(self, name, durable=durable, exclusive_owner=owner,
                      auto_delete=auto_delete, arguments=args)
        self.queues[name] = queue
        self.churn["queue_created"] += 1
        self.store.queue_added(self, queue)
        if owner is not None:
            owner.exclusive_queues.add(queue)
        return queue

    def _assert_queue(self, queue: Queue, durable, auto_delete, args, owner) -> None:
        if queue.exclusive_owner is not owner:
            raise errors.resource_locked(queue.name, self.name)
        field = arguments.assert_field
        field(queue.durable, durable, "durable", "queue", queue.name, self.name)
        field(queue.auto_delete, auto_delete, "auto_delete", "queue", queue.name, self.name)
        keys = arguments.QUEUE_TYPE_ARGS[arguments.queue_type(queue.arguments)]
        arguments.assert_args(queue.arguments, args, keys, "queue", queue.name, self.name)

    def queue_or_die(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            raise errors.no_queue(name, self.name)
        return queue

    def check_exclusive(self, queue: Queue, connection) -> None:
        """rabbit_amqqueue:check_exclusive_access (lax): another connection's exclusive queue."""
        owner = queue.exclusive_owner
        if owner is not None and owner is not connection:
            raise errors.resource_locked(queue.name, self.name)

    def exclusive_queue_or_die(self, name: str, connection) -> Queue:
        queue = self.queue_or_die(name)
        self.check_exclusive(queue, connection)
        return queue

    def delete_queue_checked(self, connection, name: str, if_unused: bool, if_empty: bool) -> int:
        """queue.delete: the number of ready messages deleted with it."""
        queue = self.queues.get(strip_cr_lf(name))
        if queue is None:
            return 0
        self.check_exclusive(queue, connection)
        queue_types.check_delete(queue, if_unused, if_empty)
        if if_unused and queue.consumers:
            raise errors.in_use("queue", queue.name, self.name)
        if if_empty and queue.ready:
            raise errors.not_empty(queue.name, self.name)
        count = queue.message_count
        self.delete_queue(queue)
        return count

    def delete_queue(self, queue: Queue) -> None:
        """Remove a queue, its bindings and its consumers (whose channels are told)."""
        if queue.deleted:
            return
        queue.deleted = True
        self.churn["queue_deleted"] += 2 if queue.quorum else 1  # RabbitMQ 3.10 counts a quorum queue twice
        counters.fold_queue(queue, arguments.queue_type(queue.arguments))
        queue.stop_timers()
        self.queues.pop(queue.name, None)
        queue.drop_transient()
        self.store.queue_removed(self, queue)
        if queue.exclusive_owner is not None:
            queue.exclusive_owner.exclusive_queues.discard(queue)
        sources = []
        for binding in list(queue.bound_from.values()):
            sources.append(binding.source)
            self._drop_binding(binding, auto_delete=False)
        for source in sources:
            self._maybe_auto_delete(source)
        for consumer in list(queue.consumers.values()):
            consumer.channel.consumer_cancelled_by_broker(consumer)
        queue.consumers.clear()
        queue.uncredited = 0
        queue.ready.clear()
        flow.relieve(queue)

    # -- policies ---------------------------------------------------------------------------
    def policy_for(self, queue_name: str) -> dict | None:
        """The definition of the policy that applies to a queue of this name, if any."""
        if not self.policies:
            return None
        policy = select(self.policies.values(), queue_name)
        return policy.definition if policy is not None else None

    def set_policy(self, policy) -> None:
        """Define (or replace) a policy; it applies to existing queues at once."""
        self.policies[policy.name] = policy
        for queue in list(self.queues.values()):
            queue.apply_policy()

    def clear_policy(self, name: str) -> None:
        """Remove a policy; the queues it applied to take the next one (or none) at once."""
        if self.policies.pop(name, None) is not None:
            for queue in list(self.queues.values()):
                queue.apply_policy()

    # -- routing ----------------------------------------------------------------------------
    def route(self, exchange: Exchange, routing_keys: list[str], message,
              undelayed: bool = False) -> list[Queue]:
        """rabbit_exchange:route: the queues a message lands in, sorted by name. A delayed
        exchange may hold the message instead (`undelayed`: its delay is spent)."""
        if exchange is self.default_exchange:
            queues = self.queues
            if len(routing_keys) == 1:
                queue = queues.get(routing_keys[0])
                return [queue] if queue is not None else []
            found = {queues[k] for k in set(routing_keys) if k in queues}
            return sorted(found, key=lambda q: q.name)
        headers = message.headers() if exchange.needs_headers else None
        found: dict[int, Queue] = {}
        seen = {exchange.name}
        work = [exchange]
        while work:
            x = work.pop()
            if x.delays:
                dests = x.route_message(self, routing_keys, headers, message, undelayed)
            else:
                dests = x.route(routing_keys, headers)
            if not dests:
                alternate = x.alternate_exchange
                if alternate is not None:
                    dests = [_AlternateRef(alternate)]
            for dest in dests:
                if dest.kind == "queue":
                    found[id(dest)] = dest
                    continue
                if dest.name in seen:
                    continue
                seen.add(dest.name)
                target = self.exchanges.get(dest.name)
                if target is not None:
                    work.append(target)
                    if target.needs_headers and headers is None:
                        headers = message.headers()
        if len(found) <= 1:
            return list(found.values())
        return sorted(found.values(), key=lambda q: q.name)


class _AlternateRef:
    kind = "exchange"
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

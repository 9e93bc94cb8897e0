"""Whole-server state in memory: `snapshot(name)` / `restore(name)` / `flush()`, and fresh
isolated places for one test (`new_database`, `new_vhost`).

Redis: every database with its TTLs (absolute times) and the function libraries, as the RDB
encoding the server saves (persistence/snapshot.py's `encode`, kept in memory), restored the
way a load installs a file (`install`), after every database is emptied. Keys whose time has
passed by the restore are not restored, as a load drops them.

AMQP: per vhost, the exchanges, queues (with their arguments) and bindings, and each queue's
messages in order (properties and bodies, redelivered flags kept): the ready ones, the ones
paged out to disk (read back from the store, which keeps them), and the deliveries not yet
acknowledged, which come back as ready messages with redelivered set at their original
positions, as a real restart or the consumer's reconnect gives them (RabbitMQ requeues a
closed channel's unacked deliveries); and the messages the delayed-message exchange holds,
with their release times (clock ms). A restore drops the AMQP connections (a test restores
between tests, with its clients gone), deletes what the vhosts hold and declares the
snapshot's topology through the same vhost operations a client's declare uses (durable
objects go to the definitions log as usual), then enqueues the messages through the store and
the queue as a publish does (message TTLs count from the restore) and holds the delayed ones
again until their release times."""

from __future__ import annotations

import time

from yizhan.amqp.message import Message, PagedRun
from yizhan.amqp.priority import message_priority
from yizhan.amqp.queue import QueueEntry
from yizhan.amqp.vhost import PREDECLARED
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.snapshot import library_codes, snapshotter
from yizhan.redis.scripting.function_lua import registry

BUILTIN_EXCHANGES = frozenset(name for name, _type, _internal in PREDECLARED)


class SnapshotError(Exception):
    """The snapshot does not exist."""


class StateControl:
    def __init__(self, runtime):
        self.runtime = runtime
        self.snapshots: dict[str, tuple] = {}
        self.next_database = 1  # new_database hands these out, in order
        self.vhost_counter = 0

    # -- snapshot / restore --------------------------------------------------------------
    def snapshot(self, name: str = "default") -> dict:
        started = time.perf_counter()
        redis_state = snapshotter(self.runtime.redis).encode()
        amqp_state = self._amqp_state()
        self.snapshots[name] = (redis_state, amqp_state)
        return {"name": name, "keys": sum(len(db.data) for db in self.runtime.redis.dbs),
                "messages": sum(len(entries) for vhost in amqp_state[0] for *_, entries in vhost[2]),
                "delayed": len(amqp_state[1]),
                "ms": round((time.perf_counter() - started) * 1000, 3)}

    def restore(self, name: str = "default") -> dict:
        state = self.snapshots.get(name)
        if state is None:
            raise SnapshotError(f"no snapshot named {name!r}")
        started = time.perf_counter()
        redis_state, amqp_state = state
        self._flush_redis()
        redis = self.runtime.redis
        keys = snapshotter(redis).install(rdb.decode_file(redis_state, rdb.Limits.from_params(redis.params)),
                                          replace_functions=True)
        messages = self._restore_amqp(amqp_state)
        return {"name": name, "keys": keys, "messages": messages, "delayed": len(amqp_state[1]),
                "ms": round((time.perf_counter() - started) * 1000, 3)}

    def drop(self, name: str = "default") -> bool:
        return self.snapshots.pop(name, None) is not None

    def flush(self) -> dict:
        """Every Redis database emptied (functions too); every AMQP vhost emptied of its
        queues, exchanges and bindings (connections dropped); held delayed messages dropped."""
        keys = self._flush_redis()
        self._drop_amqp_connections()
        queues = 0
        for vhost in self.runtime.broker.vhosts.values():
            queues += self._empty_vhost(vhost)
        delayed = self.runtime.broker.delayed.drop_all()
        return {"keys": keys, "queues": queues, "delayed": delayed}

    # -- isolation -----------------------------------------------------------------------
    def new_database(self) -> int:
        """A Redis database no other test of this server got (emptied), 1 upwards, round
        the `databases` count (0 is left to the session's default)."""
        dbs = self.runtime.redis.dbs
        index = self.next_database
        self.next_database = index + 1 if index + 1 < len(dbs) else 1
        dbs[index].clear()
        return index

    def new_vhost(self, name: str | None = None) -> str:
        """A fresh AMQP vhost (guest may use it): `name`, or test-N."""
        broker = self.runtime.broker
        if name is None:
            self.vhost_counter += 1
            name = f"test-{self.vhost_counter}"
            while name in broker.vhosts:
                self.vhost_counter += 1
                name = f"test-{self.vhost_counter}"
        broker.add_vhost(name)
        guest = broker.users.get("guest")
        if guest is not None:
            guest.vhosts.add(name)
        return name

    # -- Redis ---------------------------------------------------------------------------
    def _flush_redis(self) -> int:
        redis = self.runtime.redis
        removed = sum(db.clear() for db in redis.dbs)
        if library_codes(redis):  # (no registry is made when no function was ever loaded)
            registry(redis).clear()
        return removed

    # -- AMQP ----------------------------------------------------------------------------
    def _amqp_state(self) -> tuple:
        broker = self.runtime.broker
        unacked: dict = {}  # queue -> its entries held by channels, awaiting an ack
        for conn in broker.connections:
            for chan in conn.channels.values():
                for item in chan.unacked.values():
                    unacked.setdefault(item[1], []).append(item[2])
        vhosts = [self._vhost_state(vhost, unacked) for vhost in broker.vhosts.values()]
        delayed = [(at, vhost, exchange, _held_copy(message))
                   for at, vhost, exchange, message in broker.delayed.held()]
        return vhosts, delayed

    def _vhost_state(self, vhost, unacked: dict) -> tuple:
        exchanges = [(x.name, x.type_name, x.durable, x.auto_delete, x.internal, x.arguments)
                     for x in vhost.exchanges.values() if x.name not in BUILTIN_EXCHANGES]
        queues = []
        for queue in vhost.queues.values():
            if queue.exclusive_owner is not None:
                continue  # its connection's: gone when the connection goes
            entries = [(message.exchange, message.routing_key, message.raw_properties, message.body, redelivered)
                       for message, redelivered in queue_messages(self.runtime.broker.store, queue,
                                                                  unacked.get(queue, ()))]
            queues.append((queue.name, queue.durable, queue.auto_delete, queue.arguments, entries))
        bindings = [(x.name, b.destination.kind, b.destination.name, b.key, b.args)
                    for x in vhost.exchanges.values() if x.name != "" for b in x.bindings.values()]
        return vhost.name, exchanges, queues, bindings

    def _drop_amqp_connections(self) -> None:
        for conn in list(self.runtime.broker.connections):
            if conn.closer is not None:
                conn.closer()
            conn.release()

    @staticmethod
    def _empty_vhost(vhost) -> int:
        queues = list(vhost.queues.values())
        for queue in queues:
            vhost.delete_queue(queue)
        for exchange in list(vhost.exchanges.values()):
            if exchange.name not in BUILTIN_EXCHANGES and not exchange.deleted:
                vhost._remove_exchange(exchange)
        return len(queues)

    def _restore_amqp(self, amqp_state: tuple) -> int:
        broker = self.runtime.broker
        vhost_states, delayed = amqp_state
        self._drop_amqp_connections()
        for vhost in broker.vhosts.values():
            self._empty_vhost(vhost)
        broker.delayed.drop_all()
        messages = 0
        for name, exchanges, queues, bindings in vhost_states:
            vhost = broker.vhosts.get(name) or broker.add_vhost(name)
            for xname, type_name, durable, auto_delete, internal, args in exchanges:
                vhost.declare_exchange(xname, type_name, False, durable, auto_delete, internal, args)
            for qname, durable, auto_delete, args, entries in queues:
                queue = vhost.declare_queue(None, qname, False, durable, False, auto_delete, args)
                for exchange, routing_key, props, body, redelivered in entries:
                    message = Message(exchange, routing_key, props, body)
                    message.read_expiration()
                    broker.store.publish(message, [queue])
                    queue.publish(message)
                    if redelivered:
                        _mark_last_redelivered(queue, message)
                    messages += 1
            for source, dest_kind, dest, key, args in bindings:
                vhost.bind(source, dest_kind, dest, key, args, None)
        for at, vhost_name, exchange, message in delayed:
            broker.delayed.hold_until(at, vhost_name, exchange, _held_copy(message))
        broker.run_deferred()
        return messages


def queue_messages(store, queue, unacked=()) -> list:
    """Every message of `queue` as (message, redelivered), in queue order: the ready ones, the
    paged ones read from the store without taking them (the queue still holds them there),
    and `unacked` entries (deliveries awaiting an ack) back at their positions by arrival
    sequence (a quorum queue returns them to the front, as rabbit_fifo does a closed channel's)."""
    held = [(entry.seq, entry.message, entry.redelivered) for entry in queue.ready]
    held += [(entry.seq, entry.message, entry.redelivered)
             for entry in queue.paged if isinstance(entry, QueueEntry)]
    for run in queue.paged_runs():
        redelivered = run.redelivered or ()
        held += [(run.first_seq + i, Message(m.exchange, m.routing_key, m.props, m.body), run.ids[i] in redelivered)
                 for i, m in enumerate(store.messages.read(run.ids))]
    held.sort(key=lambda item: item[0])
    returned = sorted(((entry.seq, entry.message, True) for entry in unacked), key=lambda item: item[0])
    held = returned + held if queue.quorum else sorted(held + returned, key=lambda item: item[0])
    return [(message, redelivered) for _seq, message, redelivered in held]


def _held_copy(message) -> Message:
    """A delayed message's own copy (the exchange routes and stores the one it holds)."""
    held = Message(message.exchange, message.routing_key, message.raw_properties, message.body,
                   None, message.routing_keys)
    held.expiration = message.expiration
    return held


def _mark_last_redelivered(queue, message) -> None:
    """The message just enqueued is marked redelivered where it landed: the ready list's
    tail, or the last paged run (a priority queue: its band's tail or the band's paged tail)."""
    if queue.priorities:
        band = queue.ready.bands.get(message_priority(message, queue.ready.maximum))
        tail = queue.ready.tails.get(message_priority(message, queue.ready.maximum))
        last = tail[-1] if tail else (band[-1] if band else None)
    else:
        last = queue.paged[-1] if queue.paged else (queue.ready[-1] if queue.ready else None)
    if isinstance(last, QueueEntry):
        if last.message is message:
            last.redelivered = True
    elif isinstance(last, PagedRun):
        if last.redelivered is None:
            last.redelivered = set()
        last.redelivered.add(last.ids[-1])

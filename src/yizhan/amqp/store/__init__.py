"""The AMQP storage interface: what the broker tells the disk, and what it reads back at boot.

`NullStore` is the in-memory broker's store (nothing is written; a confirm waits for nothing).
`DiskStore` keeps, under `<data-dir>/amqp/`, the definitions log (durable exchanges, queues and
bindings; store/definitions.py), the message store (persistent messages of durable queues;
store/messages.py), written only through this interface: the vhost reports topology changes,
queues report messages leaving, channels report publishes and wait for `after_sync`. It also
opens the log of messages held by delayed exchanges (store/delayed.py), which `recover` hands to
the broker's DelayedMessages (amqp/delayed.py) to write.

Syncing is batched per event-loop turn: `after_sync(callback)` asks for one flush + fsync at
the end of the turn (through `scheduler`, the loop's call_soon), and every callback registered
in the turn runs after that single fsync.

Paging: every queue keeps at most `page_limit` messages in memory; beyond that a durable
queue's stored messages are kept as ids only (`PagedRun`) and read back with `read_messages`
when its ready list runs dry; any other message is written as a transient `T` record
(`page_transient`, read back once with `read_transient`, forgotten at boot). The bound comes from the environment variable YIZHAN_AMQP_PAGE_MESSAGES
(default 4096).
"""

from __future__ import annotations

import logging
import os

from yizhan.amqp import codec
from yizhan.amqp.message import Message
from yizhan.amqp.store.definitions import DefinitionsLog
from yizhan.amqp.store.delayed import DelayedLog
from yizhan.amqp.store.errors import StoreError
from yizhan.amqp.store.messages import MessageStore
from yizhan.clock import Clock

__all__ = ["NullStore", "DiskStore", "StoreError", "is_persistent"]
log = logging.getLogger("yizhan")

FLAG_DELIVERY_MODE = 1 << 12
PAGE_MESSAGES = 4096


def is_persistent(message) -> bool:
    raw = message.raw_properties
    if not codec.property_flags(raw) & FLAG_DELIVERY_MODE:
        return False
    return message.properties().delivery_mode == 2


def queue_key(queue) -> str:
    return f"{queue.vhost.name}\x00{queue.name}"


def _args(table) -> str:
    return codec.encode_table(table).hex() if table else ""


class NullStore:
    """Nothing is kept: every hook does nothing and a sync happens at once."""

    durable = False
    page_limit = None  # no paging: nothing could be read back
    memory_pressure = False  # alarms.py: non-durable queues page too while it is set

    def drop_transient(self, runs) -> None: ...

    def account_changed(self, record: dict) -> None: ...
    def exchange_added(self, vhost, exchange) -> None: ...
    def exchange_removed(self, vhost, exchange) -> None: ...
    def queue_added(self, vhost, queue) -> None: ...
    def queue_removed(self, vhost, queue) -> None: ...
    def binding_added(self, vhost, binding) -> None: ...
    def binding_removed(self, vhost, binding) -> None: ...

    def publish(self, message, queues) -> bool:
        return False

    def delivered(self, queue, entry) -> None: ...
    def removed(self, queue, entries) -> None: ...
    def removed_paged(self, queue, runs) -> None: ...

    def after_sync(self, callback) -> None:
        callback()

    def sync_now(self) -> None: ...
    def recover(self, broker) -> None: ...
    def close(self) -> None: ...


class DiskStore(NullStore):
    durable = True

    def __init__(self, data_dir: str, scheduler=None, recover_damaged: bool = False):
        self.dir = os.path.join(data_dir, "amqp")
        os.makedirs(self.dir, exist_ok=True)
        # recover_damaged: damaged files are copied aside and loaded without their damaged
        # records instead of refusing the start (store/damage.py)
        quarantine = os.path.join(self.dir, "quarantine")
        self.definitions = DefinitionsLog(os.path.join(self.dir, "definitions.log"), recover_damaged, quarantine)
        self.messages = MessageStore(os.path.join(self.dir, "messages"), recover_damaged=recover_damaged,
                                     quarantine=quarantine)
        self.delayed = DelayedLog(os.path.join(self.dir, "delayed.log"))
        self.scheduler = scheduler  # loop.call_soon; None: flush at once (tests, no loop)
        self.page_limit = int(os.environ.get("YIZHAN_AMQP_PAGE_MESSAGES", PAGE_MESSAGES))
        self.clock = Clock()  # the broker's (its Timers' clock): stamps each message's arrival
        self.waiting: list = []
        self.flush_scheduled = False
        self.sync_needed = False
        self.loading = False

    # -- definitions --------------------------------------------------------------------------
    def _log(self, record: dict) -> None:
        if not self.loading:
            self.definitions.append(record)

    def account_changed(self, record: dict) -> None:
        """A vhost, user, permission or policy record (amqp/accounts.py)."""
        self._log(record)

    def exchange_added(self, vhost, x) -> None:
        if x.durable:
            self._log({"op": "x+", "vhost": vhost.name, "name": x.name, "type": x.type_name,
                       "auto_delete": x.auto_delete, "internal": x.internal,
                       "args": _args(x.arguments)})

    def exchange_removed(self, vhost, x) -> None:
        if x.durable:
            self._log({"op": "x-", "vhost": vhost.name, "name": x.name})

    def queue_added(self, vhost, queue) -> None:
        if queue.durable:
            self._log({"op": "q+", "vhost": vhost.name, "name": queue.name,
                       "auto_delete": queue.auto_delete, "args": _args(queue.arguments)})

    def queue_removed(self, vhost, queue) -> None:
        if queue.durable:
            self._log({"op": "q-", "vhost": vhost.name, "name": queue.name})
            self.messages.queue_deleted(queue_key(queue), queue.stored_ids())
            queue.paged.clear()
            queue.paged_count = 0
            self._schedule()

    def _binding(self, op: str, vhost, b) -> None:
        if b.source.durable and b.destination.durable:
            self._log({"op": op, "vhost": vhost.name, "source": b.source.name,
                       "kind": b.destination.kind, "dest": b.destination.name, "key": b.key,
                       "args": _args(b.args)})

    def binding_added(self, vhost, binding) -> None:
        self._binding("b+", vhost, binding)

    def binding_removed(self, vhost, binding) -> None:
        self._binding("b-", vhost, binding)

    # -- messages -----------------------------------------------------------------------------
    def publish(self, message, queues) -> bool:
        """Log a message routed to `queues` if it is persistent and any of them is durable;
        True when it was logged (its confirm must wait for `after_sync`)."""
        if not is_persistent(message):
            return False
        durable = [queue_key(q) for q in queues if q.durable]
        if not durable:
            return False
        message.store_id = self.messages.publish(durable, message.exchange, message.routing_key,
                                                 message.raw_properties, message.body,
                                                 self.clock.ms())
        self._schedule()
        return True

    def delivered(self, queue, entry) -> None:
        msg_id = entry.message.store_id
        if msg_id is not None and queue.durable:
            self.messages.delivered(msg_id, queue_key(queue))
            self._schedule()

    def removed(self, queue, entries) -> None:
        if not queue.durable:
            return
        key = None
        for entry in entries:
            msg_id = entry.message.store_id
            if msg_id is not None:
                key = key or queue_key(queue)
                self.messages.remove(msg_id, key)
        if key is not None:
            self._schedule()

    def removed_paged(self, queue, runs) -> None:
        """Paged-out messages left a durable queue at once (purge): one R record."""
        chunks = [run.ids for run in runs]
        if chunks:
            self.messages.remove_many(queue_key(queue), chunks)
            self._schedule()

    def page_transient(self, message) -> int:
        """A transient message (or one this queue does not hold durably) paged out of a queue:
        a `T` record that the queue reads back once, and that a restart forgets."""
        msg_id = self.messages.page_transient(message.exchange, message.routing_key,
                                              message.raw_properties, message.body)
        self._schedule()
        return msg_id

    def read_transient(self, ids) -> list[Message]:
        """Transient paged messages read back (and released: the queue holds them again)."""
        out = [Message(m.exchange, m.routing_key, m.props, m.body)
               for m in self.messages.read(ids)]
        self.messages.release_transient(ids)
        return out

    def drop_transient(self, runs) -> None:
        """Transient paged messages purged or deleted with their queue."""
        for run in runs:
            self.messages.release_transient(run.ids)

    def read_messages(self, ids, arrivals: list | None = None) -> list[Message]:
        """Paged-out messages read back for a queue (its next batch); `arrivals` gets each
        one's arrival time (clock ms, or None for records that did not keep it)."""
        out = []
        for stored in self.messages.read(ids):
            if arrivals is not None:
                arrivals.append(stored.arrived)
            message = Message(stored.exchange, stored.routing_key, stored.props, stored.body)
            message.store_id = stored.msg_id
            message.read_expiration()
            out.append(message)
        return out

    # -- syncing ------------------------------------------------------------------------------
    def after_sync(self, callback) -> None:
        self.waiting.append(callback)
        self.sync_needed = True
        self._schedule()

    def _schedule(self) -> None:
        if self.scheduler is None:
            self.flush()
        elif not self.flush_scheduled:
            self.flush_scheduled = True
            self.scheduler(self.flush)

    def sync_now(self) -> None:
        """Flush and fsync before the current reply (tx.commit-ok)."""
        self.sync_needed = True
        self.flush()

    def flush(self) -> None:
        """One write (and, if anyone waits, one fsync) for everything of this loop turn."""
        self.flush_scheduled = False
        sync, self.sync_needed = self.sync_needed, False
        self.messages.flush(sync)
        waiting, self.waiting = self.waiting, []
        for callback in waiting:
            callback()

    # -- boot and shutdown -------------------------------------------------------------------
    def recover(self, broker) -> None:
        from yizhan.amqp.store.recovery import recover

        self.loading = True
        try:
            recover(self, broker)
        finally:
            self.loading = False
        broker.delayed.restore(self.delayed.load())  # x-delayed-message exchanges' messages
        broker.delayed.log = self.delayed

    def close(self) -> None:
        self.flush()
        m = self.messages
        log.info("AMQP store: %d persistent messages written with %d fsyncs", m.published, m.fsyncs)
        m.close()
        self.definitions.close()
        self.delayed.close()

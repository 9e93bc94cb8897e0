"""A queue: its ready messages in order, its consumers, and the dispatch between them.

The queue owns messages until they are delivered; a delivered message awaiting its ack is held
by the channel that received it and comes back through `requeue`, at its original position
(ordered by the sequence number it got on arrival) and marked redelivered.

Dispatch follows rabbit_queue_consumers: consumers are served round-robin within priority
bands; a consumer that cannot take a message (its prefetch credit is spent, its channel is over
its global prefetch limit, or its connection is not reading) is parked with its channel and
rejoins the end of the line when that channel is unblocked.

Single active consumer (`x-single-active-consumer`): only the active consumer is in the line;
the others wait in `waiting` (in registration order) and the next one takes over when it goes:
on classic queues the highest-priority waiting consumer (the head of rabbit_queue_consumers'
priority queue), on quorum queues the first registered (rabbit_fifo's waiting list).

Paging: a durable queue, and under memory pressure any queue, holds at most `page_limit`
ready messages in memory; later ones wait in
`paged` as `PagedRun`s of store ids, in order: a durable queue's stored messages by their ids,
any other message (transient, or a non-durable queue's) as a transient `T` copy in the store
that is read back once and forgotten at a restart. A special queue's run also keeps each
message's body size and expiry, so length limits and expiry from the head need no bodies. They
come back a batch at a time when the ready list runs dry. Ready seqs stay below paged ones, so
a requeued message still goes back into the ready list. A priority queue pages per priority
(priority.py: each band has its own paged tail).
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections import deque

from yizhan.amqp import flow
from yizhan.amqp.arguments import queue_type
from yizhan.amqp.codec import BOOL, FieldTable
from yizhan.amqp.message import NO_EXPIRY, PagedRun
from yizhan.amqp.priority import PriorityReady
from yizhan.amqp.queue_features import FeatureQueue
from yizhan.amqp.queue_settings import QueueSettings

PAGE_BATCH = 1024  # stored messages per PagedRun, and per read when paging in


class QueueEntry:
    """A message in this queue: its arrival sequence number, whether it was delivered before,
    and when it expires (clock ms; None: never)."""

    __slots__ = ("message", "seq", "redelivered", "expires", "delivery_count")

    def __init__(self, message, seq: int, redelivered: bool = False):
        self.message = message
        self.seq = seq
        self.redelivered = redelivered
        self.expires = None
        self.delivery_count = 0  # quorum queues: times it came back (x-delivery-count)


class Consumer:
    """One basic.consume: `credit` is the remaining per-consumer prefetch (None: unlimited)."""

    __slots__ = ("tag", "tag_s", "channel", "queue", "no_ack", "exclusive", "args", "priority",
                 "credit", "prefetch", "counts")

    def __init__(self, tag: str, tag_s: bytes, channel, queue, no_ack: bool, exclusive: bool,
                 args: FieldTable | None, priority: int, prefetch: int):
        self.tag = tag
        self.tag_s = tag_s
        self.channel = channel
        self.queue = queue
        self.no_ack = no_ack
        self.exclusive = exclusive
        self.args = args
        self.priority = priority
        self.prefetch = prefetch
        self.credit = prefetch if prefetch and not no_ack else None
        self.counts = None  # the channel's counters for the queue (set at the first delivery)

    def __repr__(self) -> str:
        return f"Consumer({self.tag!r} on {self.queue.name!r})"


class ConsumerRing:
    """rabbit's priority_queue of consumers: highest priority first, FIFO within a priority."""

    __slots__ = ("bands", "priorities", "size")

    def __init__(self):
        self.bands: dict[int, deque] = {}
        self.priorities: list[int] = []  # descending
        self.size = 0

    def push(self, consumer: Consumer) -> None:
        band = self.bands.get(consumer.priority)
        if band is None:
            band = self.bands[consumer.priority] = deque()
            self.priorities.append(consumer.priority)
            self.priorities.sort(reverse=True)
        band.append(consumer)
        self.size += 1

    def pop(self) -> Consumer | None:
        for priority in self.priorities:
            band = self.bands[priority]
            if band:
                self.size -= 1
                return band.popleft()
        return None

    def remove(self, consumer: Consumer) -> bool:
        band = self.bands.get(consumer.priority)
        if band is None or consumer not in band:
            return False
        band.remove(consumer)
        self.size -= 1
        return True

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        for priority in self.priorities:
            yield from self.bands[priority]


class Queue(FeatureQueue):
    kind = "queue"

    def __init__(self, vhost, name: str, durable: bool = False, exclusive_owner=None,
                 auto_delete: bool = False, arguments: FieldTable | None = None):
        self.vhost = vhost
        self.name = name
        self.durable = durable
        # message counters the management API samples (management/rates.py)
        self.n_publish = self.n_deliver = self.n_deliver_no_ack = self.n_get = 0
        self.n_get_no_ack = self.n_get_empty = self.n_redeliver = self.n_ack = 0
        self.exclusive_owner = exclusive_owner
        self.auto_delete = auto_delete
        self.arguments = arguments if arguments is not None else FieldTable()
        self.ready: deque[QueueEntry] = deque()
        self.next_seq = 0
        self.paged: deque = deque()   # beyond the ready list: PagedRun or QueueEntry, in order
        self.paged_count = 0
        store = getattr(vhost, "store", None)
        limit = store.page_limit if store is not None else None
        self.flow_limit = limit if limit is not None else flow.FLOW_MESSAGES
        if not durable and not (store is not None and store.memory_pressure):
            limit = None              # non-durable queues page under memory pressure only
        self.page_limit = limit if limit is not None else sys.maxsize
        self.throttled: set = set()   # publishing connections held by this queue (flow.py)
        self.refilling = False
        self.ring = ConsumerRing()
        self.blocked: dict = {}       # channel -> [Consumer] parked, in blocking order
        self.suspended: set = set()   # channels whose global prefetch refused this queue
        self.consumers: dict = {}     # (channel, tag) -> Consumer
        self.uncredited = 0           # consumers without a prefetch credit (flow.socket_paced)
        self.exclusive_consumer: Consumer | None = None
        self.type_name = queue_type(self.arguments)
        self.quorum = self.type_name == "quorum"
        self.single_active = self.arguments.lookup("x-single-active-consumer") == (BOOL, True)
        self.active_consumer: Consumer | None = None   # single active consumer only
        self.waiting: list[Consumer] = []              # single active consumer: the others
        self.cancelled_holding: set = set()  # quorum: cancelled holding messages (still counted)
        self.unacked = 0
        self.bound_from: dict = {}    # binding ident -> Binding into this queue
        self.deleted = False
        self.timers = vhost.timers
        self.ready_bytes = 0          # body bytes of ready and paged messages (special queues)
        self.ttl_timer = None         # (expiry ms, handle) of the head's expiry
        self.return_seq = -(1 << 62)  # quorum returns: seqs below every arrival, in order
        self.expiry_timer = None      # the unused-queue expiry
        self.priorities = False
        self.settings = None
        self.special = False          # TTL, limits, DLX, priorities: queue_features.py paths
        self.apply_policy()

    def apply_policy(self) -> None:
        """The queue's arguments and the policy that matches it (vhost.py) decide its settings."""
        policy = self.vhost.policy_for(self.name)
        self.policy = policy
        self.apply_settings(QueueSettings.of(self.arguments, policy))

    def apply_settings(self, settings) -> None:
        """New effective settings (at declare, or a policy changed)."""
        self.settings = settings
        self.special = self.special or settings is not None
        if settings is not None and settings.max_priority is not None and not self.priorities:
            self.priorities = True
            ready, self.ready = self.ready, PriorityReady(settings.max_priority, self)
            for entry in ready:
                self.ready.append(entry)
        if self.special:
            self.ready_bytes = (
                sum(len(e.message.body) for e in self.ready)
                + sum(len(e.message.body) for e in self.paged if type(e) is QueueEntry)
                + sum(sum(run.sizes) for run in self.paged_runs() if run.sizes is not None))
            self.touch()
            self._drop_head()
            self.drop_expired()

    # -- counts ---------------------------------------------------------------------------
    @property
    def message_count(self) -> int:
        """Ready messages (paged ones included), after expired ones left the head."""
        if self.special:
            self.drop_expired()
        return len(self.ready) + self.paged_count

    def message_count_raw(self) -> int:
        return len(self.ready) + self.paged_count

    @property
    def consumer_count(self) -> int:
        """Classic queues count waiting consumers too; quorum queues (rabbit_fifo's query_stat)
        count those in their consumers map: not the waiting ones, but those cancelled while
        holding messages, until their channel goes."""
        if self.quorum:
            return len(self.consumers) - len(self.waiting) + len(self.cancelled_holding)
        return len(self.consumers)

    # -- messages in --------------------------------------------------------------------------
    def new_entry(self, message) -> QueueEntry:
        entry = QueueEntry(message, self.next_seq)
        self.next_seq += 1
        return entry

    def enqueue(self, entry: QueueEntry) -> None:
        """A new entry at the tail (paged out beyond the memory bound)."""
        if self.priorities:
            self.ready.append(entry)  # paged per priority band beyond the bound
        elif self.paged or len(self.ready) >= self.page_limit:
            self._page_out_entry(entry)
        else:
            self.ready.append(entry)

    def publish(self, message) -> bool:
        """A routed message arrives; False if the queue refused it (reject-publish)."""
        if self.special or message.expiration is not None:
            self.special = True
            accepted = self.publish_special(message)
            if len(self.ready) + self.paged_count + self.unacked > self.flow_limit:
                flow.over_budget(self, message.publisher)
            return accepted
        ready = self.ready
        if self.paged or len(ready) >= self.page_limit:
            self._page_out(message)
        else:
            ready.append(QueueEntry(message, self.next_seq))
        self.next_seq += 1
        if self.ring.size:
            self.dispatch()
        if len(ready) + self.paged_count + self.unacked > self.flow_limit and self.consumers:
            flow.over_budget(self, message.publisher)  # (without consumers it holds no one)
        return True

    def requeue(self, entries, dispatch: bool = True, returned: bool = False) -> None:
        """Put delivered entries back at their original positions, marked redelivered.

        Quorum queues (rabbit_fifo 3.10) count each return as a delivery; a requeue (nack or
        reject) goes to the back when no delivery limit is set, while the deliveries of a
        closed channel (`returned`), and every requeue under a delivery limit, go to the front,
        ahead of the other messages, in the order they came back."""
        if self.deleted:
            if self.durable:  # the store released its ready and paged ones at delete
                self.vhost.store.removed(self, entries)
            return
        if self.quorum:
            entries = self.count_returns(entries)
            settings = self.settings
            if returned or (settings is not None and settings.delivery_limit is not None):
                self._return_to_front(entries)
            else:
                self._return_to_back(entries)
            if self.special:
                self.after_requeue()
            if dispatch:
                self.dispatch()
            return
        if self.special:
            self.requeue_special(entries, dispatch)
            return
        ready = self.ready
        for entry in sorted(entries, key=lambda e: e.seq, reverse=True):
            entry.redelivered = True
            self.unacked -= 1
            if not ready or entry.seq < ready[0].seq:
                ready.appendleft(entry)
            elif entry.seq > ready[-1].seq:
                ready.append(entry)
            else:
                ready.insert(bisect_left(_SeqView(ready), entry.seq), entry)
        if dispatch:
            self.dispatch()

    def _return_to_front(self, entries) -> None:
        """rabbit_fifo's returns queue: served before the other messages, first come first."""
        for entry in sorted(entries, key=lambda e: e.seq):
            entry.redelivered = True
            self.unacked -= 1
            entry.seq = self.return_seq
            self.return_seq += 1
            self.reinsert(entry)

    def _return_to_back(self, entries) -> None:
        """Quorum queues (rabbit_fifo in 3.10): a requeued message goes to the back of the queue,
        redelivered, as if published again."""
        for entry in sorted(entries, key=lambda e: e.seq):
            entry.redelivered = True
            self.unacked -= 1
            entry.seq = self.next_seq
            self.next_seq += 1
            if self.paged:
                self.paged.append(entry)
                self.paged_count += 1
            else:
                self.ready.append(entry)

    def settle(self, entries) -> None:
        """Delivered entries acknowledged (or rejected without requeue)."""
        self.unacked -= len(entries)
        if self.durable:
            self.vhost.store.removed(self, entries)
        if self.throttled:
            flow.maybe_relieve(self)

    def delivered(self, entry, no_ack: bool) -> None:
        """An entry left the ready list for a client: the store hears of it (durable only)."""
        if self.durable and entry.message.store_id is not None:
            store = self.vhost.store
            if no_ack:
                store.removed(self, (entry,))
            elif not entry.redelivered:
                store.delivered(self, entry)

    def reinsert(self, entry: QueueEntry) -> None:
        """A requeued entry back at its original position (by seq)."""
        ready = self.ready
        if self.priorities:
            ready.reinsert(entry)
        elif not ready or entry.seq < ready[0].seq:
            ready.appendleft(entry)
        elif entry.seq > ready[-1].seq:
            ready.append(entry)
        else:
            ready.insert(bisect_left(_SeqView(ready), entry.seq), entry)

    def get(self) -> QueueEntry | None:
        """basic.get: the head message regardless of consumers and prefetch."""
        if self.special:
            return self.get_special()
        if not self.ready:
            return None
        entry = self.ready.popleft()
        if self.paged and not self.ready:
            self._page_in()
        if self.throttled:
            flow.maybe_relieve(self)
        return entry

    def purge(self) -> int:
        count = self.message_count
        self.drop_transient()
        if self.durable:
            self.vhost.store.removed(self, self.ready)  # the entries in memory
            self.vhost.store.removed_paged(self, list(self.paged_runs()))
        self.ready.clear()
        self.paged.clear()
        self.paged_count = 0
        self.ready_bytes = 0
        if self.throttled:
            flow.maybe_relieve(self)
        return count

    # -- paging -------------------------------------------------------------------------------
    def _page_out_entry(self, entry: QueueEntry) -> None:
        """A special queue's entry beyond the memory bound: its id, size and expiry only."""
        self.paged_count += 1
        self.page_into(self.paged, entry.message, entry.seq, entry.expires, entry.redelivered)

    def _page_out(self, message) -> None:
        """Keep a message beyond the memory bound: its store id only, if it is stored."""
        self.paged_count += 1
        self.page_into(self.paged, message, self.next_seq)

    def page_into(self, paged: deque, message, seq: int, expires=None,
                  redelivered: bool = False) -> None:
        """Append a message to `paged` (this queue's, or a priority band's tail) as a store id
        in a `PagedRun`: a message the queue holds durably by its id, any other as a transient
        `T` copy. Special queues keep each body size and expiry beside it."""
        transient = message.store_id is None or not self.durable
        msg_id = (self.vhost.store.page_transient(message) if transient
                  else message.store_id)
        timed = self.special
        run = paged[-1] if paged else None
        if (type(run) is not PagedRun or run.transient is not transient
                or len(run.ids) >= PAGE_BATCH or (run.expires is not None) is not timed):
            run = (PagedRun(seq, array("Q"), None, transient, array("I"), array("q")) if timed
                   else PagedRun(seq, array("Q"), None, transient))
            paged.append(run)
        run.ids.append(msg_id)
        if timed:
            run.sizes.append(len(message.body))
            run.expires.append(NO_EXPIRY if expires is None else expires)
        if redelivered:
            if run.redelivered is None:
                run.redelivered = set()
            run.redelivered.add(msg_id)

    def paged_runs(self):
        """Every `PagedRun` of the queue (a priority queue's band tails too)."""
        for item in self.paged:
            if type(item) is PagedRun:
                yield item
        if self.priorities:
            yield from self.ready.runs()

    def memory_pressure(self, on: bool) -> None:
        """A non-durable queue pages beyond the store's page limit while memory is short
        (alarms.py: RabbitMQ's vm_memory_high_watermark_paging_ratio)."""
        if not self.durable and self.vhost.store.page_limit:
            self.page_limit = self.vhost.store.page_limit if on else sys.maxsize

    def drop_transient(self) -> None:
        """Release the transient paged runs (purge, delete): the store forgets them."""
        runs = [item for item in self.paged if type(item) is PagedRun and item.transient]
        if runs:
            self.paged = deque(item for item in self.paged
                               if not (type(item) is PagedRun and item.transient))
            self.paged_count -= sum(len(run.ids) for run in runs)
        if self.priorities:
            runs += self.ready.drop_transient_runs()
        if runs:
            self.vhost.store.drop_transient(runs)

    def read_run(self, run: PagedRun) -> list:
        """A paged run's messages read back as entries (seqs, redelivered flags, expiries)."""
        store = self.vhost.store
        expires = run.expires
        arrivals = None
        if run.transient:
            messages = store.read_transient(run.ids)
        else:
            arrivals = [] if expires is None else None
            messages = store.read_messages(run.ids, arrivals)
        redelivered = run.redelivered or ()
        ids = run.ids
        seq = run.first_seq
        out = []
        for i, message in enumerate(messages):
            entry = QueueEntry(message, seq + i, ids[i] in redelivered)
            if expires is not None:
                if expires[i] != NO_EXPIRY:
                    entry.expires = expires[i]
            elif self.special or message.expiration is not None:
                self.restored_expiry(entry, arrivals[i] if arrivals else None)
            out.append(entry)
        return out

    def _page_in(self) -> None:
        """Move the next batch of paged messages into the ready list (reading stored ones)."""
        paged, ready = self.paged, self.ready
        budget = PAGE_BATCH
        while paged and budget > 0:
            item = paged.popleft()
            if type(item) is QueueEntry:
                ready.append(item)
                budget -= 1
                self.paged_count -= 1
                continue
            ready.extend(self.read_run(item))
            budget -= len(item.ids)
            self.paged_count -= len(item.ids)

    def _refill(self) -> None:
        """The ready list ran dry with messages paged out: read a batch and keep dispatching
        (iteratively: the dispatch inside does not recurse back here)."""
        if self.refilling:
            return
        self.refilling = True
        try:
            while self.paged and not self.ready:
                self._page_in()
                if self.ring.size:
                    self.dispatch()
        finally:
            self.refilling = False

    def restore(self, ids, delivered: set) -> None:
        """Boot: the queue's stored messages (ids in order) come back paged out; the first
        batch is read in. Those in `delivered` come back redelivered. A priority or
        length-limited queue reads them through once (bands, sizes and expiries), keeping
        those beyond its memory bound paged."""
        settings = self.settings
        if self.priorities or (settings is not None and settings.limited):
            self.restore_through(ids, delivered)
            return
        for start in range(0, len(ids), PAGE_BATCH):
            chunk = ids[start:start + PAGE_BATCH]
            again = {m for m in chunk if m in delivered} if delivered else None
            self.paged.append(PagedRun(self.next_seq, chunk, again or None))
            self.next_seq += len(chunk)
            self.paged_count += len(chunk)
        if self.paged and not self.ready:
            self._page_in()
        if self.special:
            self.restored()

    def stored_ids(self):
        """Store ids of the ready and paged messages (not of those held unacked by channels)."""
        for entry in self.ready:  # the entries in memory
            if entry.message.store_id is not None:
                yield entry.message.store_id
        for item in self.paged:
            if type(item) is QueueEntry and item.message.store_id is not None:
                yield item.message.store_id
        for run in self.paged_runs():
            if not run.transient:
                yield from run.ids

    # -- consumers ----------------------------------------------------------------------------
    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers[(consumer.channel, consumer.tag)] = consumer
        if consumer.credit is None:
            self.uncredited += 1
        if consumer.exclusive:
            self.exclusive_consumer = consumer
        if self.single_active:
            if self.active_consumer is not None:
                self.waiting.append(consumer)
                return
            self.active_consumer = consumer
        self.ring.push(consumer)
        self.dispatch()

    def remove_consumer(self, consumer: Consumer, channel_down: bool = False) -> None:
        """Forget a consumer (cancelled, or its channel closed); may auto-delete the queue.

        After a basic.cancel a new single active consumer is served at once on a quorum queue
        (rabbit_fifo checks out to it), while a classic queue does not run (its handle_call
        does not). When the channel went away, both run only after its unacked messages are
        back (requeue_and_run; rabbit_fifo's return_all): the channel calls `dispatch`."""
        if self.consumers.pop((consumer.channel, consumer.tag), None) is None:
            return
        if consumer.credit is None:
            self.uncredited -= 1
        if self.exclusive_consumer is consumer:
            self.exclusive_consumer = None
        if not self.ring.remove(consumer):
            parked = self.blocked.get(consumer.channel)
            if parked and consumer in parked:
                parked.remove(consumer)
        if self.single_active:
            self._replace_active(consumer, run=self.quorum and not channel_down)
        if self.throttled:
            flow.maybe_relieve(self)
        if self.auto_delete and not self.consumers and not self.deleted:
            self.vhost.delete_queue(self)
        elif not self.consumers:
            self.touch()

    def _replace_active(self, consumer: Consumer, run: bool) -> None:
        """Single active consumer: a waiting consumer leaves the line of waiting ones; when the
        active one goes, the next waiting one becomes active."""
        if consumer is not self.active_consumer:
            if consumer in self.waiting:
                self.waiting.remove(consumer)
            return
        self.active_consumer = None
        # a closing channel's consumers all go at once (erase_ch, rabbit_fifo's down)
        waiting = [c for c in self.waiting if not c.channel.released]
        if not waiting:
            return
        successor = waiting[0]
        if not self.quorum:  # the first of the highest priority
            top = max(c.priority for c in waiting)
            successor = next(c for c in waiting if c.priority == top)
        self.waiting.remove(successor)
        self.active_consumer = successor
        self.ring.push(successor)
        if run:
            self.dispatch()

    def forget_channel(self, channel) -> None:
        self.blocked.pop(channel, None)
        self.suspended.discard(channel)
        if self.cancelled_holding:
            self.cancelled_holding = {c for c in self.cancelled_holding if c.channel is not channel}

    # -- dispatch -----------------------------------------------------------------------------
    def dispatch(self) -> None:
        if self.special:
            self.dispatch_special()
            if self.paged and not self.ready:
                self._refill()
            return
        ready = self.ready
        ring = self.ring
        while ready and ring.size:
            consumer = ring.pop()
            if not self._can_send(consumer):
                continue
            deliver = consumer.channel.deliver
            while True:
                entry = ready.popleft()
                if not consumer.no_ack:
                    self.unacked += 1
                if self.durable:
                    self.delivered(entry, consumer.no_ack)
                deliver(consumer, self, entry)
                if ring.size or not ready:
                    ring.push(consumer)
                    break
                # alone in the line: it would be pushed and popped again at once
                if not self._can_send(consumer):
                    break
        if self.paged and not ready:
            self._refill()
        if self.throttled:
            flow.maybe_relieve(self)

    def _can_send(self, consumer: Consumer) -> bool:
        """rabbit_queue_consumers:deliver_to_consumer + rabbit_limiter:can_send; a consumer
        that cannot take a message now is parked with its channel. The channel's window is
        not applied to quorum queues (rabbit_channel activates the limiter on classic queues)."""
        channel = consumer.channel
        if channel in self.suspended or not channel.writable:
            return self._park(consumer)
        if consumer.credit == 0:
            return self._park(consumer)
        if channel.global_prefetch and not self.quorum:
            if channel.global_volume >= channel.global_prefetch:
                self.suspended.add(channel)
                channel.limited_queues.add(self)
                return self._park(consumer)
            if not consumer.no_ack:
                channel.global_volume += 1
        if consumer.credit is not None:
            consumer.credit -= 1
        return True

    def _park(self, consumer: Consumer) -> bool:
        self.blocked.setdefault(consumer.channel, []).append(consumer)
        return False

    def unblock(self, channel) -> None:
        """Parked consumers of `channel` that have credit rejoin the line (at its end)."""
        parked = self.blocked.get(channel)
        if not parked:
            return
        still = [c for c in parked if c.credit == 0]
        if len(still) == len(parked):
            return
        for consumer in parked:
            if consumer.credit != 0:
                self.ring.push(consumer)
        if still:
            self.blocked[channel] = still
        else:
            del self.blocked[channel]
        self.dispatch()

    def resume(self, channel) -> None:
        """The channel's global prefetch window has room again (or its connection drains)."""
        self.suspended.discard(channel)
        self.unblock(channel)

    def __repr__(self) -> str:
        return f"Queue({self.name!r}, ready={len(self.ready)}, paged={self.paged_count})"


class _SeqView:
    """A read-only sequence of the ready entries' seq numbers, for bisect."""

    __slots__ = ("entries",)

    def __init__(self, entries):
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> int:
        return self.entries[index].seq

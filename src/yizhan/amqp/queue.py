"""A queue: its ready messages in order, its consumers, and the dispatch between them.

The queue owns messages until they are delivered; a delivered message awaiting its ack is held
by the channel that received it and comes back through `requeue`, at its original position
(ordered by the sequence number it got on arrival) and marked redelivered.

Dispatch follows rabbit_queue_consumers: consumers are served round-robin within priority
bands; a consumer that cannot take a message (its prefetch credit is spent, its channel is over
its global prefetch limit, or its connection is not reading) is parked with its channel and
rejoins the end of the line when that channel is unblocked.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque

from yizhan.amqp.codec import FieldTable


class QueueEntry:
    __slots__ = ("message", "seq", "redelivered")

    def __init__(self, message, seq: int, redelivered: bool = False):
        self.message = message
        self.seq = seq
        self.redelivered = redelivered


class Consumer:
    """One basic.consume: `credit` is the remaining per-consumer prefetch (None: unlimited)."""

    __slots__ = ("tag", "tag_s", "channel", "queue", "no_ack", "exclusive", "args", "priority",
                 "credit", "prefetch")

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


class Queue:
    kind = "queue"

    def __init__(self, vhost, name: str, durable: bool = False, exclusive_owner=None,
                 auto_delete: bool = False, arguments: FieldTable | None = None):
        self.vhost = vhost
        self.name = name
        self.durable = durable
        self.exclusive_owner = exclusive_owner
        self.auto_delete = auto_delete
        self.arguments = arguments if arguments is not None else FieldTable()
        self.ready: deque[QueueEntry] = deque()
        self.next_seq = 0
        self.ring = ConsumerRing()
        self.blocked: dict = {}       # channel -> [Consumer] parked, in blocking order
        self.suspended: set = set()   # channels whose global prefetch refused this queue
        self.consumers: dict = {}     # (channel, tag) -> Consumer
        self.exclusive_consumer: Consumer | None = None
        self.had_consumers = False
        self.unacked = 0
        self.bound_from: dict = {}    # binding ident -> Binding into this queue
        self.deleted = False

    # -- counts ---------------------------------------------------------------------------
    @property
    def message_count(self) -> int:
        return len(self.ready)

    @property
    def consumer_count(self) -> int:
        return len(self.consumers)

    # -- messages in --------------------------------------------------------------------------
    def publish(self, message) -> None:
        self.ready.append(QueueEntry(message, self.next_seq))
        self.next_seq += 1
        if self.ring.size:
            self.dispatch()

    def requeue(self, entries, dispatch: bool = True) -> None:
        """Put delivered entries back at their original positions, marked redelivered."""
        if self.deleted:
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

    def settle(self, entries) -> None:
        """Delivered entries acknowledged (or rejected without requeue)."""
        self.unacked -= len(entries)
        if self.durable:
            self.vhost.store.removed(self, entries)

    def delivered(self, entry, no_ack: bool) -> None:
        """An entry left the ready list for a client: the store hears of it (durable only)."""
        if self.durable and entry.message.store_id is not None:
            store = self.vhost.store
            if no_ack:
                store.removed(self, (entry,))
            elif not entry.redelivered:
                store.delivered(self, entry)

    def get(self) -> QueueEntry | None:
        """basic.get: the head message regardless of consumers and prefetch."""
        if not self.ready:
            return None
        return self.ready.popleft()

    def purge(self) -> int:
        count = len(self.ready)
        if self.durable:
            self.vhost.store.removed(self, self.ready)
        self.ready.clear()
        return count

    # -- consumers ----------------------------------------------------------------------------
    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers[(consumer.channel, consumer.tag)] = consumer
        if consumer.exclusive:
            self.exclusive_consumer = consumer
        self.had_consumers = True
        self.ring.push(consumer)
        self.dispatch()

    def remove_consumer(self, consumer: Consumer) -> None:
        """Forget a consumer (cancelled, or its channel closed); may auto-delete the queue."""
        if self.consumers.pop((consumer.channel, consumer.tag), None) is None:
            return
        if self.exclusive_consumer is consumer:
            self.exclusive_consumer = None
        if not self.ring.remove(consumer):
            parked = self.blocked.get(consumer.channel)
            if parked and consumer in parked:
                parked.remove(consumer)
        if self.auto_delete and not self.consumers and not self.deleted:
            self.vhost.delete_queue(self)

    def forget_channel(self, channel) -> None:
        self.blocked.pop(channel, None)
        self.suspended.discard(channel)

    # -- dispatch -----------------------------------------------------------------------------
    def dispatch(self) -> None:
        ready = self.ready
        ring = self.ring
        while ready and ring.size:
            consumer = ring.pop()
            if not self._can_send(consumer):
                continue
            entry = ready.popleft()
            if not consumer.no_ack:
                self.unacked += 1
            if self.durable:
                self.delivered(entry, consumer.no_ack)
            consumer.channel.deliver(consumer, self, entry)
            ring.push(consumer)

    def _can_send(self, consumer: Consumer) -> bool:
        """rabbit_queue_consumers:deliver_to_consumer + rabbit_limiter:can_send; a consumer
        that cannot take a message now is parked with its channel."""
        channel = consumer.channel
        if channel in self.suspended or not channel.writable:
            return self._park(consumer)
        if consumer.credit == 0:
            return self._park(consumer)
        if channel.global_prefetch:
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
        return f"Queue({self.name!r}, ready={len(self.ready)})"


class _SeqView:
    """A read-only sequence of the ready entries' seq numbers, for bisect."""

    __slots__ = ("entries",)

    def __init__(self, entries):
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> int:
        return self.entries[index].seq

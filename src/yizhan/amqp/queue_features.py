"""The message side of RabbitMQ's queue features, mixed into `Queue` (queue.py): message TTL
(per queue and per message), queue expiry, length limits with their overflow modes,
dead-lettering of rejected, expired and dropped messages, and priority ready lists.

A plain queue never comes here: `Queue.special` is set when its settings (queue_settings.py)
ask for a feature or a message with an `expiration` arrives, and then publish, dispatch, get and
requeue take the paths below, which follow rabbit_amqqueue_process:

- publish (maybe_deliver_or_enqueue): a queue over its limit with `reject-publish(-dlx)` refuses
  the message (the publisher's confirm is a nack; `-dlx` dead-letters it first); a consumer
  waiting on an empty queue gets it at once, whatever its TTL (so TTL 0 reaches only a waiting
  consumer); otherwise it is enqueued, `drop-head` drops (or dead-letters, reason maxlen) the
  oldest while over the limit, and expired messages are dropped from the head.
- expiry is from the head only (a long-lived head shields expired messages behind it, as
  RabbitMQ's dropwhile does), on every dispatch and get, when counts are read, and on a timer at
  the head's expiry time so dead-lettering happens on time.
- an unused queue (no consumers; not declared or read with basic.get for `expires` ms) is
  deleted by its expiry timer.
"""

from __future__ import annotations

from yizhan.amqp.dead_letter import DELIVERY_LIMIT, EXPIRED, MAXLEN, REJECTED, dead_letter


class FeatureQueue:
    # -- publish --------------------------------------------------------------------------------
    def publish_special(self, message) -> bool:
        """Enqueue with TTL, limits and overflow; False when the queue refused it."""
        settings = self.settings
        if settings is not None and settings.limited and self._will_overflow(message):
            if settings.overflow != "drop-head":
                if settings.overflow == "reject-publish-dlx":
                    dead_letter(self, [message], MAXLEN)
                self._forget_stored([message])
                return False
        entry = self.new_entry(message)
        if self.ring.size and not self.ready and not self.paged and self._deliver_now(entry):
            return True
        now = self.timers.now()
        ttl = self._ttl_of(message)
        if ttl is not None:
            entry.expires = now + ttl
            if ttl == 0 and (settings is None or settings.dlx is None):
                dead_letter(self, [message], EXPIRED)  # counted only: no DLX
                self._forget_stored([message])  # rabbit's shortcut: never enqueued
                return True
        self.enqueue(entry)
        self.ready_bytes += len(message.body)
        dropped = self._drop_head()
        if dropped or self.message_count_raw() == 1 or entry.expires is not None:
            self.drop_expired()
        if self.ring.size:
            self.dispatch()
        return True

    def _ttl_of(self, message):
        queue_ttl = self.settings.message_ttl if self.settings is not None else None
        own = message.expiration
        if own is None:
            return queue_ttl
        return own if queue_ttl is None else min(own, queue_ttl)

    def _will_overflow(self, message) -> bool:
        settings = self.settings
        count = self.message_count_raw() + 1
        size = self.ready_bytes + len(message.body)
        return ((settings.max_length is not None and count > settings.max_length)
                or (settings.max_length_bytes is not None and size > settings.max_length_bytes))

    def _over_limit(self) -> bool:
        settings = self.settings
        return ((settings.max_length is not None and self.message_count_raw() > settings.max_length)
                or (settings.max_length_bytes is not None
                    and self.ready_bytes > settings.max_length_bytes))

    def _drop_head(self) -> bool:
        """rabbit_amqqueue_process:maybe_drop_head."""
        settings = self.settings
        if settings is None or not settings.limited or settings.overflow != "drop-head":
            return False
        dropped = []
        while self._over_limit():
            entry = self.take_head()
            if entry is None:
                break
            dropped.append(entry)
        if dropped:
            self._leave(dropped, MAXLEN)
        return bool(dropped)

    def _deliver_now(self, entry) -> bool:
        """rabbit_amqqueue_process:attempt_delivery: a waiting consumer takes the message."""
        ring = self.ring
        while ring.size:
            consumer = ring.pop()
            if not self._can_send(consumer):
                continue
            self._hand_over(consumer, entry)
            ring.push(consumer)
            return True
        return False

    def _hand_over(self, consumer, entry) -> None:
        if not consumer.no_ack:
            self.unacked += 1
        if self.durable:
            self.delivered(entry, consumer.no_ack)
        consumer.channel.deliver(consumer, self, entry)

    # -- leaving --------------------------------------------------------------------------------
    def take_head(self):
        """The head entry out of the ready list (paging the next batch in), or None."""
        if not self.ready and self.paged:
            self._page_in()
        if not self.ready:
            return None
        entry = self.ready.popleft()
        self.ready_bytes -= len(entry.message.body)
        if not self.ready and self.paged:
            self._page_in()
        return entry

    def head(self):
        if not self.ready and self.paged:
            self._page_in()
        if not self.ready:
            return None
        ready = self.ready
        return ready.head() if self.priorities else ready[0]

    def drop_expired(self) -> None:
        """rabbit_amqqueue_process:drop_expired_msgs: expired messages leave from the head;
        the timer is set for the next head's expiry."""
        now = self.timers.now()
        expired = []
        while True:
            head = self.head()
            if head is None or head.expires is None or now < head.expires:
                break
            expired.append(self.take_head())
        if expired:
            self._leave(expired, EXPIRED)
        self._ensure_ttl_timer()

    def _ensure_ttl_timer(self) -> None:
        head = self.head()
        if head is None or head.expires is None or self.deleted:
            return
        timer = self.ttl_timer
        if timer is not None:
            if timer[0] <= head.expires:
                return
            timer[1].cancel()
        handle = self.timers.at(head.expires, self._ttl_fired)
        self.ttl_timer = (head.expires, handle) if handle is not None else None

    def _ttl_fired(self) -> None:
        self.ttl_timer = None
        if not self.deleted:
            self.drop_expired()

    def _leave(self, entries, reason: str) -> None:
        """Entries leave the queue for `reason`: dead-lettered (counted, and republished if the
        queue has a DLX), and gone from the store."""
        dead_letter(self, [entry.message for entry in entries], reason)
        if self.durable:
            self.vhost.store.removed(self, entries)

    def _forget_stored(self, messages) -> None:
        if self.durable and self.vhost.store.durable:
            self.vhost.store.removed(self, [self.new_entry(m) for m in messages])

    def reject(self, entries) -> None:
        """Delivered entries rejected or nacked without requeue: dead-lettered (reason
        rejected; counted, and republished if the queue has a DLX), then settled."""
        dead_letter(self, [entry.message for entry in entries], REJECTED)
        self.settle(entries)

    # -- dispatch, get, requeue ----------------------------------------------------------------
    def dispatch_special(self) -> None:
        ring = self.ring
        while ring.size:
            self.drop_expired()
            if not self.ready:
                break
            consumer = ring.pop()
            if not self._can_send(consumer):
                continue
            entry = self.take_head()
            self._hand_over(consumer, entry)
            ring.push(consumer)

    def get_special(self):
        self.touch()
        self.drop_expired()
        entry = self.take_head()
        if entry is not None:
            self.drop_expired()
        return entry

    def requeue_special(self, entries, dispatch: bool) -> None:
        """rabbit_amqqueue_process:requeue_and_run: back in place, then drop-head, expiry, run."""
        for entry in entries:
            entry.redelivered = True
            self.unacked -= 1
            self.ready_bytes += len(entry.message.body)
            self.reinsert(entry)
        self.after_requeue()
        if dispatch:
            self.dispatch()

    def after_requeue(self) -> None:
        self._drop_head()
        self.drop_expired()

    def count_returns(self, entries) -> list:
        """Quorum queues (rabbit_fifo): each return counts a delivery; past `delivery_limit`
        the message is dead-lettered (reason delivery_limit) or dropped. The ones that stay."""
        settings = self.settings
        limit = settings.delivery_limit if settings is not None else None
        kept, over = [], []
        for entry in entries:
            entry.delivery_count += 1
            if limit is not None and entry.delivery_count > limit:
                over.append(entry)
            else:
                kept.append(entry)
                if self.special:
                    self.ready_bytes += len(entry.message.body)
        if over:
            self.unacked -= len(over)
            self._leave(over, DELIVERY_LIMIT)
        return kept

    # -- boot -----------------------------------------------------------------------------------
    def restore_through(self, ids, delivered: set) -> None:
        """Boot, priority and length-limited queues: the stored messages are read once, a
        batch at a time, and enqueued again (those beyond the memory bound stay paged by id),
        so bands, byte counts and expiries are known without holding every body."""
        from yizhan.amqp.queue import PAGE_BATCH, QueueEntry

        store = self.vhost.store
        for start in range(0, len(ids), PAGE_BATCH):
            arrivals = []
            for i, message in enumerate(store.read_messages(ids[start:start + PAGE_BATCH],
                                                            arrivals)):
                entry = QueueEntry(message, self.next_seq, message.store_id in delivered)
                self.next_seq += 1
                self.restored_expiry(entry, arrivals[i])
                self.enqueue(entry)
                self.ready_bytes += len(message.body)
        self.restored()

    def restored(self) -> None:
        """Boot: expired messages leave from the head."""
        if self.special:
            self.drop_expired()

    def restored_expiry(self, entry, arrived) -> None:
        """A stored message read back: its TTL counts from its arrival time when the store
        kept it (`arrived`, clock ms), else from now (records written before it was kept)."""
        ttl = self._ttl_of(entry.message)
        if ttl is not None and entry.expires is None:
            self.special = True
            entry.expires = (arrived if arrived is not None else self.timers.now()) + ttl

    # -- queue expiry ---------------------------------------------------------------------------
    def touch(self) -> None:
        """rabbit_amqqueue_process:ensure_expiry_timer: an unused queue with `expires` is
        deleted that long after its last declare or basic.get (or its last consumer left)."""
        settings = self.settings
        if settings is None or settings.expires is None or self.consumers or self.deleted:
            return
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
        self.expiry_timer = self.timers.at(self.timers.now() + settings.expires, self._expired)

    def _expired(self) -> None:
        self.expiry_timer = None
        if not self.deleted and not self.consumers:
            self.vhost.delete_queue(self)

    def stop_timers(self) -> None:
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
            self.expiry_timer = None
        if self.ttl_timer is not None:
            self.ttl_timer[1].cancel()
            self.ttl_timer = None

"""Publisher flow control: a publishing connection is held while a queue it feeds is over its
in-memory budget and that queue's consumers are paced by their sockets.

RabbitMQ's credit flow makes a publisher wait for the queue process it feeds, which waits for
the channels it delivers to, which wait for their sockets: one fast publisher cannot outrun a
consumer on the same node, and the end-to-end rate settles at what the consumers take. yizhan
has one event loop instead of processes, so the same chain is expressed by queue depth:

* A queue's budget is `flow_limit` messages (ready, paged and delivered-but-unacked together:
  the page limit, 4,096 by default). When a publish leaves a queue beyond it, and the queue has
  a consumer whose intake is bounded only by its socket (no prefetch limit, or parked because
  its connection is not writable), the publishing connection gets the queue as a `flow` reason
  (`AMQPConnection.flow_queues`) and blocks on its next content frame, as rabbit_reader blocks
  on `flow`: it stops reading and parsing until every reason is gone.
* The queue lets its publishers go once it is back under half its budget, or when it has no
  consumer left (or is deleted).
* Consumers limited by prefetch set their own pace by acking; a backlog behind them is what
  paging is for, as in RabbitMQ, where credit flow does not hold publishers of such a queue.
* A connection that consumes is never held by flow: it must keep reading its acks, or the
  queue it waits for could never drain.

Flow is silent: connection.blocked is only sent for resource alarms (amqp/alarms.py), as
RabbitMQ reports only those.
"""

from __future__ import annotations

FLOW_MESSAGES = 4096  # a queue's budget when there is no store to page to


def over_budget(queue, publisher) -> None:
    """A publish left `queue` beyond its budget: hold `publisher` if the queue's consumers
    are paced by their sockets."""
    if publisher is None or publisher in queue.throttled or not queue.consumers:
        return
    if not queue.uncredited and not publisher.broker.unwritable:
        return  # socket_paced would find neither kind of consumer: asked on every publish
    if not socket_paced(queue) or consumes(publisher):
        return
    queue.throttled.add(publisher)
    publisher.flow_queues.add(queue)
    publisher.control_throttle()


def maybe_relieve(queue) -> None:
    """Called where a held queue shrinks or loses consumers (once per ack while it holds
    publishers, so it only counts): release them under half the budget or without consumers."""
    if (len(queue.ready) + queue.paged_count + queue.unacked > queue.flow_limit // 2
            and not queue.deleted and queue.consumers):
        return
    relieve(queue)


def relieve(queue) -> None:
    throttled, queue.throttled = queue.throttled, set()
    for conn in throttled:
        conn.flow_queues.discard(queue)
        conn.control_throttle()


def socket_paced(queue) -> bool:
    """Has the queue a consumer whose intake only its socket bounds?"""
    for consumer in queue.consumers.values():
        if consumer.credit is None and not consumer.channel.global_prefetch:
            return True
    for channel, parked in queue.blocked.items():
        if parked and not channel.conn.writable:
            return True
    return False


def consumes(conn) -> bool:
    return any(channel.consumers for channel in conn.channels.values())

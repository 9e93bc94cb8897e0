"""A channel's per-queue and per-exchange counters (amqp/counters.PairCounts) stay bounded by
the live objects: keys of deleted queues and exchanges go when the table reaches its limit."""

from __future__ import annotations

from yizhan.amqp.counters import PRUNE_FROM, PairCounts


class Thing:
    def __init__(self):
        self.deleted = False


def test_counts_accumulate_per_key():
    table = PairCounts(2)
    queue, exchange = Thing(), Thing()
    table.of(queue)[1] += 1
    table.of(queue)[1] += 2
    table.of((queue, exchange))[0] += 1
    assert table == {queue: [0, 3], (queue, exchange): [1, 0]}


def test_deleted_keys_are_pruned_as_the_table_grows():
    table = PairCounts(1)
    live = Thing()
    table.of(live)[0] += 5
    for _ in range(10 * PRUNE_FROM):  # one short-lived queue after another (RPC replies)
        gone = Thing()
        table.of((gone, live))[0] += 1
        gone.deleted = True
    assert len(table) <= PRUNE_FROM
    assert table[live] == [5]


def test_live_keys_are_kept_and_the_limit_doubles():
    table = PairCounts(1)
    things = [Thing() for _ in range(3 * PRUNE_FROM)]
    for thing in things:
        table.of(thing)[0] += 1
    assert len(table) == len(things)
    assert table.limit >= len(things)

"""management/rates.py: rates are the change between the last two samples over their
interval, samples are at most INTERVAL apart, and message_stats groups appear with their first
event, driven by a fake clock."""

from __future__ import annotations

from yizhan.amqp.broker import Broker
from yizhan.management import rates


def test_rate_is_change_over_the_sampled_interval():
    now = [100.0]
    broker = Broker()
    vhost = broker.vhosts["/"]
    queue = vhost.declare_queue(None, "q", False, False, False, False, None)
    sampler = rates.Rates(now=lambda: now[0])
    sampler.refresh(broker)
    assert rates.queue_stats(queue, sampler) is None
    queue.n_publish += 50
    now[0] += 2.0  # too soon: the old sample stands
    sampler.refresh(broker)
    assert rates.queue_stats(queue, sampler) == {"publish": 50, "publish_details": {"rate": 0.0}}
    now[0] += 3.0  # 5 s after the first sample
    sampler.refresh(broker)
    assert rates.queue_stats(queue, sampler) == {"publish": 50, "publish_details": {"rate": 10.0}}
    queue.n_deliver += 20
    queue.n_ack += 10
    now[0] += 10.0
    sampler.refresh(broker)
    stats = rates.queue_stats(queue, sampler)
    assert stats["publish_details"] == {"rate": 0.0}
    assert (stats["deliver"], stats["deliver_details"], stats["ack_details"]) == (20, {"rate": 2.0}, {"rate": 1.0})
    assert (stats["deliver_get"], stats["deliver_get_details"]) == (20, {"rate": 2.0})


def test_exchange_groups_appear_with_their_first_event():
    broker = Broker()
    exchange = broker.vhosts["/"].exchanges["amq.direct"]
    assert rates.exchange_stats(exchange, None) is None
    exchange.n_publish_in += 1
    assert rates.exchange_stats(exchange, None) == {"publish_in": 1, "publish_in_details": {"rate": 0.0}}


def test_queue_length_rates_are_the_change_over_the_interval():
    """messages_details and friends: (length now - length at the last sample) / interval, for a
    queue and summed over a vhost's queues."""
    now = [100.0]
    broker = Broker()
    queue = broker.vhosts["/"].declare_queue(None, "q", False, False, False, False, None)
    sampler = rates.Rates(now=lambda: now[0])
    sampler.refresh(broker)
    assert rates.with_length_rates({}, [queue], sampler)["messages_details"] == {"rate": 0.0}
    queue.unacked += 4
    now[0] += 5.0
    sampler.refresh(broker)
    row = rates.with_length_rates({"name": "q"}, [queue], sampler)
    assert row == {"name": "q", "messages_details": {"rate": 0.8},
                   "messages_ready_details": {"rate": 0.0},
                   "messages_unacknowledged_details": {"rate": 0.8}}
    queue.unacked -= 4
    now[0] += 2.0
    sampler.refresh(broker)  # too soon: the rates of the last interval stand
    assert rates.with_length_rates({}, broker.vhosts["/"].queues.values(), sampler)[
        "messages_unacknowledged_details"] == {"rate": 0.8}
    now[0] += 6.0
    sampler.refresh(broker)
    assert rates.with_length_rates({}, [queue], sampler)["messages_unacknowledged_details"] == {"rate": -0.5}

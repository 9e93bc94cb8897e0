"""Publisher flow control (amqp/flow.py) and resource alarms (amqp/alarms.py) in the sans-IO
core: which connections block, when, what they are told, and that nothing is lost."""

from __future__ import annotations

import pytest
from pamqp import commands as C

from yizhan.amqp import alarms
from yizhan.amqp.broker import Broker
from test_amqp_helpers import CAPS, Wire, messages, name

B = C.Basic
BLOCKED_CAPS = {**CAPS, "connection.blocked": True}


def gated(wire: Wire) -> list:
    """Record what the connection asks of its transport (True: stop reading)."""
    calls: list = []
    wire.conn.input_gate = calls.append
    return calls


def publishes(count: int, body: bytes = b"m") -> bytes:
    from test_amqp_hot_path import publish
    return b"".join(publish(body + str(i).encode()) for i in range(count))


def consumer(broker: Broker, prefetch: int = 0, caps=None) -> Wire:
    sub = Wire(broker, caps=caps)
    sub.open()
    if prefetch:
        sub.send(B.Qos(prefetch_count=prefetch), 1)
    sub.send(B.Consume(queue="q", consumer_tag="c"), 1)
    return sub


def setup(limit: int = 10, prefetch: int = 0, caps=None):
    broker = Broker()
    pub = Wire(broker, caps=caps)
    pub.open()
    pub.send(C.Queue.Declare(queue="q"), 1)
    queue = broker.vhosts["/"].queues["q"]
    queue.flow_limit = limit
    sub = consumer(broker, prefetch)
    return broker, pub, sub, queue


def test_a_publisher_outrunning_a_socket_paced_consumer_blocks_until_the_queue_drains():
    broker, pub, sub, queue = setup(limit=10)
    gate = gated(pub)
    sub.conn.pause_writing()                  # the consumer's socket is full: deliveries stop
    assert pub.raw(publishes(30)) == []       # flow is silent: no connection.blocked
    assert gate == [True] and pub.conn.blocked
    held = queue.message_count
    assert 10 < held < 30                     # blocked on the content frame after the budget
    sub.conn.resume_writing()
    delivered = messages(sub.output())
    assert len(delivered) == held
    assert pub.conn.blocked                   # still over budget: unacked count too
    sub.send(B.Ack(delivery_tag=held, multiple=True), 1)
    assert gate == [True, False] and not pub.conn.blocked
    rounds = 0
    while len(delivered) < 30:                # each round: the publisher goes on until the
        pub.conn.resume()                     # budget is spent again, the consumer acks all
        delivered += messages(sub.output())
        sub.send(B.Ack(delivery_tag=len(delivered), multiple=True), 1)
        rounds += 1
        assert rounds < 5
    assert [m[2] for m in delivered] == [b"m" + str(i).encode() for i in range(30)]
    assert not pub.conn.blocked and queue.message_count == queue.unacked == 0


def test_prefetch_limited_consumers_set_their_own_pace_and_do_not_block_publishers():
    broker, pub, sub, queue = setup(limit=10, prefetch=5)
    gate = gated(pub)
    pub.raw(publishes(30))
    assert gate == [] and not pub.conn.blocked and queue.message_count == 25


def test_a_parked_prefetch_limited_consumer_whose_socket_fills_holds_publishers():
    """flow.over_budget skips socket_paced while no connection is unwritable (the broker counts
    them); once the parked consumer's socket is full the next publish over budget holds."""
    broker, pub, sub, queue = setup(limit=10, prefetch=5)
    gate = gated(pub)
    pub.raw(publishes(30))                    # the consumer is parked on its credit
    assert gate == [] and broker.unwritable == 0
    sub.conn.pause_writing()
    sub.conn.pause_writing()                  # counted once
    assert broker.unwritable == 1
    pub.raw(publishes(2))                     # held from the content frame after the first
    assert gate == [True] and pub.conn.blocked
    sub.conn.resume_writing()
    assert broker.unwritable == 0
    sub.conn.pause_writing()
    sub.conn.connection_lost()                # gone while unwritable: no longer counted
    assert broker.unwritable == 0 and not pub.conn.blocked


def test_a_connection_that_consumes_is_never_held_by_flow():
    broker, pub, sub, queue = setup(limit=10)
    pub.send(C.Queue.Declare(queue="other"), 1)
    pub.send(B.Consume(queue="other", consumer_tag="mine"), 1)
    gate = gated(pub)
    sub.conn.pause_writing()
    pub.raw(publishes(30))
    assert gate == [] and queue.message_count == 30


def test_cancelling_the_consumer_releases_the_publisher():
    broker, pub, sub, queue = setup(limit=10)
    gate = gated(pub)
    sub.conn.pause_writing()
    pub.raw(publishes(30))
    assert pub.conn.blocked
    sub.send(B.Cancel(consumer_tag="c"), 1)
    assert gate == [True, False] and not pub.conn.blocked
    pub.conn.resume()
    assert queue.message_count + queue.unacked == 30


def test_a_closed_publisher_is_forgotten_by_the_queue():
    broker, pub, sub, queue = setup(limit=10)
    sub.conn.pause_writing()
    pub.raw(publishes(30))
    assert queue.throttled == {pub.conn}
    pub.conn.connection_lost()
    assert queue.throttled == set()


# -- resource alarms ------------------------------------------------------------------------
def alarm_setup(caps):
    broker = Broker()
    pub = Wire(broker, caps=caps)
    pub.open()
    pub.send(C.Queue.Declare(queue="q"), 1)
    return broker, pub


def test_an_alarm_blocks_a_connection_when_it_next_publishes_and_tells_it_why():
    broker, pub = alarm_setup(BLOCKED_CAPS)
    gate = gated(pub)
    alarms.set_alarm(broker, "memory", True)
    assert pub.output() == [] and not pub.conn.blocked     # nothing until it publishes
    assert pub.send(C.Queue.Declare(queue="q2"), 1)[0][1].name == "Queue.DeclareOk"
    out = pub.raw(publishes(3))
    assert [(ch, name(f)) for ch, f in out] == [(0, "Connection.Blocked")]
    assert out[0][1].reason == "low on memory"
    assert gate == [True] and broker.vhosts["/"].queues["q"].message_count == 0
    alarms.set_alarm(broker, "disk", True)                  # already blocked: no second frame
    assert pub.output() == []
    alarms.set_alarm(broker, "memory", False)
    assert pub.output() == [] and pub.conn.blocked
    alarms.set_alarm(broker, "disk", False)
    assert [name(f) for _, f in pub.output()] == ["Connection.Unblocked"]
    assert gate == [True, False]
    pub.conn.resume()
    assert broker.vhosts["/"].queues["q"].message_count == 3


def test_both_alarms_are_named_in_one_reason():
    broker, pub = alarm_setup(BLOCKED_CAPS)
    alarms.set_alarm(broker, "disk", True)
    alarms.set_alarm(broker, "memory", True)
    out = pub.raw(publishes(1))
    assert out[0][1].reason == "low on disk & memory"


def test_a_client_without_the_capability_is_blocked_silently():
    broker, pub = alarm_setup(CAPS)
    gate = gated(pub)
    alarms.set_alarm(broker, "memory", True)
    assert pub.raw(publishes(2)) == [] and gate == [True]
    alarms.set_alarm(broker, "memory", False)
    assert pub.output() == [] and gate == [True, False]
    pub.conn.resume()
    assert broker.vhosts["/"].queues["q"].message_count == 2


def test_consumers_and_acks_keep_flowing_during_an_alarm():
    broker, pub = alarm_setup(BLOCKED_CAPS)
    pub.raw(publishes(4))
    sub = consumer(broker, prefetch=2, caps=BLOCKED_CAPS)   # takes the first two
    alarms.set_alarm(broker, "memory", True)
    got = []
    for tag in (1, 2, 3):
        got += messages(sub.send(B.Ack(delivery_tag=tag), 1))
    assert not sub.conn.blocked and len(got) == 2 and broker.vhosts["/"].queues["q"].message_count == 0


@pytest.mark.parametrize("text,value", [("512MB", 512_000_000), ("1GiB", 1 << 30), ("50000000", 50_000_000),
                                        ("2gb", 2_000_000_000), ("10k", 10240), ("5 MiB", 5 << 20)])
def test_sizes_take_rabbitmq_units(text, value):
    assert alarms.parse_size(text) == value


def test_bad_sizes_are_refused():
    assert alarms.parse_size("12XB") is None and alarms.parse_size("-1") is None


def test_the_monitor_raises_and_clears_the_memory_alarm(tmp_path):
    broker = Broker()
    monitor = alarms.ResourceMonitor(broker, str(tmp_path), watermark_absolute=1)
    monitor.check_memory()
    assert broker.alarms == {"memory"} and monitor.peak_rss > 1
    monitor.memory_limit = 1 << 50
    monitor.check_memory()
    assert broker.alarms == set()
    monitor.disk_free_limit = 1 << 62
    monitor.check_disk()
    assert broker.alarms == {"disk"} and "alarms disk" in monitor.status()


def test_config_keys_set_the_watermark_and_the_disk_limit(tmp_path):
    from yizhan.config import ConfigFileError, load_file

    path = tmp_path / "yizhan.conf"
    path.write_text("amqp-vm-memory-high-watermark 0.25\namqp-vm-memory-high-watermark-absolute 512MB\n"
                    "amqp-disk-free-limit 1GiB\n")
    config = load_file(path)
    assert (config.amqp_memory_watermark, config.amqp_memory_watermark_absolute,
            config.amqp_disk_free_limit) == (0.25, 512_000_000, 1 << 30)
    for bad in ("amqp-vm-memory-high-watermark lots", "amqp-disk-free-limit 5XB",
                "amqp-vm-memory-high-watermark-absolute"):
        path.write_text(bad + "\n")
        with pytest.raises(ConfigFileError):
            load_file(path)


def test_queues_with_ttl_or_limits_hold_publishers_too():
    broker = Broker()
    pub = Wire(broker)
    pub.open()
    pub.send(C.Queue.Declare(queue="q", arguments={"x-message-ttl": 600000, "x-max-priority": 5}), 1)
    queue = broker.vhosts["/"].queues["q"]
    queue.flow_limit = 10
    sub = consumer(broker)
    gate = gated(pub)
    sub.conn.pause_writing()
    pub.raw(publishes(30))
    assert gate == [True] and 10 < queue.message_count < 30
    sub.conn.resume_writing()
    sub.output()
    sub.send(B.Ack(delivery_tag=queue.unacked, multiple=True), 1)
    assert gate == [True, False]

"""Resource alarms as RabbitMQ 3.10 reports them: connection.blocked / connection.unblocked on
the connections that publish while a memory or disk alarm is in effect (clients that announce
the capability only), nothing for connections that do not publish, and every message published
while blocked routed after the alarm clears. RabbitMQ's alarms are raised with rabbitmqctl
(set_vm_memory_high_watermark 0.0000001, set_disk_free_limit 1000000GB); yizhan's by setting
its resource monitor's limits the same way."""

from __future__ import annotations

import socket
import time

import pytest
from pamqp import commands as C

from yizhan.testing.amqp import RawAMQP, WAIT, unique

BLOCKED_CAPS = {"consumer_cancel_notify": True, "basic.nack": True, "publisher_confirms": True,
                "authentication_failure_close": True, "connection.blocked": True}
PLAIN_CAPS = {"basic.nack": True, "publisher_confirms": True}


class Alarms:
    """Raise and clear resource alarms on the broker under test."""

    def __init__(self, request, name: str):
        self.name = name
        if name == "yizhan":
            self.server = request.getfixturevalue("yizhan_server")
            self.monitor = self.server.runtime.monitor
            self.saved = (self.monitor.memory_limit, self.monitor.disk_free_limit)
        else:
            self.ref = request.getfixturevalue("reference_rabbitmq")
        self.active: set = set()

    def set(self, resource: str, on: bool) -> None:
        if self.name == "yizhan":
            self.server.call(self._set_ours, resource, on)
        elif resource == "memory":
            self.ref.ctl("set_vm_memory_high_watermark", "0.0000001" if on else "0.4")
        else:
            self.ref.ctl("set_disk_free_limit", "1000000GB" if on else "50MB")
        if on:
            self.active.add(resource)
        else:
            self.active.discard(resource)
        time.sleep(0.3)  # RabbitMQ tells its connections asynchronously

    def _set_ours(self, resource: str, on: bool) -> None:
        monitor = self.monitor
        if resource == "memory":
            monitor.memory_limit = 1 if on else self.saved[0]
            monitor.check_memory()
        else:
            monitor.disk_free_limit = 1 << 62 if on else self.saved[1]
            monitor.check_disk()

    def clear_all(self) -> None:
        for resource in list(self.active):
            self.set(resource, False)


@pytest.fixture
def alarms(request, both_brokers):
    handle = Alarms(request, both_brokers[0])
    yield handle
    handle.clear_all()


def raw_client(broker, capabilities) -> RawAMQP:
    raw = broker.socket()
    raw.handshake(capabilities=capabilities)
    raw.open_channel(1)
    return raw


def publish_frames(queue: str, count: int) -> list:
    from pamqp import body, header
    frames = []
    for i in range(count):
        frames += [C.Basic.Publish(exchange="", routing_key=queue),
                   header.ContentHeader(0, 2, C.Basic.Properties()), body.ContentBody(b"m%d" % i)]
    return frames


def frames_within(raw: RawAMQP, seconds: float) -> list:
    """(channel, method name, reason or None) of the frames arriving within `seconds`."""
    out = []
    raw.sock.settimeout(seconds)
    try:
        while True:
            kind, channel, value, _ = raw.receive()
            out.append((channel, value.name, getattr(value, "reason", None)))
    except (socket.timeout, TimeoutError):
        return out
    finally:
        raw.sock.settimeout(WAIT)


def depth(raw: RawAMQP, queue: str) -> int:
    return raw.call(1, C.Queue.Declare(queue=queue, passive=True)).message_count


def wait_depth(raw: RawAMQP, queue: str, wanted: int) -> int:
    deadline = time.monotonic() + WAIT
    while (found := depth(raw, queue)) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.mark.parametrize("resources,reason", [(("memory",), "low on memory"), (("disk",), "low on disk"),
                                              (("disk", "memory"), "low on disk & memory"),
                                              (("memory", "disk"), "low on disk & memory")])
def test_publishers_are_blocked_and_unblocked_as_rabbitmq_does(broker, alarms, resources, reason):
    queue = unique("flow")
    publisher = raw_client(broker, BLOCKED_CAPS)
    idle = raw_client(broker, BLOCKED_CAPS)
    other = raw_client(broker, BLOCKED_CAPS)
    other.call(1, C.Queue.Declare(queue=queue))
    for resource in resources:
        alarms.set(resource, True)
    assert frames_within(publisher, 0.3) == []            # not blocked before it publishes
    publisher.send(1, *publish_frames(queue, 3))
    assert frames_within(publisher, 1.0) == [(0, "Connection.Blocked", reason)]
    assert depth(other, queue) == 0                       # held: blocked on the first header
    assert other.call(1, C.Queue.Purge(queue=queue)).name == "Queue.PurgeOk"   # others go on
    for resource in resources:
        alarms.set(resource, False)
    assert frames_within(publisher, 1.0) == [(0, "Connection.Unblocked", None)]
    assert wait_depth(other, queue, 3) == 3               # published after the unblock
    assert frames_within(idle, 0.2) == []                 # never published: never told


def test_a_second_alarm_while_blocked_sends_nothing_more(broker, alarms):
    queue = unique("flow")
    publisher = raw_client(broker, BLOCKED_CAPS)
    publisher.call(1, C.Queue.Declare(queue=queue))
    alarms.set("memory", True)
    publisher.send(1, *publish_frames(queue, 1))
    assert frames_within(publisher, 1.0) == [(0, "Connection.Blocked", "low on memory")]
    alarms.set("disk", True)
    alarms.set("memory", False)
    assert frames_within(publisher, 0.5) == []            # still blocked, by disk now
    alarms.set("disk", False)
    assert frames_within(publisher, 1.0) == [(0, "Connection.Unblocked", None)]
    assert wait_depth(publisher, queue, 1) == 1


def test_clients_without_the_capability_are_blocked_silently(broker, alarms):
    queue = unique("flow")
    publisher = raw_client(broker, PLAIN_CAPS)
    other = raw_client(broker, PLAIN_CAPS)
    other.call(1, C.Queue.Declare(queue=queue))
    alarms.set("memory", True)
    publisher.send(1, *publish_frames(queue, 2))
    assert frames_within(publisher, 0.5) == []
    assert depth(other, queue) == 0
    alarms.set("memory", False)
    assert frames_within(publisher, 0.5) == []
    assert wait_depth(other, queue, 2) == 2


def test_consumers_keep_receiving_and_acking_during_an_alarm(broker, alarms):
    queue = unique("flow")
    consumer = raw_client(broker, BLOCKED_CAPS)
    consumer.call(1, C.Queue.Declare(queue=queue))
    consumer.send(1, *publish_frames(queue, 4))
    assert wait_depth(consumer, queue, 4) == 4
    alarms.set("memory", True)
    consumer.call(1, C.Basic.Qos(prefetch_count=1))
    consumer.call(1, C.Basic.Consume(queue=queue, consumer_tag="c"))
    got = []
    while len(got) < 4:
        kind, _, value, _ = consumer.receive()
        if kind == 1 and value.name == "Basic.Deliver":
            got.append(value.delivery_tag)
            consumer.send(1, C.Basic.Ack(delivery_tag=value.delivery_tag))
    assert got == [1, 2, 3, 4]
    assert [f for f in frames_within(consumer, 0.3) if f[1].startswith("Connection")] == []

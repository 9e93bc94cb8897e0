"""The delayed-message exchange without sockets: the plugin's get_delay rules, holding and
releasing with an explicit clock, and the held-message log (restore, torn last line, damage)."""

from __future__ import annotations

import pytest
from pamqp import commands as C

from yizhan.amqp import codec, errors
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.delayed import delay_of
from yizhan.amqp.message import Message
from yizhan.amqp.store.delayed import DelayedLog
from yizhan.amqp.store.errors import StoreError
from test_amqp_helpers import Wire


@pytest.mark.parametrize("kind,value,expected", [
    (codec.SIGNEDINT, 500, 500), (codec.LONG, 2**32 - 1, 2**32 - 1), (codec.LONG, 2**32, None),
    (codec.SIGNEDINT, 0, None), (codec.SIGNEDINT, -5, None), (codec.LONGSTR, b"250", 250),
    (codec.LONGSTR, b"+7", 7), (codec.DOUBLE, 99.9, 99), (codec.BOOL, True, None),
    (codec.TIMESTAMP, 5, None),
])
def test_get_delay(kind, value, expected):
    assert delay_of(FieldTable([("x-delay", kind, value)])) == expected


@pytest.mark.parametrize("kind,value", [(codec.LONGSTR, b" 5"), (codec.LONGSTR, b"5.0"),
                                        (codec.LONGSTR, b""), (codec.DECIMAL, (1, 15))])
def test_get_delay_crashes_as_the_plugin_does(kind, value):
    with pytest.raises(errors.AMQPError) as info:
        delay_of(FieldTable([("x-delay", kind, value)]))
    assert info.value.code == errors.INTERNAL_ERROR


def test_hold_and_release_with_an_explicit_clock():
    wire = Wire()
    wire.open(1)
    wire.send(C.Exchange.Declare(exchange="dx", exchange_type="x-delayed-message",
                                 arguments={"x-delayed-type": "direct"}), 1)
    wire.send(C.Queue.Declare(queue="q"), 1)
    wire.send(C.Queue.Bind(queue="q", exchange="dx", routing_key="k"), 1)
    broker = wire.broker
    now = broker.timers.now()
    wire.publish(1, b"m", exchange="dx", routing_key="k",
                 properties=C.Basic.Properties(headers={"x-delay": 1000}))
    queue = broker.vhosts["/"].queues["q"]
    assert queue.message_count == 0 and broker.delayed.count("/", "dx") == 1
    broker.delayed.release_due(now + 500)
    assert queue.message_count == 0
    broker.delayed.release_due(now + 5000)
    assert queue.message_count == 1 and broker.delayed.count("/", "dx") == 0


def _message(body: bytes) -> Message:
    return Message("dx", "k", b"\x00\x00", body, None, ["k", "cc"])


def test_log_restores_live_messages_and_compacts(tmp_path):
    path = str(tmp_path / "delayed.log")
    log = DelayedLog(path)
    log.load()
    log.add(1, 1000, "/", "dx", _message(b"a"))
    log.add(2, 2000, "/", "dx", _message(b"b"))
    log.remove(1)
    log.close()
    again = DelayedLog(path)
    [(msg_id, at, vhost, exchange, message)] = again.load()
    assert (msg_id, at, vhost, exchange, message.body, message.routing_keys) == (
        2, 2000, "/", "dx", b"b", ["k", "cc"])
    again.close()
    assert open(path).read().count("\n") == 1


def test_log_drops_a_torn_last_line_and_names_a_damaged_one(tmp_path):
    path = tmp_path / "delayed.log"
    log = DelayedLog(str(path))
    log.load()
    log.add(1, 1000, "/", "dx", _message(b"a"))
    log.close()
    path.write_text(path.read_text() + '{"op": "+", "id": 2, "at"')
    assert [r[0] for r in DelayedLog(str(path)).load()] == [1]
    path.write_text('garbage\n' + path.read_text())
    with pytest.raises(StoreError, match="line 1"):
        DelayedLog(str(path)).load()

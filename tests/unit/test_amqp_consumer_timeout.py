"""The consumer-timeout sweep with an injected clock: a channel is closed only once its oldest
unacked delivery is known to be older than the timeout (never early), with rabbit_channel's
406 text, and its messages are requeued."""

from __future__ import annotations

from pamqp import commands as C

from yizhan.amqp.consumer_timeout import ConsumerTimeouts
from test_amqp_helpers import Wire, name, parse

B, Q = C.Basic, C.Queue
TEXT = (b"PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value "
        b"used: 1000 ms. This timeout value can be configured, see consumers doc guide to learn "
        b"more")


def closes(wire):
    return [f for _, f in parse(wire.conn.data_to_send()) if name(f) == "Channel.Close"]


def test_closes_only_after_the_timeout_has_surely_passed():
    wire = Wire()
    wire.open(1)
    wire.send(Q.Declare(queue="q"), 1)
    wire.send(B.Consume(queue="q", consumer_tag="c"), 1)
    sweeper = ConsumerTimeouts(wire.broker, 1000)
    sweeper.sweep(0.0)                      # nothing unacked yet
    wire.publish(1, b"first", routing_key="q")
    sweeper.sweep(0.5)                      # delivered by 0.5 at the latest
    assert not closes(wire)
    sweeper.sweep(1.4)
    assert not closes(wire)
    sweeper.sweep(1.6)
    [close] = closes(wire)
    assert (close.reply_code, close.reply_text.encode(), close.class_id, close.method_id) == (
        406, TEXT, 0, 0)
    assert wire.broker.vhosts["/"].queues["q"].message_count == 1   # requeued


def test_acks_move_the_oldest_delivery_forward():
    wire = Wire()
    wire.open(1)
    wire.send(Q.Declare(queue="q"), 1)
    wire.send(B.Consume(queue="q", consumer_tag="c"), 1)
    sweeper = ConsumerTimeouts(wire.broker, 1000)
    wire.publish(1, b"a", routing_key="q")
    sweeper.sweep(0.0)
    wire.publish(1, b"b", routing_key="q")
    sweeper.sweep(0.9)
    wire.send(B.Ack(delivery_tag=1), 1)
    sweeper.sweep(1.5)                      # tag 2 was delivered after 0.0, by 0.9
    assert not closes(wire)
    sweeper.sweep(2.0)
    assert len(closes(wire)) == 1


def test_off_never_schedules():
    assert ConsumerTimeouts(None, None).interval is None
    assert ConsumerTimeouts(None, 1_800_000).interval == 60.0
    assert ConsumerTimeouts(None, 600).interval == 0.06


def test_config_file_key(tmp_path):
    import pytest

    from yizhan.config import Config, ConfigFileError, load_file

    assert Config().amqp_consumer_timeout == 1_800_000
    path = tmp_path / "yizhan.conf"
    for text, expected in (("amqp-consumer-timeout 600\n", 600), ("amqp-consumer-timeout off\n", None)):
        path.write_text(text)
        assert load_file(path).amqp_consumer_timeout == expected
    for bad in ("0", "-5", "1.5", "soon"):
        path.write_text(f"amqp-consumer-timeout {bad}\n")
        with pytest.raises(ConfigFileError, match="'amqp-consumer-timeout' takes milliseconds"):
            load_file(path)

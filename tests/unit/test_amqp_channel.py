"""Channel semantics without sockets: dispatch, prefetch windows, acks and requeue positions,
confirms, transactions, exclusive queues and consumers, cancel notifications, and properties
passed through byte for byte. Delivery orders asserted here were recorded from RabbitMQ 3.10.8
for the same method sequences."""

from __future__ import annotations

import struct

import pytest
from pamqp import commands as C

from yizhan.amqp import codec
from yizhan.amqp.broker import Broker
from test_amqp_helpers import Wire, close_of, messages, name

B, Q, X = C.Basic, C.Queue, C.Exchange


@pytest.fixture
def wire():
    w = Wire()
    w.open(1)
    w.send(Q.Declare(queue="q1"), 1)
    return w


def deliveries(frames):
    return [(m.consumer_tag, m.delivery_tag, m.redelivered, body)
            for m, _props, body in messages(frames) if name(m) == "Basic.Deliver"]


def publish_n(wire, count, queue="q1", channel=1):
    out = []
    for i in range(count):
        out += wire.publish(channel, f"m{i}".encode(), routing_key=queue)
    return out


def test_round_robin(wire):
    for tag in "abc":
        wire.send(B.Consume(queue="q1", consumer_tag=tag, no_ack=True), 1)
    got = deliveries(publish_n(wire, 6))
    assert [(c, t) for c, t, _, _ in got] == [("a", 1), ("b", 2), ("c", 3), ("a", 4), ("b", 5),
                                              ("c", 6)]


def test_prefetch_one_skips_busy_consumers(wire):
    wire.send(B.Qos(prefetch_count=1), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="b"), 1)
    assert [(c, t) for c, t, _, _ in deliveries(publish_n(wire, 5))] == [("a", 1), ("b", 2)]
    assert [(c, t) for c, t, _, _ in deliveries(wire.send(B.Ack(delivery_tag=2), 1))] == [("b", 3)]
    assert [(c, t) for c, t, _, _ in deliveries(wire.send(B.Ack(delivery_tag=1), 1))] == [("a", 4)]


def test_global_prefetch_is_per_channel(wire):
    wire.send(B.Qos(prefetch_count=3, global_=True), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="b"), 1)
    assert [(c, t) for c, t, _, _ in deliveries(publish_n(wire, 6))] == [("a", 1), ("b", 2), ("a", 3)]
    after = wire.send(B.Ack(delivery_tag=2, multiple=True), 1)
    assert [(c, t) for c, t, _, _ in deliveries(after)] == [("b", 4), ("a", 5)]


def test_both_prefetch_kinds(wire):
    wire.send(B.Qos(prefetch_count=2, global_=False), 1)
    wire.send(B.Qos(prefetch_count=3, global_=True), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="b"), 1)
    assert [(c, t) for c, t, _, _ in deliveries(publish_n(wire, 6))] == [("a", 1), ("b", 2), ("a", 3)]
    assert [(c, t) for c, t, _, _ in deliveries(wire.send(B.Ack(delivery_tag=1), 1))] == [("b", 4)]


def test_per_consumer_qos_clears_the_channel_limit(wire):
    """rabbit_channel drops the global limit when basic.qos(global=false) arrives."""
    wire.send(B.Qos(prefetch_count=1, global_=True), 1)
    wire.send(B.Qos(prefetch_count=0, global_=False), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    assert len(deliveries(publish_n(wire, 3))) == 3


def test_reject_and_nack_requeue_at_original_position(wire):
    publish_n(wire, 4)
    got = deliveries(wire.send(B.Consume(queue="q1", consumer_tag="a"), 1))
    assert [t for _, t, _, _ in got] == [1, 2, 3, 4]
    got = deliveries(wire.send(B.Reject(delivery_tag=2, requeue=True), 1))
    assert got == [("a", 5, True, b"m1")]
    got = deliveries(wire.send(B.Nack(delivery_tag=4, multiple=True, requeue=True), 1))
    assert got == [("a", 6, True, b"m0"), ("a", 7, True, b"m2"), ("a", 8, True, b"m3")]
    assert close_of(wire.send(B.Nack(delivery_tag=4, multiple=True, requeue=True), 1)) == \
        (406, "PRECONDITION_FAILED - unknown delivery tag 4", 60, 120)


def test_requeue_merges_with_waiting_messages(wire):
    publish_n(wire, 5)
    tags = [wire.send(B.Get(queue="q1"), 1)[0][1].delivery_tag for _ in range(3)]
    wire.send(B.Nack(delivery_tag=tags[2], requeue=True), 1)
    wire.send(B.Nack(delivery_tag=tags[0], requeue=True), 1)
    bodies = []
    for _ in range(4):
        (method, _props, body), = messages(wire.send(B.Get(queue="q1", no_ack=True), 1))
        bodies.append((body, method.redelivered))
    assert bodies == [(b"m0", True), (b"m2", True), (b"m3", False), (b"m4", False)]


def test_recover_requeues_everything(wire):
    publish_n(wire, 2)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    frames = wire.send(B.Recover(requeue=True), 1)
    assert name(frames[0][1]) == "Basic.RecoverOk"  # before the redeliveries, as RabbitMQ
    assert [(t, r) for _, t, r, _ in deliveries(frames)] == [(3, True), (4, True)]
    assert close_of(wire.send(B.Recover(requeue=False), 1)) == \
        (540, "NOT_IMPLEMENTED - requeue=false", 60, 110)


def test_ack_errors(wire):
    publish_n(wire, 2)
    wire.send(B.Get(queue="q1"), 1)
    assert close_of(wire.send(B.Ack(delivery_tag=0), 1)) == \
        (406, "PRECONDITION_FAILED - unknown delivery tag 0", 60, 80)


def test_ack_multiple_zero_acks_all(wire):
    publish_n(wire, 3)
    for _ in range(3):
        wire.send(B.Get(queue="q1"), 1)
    assert wire.send(B.Ack(delivery_tag=0, multiple=True), 1) == []
    assert close_of(wire.send(B.Ack(delivery_tag=1), 1))[0] == 406


def test_get_counts(wire):
    publish_n(wire, 3)
    (method, _, body), = messages(wire.send(B.Get(queue="q1"), 1))
    assert (method.delivery_tag, method.message_count, body) == (1, 2, b"m0")
    assert name(wire.send(B.Get(queue="q2"), 1)[0][1]) == "Channel.Close"


def test_get_empty(wire):
    assert name(wire.send(B.Get(queue="q1"), 1)[0][1]) == "Basic.GetEmpty"


def test_consume_ok_precedes_deliveries(wire):
    publish_n(wire, 1)
    frames = wire.send(B.Consume(queue="q1", consumer_tag="c"), 1)
    assert [name(f) for _, f in frames][:2] == ["Basic.ConsumeOk", "Basic.Deliver"]


def test_consumer_tags(wire):
    tag = wire.send(B.Consume(queue="q1"), 1)[0][1].consumer_tag
    assert tag.startswith("amq.ctag-") and len(tag) == 31
    wire.send(B.Consume(queue="q1", consumer_tag="c1"), 1)
    assert close_of(wire.send(B.Consume(queue="q1", consumer_tag="c1"), 1)) == \
        (530, "NOT_ALLOWED - attempt to reuse consumer tag 'c1'", 60, 20)


@pytest.mark.parametrize("first_exclusive", [True, False])
def test_exclusive_consumers(wire, first_exclusive):
    wire.send(B.Consume(queue="q1", consumer_tag="c1", exclusive=first_exclusive), 1)
    frames = wire.send(B.Consume(queue="q1", consumer_tag="c2", exclusive=not first_exclusive), 1)
    assert close_of(frames) == (403, "ACCESS_REFUSED - queue 'q1' in vhost '/' in exclusive use",
                                60, 20)


def test_cancel_unknown_tag_is_ok(wire):
    assert wire.send(B.Cancel(consumer_tag="nope"), 1)[0][1].consumer_tag == "nope"


def test_queue_delete_cancels_consumers_after_the_reply(wire):
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    frames = wire.send(Q.Delete(queue="q1"), 1)
    assert [name(f) for _, f in frames] == ["Queue.DeleteOk", "Basic.Cancel"]
    assert frames[1][1].consumer_tag == "a" and frames[1][1].nowait is True


def test_no_cancel_notification_without_the_capability():
    wire = Wire(caps={})
    wire.open(1)
    wire.send(Q.Declare(queue="q1"), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    assert [name(f) for _, f in wire.send(Q.Delete(queue="q1"), 1)] == ["Queue.DeleteOk"]


def test_queue_delete_conditions(wire):
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    publish_n(wire, 1)
    assert close_of(wire.send(Q.Delete(queue="q1", if_unused=True), 1)) == \
        (406, "PRECONDITION_FAILED - queue 'q1' in vhost '/' in use", 50, 40)
    wire.open(2)
    assert close_of(wire.send(Q.Delete(queue="q1", if_empty=True), 2)) == \
        (406, "PRECONDITION_FAILED - queue 'q1' in vhost '/' not empty", 50, 40)
    wire.open(3)  # channel 1's failure returned its unacked message to the queue
    assert wire.send(Q.Delete(queue="q1"), 3)[0][1].message_count == 1


def test_ack_after_the_queue_is_gone(wire):
    publish_n(wire, 1)
    wire.send(B.Get(queue="q1"), 1)
    wire.send(Q.Delete(queue="q1"), 1)
    assert wire.send(B.Ack(delivery_tag=1), 1) == []


def test_auto_delete_queue_goes_with_last_consumer(wire):
    wire.send(Q.Declare(queue="ad", auto_delete=True), 1)
    wire.send(B.Consume(queue="ad", consumer_tag="a"), 1)
    wire.send(B.Consume(queue="ad", consumer_tag="b"), 1)
    wire.send(B.Cancel(consumer_tag="a"), 1)
    assert wire.send(Q.Declare(queue="ad", passive=True), 1)[0][1].consumer_count == 1
    wire.send(B.Cancel(consumer_tag="b"), 1)
    assert close_of(wire.send(Q.Declare(queue="ad", passive=True), 1))[0] == 404


def test_channel_close_requeues_in_order(wire):
    publish_n(wire, 3)
    wire.send(B.Consume(queue="q1", consumer_tag="a"), 1)
    wire.send(B.Ack(delivery_tag=2), 1)
    wire.send(C.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0), 1)
    wire.open(2)
    got = [messages(wire.send(B.Get(queue="q1", no_ack=True), 2))[0] for _ in range(2)]
    assert [(m.redelivered, body) for m, _, body in got] == [(True, b"m0"), (True, b"m2")]


def test_channel_error_requeues_unacked(wire):
    publish_n(wire, 1)
    wire.send(B.Get(queue="q1"), 1)
    wire.send(Q.Declare(queue="missing", passive=True), 1)
    wire.open(2)
    assert wire.send(Q.Declare(queue="q1", passive=True), 2)[0][1].message_count == 1


def test_exclusive_queue_for_other_connections():
    broker = Broker()
    owner, other = Wire(broker), Wire(broker)
    owner.open(1)
    owner.send(Q.Declare(queue="ex", exclusive=True), 1)
    locked = ("405, RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'ex' in "
              "vhost '/'. It could be originally declared on another connection or the exclusive "
              "property value does not match that of the original declaration.")
    for number, method in enumerate([Q.Declare(queue="ex", passive=True), Q.Declare(queue="ex"),
                                     B.Consume(queue="ex"), B.Get(queue="ex"), Q.Purge(queue="ex"),
                                     Q.Delete(queue="ex"),
                                     Q.Bind(queue="ex", exchange="amq.direct", routing_key="k")], 1):
        other.open(number)
        code, text, _, _ = close_of(other.send(method, number))
        assert f"{code}, {text}" == locked
    other.open(20)
    other.publish(20, b"allowed", routing_key="ex")
    assert messages(owner.send(B.Get(queue="ex", no_ack=True), 1))[0][2] == b"allowed"
    owner.send(C.Connection.Close(reply_code=200, reply_text="", class_id=0, method_id=0))
    assert "ex" not in broker.vhosts["/"].queues


def test_confirms_and_mandatory_return(wire):
    wire.send(C.Confirm.Select(), 1)
    frames = wire.publish(1, b"hi", routing_key="nowhere", mandatory=True)
    assert [name(f) for _, f in frames] == ["Basic.Return", "ContentHeader", "ContentBody",
                                            "Basic.Ack"]
    assert (frames[0][1].reply_code, frames[0][1].reply_text) == (312, "NO_ROUTE")
    assert frames[3][1].delivery_tag == 1 and frames[3][1].multiple is False
    assert wire.publish(1, routing_key="nowhere")[0][1].delivery_tag == 2
    assert wire.publish(1, routing_key="q1")[0][1].delivery_tag == 3


def test_tx_and_confirm_exclude_each_other(wire):
    wire.send(C.Confirm.Select(), 1)
    assert close_of(wire.send(C.Tx.Select(), 1)) == \
        (406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode", 90, 10)
    wire.open(2)
    wire.send(C.Tx.Select(), 2)
    assert close_of(wire.send(C.Confirm.Select(), 2)) == \
        (406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode", 85, 10)
    wire.open(3)
    assert close_of(wire.send(C.Tx.Commit(), 3)) == \
        (406, "PRECONDITION_FAILED - channel is not transactional", 90, 20)


def test_transactions(wire):
    wire.send(C.Tx.Select(), 1)
    wire.publish(1, b"t1", routing_key="q1")
    assert wire.send(Q.Declare(queue="q1", passive=True), 1)[0][1].message_count == 0
    wire.send(C.Tx.Commit(), 1)
    assert wire.send(Q.Declare(queue="q1", passive=True), 1)[0][1].message_count == 1
    wire.publish(1, b"t2", routing_key="q1")
    wire.send(C.Tx.Rollback(), 1)
    wire.send(B.Get(queue="q1"), 1)
    wire.send(B.Ack(delivery_tag=1), 1)
    wire.send(C.Tx.Rollback(), 1)
    wire.send(B.Ack(delivery_tag=1), 1)
    assert [name(f) for _, f in wire.send(C.Tx.Commit(), 1)] == ["Tx.CommitOk"]
    assert wire.send(Q.Declare(queue="q1", passive=True), 1)[0][1].message_count == 0


def test_properties_pass_through_byte_for_byte(wire):
    table = (b"\x01zl" + struct.pack(">q", 1) + b"\x01aL" + struct.pack(">q", 2)
             + b"\x01nF\x00\x00\x00\x03\x01kV" + b"\x01dD\x03\x00\x00\x00\x07")
    raw = b"\x30\x00" + b"\x00\x00\x00" + bytes([len(table)]) + table + b"\x02"
    header = struct.pack(">HHQ", 60, 0, 3) + raw
    wire.raw(codec.method_frame(1, codec.new(B.Publish, routing_key="q1"))
             + codec.frame(2, 1, header) + codec.frame(3, 1, b"abc"))
    out = wire.raw_bytes(codec.method_frame(1, codec.new(B.Get, queue="q1", no_ack=True)))
    assert codec.frame(2, 1, header) in out


def test_publish_checks(wire):
    cases = [
        (b"\x10\x00\x03", (406, "PRECONDITION_FAILED - invalid message: {delivery_mode_unknown,3}", 60, 40)),
        (b"\x01\x00\x03abc", (406, "PRECONDITION_FAILED - invalid expiration 'abc': no_integer", 60, 40)),
        (b"\x01\x00\x02-5", (406, "PRECONDITION_FAILED - invalid expiration '-5': {value_negative,-5}", 60, 40)),
        (b"\x01\x00\x025x", (406, "PRECONDITION_FAILED - invalid expiration '5x': {leftover_string,\"x\"}", 60, 40)),
        (b"\x01\x00\x1499999999999999999999", (406, "PRECONDITION_FAILED - invalid expiration "
         "'99999999999999999999': {value_too_large,\n" + " " * 44 + "99999999999999999999}", 60, 40)),
        (b"\x00\x10\x03bob", (406, "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'", 60, 40)),
        (b"\x20\x00\x00\x00\x00\x08\x02CCS\x00\x00\x00\x00",
         (406, 'PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"CC",longstr}', 60, 40)),
    ]
    for number, (raw, expected) in enumerate(cases, 2):
        wire.open(number)
        frames = wire.raw(codec.method_frame(number, codec.new(B.Publish, routing_key="q1"))
                          + codec.frame(2, number, struct.pack(">HHQ", 60, 0, 1) + raw)
                          + codec.frame(3, number, b"x"))
        assert close_of(frames) == expected


@pytest.mark.parametrize("raw", [b"\x00\x00xyz", b"\x80\x00\x05ab", b"\x20\x00\x00\x00\x00\x03\x01aZ"])
def test_malformed_properties_are_an_internal_error(wire, raw):
    frames = wire.raw(codec.method_frame(1, codec.new(B.Publish, routing_key="q1"))
                      + codec.frame(2, 1, struct.pack(">HHQ", 60, 0, 1) + raw)
                      + codec.frame(3, 1, b"x"))
    assert close_of(frames) == (541, "INTERNAL_ERROR", 0, 0)


def test_cc_and_bcc(wire):
    wire.send(Q.Declare(queue="q2"), 1)
    wire.send(Q.Declare(queue="q3"), 1)
    wire.publish(1, b"cc", routing_key="q1",
                 properties=C.Basic.Properties(headers={"CC": ["q2"], "BCC": ["q3"], "z": 1}))
    for queue in ("q1", "q2", "q3"):
        (_m, props, body), = messages(wire.send(B.Get(queue=queue, no_ack=True), 1))
        assert body == b"cc" and props.headers == {"CC": ["q2"], "z": 1}


def test_immediate_and_oversized(wire):
    frames = wire.raw(codec.method_frame(1, codec.new(B.Publish, routing_key="q1", immediate=True))
                      + codec.frame(2, 1, struct.pack(">HHQ", 60, 0, 0) + b"\x00\x00"))
    assert close_of(frames) == (540, "NOT_IMPLEMENTED - immediate=true", 60, 40)
    broker = Broker()
    broker.limits.max_message_size = 10
    small = Wire(broker)
    small.open(1)
    assert close_of(small.publish(1, b"x" * 11, routing_key="q")) == \
        (406, "PRECONDITION_FAILED - message size 11 is larger than configured max size 10", 60, 40)


def test_publish_to_internal_or_missing_exchange(wire):
    wire.send(X.Declare(exchange="int", exchange_type="direct", internal=True), 1)
    assert close_of(wire.publish(1, exchange="int")) == \
        (403, "ACCESS_REFUSED - cannot publish to internal exchange 'int' in vhost '/'", 60, 40)
    wire.open(2)
    assert close_of(wire.publish(2, exchange="nope")) == \
        (404, "NOT_FOUND - no exchange 'nope' in vhost '/'", 60, 40)


def test_most_recent_queue_shortcuts(wire):
    wire.open(2)
    assert close_of(wire.send(B.Get(queue=""), 2)) == (404, "NOT_FOUND - no previously declared queue", 60, 70)
    wire.send(X.Declare(exchange="e1", exchange_type="direct"), 1)
    wire.send(Q.Bind(queue="", exchange="e1", routing_key=""), 1)   # queue and key: "q1"
    wire.publish(1, b"s", exchange="e1", routing_key="q1")
    assert messages(wire.send(B.Get(queue="", no_ack=True), 1))[0][2] == b"s"


def test_flow_and_access_request(wire):
    assert wire.send(C.Channel.Flow(active=True), 1)[0][1].active is True
    data = wire.raw_bytes(codec.method_frame(1, codec.new(codec.Access.Request, realm="/data")))
    assert data == codec.frame(1, 1, b"\x00\x1e\x00\x0b\x00\x01")


def test_backpressure_parks_consumers_until_writable(wire):
    wire.send(B.Consume(queue="q1", consumer_tag="a", no_ack=True), 1)
    wire.conn.pause_writing()
    assert deliveries(publish_n(wire, 3)) == []
    wire.conn.resume_writing()
    assert [b for _, _, _, b in deliveries(wire.output())] == [b"m0", b"m1", b"m2"]


def test_consumer_priorities(wire):
    wire.send(B.Consume(queue="q1", consumer_tag="low", no_ack=True), 1)
    wire.send(B.Consume(queue="q1", consumer_tag="high", no_ack=True,
                        arguments={"x-priority": 5}), 1)
    assert {c for c, _, _, _ in deliveries(publish_n(wire, 3))} == {"high"}


# -- direct reply-to ------------------------------------------------------------------------
def test_direct_reply_to_round_trip():
    broker = Broker()
    client, server = Wire(broker), Wire(broker)
    client.open(1)
    server.open(1)
    client.send(Q.Declare(queue="rpc"), 1)
    assert client.send(B.Consume(queue="amq.rabbitmq.reply-to", consumer_tag="r", no_ack=True),
                       1)[0][1].consumer_tag == "r"
    client.publish(1, b"req", routing_key="rpc",
                   properties=C.Basic.Properties(reply_to="amq.rabbitmq.reply-to"))
    (_m, props, _b), = messages(server.send(B.Get(queue="rpc", no_ack=True), 1))
    address = props.reply_to
    assert address.startswith("amq.rabbitmq.reply-to.") and len(address) > 30
    declared = server.raw(codec.method_frame(1, codec.new(Q.Declare, queue=address, passive=True)))
    assert (declared[0][1].message_count, declared[0][1].consumer_count) == (0, 1)
    for body in (b"one", b"two"):
        reply = server.raw(codec.method_frame(1, codec.new(B.Publish, routing_key=address,
                                                            mandatory=True))
                           + codec.frame(2, 1, struct.pack(">HHQ", 60, 0, 3) + b"\x00\x00")
                           + codec.frame(3, 1, body))
        assert name(reply[0][1]) == "Basic.Return"  # not queued: unroutable, as RabbitMQ says
    got = deliveries(client.output())
    assert got == [("r", 1, False, b"one"), ("r", 1, False, b"two")]  # RabbitMQ reuses the tag
    client.send(B.Cancel(consumer_tag="r"), 1)
    gone = server.raw(codec.method_frame(1, codec.new(Q.Declare, queue=address, passive=True)))
    assert close_of(gone)[0] == 404


def test_direct_reply_to_errors(wire):
    assert wire.send(Q.Declare(queue="amq.rabbitmq.reply-to"), 1)[0][1].consumer_count == 1
    assert close_of(wire.send(B.Consume(queue="amq.rabbitmq.reply-to"), 1)) == \
        (406, "PRECONDITION_FAILED - reply consumer cannot acknowledge", 60, 20)
    wire.open(2)
    assert close_of(wire.publish(2, routing_key="q1", properties=C.Basic.Properties(
        reply_to="amq.rabbitmq.reply-to"))) == \
        (406, "PRECONDITION_FAILED - fast reply consumer does not exist", 60, 40)
    wire.open(3)
    wire.send(B.Consume(queue="amq.rabbitmq.reply-to", consumer_tag="r", no_ack=True), 3)
    assert close_of(wire.send(B.Consume(queue="amq.rabbitmq.reply-to", consumer_tag="s",
                                        no_ack=True), 3)) == \
        (406, "PRECONDITION_FAILED - reply consumer already set", 60, 20)

"""Channel and connection errors: the reply code, the reply text in RabbitMQ's wording, whether
the channel or the whole connection is closed, and that the rest of the connection keeps working
after a channel error. Every expectation below is what RabbitMQ 3.10 answers."""

import pytest
from pamqp import commands as C

from yizhan.testing.amqp import broker_error, unique


class Names(dict):
    """q, q2, x: names no other test uses; `fmt` fills them into an expected reply text."""

    def __init__(self):
        super().__init__(q=unique("q"), q2=unique("q"), x=unique("x"), x2=unique("x"))

    def __getattr__(self, name):
        return self[name]


def sync(ch):
    """A synchronous call after an asynchronous one (publish, ack), so its error surfaces."""
    ch.queue_declare("", exclusive=True)


def publish_then_get(ch, n):
    ch.queue_declare(n.q, exclusive=True)
    ch.basic_publish("", n.q, b"m")
    return ch.basic_get(n.q)[0]


def consume_noop(ch, queue, **kw):
    return ch.basic_consume(queue, lambda *args: None, **kw)


CHANNEL_ERRORS = {
    # 404 NOT_FOUND
    "passive-declare-missing-queue": (lambda ch, n: ch.queue_declare(n.q, passive=True),
                                      404, "NOT_FOUND - no queue '{q}' in vhost '/'"),
    "passive-declare-missing-exchange": (lambda ch, n: ch.exchange_declare(n.x, passive=True),
                                         404, "NOT_FOUND - no exchange '{x}' in vhost '/'"),
    "bind-to-missing-exchange": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.queue_bind(n.q, n.x)),
                                 404, "NOT_FOUND - no exchange '{x}' in vhost '/'"),
    "bind-missing-queue": (lambda ch, n: ch.queue_bind(n.q, "amq.direct", "k"),
                           404, "NOT_FOUND - no queue '{q}' in vhost '/'"),
    "publish-to-missing-exchange": (lambda ch, n: (ch.basic_publish(n.x, "k", b"m"), sync(ch)),
                                    404, "NOT_FOUND - no exchange '{x}' in vhost '/'"),
    "consume-missing-queue": (lambda ch, n: consume_noop(ch, n.q),
                              404, "NOT_FOUND - no queue '{q}' in vhost '/'"),
    "get-missing-queue": (lambda ch, n: ch.basic_get(n.q), 404, "NOT_FOUND - no queue '{q}' in vhost '/'"),
    "purge-missing-queue": (lambda ch, n: ch.queue_purge(n.q), 404, "NOT_FOUND - no queue '{q}' in vhost '/'"),
    "exchange-bind-missing-source": (lambda ch, n: (ch.exchange_declare(n.x, "fanout", auto_delete=True),
                                                    ch.exchange_bind(n.x, n.x2)),
                                     404, "NOT_FOUND - no exchange '{x2}' in vhost '/'"),
    "bind-last-declared-queue-none": (lambda ch, n: ch.queue_bind("", "amq.fanout"),
                                      404, "NOT_FOUND - no previously declared queue"),
    "get-last-declared-queue-none": (lambda ch, n: ch.basic_get(""), 404, "NOT_FOUND - no previously declared queue"),
    "purge-last-declared-queue-none": (lambda ch, n: ch.queue_purge(""), 404, "NOT_FOUND - no previously declared queue"),
    "delete-last-declared-queue-none": (lambda ch, n: ch.queue_delete(""), 404, "NOT_FOUND - no previously declared queue"),
    "consume-last-declared-queue-none": (lambda ch, n: consume_noop(ch, ""), 404, "NOT_FOUND - no previously declared queue"),
    "last-declared-queue-is-per-channel": (lambda ch, n: (ch.connection.channel().queue_declare(n.q, exclusive=True),
                                                          ch.basic_get("")),
                                           404, "NOT_FOUND - no previously declared queue"),
    "passive-declare-empty-name": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.queue_declare("", passive=True)),
                                   404, "NOT_FOUND - no queue '' in vhost '/'"),
    "exchange-bind-missing-destination": (lambda ch, n: ch.exchange_bind(n.x, "amq.direct", "k"),
                                          404, "NOT_FOUND - no exchange '{x}' in vhost '/'"),
    # 406 PRECONDITION_FAILED: inequivalent re-declarations
    "queue-durable-differs": (lambda ch, n: (ch.queue_declare(n.q, auto_delete=True),
                                             ch.queue_declare(n.q, durable=True, auto_delete=True)),
                              406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '{q}' in vhost '/': "
                                   "received 'true' but current is 'false'"),
    "queue-auto-delete-differs": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True),
                                                 ch.queue_declare(n.q, exclusive=True, auto_delete=True)),
                                  406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '{q}' in "
                                       "vhost '/': received 'true' but current is 'false'"),
    "queue-argument-differs": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True, arguments={"x-max-length": 10}),
                                              ch.queue_declare(n.q, exclusive=True, arguments={"x-max-length": 20})),
                               406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '{q}' in "
                                    "vhost '/': received '20' but current is '10'"),
    "queue-argument-missing": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True, arguments={"x-max-length": 10}),
                                              ch.queue_declare(n.q, exclusive=True)),
                               406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '{q}' in "
                                    "vhost '/': received none but current is the value '10' of type 'signedint'"),
    "queue-argument-added": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True),
                                            ch.queue_declare(n.q, exclusive=True, arguments={"x-max-length": 10})),
                             406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '{q}' in "
                                  "vhost '/': received the value '10' of type 'signedint' but current is none"),
    "exchange-type-differs": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                             ch.exchange_declare(n.x, "fanout", auto_delete=True)),
                              406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '{x}' in vhost '/': "
                                   "received 'fanout' but current is 'direct'"),
    "exchange-durable-differs": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                                ch.exchange_declare(n.x, "direct", durable=True, auto_delete=True)),
                                 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '{x}' in "
                                      "vhost '/': received 'true' but current is 'false'"),
    "exchange-auto-delete-differs": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                                    ch.exchange_declare(n.x, "direct")),
                                     406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for exchange '{x}' "
                                          "in vhost '/': received 'false' but current is 'true'"),
    "exchange-internal-differs": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                                 ch.exchange_declare(n.x, "direct", auto_delete=True, internal=True)),
                                  406, "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange '{x}' in "
                                       "vhost '/': received 'true' but current is 'false'"),
    "exchange-argument-added": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                               ch.exchange_declare(n.x, "direct", auto_delete=True,
                                                                   arguments={"alternate-exchange": "ae"})),
                                406, "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange "
                                     "'{x}' in vhost '/': received the value 'ae' of type 'longstr' but current is none"),
    "redeclare-amq-direct-non-durable": (lambda ch, n: ch.exchange_declare("amq.direct", "direct"),
                                         406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange "
                                              "'amq.direct' in vhost '/': received 'false' but current is 'true'"),
    # 406: acknowledgements and modes
    "ack-unknown-tag": (lambda ch, n: (ch.basic_ack(99), sync(ch)), 406, "PRECONDITION_FAILED - unknown delivery tag 99"),
    "nack-unknown-tag": (lambda ch, n: (ch.basic_nack(7), sync(ch)), 406, "PRECONDITION_FAILED - unknown delivery tag 7"),
    "reject-unknown-tag": (lambda ch, n: (ch.basic_reject(5), sync(ch)), 406, "PRECONDITION_FAILED - unknown delivery tag 5"),
    "ack-tag-zero": (lambda ch, n: (ch.basic_ack(0), sync(ch)), 406, "PRECONDITION_FAILED - unknown delivery tag 0"),
    "ack-multiple-unknown": (lambda ch, n: (ch.basic_ack(5, multiple=True), sync(ch)),
                             406, "PRECONDITION_FAILED - unknown delivery tag 5"),
    "double-ack": (lambda ch, n: (lambda tag: (ch.basic_ack(tag), ch.basic_ack(tag), sync(ch)))(
                       publish_then_get(ch, n).delivery_tag),
                   406, "PRECONDITION_FAILED - unknown delivery tag 1"),
    "ack-after-auto-ack-get": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.basic_publish("", n.q, b"m"),
                                              ch.basic_ack(ch.basic_get(n.q, auto_ack=True)[0].delivery_tag), sync(ch)),
                               406, "PRECONDITION_FAILED - unknown delivery tag 1"),
    "tx-commit-without-select": (lambda ch, n: ch.tx_commit(), 406, "PRECONDITION_FAILED - channel is not transactional"),
    "tx-rollback-without-select": (lambda ch, n: ch.tx_rollback(), 406, "PRECONDITION_FAILED - channel is not transactional"),
    "confirm-after-tx": (lambda ch, n: (ch.tx_select(), ch.confirm_delivery()),
                         406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode"),
    "tx-after-confirm": (lambda ch, n: (ch.confirm_delivery(), ch.tx_select()),
                         406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode"),
    "delete-queue-if-unused": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), consume_noop(ch, n.q),
                                              ch.queue_delete(n.q, if_unused=True)),
                               406, "PRECONDITION_FAILED - queue '{q}' in vhost '/' in use"),
    "delete-queue-if-empty": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.basic_publish("", n.q, b"m"),
                                             ch.queue_delete(n.q, if_empty=True)),
                              406, "PRECONDITION_FAILED - queue '{q}' in vhost '/' not empty"),
    "delete-exchange-if-unused": (lambda ch, n: (ch.exchange_declare(n.x, "fanout"), ch.queue_declare(n.q, exclusive=True),
                                                 ch.queue_bind(n.q, n.x), ch.exchange_delete(n.x, if_unused=True)),
                                  406, "PRECONDITION_FAILED - exchange '{x}' in vhost '/' in use"),
    "user-id-not-the-login": (lambda ch, n: (ch.basic_publish("", n.q, b"m", _props(user_id="bob")), sync(ch)),
                              406, "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"),
    "headers-binding-bad-x-match": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True),
                                                   ch.queue_bind(n.q, "amq.headers", arguments={"x-match": "most"})),
                                    406, "PRECONDITION_FAILED - Invalid x-match field value <<\"most\">>; expected all, "
                                         "any, all-with-x, or any-with-x"),
    "headers-binding-x-match-not-a-string": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True),
                                                            ch.queue_bind(n.q, "amq.headers", arguments={"x-match": 1})),
                                             406, "PRECONDITION_FAILED - Invalid x-match field type signedint (value 1); "
                                                  "expected longstr"),
    "expiration-not-a-number": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(expiration="abc")), sync(ch)),
                                406, "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"),
    "expiration-empty": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(expiration="")), sync(ch)),
                         406, "PRECONDITION_FAILED - invalid expiration '': no_integer"),
    "expiration-negative": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(expiration="-1")), sync(ch)),
                            406, "PRECONDITION_FAILED - invalid expiration '-1': {{value_negative,-1}}"),
    "expiration-fraction": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(expiration="1.5")), sync(ch)),
                            406, "PRECONDITION_FAILED - invalid expiration '1.5': {{leftover_string,\".5\"}}"),
    "expiration-too-large": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(expiration="9" * 20)), sync(ch)),
                             406, "PRECONDITION_FAILED - invalid expiration '99999999999999999999': {{value_too_large,\n"
                                  + " " * 44 + "99999999999999999999}}"),     # Erlang's ~p wraps the term
    "unknown-delivery-mode": (lambda ch, n: (ch.basic_publish("", "q", b"m", _props(delivery_mode=7)), sync(ch)),
                              406, "PRECONDITION_FAILED - invalid message: {{delivery_mode_unknown,7}}"),
    # 403 ACCESS_REFUSED
    "declare-amq-exchange": (lambda ch, n: ch.exchange_declare("amq.x" + n.x, "direct"),
                             403, "ACCESS_REFUSED - exchange name 'amq.x{x}' contains reserved prefix 'amq.*'"),
    "declare-amq-queue": (lambda ch, n: ch.queue_declare("amq.q" + n.q),
                          403, "ACCESS_REFUSED - queue name 'amq.q{q}' contains reserved prefix 'amq.*'"),
    "delete-amq-direct": (lambda ch, n: ch.exchange_delete("amq.direct"),
                          403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed"),
    "declare-default-exchange": (lambda ch, n: ch.exchange_declare("", "direct"),
                                 403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "passive-declare-default-exchange": (lambda ch, n: ch.exchange_declare("", passive=True),
                                         403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "redeclare-server-named-queue": (lambda ch, n: ch.queue_declare(ch.queue_declare("", exclusive=True).method.queue,
                                                                    exclusive=True),
                                     403, "ACCESS_REFUSED - queue name '{gen}' contains reserved prefix 'amq.*'"),
    "delete-amq-fanout-if-unused": (lambda ch, n: ch.exchange_delete("amq.fanout", if_unused=True),
                                    403, "ACCESS_REFUSED - deletion of system exchange 'amq.fanout' in vhost '/' not allowed"),
    "delete-default-exchange": (lambda ch, n: ch.exchange_delete(""),
                                403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "bind-to-default-exchange": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.queue_bind(n.q, "", n.q)),
                                 403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "unbind-from-default-exchange": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.queue_unbind(n.q, "", n.q)),
                                     403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "exchange-bind-default-source": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True),
                                                    ch.exchange_bind(n.x, "", "k")),
                                     403, "ACCESS_REFUSED - operation not permitted on the default exchange"),
    "publish-to-internal-exchange": (lambda ch, n: (ch.exchange_declare(n.x, "direct", auto_delete=True, internal=True),
                                                    ch.basic_publish(n.x, "k", b"m"), sync(ch)),
                                     403, "ACCESS_REFUSED - cannot publish to internal exchange '{x}' in vhost '/'"),
    "exclusive-consume-on-busy-queue": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), consume_noop(ch, n.q),
                                                       consume_noop(ch, n.q, exclusive=True)),
                                        403, "ACCESS_REFUSED - queue '{q}' in vhost '/' in exclusive use"),
    "consume-on-exclusively-consumed-queue": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True),
                                                             consume_noop(ch, n.q, exclusive=True), consume_noop(ch, n.q)),
                                              403, "ACCESS_REFUSED - queue '{q}' in vhost '/' in exclusive use"),
    # 405 RESOURCE_LOCKED: an exclusive queue re-declared without exclusive on its own connection
    "exclusive-flag-differs": (lambda ch, n: (ch.queue_declare(n.q, exclusive=True), ch.queue_declare(n.q)),
                               405, "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{q}' in vhost "
                                    "'/'. It could be originally declared on another connection or the exclusive "
                                    "property value does not match that of the original declaration."),
}


def _props(**kw):
    import pika

    return pika.BasicProperties(**kw)


class RecordingChannel:
    """A pika channel that remembers the last server-generated queue name (as {gen})."""

    def __init__(self, channel, names):
        self._channel, self._names = channel, names

    def __getattr__(self, name):
        return getattr(self._channel, name)

    def queue_declare(self, queue, *args, **kwargs):
        ok = self._channel.queue_declare(queue, *args, **kwargs)
        if queue == "":
            self._names["gen"] = ok.method.queue
        return ok


@pytest.mark.parametrize("case", sorted(CHANNEL_ERRORS))
def test_channel_error(broker, case):
    action, code, text = CHANNEL_ERRORS[case]
    names = Names()
    connection = broker.connect()
    channel = connection.channel()
    assert broker_error(action, RecordingChannel(channel, names), names) == ("channel", code, text.format(**names))
    assert channel.is_closed and connection.is_open
    other = connection.channel()                  # the connection still works
    assert other.exchange_declare("amq.direct", passive=True).method.NAME == "Exchange.DeclareOk"


EXCLUSIVE_ELSEWHERE = {
    "declare": lambda ch, q: ch.queue_declare(q, exclusive=True),
    "declare-not-exclusive": lambda ch, q: ch.queue_declare(q),
    "passive-declare": lambda ch, q: ch.queue_declare(q, passive=True),
    "consume": lambda ch, q: consume_noop(ch, q),
    "get": lambda ch, q: ch.basic_get(q),
    "bind": lambda ch, q: ch.queue_bind(q, "amq.fanout"),
    "purge": lambda ch, q: ch.queue_purge(q),
    "delete": lambda ch, q: ch.queue_delete(q),
}


@pytest.mark.parametrize("operation", sorted(EXCLUSIVE_ELSEWHERE))
def test_exclusive_queue_from_another_connection(broker, operation):
    q = unique("excl")
    owner = broker.channel()
    owner.queue_declare(q, exclusive=True)
    assert broker_error(EXCLUSIVE_ELSEWHERE[operation], broker.channel(), q) == (
        "channel", 405,
        f"RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{q}' in vhost '/'. It could be "
        "originally declared on another connection or the exclusive property value does not match that of "
        "the original declaration.")
    assert owner.queue_declare(q, passive=True).method.queue == q


CONNECTION_ERRORS = {
    "prefetch-size": (lambda ch: ch.basic_qos(prefetch_size=10), 540, "NOT_IMPLEMENTED - prefetch_size!=0 (10)"),
    "channel-flow-off": (lambda ch: ch.flow(False), 540, "NOT_IMPLEMENTED - active=false"),
    "recover-without-requeue": (lambda ch: ch.basic_recover(requeue=False), 540, "NOT_IMPLEMENTED - requeue=false"),
    "unknown-exchange-type": (lambda ch: ch.exchange_declare(unique("x"), "nope"),
                              503, "COMMAND_INVALID - unknown exchange type 'nope'"),
}


@pytest.mark.parametrize("case", sorted(CONNECTION_ERRORS))
def test_connection_error(broker, case):
    action, code, text = CONNECTION_ERRORS[case]
    connection = broker.connect()
    assert broker_error(action, connection.channel()) == ("connection", code, text)
    assert connection.is_closed


def test_channel_error_leaves_other_channels_and_connections_alone(broker):
    q = unique("q")
    connection = broker.connect()
    survivor = connection.channel()
    survivor.queue_declare(q, exclusive=True)
    doomed = connection.channel()
    assert broker_error(doomed.queue_declare, unique("q"), passive=True)[1] == 404
    survivor.basic_publish("", q, b"still here")
    assert survivor.basic_get(q, auto_ack=True)[2] == b"still here"
    broken = broker.connect()
    assert broker_error(broken.channel().basic_qos, prefetch_size=1)[0] == "connection"
    assert survivor.queue_declare(q, passive=True).method.message_count == 0


# -- errors that need raw frames: (what to send after the handshake, code, text, class, method) --
def _publish(immediate=False, mandatory=False):
    return C.Basic.Publish(exchange="", routing_key="nowhere", immediate=immediate, mandatory=mandatory)


def _frame(kind, channel, payload, end=b"\xce"):
    import struct

    return struct.pack(">BHI", kind, channel, len(payload)) + payload + end


RAW_CONNECTION_ERRORS = {
    "second-channel-open": (lambda raw: raw.send(1, C.Channel.Open()),
                            504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10),
    "method-on-unopened-channel": (lambda raw: raw.send(2, C.Queue.Declare(queue="", exclusive=True)),
                                   504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10),
    "method-after-channel-close": (lambda raw: (raw.call(1, C.Channel.Close(reply_code=200, reply_text="bye",
                                                                            class_id=0, method_id=0)),
                                                raw.send(1, C.Queue.Declare(queue="", exclusive=True))),
                                   504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10),
    "queue-declare-on-channel-0": (lambda raw: raw.send(0, C.Queue.Declare(queue="", exclusive=True)),
                                   504, "CHANNEL_ERROR - unexpected method in connection state running", 50, 10),
    "publish-immediate": (lambda raw: raw.send_bytes(
                              _raw_publish(raw, _publish(immediate=True), b"m")),
                          540, "NOT_IMPLEMENTED - immediate=true", 60, 40),
    "consumer-tag-reuse": (lambda raw: (raw.call(1, C.Queue.Declare(queue="", exclusive=True)),
                                        raw.call(1, C.Basic.Consume(queue="", consumer_tag="ct")),
                                        raw.send(1, C.Basic.Consume(queue="", consumer_tag="ct"))),
                           530, "NOT_ALLOWED - attempt to reuse consumer tag 'ct'", 60, 20),
    "connection-open-twice": (lambda raw: raw.send(0, C.Connection.Open(virtual_host="/")),
                              504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 40),
    "tune-ok-after-open": (lambda raw: raw.send(0, C.Connection.TuneOk(channel_max=10, frame_max=4096, heartbeat=0)),
                           504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 31),
    "content-header-of-another-class": (lambda raw: (raw.send(1, _publish()),
                                                     raw.send_bytes(_frame(2, 1, b"\x00\x32\x00\x00" + bytes(8) + b"\x00\x00"))),
                                        505, "UNEXPECTED_FRAME - expected content header for class 60, got one for "
                                             "class 50 instead", 60, 40),
    "truncated-method-arguments": (lambda raw: raw.send_bytes(_frame(1, 1, b"\x00\x32\x00\x0a\x00\x00\x05ab")),
                                   501, "FRAME_ERROR - cannot decode <<0,0,5,97,98>>", 50, 10),
    "body-without-method": (lambda raw: raw.send_bytes(_frame(3, 1, b"hello")),
                            505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0),
    "header-without-method": (lambda raw: raw.send_bytes(_frame(2, 1, b"\x00\x3c\x00\x00" + bytes(8) + b"\x00\x00")),
                              505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0),
    "method-instead-of-content-header": (lambda raw: raw.send(1, _publish(), C.Queue.Declare(queue="", exclusive=True)),
                                         505, "UNEXPECTED_FRAME - expected content header for class 60, got non "
                                              "content header frame instead", 60, 40),
    "heartbeat-on-channel-1": (lambda raw: raw.send_bytes(_frame(8, 1, b"")),
                               505, "UNEXPECTED_FRAME - type 8, all octets = <<>>", 0, 0),
    "unknown-frame-type": (lambda raw: raw.send_bytes(_frame(9, 1, b"x")),
                           501, 'FRAME_ERROR - type 9, all octets = <<"x">>: unknown_frame', 0, 0),
    "bad-frame-end": (lambda raw: raw.send_bytes(_frame(1, 1, b"\x00\x32\x00\x0a", end=b"\xcd")),
                      501, "FRAME_ERROR - type 1, all octets = <<0,50,0,10>>: {invalid_frame_end_marker,205}", 0, 0),
    "frame-larger-than-frame-max": (lambda raw: raw.send_bytes(_frame(3, 1, b"x" * 131082)),
                                    501, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,131082,131064}", 0, 0),
}


def _raw_publish(raw, method, body):
    from pamqp import body as B, frame, header

    return (frame.marshal(method, 1) + frame.marshal(header.ContentHeader(0, len(body), C.Basic.Properties()), 1)
            + frame.marshal(B.ContentBody(body), 1))


@pytest.mark.parametrize("case", sorted(RAW_CONNECTION_ERRORS))
def test_raw_connection_error(broker, case):
    action, code, text, class_id, method_id = RAW_CONNECTION_ERRORS[case]
    raw = broker.raw()
    action(raw)
    close = raw.expect_method(0)
    assert (close.name, close.reply_code, close.reply_text, close.class_id, close.method_id) == (
        "Connection.Close", code, text, class_id, method_id)
    raw.send(0, C.Connection.CloseOk())
    assert raw.read_until_closed() == b""


def test_raw_channel_error_names_the_failing_method(broker):
    raw = broker.raw()
    q = unique("q")
    raw.send(1, C.Queue.Declare(queue=q, passive=True))
    close = raw.expect_method(1)
    assert (close.name, close.reply_code, close.reply_text, close.class_id, close.method_id) == (
        "Channel.Close", 404, f"NOT_FOUND - no queue '{q}' in vhost '/'", 50, 10)
    raw.send(1, C.Channel.CloseOk())
    assert raw.call(1, C.Channel.Open()).name == "Channel.OpenOk"      # the channel number is free again
    raw.send(1, C.Basic.Ack(delivery_tag=3))
    close = raw.expect_method(1)
    assert (close.reply_code, close.reply_text, close.class_id, close.method_id) == (
        406, "PRECONDITION_FAILED - unknown delivery tag 3", 60, 80)


def test_frames_on_a_closing_channel_are_ignored_until_close_ok(broker):
    raw = broker.raw()
    raw.send(1, C.Queue.Declare(queue=unique("q"), passive=True))
    assert raw.expect_method(1).name == "Channel.Close"
    raw.send(1, C.Queue.Declare(queue="", exclusive=True))        # dropped: the channel is closing
    raw.send(1, C.Channel.CloseOk())
    raw.send(1, C.Channel.Open())
    assert raw.expect_method(1).name == "Channel.OpenOk"

"""The connection as RabbitMQ 3.10 runs it: protocol header, Connection.Start, login (PLAIN and
AMQPLAIN), Tune negotiation, vhosts, heartbeats, closing, and bodies split at frame_max."""

import struct

import pytest
from pamqp import commands as C, encode

from yizhan.testing.amqp import PROTOCOL_HEADER, WAIT, body_bytes, content_header_bytes, unique, wait_gone, wait_until

SUPPORTED_HEADER = b"AMQP\x00\x00\x09\x01"


@pytest.mark.parametrize("header", [b"HTTP/1.1", b"AMQP\x00\x00\x09\x00", b"AMQP\x00\x00\x08\x00",
                                    b"AMQP\x00\x01\x00\x00"], ids=["http", "revision-0", "0-8", "1-0"])
def test_wrong_protocol_header_gets_the_supported_one_and_a_close(broker, header):
    raw = broker.socket()
    raw.send_bytes(header)
    assert raw.read_until_closed() == SUPPORTED_HEADER


def test_connection_start(broker):
    raw = broker.socket()
    raw.send_bytes(PROTOCOL_HEADER)
    start = raw.expect_method(0)
    assert (start.version_major, start.version_minor) == (0, 9)
    assert (sorted(start.mechanisms.split()), start.locales) == (["AMQPLAIN", "PLAIN"], "en_US")   # order varies by node
    props = start.server_properties
    assert {"product", "version", "platform", "copyright", "information", "capabilities"} <= set(props)
    capabilities = props["capabilities"]
    for name in ("publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
                 "connection.blocked", "per_consumer_qos", "authentication_failure_close"):
        assert capabilities.get(name) is True, name


def test_tune_proposals(broker):
    raw = broker.socket()
    raw.handshake()
    assert (raw.tune.channel_max, raw.tune.frame_max, raw.tune.heartbeat) == (2047, 131072, 60)


@pytest.mark.parametrize("asked,agreed", [
    ({}, (60, 131072, 2047)),
    ({"heartbeat": 5, "frame_max": 8192, "channel_max": 10}, (5, 8192, 10)),
    ({"heartbeat": 0}, (0, 131072, 2047)),
])
def test_tune_negotiation_smaller_client_values_win(broker, asked, agreed):
    params = broker.connect(**asked)._impl.params
    assert (params.heartbeat, params.frame_max, params.channel_max) == agreed


def amqplain(user: str, password: str) -> bytes:
    return encode.field_table({"LOGIN": user, "PASSWORD": password})[4:]


def start_ok_bytes(mechanism: str, response: bytes, auth_failure_close: bool = True) -> bytes:
    caps = {"capabilities": {"authentication_failure_close": True}} if auth_failure_close else {}
    payload = (struct.pack(">HH", 10, 11) + encode.field_table(caps) + encode.short_string(mechanism)
               + struct.pack(">I", len(response)) + response + encode.short_string("en_US"))
    return struct.pack(">BHI", 1, 0, len(payload)) + payload + b"\xce"


def login(broker, mechanism, response, auth_failure_close=True):
    raw = broker.socket()
    raw.send_bytes(PROTOCOL_HEADER)
    raw.expect_method(0)
    raw.send_bytes(start_ok_bytes(mechanism, response, auth_failure_close))
    return raw


@pytest.mark.parametrize("mechanism,response", [
    ("PLAIN", b"\0guest\0guest"), ("AMQPLAIN", amqplain("guest", "guest"))])
def test_login_succeeds(broker, mechanism, response):
    assert login(broker, mechanism, response).expect_method(0).name == "Connection.Tune"


@pytest.mark.parametrize("mechanism,response", [
    ("PLAIN", b"\0guest\0wrong"), ("PLAIN", b"\0nobody\0guest"), ("AMQPLAIN", amqplain("guest", "wrong"))],
    ids=["plain-bad-password", "plain-unknown-user", "amqplain-bad-password"])
def test_login_refused(broker, mechanism, response):
    raw = login(broker, mechanism, response)
    close = raw.expect_method(0)
    assert (close.name, close.reply_code, close.reply_text, close.class_id, close.method_id) == (
        "Connection.Close", 403, f"ACCESS_REFUSED - Login was refused using authentication mechanism {mechanism}. "
                                 "For details see the broker logfile.", 0, 0)


@pytest.mark.parametrize("mechanism,response,caps", [
    ("PLAIN", b"\0guest\0wrong", False), ("CRAM-MD5", b"x", True), ("PLAIN", b"garbage", True)],
    ids=["refused-without-auth-failure-close", "unknown-mechanism", "malformed-plain"])
def test_login_failure_drops_the_socket(broker, mechanism, response, caps):
    """Before Connection.Open, RabbitMQ answers these by closing the socket without a frame."""
    raw = login(broker, mechanism, response, caps)
    assert raw.read_until_closed() == b""


def test_unknown_vhost_reply(broker):
    raw = broker.socket()
    raw.send_bytes(PROTOCOL_HEADER)
    raw.expect_method(0)
    raw.send_bytes(start_ok_bytes("PLAIN", b"\0guest\0guest"))
    raw.expect_method(0)
    raw.send(0, C.Connection.TuneOk(channel_max=2047, frame_max=131072, heartbeat=0),
             C.Connection.Open(virtual_host="no-such-vhost"))
    close = raw.expect_method(0)
    assert (close.name, close.reply_code, close.reply_text, close.class_id, close.method_id) == (
        "Connection.Close", 530, "NOT_ALLOWED - vhost no-such-vhost not found", 10, 40)


def test_client_close_gets_close_ok(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    reply = raw.call(0, C.Connection.Close(reply_code=200, reply_text="bye", class_id=0, method_id=0))
    assert reply.name == "Connection.CloseOk"
    wait_gone(broker.connect(), q)                  # the exclusive queue went with its connection


def test_channel_close_and_reopen(broker):
    raw = broker.raw()
    assert raw.call(1, C.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0)).name == "Channel.CloseOk"
    assert raw.call(1, C.Channel.Open()).name == "Channel.OpenOk"
    assert raw.call(7, C.Channel.Open()).name == "Channel.OpenOk"
    assert raw.call(7, C.Queue.Declare(queue="", exclusive=True)).name == "Queue.DeclareOk"


def test_channel_flow_on_is_acknowledged(broker):
    ch = broker.channel()
    assert ch.flow(True) is True


def test_server_sends_heartbeats(broker):
    raw = broker.socket()
    raw.handshake(heartbeat=1)
    kinds = []
    while 8 not in kinds:
        kinds.append(raw.receive_raw()[0])      # WAIT-second socket timeout: no heartbeat fails
    assert kinds[-1] == 8


def test_silent_client_is_dropped(broker):
    """A client that negotiated heartbeats and then says nothing is disconnected (RabbitMQ does it
    after two missed intervals); the test only waits for the close, it does not time it."""
    raw = broker.socket()
    raw.handshake(heartbeat=1)
    raw.sock.settimeout(WAIT)
    with pytest.raises((ConnectionError, OSError)):
        while True:
            raw.receive_raw()


def test_client_heartbeats_keep_the_connection(broker):
    raw = broker.socket()
    raw.handshake(heartbeat=1)
    raw.open_channel(1)
    beats = 0
    while beats < 4:                                # about four seconds of heartbeats both ways
        kind, channel, _ = raw.receive_raw()
        if kind == 8:
            beats += 1
            raw.send_bytes(b"\x08\x00\x00\x00\x00\x00\x00\xce")
    assert raw.call(1, C.Queue.Declare(queue="", exclusive=True)).name == "Queue.DeclareOk"


@pytest.mark.parametrize("frame_max,size,expected", [
    (4096, 10000, [4088, 4088, 1824]),
    (4096, 4088, [4088]),
    (131072, 300000, [131064, 131064, 37872]),
    (4096, 0, []),
])
def test_delivered_bodies_are_split_at_frame_max(broker, frame_max, size, expected):
    raw = broker.raw(frame_max=frame_max)
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    raw.send(1, C.Basic.Publish(exchange="", routing_key=q))
    chunk = frame_max - 8
    raw.send_bytes(content_header_bytes(1, size, 0, b"")
                   + b"".join(body_bytes(1, body[i:i + chunk]) for i in range(0, size, chunk)))
    raw.send(1, C.Basic.Get(queue=q, no_ack=True))
    assert raw.expect_method(1).name == "Basic.GetOk"
    kind, _, header = raw.receive_raw()
    assert kind == 2 and struct.unpack(">Q", header[4:12])[0] == size
    sizes, received = [], b""
    while len(received) < size:
        kind, _, payload = raw.receive_raw()
        assert kind == 3
        sizes.append(len(payload))
        received += payload
    assert sizes == expected and received == body
    assert raw.call(1, C.Queue.Declare(queue=q, passive=True)).message_count == 0   # nothing else was sent


def test_large_message_through_pika(broker):
    ch = broker.channel(frame_max=4096)
    q = ch.queue_declare("", exclusive=True).method.queue
    body = bytes(range(256)) * 4000
    ch.basic_publish("", q, body)
    assert ch.basic_get(q, auto_ack=True)[2] == body


def test_many_channels_on_one_connection(broker):
    connection = broker.connect()
    q = unique("q")
    channels = [connection.channel() for _ in range(20)]
    channels[0].queue_declare(q, exclusive=True)
    for i, ch in enumerate(channels):
        ch.basic_publish("", q, str(i).encode())
    got = []

    def fetch():   # publishes from other channels may reach the queue after this channel's get
        body = channels[-1].basic_get(q, auto_ack=True)[2]
        if body is not None:
            got.append(body)
        return len(got) == 20

    wait_until(connection, fetch, "20 messages")
    assert sorted(got, key=int) == [str(i).encode() for i in range(20)]


def _publish(raw, channel, q, body):
    from pamqp import body as B, header

    raw.send(channel, C.Basic.Publish(exchange="", routing_key=q), header.ContentHeader(0, len(body), C.Basic.Properties()),
             B.ContentBody(body))


def test_content_frames_of_different_channels_may_interleave(broker):
    raw = broker.raw()
    raw.open_channel(2)
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    raw.send(1, C.Basic.Publish(exchange="", routing_key=q))
    raw.send_bytes(content_header_bytes(1, 6, 0, b"") + body_bytes(1, b"fir"))
    _publish(raw, 2, q, b"second")                   # a whole publish on channel 2 in between
    raw.send_bytes(body_bytes(1, b"st"))
    raw.send_bytes(body_bytes(1, b"!"))
    bodies = []
    while len(bodies) < 2:
        raw.send(1, C.Basic.Get(queue=q, no_ack=True))
        if raw.expect_method(1).name == "Basic.GetOk":
            raw.receive()
            bodies.append(raw.receive()[3])
    assert sorted(bodies) == [b"first!", b"second"]


def test_no_local_is_ignored(broker):
    """RabbitMQ does not implement no-local: a consumer gets its own connection's messages."""
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    raw.call(1, C.Basic.Consume(queue=q, consumer_tag="mine", no_local=True, no_ack=True))
    _publish(raw, 1, q, b"own")
    deliver = raw.expect_method(1)
    assert (deliver.name, deliver.consumer_tag) == ("Basic.Deliver", "mine")
    raw.receive()
    assert raw.receive()[3] == b"own"


@pytest.mark.filterwarnings("ignore:This command is deprecated:DeprecationWarning")
def test_recover_async_redelivers(broker):
    raw = broker.raw()
    q = raw.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    _publish(raw, 1, q, b"again")
    raw.call(1, C.Basic.Consume(queue=q, consumer_tag="c"))
    first = raw.expect_method(1)
    raw.receive(), raw.receive()
    raw.send(1, C.Basic.RecoverAsync(requeue=True))            # no reply: the redelivery follows
    second = raw.expect_method(1)
    assert (first.delivery_tag, first.redelivered, second.name, second.delivery_tag, second.redelivered) == (
        1, False, "Basic.Deliver", 2, True)


@pytest.mark.parametrize("garbage", [b"\x01\x00\x01\xff\xff\xff\xff" + b"x" * 64, b"\x00" * 64, bytes(range(256))],
                         ids=["huge-frame-size", "zeros", "every-byte"])
def test_garbage_from_one_client_does_not_disturb_another(broker, garbage):
    good = broker.raw()
    q = good.call(1, C.Queue.Declare(queue="", exclusive=True)).queue
    bad = broker.raw()
    bad.send_bytes(garbage)
    try:
        while True:                       # whatever it gets (a Connection.Close or nothing), the socket ends
            kind, channel, _ = bad.receive_raw()
            if kind == 1 and channel == 0:
                bad.send(0, C.Connection.CloseOk())
    except (ConnectionError, OSError, AssertionError):
        pass
    _publish(good, 1, q, b"still fine")
    good.send(1, C.Basic.Get(queue=q, no_ack=True))
    assert good.expect_method(1).name == "Basic.GetOk"
    good.receive()
    assert good.receive()[3] == b"still fine"


def test_update_secret(broker):
    """Connection.UpdateSecret (RabbitMQ's extension for refreshing a token), as aiormq sends it."""
    raw = broker.raw()
    reply = raw.call(0, C.Connection.UpdateSecret(new_secret="guest", reason="rotation"))
    assert reply.name == "Connection.UpdateSecretOk"
    assert raw.call(1, C.Queue.Declare(queue="", exclusive=True)).name == "Queue.DeclareOk"

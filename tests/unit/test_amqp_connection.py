"""The sans-IO AMQP connection: protocol header, handshake, tuning, heartbeats, channel
lifecycle and the framing errors, with reply codes and texts as RabbitMQ 3.10.8 sent them."""

from __future__ import annotations

import pytest
from pamqp import commands as C
from pamqp import frame as pframe
from pamqp import header as pheader

from yizhan.amqp import codec
from yizhan.amqp.broker import Broker
from yizhan.amqp.connection import AMQPConnection
from test_amqp_helpers import HEADER, Wire, close_of, name, parse

# connection.start's capabilities table exactly as RabbitMQ 3.10.8 sends it
RABBITMQ_CAPABILITIES = (
    b"\x0ccapabilitiesF\x00\x00\x00\xc7\x12publisher_confirmst\x01\x1aexchange_exchange_bindingst"
    b"\x01\nbasic.nackt\x01\x16consumer_cancel_notifyt\x01\x12connection.blockedt\x01\x13"
    b"consumer_prioritiest\x01\x1cauthentication_failure_closet\x01\x10per_consumer_qost\x01"
    b"\x0fdirect_reply_tot\x01")


def start(wire: Wire):
    return wire.raw(HEADER)


def test_connection_start_as_rabbitmq():
    wire = Wire(handshake=False)
    data = wire.raw_bytes(HEADER)
    assert data[:15] == b"\x01\x00\x00" + data[3:7] + b"\x00\n\x00\n\x00\t" + data[13:15]
    assert RABBITMQ_CAPABILITIES in data
    assert data.endswith(b"\x00\x00\x00\x0ePLAIN AMQPLAIN\x00\x00\x00\x05en_US\xce")
    method = parse(data)[0][1]
    props = method.server_properties
    assert list(props) == ["capabilities", "cluster_name", "copyright", "information",
                           "platform", "product", "version"]
    assert (props["product"], props["version"]) == ("RabbitMQ", "3.10.8")


@pytest.mark.parametrize("header", [b"AMQP\x00\x00\x09\x00", b"HTTP/1.1\r\n\r\n",
                                    b"AMQP\x00\x00\x08\x00", b"AMQP\x00\x01\x00\x00",
                                    b"AMQP\x01\x01\x08\x00"])
def test_wrong_protocol_header_gets_ours_and_a_close(header):
    wire = Wire(handshake=False)
    assert wire.raw_bytes(header) == b"AMQP\x00\x00\x09\x01"
    assert wire.conn.close_after == 0.0


def test_legacy_0_9_header_is_treated_as_0_9_1():
    wire = Wire(handshake=False)
    assert name(wire.raw(b"AMQP\x01\x01\x00\x09")[0][1]) == "Connection.Start"


def test_header_may_arrive_in_pieces():
    wire = Wire(handshake=False)
    assert wire.raw(b"AMQ") == []
    assert name(wire.raw(b"P\x00\x00\x09\x01")[0][1]) == "Connection.Start"


def _start_ok(wire: Wire, caps, response="\0guest\0bad", mechanism="PLAIN"):
    start(wire)
    return wire.send(C.Connection.StartOk(client_properties={"capabilities": caps},
                                          mechanism=mechanism, response=response))


def test_wrong_password_with_authentication_failure_close():
    wire = Wire(handshake=False)
    frames = _start_ok(wire, {"authentication_failure_close": True})
    assert close_of(frames) == (403, "ACCESS_REFUSED - Login was refused using authentication "
                                "mechanism PLAIN. For details see the broker logfile.", 0, 0)
    assert wire.conn.close_after == 3.0


def test_wrong_password_without_capability_is_a_silent_close():
    wire = Wire(handshake=False)
    assert _start_ok(wire, {}) == []
    assert wire.conn.close_after == 3.0


@pytest.mark.parametrize("mechanism,response", [("FOO", "\0guest\0guest"), ("PLAIN", "garbage"),
                                                ("PLAIN", "x\0guest\0guest")])
def test_bad_mechanism_or_response_is_a_silent_close(mechanism, response):
    wire = Wire(handshake=False)
    assert _start_ok(wire, {}, response, mechanism) == []
    assert wire.conn.close_after == 3.0


def test_amqplain_login():
    wire = Wire(handshake=False)
    response = codec.encode_table({"LOGIN": "guest", "PASSWORD": "guest"})[4:]
    frames = _start_ok(wire, {}, response.decode("latin-1"), "AMQPLAIN")
    assert name(frames[0][1]) == "Connection.Tune"


def test_guest_only_from_loopback():
    wire = Wire(handshake=False, loopback=False)
    frames = _start_ok(wire, {"authentication_failure_close": True}, "\0guest\0guest")
    assert close_of(frames)[0] == 403


def test_other_users_from_anywhere():
    broker = Broker()
    broker.add_user("bob", "secret")
    Wire(broker, user="bob", password="secret", loopback=False)


def _tuned(tune_ok):
    wire = Wire(handshake=False)
    frames = _start_ok(wire, {}, "\0guest\0guest")
    tune = frames[0][1]
    assert (tune.channel_max, tune.frame_max, tune.heartbeat) == (2047, 131072, 60)
    return wire, wire.send(C.Connection.TuneOk(**tune_ok))


@pytest.mark.parametrize("tune_ok", [
    dict(channel_max=0, frame_max=131072, heartbeat=0),       # no limit > 2047
    dict(channel_max=10, frame_max=0, heartbeat=0),           # no limit > 131072
    dict(channel_max=10, frame_max=4095, heartbeat=0),        # below the 4096 minimum
    dict(channel_max=10, frame_max=200000, heartbeat=0),
    dict(channel_max=65535, frame_max=131072, heartbeat=0)])
def test_tune_ok_outside_the_offer_is_a_silent_close(tune_ok):
    wire, frames = _tuned(tune_ok)
    assert frames == [] and wire.conn.close_after == 3.0


def test_client_values_win():
    wire, frames = _tuned(dict(channel_max=10, frame_max=4096, heartbeat=600))
    assert frames == []
    assert (wire.conn.channel_max, wire.conn.frame_max, wire.conn.heartbeat) == (10, 4096, 600)
    assert name(wire.send(C.Connection.Open(virtual_host="/"))[0][1]) == "Connection.OpenOk"


def test_unknown_vhost():
    wire, _ = _tuned(dict(channel_max=10, frame_max=4096, heartbeat=0))
    frames = wire.send(C.Connection.Open(virtual_host="nope"))
    assert close_of(frames) == (530, "NOT_ALLOWED - vhost nope not found", 10, 40)
    assert wire.send(C.Connection.CloseOk()) == []
    assert wire.conn.close_after == 0.0


def test_methods_out_of_order_during_handshake_close_silently():
    wire = Wire(handshake=False)
    start(wire)
    assert wire.send(C.Channel.Open(), 1) == []
    assert wire.conn.close_after == 3.0


def test_handshake_timeout():
    wire = Wire(handshake=False)
    start(wire)
    wire.conn.handshake_timeout()
    assert wire.conn.close_after == 0.0
    opened = Wire()
    opened.conn.handshake_timeout()
    assert opened.conn.close_after is None


# -- heartbeats -----------------------------------------------------------------------------
def test_heartbeat_sent_when_idle_and_silent_peer_dropped():
    wire = Wire(heartbeat=10)
    conn = wire.conn
    assert conn.tick() is True            # the handshake went out during this tick
    assert conn.data_to_send() == b""
    assert conn.tick() is True
    assert conn.data_to_send() == codec.HEARTBEAT_FRAME
    assert conn.tick()
    wire.raw(codec.HEARTBEAT_FRAME)       # the peer speaks: the count starts again
    assert conn.tick()
    assert conn.tick() and conn.tick() and conn.tick()
    assert conn.tick() is False           # two intervals (four ticks) of silence
    assert conn.close_after == 0.0


def test_no_heartbeat_while_other_frames_flow():
    wire = Wire(heartbeat=10)
    wire.open(1)
    wire.conn.tick()
    wire.send(C.Basic.Qos(prefetch_count=1), 1)
    assert wire.conn.tick() is True
    assert wire.conn.data_to_send() == b""


# -- channels -------------------------------------------------------------------------------
CHANNEL_CASES = [
    ("method before channel.open", lambda w: w.send(C.Queue.Declare(queue="a"), 1),
     (504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10)),
    ("second channel.open", lambda w: (w.open(1), w.send(C.Channel.Open(), 1))[1],
     (504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10)),
    ("connection method on channel 1",
     lambda w: (w.open(1), w.send(C.Connection.Open(virtual_host="/"), 1))[1],
     (503, "COMMAND_INVALID - unimplemented method", 10, 40)),
    ("channel method on channel 0", lambda w: w.send(C.Channel.Open(), 0),
     (504, "CHANNEL_ERROR - unexpected method in connection state running", 20, 10)),
    ("queue.declare on channel 0", lambda w: w.send(C.Queue.Declare(queue="a"), 0),
     (504, "CHANNEL_ERROR - unexpected method in connection state running", 50, 10)),
    ("startok again", lambda w: w.send(C.Connection.StartOk(
        client_properties={}, mechanism="PLAIN", response="\0guest\0guest"), 0),
     (504, "CHANNEL_ERROR - unexpected method in connection state running", 10, 11)),
    ("unsolicited close-ok", lambda w: (w.open(1), w.send(C.Channel.CloseOk(), 1))[1],
     (503, "COMMAND_INVALID - unimplemented method", 20, 41)),
    ("flow active=false", lambda w: (w.open(1), w.send(C.Channel.Flow(active=False), 1))[1],
     (540, "NOT_IMPLEMENTED - active=false", 20, 20)),
    ("bad frame end", lambda w: w.raw(b"\x01\x00\x01\x00\x00\x00\x05\x00\x14\x00\x0a\x00\xcd"),
     (501, "FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,205}",
      0, 0)),
    ("unknown frame type", lambda w: w.raw(b"\x09\x00\x01\x00\x00\x00\x00\xce"),
     (501, "FRAME_ERROR - type 9, all octets = <<>>: unknown_frame", 0, 0)),
    ("frame too large", lambda w: w.raw(b"\x03\x00\x01\x00\x03\x00\x00"),
     (501, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,196608,131064}", 0, 0)),
    ("truncated method", lambda w: (w.open(1), w.raw(
        b"\x01\x00\x01\x00\x00\x00\x05\x00\x32\x00\x0a\x00\xce"))[1],
     (501, "FRAME_ERROR - cannot decode <<0>>", 50, 10)),
    ("header without publish", lambda w: (w.open(1), w.raw(pframe.marshal(
        pheader.ContentHeader(0, 1, C.Basic.Properties()), 1)))[1],
     (505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0)),
    ("body without publish", lambda w: (w.open(1), w.raw(codec.frame(3, 1, b"x")))[1],
     (505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", 0, 0)),
    ("heartbeat on channel 1", lambda w: w.raw(b"\x08\x00\x01\x00\x00\x00\x00\xce"),
     (505, "UNEXPECTED_FRAME - type 8, all octets = <<>>", 0, 0)),
    ("heartbeat with payload", lambda w: w.raw(b"\x08\x00\x00\x00\x00\x00\x01x\xce"),
     (501, 'FRAME_ERROR - type 8, all octets = <<"x">>: unknown_frame', 0, 0)),
]


@pytest.mark.parametrize("label,action,expected", CHANNEL_CASES, ids=[c[0] for c in CHANNEL_CASES])
def test_connection_errors(label, action, expected):
    wire = Wire()
    assert close_of(action(wire)) == expected


CONTENT_CASES = [
    ("method while expecting body", lambda d: d + pframe.marshal(
        pheader.ContentHeader(0, 5, C.Basic.Properties()), 1) + pframe.marshal(
        C.Basic.Qos(prefetch_count=1), 1),
     (505, "UNEXPECTED_FRAME - expected content body, got non content body frame instead", 60, 40)),
    ("method while expecting header", lambda d: d + pframe.marshal(C.Basic.Qos(prefetch_count=1), 1),
     (505, "UNEXPECTED_FRAME - expected content header for class 60, got non content header "
           "frame instead", 60, 40)),
    ("header of another class", lambda d: d + codec.frame(2, 1, b"\x00\x28\x00\x00" + b"\x00" * 8
                                                          + b"\x00\x00"),
     (505, "UNEXPECTED_FRAME - expected content header for class 60, got one for class 40 "
           "instead", 60, 40)),
]


@pytest.mark.parametrize("label,extend,expected", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_content_assembly_errors(label, extend, expected):
    wire = Wire()
    wire.open(1)
    publish = pframe.marshal(C.Basic.Publish(routing_key="x"), 1)
    assert close_of(wire.raw(extend(publish))) == expected


def test_after_connection_close_only_close_ok_matters():
    wire = Wire()
    wire.raw(b"\x09\x00\x01\x00\x00\x00\x00\xce")  # unknown frame type
    wire.raw(b"\x00\x00")
    assert wire.conn.close_after == 3.0 or wire.conn.state in ("closing", "dead")


def test_client_close():
    wire = Wire()
    frames = wire.send(C.Connection.Close(reply_code=200, reply_text="bye", class_id=0,
                                          method_id=0))
    assert name(frames[0][1]) == "Connection.CloseOk"
    assert wire.conn.close_after == 0.0


def test_hard_error_then_close_ok():
    wire = Wire()
    wire.open(1)
    frames = wire.send(C.Basic.Qos(prefetch_size=10), 1)
    assert close_of(frames) == (540, "NOT_IMPLEMENTED - prefetch_size!=0 (10)", 60, 10)
    assert wire.send(C.Basic.Qos(prefetch_count=1), 1) == []  # ignored while closing
    assert wire.send(C.Connection.CloseOk()) == []
    assert wire.conn.close_after == 0.0


def test_channel_max_counts_open_channels():
    wire = Wire(handshake=False)
    start(wire)
    wire.send(C.Connection.StartOk(client_properties={}, mechanism="PLAIN",
                                   response="\0guest\0guest"))
    wire.send(C.Connection.TuneOk(channel_max=2, frame_max=131072, heartbeat=0))
    wire.send(C.Connection.Open(virtual_host="/"))
    wire.open(5)
    wire.open(6)
    frames = wire.send(C.Channel.Open(), 7)
    assert close_of(frames) == (530, "NOT_ALLOWED - number of channels opened (2) has reached "
                                "the negotiated channel_max (2)", 0, 0)


def test_channel_numbers_above_channel_max_are_allowed():
    wire = Wire()
    wire.open(2048)
    wire.open(65535)


def test_channel_close_and_reopen():
    wire = Wire()
    wire.open(1)
    frames = wire.send(C.Channel.Close(reply_code=200, reply_text="", class_id=0, method_id=0), 1)
    assert name(frames[0][1]) == "Channel.CloseOk"
    wire.open(1)


def test_channel_error_then_close_ok_frees_the_number():
    wire = Wire()
    wire.open(1)
    frames = wire.send(C.Queue.Declare(queue="nonexist", passive=True), 1)
    assert close_of(frames) == (404, "NOT_FOUND - no queue 'nonexist' in vhost '/'", 50, 10)
    assert wire.send(C.Queue.Declare(queue="nonexist", passive=True), 1) == []
    assert wire.send(C.Channel.CloseOk(), 1) == []
    wire.open(1)


def test_unknown_method_drops_the_connection():
    wire = Wire()
    assert wire.raw(b"\x01\x00\x01\x00\x00\x00\x04\x00\x14\x00\x63\xce") == []
    assert wire.conn.close_after == 0.0


def test_every_split_of_a_session_gives_the_same_answer():
    session = (HEADER + pframe.marshal(C.Connection.StartOk(
        client_properties={}, mechanism="PLAIN", response="\0guest\0guest"), 0)
        + pframe.marshal(C.Connection.TuneOk(channel_max=10, frame_max=131072, heartbeat=0), 0)
        + pframe.marshal(C.Connection.Open(virtual_host="/"), 0)
        + pframe.marshal(C.Channel.Open(), 1)
        + pframe.marshal(C.Queue.Declare(queue="q"), 1)
        + pframe.marshal(C.Basic.Publish(routing_key="q"), 1)
        + pframe.marshal(pheader.ContentHeader(0, 3, C.Basic.Properties(content_type="t")), 1)
        + codec.frame(3, 1, b"abc")
        + pframe.marshal(C.Basic.Get(queue="q", no_ack=True), 1))

    def run(chunks):
        conn = AMQPConnection(Broker())
        out = b""
        for chunk in chunks:
            conn.receive(chunk)
            out += conn.data_to_send()
        return out

    whole = run([session])
    assert whole.endswith(b"abc\xce")
    for cut in range(1, len(session), 3):
        assert run([session[:cut], session[cut:]]) == whole


def test_update_secret_is_accepted():
    wire = Wire()
    frames = wire.send(C.Connection.UpdateSecret(new_secret="anything", reason="rotation"))
    assert name(frames[0][1]) == "Connection.UpdateSecretOk"


def test_an_internal_bug_is_a_541_not_a_crash(monkeypatch):
    from yizhan.amqp import channel as channel_module

    def broken(self, method, content):
        raise KeyError("bug")

    wire = Wire()
    wire.open(1)
    monkeypatch.setitem(channel_module.HANDLERS, C.Basic.Qos, broken)
    assert close_of(wire.send(C.Basic.Qos(prefetch_count=1), 1)) == (541, "INTERNAL_ERROR", 0, 0)

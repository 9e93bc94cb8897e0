"""Faults are rules, not attachments to the connections open when they were installed: each
test installs the fault first, then connects (redis-py, pika), and sees it apply. Also the
refusal of one client address (others still connect), and AMQP recording composed with a
confirm fault (turning the recording off keeps the fault)."""

from __future__ import annotations

import socket
import uuid

import pika
import pytest
import redis
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError, TimeoutError as RedisTimeout
from redis.retry import Retry

from yizhan import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with Server(data_dir=str(tmp_path_factory.mktemp("rules")), save="") as server:
        yield server


@pytest.fixture(autouse=True)
def clean(srv):
    yield
    srv.control.clear_faults()
    srv.control.stop_recording()


def plain(srv, **options) -> redis.Redis:
    return redis.Redis(port=srv.port, retry=Retry(NoBackoff(), 0), **options)


def connect(srv, connection_name: str, host: str = "127.0.0.1") -> pika.BlockingConnection:
    params = pika.URLParameters(srv.amqp_url)
    params.host = host
    params.client_properties = {"connection_name": connection_name}
    return pika.BlockingConnection(params)


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_command_fault_reaches_a_client_connected_after_it(srv):
    srv.control.fail("LOADING", command="get", count=1, client="late")
    client = plain(srv, client_name="late")
    with pytest.raises(BusyLoadingError):
        client.get("k")
    assert client.get("k") is None  # spent
    client.close()


def test_shaping_reaches_a_client_connected_after_it(srv):
    assert srv.control.shape(protocol="redis", stall=True) == 0  # nobody connected yet
    client = plain(srv, socket_timeout=0.5)
    with pytest.raises(RedisTimeout):
        client.ping()  # the new connection's output is stalled
    client.close()
    srv.control.unshape()
    client = plain(srv, socket_timeout=5)
    assert client.ping() is True  # the rule is gone for the next connection
    client.close()


def test_amqp_method_fault_reaches_a_connection_opened_after_it(srv):
    srv.control.amqp_fail_method("queue.declare", code=404, text="later", client="late-amqp")
    conn = connect(srv, "late-amqp")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        conn.channel().queue_declare(name())
    assert (closed.value.reply_code, closed.value.reply_text) == (404, "NOT_FOUND - later")
    assert conn.channel().queue_declare(name(), auto_delete=True).method.message_count == 0  # spent
    conn.close()


def test_confirm_fault_reaches_a_connection_opened_after_it(srv):
    srv.control.amqp_nack_confirms(count=1, client="late-confirms")
    conn = connect(srv, "late-confirms")
    channel = conn.channel()
    channel.confirm_delivery()
    queue = channel.queue_declare(name(), auto_delete=True).method.queue
    with pytest.raises(pika.exceptions.NackError):
        channel.basic_publish("", queue, b"nacked")
    channel.basic_publish("", queue, b"acked")
    conn.close()


def exchange_from(source: str, port: int, data: bytes) -> bytes:
    """A raw client bound to `source` (loopback's other addresses) sends `data`, reads the
    answer: b"" or a reset when the server refuses it."""
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((source, 0))
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(data)
        return sock.recv(64)
    except ConnectionResetError:
        return b""
    finally:
        sock.close()


def test_refusing_one_client_address_lets_others_in(srv):
    other = plain(srv)  # 127.0.0.1 stays welcome
    assert exchange_from("127.0.0.2", srv.port, b"PING\r\n") == b"+PONG\r\n"
    srv.control.down(protocol="redis", client="127.0.0.2:")
    assert exchange_from("127.0.0.2", srv.port, b"PING\r\n") == b""  # reset as it is accepted
    assert other.ping() is True and plain(srv).ping() is True
    assert exchange_from("127.0.0.2", srv.amqp_port, b"AMQP\x00\x00\x09\x01")[:1] == b"\x01"  # amqp: not refused
    srv.control.down(protocol="amqp", client="127.0.0.2:")
    assert exchange_from("127.0.0.2", srv.amqp_port, b"AMQP\x00\x00\x09\x01") == b""
    connect(srv, "welcome").close()
    srv.control.restart()  # a rule of the test, not server state: it outlives a restart
    assert exchange_from("127.0.0.2", srv.port, b"PING\r\n") == b""
    assert plain(srv).ping() is True
    srv.control.up(client="127.0.0.2:")
    assert exchange_from("127.0.0.2", srv.port, b"PING\r\n") == b"+PONG\r\n"
    assert exchange_from("127.0.0.2", srv.amqp_port, b"AMQP\x00\x00\x09\x01")[:1] == b"\x01"
    other.close()


def test_recording_off_keeps_a_confirm_fault_installed_after_it(srv):
    conn = connect(srv, "composed")
    channel = conn.channel()
    channel.confirm_delivery()
    queue = channel.queue_declare(name(), auto_delete=True).method.queue
    srv.control.record_amqp()
    srv.control.amqp_nack_confirms(count=None, client="composed")
    with pytest.raises(pika.exceptions.NackError):
        channel.basic_publish("", queue, b"recorded")
    kinds = [event["kind"] for event in srv.control.amqp_events(client="composed")]
    assert kinds == ["publish", "confirm-nack"]  # the recording sees what the client got
    srv.control.stop_recording()
    with pytest.raises(pika.exceptions.NackError):  # the fault is still there
        channel.basic_publish("", queue, b"not recorded")
    srv.control.clear_faults()
    channel.basic_publish("", queue, b"acked")
    conn.close()


def test_rules_forget_closed_connections(srv):
    srv.control.amqp_nack_confirms(count=None, client="many")
    srv.control.amqp_fail_method("queue.declare", count=None, client="many")
    srv.control.record_amqp()
    for _ in range(100):
        connect(srv, "many").close()
    controls = srv.controls
    assert len(controls.amqp.confirm_faults[0].stages) <= 65
    assert len(controls.amqp.method_faults[0].connections) <= 65
    assert len(controls.observer.tapped) <= 65
    conn = connect(srv, "many")  # the rules still reach a new connection
    channel = conn.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        channel.queue_declare(name())
    conn.close()

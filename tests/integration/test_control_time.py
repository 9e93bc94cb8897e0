"""Time control through the embedded API (`srv.advance`, `freeze`, `set_time`), observed with
redis-py and pika: keys expire, TTLs count down, blocking timeouts fire, message TTLs
dead-letter, queues expire and delayed messages are released, with no wall time spent (the
clock jumps; nothing here sleeps to make time pass)."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pika
import pytest
import redis

from yizhan import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = Server(data_dir=str(tmp_path_factory.mktemp("time")), save="")
    server.config = dataclasses.replace(server.config, amqp_consumer_timeout=60_000)
    with server:
        yield server


@pytest.fixture
def r(srv):
    client = redis.Redis(port=srv.port)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def channel(srv):
    conn = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))
    yield conn.channel()
    if conn.is_open:
        conn.close()


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_blocked(r, count: int = 1) -> None:
    """Until `count` clients are parked in a blocking command (the server says so)."""
    for _ in range(1000):
        if r.info("clients")["blocked_clients"] >= count:
            return
        time.sleep(0.005)
    raise AssertionError("the client never blocked")


def in_thread(function):
    """Run `function` in a thread; returns a callable that joins it and gives its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function()), daemon=True)
    thread.start()

    def join():
        thread.join(10)
        assert not thread.is_alive(), "the blocking call never returned"
        return result["value"]
    return join


def test_key_expires_after_advance(srv, r):
    r.set("k", "v", ex=100)
    r.set("hour", "v", ex=3600)
    r.set("forever", "v")
    srv.advance(40)
    assert r.ttl("k") == 60 and r.pttl("k") <= 60_000
    srv.advance(61)
    assert r.get("k") is None and r.exists("k") == 0
    assert r.ttl("hour") == 3600 - 101
    srv.advance(3600)
    assert r.keys("*") == [b"forever"]
    assert r.dbsize() == 1  # deleted, not only hidden: active expiry ran over the time passed


def test_expired_event_published_on_advance(srv, r):
    r.config_set("notify-keyspace-events", "Ex")
    try:
        sub = r.pubsub()
        sub.subscribe("__keyevent@0__:expired")
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        r.set("gone", "v", px=500)
        srv.advance(1)
        message = sub.get_message(timeout=5)
        assert message["data"] == b"gone"
        sub.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_blpop_timeout_fires_on_advance(srv, r):
    blocker = redis.Redis(port=srv.port)
    join = in_thread(lambda: blocker.blpop(["empty"], timeout=10))
    wait_blocked(r)
    srv.advance(9)
    assert r.info("clients")["blocked_clients"] == 1  # not yet: 9 s of 10
    srv.advance(2)
    assert join() is None
    blocker.close()


def test_xread_block_and_wait_time_out_on_advance(srv, r):
    reader, waiter = redis.Redis(port=srv.port), redis.Redis(port=srv.port)
    join_read = in_thread(lambda: reader.xread({"s": "$"}, block=30_000))
    join_wait = in_thread(lambda: waiter.execute_command("WAIT", 1, 20_000))
    wait_blocked(r, 2)
    srv.advance(31)
    assert join_read() == [] and join_wait() == 0
    reader.close()
    waiter.close()


def test_object_idletime_and_client_idle_follow_the_clock(srv, r):
    r.set("k", "v")
    srv.advance(120)
    assert r.object("idletime", "k") == 120
    r.get("k")
    assert r.object("idletime", "k") == 0


def test_frozen_clock_keeps_keys_and_set_time_moves_it(srv, r):
    srv.freeze()
    try:
        r.set("k", "v", px=50)
        time.sleep(0.2)  # wall time passes, the server's does not
        assert r.get("k") == b"v" and r.pttl("k") == 50
        now = srv.time()
        srv.set_time(now + 1)
        assert r.get("k") is None
        assert int(r.time()[0]) == int(now + 1)
    finally:
        srv.unfreeze()


def test_message_ttl_dead_letters_after_advance(srv, channel):
    dlx, dead, queue = name("dlx"), name("dead"), name("ttl")
    channel.exchange_declare(dlx, "fanout")
    channel.queue_declare(dead)
    channel.queue_bind(dead, dlx)
    channel.queue_declare(queue, arguments={"x-message-ttl": 60_000, "x-dead-letter-exchange": dlx})
    channel.basic_publish("", queue, b"late")
    srv.advance(59)
    assert channel.queue_declare(queue, passive=True).method.message_count == 1
    srv.advance(2)
    method, props, body = channel.basic_get(dead, auto_ack=True)
    assert body == b"late"
    death = props.headers["x-death"][0]
    assert (death["reason"], death["queue"], death["count"]) == ("expired", queue, 1)
    assert channel.queue_declare(queue, passive=True).method.message_count == 0


def test_hour_long_message_ttl(srv, channel):
    dead, queue = name("dead"), name("hour")
    channel.queue_declare(dead)
    channel.queue_declare(queue, arguments={"x-message-ttl": 3_600_000, "x-dead-letter-exchange": "",
                                            "x-dead-letter-routing-key": dead})
    channel.basic_publish("", queue, b"m")
    srv.advance(3601)
    assert channel.basic_get(dead, auto_ack=True)[2] == b"m"


def test_queue_expires_after_advance(srv, channel):
    queue = name("exp")
    channel.queue_declare(queue, arguments={"x-expires": 30_000})
    srv.advance(31)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        channel.queue_declare(queue, passive=True)
    assert closed.value.reply_code == 404


def test_delayed_message_released_after_advance(srv, channel):
    exchange, queue = name("delay"), name("q")
    channel.exchange_declare(exchange, "x-delayed-message", arguments={"x-delayed-type": "direct"})
    channel.queue_declare(queue)
    channel.queue_bind(queue, exchange, "k")
    channel.basic_publish(exchange, "k", b"later", pika.BasicProperties(headers={"x-delay": 60_000}))
    srv.advance(30)
    assert channel.basic_get(queue)[0] is None
    srv.advance(31)
    assert channel.basic_get(queue, auto_ack=True)[2] == b"later"


def test_consumer_timeout_closes_channel_after_advance(srv):
    conn = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))
    channel = conn.channel()
    queue = channel.queue_declare(name("ct")).method.queue
    channel.basic_publish("", queue, b"unacked")
    assert channel.basic_get(queue)[2] == b"unacked"  # never acknowledged
    # The sweep (every 6 s for a 60 s timeout) notes the delivery, then finds it too old.
    srv.advance(7)
    srv.advance(61)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        channel.queue_declare(queue, passive=True)
    assert closed.value.reply_code == 406
    assert "delivery acknowledgement on channel 1 timed out" in closed.value.reply_text
    check = conn.channel()
    assert check.queue_declare(queue, passive=True).method.message_count == 1  # requeued
    conn.close()


def test_silent_amqp_peer_dropped_after_four_heartbeat_ticks(srv):
    conn = pika.BlockingConnection(pika.URLParameters(srv.amqp_url + "?heartbeat=10"))
    conn.channel()
    # Each advance is one tick (heartbeat/2): the first sees the channel.open, the next four
    # find the client silent (it had no chance to send), and the server drops it.
    for _ in range(5):
        srv.advance(5)
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        for _ in range(100):
            conn.process_data_events(time_limit=0.05)
            conn.channel()

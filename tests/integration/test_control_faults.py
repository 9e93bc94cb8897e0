"""Faults injected through the embedded API (`srv.control.*`), each seen through a real client
and its recovery: redis-py's retries and reconnection against -LOADING, dropped, reset and
refused connections, swallowed replies and stalled output; pika's errors and callbacks for a
forced connection close (320), a channel close (406), connection.blocked/unblocked, a consumer
cancelled by the server, nacked confirms and redeliveries; aio-pika's RobustConnection
reconnecting after a forced close."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import aio_pika
import pika
import pytest
import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (BusyLoadingError, ConnectionError as RedisConnectionError,
                              OutOfMemoryError, ReadOnlyError, ResponseError, TimeoutError as RedisTimeout)
from redis.retry import Retry

from yizhan import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with Server(data_dir=str(tmp_path_factory.mktemp("faults")), save="") as server:
        yield server


@pytest.fixture(autouse=True)
def clean(srv):
    yield
    srv.control.clear_faults()
    srv.control.stop_recording()


def plain(srv, **options) -> redis.Redis:
    """redis-py without retries: every fault reaches the caller."""
    return redis.Redis(port=srv.port, retry=Retry(NoBackoff(), 0), **options)


def retrying(srv, retries: int = 3, **options) -> redis.Redis:
    return redis.Redis(port=srv.port, retry=Retry(NoBackoff(), retries),
                       retry_on_error=[BusyLoadingError, RedisConnectionError], **options)


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- Redis command faults ---------------------------------------------------------------------
def test_loading_fails_the_next_commands_and_redis_py_retries(srv):
    r = plain(srv)
    r.set("k", "v")
    srv.control.fail("LOADING", count=1)
    with pytest.raises(BusyLoadingError):
        r.get("k")
    assert r.get("k") == b"v"  # the fault was spent
    srv.control.fail("LOADING", count=2)
    assert retrying(srv).get("k") == b"v"  # two -LOADING replies, retried, then served
    assert srv.control.faults() == []


def test_each_error_code_maps_to_the_client_exception(srv):
    r = plain(srv)
    for error, exc in (("READONLY", ReadOnlyError), ("OOM", OutOfMemoryError), ("TRYAGAIN", ResponseError)):
        srv.control.fail(error, command="set")
        with pytest.raises(exc):
            r.set("k", "v")
    srv.control.fail("ERR custom failure", command="incrby")  # (redis-py sends INCR as INCRBY)
    with pytest.raises(ResponseError, match="custom failure"):
        r.incr("n")


def test_fault_targets_a_command_and_a_client_name(srv):
    victim, bystander = plain(srv, client_name="victim"), plain(srv, client_name="bystander")
    srv.control.fail("BUSY", command="get", client="victim", count=None)
    victim.set("k", "v")  # another command: served
    assert bystander.get("k") == b"v"  # another client: served
    for _ in range(3):
        with pytest.raises(ResponseError, match="BUSY Redis is busy running a script"):
            victim.get("k")
    assert srv.control.faults()[0]["command"] == "get"
    srv.control.clear_faults()
    assert victim.get("k") == b"v"


def test_probability_with_a_seed_replays_the_same_faults(srv):
    def outcomes():
        r = plain(srv)
        srv.control.clear_faults()
        srv.control.fail("LOADING", command="ping", count=None, probability=0.5, seed=7)
        results = []
        for _ in range(20):
            try:
                r.ping()
                results.append(True)
            except BusyLoadingError:
                results.append(False)
        return results
    first = outcomes()
    assert first == outcomes() and 0 < first.count(False) < 20


def test_swallowed_command_times_out_and_the_client_reconnects(srv):
    r = plain(srv, socket_timeout=0.3)
    r.set("k", "v")
    srv.control.timeout(command="get")
    with pytest.raises(RedisTimeout):
        r.get("k")
    assert r.get("k") == b"v"  # redis-py dropped the connection; a new one is served


# -- connections -------------------------------------------------------------------------------
def blocked_call(srv, client: redis.Redis, *command):
    """Start `command` (a blocking one) in a thread, wait until the server has parked it;
    returns the thread's join, which gives the result or the exception raised."""
    result = {}

    def run():
        try:
            result["value"] = client.execute_command(*command)
        except Exception as exc:  # noqa: BLE001  (handed to the test)
            result["value"] = exc
    thread = threading.Thread(target=run, daemon=True)
    before = plain(srv).info("clients")["blocked_clients"]
    thread.start()
    watcher = plain(srv)
    for _ in range(1000):
        if watcher.info("clients")["blocked_clients"] > before:
            break
        time.sleep(0.005)

    def join():
        thread.join(10)
        assert not thread.is_alive()
        return result["value"]
    return join


def test_dropped_idle_connections_redis_py_pool_reconnects(srv):
    r = plain(srv)
    first_id = r.client_id()
    assert srv.control.drop(protocol="redis") >= 1
    # redis-py's pool sees the closed socket when it hands the connection out, and reconnects
    assert r.ping() is True and r.client_id() != first_id


def test_dropped_mid_command_raises_or_is_retried(srv):
    join = blocked_call(srv, plain(srv), "BLPOP", "drop-list", 0)
    srv.control.drop(protocol="redis")
    assert isinstance(join(), RedisConnectionError)
    join = blocked_call(srv, retrying(srv), "BLPOP", "drop-list", 0)
    srv.control.drop(protocol="redis")
    join_retried = join
    # the retry sent BLPOP again on a new connection: it is served by the next push
    watcher = plain(srv)
    for _ in range(1000):
        if watcher.info("clients")["blocked_clients"] == 1:
            break
        time.sleep(0.005)
    watcher.rpush("drop-list", "x")
    assert list(join_retried()) == [b"drop-list", b"x"]


def test_reset_connection_is_a_connection_reset(srv):
    join = blocked_call(srv, plain(srv), "BLPOP", "reset-list", 0)
    srv.control.drop(protocol="redis", reset=True)
    error = join()
    assert isinstance(error, RedisConnectionError) and "reset" in str(error).lower()


def test_down_refuses_connections_and_up_keeps_the_data(srv):
    r = plain(srv)
    r.set("kept", "v")
    assert srv.control.down("redis") == ["redis"]
    with pytest.raises(RedisConnectionError, match="refused"):
        plain(srv).ping()
    with pytest.raises(RedisConnectionError):
        r.get("kept")
    amqp = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))  # the other protocol stays up
    amqp.close()
    assert srv.control.up("redis") == ["redis"]
    assert r.get("kept") == b"v"


def test_down_for_a_while_redis_py_retries_until_it_is_back(srv):
    r = redis.Redis(port=srv.port, retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 50),
                    retry_on_error=[RedisConnectionError])
    r.set("kept", "v")
    srv.control.down("redis", seconds=0.5)
    assert r.get("kept") == b"v"  # refused, retried with backoff, served once it listened again
    assert srv.control.up("redis") == []  # already up


def test_stalled_output_times_out_and_tiny_pieces_still_parse(srv):
    r = plain(srv, socket_timeout=0.3, client_name="slow")
    r.set("big", "x" * 10_000)
    srv.control.shape(protocol="redis", client="slow", stall=True)
    with pytest.raises(RedisTimeout):
        r.get("big")
    srv.control.unshape()
    piecewise = plain(srv, client_name="pieces")
    piecewise.ping()
    assert srv.control.shape(client="pieces", chunk=1) == 1
    assert piecewise.get("big") == b"x" * 10_000  # 10 KB arrived one byte per write
    assert srv.control.shape(client="pieces", delay=0.05, rate=100_000) == 1
    assert piecewise.lrange("none", 0, -1) == [] and piecewise.get("big") == b"x" * 10_000


def test_recorded_commands_with_arguments(srv):
    r = plain(srv, client_name="recorded")
    srv.control.record_commands()
    r.set("k", "v", ex=10)
    r.hset("h", mapping={"f": "1"})
    sent = [c["args"] for c in srv.control.commands(client="recorded")]
    assert ["SET", "k", "v", "EX", "10"] in sent and ["HSET", "h", "f", "1"] in sent
    srv.control.stop_recording()
    r.get("k")
    assert ["GET", "k"] not in [c["args"] for c in srv.control.commands(clear=True)]


# -- AMQP ----------------------------------------------------------------------------------------
def connect(srv, connection_name: str = "test") -> pika.BlockingConnection:
    params = pika.URLParameters(srv.amqp_url)
    params.client_properties = {"connection_name": connection_name}
    return pika.BlockingConnection(params)


def test_forced_connection_close_320_reaches_pika(srv):
    conn = connect(srv, "forced")
    other = connect(srv, "other")
    assert srv.control.amqp_close_connection(client="forced", text="maintenance") == 1
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        conn.channel().queue_declare(name())
    assert (closed.value.reply_code, closed.value.reply_text) == (320, "CONNECTION_FORCED - maintenance")
    other.channel().queue_declare(name())  # untouched
    other.close()


def test_channel_close_406_requeues_and_pika_raises(srv):
    conn = connect(srv, "chan")
    channel = conn.channel()
    queue = channel.queue_declare(name()).method.queue
    channel.basic_publish("", queue, b"m")
    assert channel.basic_get(queue)[2] == b"m"
    srv.control.amqp_close_channel(code=406, text="injected", client="chan")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        channel.queue_declare(queue, passive=True)
    assert (closed.value.reply_code, closed.value.reply_text) == (406, "PRECONDITION_FAILED - injected")
    method, _props, body = conn.channel().basic_get(queue, auto_ack=True)
    assert (body, method.redelivered) == (b"m", True)
    conn.close()


def test_connection_blocked_and_unblocked_callbacks(srv):
    conn = connect(srv, "blocked")
    seen = []
    conn.add_on_connection_blocked_callback(lambda _conn, frame: seen.append(("blocked", frame.method.reason)))
    conn.add_on_connection_unblocked_callback(lambda _conn, frame: seen.append(("unblocked", None)))
    assert srv.control.amqp_block(reason="low on disk", client="blocked") == 1
    conn.process_data_events(time_limit=0.2)
    srv.control.amqp_unblock(client="blocked")
    conn.process_data_events(time_limit=0.2)
    assert seen == [("blocked", "low on disk"), ("unblocked", None)]
    conn.close()


def test_consumer_cancelled_by_the_server(srv):
    conn = connect(srv, "cancel")
    channel = conn.channel()
    queue = channel.queue_declare(name()).method.queue
    cancelled = []
    channel.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = channel.basic_consume(queue, lambda *a: None)
    assert srv.control.amqp_cancel_consumers(queue=queue) == 1
    conn.process_data_events(time_limit=0.2)
    assert cancelled == [tag]
    assert channel.queue_declare(queue, passive=True).method.consumer_count == 0
    conn.close()


def test_redeliver_unacked_and_observe_it(srv):
    srv.control.record_amqp()
    conn = connect(srv, "redeliver")
    channel = conn.channel()
    queue = channel.queue_declare(name()).method.queue
    channel.basic_publish("", queue, b"once")
    deliveries = []
    channel.basic_consume(queue, lambda ch, method, props, body: deliveries.append((body, method.redelivered)))
    conn.process_data_events(time_limit=0.2)
    assert srv.control.amqp_redeliver(client="redeliver") == 1
    conn.process_data_events(time_limit=0.2)
    assert deliveries == [(b"once", False), (b"once", True)]
    events = srv.control.amqp_events(client="redeliver")
    assert [(e["kind"], e.get("redelivered")) for e in events if e["kind"] in ("publish", "deliver")] == [
        ("publish", None), ("deliver", False), ("deliver", True)]
    assert events[0]["body"] == "once" and events[0]["routing_key"] == queue
    channel.basic_ack(2)
    conn.process_data_events(time_limit=0.1)
    assert [(e["kind"], e["delivery_tag"]) for e in srv.control.amqp_events(kind="ack", client="redeliver")] == [("ack", 2)]
    conn.close()


def test_nacked_publisher_confirm_raises_in_pika(srv):
    conn = connect(srv, "confirms")
    channel = conn.channel()
    channel.confirm_delivery()
    queue = channel.queue_declare(name()).method.queue
    srv.control.amqp_nack_confirms(count=1, client="confirms")
    with pytest.raises(pika.exceptions.NackError):
        channel.basic_publish("", queue, b"lost?")
    channel.basic_publish("", queue, b"fine")  # the next one is acked
    assert [m["body"] for m in srv.control.peek_queue(queue)] == ["lost?", "fine"]  # nacked, yet queued
    conn.close()


def test_held_confirms_arrive_on_release(srv):
    async def scenario():
        conn = await aio_pika.connect(srv.amqp_url, client_properties={"connection_name": "held"})
        channel = await conn.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name("held"))
        await asyncio.to_thread(srv.control.amqp_hold_confirms, None, "held")
        confirm = asyncio.ensure_future(channel.default_exchange.publish(aio_pika.Message(b"m"), routing_key=queue.name))
        await asyncio.sleep(0.3)
        waiting = not confirm.done()  # held: the publish is not confirmed yet
        assert await asyncio.to_thread(srv.control.amqp_release_confirms) == 1
        await asyncio.wait_for(confirm, 10)
        await conn.close()
        return waiting
    assert asyncio.run(scenario()) is True


def test_aio_pika_robust_connection_reconnects_after_forced_close(srv):
    async def scenario():
        conn = await aio_pika.connect_robust(srv.amqp_url, client_properties={"connection_name": "robust"})
        reconnected = asyncio.Event()
        conn.reconnect_callbacks.add(lambda *_: reconnected.set())
        channel = await conn.channel()
        queue = await channel.declare_queue(name("robust"), auto_delete=False)
        srv.control.amqp_close_connection(client="robust")
        await asyncio.wait_for(reconnected.wait(), 15)
        await channel.default_exchange.publish(aio_pika.Message(b"after"), routing_key=queue.name)
        message = await queue.get(timeout=5)
        await message.ack()
        await conn.close()
        return message.body
    assert asyncio.run(scenario()) == b"after"


def test_aio_pika_robust_connection_survives_down_and_up(srv):
    async def scenario():
        conn = await aio_pika.connect_robust(srv.amqp_url, reconnect_interval=0.2)
        reconnected = asyncio.Event()
        conn.reconnect_callbacks.add(lambda *_: reconnected.set())
        channel = await conn.channel()
        queue = await channel.declare_queue(name("down"), durable=True)
        await asyncio.to_thread(srv.control.down, "amqp")
        await asyncio.sleep(0.5)  # a few refused reconnect attempts
        await asyncio.to_thread(srv.control.up, "amqp")
        await asyncio.wait_for(reconnected.wait(), 15)
        await channel.default_exchange.publish(aio_pika.Message(b"back"), routing_key=queue.name)
        message = await queue.get(timeout=5)
        await message.ack()
        await conn.close()
        return message.body
    assert asyncio.run(scenario()) == b"back"


def test_next_amqp_method_fails_with_a_chosen_code(srv):
    conn = connect(srv, "methods")
    channel = conn.channel()
    queue = channel.queue_declare(name()).method.queue
    assert srv.control.amqp_fail_method("queue.declare", code=404, text="injected", client="methods") == 1
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        channel.queue_declare(queue, passive=True)
    assert (closed.value.reply_code, closed.value.reply_text) == (404, "NOT_FOUND - injected")
    channel = conn.channel()  # a new channel: the fault was spent
    assert channel.queue_declare(queue, passive=True).method.message_count == 0
    srv.control.amqp_fail_method("basic.publish", code=406, client="methods")
    channel.basic_publish("", queue, b"refused")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
        channel.queue_declare(queue, passive=True)
    assert closed.value.reply_code == 406
    assert conn.channel().queue_declare(queue, passive=True).method.message_count == 0  # not routed
    srv.control.amqp_fail_method("basic.consume", code=541, client="methods")
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        conn.channel().basic_consume(queue, lambda *a: None)
    assert closed.value.reply_code == 541


def test_amqp_deliveries_in_tiny_pieces_and_late(srv):
    conn = connect(srv, "shaped")
    channel = conn.channel()
    queue = channel.queue_declare(name()).method.queue
    body = bytes(range(256)) * 40
    assert srv.control.shape(protocol="amqp", client="shaped", chunk=7, delay=0.05) == 1
    channel.basic_publish("", queue, body)
    method, _props, got = channel.basic_get(queue, auto_ack=True)  # every frame cut in 7-byte writes
    assert got == body and method.message_count == 0
    assert srv.control.unshape(protocol="amqp") == 1
    conn.close()

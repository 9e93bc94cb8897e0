"""State controls through the embedded API: snapshot and restore the whole server (every Redis
database with TTLs, function libraries, AMQP vhosts with exchanges, queues, bindings and
ready messages), flush everything, and fresh databases / vhosts for one test; observed with
redis-py and pika."""

from __future__ import annotations

import pika
import pytest
import redis

from yizhan import Server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with Server(data_dir=str(tmp_path_factory.mktemp("state")), save="") as server:
        yield server


@pytest.fixture
def r(srv):
    client = redis.Redis(port=srv.port)
    client.flushall()
    yield client
    client.close()


def channel_of(srv, vhost: str = "/"):
    params = pika.URLParameters(srv.amqp_url)
    params.virtual_host = vhost
    return pika.BlockingConnection(params).channel()


def test_redis_snapshot_restore_keeps_every_database_and_ttl(srv, r):
    r.set("s", "v", ex=500)
    r.rpush("l", *range(200))
    r.zadd("z", {"a": 1.5, "b": 2})
    r.hset("h", mapping={f"f{i}": i for i in range(300)})
    other = redis.Redis(port=srv.port, db=3)
    other.set("in3", "x")
    r.function_load("#!lua name=lib\nredis.register_function('one', function() return 1 end)")
    srv.snapshot("base")
    r.flushall()
    r.function_flush()
    r.set("later", "1")
    other.delete("in3")
    result = srv.restore("base")
    assert result["keys"] == 5
    assert r.get("later") is None and r.get("s") == b"v" and 490 < r.ttl("s") <= 500
    assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(200)]
    assert r.zrange("z", 0, -1, withscores=True) == [(b"a", 1.5), (b"b", 2.0)]
    assert r.hlen("h") == 300 and other.get("in3") == b"x"
    assert r.fcall("one", 0) == 1
    srv.control.drop_snapshot("base")


def test_restore_drops_keys_whose_time_passed(srv, r):
    r.set("short", "v", ex=10)
    r.set("long", "v", ex=1000)
    srv.snapshot("t")
    srv.advance(11)
    srv.restore("t")
    assert r.exists("short") == 0 and r.exists("long") == 1


def test_amqp_snapshot_restore_topology_and_messages(srv):
    ch = channel_of(srv)
    ch.exchange_declare("snap-x", "topic", durable=True)
    ch.queue_declare("snap-q", durable=True, arguments={"x-max-length": 100})
    ch.queue_bind("snap-q", "snap-x", "a.#")
    for i in range(5):
        ch.basic_publish("snap-x", "a.b", f"m{i}".encode(),
                         pika.BasicProperties(delivery_mode=2, headers={"i": i}))
    method, _props, _body = ch.basic_get("snap-q")
    ch.basic_nack(method.delivery_tag, requeue=True)  # m0 is redelivered from now on
    ch.connection.close()
    snapped = srv.snapshot("amqp")
    assert snapped["messages"] == 5
    ch = channel_of(srv)
    ch.queue_purge("snap-q")
    ch.queue_declare("extra")
    ch.exchange_delete("snap-x")
    ch.connection.close()
    assert srv.restore("amqp")["messages"] == 5
    ch = channel_of(srv)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.queue_declare("extra", passive=True)  # made after the snapshot: gone
    ch = ch.connection.channel()
    ch.basic_publish("snap-x", "a.c", b"routed")  # the exchange and binding are back
    bodies = []
    for _ in range(6):
        method, props, body = ch.basic_get("snap-q", auto_ack=True)
        bodies.append((body, method.redelivered, (props.headers or {}).get("i")))
    assert bodies == [(b"m0", True, 0)] + [(f"m{i}".encode(), False, i) for i in range(1, 5)] + [(b"routed", False, None)]
    ch.connection.close()
    srv.control.drop_snapshot("amqp")


def test_flush_empties_both_protocols(srv, r):
    r.set("k", "v")
    ch = channel_of(srv)
    ch.queue_declare("flushed")
    ch.exchange_declare("flushed-x", "fanout")
    ch.connection.close()
    result = srv.flush()
    assert result["keys"] >= 1 and result["queues"] >= 1
    assert r.dbsize() == 0
    ch = channel_of(srv)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.exchange_declare("flushed-x", passive=True)
    ch.connection.close()


def test_new_database_and_vhost_are_empty_and_isolated(srv, r):
    first, second = srv.control.new_database(), srv.control.new_database()
    assert first != second and 0 < first < 16
    a, b = redis.Redis(port=srv.port, db=first), redis.Redis(port=srv.port, db=second)
    a.set("k", "a")
    assert b.get("k") is None and r.get("k") is None
    vhost = srv.control.new_vhost()
    ch = channel_of(srv, vhost)
    ch.queue_declare("same-name")
    ch.basic_publish("", "same-name", b"isolated")
    root = channel_of(srv)
    root.queue_declare("same-name")
    assert root.queue_declare("same-name", passive=True).method.message_count == 0
    assert ch.queue_declare("same-name", passive=True).method.message_count == 1
    assert [m["body"] for m in srv.control.peek_queue("same-name", vhost=vhost)] == ["isolated"]
    root.queue_delete("same-name")
    root.connection.close()
    ch.connection.close()


def _drain(ch, queue: str) -> list:
    out = []
    while True:
        method, _props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((body.decode(), method.redelivered))


def test_snapshot_takes_a_queue_paged_out_to_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("YIZHAN_AMQP_PAGE_MESSAGES", "8")  # the store's in-memory bound
    with Server(data_dir=str(tmp_path), save="") as server:
        ch = channel_of(server)
        ch.queue_declare("paged", durable=True)
        for i in range(60):  # persistent and transient ones: both kinds of paged run
            ch.basic_publish("", "paged", f"p{i}".encode(), pika.BasicProperties(delivery_mode=2 if i % 3 else 1))
        method, _props, _body = ch.basic_get("paged")
        ch.basic_nack(method.delivery_tag, requeue=True)
        queue = server.runtime.broker.vhosts["/"].queues["paged"]
        assert queue.paged_count > 0  # the scenario really pages
        ch.connection.close()
        assert server.snapshot("paged")["messages"] == 60
        ch = channel_of(server)
        assert len(_drain(ch, "paged")) == 60  # the snapshot did not take them from the queue
        ch.connection.close()
        assert server.restore("paged")["messages"] == 60
        ch = channel_of(server)
        assert _drain(ch, "paged") == [("p0", True)] + [(f"p{i}", False) for i in range(1, 60)]
        ch.connection.close()


def test_snapshot_gives_unacked_deliveries_back_redelivered_in_place(srv):
    srv.flush()
    ch = channel_of(srv)
    ch.queue_declare("unacked-q")
    for i in range(5):
        ch.basic_publish("", "unacked-q", f"u{i}".encode())
    tags = [ch.basic_get("unacked-q")[0].delivery_tag for _ in range(3)]  # u0, u1, u2 held unacked
    ch.basic_ack(tags[1])  # u1 is done
    ch.queue_declare("unacked-q", passive=True)  # a round trip: the ack has arrived
    snapped = srv.snapshot("unacked")  # the channel is still open, holding u0 and u2
    assert snapped["messages"] == 4
    ch.connection.close()
    ch = channel_of(srv)
    assert _drain(ch, "unacked-q") == [("u0", True), ("u2", True), ("u3", False), ("u4", False)]
    ch.connection.close()
    srv.restore("unacked")
    ch = channel_of(srv)
    assert _drain(ch, "unacked-q") == [("u0", True), ("u2", True), ("u3", False), ("u4", False)]
    ch.queue_delete("unacked-q")
    ch.connection.close()
    srv.control.drop_snapshot("unacked")


def test_snapshot_keeps_delayed_messages_with_their_due_times(srv):
    ch = channel_of(srv)
    ch.exchange_declare("later-x", "x-delayed-message", arguments={"x-delayed-type": "direct"})
    ch.queue_declare("later-q")
    ch.queue_bind("later-q", "later-x", "k")
    ch.basic_publish("later-x", "k", b"in-60s", pika.BasicProperties(headers={"x-delay": 60_000}))
    ch.basic_publish("later-x", "k", b"in-600s", pika.BasicProperties(headers={"x-delay": 600_000}))
    ch.connection.close()
    assert srv.snapshot("delayed")["delayed"] == 2
    assert srv.flush()["delayed"] == 2
    srv.advance(30)
    srv.restore("delayed")
    ch = channel_of(srv)
    assert _drain(ch, "later-q") == []  # held again, until the times they were due
    srv.advance(31)  # 61 s after the publish
    assert _drain(ch, "later-q") == [("in-60s", False)]
    srv.advance(540)
    assert _drain(ch, "later-q") == [("in-600s", False)]
    ch.queue_delete("later-q")
    ch.exchange_delete("later-x")
    ch.connection.close()
    srv.control.drop_snapshot("delayed")


def test_redelivered_flags_survive_for_priority_and_paged_queues(tmp_path, monkeypatch):
    monkeypatch.setenv("YIZHAN_AMQP_PAGE_MESSAGES", "4")
    with Server(data_dir=str(tmp_path), save="") as server:
        ch = channel_of(server)
        ch.queue_declare("prio", durable=True, arguments={"x-max-priority": 5})
        ch.queue_declare("deep", durable=True)
        for i in range(12):
            ch.basic_publish("", "prio", f"q{i}".encode(), pika.BasicProperties(priority=i % 3, delivery_mode=2))
            ch.basic_publish("", "deep", f"d{i}".encode(), pika.BasicProperties(delivery_mode=2))
        prio_tag = ch.basic_get("prio")[0].delivery_tag  # the head (a priority-2 message), unacked
        deep_tags = [ch.basic_get("deep")[0].delivery_tag for _ in range(10)]  # d0..d9, unacked
        ch.basic_ack(deep_tags[0])
        ch.queue_declare("deep", passive=True)
        before_prio = server.control.peek_queue("prio")
        server.snapshot("flags")
        ch.connection.close()
        ch = channel_of(server)
        expected_prio, expected_deep = _drain(ch, "prio"), _drain(ch, "deep")  # as the close left them
        ch.connection.close()
        server.restore("flags")
        ch = channel_of(server)
        assert _drain(ch, "prio") == expected_prio and expected_prio[0][1] is True
        assert _drain(ch, "deep") == expected_deep == ([(f"d{i}", True) for i in range(1, 10)]
                                                      + [("d10", False), ("d11", False)])
        assert len(before_prio) == 11 and prio_tag  # peeking reads the paged messages too
        ch.connection.close()

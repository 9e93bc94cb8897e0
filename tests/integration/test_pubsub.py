"""Publish/subscribe through redis-py, RESP2 and RESP3; the seed's publisher/subscriber;
keyspace notifications; a slow subscriber is cut off at the output-buffer limit."""

import socket
import time

import pytest
import redis

from yizhan.testing.raw import RawClient, encode_command


def wait_message(pubsub, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            return message
    raise AssertionError("no message")


@pytest.mark.parametrize("protocol", [2, 3])
def test_seed_publisher_and_subscriber(both_servers, protocol):
    conn = redis.Redis(host="localhost", port=both_servers, protocol=protocol)
    sub = conn.pubsub()
    sub.subscribe("fm104.5")
    first = sub.parse_response()
    assert first[0] == b"subscribe" and first[1] == b"fm104.5"
    assert redis.Redis(port=both_servers).publish("fm104.5", "hello world!") == 1
    message = sub.parse_response()
    assert message == [b"message", b"fm104.5", b"hello world!"]
    sub.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_patterns_and_counts(both_servers, protocol):
    r = redis.Redis(port=both_servers, protocol=protocol)
    p = r.pubsub(ignore_subscribe_messages=True)
    try:
        p.psubscribe("news.*")
        p.subscribe("news.sport")
        time.sleep(0.05)
        assert r.publish("news.sport", "goal") == 2
        got = sorted((m["type"], m["channel"], m["data"]) for m in (wait_message(p), wait_message(p)))
        assert got == [("message", b"news.sport", b"goal"), ("pmessage", b"news.sport", b"goal")]
        assert r.pubsub_numsub("news.sport") == [(b"news.sport", 1)]
        assert r.pubsub_numpat() == 1
        assert r.pubsub_channels() == [b"news.sport"]
    finally:
        p.close()


def test_resp3_push_while_running_commands(both_servers):
    with RawClient("127.0.0.1", both_servers) as sub, RawClient("127.0.0.1", both_servers) as pub:
        sub.call("HELLO", "3")
        assert sub.call("SUBSCRIBE", "ch") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        assert sub.call("SET", "k", "v") == b"+OK\r\n"
        assert pub.call("PUBLISH", "ch", "hi") == b":1\r\n"
        assert sub.read_reply() == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"


def test_keyspace_notifications(both_servers):
    r = redis.Redis(port=both_servers)
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    try:
        p.psubscribe("__key*__:*")
        wait_message(p)
        r.set("foo", "bar")
        r.delete("foo")
        events = [(m["channel"], m["data"]) for m in (wait_message(p) for _ in range(4))]
        assert events == [(b"__keyspace@0__:foo", b"set"), (b"__keyevent@0__:set", b"foo"),
                          (b"__keyspace@0__:foo", b"del"), (b"__keyevent@0__:del", b"foo")]
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_notify_keyspace_events_config_round_trip(both_servers):
    r = redis.Redis(port=both_servers, decode_responses=True)
    try:
        for given, shown in [("KEA", "AKE"), ("Ex", "xE"), ("Kg$", "g$K"), ("", "")]:
            r.config_set("notify-keyspace-events", given)
            assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": shown}
        with pytest.raises(redis.ResponseError, match="Invalid event class character"):
            r.config_set("notify-keyspace-events", "Q")
    finally:
        r.config_set("notify-keyspace-events", "")


def test_slow_subscriber_is_disconnected_at_the_hard_limit(yizhan_server):
    r = redis.Redis(port=yizhan_server.port)
    r.config_set("client-output-buffer-limit", "pubsub 256kb 128kb 60")
    try:
        slow = socket.create_connection(("127.0.0.1", yizhan_server.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(encode_command(["SUBSCRIBE", "firehose"]))
        time.sleep(0.1)
        payload = b"x" * 10_000
        for _ in range(3000):  # 30 MB for a subscriber that never reads
            if r.publish("firehose", payload) == 0:
                break
        assert r.pubsub_numsub("firehose") == [(b"firehose", 0)]
        assert "pubsub" not in {c.get("flags") for c in r.client_list()}
        slow.close()
    finally:
        r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")

"""The pytest plugin's control fixtures and markers, used as a project's tests would use them
(the fixtures come from the `pytest11` entry point)."""

from __future__ import annotations

import time

import pika
import pytest
import redis
from redis.exceptions import BusyLoadingError

from yizhan.testing.plugin import _reset_controls


@pytest.mark.yizhan_fail("LOADING", command="get", count=1)
def test_marker_fails_the_next_command(yizhan_redis):
    yizhan_redis.set("k", "v")
    with pytest.raises(BusyLoadingError):
        yizhan_redis.get("k")
    assert yizhan_redis.get("k") == b"v"


def test_marker_is_cleared_after_its_test(yizhan_redis):
    yizhan_redis.set("k", "v")
    assert yizhan_redis.get("k") == b"v"


@pytest.mark.yizhan_frozen
def test_frozen_marker_and_advance(yizhan_redis, yizhan_control):
    yizhan_redis.set("k", "v", px=100)
    assert yizhan_redis.pttl("k") == 100  # frozen: not a millisecond passes
    yizhan_control.advance(0.1)
    assert yizhan_redis.get("k") is None


def test_control_fixture_and_snapshot(yizhan_redis, yizhan_control, yizhan_snapshot):
    yizhan_redis.set("outside", "1")
    yizhan_control.record_commands()
    yizhan_redis.set("inside", "2")
    assert ["SET", "inside", "2"] in [c["args"] for c in yizhan_control.commands()]


def test_snapshot_fixture_restored_the_state(yizhan_redis_url):
    client = redis.Redis.from_url(yizhan_redis_url)  # (no flush here)
    assert client.keys("*") == []  # the previous test's keys went with the restore
    client.close()


def test_own_database_and_vhost(yizhan_redis_db, yizhan_vhost_url, yizhan_redis):
    yizhan_redis_db.set("k", "mine")
    assert yizhan_redis.get("k") is None
    conn = pika.BlockingConnection(pika.URLParameters(yizhan_vhost_url))
    channel = conn.channel()
    channel.queue_declare("q")
    channel.basic_publish("", "q", b"m")
    assert channel.queue_declare("q", passive=True).method.message_count == 1
    conn.close()
    assert isinstance(yizhan_redis_db, redis.Redis)


def test_controls_reset_puts_the_clock_back_to_system_time(yizhan_server, yizhan_redis):
    """A test that moved the session's clock leaves no offset for the next tests (an advance of
    0.1 s left behind once made a later test's EX expiry 68 ms late)."""
    yizhan_server.control.advance(1000)
    assert yizhan_redis.time()[0] >= time.time() + 999
    _reset_controls(yizhan_server)
    assert abs(yizhan_redis.time()[0] - time.time()) < 5

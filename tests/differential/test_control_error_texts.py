"""The errors the test controls inject are redis-server 7.0's own lines: a replica of an
unreachable master answers a write with -READONLY, and with replica-serve-stale-data no a
read with -MASTERDOWN; yizhan's injected ones are byte for byte the same."""

from __future__ import annotations

import pytest

from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference, free_port


@pytest.fixture(scope="module")
def stale_replica():
    with RedisReference("redis-server", "--replicaof", "127.0.0.1", str(free_port())) as ref:
        yield ref


def test_readonly_and_masterdown_texts(stale_replica, yizhan_server, yizhan_control):
    with RawClient("127.0.0.1", stale_replica.port) as real, RawClient("127.0.0.1", yizhan_server.port) as ours:
        real_readonly = real.call("SET", "k", "v")
        assert real.call("CONFIG", "SET", "replica-serve-stale-data", "no") == b"+OK\r\n"
        real_masterdown = real.call("GET", "k")
        yizhan_control.fail("READONLY", command="set")
        yizhan_control.fail("MASTERDOWN", command="get")
        assert ours.call("SET", "k", "v") == real_readonly
        assert ours.call("GET", "k") == real_masterdown
    assert real_readonly.startswith(b"-READONLY") and real_masterdown.startswith(b"-MASTERDOWN")

"""Shared fixtures: the real redis-server as the reference (never skipped: a missing reference is
a failure, so CI cannot pass without it) and the differential runner."""

from __future__ import annotations

import pytest

from yizhan.testing.differential import Differential
from yizhan.testing.reference import RedisReference


@pytest.fixture(scope="session")
def reference_redis():
    with RedisReference() as ref:
        yield ref


@pytest.fixture(scope="session")
def differential(yizhan_server, reference_redis) -> Differential:
    return Differential(yizhan_server.port, reference_redis.port)


@pytest.fixture
def raw(yizhan_server):
    """A raw-socket RESP client on the session's yizhan."""
    from yizhan.testing.raw import RawClient

    with RawClient("127.0.0.1", yizhan_server.port) as client:
        client.call("FLUSHALL")
        yield client


@pytest.fixture(params=["yizhan", "redis-server"])
def both_servers(request, yizhan_server, reference_redis):
    """A port, once for yizhan and once for the reference: integration tests that take this
    fixture assert the same behaviour of both."""
    port = yizhan_server.port if request.param == "yizhan" else reference_redis.port
    import redis

    redis.Redis(port=port).flushall()
    return port

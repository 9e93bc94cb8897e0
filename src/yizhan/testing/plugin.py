"""pytest plugin (entry point `pytest11`): fixtures that hand a test a running yizhan.

    def test_something(yizhan_redis):          # a redis-py client on a flushed yizhan
        yizhan_redis.set("k", "v")

`yizhan_server` is shared by the session; `yizhan_redis_url` / `yizhan_amqp_url` are its URLs.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def yizhan_server(tmp_path_factory):
    """A server on free ports with its own empty data directory and no save points, so test
    sessions never share (or leave behind) a dump.rdb."""
    from yizhan import Server

    data_dir = tmp_path_factory.mktemp("yizhan-data")
    with Server(port=0, amqp_port=0, http_port=0, data_dir=str(data_dir), save="") as server:
        yield server


@pytest.fixture(scope="session")
def yizhan_redis_url(yizhan_server) -> str:
    return yizhan_server.redis_url


@pytest.fixture(scope="session")
def yizhan_amqp_url(yizhan_server) -> str:
    return yizhan_server.amqp_url


@pytest.fixture
def yizhan_redis(yizhan_redis_url):
    """A redis-py client connected to the session's yizhan, with every database flushed first."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(yizhan_redis_url)
    client.flushall()
    yield client
    client.close()

"""Opt-in (marker `newer_redis`, not run by CI or a plain `pytest`): yizhan as the replica of a
live Redis 7.2 / 7.4 master, whose full sync sends RDB v11 / v12. Needs redis-server binaries
built outside the tree (see scripts/make_rdb_fixtures.py), named in YIZHAN_NEWER_REDIS
(colon-separated paths); run with
`YIZHAN_NEWER_REDIS=/tmp/redis-7.2.6/src/redis-server:/tmp/redis-7.4.1/src/redis-server
python -m pytest -m newer_redis tests/newer_redis`. Without the variable the test fails."""

import os
import sys
from pathlib import Path

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference
from tests.integration.test_replication_master import link_up, wait_equal, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from make_rdb_fixtures import LIBRARY, dataset, run  # noqa: E402

pytestmark = pytest.mark.newer_redis
BINARIES = [p for p in os.environ.get("YIZHAN_NEWER_REDIS", "").split(":") if p]


@pytest.fixture(params=BINARIES or ["(YIZHAN_NEWER_REDIS not set)"])
def newer_master(request):
    if not os.path.exists(request.param):
        pytest.fail("set YIZHAN_NEWER_REDIS to the redis-server 7.2/7.4 binaries to run this test")
    with RedisReference(request.param, "--enable-debug-command", "local") as ref:
        yield ref


def test_replicates_from_a_newer_master(newer_master):
    m = redis.Redis(port=newer_master.port)
    assert m.info("server")["redis_version"].split(".")[:2] in (["7", "2"], ["7", "4"])
    m.function_load(LIBRARY)
    run(m, dataset())
    with Server(save="", enable_debug_command="local", replicaof=f"127.0.0.1 {newer_master.port}") as ours:
        replica = redis.Redis(port=ours.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_equal(newer_master.port, ours.port)
        m.set("after", "sync")
        m.rpush("list:small", "more")
        m.sadd("set:listpack", "date")
        m.xack("stream:groups", "g1", "1700000000003-0")
        m.incrbyfloat("float", 1.25)
        wait_equal(newer_master.port, ours.port)
        assert replica.fcall("fixture_echo", 0, "x") == b"x"
        assert m.wait(1, 5000) == 1

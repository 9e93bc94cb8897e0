"""A script's writes reach the AOF as their effects, as Redis 7.0 propagates them (one write
alone, several in MULTI/EXEC, inside the caller's MULTI/EXEC when EVAL ran in a transaction),
byte for byte what redis-server writes; the file replays without Lua, in yizhan and in
redis-server; the script cache is not persisted."""

import shutil
from pathlib import Path

import pytest
import redis

import yizhan
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference

WORKLOAD = [
    ["EVAL", "redis.call('set', KEYS[1], ARGV[1])", "1", "single", "1"],
    ["EVAL", "redis.call('set', 'a', '1') redis.call('incr', 'a') return redis.call('get', 'x')", "0"],
    ["EVAL", "return redis.call('get', 'a')", "0"],
    ["EVAL", "redis.call('select', '3') redis.call('set', 'b', '1')", "0"],
    ["EVAL", "redis.call('rpush', 'l', 'x', 'y') redis.call('select', '5') redis.call('hset', 'h', 'f', 'v')", "0"],
    ["MULTI"],
    ["EVAL", "redis.call('set', 'd', '1')", "0"],
    ["SET", "e", "1"],
    ["EVAL", "redis.call('set', 'd', '2') redis.call('set', 'd', '3')", "0"],
    ["EXEC"],
    ["EVAL", "redis.call('set', 'f', '1') error('after the write')", "0"],
    ["EVAL", "redis.call('set', 'g', '1') redis.call('lpush', 'g', 'x')", "0"],
    ["EVAL", "redis.call('del', 'nokey') redis.call('incrbyfloat', 'fl', '1.5') redis.call('lpop', 'l')", "0"],
    ["SCRIPT", "LOAD", "return redis.call('incr', 'loaded')"],
    ["EVALSHA", "8b8a27b6b9d2d8aa1ee8e3a5c3d6b5e1f0c3a2b1", "0"],
]


def run_workload(port: int) -> list[bytes]:
    with RawClient("127.0.0.1", port) as client:
        return [client.call(*argv) for argv in WORKLOAD]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_script_effects_in_the_aof_are_redis_servers(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
        ours = run_workload(srv.port)
    ref = RedisReference("redis-server", "--appendonly", "yes", "--aof-use-rdb-preamble", "no").start()
    try:
        theirs = run_workload(ref.port)
        incr = sorted((Path(ref.workdir) / "appendonlydir").glob("*.incr.aof"))[-1].read_bytes()
    finally:
        ref.stop()
    assert ours == theirs
    logged = (data_dir / "appendonly.aof").read_bytes()
    assert b"MULTI" in logged and b"EVAL" not in logged.upper()
    assert logged == incr


def test_aof_with_script_effects_replays_here_and_in_redis_server(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
        run_workload(srv.port)
        sha = redis.Redis(port=srv.port).script_load("return 1")
        expected = {db: sorted(redis.Redis(port=srv.port, db=db).keys("*")) for db in (0, 3, 5)}
    with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
        r = redis.Redis(port=srv.port)
        assert {db: sorted(redis.Redis(port=srv.port, db=db).keys("*")) for db in (0, 3, 5)} == expected
        assert r.get("d") == b"3" and r.get("a") == b"2" and r.get("f") == b"1"
        assert r.script_exists(sha) == [False]  # the script cache is not persisted
    ref = RedisReference("redis-server", "--appendonly", "yes", "--appendfilename", "appendonly.aof")
    shutil.copy(data_dir / "appendonly.aof", Path(ref.workdir) / "appendonly.aof")
    ref.start()
    try:
        assert {db: sorted(redis.Redis(port=ref.port, db=db).keys("*")) for db in (0, 3, 5)} == expected
        assert redis.Redis(port=ref.port).get("d") == b"3"
    finally:
        ref.stop()

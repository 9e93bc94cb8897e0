"""Functions with real clients and real files: redis-py's function_load / fcall / fcall_ro,
and libraries travelling between yizhan and redis-server 7.0 in both directions, through
dump.rdb (RDB_OPCODE_FUNCTION2 records), the append-only file (FUNCTION LOAD commands, the
rewrite writing them first; Redis's multi-part directory with an RDB preamble) and FUNCTION
DUMP / RESTORE payloads."""

import shutil
import time
from pathlib import Path

import pytest
import redis

import yizhan
from yizhan.testing.reference import RedisReference

COUNTER = """#!lua name=counter
local function incr(keys, args)
  return redis.call('INCRBY', keys[1], args[1] or 1)
end
local function get(keys, args)
  return redis.call('GET', keys[1])
end
redis.register_function('counter_incr', incr)
redis.register_function{function_name='counter_get', callback=get, flags={'no-writes'},
                        description='read the counter'}
"""
ECHO = "#!lua name=echo\nredis.register_function('echo', function(keys, args) return args[1] end)"
LATE = "#!lua name=late\nredis.register_function('late', function() return 'late' end)"


def libraries(port: int) -> list:
    """FUNCTION LIST WITHCODE, libraries and functions sorted by name (Redis lists them in
    hash order)."""
    r = redis.Redis(port=port)
    out = []
    for lib in r.function_list(withcode=True):
        lib = {k.decode() if isinstance(k, bytes) else k: v for k, v in _pairs(lib)}
        functions = sorted((sorted((k, repr(v)) for k, v in _pairs(fn)) for fn in lib["functions"]))
        out.append((lib["library_name"], lib["engine"], lib["library_code"], functions))
    r.close()
    return sorted(out)


def _pairs(reply):
    if isinstance(reply, dict):
        return list(reply.items())
    return list(zip(reply[0::2], reply[1::2]))


def load_libraries(r: redis.Redis) -> None:
    r.function_load(COUNTER)
    r.function_load(ECHO)
    r.set("plain", "key")


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_redis_py_function_load_list_delete(yizhan_redis):
    r = yizhan_redis
    r.function_flush()
    assert r.function_load(COUNTER) == b"counter"
    with pytest.raises(redis.ResponseError, match="Library 'counter' already exists"):
        r.function_load(COUNTER)
    assert r.function_load(COUNTER, replace=True) == b"counter"
    [lib] = r.function_list()
    assert dict(_pairs(lib))[b"library_name"] == b"counter"
    assert r.function_delete("counter")
    assert r.function_list() == []


def test_rdb_written_by_yizhan_loads_into_redis_server(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        r = redis.Redis(port=srv.port)
        load_libraries(r)
        ours = libraries(srv.port)
        assert r.save() is True
    ref = RedisReference("redis-server", "--dbfilename", "dump.rdb")
    shutil.copy(data_dir / "dump.rdb", Path(ref.workdir) / "dump.rdb")
    ref.start()
    try:
        assert libraries(ref.port) == ours
        assert len(ours) == 2
        assert redis.Redis(port=ref.port).get("plain") == b"key"
    finally:
        ref.stop()


def test_rdb_written_by_redis_server_loads_into_yizhan(data_dir):
    ref = RedisReference("redis-server", "--dbfilename", "dump.rdb").start()
    try:
        r = redis.Redis(port=ref.port)
        load_libraries(r)
        theirs = libraries(ref.port)
        assert r.save() is True
        data_dir.mkdir()
        shutil.copy(Path(ref.workdir) / "dump.rdb", data_dir / "dump.rdb")
    finally:
        ref.stop()
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        assert libraries(srv.port) == theirs
        assert redis.Redis(port=srv.port).get("plain") == b"key"


def _wait_rewrite(r: redis.Redis) -> None:
    deadline = time.time() + 20
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)


def test_aof_written_by_yizhan_loads_into_redis_server(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
        r = redis.Redis(port=srv.port)
        load_libraries(r)
        r.bgrewriteaof()  # the rewrite writes FUNCTION LOAD first
        _wait_rewrite(r)
        r.function_load(LATE)  # propagated as it was given
        r.function_delete("echo")
        ours = libraries(srv.port)
    text = (data_dir / "appendonly.aof").read_bytes()
    assert text.startswith(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n")
    ref = RedisReference("redis-server", "--appendonly", "yes", "--appendfilename", "appendonly.aof")
    shutil.copy(data_dir / "appendonly.aof", Path(ref.workdir) / "appendonly.aof")
    ref.start()
    try:
        assert libraries(ref.port) == ours
        assert [lib[0] for lib in ours] == [b"counter", b"late"]
    finally:
        ref.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_written_by_redis_server_loads_into_yizhan(data_dir, preamble):
    """Redis 7.0's multi-part AOF: the base file (an RDB preamble with function records, or
    FUNCTION LOAD commands) and an incr file with later FUNCTION commands."""
    ref = RedisReference("redis-server", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble).start()
    try:
        r = redis.Redis(port=ref.port)
        load_libraries(r)
        r.bgrewriteaof()
        _wait_rewrite(r)
        r.function_load(LATE)
        r.function_delete("echo")
        theirs = libraries(ref.port)
        data_dir.mkdir()
        shutil.copytree(Path(ref.workdir) / "appendonlydir", data_dir / "appendonlydir")
    finally:
        ref.stop()
    for _ in range(2):  # then again from the converted single file
        with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
            assert libraries(srv.port) == theirs
            assert redis.Redis(port=srv.port).get("plain") == b"key"


def test_function_dump_restore_between_yizhan_and_redis_server(yizhan_server, reference_redis):
    ours, theirs = redis.Redis(port=yizhan_server.port), redis.Redis(port=reference_redis.port)
    for r in (ours, theirs):
        r.function_flush()
    ours.function_load(COUNTER)
    theirs.function_restore(ours.function_dump())
    assert libraries(reference_redis.port) == libraries(yizhan_server.port)
    theirs.function_load(ECHO)
    ours.function_restore(theirs.function_dump(), "REPLACE")
    assert libraries(yizhan_server.port) == libraries(reference_redis.port)
    for r in (ours, theirs):
        r.function_flush()

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
        assert redis.Redis(port=ref.port).fcall("echo", 0, "hi") == b"hi"
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
        r = redis.Redis(port=srv.port)
        assert r.get("plain") == b"key"
        assert r.fcall("counter_incr", 1, "n", 2) == 2


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
        assert r.fcall("counter_incr", 1, "n", 7) == 7  # its effect (INCRBY) reaches the AOF
        ours = libraries(srv.port)
    text = (data_dir / "appendonly.aof").read_bytes()
    assert text.startswith(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n")
    ref = RedisReference("redis-server", "--appendonly", "yes", "--appendfilename", "appendonly.aof")
    shutil.copy(data_dir / "appendonly.aof", Path(ref.workdir) / "appendonly.aof")
    ref.start()
    try:
        assert libraries(ref.port) == ours
        assert [lib[0] for lib in ours] == [b"counter", b"late"]
        assert redis.Redis(port=ref.port).get("n") == b"7"
    finally:
        ref.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_written_by_redis_server_loads_into_yizhan(data_dir, preamble):
    """Redis 7.0's multi-part AOF: the base file (an RDB preamble with function records, or
    FUNCTION LOAD commands) and an incr file with later FUNCTION commands."""
    ref = RedisReference("redis-server", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
                         "--appendfsync", "always").start()  # written before the reply: safe to copy
    try:
        r = redis.Redis(port=ref.port)
        load_libraries(r)
        r.bgrewriteaof()
        _wait_rewrite(r)
        r.function_load(LATE)
        r.function_delete("echo")
        r.fcall("counter_incr", 1, "n", 7)
        theirs = libraries(ref.port)
        data_dir.mkdir()
        shutil.copytree(Path(ref.workdir) / "appendonlydir", data_dir / "appendonlydir")
    finally:
        ref.stop()
    for _ in range(2):  # then again from the converted single file
        with yizhan.Server(data_dir=str(data_dir), save="", appendonly="yes") as srv:
            assert libraries(srv.port) == theirs
            assert redis.Redis(port=srv.port).get("plain") == b"key"
            assert redis.Redis(port=srv.port).get("n") == b"7"
            assert redis.Redis(port=srv.port).fcall("late", 0) == b"late"


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


def test_redis_py_fcall_and_fcall_ro(both_servers):
    r = redis.Redis(port=both_servers)
    r.function_flush()
    r.function_load(COUNTER)
    assert r.fcall("counter_incr", 1, "n", 5) == 5
    assert r.fcall("COUNTER_INCR", 1, "n") == 6
    assert r.fcall_ro("counter_get", 1, "n") == b"6"
    with pytest.raises(redis.ResponseError, match=r"^Can not execute a script with write flag using \*_ro command\.$"):
        r.fcall_ro("counter_incr", 1, "n")
    with pytest.raises(redis.ResponseError, match="^Function not found$"):
        r.fcall("nosuch", 0)
    r.function_flush()


# -- a long function: BUSY for the others, FUNCTION STATS, FUNCTION KILL ------------------------
FUNCTION_BUSY = (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 b"SHUTDOWN NOSAVE.\r\n")
SPIN = """#!lua name=spin
redis.register_function('forever', function() local i = 0 while true do i = i + 1 end end)
redis.register_function('write_then_spin', function(keys)
  redis.call('set', keys[1], '1')
  local s = tonumber(redis.call('time')[1])
  while tonumber(redis.call('time')[1]) < s + 5 do end  -- long enough for a hook on a busy machine
  return 'done'
end)
"""


@pytest.fixture
def spinning(both_servers):
    from yizhan.testing.raw import RawClient
    with RawClient("127.0.0.1", both_servers) as admin:
        admin.call("FUNCTION", "FLUSH")
        admin.call("FUNCTION", "LOAD", SPIN)
        admin.call("CONFIG", "SET", "busy-reply-threshold", "100")
    yield both_servers
    with RawClient("127.0.0.1", both_servers, timeout=30) as admin:
        admin.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        admin.call("FUNCTION", "FLUSH")


def _start_fcall(port, *args):
    import threading
    from yizhan.testing.raw import RawClient
    caller = RawClient("127.0.0.1", port, timeout=30)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("reply", caller.call("FCALL", *args)))
    thread.start()
    return caller, thread, result


def _wait_for_busy(client) -> None:
    for _ in range(600):
        reply = client.call("PING")
        if reply == FUNCTION_BUSY:
            return
        assert reply == b"+PONG\r\n"
        time.sleep(0.01)
    raise AssertionError("no BUSY reply")


def _stop(port, thread) -> None:
    from yizhan.testing.raw import RawClient
    if thread.is_alive():
        with RawClient("127.0.0.1", port, timeout=30) as killer:
            killer.call("FUNCTION", "KILL")
    thread.join(30)


def test_busy_function_stats_and_function_kill(spinning):
    from yizhan.testing.raw import RawClient
    other = RawClient("127.0.0.1", spinning, timeout=30)
    caller, thread, result = _start_fcall(spinning, "forever", "0")
    try:
        _wait_for_busy(other)
        assert other.call("GET", "x") == FUNCTION_BUSY
        assert other.call("SCRIPT", "KILL") == FUNCTION_BUSY
        assert other.call("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('x', print)") == FUNCTION_BUSY
        stats = other.call("FUNCTION", "STATS")
        assert stats.startswith(b"*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$7\r\nforever\r\n"
                                b"$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$7\r\nforever\r\n$1\r\n0\r\n"
                                b"$11\r\nduration_ms\r\n:")
        assert stats.endswith(b"$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n"
                              b"$15\r\nfunctions_count\r\n:2\r\n")
        assert other.call("FUNCTION", "KILL") == b"+OK\r\n"
        thread.join(30)
        assert result["reply"] == (b"-ERR Script killed by user with SCRIPT KILL... script: forever, "
                                   b"on @user_function:2.\r\n")
        assert other.call("PING") == b"+PONG\r\n"
        assert other.call("FUNCTION", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    finally:
        _stop(spinning, thread)
        caller.close()
        other.close()


def test_function_that_wrote_is_unkillable(spinning):
    from yizhan.testing.raw import RawClient
    other = RawClient("127.0.0.1", spinning, timeout=30)
    caller, thread, result = _start_fcall(spinning, "write_then_spin", "1", "w")
    try:
        _wait_for_busy(other)
        assert other.call("FUNCTION", "KILL").startswith(b"-UNKILLABLE Sorry the script already executed")
        thread.join(30)
        assert result["reply"] == b"$4\r\ndone\r\n"
        assert other.call("GET", "w") == b"$1\r\n1\r\n"
    finally:
        _stop(spinning, thread)
        caller.close()
        other.close()

"""RDB snapshots and DUMP/RESTORE against the real redis-server 7.0: a dump.rdb written by yizhan
loads into redis-server with identical contents and the reverse, DUMP payloads travel both ways
(byte-identical where Redis's encoding is deterministic), BGSAVE in a forked child while the
server answers, start-up loading, save points, and a clear error for a corrupt file."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

import yizhan
from yizhan.redis.persistence.snapshot import RDBLoadError
from yizhan.testing.reference import RedisReference

# Hashtable-encoded values: Redis serializes them in its dict's hash order, which yizhan does not
# reproduce, so their payloads are compared by content only.
HASH_ORDERED = {b"set:strings", b"set:bigints", b"hash:big"}


def populate(r: redis.Redis) -> None:
    """Every type in every encoding Redis 7.0 writes, with and without TTLs, in two databases."""
    r.set("str:short", "hello")
    r.set("str:int", "12345")
    r.set("str:neg", "-2147483648")
    r.set("str:bigint", "12345678901234567")
    r.set("str:long", "the quick brown fox jumps over the lazy dog " * 40)
    r.set("str:binary", bytes(range(256)) * 3)
    r.set("str:empty", "")
    r.set("str:ttl", "soon", px=3_600_000)
    r.rpush("list:small", "a", "b", "1", "-5000", "100000", "x" * 70, "")
    r.rpush("list:big", *[f"element-{i}" for i in range(3000)])
    r.rpush("list:huge-elements", *["y" * (i * 300) for i in range(1, 40)])
    r.hset("hash:small", mapping={"f1": "v1", "f2": "2", "n": "-7"})
    r.hset("hash:medium", mapping={f"field-{i}": f"value-{i}" for i in range(300)})  # a big listpack
    r.hset("hash:big", mapping={f"field-{i}": f"value-{i}" for i in range(600)})
    r.hset("hash:longvalue", mapping={"f": "v" * 100})
    r.sadd("set:ints", 3, 1, 2, 100000, -70000, 2**40)
    r.sadd("set:strings", "apple", "banana", "7")
    r.sadd("set:bigints", *range(1000))
    r.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3, "d": 1e20, "e": float("inf"), "f": float("-inf"),
                          "g": 0.1, "h": 123456789012})
    r.zadd("zset:big", {f"m{i}": i * 1.5 - 100 for i in range(300)})
    r.zadd("zset:longmember", {"m" * 100: 1})
    r.pfadd("hll", *[f"item-{i}" for i in range(50)])
    r.expire("hash:small", 7200)
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3)
    other.set("db3:key", "in three")
    other.zadd("db3:zset", {"x": 1})
    other.pexpireat("db3:key", int(time.time() * 1000) + 86_400_000)


def contents(port: int) -> dict:
    """Everything in every database, TTLs rounded to the minute."""
    out = {}
    for db in range(16):
        r = redis.Redis(port=port, db=db)
        for key in r.keys("*"):
            kind = r.type(key).decode()
            if kind == "string":
                value = r.get(key)
            elif kind == "list":
                value = r.lrange(key, 0, -1)
            elif kind == "hash":
                value = r.hgetall(key)
            elif kind == "set":
                value = sorted(r.smembers(key))
            elif kind == "zset":
                value = r.zrange(key, 0, -1, withscores=True)
            else:
                value = None
            pttl = r.pttl(key)
            out[(db, key)] = (kind, r.object("encoding", key), value, round(pttl / 60000) if pttl > 0 else pttl)
        r.close()
    return out


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def _reference_with_file(rdb_path) -> RedisReference:
    ref = RedisReference("redis-server", "--dbfilename", "dump.rdb")
    if rdb_path is not None:
        shutil.copy(rdb_path, os.path.join(ref.workdir, "dump.rdb"))
    return ref.start()


def test_dump_rdb_written_by_yizhan_loads_into_redis_server(data_dir):
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        populate(r)
        ours = contents(srv.port)
        assert r.save() is True
    ref = _reference_with_file(data_dir / "dump.rdb")
    try:
        assert contents(ref.port) == ours
        assert len(ours) > 20
    finally:
        ref.stop()


def test_dump_rdb_written_by_redis_server_loads_into_yizhan(data_dir):
    ref = _reference_with_file(None)
    try:
        r = redis.Redis(port=ref.port)
        populate(r)
        theirs = contents(ref.port)
        assert r.save() is True
        data_dir.mkdir()
        shutil.copy(os.path.join(ref.workdir, "dump.rdb"), data_dir / "dump.rdb")
    finally:
        ref.stop()
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        assert contents(srv.port) == theirs


def test_dump_restore_between_yizhan_and_redis_server(yizhan_server, reference_redis):
    ours = redis.Redis(port=yizhan_server.port)
    theirs = redis.Redis(port=reference_redis.port)
    for source, target in ((theirs, ours), (ours, theirs)):
        source.flushall()
        target.flushall()
        populate(source)
        expected = contents(source.connection_pool.connection_kwargs["port"])
        for key in source.keys("*"):
            payload = source.dump(key)
            target.restore(key, max(source.pttl(key), 0), payload)
            if key not in HASH_ORDERED:
                assert target.dump(key) == payload, key  # byte-identical both ways
        got = contents(target.connection_pool.connection_kwargs["port"])
        assert {k: v for k, v in got.items() if k[0] == 0} == {k: v for k, v in expected.items() if k[0] == 0}


def test_dump_payloads_are_byte_identical(yizhan_server, reference_redis):
    ours = redis.Redis(port=yizhan_server.port)
    theirs = redis.Redis(port=reference_redis.port)
    ours.flushall()
    theirs.flushall()
    populate(ours)
    populate(theirs)
    keys = theirs.keys("*")
    assert sorted(keys) == sorted(ours.keys("*"))
    for key in keys:
        if key not in HASH_ORDERED:
            assert ours.dump(key) == theirs.dump(key), key


def test_bgsave_forks_and_the_server_keeps_answering(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:  # no final save at stop
        r = redis.Redis(port=srv.port)
        pipe = r.pipeline(transaction=False)
        for i in range(20000):
            pipe.set(f"key:{i}", f"value:{i}" * 5)
        pipe.execute()
        before = r.lastsave()
        assert r.info("persistence")["rdb_changes_since_last_save"] >= 20000
        time.sleep(1.05)
        assert r.execute_command("BGSAVE") is True  # "Background saving started"
        # the child needs a few hundred ms for 20000 keys: these arrive while it runs
        for command in (["BGSAVE"], ["BGSAVE", "SCHEDULE"], ["SAVE"]):
            with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
                r.execute_command(*command)
        assert r.info("persistence")["rdb_bgsave_in_progress"] == 1
        assert r.set("written-during-bgsave", "1") is True
        deadline = time.time() + 30
        while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        info = r.info("persistence")
        assert info["rdb_last_bgsave_status"] == "ok"
        assert r.lastsave() > before
        assert (data_dir / "dump.rdb").exists()
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        assert r.dbsize() == 20000  # the snapshot is the data as of the fork
        assert r.get("key:19999") == b"value:19999" * 5


def test_save_points_trigger_a_background_save(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="1 3") as srv:
        r = redis.Redis(port=srv.port)
        r.mset({"a": 1, "b": 2, "c": 3})
        deadline = time.time() + 10
        while not (data_dir / "dump.rdb").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (data_dir / "dump.rdb").exists()
        while r.info("persistence")["rdb_changes_since_last_save"] and time.time() < deadline:
            time.sleep(0.1)
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0


def test_no_save_points_no_file(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        r = redis.Redis(port=srv.port)
        r.mset({"a": 1, "b": 2, "c": 3})
        time.sleep(0.5)
        assert not (data_dir / "dump.rdb").exists()


def test_expired_keys_are_not_loaded_and_ttls_survive(data_dir):
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        r.set("short", "x", px=300)
        r.set("long", "y", ex=1000)
        r.set("plain", "z")
        r.save()
    time.sleep(0.4)
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        assert sorted(r.keys("*")) == [b"long", b"plain"]
        assert 990 <= r.ttl("long") <= 1000
        assert r.ttl("plain") == -1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupt_dump_rdb_stops_the_start_with_a_clear_error(data_dir, damage):
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        redis.Redis(port=srv.port).rpush("list", *range(100))
        redis.Redis(port=srv.port).save()
    path = data_dir / "dump.rdb"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 2] ^= 0x40
    else:
        data = bytearray(b"not an rdb file at all")
    path.write_bytes(bytes(data))
    with pytest.raises(RDBLoadError) as info:
        yizhan.Server(data_dir=str(data_dir)).start()
    assert str(path) in str(info.value)
    assert "move it away" in str(info.value)


def test_redis_cli_rdb_fetches_a_snapshot_that_redis_server_loads(yizhan_server, tmp_path):
    r = redis.Redis(port=yizhan_server.port)
    r.flushall()
    populate(r)
    ours = contents(yizhan_server.port)
    target = tmp_path / "fetched.rdb"
    done = subprocess.run(["redis-cli", "-p", str(yizhan_server.port), "--rdb", str(target)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "Transfer finished with success" in done.stdout + done.stderr
    ref = _reference_with_file(target)
    try:
        assert contents(ref.port) == ours
    finally:
        ref.stop()
        r.flushall()


def test_rdbcompression_no_writes_plain_strings(data_dir):
    text = "abcdefgh" * 20
    with yizhan.Server(data_dir=str(data_dir), rdbcompression="no") as srv:
        r = redis.Redis(port=srv.port)
        r.set("k", text)
        assert r.dump("k")[:-10] == b"\x00\x40\xa0" + text.encode()  # type, length 160, the bytes
        r.save()
    assert text.encode() in (data_dir / "dump.rdb").read_bytes()
    ref = _reference_with_file(data_dir / "dump.rdb")
    try:
        assert redis.Redis(port=ref.port).get("k") == text.encode()
    finally:
        ref.stop()


def test_info_persistence_has_redis_fields_and_counts_saves_and_loads(data_dir, reference_redis):
    theirs = list(redis.Redis(port=reference_redis.port).info("persistence"))
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        assert list(r.info("persistence")) == theirs
        r.set("a", 1)
        r.set("gone", 1, px=200)
        assert r.info("persistence")["rdb_saves"] == 0
        r.save()
        assert r.info("persistence")["rdb_saves"] == 1
    time.sleep(0.3)
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        info = redis.Redis(port=srv.port).info("persistence")
        assert info["rdb_last_load_keys_loaded"] == 1
        assert info["rdb_last_load_keys_expired"] == 1
        assert info["rdb_changes_since_last_save"] == 0


def test_redis_check_rdb_accepts_a_yizhan_dump(data_dir):
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        populate(r)
        r.save()
    done = subprocess.run(["redis-check-rdb", str(data_dir / "dump.rdb")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RDB looks OK" in done.stdout
    assert "Checksum OK" in done.stdout


def test_without_fork_bgsave_saves_in_process(data_dir, monkeypatch):
    monkeypatch.delattr(os, "fork")
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        r.set("k", "v")
        assert r.execute_command("BGSAVE") is True
        assert r.info("persistence")["rdb_bgsave_in_progress"] == 0
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        assert redis.Redis(port=srv.port).get("k") == b"v"


def test_stopping_the_server_stops_a_running_bgsave_child(data_dir):
    with yizhan.Server(data_dir=str(data_dir)) as srv:
        r = redis.Redis(port=srv.port)
        pipe = r.pipeline(transaction=False)
        for i in range(20000):
            pipe.set(f"key:{i}", "v" * 50)
        pipe.execute()
        r.execute_command("BGSAVE")
        pid = srv.runtime.redis._snapshotter.child_pid
        assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped
    assert not list(data_dir.glob("temp-*.rdb"))


def test_lzf_output_is_byte_identical_to_redis_for_random_strings(reference_redis):
    """Redis's DUMP of strings longer than 20 bytes is LZF-compressed when that saves space:
    yizhan's compressor must make the same choices byte for byte."""
    import random

    from yizhan.redis.persistence import rdb

    rng = random.Random(11)
    theirs = redis.Redis(port=reference_redis.port)
    theirs.flushall()
    words = [b"alpha", b"beta", b"gamma", b"\x00\xff", b"a", b"zz", b"0123456789"]
    for i in range(300):
        kind = i % 3
        if kind == 0:
            value = b"".join(rng.choice(words) for _ in range(rng.randrange(3, 400)))
        elif kind == 1:
            value = bytes(rng.randrange(4) for _ in range(rng.randrange(21, 3000)))
        else:
            value = bytes(rng.randrange(256) for _ in range(rng.randrange(21, 200))) * rng.randrange(1, 5)
        theirs.set("k", value)
        assert theirs.dump("k") == rdb.dump_payload(value), (i, value[:40])


def _serve(data_dir, port, *extra) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "yizhan", "serve", "--port", str(port), "--amqp-port", "0",
         "--http-port", "0", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if redis.Redis(port=port).ping():
                return process
        except redis.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("yizhan did not start: " + process.stderr.read().decode())


def test_sigterm_saves_and_a_restart_loads(data_dir):
    from yizhan.testing.reference import free_port

    port = free_port()
    process = _serve(data_dir, port)
    r = redis.Redis(port=port)
    r.rpush("list", *range(100))
    r.set("ttl", "x", ex=500)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    process = _serve(data_dir, port)
    try:
        assert r.lrange("list", 0, -1) == [b"%d" % i for i in range(100)]
        assert 490 <= r.ttl("ttl") <= 500
    finally:
        process.kill()
        process.wait()


def test_sigkill_keeps_the_last_background_save(data_dir):
    from yizhan.testing.reference import free_port

    port = free_port()
    process = _serve(data_dir, port)
    r = redis.Redis(port=port)
    r.set("saved", "1")
    r.execute_command("BGSAVE")
    deadline = time.time() + 30
    while r.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    r.set("after-save", "1")
    process.kill()
    process.wait()
    process = _serve(data_dir, port)
    try:
        assert r.get("saved") == b"1"
        assert r.get("after-save") is None  # no AOF: what came after the snapshot is gone
    finally:
        process.kill()
        process.wait()


ODD_SCORES = [0.1, 1 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -1e15, 4503599627370496.0,
              4503599627370495.0, -4503599627370495.0, 2.0**53, 123.0, -0.5, 1e16, 1e22, 2.5e-5, -0.0,
              9007199254740993.0, float("inf"), float("-inf")]


def test_random_lists_zsets_and_intsets_dump_byte_identically(reference_redis):
    """Listpack entry encodings, quicklist node splits, intset widths and zset score texts:
    yizhan's serialization of random values equals redis-server's byte for byte."""
    import random

    from yizhan.redis.types.lists import RedisList
    from yizhan.redis.types.sets import Set
    from yizhan.redis.types.zsets import ZSet
    from yizhan.redis.persistence import rdb

    theirs = redis.Redis(port=reference_redis.port)
    theirs.flushall()
    rng = random.Random(5)
    for score in ODD_SCORES:
        theirs.delete("z")
        theirs.zadd("z", {"m": score})
        zs = ZSet()
        zs.insert(b"m", float(score))
        assert theirs.dump("z") == rdb.dump_payload(zs), score
    for trial in range(15):
        elements = []
        for _ in range(rng.choice([1, 10, 100, 1000, 4000])):
            k = rng.random()
            if k < 0.3:
                elements.append(b"%d" % rng.randrange(-2**63, 2**63))
            elif k < 0.5:
                elements.append(b"%d" % rng.randrange(-5000, 5000))
            elif k < 0.92:
                elements.append(bytes(rng.randrange(97, 100) for _ in range(rng.randrange(0, 80))))
            else:
                elements.append(b"x" * rng.randrange(100, 9000))
        theirs.delete("l")
        theirs.rpush("l", *elements)
        assert theirs.dump("l") == rdb.dump_payload(RedisList(elements)), trial
        members = {e: rng.choice([rng.random() * 1000, rng.randrange(-10**6, 10**6)])
                   for e in elements[:200] if len(e) <= 64}
        theirs.delete("z")
        theirs.zadd("z", members)
        zs = ZSet(listpack=len(members) <= 128)
        for member, score in members.items():
            zs.insert(member, float(score))
        assert theirs.dump("z") == rdb.dump_payload(zs), trial
        numbers = {rng.choice([rng.randrange(-100, 100), rng.randrange(-2**40, 2**40)])
                   for _ in range(rng.randrange(1, 400))}
        theirs.delete("s")
        theirs.sadd("s", *numbers)
        assert theirs.dump("s") == rdb.dump_payload(Set.build([b"%d" % n for n in numbers], 512)), trial


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_idle_time_and_lfu_counter_travel_with_the_file(data_dir, policy):
    """Under an LRU / LFU policy the file carries each key's idle time / LFU counter both ways."""
    ref = RedisReference("redis-server", "--dbfilename", "dump.rdb", "--maxmemory-policy", policy).start()
    try:
        r = redis.Redis(port=ref.port)
        r.restore("k", 0, _string_payload(), idletime=5000 if policy.endswith("lru") else None,
                  frequency=42 if policy.endswith("lfu") else None)
        r.save()
        data_dir.mkdir()
        shutil.copy(os.path.join(ref.workdir, "dump.rdb"), data_dir / "dump.rdb")
    finally:
        ref.stop()
    with yizhan.Server(data_dir=str(data_dir), maxmemory_policy=policy) as srv:
        ours = redis.Redis(port=srv.port)
        if policy.endswith("lru"):
            assert 5000 <= ours.object("idletime", "k") <= 5002
        else:
            assert ours.object("freq", "k") == 42
        ours.save()
    ref = RedisReference("redis-server", "--dbfilename", "dump.rdb", "--maxmemory-policy", policy)
    shutil.copy(data_dir / "dump.rdb", os.path.join(ref.workdir, "dump.rdb"))
    ref.start()
    try:
        theirs = redis.Redis(port=ref.port)
        if policy.endswith("lru"):
            assert 5000 <= theirs.object("idletime", "k") <= 5003
        else:
            assert theirs.object("freq", "k") == 42
    finally:
        ref.stop()


def _string_payload() -> bytes:
    from yizhan.redis.persistence import rdb

    return rdb.dump_payload(b"value")


# -- one child at a time, FLUSHALL and save points (replies compared with redis-server) ---------
def _replies(port: int, commands: list[list[str]]) -> list[bytes]:
    from yizhan.testing.raw import RawClient

    with RawClient("127.0.0.1", port) as client:
        return [client.call(*command) for command in commands]


def _wait_saves(r: redis.Redis, saves: int) -> dict:
    """INFO persistence once `saves` saves are done and no child runs (a scheduled BGSAVE
    starts from the server's cron, so it may not have begun yet)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        info = r.info("persistence")
        if (info["rdb_saves"] >= saves and not info["rdb_bgsave_in_progress"]
                and not info["aof_rewrite_in_progress"]):
            return info
        time.sleep(0.05)
    raise AssertionError(f"not {saves} saves yet, or a persistence child is still running")


# A rewrite made slow by the hidden rdb-key-save-delay (1 s per key, 3 keys), stopped by
# switching the AOF off; the BGSAVE scheduled meanwhile runs once that child is gone.
ONE_CHILD_AT_A_TIME = [
    ["MSET", "a", "1", "b", "2", "c", "3"], ["CONFIG", "SET", "rdb-key-save-delay", "1000000"],
    ["CONFIG", "SET", "appendonly", "yes"], ["BGSAVE"], ["BGREWRITEAOF"], ["BGSAVE", "SCHEDULE"],
    ["SAVE"], ["CONFIG", "SET", "rdb-key-save-delay", "0"], ["CONFIG", "SET", "appendonly", "no"],
]


def test_bgsave_during_an_aof_rewrite_answers_and_schedules_like_redis(data_dir):
    with RedisReference() as ref:
        theirs = _replies(ref.port, ONE_CHILD_AT_A_TIME)
        reference_info = _wait_saves(redis.Redis(port=ref.port), 2)
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        ours = _replies(srv.port, ONE_CHILD_AT_A_TIME)
        info = _wait_saves(redis.Redis(port=srv.port), 2)
    assert ours == theirs
    assert theirs[3].startswith(b"-ERR Another child process is active (AOF?)")
    assert theirs[5] == b"+Background saving scheduled\r\n"
    assert (info["rdb_saves"], info["rdb_last_bgsave_status"]) == (2, "ok")  # SAVE, then BGSAVE
    assert (reference_info["rdb_saves"], reference_info["rdb_last_bgsave_status"]) == (2, "ok")
    assert (data_dir / "dump.rdb").exists()


def test_bgsave_inside_multi_is_scheduled_like_redis(data_dir):
    commands = [["MULTI"], ["BGSAVE"], ["EXEC"]]
    with RedisReference() as ref:
        theirs = _replies(ref.port, commands)
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        ours = _replies(srv.port, commands)
        assert _wait_saves(redis.Redis(port=srv.port), 1)["rdb_saves"] == 1
    assert ours == theirs == [b"+OK\r\n", b"+QUEUED\r\n", b"*1\r\n+Background saving scheduled\r\n"]


def test_flushall_with_save_points_saves_the_empty_dataset(data_dir):
    """Redis 7.0: FLUSHALL kills a running BGSAVE and, with save points, writes dump.rdb at once
    (LASTSAVE moves, the change count is 0, rdb_saves does not count it)."""
    with yizhan.Server(data_dir=str(data_dir), save="3600 1000") as srv:
        r = redis.Redis(port=srv.port)
        r.mset({f"k{i}": i for i in range(5)})
        assert r.save()
        saved = r.lastsave()
        r.config_set("rdb-key-save-delay", 1000000)
        r.set("more", "1")
        assert r.execute_command("BGSAVE") is True  # 6 s with the delay: killed by FLUSHALL
        time.sleep(1.1)
        r.config_set("rdb-key-save-delay", 0)
        assert r.flushall() is True
        info = r.info("persistence")
        assert info["rdb_bgsave_in_progress"] == 0 and info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == 0 and info["rdb_saves"] == 1
        assert r.lastsave() > saved
        assert not list(data_dir.glob("temp-*.rdb"))
        r.set("after", "1")
        r.config_set("save", "")  # no save at stop: the file on disk stays FLUSHALL's
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        assert redis.Redis(port=srv.port).dbsize() == 0
    with RedisReference("redis-server", "--save", "3600 1000") as ref:
        r = redis.Redis(port=ref.port)
        r.mset({f"k{i}": i for i in range(5)})
        assert r.save()
        assert r.flushall() is True
        info = r.info("persistence")
        assert info["rdb_changes_since_last_save"] == 0 and info["rdb_saves"] == 1
        assert (Path(ref.workdir) / "dump.rdb").exists()


def test_flushall_without_save_points_writes_nothing(data_dir):
    with yizhan.Server(data_dir=str(data_dir), save="") as srv:
        r = redis.Redis(port=srv.port)
        r.set("a", "1")
        assert r.flushall() is True
        assert r.info("persistence")["rdb_changes_since_last_save"] >= 1
    assert not (data_dir / "dump.rdb").exists()

"""RDB files written by Redis 7.2 (version 11) and 7.4 (version 12), committed under tests/data/rdb/
by scripts/make_rdb_fixtures.py: yizhan loads every type it has (listpack sets, streams with
consumer active times, functions, expiries, two databases) with the same DEBUG DIGEST as the
server that wrote them and the consumer groups, pending entries and expiry times Redis 7.0 shows
for the same data; a hash with per-field TTLs refuses the whole file with Redis 7.0's words for a
type it does not know; a DUMP payload of version 11/12 gets Redis 7.0's RESTORE error."""

import json
import shutil
from pathlib import Path

import pytest
import redis

import yizhan
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.codec import RDBUnsupported, crc64, encode_string, listpack
from yizhan.redis.persistence.snapshot import RDBLoadError
from yizhan.testing.reference import RedisReference

DATA = Path(__file__).resolve().parent.parent / "data" / "rdb"
FIXTURES = sorted(p.stem for p in DATA.glob("redis-7.*.json"))


def fixture(name: str) -> tuple[bytes, dict]:
    return (DATA / f"{name}.rdb").read_bytes(), json.loads((DATA / f"{name}.json").read_text())


def facts(r: redis.Redis) -> dict:
    """The same facts scripts/make_rdb_fixtures.py records, read from yizhan."""
    text = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731
    sizes = [r.execute_command("SELECT", db) and r.dbsize() for db in (0, 1)]
    r.execute_command("SELECT", 0)
    return {
        "digest": text(r.execute_command("DEBUG", "DIGEST")),
        "dbsize": sizes,
        "pexpiretime": {k: r.pexpiretime(k) for k in ("str:ttl", "list:ttl", "hash:ttl")},
        "xinfo_groups": [{text(k): text(v) for k, v in g.items()} for g in r.xinfo_groups("stream:groups")],
        "xpending_g1": [[text(e["message_id"]), text(e["consumer"]), e["times_delivered"]]
                        for e in r.xpending_range("stream:groups", "g1", "-", "+", 100)],
        "xlen": {k: r.xlen(k) for k in ("stream:groups", "stream:small", "stream:empty")},
        "libraries": [text(dict(zip(lib[::2], lib[1::2]))[b"library_name"]) for lib in r.function_list()],
    }


def test_the_fixtures_are_the_newer_versions_with_their_new_types():
    assert FIXTURES == ["redis-7.2.6", "redis-7.4.1"]
    for name, version in zip(FIXTURES, (11, 12)):
        data, meta = fixture(name)
        assert data[:9] == b"REDIS%04d" % version == b"REDIS%04d" % meta["rdb_version"]
        # the 7.2 types: a listpack set and a stream whose consumers carry an active time
        assert bytes((rdb.T_SET_LISTPACK,)) + encode_string(b"set:listpack") in data
        assert bytes((21,)) + encode_string(b"stream:groups") in data
        assert meta["digest"] == meta["redis_7_0"]["digest"]


@pytest.mark.parametrize("name", FIXTURES)
def test_a_newer_rdb_loads_with_the_writers_digest_and_7_0s_facts(tmp_path, name):
    data, meta = fixture(name)
    (tmp_path / "dump.rdb").write_bytes(data)
    with yizhan.Server(data_dir=str(tmp_path), save="", enable_debug_command="local") as srv:
        r = redis.Redis(port=srv.port)
        got = facts(r)
        assert got["digest"] == meta["digest"]
        expected = dict(meta["redis_7_0"])
        assert got == expected
        assert r.fcall("fixture_echo", 0, "hi") == b"hi"
        assert r.smembers("set:listpack") == {b"apple", b"banana", b"cherry", b"42"}
        assert r.object("encoding", "set:listpack") == b"hashtable"  # as Redis 7.0 holds it
        assert r.object("encoding", "set:intset") == b"intset"
        assert r.xinfo_consumers("stream:groups", "g2")[0]["name"] == b"idle-consumer"
        r.save()  # and what yizhan writes back is its own version 10
    assert (tmp_path / "dump.rdb").read_bytes()[:9] == b"REDIS0010"


@pytest.mark.parametrize("encoding", ["listpack", "hashtable"])
def test_a_hash_with_field_ttls_refuses_the_whole_file(tmp_path, encoding):
    path = DATA / f"redis-7.4.1-hash-field-ttl-{encoding}.rdb"
    kind = {"listpack": rdb.T_HASH_LISTPACK_EX, "hashtable": rdb.T_HASH_METADATA}[encoding]
    with pytest.raises(RDBUnsupported) as info:
        rdb.decode_file(path.read_bytes())
    message = str(info.value)
    assert message.startswith(f"Unknown RDB encoding type {kind} (key b'hash:fieldttl:{encoding}'")
    assert "\n" not in message
    shutil.copy(path, tmp_path / "dump.rdb")
    with pytest.raises(RDBLoadError) as start:
        yizhan.Server(data_dir=str(tmp_path), save="").start()
    assert f"Unknown RDB encoding type {kind}" in str(start.value)


@pytest.mark.parametrize("name", FIXTURES)
def test_restore_of_a_newer_dump_payload_answers_as_redis_7_0(yizhan_server, name):
    payload = bytes.fromhex(fixture(name)[1]["dump_str_plain_hex"])
    with RedisReference() as ref:
        answers = []
        for port in (ref.port, yizhan_server.port):
            r = redis.Redis(port=port)
            r.delete("restored")
            with pytest.raises(redis.ResponseError) as info:
                r.restore("restored", 0, payload)
            answers.append(str(info.value))
    assert answers == ["DUMP payload version or checksum are wrong"] * 2


def test_restore_refuses_a_version_10_payload_of_a_type_7_0_does_not_know(yizhan_server):
    inner = bytes((rdb.T_SET_LISTPACK,)) + encode_string(listpack([b"a"])) + (10).to_bytes(2, "little")
    payload = inner + crc64(inner).to_bytes(8, "little")
    with RedisReference() as ref:
        answers = []
        for port in (ref.port, yizhan_server.port):
            with pytest.raises(redis.ResponseError) as info:
                redis.Redis(port=port).restore("restored-type20", 0, payload, replace=True)
            answers.append(str(info.value))
    assert answers == ["Bad data format"] * 2

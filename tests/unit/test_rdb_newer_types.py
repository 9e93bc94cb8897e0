"""The RDB v11/v12 pieces on their own, in files built byte by byte: 7.4's slot-info hint is
skipped, listpack sets are checked for duplicates, a version past 12 is refused, and the v12
hint opcode means nothing in a v10 file (tests/integration/test_rdb_newer.py loads the files real
7.2/7.4 servers wrote)."""

import struct

import pytest

from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.codec import RDBError, RDBUnsupported, crc64, encode_length, encode_string, listpack


def rdb_file(version: int, body: bytes) -> bytes:
    data = b"REDIS%04d" % version + bytes((rdb.OP_SELECTDB,)) + encode_length(0) + body + bytes((rdb.OP_EOF,))
    return data + struct.pack("<Q", crc64(data))


def slot_info(slot: int, keys: int, expires: int) -> bytes:
    return bytes((rdb.OP_SLOT_INFO,)) + encode_length(slot) + encode_length(keys) + encode_length(expires)


def string_key(key: bytes, value: bytes) -> bytes:
    return bytes((rdb.T_STRING,)) + encode_string(key) + encode_string(value)


def test_slot_info_hints_are_skipped_in_a_v12_file():
    body = slot_info(866, 1, 0) + string_key(b"k", b"v") + slot_info(16383, 70000, 3)
    snap = rdb.decode_file(rdb_file(12, body))
    assert [(r.db, r.key, r.value) for r in snap.records] == [(0, b"k", b"v")]


def test_slot_info_is_not_an_opcode_before_v12():
    with pytest.raises(RDBError):
        rdb.decode_file(rdb_file(10, slot_info(1, 1, 0) + string_key(b"k", b"v")))


def test_a_listpack_set_loads_as_redis_7_0_encodes_it():
    small = bytes((rdb.T_SET_LISTPACK,)) + encode_string(b"ints") + encode_string(listpack([b"3", b"1", b"2"]))
    words = bytes((rdb.T_SET_LISTPACK,)) + encode_string(b"words") + encode_string(listpack([b"a", b"b"]))
    records = {r.key: r.value for r in rdb.decode_file(rdb_file(11, small + words)).records}
    assert records[b"ints"].is_intset and sorted(records[b"ints"]) == [b"1", b"2", b"3"]
    assert not records[b"words"].is_intset and set(records[b"words"]) == {b"a", b"b"}


@pytest.mark.parametrize("members", [[b"a", b"a"], []])
def test_a_listpack_set_with_duplicates_or_nothing_is_malformed(members):
    body = bytes((rdb.T_SET_LISTPACK,)) + encode_string(b"s") + encode_string(listpack(members))
    with pytest.raises(RDBError):
        rdb.decode_file(rdb_file(11, body))


def test_versions_past_12_are_refused_and_writing_stays_at_10():
    with pytest.raises(RDBError, match="can't handle RDB format version 13"):
        rdb.decode_file(rdb_file(13, string_key(b"k", b"v")))
    assert rdb.encode_file({0: [(b"k", b"v", None)]})[:9] == b"REDIS0010"
    assert rdb.dump_payload(b"v")[-10:-8] == struct.pack("<H", 10)


@pytest.mark.parametrize("kind", [22, 23, 24, 25])  # 7.4's hashes with field TTLs, release-candidate forms too
def test_every_hash_with_field_ttls_type_refuses_the_file_naming_the_key(kind):
    body = string_key(b"before", b"x") + bytes((kind,)) + encode_string(b"h") + encode_length(1) + b"\0" * 16
    with pytest.raises(RDBUnsupported, match=rf"^Unknown RDB encoding type {kind} \(key b'h': a hash with per-field"):
        rdb.decode_file(rdb_file(12, body))

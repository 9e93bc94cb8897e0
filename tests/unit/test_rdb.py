"""The RDB codec on its own: CRC64's check value, LZF, lengths and strings, listpack / ziplist /
intset containers, every value type round-tripping through DUMP payloads and whole files, and
malformed input rejected with RDBError."""

import os
import random
import struct

import pytest

from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.sets import Set
from yizhan.redis.types.zsets import ZSet
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.codec import (RDBError, Reader, crc64, encode_length, encode_string,
                                             intset, listpack, listpack_entry, lzf_compress,
                                             lzf_decompress, parse_intset, parse_listpack,
                                             parse_ziplist)


def test_crc64_check_value_as_redis_crc64_c():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0
    assert crc64(b"56789", crc64(b"1234")) == 0xE9C6D914C4B8D9CA  # incremental


@pytest.mark.parametrize("data", [b"a" * 100, b"abc" * 500, bytes(range(256)) * 4,
                                  b"the quick brown fox jumps over the lazy dog " * 30])
def test_lzf_round_trip(data):
    packed = lzf_compress(data, len(data) - 4)
    assert packed is not None and len(packed) < len(data)
    assert lzf_decompress(packed, len(data)) == data


def test_lzf_incompressible_and_known_stream():
    rng = random.Random(1)
    noise = bytes(rng.randrange(256) for _ in range(200))
    assert lzf_compress(noise, len(noise) - 4) is None
    # a literal run "abc" then a back reference of length 6 at offset 3 ("abcabc")
    assert lzf_decompress(b"\x02abc\x80\x02", 9) == b"abcabcabc"
    with pytest.raises(RDBError):
        lzf_decompress(b"\x02abc\x80\x02", 10)
    with pytest.raises(RDBError):
        lzf_decompress(b"\x20\x05", 5)  # a reference before the start


@pytest.mark.parametrize("n", [0, 63, 64, 16383, 16384, 2**32 - 1, 2**32])
def test_lengths(n):
    assert Reader(encode_length(n)).length() == n


def test_length_encodings_as_redis_writes_them():
    assert encode_length(10) == b"\x0a"
    assert encode_length(300) == b"\x41\x2c"
    assert encode_length(70000) == b"\x80\x00\x01\x11\x70"


@pytest.mark.parametrize("value,encoded", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"200", b"\xc1\xc8\x00"),
    (b"-2147483648", b"\xc2\x00\x00\x00\x80"), (b"2147483648", b"\x0a2147483648"),
    (b"007", b"\x03007"), (b"+1", b"\x02+1"), (b"", b"\x00"), (b"-0", b"\x02-0"),
])
def test_string_integer_encoding(value, encoded):
    assert encode_string(value) == encoded
    assert Reader(encoded).string() == value


def test_long_strings_are_lzf_compressed_when_that_helps():
    text = b"abcdefgh" * 10
    encoded = encode_string(text)
    assert encoded[0] == 0xC3 and len(encoded) < len(text)
    assert Reader(encoded).string() == text
    assert encode_string(text, compress=False) == encode_length(80) + text


@pytest.mark.parametrize("value", [b"0", b"127", b"128", b"-1", b"-4096", b"4095", b"4096", b"-32768",
                                   b"32768", b"-8388608", b"8388608", b"2147483647", b"-2147483649",
                                   b"9223372036854775807", b"-9223372036854775808",
                                   b"9223372036854775808", b"", b"x" * 63, b"x" * 64, b"y" * 4095,
                                   b"y" * 4096, b"01", b"1.5"])
def test_listpack_entries_round_trip(value):
    assert parse_listpack(listpack([value, b"end"])) == [value, b"end"]


def test_listpack_entry_bytes():
    assert listpack_entry(b"5") == b"\x05\x01"
    assert listpack_entry(b"-1") == b"\xdf\xff\x02"
    assert listpack_entry(b"ab") == b"\x82ab\x03"
    assert listpack_entry(b"x" * 200)[:2] == b"\xe0\xc8" and listpack_entry(b"x" * 200)[-2:] == b"\x01\xca"
    assert listpack([b"a"]) == struct.pack("<IH", 10, 1) + b"\x81a\x02\xff"


def test_bad_listpacks_are_rejected():
    good = listpack([b"a", b"b"])
    for bad in (good[:-1], good[:6] + b"\xff", struct.pack("<IH", len(good), 3) + good[6:],
                good[:6] + b"\xf5" + good[7:]):
        with pytest.raises(RDBError):
            parse_listpack(bad)


def _ziplist(entries: list[bytes]) -> bytes:
    body = b"".join(entries)
    return struct.pack("<IIH", 11 + len(body), 0, len(entries)) + body + b"\xff"


def test_ziplist_entries():
    entries = [
        b"\x00\x03abc",                           # 6-bit length string
        b"\x05\x40\x41" + b"z" * 65,              # 14-bit length string
        b"\x43\xc0\x39\x30",                      # int16 12345
        b"\x04\xd0\x00\x00\x00\x80",              # int32 -2**31
        b"\x06\xe0" + struct.pack("<q", 2**40),   # int64
        b"\x0a\xf0\xff\xff\x7f",                  # int24 8388607
        b"\x05\xfe\x80",                          # int8 -128
        b"\x03\xf1", b"\x02\xfd",                 # immediates 0 and 12
    ]
    assert parse_ziplist(_ziplist(entries)) == [b"abc", b"z" * 65, b"12345", b"-2147483648",
                                                b"%d" % 2**40, b"8388607", b"-128", b"0", b"12"]
    with pytest.raises(RDBError):
        parse_ziplist(_ziplist([b"\x00\x05ab"]))


def test_intsets():
    for numbers, width in (([1, 2, 3], 2), ([-40000, 5], 4), ([1, 2**40], 8), ([], 2)):
        blob = intset(numbers)
        assert struct.unpack_from("<I", blob)[0] == width
        assert parse_intset(blob) == numbers
    with pytest.raises(RDBError):
        parse_intset(intset([1, 2])[:-1])


# -- values ---------------------------------------------------------------------------------
def _zset(pairs, listpack=True) -> ZSet:
    zs = ZSet(listpack=listpack)
    for member, score in pairs:
        zs.insert(member, score)
    return zs


def _values():
    rng = random.Random(3)
    return {
        "string": b"hello",
        "int-string": b"-12345",
        "bytearray": bytearray(b"raw" * 30),
        "binary": os.urandom(300),
        "list": RedisList([b"a", b"1", b"", b"x" * 5000]),
        "big-list": RedisList(b"%d" % rng.randrange(10**12) for _ in range(5000)),
        "hash-listpack": Hash({b"f": b"v", b"n": b"12"}),
        "hash-table": Hash({b"f%d" % i: b"v%d" % i for i in range(600)}, hashtable=True),
        "intset": Set.build([b"3", b"-70000", b"%d" % 2**50], 512),
        "set-table": Set.build([b"a", b"b", b"1"], 512),
        "zset-listpack": _zset([(b"a", 1.0), (b"b", -2.5), (b"c", float("inf")), (b"d", 0.1)]),
        "zset-skiplist": _zset([(b"m%d" % i, i / 3) for i in range(200)], listpack=False),
    }


def _same(a, b) -> bool:
    if type(a) in (bytes, bytearray):
        return bytes(a) == b
    if type(a) is RedisList:
        return list(a) == list(b)
    if type(a) is Hash:
        return a.fields == b.fields and a.hashtable == b.hashtable
    if type(a) is Set:
        return sorted(a) == sorted(b) and a.is_intset == b.is_intset
    return a.scores == b.scores and a.listpack == b.listpack


@pytest.mark.parametrize("name", sorted(_values()))
def test_values_round_trip_through_dump_payloads(name):
    value = _values()[name]
    payload = rdb.dump_payload(value)
    assert rdb.verify_payload(payload)
    assert _same(value, rdb.restore_payload(payload, rdb.Limits()))


def test_loaded_values_take_the_encoding_the_limits_give():
    small = rdb.Limits(hash_entries=1, set_intset=2, zset_entries=1)
    h = rdb.restore_payload(rdb.dump_payload(Hash({b"a": b"1", b"b": b"2"})), small)
    s = rdb.restore_payload(rdb.dump_payload(Set.build([b"1", b"2", b"3"], 512)), small)
    z = rdb.restore_payload(rdb.dump_payload(_zset([(b"a", 1.0), (b"b", 2.0)])), small)
    assert h.hashtable and not s.is_intset and not z.listpack


def test_payload_checks():
    payload = rdb.dump_payload(b"value")
    assert payload[-10:-8] == b"\x0a\x00"
    assert not rdb.verify_payload(payload[:-1] + bytes([payload[-1] ^ 1]))
    newer = payload[:-10] + b"\x0b\x00"
    assert not rdb.verify_payload(newer + struct.pack("<Q", crc64(newer)))
    assert not rdb.verify_payload(b"short")
    bad_type = b"\x07\x01x\x0a\x00"
    with pytest.raises(RDBError):
        rdb.restore_payload(bad_type + struct.pack("<Q", crc64(bad_type)), rdb.Limits())
    past_end = b"\x00\x30xx\x0a\x00"
    with pytest.raises(RDBError):
        rdb.restore_payload(past_end + struct.pack("<Q", crc64(past_end)), rdb.Limits())
    into_footer = b"\x00\x04xx\x0a\x00"  # Redis reads on into the footer, and so does yizhan
    assert rdb.restore_payload(into_footer + struct.pack("<Q", crc64(into_footer)), rdb.Limits()) == b"xx\x0a\x00"


def test_whole_files_round_trip():
    values = _values()
    dbs = {0: [(name.encode(), value, None) for name, value in values.items()],
           5: [(b"ttl", b"x", 1893456000000)]}
    data = rdb.encode_file(dbs, now_s=1700000000)
    assert data.startswith(b"REDIS0010\xfa\x09redis-ver\x067.0.15")
    assert struct.unpack("<Q", data[-8:])[0] == crc64(data[:-8])
    snap = rdb.decode_file(data)
    assert snap.aux[b"ctime"] == b"1700000000" and snap.aux[b"redis-bits"] == b"64"
    got = {(r.db, r.key): r for r in snap.records}
    for name, value in values.items():
        assert _same(value, got[(0, name.encode())].value), name
    assert got[(5, b"ttl")].expire_ms == 1893456000000 and got[(0, b"list")].expire_ms is None


@pytest.mark.parametrize("damage", ["magic", "version", "truncated", "crc", "type"])
def test_malformed_files_raise(damage):
    data = bytearray(rdb.encode_file({0: [(b"k", RedisList([b"a", b"b"]), None)]}))
    if damage == "magic":
        data[:5] = b"RADIS"
    elif damage == "version":
        data[5:9] = b"0011"
    elif damage == "truncated":
        data = data[:-12]
    elif damage == "crc":
        data[-1] ^= 1
    else:
        data[data.index(bytes([rdb.T_LIST_QUICKLIST_2]) + b"\x01k")] = 15  # a stream
    with pytest.raises(RDBError):
        rdb.decode_file(bytes(data))


def test_old_formats_load():
    # RDB 6 style: EXPIRETIME in seconds, a ziplist-encoded hash and a ziplist list
    zl = _ziplist([b"\x00\x01f", b"\x03\x01v"])
    body = (b"REDIS0006\xfe\x00\xfd" + struct.pack("<i", 2000000000) + b"\x00\x01s\x01x"
            + bytes([rdb.T_HASH_ZIPLIST]) + b"\x01h" + encode_length(len(zl)) + zl
            + bytes([rdb.T_LIST_ZIPLIST]) + b"\x01l" + encode_length(len(zl)) + zl
            + bytes([rdb.T_ZSET]) + b"\x01z\x01\x01m\x031.5" + b"\xff")
    snap = rdb.decode_file(body + struct.pack("<Q", crc64(body)))
    got = {r.key: r for r in snap.records}
    assert got[b"s"].expire_ms == 2000000000 * 1000 and got[b"s"].value == b"x"
    assert got[b"h"].value.fields == {b"f": b"v"}
    assert list(got[b"l"].value) == [b"f", b"v"]
    assert got[b"z"].value.scores == {b"m": 1.5}


# -- function libraries: RDB_OPCODE_FUNCTION2 records and FUNCTION DUMP payloads ----------------
# FUNCTION DUMP of one library, written by redis-server 7.0.15 (the code is LZF-compressed)
_MYLIB = b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
_DUMP_MYLIB = bytes.fromhex(
    "f5c34056405b1f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e28"
    "276d79400b02272c2040066012116b6579732c2061726773292072657475726e600c075b315d20656e64290a008d5936ad"
    "c6e707da")


def test_function_dump_payload_is_redis_byte_for_byte():
    assert rdb.dump_functions([_MYLIB]) == _DUMP_MYLIB
    assert rdb.dump_functions([]) == bytes.fromhex("0a005d9b5c400f7fa2da")
    assert rdb.verify_payload(_DUMP_MYLIB)
    assert rdb.restore_functions(_DUMP_MYLIB) == [_MYLIB]


def test_function_records_round_trip_uncompressed_and_several():
    codes = [_MYLIB, b"#!lua name=b\n" + b"x" * 300, b"#!lua name=c\n"]
    for compress in (True, False):
        assert rdb.restore_functions(rdb.dump_functions(codes, compress)) == codes


def test_function_payload_errors_carry_redis_messages():
    def with_footer(body):
        body += b"\x0a\x00"
        return body + struct.pack("<Q", crc64(body))
    with pytest.raises(RDBError, match="^given type is not a function$"):
        rdb.restore_functions(with_footer(b"\x00\x01k\x01v"))
    with pytest.raises(RDBError, match="^Failed loading library payload$"):
        rdb.restore_functions(with_footer(b"\xf5\x40\xff#!lua"))


def test_old_function_record_becomes_a_shebang_payload():
    """RDB_OPCODE_FUNCTION of Redis 7.0's release candidates: name, engine, description, code."""
    body = b"\xf6" + encode_string(b"old") + encode_string(b"LUA") + b"\x01" + encode_string(b"d") + encode_string(b"code")
    assert rdb.restore_functions(body + b"\x0a\x00" + b"\0" * 8) == [b"#!LUA name=old\ncode"]


def test_rdb_file_keeps_functions_before_the_keys():
    data = rdb.encode_file({0: [(b"k", b"v", None)]}, now_s=0, functions=[_MYLIB])
    assert data.index(b"\xf5") < data.index(b"\xfe\x00")  # FUNCTION2 before SELECTDB 0
    snap = rdb.decode_file(data)
    assert snap.functions == [_MYLIB]
    assert [(r.key, r.value) for r in snap.records] == [(b"k", b"v")]

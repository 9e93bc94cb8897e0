"""Bitmap commands through a real client: stored representation, WRONGTYPE, change accounting
compared with redis-server, speed on megabyte bitmaps, and agreement with a bit-by-bit model."""

from __future__ import annotations

import os
import random

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


@pytest.fixture
def r(yizhan_redis):
    return yizhan_redis


@pytest.fixture
def ref(reference_redis):
    client = redis.Redis(port=reference_redis.port)
    client.flushall()
    yield client
    client.close()


def stored(server, key: bytes, db: int = 0):
    return server.call(lambda: server.runtime.redis.dbs[db].data.get(key))


def put_non_string(server, key: bytes) -> None:
    """Until another data type exists, plant a value that is not a string."""
    server.call(lambda: server.runtime.redis.dbs[0].data.__setitem__(key, ["not", "a", "string"]))


def dirty(client) -> int:
    return int(client.info("persistence")["rdb_changes_since_last_save"])


# -- stored representation ---------------------------------------------------------------
def test_writes_store_a_bytearray_and_keep_contents(r, yizhan_server):
    r.set("k", "abc")
    assert type(stored(yizhan_server, b"k")) is bytes
    assert r.setbit("k", 1, 1) == 1  # unchanged bit: still converted, like Redis's raw encoding
    assert type(stored(yizhan_server, b"k")) is bytearray
    assert r.get("k") == b"abc"
    r.set("f", "xyz")
    r.bitfield("f").get("u8", 0).execute()
    assert type(stored(yizhan_server, b"f")) is bytes
    r.bitfield("f").set("u8", 0, 65).execute()
    assert stored(yizhan_server, b"f") == bytearray(b"Ayz")
    r.bitop("NOT", "n", "k")
    assert type(stored(yizhan_server, b"n")) is bytearray
    assert r.get("n") == bytes(255 - c for c in b"abc")


def test_missing_key_reads_do_not_create_keys(r):
    assert r.getbit("nokey", 100) == 0
    assert r.bitcount("nokey") == 0
    assert r.bitpos("nokey", 0) == 0
    assert r.bitpos("nokey", 1) == -1
    assert r.execute_command("BITFIELD_RO", "nokey", "GET", "u8", "0") == [0]
    assert r.execute_command("BITFIELD", "nokey", "GET", "i64", "9") == [0]
    assert r.get("nokey") is None


# -- WRONGTYPE ---------------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ["SETBIT", "w", "0", "1"], ["GETBIT", "w", "0"], ["BITCOUNT", "w"], ["BITCOUNT", "w", "0", "-1"],
    ["BITPOS", "w", "1"], ["BITOP", "AND", "d", "s", "w"], ["BITOP", "NOT", "d", "w"],
    ["BITFIELD", "w", "GET", "u8", "0"], ["BITFIELD", "w", "SET", "u8", "0", "1"],
    ["BITFIELD_RO", "w", "GET", "u8", "0"],
])
def test_wrongtype(r, yizhan_server, command):
    put_non_string(yizhan_server, b"w")
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="^" + WRONGTYPE):
        r.execute_command(*command)
    assert stored(yizhan_server, b"w") == ["not", "a", "string"]
    assert stored(yizhan_server, b"d") is None


def test_argument_errors_come_before_wrongtype(r, yizhan_server):
    put_non_string(yizhan_server, b"w")
    with pytest.raises(redis.ResponseError, match="bit offset is not an integer"):
        r.execute_command("SETBIT", "w", "-1", "1")
    with pytest.raises(redis.ResponseError, match="Invalid bitfield type"):
        r.execute_command("BITFIELD", "w", "SET", "u64", "0", "1")
    with pytest.raises(redis.ResponseError, match="The bit argument must be 1 or 0"):
        r.execute_command("BITPOS", "w", "2")


def test_bitop_overwrites_a_destination_of_another_type(r, yizhan_server):
    put_non_string(yizhan_server, b"d")
    r.set("s", "ab")
    assert r.bitop("OR", "d", "s") == 2
    assert r.get("d") == b"ab"


# -- change accounting, compared with redis-server ----------------------------------------
CHANGE_SCRIPT = [
    ["SETBIT", "k", "5", "1"], ["SETBIT", "k", "5", "1"], ["SETBIT", "k", "5", "0"],
    ["SETBIT", "k", "40", "0"], ["SETBIT", "k", "2", "0"], ["GETBIT", "k", "5"], ["BITCOUNT", "k"],
    ["BITPOS", "k", "1"],
    ["BITFIELD", "k", "SET", "u8", "0", "7", "SET", "u8", "8", "7", "INCRBY", "u4", "0", "0"],
    ["BITFIELD", "k", "SET", "u8", "0", "7"],
    ["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "100", "1000"],
    ["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "200", "1000", "SET", "u8", "0", "1000"],
    ["BITFIELD", "n", "SET", "u8", "300", "0", "SET", "u8", "0", "0"],
    ["BITFIELD", "k", "GET", "u8", "0"], ["BITFIELD_RO", "k", "GET", "u8", "0"],
    ["BITOP", "AND", "d", "k", "n"], ["BITOP", "AND", "d", "nokey"], ["BITOP", "AND", "d", "nokey"],
    ["BITOP", "NOT", "d2", "k"],
]


def test_dirty_counter_moves_like_redis(r, ref):
    def deltas(client):
        out = []
        for command in CHANGE_SCRIPT:
            before = dirty(client)
            client.execute_command(*command)
            out.append(dirty(client) - before)
        return out

    ours, theirs = deltas(r), deltas(ref)
    assert ours == theirs, list(zip(CHANGE_SCRIPT, ours, theirs))
    assert r.get("n") == ref.get("n") and r.get("k") == ref.get("k") and r.get("d2") == ref.get("d2")


def test_keyspace_notifications_match_redis(r, ref):
    def events(client):
        client.config_set("notify-keyspace-events", "KEA")
        listener = client.pubsub()
        try:
            listener.psubscribe("__key*__:*")
            listener.get_message(timeout=1)
            for command in CHANGE_SCRIPT:
                client.execute_command(*command)
            client.execute_command("PING")
            seen = []
            while (message := listener.get_message(timeout=0.2)) is not None:
                seen.append((message["channel"], message["data"]))
            return seen
        finally:
            listener.close()
            client.config_set("notify-keyspace-events", "")

    ours, theirs = events(r), events(ref)
    assert theirs, "the reference sent no notifications: the script exercises nothing"
    assert ours == theirs


# -- megabyte bitmaps (their speed is measured in bench/, never asserted here) ---------------
def test_megabyte_bitmaps(r):
    size = 1 << 20
    r.set("rand", os.urandom(size))
    r.set("ones", b"\xff" * size)
    r.setbit("sparse", size * 8 - 1, 1)
    commands = [
        ["BITCOUNT", "rand"], ["BITCOUNT", "rand", "3", str(size * 8 - 5), "BIT"],
        ["BITPOS", "sparse", "1"], ["BITPOS", "ones", "0"], ["BITPOS", "ones", "0", "9", "-9", "BIT"],
        ["BITOP", "XOR", "x", "rand", "ones", "sparse"], ["BITOP", "NOT", "x", "rand"],
        ["SETBIT", "rand", "12345", "1"], ["BITFIELD", "rand", "INCRBY", "i64", str(size * 4), "1"],
    ]
    for command in commands:
        r.execute_command(*command)
    assert r.bitpos("sparse", 1) == size * 8 - 1
    assert r.bitpos("ones", 0) == size * 8
    assert r.bitcount("ones") == size * 8


# -- agreement with a bit-by-bit model ----------------------------------------------------
def model_bits(value: bytes) -> list[int]:
    return [(byte >> (7 - i)) & 1 for byte in value for i in range(8)]


def test_random_setbit_against_a_model(r):
    rng = random.Random(11)
    bits: list[int] = []
    for _ in range(400):
        offset, on = rng.randrange(600), rng.randrange(2)
        if offset >= len(bits):
            bits.extend([0] * ((offset // 8 + 1) * 8 - len(bits)))
        assert r.setbit("k", offset, on) == bits[offset]
        bits[offset] = on
    value = r.get("k")
    assert model_bits(value) == bits
    for _ in range(200):
        start, end = rng.randrange(len(bits)), rng.randrange(len(bits))
        window = bits[start:end + 1]
        assert r.bitcount("k", start, end, "BIT") == sum(window)
        for bit in (0, 1):
            expected = next((start + i for i, b in enumerate(window) if b == bit), -1)
            assert r.bitpos("k", bit, start, end, "BIT") == expected
    assert r.bitcount("k") == sum(bits)


def test_bitfield_fields_against_a_model(r):
    rng = random.Random(5)
    bits = [0] * 512
    for _ in range(300):
        signed = rng.random() < 0.5
        width = rng.randint(1, 64 if signed else 63)
        offset = rng.randrange(512 - width)
        value = rng.randrange(-(1 << (width - 1)), 1 << (width - 1)) if signed else rng.randrange(1 << width)
        kind = f"{'i' if signed else 'u'}{width}"
        old = int("".join(map(str, bits[offset:offset + width])), 2)
        if signed and old >> (width - 1):
            old -= 1 << width
        assert r.execute_command("BITFIELD", "k", "SET", kind, offset, value) == [old]
        raw = value & ((1 << width) - 1)
        bits[offset:offset + width] = [(raw >> (width - 1 - i)) & 1 for i in range(width)]
        assert r.execute_command("BITFIELD_RO", "k", "GET", kind, offset) == [value]
    assert model_bits(r.get("k"))[:512] == bits

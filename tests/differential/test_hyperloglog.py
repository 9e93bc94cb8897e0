"""Differential cases for the HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG): replies,
and the HLL strings themselves (GET), must equal redis-server 7.0's byte for byte, in RESP2 and
RESP3. Sizes run from a handful of elements (sparse) to 100000 (dense), so the sparse opcodes,
the promotion to dense, the cached cardinality and the estimator are all compared exactly.
"""

import random

import pytest

from yizhan.redis.types.hll import pack

HEADER_SPARSE = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80"
HEADER_DENSE = b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80"


def elements(n: int, prefix: str = "e", start: int = 0) -> list[str]:
    return [f"{prefix}{i}" for i in range(start, start + n)]


def pfadd_chunks(key: str, items: list, chunk: int = 5000) -> list[list]:
    return [["PFADD", key, *items[i:i + chunk]] for i in range(0, len(items), chunk)]


def dense_value(registers: bytes, card: bytes = bytes(7) + b"\x80") -> bytes:
    return b"HYLL\x00\x00\x00\x00" + card + bytes(pack(registers))


def grow_and_count(n: int, prefix: str = "e") -> list[list]:
    """PFADD n elements in chunks, then the HLL bytes, the count, and the bytes again (the
    count writes the cached cardinality into the header)."""
    return [*pfadd_chunks("h", elements(n, prefix)), ["GET", "h"], ["PFCOUNT", "h"], ["GET", "h"],
            ["PFDEBUG", "ENCODING", "h"], ["STRLEN", "h"], ["PFCOUNT", "h"]]


_rng = random.Random(11)
BINARY = [bytes(_rng.randrange(256) for _ in range(_rng.randrange(0, 40))) for _ in range(300)]
# Registers with every value 0..63 (the estimator only counts values up to 51).
ALL_VALUES = bytes(i % 64 for i in range(16384))
HIGH_VALUES = bytes(40 + (i % 24) for i in range(16384))
SPARSE_NO_TAIL = HEADER_SPARSE + b"\x7f\xff"[:1]  # a final XZERO without its second byte
SPARSE_SHORT = HEADER_SPARSE + b"\x5f\xff"  # XZERO:8192, only half the registers
SPARSE_VAL_PAST_END = HEADER_SPARSE + b"\x7f\xff\x80"  # every register, then a VAL run beyond them


def fuzz(seed: int, dense: bool) -> list[list]:
    """Redis's "Fuzzing dense/sparse encoding" test: corrupt random bytes, then PFADD/PFCOUNT
    must give the same replies (values or INVALIDOBJ) and leave the same bytes."""
    rng = random.Random(seed)
    steps = [*pfadd_chunks("h", elements(3000 if dense else 300, f"f{seed}-"))]
    steps.append(["PFCOUNT", "h"])
    size = 12304 if dense else 600
    for _ in range(8):
        offset = rng.randrange(16, size)
        steps.append(["SETRANGE", "h", str(offset), bytes([rng.randrange(256)])])
        steps.append(["PFCOUNT", "h"])
        steps.append(["PFADD", "h", *elements(rng.randrange(1, 20), f"x{seed}-", rng.randrange(1000))])
        steps.append(["PFCOUNT", "h", "missing"])
        steps.append(["GET", "h"])
    return steps


CASES = {
    # -- PFADD ---------------------------------------------------------------------------
    "pfadd-basic": [["PFADD", "h", "a", "b", "c"], ["GET", "h"], ["PFADD", "h", "a"], ["PFADD", "h", "a", "d"],
        ["GET", "h"], ["TYPE", "h"], ["OBJECT", "ENCODING", "h"], ["STRLEN", "h"], ["PFCOUNT", "h"],
        ["PFDEBUG", "DECODE", "h"]],
    "pfadd-no-elements": [["PFADD", "h"], ["GET", "h"], ["EXISTS", "h"], ["PFADD", "h"], ["PFCOUNT", "h"],
        ["GET", "h"], ["PFADD", "h"], ["GET", "h"], ["PFDEBUG", "DECODE", "h"]],
    "pfadd-duplicates": [["PFADD", "h", "x", "x", "x"], ["PFADD", "h", "x", "x"], ["PFCOUNT", "h"],
        ["PFADD", "h", "", "", "y"], ["PFCOUNT", "h"], ["GET", "h"]],
    "pfadd-binary-elements": [["PFADD", "h", *BINARY[:150]], ["PFADD", "h", *BINARY[150:]], ["GET", "h"],
        ["PFCOUNT", "h"], ["PFADD", "h", "x" * 5000, b"\x00" * 9, "\r\n", "é"], ["GET", "h"], ["PFCOUNT", "h"]],
    "pfadd-element-lengths": [["PFADD", "h", *("a" * n for n in range(0, 70))], ["GET", "h"], ["PFCOUNT", "h"]],
    "pfadd-arity": [["PFADD"], ["PFCOUNT"], ["PFMERGE"], ["PFDEBUG"], ["PFDEBUG", "ENCODING"],
        ["PFDEBUG", "ENCODING", "h", "x"], ["PFSELFTEST", "x"]],
    "pfadd-keeps-ttl": [["PFADD", "h", "a"], ["EXPIRE", "h", "1000"], ["PFADD", "h", "b"], ["TTL", "h"],
        ["PFCOUNT", "h"], ["TTL", "h"], ["PFMERGE", "h", "h"], ["TTL", "h"], ["PFADD", "t", "a"],
        ["PEXPIRE", "t", "100"], ["SLEEP", "200"], ["PFCOUNT", "t"], ["PFADD", "t"], ["TTL", "t"]],
    # -- sizes: sparse, the promotion, dense ------------------------------------------------
    "size-10": grow_and_count(10),
    "size-100": grow_and_count(100),
    "size-1000": grow_and_count(1000),
    "size-1800": grow_and_count(1800, "p"),
    "size-2500": grow_and_count(2500, "q"),
    "size-10000": grow_and_count(10000),
    "size-100000": grow_and_count(100000),
    "size-1": grow_and_count(1),
    "size-50000-binary": [*pfadd_chunks("h", [random.Random(5).randbytes(12) for _ in range(50000)]),
        ["GET", "h"], ["PFCOUNT", "h"], ["GET", "h"]],
    "size-sweep-small": [*(["PFADD", f"k{n}", *elements(n, f"w{n}-")] for n in range(1, 80)),
        *(["PFCOUNT", f"k{n}"] for n in range(1, 80)), ["PFCOUNT", *(f"k{n}" for n in range(1, 80))],
        *(["GET", f"k{n}"] for n in range(1, 80, 13))],
    "sparse-one-by-one": [*(["PFADD", "h", e] for e in elements(400, "s")), ["GET", "h"], ["PFCOUNT", "h"]],
    "sparse-max-bytes-config": [["CONFIG", "SET", "hll-sparse-max-bytes", "200"],
        ["CONFIG", "GET", "hll-sparse-max-bytes"], *pfadd_chunks("h", elements(60), 7),
        ["PFDEBUG", "ENCODING", "h"], ["GET", "h"], ["PFADD", "g", *elements(200, "g")],
        ["PFDEBUG", "ENCODING", "g"], ["GET", "g"], ["PFCOUNT", "g"],
        ["CONFIG", "SET", "hll-sparse-max-bytes", "0"], ["PFADD", "z", "a"], ["PFADD", "z", "b"],
        ["PFDEBUG", "ENCODING", "z"], ["GET", "z"], ["CONFIG", "SET", "hll-sparse-max-bytes", "1kb"],
        ["CONFIG", "GET", "hll-sparse-max-bytes"], ["CONFIG", "SET", "hll-sparse-max-bytes", "x"],
        ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]],
    # -- PFCOUNT and the cached cardinality -------------------------------------------------
    "pfcount-cache": [["PFADD", "h", *elements(50)], ["GETRANGE", "h", "8", "15"], ["PFCOUNT", "h"],
        ["GETRANGE", "h", "8", "15"], ["PFADD", "h", "e1"], ["GETRANGE", "h", "8", "15"],
        ["PFADD", "h", "new-one"], ["GETRANGE", "h", "8", "15"], ["PFCOUNT", "h"], ["GET", "h"]],
    "pfcount-trusts-valid-cache": [["SET", "h", dense_value(bytes(16384), (12345).to_bytes(8, "little"))],
        ["PFCOUNT", "h"], ["SETRANGE", "h", "15", b"\x80"], ["PFCOUNT", "h"], ["GETRANGE", "h", "8", "15"],
        ["SET", "s", HEADER_SPARSE[:8] + (99).to_bytes(8, "little") + b"\x7f\xff"], ["PFCOUNT", "s"],
        ["GET", "s"]],
    "pfcount-missing-and-expired": [["PFCOUNT", "nokey"], ["PFCOUNT", "a", "b"], ["EXISTS", "nokey"]],
    "pfcount-multi": [["PFADD", "a", *elements(300, "a")], ["PFADD", "b", *elements(300, "b")],
        *pfadd_chunks("d", elements(5000, "d")), ["PFCOUNT", "a", "b"], ["PFCOUNT", "a", "b", "d", "nokey"],
        ["PFCOUNT", "a", "a"], ["PFCOUNT", "nokey", "nokey2"], ["GETRANGE", "a", "8", "15"],
        ["GETRANGE", "d", "8", "15"], ["PFCOUNT", "d", "a"]],
    "pfcount-extreme-registers": [["SET", "h", dense_value(ALL_VALUES)], ["PFCOUNT", "h"], ["GET", "h"],
        ["SET", "g", dense_value(HIGH_VALUES)], ["PFCOUNT", "g"], ["GET", "g"], ["PFCOUNT", "g", "h"],
        ["SET", "e", dense_value(bytes([1]) * 16384)], ["PFCOUNT", "e"], ["PFCOUNT", "e", "nokey"]],
    "pfcount-unshares": [["SET", "h", HEADER_SPARSE + b"\x7f\xff"], ["OBJECT", "ENCODING", "h"],
        ["PFCOUNT", "h"], ["OBJECT", "ENCODING", "h"], ["SET", "g", HEADER_SPARSE + b"\x7f\xff"],
        ["PFADD", "g"], ["OBJECT", "ENCODING", "g"], ["GET", "g"]],
    "pfcount-watch": [["PFADD", "h", "a"], ["WATCH", "h"], ["PFCOUNT", "h"], ["MULTI"], ["PING"], ["EXEC"],
        ["WATCH", "h"], ["PFCOUNT", "h"], ["MULTI"], ["PING"], ["EXEC"], ["WATCH", "h"],
        ["PFADD", "h", "a"], ["MULTI"], ["PING"], ["EXEC"]],
    "pfcount-stale-cache-after-setrange": [*pfadd_chunks("h", elements(3000)), ["PFCOUNT", "h"],
        ["SETRANGE", "h", "100", b"\xff\xff\xff"], ["PFCOUNT", "h"], ["SETRANGE", "h", "15", b"\x80"],
        ["PFCOUNT", "h"], ["GET", "h"]],
    "copy-rename-multi": [["PFADD", "h", *elements(20)], ["COPY", "h", "c"], ["PFADD", "c", "extra"],
        ["GET", "c"], ["GET", "h"], ["RENAME", "c", "r"], ["PFCOUNT", "r"], ["GET", "r"], ["MULTI"],
        ["PFADD", "m", "a"], ["PFCOUNT", "m"], ["PFMERGE", "m2", "m", "h"], ["PFCOUNT", "m2"], ["EXEC"],
        ["GET", "m2"]],
    # -- PFMERGE -------------------------------------------------------------------------
    "pfmerge-sparse": [["PFADD", "a", *elements(100, "a")], ["PFADD", "b", *elements(100, "b")],
        ["PFMERGE", "d", "a", "b"], ["GET", "d"], ["PFCOUNT", "d"], ["PFDEBUG", "ENCODING", "d"],
        ["PFMERGE", "a", "b"], ["GET", "a"], ["PFCOUNT", "a"], ["GET", "b"]],
    "pfmerge-promotes": [*(["PFADD", f"k{i}", *elements(250, f"k{i}-")] for i in range(8)),
        ["PFMERGE", "d", *(f"k{i}" for i in range(8))], ["PFDEBUG", "ENCODING", "d"], ["GET", "d"],
        ["PFCOUNT", "d"], ["PFCOUNT", *(f"k{i}" for i in range(8))]],
    "pfmerge-dense": [*pfadd_chunks("big", elements(20000, "big")), ["PFADD", "a", *elements(100, "a")],
        ["PFMERGE", "a", "big"], ["GET", "a"], ["PFCOUNT", "a"], ["PFMERGE", "d", "a", "nokey"],
        ["GET", "d"], ["PFADD", "s", "x"], ["PFMERGE", "big", "s"], ["GET", "big"], ["PFCOUNT", "big"]],
    "pfmerge-empty-and-self": [["PFMERGE", "d"], ["GET", "d"], ["PFMERGE", "d", "nokey"], ["GET", "d"],
        ["PFCOUNT", "d"], ["PFADD", "h", "a", "b"], ["PFCOUNT", "h"], ["PFMERGE", "h"], ["GET", "h"],
        ["PFMERGE", "h", "h", "h"], ["GET", "h"], ["PFCOUNT", "h"]],
    "pfmerge-keeps-ttl-and-type": [["PFADD", "d", "x"], ["EXPIRE", "d", "1000"],
        ["PFADD", "s", *elements(20)], ["PFMERGE", "d", "s"], ["TTL", "d"], ["TYPE", "d"], ["GET", "d"]],
    # -- wrong types and corrupted values ---------------------------------------------------
    "wrongtype-not-hll-string": [["SET", "s", "foo"], ["PFADD", "s", "a"], ["PFCOUNT", "s"],
        ["PFADD", "h", "a"], ["PFCOUNT", "h", "s"], ["PFMERGE", "d", "h", "s"], ["EXISTS", "d"],
        ["PFMERGE", "s", "h"], ["PFDEBUG", "ENCODING", "s"], ["SET", "n", "12345678901234567890"],
        ["PFADD", "n", "x"], ["SET", "e", ""], ["PFCOUNT", "e"], ["GET", "s"]],
    "wrongtype-other-types": [["RPUSH", "l", "a"], ["SADD", "st", "a"], ["HSET", "hs", "f", "v"],
        ["PFADD", "l", "a"], ["PFCOUNT", "l"], ["PFCOUNT", "st", "nokey"], ["PFMERGE", "hs", "nokey"],
        ["PFMERGE", "d", "nokey", "st"], ["PFDEBUG", "GETREG", "l"], ["EXISTS", "d"]],
    "corrupted-header": [["PFADD", "h", "a", "b", "c"], ["SETRANGE", "h", "0", "0123"], ["PFCOUNT", "h"],
        ["PFADD", "g", "a"], ["SETRANGE", "g", "4", "x"], ["PFCOUNT", "g"], ["PFADD", "g", "b"],
        ["SET", "short", "HYLL\x01"], ["PFCOUNT", "short"], ["SET", "short", "HYLL" + "\x01" * 11],
        ["PFADD", "short", "a"], ["SET", "exact", HEADER_SPARSE], ["PFCOUNT", "exact"],
        ["PFADD", "exact", "a"], ["PFMERGE", "d", "exact"], ["PFCOUNT", "exact", "nokey"]],
    "corrupted-dense-length": [*pfadd_chunks("h", elements(4000)), ["SETRANGE", "h", "4", b"\x00"],
        ["APPEND", "h", "x"], ["PFCOUNT", "h"], ["PFADD", "h", "z"], ["PFADD", "s", "a"],
        ["SETRANGE", "s", "4", b"\x00"], ["PFCOUNT", "s"], ["PFMERGE", "d", "s"]],
    "corrupted-sparse-tail": [["PFADD", "h", "a", "b", "c"], ["APPEND", "h", "hello"], ["PFCOUNT", "h"],
        ["PFADD", "h", *elements(40)], ["GET", "h"], ["PFCOUNT", "h", "nokey"], ["PFMERGE", "d", "h"],
        ["EXISTS", "d"]],
    "corrupted-sparse-short": [["SET", "h", SPARSE_SHORT], ["PFCOUNT", "h"], ["PFADD", "h", *elements(30)],
        ["GET", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "h"], ["PFDEBUG", "DECODE", "h"],
        ["PFDEBUG", "TODENSE", "h"], ["SET", "t", SPARSE_NO_TAIL], ["PFCOUNT", "t"], ["PFDEBUG", "DECODE", "t"],
        ["PFADD", "t", "a"], ["GET", "t"], ["PFCOUNT", "t"]],
    "corrupted-sparse-val-past-the-end": [["SET", "h", SPARSE_VAL_PAST_END], ["PFCOUNT", "h", "nokey"],
        ["PFMERGE", "d", "h"], ["EXISTS", "d"], ["PFCOUNT", "h"], ["PFDEBUG", "TODENSE", "h"], ["PFADD", "h", "a"],
        ["GET", "h"]],
    "fuzz-sparse-1": fuzz(1, dense=False),
    "fuzz-sparse-13": fuzz(13, dense=False),  # a VAL past the end only PFCOUNT of two keys saw
    "fuzz-sparse-2": fuzz(2, dense=False),
    "fuzz-sparse-3": fuzz(3, dense=False),
    "fuzz-dense": fuzz(4, dense=True),
    # -- PFDEBUG -------------------------------------------------------------------------
    "pfdebug": [["PFADD", "h", *elements(30)], ["PFDEBUG", "ENCODING", "h"], ["PFDEBUG", "DECODE", "h"],
        ["PFDEBUG", "getreg", "h"], ["PFDEBUG", "ENCODING", "h"], ["GET", "h"], ["PFDEBUG", "TODENSE", "h"],
        ["PFDEBUG", "DECODE", "h"], ["PFADD", "g", "x"], ["PFDEBUG", "todense", "g"], ["GET", "g"],
        ["PFDEBUG", "NOPE", "g"], ["PFDEBUG", "NOPE", "nokey"], ["PFDEBUG", "ENCODING", "nokey"],
        ["PFDEBUG", "no\x00pe", "g"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)

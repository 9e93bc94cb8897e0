"""The HyperLogLog internals: the fast paths (bisect-located sparse updates, big-integer register
packing, byte-wise max) against a plain line-by-line port of Redis's hyperloglog.c, and the
estimator's error on random sets against the standard error 1.04/sqrt(16384) = 0.81%."""

import math
import random

import pytest

from yizhan.redis.types import hll as H

# -- a literal port of hllSparseSet, byte by byte (slow, obviously faithful) ------------------


def ref_sparse_set(s: bytearray, index: int, count: int, max_bytes: int):
    """Returns (result, new string) where result is 1/0/-1, or "promote"."""
    if count > 32:
        return "promote", s
    p, end = 16, len(s)
    first = span = 0
    prev = None
    while p < end:
        b = s[p]
        oplen = 1
        if b & 0xC0 == 0:
            span = (b & 0x3F) + 1
        elif b & 0x80:
            span = (b & 3) + 1
        else:
            span = (((b & 0x3F) << 8) | s[p + 1]) + 1
            oplen = 2
        if index <= first + span - 1:
            break
        prev = p
        p += oplen
        first += span
    if span == 0 or p >= end:
        return -1, s
    b = s[p]
    is_zero, is_xzero, is_val = b & 0xC0 == 0, b & 0xC0 == 0x40, bool(b & 0x80)
    runlen = (b & 0x3F) + 1 if is_zero else (((b & 0x3F) << 8) | s[p + 1]) + 1 if is_xzero else (b & 3) + 1

    def val(v, n):
        return ((v - 1) << 2) | (n - 1) | 0x80

    updated = False
    if is_val:
        old = ((b >> 2) & 0x1F) + 1
        if old >= count:
            return 0, s
        if runlen == 1:
            s[p] = val(count, 1)
            updated = True
    if not updated and is_zero and runlen == 1:
        s[p] = val(count, 1)
        updated = True
    if not updated:
        seq = []
        last = first + span - 1

        def zeros(n):
            if n > 64:
                return [0x40 | ((n - 1) >> 8), (n - 1) & 0xFF]
            return [n - 1]

        if is_zero or is_xzero:
            if index != first:
                seq += zeros(index - first)
            seq.append(val(count, 1))
            if index != last:
                seq += zeros(last - index)
        else:
            cur = ((b >> 2) & 0x1F) + 1
            if index != first:
                seq.append(val(cur, index - first))
            seq.append(val(count, 1))
            if index != last:
                seq.append(val(cur, last - index))
        oldlen = 2 if is_xzero else 1
        if len(seq) - oldlen > 0 and len(s) + len(seq) - oldlen > max_bytes:
            return "promote", s
        s[p:p + oldlen] = bytes(seq)
    p = prev if prev is not None else 16
    scan = 5
    while p < len(s) and scan:
        scan -= 1
        b = s[p]
        if b & 0xC0 == 0x40:
            p += 2
            continue
        if b & 0xC0 == 0:
            p += 1
            continue
        if p + 1 < len(s) and s[p + 1] & 0x80:
            v1, v2 = ((b >> 2) & 0x1F) + 1, ((s[p + 1] >> 2) & 0x1F) + 1
            n = (b & 3) + (s[p + 1] & 3) + 2
            if v1 == v2 and n <= 4:
                s[p] = val(v1, n)
                del s[p + 1]
                continue
        p += 1
    s[15] |= 0x80
    return 1, s


def random_sparse(rng) -> bytes:
    """A valid but not canonical sparse HLL: unmerged neighbours, short XZEROs, split ZEROs."""
    body = bytearray()
    left = 16384
    while left:
        kind = rng.random()
        if kind < 0.4:
            n = min(left, rng.randrange(1, 5))
            body.append(0x80 | (rng.randrange(3) << 2) | (n - 1))
        elif kind < 0.8:
            n = min(left, rng.randrange(1, 65))
            body.append(n - 1)
        else:
            n = min(left, rng.randrange(1, 300))
            body += bytes((0x40 | ((n - 1) >> 8), (n - 1) & 0xFF))
        left -= n
    return b"HYLL\x01" + bytes(11) + bytes(body)


@pytest.mark.parametrize("seed", range(10))
def test_sparse_updates_match_a_literal_port(seed):
    rng = random.Random(seed)
    max_bytes = rng.choice([40, 300, 3000, 10000])
    start = H.Hll.new(max_bytes).value() if seed < 5 else random_sparse(rng)
    max_bytes = max(max_bytes, len(start) + 50)
    hll = H.Hll.load(start, max_bytes)
    ref = bytearray(start)
    for _ in range(3000):
        # Clustered indexes exercise splits of VAL runs and merges of neighbours.
        index = rng.randrange(16384) if rng.random() < 0.5 else rng.randrange(200, 240)
        count = rng.choice([1, 1, 2, 2, 3, 4, 5, 8, 31, 32])
        expected, ref = ref_sparse_set(ref, index, count, max_bytes)
        if expected == "promote":
            assert hll.set(index, count) == 1
            assert hll.encoding == H.DENSE
            registers, valid = H.sparse_registers(ref[16:])
            assert valid
            registers[index] = max(registers[index], count)
            assert H.unpack(hll.dense) == registers
            return
        assert hll.set(index, count) == expected
        assert bytes(hll.value()) == bytes(ref)
    assert hll.encoding == H.SPARSE


def test_count_above_32_promotes_sparse_to_dense():
    hll = H.Hll.new(3000)
    hll.set(5, 3)
    hll.invalidate()
    header = bytes(hll.header)
    assert hll.set(7, 40) == 1
    assert hll.encoding == H.DENSE
    value = hll.value()
    assert len(value) == H.DENSE_SIZE
    assert value[:4] == b"HYLL" and value[4] == 0 and value[5:16] == header[5:16]
    registers = H.unpack(hll.dense)
    assert registers[5] == 3 and registers[7] == 40 and sum(registers) == 43


def test_corrupted_sparse_update_fails():
    short = H.Hll.load(b"HYLL\x01" + bytes(10) + b"\x80" + b"\x5f\xff", 3000)  # 8192 registers
    assert short.set(8191, 2) == 1
    assert short.set(8192, 2) == -1
    empty = H.Hll.load(b"HYLL\x01" + bytes(11), 3000)
    assert empty.set(0, 1) == -1


# -- registers -----------------------------------------------------------------------------
def test_pack_unpack_round_trip_and_single_register_access():
    rng = random.Random(3)
    registers = bytes(rng.randrange(64) for _ in range(16384))
    dense = H.pack(registers)
    assert len(dense) == 12288
    assert H.unpack(dense) == registers
    for index in rng.sample(range(16384), 500):
        assert H.dense_get(dense, index) == registers[index]
    copy = bytearray(dense)
    for index in (0, 1, 2, 3, 16383, 16382, 777):
        new = (registers[index] + 1) % 64
        grew = H.dense_set(copy, index, new)
        assert grew == int(new > registers[index])
        expected = bytearray(registers)
        expected[index] = max(new, registers[index])
        assert H.unpack(copy) == expected
        copy = bytearray(dense)


def test_register_max_is_bytewise():
    rng = random.Random(4)
    a = bytes(rng.randrange(64) for _ in range(16384))
    b = bytes(rng.randrange(64) for _ in range(16384))
    assert H.register_max(a, b) == bytes(map(max, a, b))
    assert H.register_max(a, bytes(16384)) == a


def test_sparse_histogram_agrees_with_registers():
    hll = H.Hll.new(3000)
    for i in range(700):
        hll.add(b"x%d" % i)
    body = hll.sparse_body()
    registers, valid = H.sparse_registers(body)
    histo, valid2 = H.sparse_histogram(body)
    assert valid and valid2
    assert histo == H.histogram(registers)


# -- hashing and estimating ----------------------------------------------------------------
def test_murmurhash_known_values():
    # redis-server 7.0, PFADD h a b c then PFDEBUG DECODE h: "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068
    # v:1,1 Z:603", i.e. registers 8436 = 1, 12711 = 2, 15780 = 1.
    found = sorted(H.pattern(e) for e in (b"a", b"b", b"c"))
    assert found == [(8436, 1), (12711, 2), (15780, 1)]
    # A full 8-byte block and a tail go through the two halves of the function.
    assert H.murmurhash64a(b"12345678abc") != H.murmurhash64a(b"12345678abd")
    assert H.murmurhash64a(b"") == H.murmurhash64a(b"", 0xADC83B19)


def test_estimate_of_empty_and_saturated():
    assert H.estimate(H.histogram(bytes(16384))) == 0
    assert H.estimate(H.histogram(bytes([51]) * 16384)) == 1 << 63


@pytest.mark.parametrize("n", [10, 100, 1000, 5000, 20000, 100000])
def test_error_within_three_standard_errors(n):
    std = 1.04 / math.sqrt(16384)
    rng = random.Random(n)
    for trial in range(3 if n <= 20000 else 1):
        hll = H.Hll.new(3000)
        prefix = rng.randbytes(8)
        for i in range(n):
            hll.add(prefix + i.to_bytes(4, "little"))
        estimate = H.count_value(bytes(hll.value()))[0]
        assert abs(estimate - n) <= max(3 * std * n, 1), (n, trial, estimate)


def test_sparse_and_dense_estimates_agree():
    sparse, dense = H.Hll.new(3000), H.Hll.new(3000)
    dense.to_dense()
    for i in range(1200):
        sparse.add(b"k%d" % i)
        dense.add(b"k%d" % i)
    assert sparse.encoding == H.SPARSE
    assert H.count_value(bytes(sparse.value()))[0] == H.count_value(bytes(dense.value()))[0]

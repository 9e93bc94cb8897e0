"""HyperLogLog strings (hyperloglog.c's representation), so that values are interchangeable
with redis-server byte for byte.

An HLL is a string value: a 16-byte header ("HYLL", encoding 0 dense / 1 sparse, three unused
bytes, the cached cardinality as 8 little-endian bytes whose top bit means "stale") followed by
16384 six-bit registers, either packed (dense, 12288 bytes) or run-length coded (sparse: ZERO
00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx). Elements are hashed with MurmurHash64A (seed
0xadc83b19); the count is Ertl's estimator as hyperloglog.c computes it, in IEEE doubles.

Speed in pure Python: sparse updates follow hllSparseSet exactly but find the opcode with a
bisect over the register index each opcode byte starts at (kept beside the bytes); dense
registers are unpacked, packed, merged (byte-wise max) and counted with big-integer and bytes
operations over the whole array rather than per-register loops.
"""

from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from itertools import accumulate

from yizhan.redis import errors
from yizhan.resp import ErrorReply

HLL_P = 14
HLL_Q = 64 - HLL_P
REGISTERS = 1 << HLL_P
P_MASK = REGISTERS - 1
HEADER = 16
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HEADER + DENSE_BYTES
DENSE, SPARSE = 0, 1
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
ALPHA_INF = 0.721347520444481703680
MAGIC = b"HYLL"

_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1
_SEED = 0xADC83B19
U64 = struct.Struct("<Q")


# -- hashing ------------------------------------------------------------------------------
def murmurhash64a(data: bytes, seed: int = _SEED) -> int:
    """Redis's endian-neutral MurmurHash64A."""
    n = len(data)
    h = (seed ^ (n * _M)) & _MASK64
    whole = n & ~7
    if whole:
        for (k,) in U64.iter_unpack(data[:whole]):
            k = (k * _M) & _MASK64
            k ^= k >> 47
            h ^= (k * _M) & _MASK64
            h = (h * _M) & _MASK64
    if n & 7:
        h ^= int.from_bytes(data[whole:], "little")
        h = (h * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """hllPatLen: (register index, length of the 000..1 run after the index bits)."""
    h = murmurhash64a(element)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & P_MASK, (rest & -rest).bit_length()


# -- whole-array register operations (one byte per register, "raw") ------------------------
_LANES = REGISTERS // 4


def _lanes(byte: int, count: int) -> int:
    return int.from_bytes(bytes([byte]) * count, "little")


_L3F, _L0F, _L03 = _lanes(0x3F, _LANES), _lanes(0x0F, _LANES), _lanes(0x03, _LANES)
_H80, _FF = _lanes(0x80, REGISTERS), _lanes(0xFF, REGISTERS)


def unpack(dense) -> bytearray:
    """12288 packed bytes -> 16384 registers, one per byte (4 registers per 3 bytes)."""
    x0 = int.from_bytes(dense[0::3], "little")
    x1 = int.from_bytes(dense[1::3], "little")
    x2 = int.from_bytes(dense[2::3], "little")
    out = bytearray(REGISTERS)
    out[0::4] = (x0 & _L3F).to_bytes(_LANES, "little")
    out[1::4] = (((x0 >> 6) & _L03) | ((x1 & _L0F) << 2)).to_bytes(_LANES, "little")
    out[2::4] = (((x1 >> 4) & _L0F) | ((x2 & _L03) << 4)).to_bytes(_LANES, "little")
    out[3::4] = ((x2 >> 2) & _L3F).to_bytes(_LANES, "little")
    return out


def pack(registers) -> bytearray:
    """16384 registers (each 0..63) -> the 12288-byte dense layout."""
    r0 = int.from_bytes(registers[0::4], "little")
    r1 = int.from_bytes(registers[1::4], "little")
    r2 = int.from_bytes(registers[2::4], "little")
    r3 = int.from_bytes(registers[3::4], "little")
    out = bytearray(DENSE_BYTES)
    out[0::3] = (r0 | ((r1 & _L03) << 6)).to_bytes(_LANES, "little")
    out[1::3] = (((r1 >> 2) & _L0F) | ((r2 & _L0F) << 4)).to_bytes(_LANES, "little")
    out[2::3] = (((r2 >> 4) & _L03) | (r3 << 2)).to_bytes(_LANES, "little")
    return out


def register_max(a, b) -> bytes:
    """Byte-wise max of two register arrays (values below 128) in a few big-int operations."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = (((x | _H80) - y) & _H80) >> 7  # 1 in every lane where x >= y
    keep = ge * 0xFF
    return ((x & keep) | (y & (_FF ^ keep))).to_bytes(REGISTERS, "little")


def histogram(registers) -> list[int]:
    """Count of registers per value 0..63 (hllRawRegHisto)."""
    histo = [0] * 64
    left = len(registers)
    for value in range(64):
        if not left:
            break
        found = registers.count(value)
        histo[value] = found
        left -= found
    return histo


# -- the estimator --------------------------------------------------------------------------
def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if previous == z:
            return z / 3


def _llround(value: float) -> int:
    """C's llroundl of a double: half away from zero; out of range gives LLONG_MIN (x86)."""
    if math.isnan(value) or math.isinf(value) or abs(value) >= 2.0**63:
        return -(1 << 63)
    magnitude = abs(value)
    whole = math.floor(magnitude)
    if magnitude - whole >= 0.5:
        whole += 1
    return int(math.copysign(whole, value))


def estimate(histo: list[int]) -> int:
    """hllCount from the register histogram: Ertl's improved estimator (arXiv:1702.01284)."""
    m = float(REGISTERS)
    z = m * _tau((m - histo[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    try:
        quotient = ALPHA_INF * m * m / z
    except ZeroDivisionError:
        quotient = math.inf
    # E = llroundl(...) stored in a double, then cast to uint64_t.
    return int(float(_llround(quotient))) & _MASK64


# -- the sparse representation ----------------------------------------------------------
_SPAN = bytes((b + 1) if b < 0x40 else ((b & 3) + 1) if b >= 0x80 else 0 for b in range(256))
_XZERO = re.compile(rb"[\x40-\x7f][\x00-\xff]", re.S)


def _is_xzero(byte: int) -> bool:
    return byte & 0xC0 == 0x40


def _val(value: int, length: int) -> int:
    return ((value - 1) << 2) | (length - 1) | 0x80


def _zero_run(length: int, start: int) -> tuple[list[int], list[int]]:
    """Opcode bytes for `length` zero registers from `start`, and each byte's start index (an
    XZERO's second byte carries the index of the opcode after it)."""
    if length > SPARSE_ZERO_MAX_LEN:
        length -= 1
        return [0x40 | (length >> 8), length & 0xFF], [start, start + length + 1]
    return [length - 1], [start]


def sparse_registers(body) -> tuple[bytearray, bool]:
    """Registers of a sparse body as hllSparseToDense/hllMerge read them, and whether the
    opcodes cover exactly 16384 registers. A VAL run past the end makes it invalid even when
    the registers before it were all covered (ZERO/XZERO runs may overrun: the final count
    catches them), as redis-server 7.0 answers PFMERGE and PFCOUNT of several keys."""
    registers = bytearray(REGISTERS)
    idx = i = 0
    n = len(body)
    while i < n:
        b = body[i]
        if b < 0x40:
            idx += b + 1
            i += 1
        elif b < 0x80:
            idx += (((b & 0x3F) << 8) | (body[i + 1] if i + 1 < n else 0)) + 1
            i += 2
        else:
            run = (b & 3) + 1
            if idx + run > REGISTERS:
                return registers, False
            registers[idx:idx + run] = bytes((((b >> 2) & 0x1F) + 1,)) * run
            idx += run
            i += 1
    return registers, idx == REGISTERS


def sparse_histogram(body) -> tuple[list[int], bool]:
    """hllSparseRegHisto: the histogram and whether the opcodes cover exactly 16384 registers."""
    histo = [0] * 64
    covered = 0
    for match in _XZERO.finditer(body):
        run = (((match.group()[0] & 0x3F) << 8) | match.group()[1]) + 1
        histo[0] += run
        covered += run
    rest = _XZERO.sub(b"", body)
    if rest and _is_xzero(rest[-1]):  # a final XZERO missing its second byte reads the NUL
        run = ((rest[-1] & 0x3F) << 8) + 1
        histo[0] += run
        covered += run
        rest = rest[:-1]
    for byte in set(rest):
        times = rest.count(byte)
        if byte < 0x40:
            histo[0] += (byte + 1) * times
            covered += (byte + 1) * times
        else:
            run = ((byte & 3) + 1) * times
            histo[((byte >> 2) & 0x1F) + 1] += run
            covered += run
    return histo, covered == REGISTERS


class Hll:
    """One HLL value being worked on: a header plus either packed dense registers or sparse
    opcode bytes with, for each byte, the first register its opcode covers."""

    __slots__ = ("header", "dense", "ops", "starts", "total", "truncated", "max_bytes")

    def __init__(self, header: bytearray, max_bytes: int):
        self.header = header
        self.dense: bytearray | None = None
        self.ops = bytearray()
        self.starts: list[int] = []
        self.total = 0
        self.truncated = False
        self.max_bytes = max_bytes

    @classmethod
    def new(cls, max_bytes: int) -> "Hll":
        """createHLLObject: a sparse HLL of one XZERO run (cached cardinality 0, valid)."""
        hll = cls(bytearray(MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8)), max_bytes)
        hll._load_sparse(b"\x7f\xff")
        return hll

    @classmethod
    def load(cls, value, max_bytes: int) -> "Hll":
        """A validated HLL string (see `check`) ready for updates."""
        hll = cls(bytearray(value[:HEADER]), max_bytes)
        if value[4] == DENSE:
            hll.dense = bytearray(value[HEADER:])
        else:
            hll._load_sparse(value[HEADER:])
        return hll

    def _load_sparse(self, body) -> None:
        ops = bytearray(body)
        spans = list(ops.translate(_SPAN))
        end = 0
        for match in _XZERO.finditer(ops):
            i = match.start()
            spans[i] = (((ops[i] & 0x3F) << 8) | ops[i + 1]) + 1
            spans[i + 1] = 0
            end = i + 2
        n = len(ops)
        if n and _is_xzero(ops[-1]) and n - 1 >= end:
            # A final XZERO's second byte is the string's NUL terminator in C.
            spans[-1] = ((ops[-1] & 0x3F) << 8) + 1
            ops.append(0)
            spans.append(0)
            self.truncated = True
        starts = list(accumulate(spans, initial=0))
        self.total = starts.pop()
        self.ops = ops
        self.starts = starts

    # -- reading -----------------------------------------------------------------------
    @property
    def encoding(self) -> int:
        return DENSE if self.dense is not None else SPARSE

    def value(self) -> bytearray:
        if self.dense is not None:
            return self.header + self.dense
        body = self.ops[:-1] if self.truncated else self.ops
        return self.header + body

    def sparse_body(self) -> bytearray:
        return self.ops[:-1] if self.truncated else self.ops

    def registers(self) -> tuple[bytearray, bool]:
        if self.dense is not None:
            return unpack(self.dense), True
        return sparse_registers(self.sparse_body())

    def invalidate(self) -> None:
        self.header[15] |= 0x80

    # -- writing -----------------------------------------------------------------------
    def add(self, element: bytes) -> int:
        """hllAdd: 1 if a register grew, 0 if not, -1 for a corrupted sparse value."""
        index, count = pattern(element)
        return self.set(index, count)

    def set(self, index: int, count: int) -> int:
        if self.dense is not None:
            return dense_set(self.dense, index, count)
        return self._sparse_set(index, count)

    def to_dense(self) -> bool:
        """hllSparseToDense: False if the sparse opcodes are corrupted (nothing changes)."""
        if self.dense is not None:
            return True
        registers, valid = sparse_registers(self.sparse_body())
        if not valid:
            return False
        self.header[4] = DENSE
        self.dense = pack(registers)
        self.ops, self.starts, self.total, self.truncated = bytearray(), [], 0, False
        return True

    def _promote(self, index: int, count: int) -> int:
        if not self.to_dense():
            return -1
        dense_set(self.dense, index, count)
        return 1

    def _sparse_set(self, index: int, count: int) -> int:
        """hllSparseSet, opcode for opcode, including the 5-opcode merge pass."""
        if count > SPARSE_VAL_MAX_VALUE:
            return self._promote(index, count)
        if index >= self.total:
            return -1
        ops, starts = self.ops, self.starts
        p = bisect_right(starts, index) - 1
        op = ops[p]
        first = starts[p]
        if op & 0xC0 == 0:
            kind, span = "zero", (op & 0x3F) + 1
        elif op & 0x80:
            kind, span = "val", (op & 3) + 1
        else:
            kind, span = "xzero", (((op & 0x3F) << 8) | ops[p + 1]) + 1
        prev = None if p == 0 else (p - 2 if starts[p - 1] == first and p >= 2 else p - 1)

        if kind == "val":
            current = ((op >> 2) & 0x1F) + 1
            if current >= count:
                return 0
            if span == 1:
                ops[p] = _val(count, 1)
                return self._merge(prev)
        elif kind == "zero" and span == 1:
            ops[p] = _val(count, 1)
            return self._merge(prev)

        last = first + span - 1
        seq: list[int] = []
        seq_starts: list[int] = []
        if kind == "val":
            if index != first:
                seq.append(_val(current, index - first))
                seq_starts.append(first)
            seq.append(_val(count, 1))
            seq_starts.append(index)
            if index != last:
                seq.append(_val(current, last - index))
                seq_starts.append(index + 1)
        else:
            if index != first:
                codes, code_starts = _zero_run(index - first, first)
                seq += codes
                seq_starts += code_starts
            seq.append(_val(count, 1))
            seq_starts.append(index)
            if index != last:
                codes, code_starts = _zero_run(last - index, index + 1)
                seq += codes
                seq_starts += code_starts
        old_len = 2 if kind == "xzero" else 1
        delta = len(seq) - old_len
        size = HEADER + len(ops) - self.truncated
        if delta > 0 and size + delta > self.max_bytes:
            return self._promote(index, count)
        ops[p:p + old_len] = bytes(seq)
        starts[p:p + old_len] = seq_starts
        return self._merge(prev)

    def _merge(self, prev: int | None) -> int:
        """Step 4 of hllSparseSet: merge adjacent equal VAL opcodes, up to 5 opcodes from prev."""
        ops, starts = self.ops, self.starts
        p = 0 if prev is None else prev
        scan = 5
        end = len(ops) - self.truncated
        while p < end and scan:
            scan -= 1
            op = ops[p]
            if op & 0xC0 == 0x40:
                p += 2
                continue
            if op & 0xC0 == 0:
                p += 1
                continue
            if p + 1 < end and ops[p + 1] & 0x80:
                nxt = ops[p + 1]
                if (op >> 2) & 0x1F == (nxt >> 2) & 0x1F:
                    length = (op & 3) + (nxt & 3) + 2
                    if length <= SPARSE_VAL_MAX_LEN:
                        ops[p] = _val(((op >> 2) & 0x1F) + 1, length)
                        del ops[p + 1]
                        del starts[p + 1]
                        end -= 1
                        continue
            p += 1
        self.invalidate()
        return 1


def dense_get(dense, index: int) -> int:
    pos = index * 6
    byte, fb = pos >> 3, pos & 7
    if fb <= 2:
        return (dense[byte] >> fb) & 63
    return ((dense[byte] >> fb) | (dense[byte + 1] << (8 - fb))) & 63


def dense_set(dense: bytearray, index: int, count: int) -> int:
    """hllDenseSet: raise register `index` to `count`; 1 if it grew."""
    pos = index * 6
    byte, fb = pos >> 3, pos & 7
    if fb <= 2:
        old = (dense[byte] >> fb) & 63
    else:
        old = ((dense[byte] >> fb) | (dense[byte + 1] << (8 - fb))) & 63
    if count <= old:
        return 0
    dense[byte] = (dense[byte] & ~(63 << fb) & 0xFF) | ((count << fb) & 0xFF)
    if fb > 2:
        dense[byte + 1] = (dense[byte + 1] & ~(63 >> (8 - fb)) & 0xFF) | (count >> (8 - fb))
    return 1


# -- values in the keyspace ---------------------------------------------------------------
def check(value) -> None:
    """isHLLObjectOrReply: a string with the HYLL header, a known encoding and, if dense,
    exactly the dense size."""
    if type(value) is not bytes and type(value) is not bytearray:
        raise ErrorReply(errors.WRONGTYPE)
    if (len(value) < HEADER or value[:4] != MAGIC or value[4] > SPARSE
            or (value[4] == DENSE and len(value) != DENSE_SIZE)):
        raise ErrorReply(errors.HLL_WRONGTYPE)


def count_value(value) -> tuple[int, bool]:
    """hllCount of a checked HLL string, and whether a sparse one is well-formed."""
    if value[4] == DENSE:
        return estimate(histogram(unpack(value[HEADER:]))), True
    histo, valid = sparse_histogram(value[HEADER:])
    return estimate(histo), valid

"""HyperLogLog commands (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST) over the HLL string
representation of types/hll.py (Redis 7.0's, byte for byte).
"""

from __future__ import annotations

import math
import random
import re

from yizhan.redis import errors
from yizhan.redis.keyspace import STRING
from yizhan.redis.table import command
from yizhan.redis.types.hll import (DENSE, HEADER, REGISTERS, SPARSE, U64, Hll, check,
                                     count_value, dense_get, estimate, histogram, pack,
                                     register_max, sparse_registers, unpack)
from yizhan.resp import OK, ErrorReply, Simple

def _unshare(db, key: bytes, value):
    """dbUnshareStringValue: the value becomes a private "raw" string (no change signalled)."""
    if type(value) is bytes:
        value = bytearray(value)
        db.store(key, value, keep_ttl=True)
    return value


def _store(c, key: bytes, value: bytearray, created: bool = False, dirty: int = 1) -> None:
    """Store the new HLL string and commit it as Redis's PFADD and PFMERGE do ("pfadd")."""
    c.db.store(key, value, keep_ttl=not created)
    c.db.commit(key, STRING, "pfadd", dirty)


def _max_bytes(c) -> int:
    return c.server.params.int("hll-sparse-max-bytes")


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


# -- commands -----------------------------------------------------------------------------
@command("PFADD key [element [element ...]]", arity=-2, flags="write denyoom fast", keys=(1, 1, 1),
         group="hyperloglog", since="2.8.9",
         summary="Adds the specified elements to the specified HyperLogLog.",
         complexity="O(1) to add every element.",
         key_specs="RW insert index:1")
def pfadd(c, argv):
    db, key = c.db, argv[1]
    value = db.lookup_write(key)
    created = value is None
    if created:
        hll = Hll.new(_max_bytes(c))
    else:
        check(value)
        value = _unshare(db, key, value)
        hll = Hll.load(value, _max_bytes(c))
    updated = int(created)
    for element in argv[2:]:
        result = hll.add(element)
        if result == 1:
            updated += 1
        elif result == -1:
            db.store(key, hll.value(), keep_ttl=True)  # Redis changed it in place before failing
            raise ErrorReply(errors.HLL_INVALID)
    if not updated:
        return 0
    hll.invalidate()
    _store(c, key, hll.value(), created, updated)  # Redis counts each register raised (and the creation)
    return 1


@command("PFCOUNT key [key ...]", arity=-2, flags="readonly", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9",
         summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
         complexity="O(1) with a very small average constant time when called with a single key. "
                    "O(N) with N being the number of keys, and much bigger constant times, when "
                    "called with multiple keys.",
         key_specs=("RW access index:1 range:-1:1:0 -- RW because it may change the internal "
                    "representation of the key, and propagate to replicas"))
def pfcount(c, argv):
    db = c.db
    if len(argv) > 2:
        return _signed64(estimate(histogram(merged_registers(db, argv[1:])[0])))
    key = argv[1]
    value = db.lookup_read(key)
    if value is None:
        return 0
    check(value)
    value = _unshare(db, key, value)
    if not value[15] & 0x80:
        return _signed64(int.from_bytes(value[8:16], "little"))
    card, valid = count_value(value)
    if not valid:
        raise ErrorReply(errors.HLL_INVALID)
    value[8:16] = card.to_bytes(8, "little")
    db.commit(key, STRING, None)  # the cached cardinality is part of the string (no event)
    return _signed64(card)


def merged_registers(db, keys) -> tuple[bytes, bool]:
    """The register-wise max of the HLLs at `keys` (missing keys count as empty), and whether
    any of them is dense. Raises Redis's errors for non-HLL or corrupted values."""
    registers = bytes(REGISTERS)
    any_dense = False
    for key in keys:
        value = db.lookup_read(key)
        if value is None:
            continue
        check(value)
        if value[4] == DENSE:
            any_dense = True
            theirs = unpack(value[HEADER:])
        else:
            theirs, valid = sparse_registers(value[HEADER:])
            if not valid:
                raise ErrorReply(errors.HLL_INVALID)
        registers = register_max(registers, theirs)
    return registers, any_dense


_NONZERO = re.compile(rb"[^\x00]")


@command("PFMERGE destkey sourcekey [sourcekey ...]", arity=-2, flags="write denyoom", keys=(1, -1, 1),
         group="hyperloglog", since="2.8.9", summary="Merge N different HyperLogLogs into a single one.",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         key_specs="RW access insert index:1; RO access index:2 range:-1:1:0")
def pfmerge(c, argv):
    db, key = c.db, argv[1]
    registers, use_dense = merged_registers(db, argv[1:])
    value = db.lookup_write(key)
    created = value is None
    if created:
        hll = Hll.new(_max_bytes(c))
    else:
        hll = Hll.load(_unshare(db, key, value), _max_bytes(c))
    if use_dense and not hll.to_dense():
        raise ErrorReply(errors.HLL_INVALID)
    if hll.dense is None:
        for match in _NONZERO.finditer(registers):
            index = match.start()
            hll.set(index, registers[index])
            if hll.dense is not None:
                break
    if hll.dense is not None:
        # Every remaining hllDenseSet raises a register to the max: one byte-wise max.
        hll.dense = pack(register_max(unpack(hll.dense), registers))
    hll.invalidate()
    _store(c, key, hll.value(), created)
    return OK


@command("PFDEBUG subcommand key", arity=3, flags="write denyoom admin", keys=(2, 2, 1),
         group="hyperloglog", since="2.8.9", summary="Internal commands for debugging HyperLogLog values",
         complexity="N/A",
         key_specs="RW access index:2")
def pfdebug(c, argv):
    db, key = c.db, argv[2]
    value = db.lookup_write(key)
    if value is None:
        raise ErrorReply(errors.PFDEBUG_NO_KEY)
    check(value)
    value = _unshare(db, key, value)
    sub = argv[1].split(b"\0", 1)[0].lower()
    if sub in (b"getreg", b"todense"):
        converted = value[4] == SPARSE
        hll = Hll.load(value, _max_bytes(c))
        if converted:
            if not hll.to_dense():
                raise ErrorReply(errors.HLL_INVALID)
            db.store(key, hll.value(), keep_ttl=True)  # Redis converts in place (no signal)
            if c.server.stats is not None:
                c.server.stats.dirty += 1
        if sub == b"todense":
            return int(converted)
        return list(unpack(hll.dense))
    if sub == b"decode":
        if value[4] != SPARSE:
            raise ErrorReply(errors.PFDEBUG_NOT_SPARSE)
        return decode(value[HEADER:]).encode()
    if sub == b"encoding":
        return Simple("dense" if value[4] == DENSE else "sparse")
    raise ErrorReply(errors.pfdebug_unknown(argv[1]))


def decode(body) -> str:
    """PFDEBUG DECODE's listing of sparse opcodes: "Z:<n> v:<value>,<n> z:<n> ..."."""
    words = []
    i, n = 0, len(body)
    while i < n:
        b = body[i]
        if b < 0x40:
            words.append("z:%d" % (b + 1))
            i += 1
        elif b < 0x80:
            words.append("Z:%d" % ((((b & 0x3F) << 8) | (body[i + 1] if i + 1 < n else 0)) + 1))
            i += 2
        else:
            words.append("v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
            i += 1
    return " ".join(words)


_LOW6 = bytes(b & 63 for b in range(256))


@command("PFSELFTEST", arity=1, flags="admin", group="hyperloglog", since="2.8.9",
         summary="An internal command for testing HyperLogLog values", complexity="N/A")
def pfselftest(c, argv):
    """Redis's self-test, scaled to pure Python: register access on random arrays, then sparse
    and dense HLLs fed the same elements must agree and stay within 6 standard errors."""
    rng = random.Random()
    for _ in range(10):
        registers = rng.randbytes(REGISTERS).translate(_LOW6)
        dense = pack(registers)
        for index in rng.sample(range(REGISTERS), 64):
            if dense_get(dense, index) != registers[index]:
                raise ErrorReply("TESTFAILED Register %d should be %d but is %d"
                                 % (index, registers[index], dense_get(dense, index)))
        if unpack(dense) != registers:
            raise ErrorReply("TESTFAILED packed registers do not round-trip")
    max_bytes = c.server.params.int("hll-sparse-max-bytes")
    sparse, dense = Hll.new(max_bytes), Hll.new(max_bytes)
    dense.to_dense()
    relerr = 1.04 / math.sqrt(REGISTERS)
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, 10001):
        element = U64.pack(j ^ seed)
        dense.add(element)
        sparse.add(element)
        if j != checkpoint:
            continue
        if j < max_bytes / 2 and sparse.encoding != SPARSE:
            raise ErrorReply("TESTFAILED sparse encoding not used")
        card = count_value(dense.value())[0]
        if card != count_value(sparse.value())[0]:
            raise ErrorReply("TESTFAILED dense/sparse disagree")
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abs(checkpoint - card) > maxerr:
            raise ErrorReply("TESTFAILED Too big error. card:%d abserr:%d"
                             % (checkpoint, abs(checkpoint - card)))
        checkpoint *= 10
    return OK

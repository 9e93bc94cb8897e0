"""Redis's RDB format, version 10 (what Redis 7.0 writes), for yizhan's values: whole files
(`encode_file` / `decode_file`) and DUMP payloads (`dump_payload` / `restore_payload`).
Files of versions 11 (Redis 7.2) and 12 (Redis 7.4) load too: their listpack sets
(RDB_TYPE_SET_LISTPACK) and streams with consumer active times (RDB_TYPE_STREAM_LISTPACKS_3)
become yizhan's values, their cluster slot-size hints are skipped, and a hash with per-field
expirations (7.4's HASH_METADATA / HASH_LISTPACK_EX and their release-candidate forms), which
Redis 7.0 cannot hold either, refuses the whole file. DUMP payloads stay version 10 at most, as
Redis 7.0 verifies them.

Sans-IO: bytes in, bytes out. Values are written as Redis 7.0 writes them (strings with integer
and LZF encodings, lists as quicklist-2 listpack nodes, small hashes and sorted sets as
listpacks, integer sets as intsets) and read in every encoding Redis 7.0 reads, including the
ziplist, zipmap-free older ones. Loaded values take the encoding Redis would give them under
the instance's *-max-* parameters; streams (persistence/streams.py) as RDB_TYPE_STREAM_LISTPACKS_2.
Modules are not a type yizhan has: reading one raises `RDBError`.

Function libraries travel as their code (the whole `#!lua name=...` payload), one
RDB_OPCODE_FUNCTION2 record each, before the databases; FUNCTION DUMP's payload is those
records with the DUMP footer. The older RDB_OPCODE_FUNCTION record of Redis 7.0's release
candidates (name, engine, description, code) is read and turned into the same payload, as
Redis 7.0 does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from yizhan.redis.persistence.codec import (RDBError, RDBUnsupported, Reader, crc64, encode_length, encode_string,
                                             intset, listpack, listpack_entry, parse_intset, parse_listpack,
                                             parse_ziplist)
from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.persistence.streams import (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3,
                                               decode_stream, encode_stream)
from yizhan.redis.types.sets import Set
from yizhan.redis.types.streams import Stream
from yizhan.redis.types.zsets import ZSet

RDB_VERSION = 10  # what yizhan writes (files, DUMP) and the newest DUMP payload it restores
RDB_LOAD_VERSION = 12  # the newest file version it loads (Redis 7.4's)
MAGIC = b"REDIS%04d" % RDB_VERSION

# value types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_HASH_LISTPACK, T_ZSET_LISTPACK, T_LIST_QUICKLIST_2 = 14, 16, 17, 18
T_SET_LISTPACK = 20  # Redis 7.2 (RDB 11)
T_HASH_METADATA_PRE_GA, T_HASH_LISTPACK_EX_PRE_GA, T_HASH_METADATA, T_HASH_LISTPACK_EX = 22, 23, 24, 25  # 7.4
# opcodes
OP_SLOT_INFO = 244  # Redis 7.4, cluster mode: slot id, keys, keys with a TTL (a sizing hint)
OP_FUNCTION2, OP_FUNCTION, OP_MODULE_AUX, OP_IDLE, OP_FREQ, OP_AUX = 245, 246, 247, 248, 249, 250
OP_RESIZEDB, OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 251, 252, 253, 254, 255

NODE_PLAIN, NODE_PACKED = 1, 2
LIST_NODE_LIMIT = 8192  # list-max-listpack-size -2


@dataclass
class Limits:
    """The *-max-* parameters that decide a loaded value's encoding."""

    hash_entries: int = 512
    hash_value: int = 64
    set_intset: int = 512
    zset_entries: int = 128
    zset_value: int = 64

    @classmethod
    def from_params(cls, params) -> "Limits":
        return cls(params.int("hash-max-listpack-entries"), params.int("hash-max-listpack-value"),
                   params.int("set-max-intset-entries"), params.int("zset-max-listpack-entries"),
                   params.int("zset-max-listpack-value"))


# -- writing values --------------------------------------------------------------------------
def _double_text(score: float) -> bytes:
    """d2string as Redis 7.0's zset listpack stores a score."""
    if score != score:
        return b"nan"
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    if score == 0:
        return b"-0" if str(score).startswith("-") else b"0"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


def list_nodes(lst) -> list[list[bytes]]:
    """Elements grouped in quicklist nodes as RPUSH fills them (_quicklistNodeAllowInsert with
    list-max-listpack-size -2: a node takes an element while its size plus the element's length
    plus an 8-byte estimate of the overhead stays within 8 KB)."""
    nodes: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for element in lst:
        if current and size + len(element) + 8 > LIST_NODE_LIMIT:
            nodes.append(current)
            current, size = [], 0
        if not current:
            size = 7
        current.append(element)
        size += len(listpack_entry(element))
    if current:
        nodes.append(current)
    return nodes


def encode_value(value, compress: bool = True) -> tuple[int, bytes]:
    """(RDB type, serialized value) of a yizhan value; `compress`: rdbcompression (LZF)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return T_STRING, encode_string(value, compress)
    if kind is RedisList:
        nodes = list_nodes(value)
        parts = [encode_length(len(nodes))]
        for node in nodes:
            parts.append(encode_length(NODE_PACKED))
            parts.append(encode_string(listpack(node), compress))
        return T_LIST_QUICKLIST_2, b"".join(parts)
    if kind is Hash:
        if not value.hashtable:
            flat = [x for pair in value.items() for x in pair]
            return T_HASH_LISTPACK, encode_string(listpack(flat), compress)
        parts = [encode_length(len(value))]
        for f, v in value.items():
            parts.append(encode_string(f, compress))
            parts.append(encode_string(v, compress))
        return T_HASH, b"".join(parts)
    if kind is Set:
        if value.is_intset:
            return T_SET_INTSET, encode_string(intset(value.ints), compress)
        parts = [encode_length(len(value))]
        parts.extend(encode_string(m, compress) for m in value)
        return T_SET, b"".join(parts)
    if kind is ZSet:
        if value.listpack:
            flat = []
            for score, member in value.order:
                flat.append(member)
                flat.append(_double_text(score))
            return T_ZSET_LISTPACK, encode_string(listpack(flat), compress)
        parts = [encode_length(len(value))]
        for score, member in reversed(value.order):
            parts.append(encode_string(member, compress))
            parts.append(struct.pack("<d", score))
        return T_ZSET_2, b"".join(parts)
    if kind is Stream:
        return T_STREAM_LISTPACKS_2, encode_stream(value, compress)
    raise RDBError(f"cannot serialize a {kind.__name__}")


# -- reading values --------------------------------------------------------------------------
def _pairs(items: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(items) % 2:
        raise RDBError("odd number of elements in a pair container")
    return list(zip(items[0::2], items[1::2]))


def _build_hash(pairs, limits: Limits, by_length_only: bool = False) -> Hash:
    """A loaded hash: a listpack unless it has too many fields or (read field by field, not
    from a listpack) a field or value too long, as Redis 7.0's rdbLoadObject decides."""
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise RDBError("duplicate hash field")
    big = len(fields) > limits.hash_entries or not by_length_only and any(
        len(f) > limits.hash_value or len(v) > limits.hash_value for f, v in fields.items())
    return Hash(fields, hashtable=big)


def _build_zset(pairs, limits: Limits, by_length_only: bool = False) -> ZSet:
    small = len(pairs) <= limits.zset_entries and (
        by_length_only or all(len(m) <= limits.zset_value for m, _ in pairs))
    zs = ZSet(listpack=small)
    for member, score in pairs:
        if score != score:
            raise RDBError("zset score is NaN")
        if member in zs.scores:
            raise RDBError("duplicate zset member")
        zs.insert(member, score)
    return zs


def _build_set(members, limits: Limits) -> Set:
    s = Set.build(members, limits.set_intset)
    if len(s) != len(members):
        raise RDBError("duplicate set member")
    return s


def _score(text: bytes) -> float:
    try:
        return float(text)
    except ValueError:
        raise RDBError("bad zset score") from None


def decode_value(kind: int, r: Reader, limits: Limits):
    """Read one value of RDB type `kind`."""
    if kind == T_STRING:
        return r.string()
    if kind == T_LIST:
        return RedisList(r.string() for _ in range(r.length()))
    if kind in (T_LIST_QUICKLIST, T_LIST_QUICKLIST_2, T_LIST_ZIPLIST):
        if kind == T_LIST_ZIPLIST:
            return RedisList(parse_ziplist(r.string()))
        lst = RedisList()
        for _ in range(r.length()):
            container = r.length() if kind == T_LIST_QUICKLIST_2 else NODE_PACKED
            blob = r.string()
            if container == NODE_PLAIN:
                lst.append(blob)
            elif container == NODE_PACKED:
                lst.extend(parse_listpack(blob) if kind == T_LIST_QUICKLIST_2 else parse_ziplist(blob))
            else:
                raise RDBError("bad quicklist node container")
        if not lst:
            raise RDBError("empty list")
        return lst
    if kind == T_SET:
        return _build_set([r.string() for _ in range(r.length())], limits)
    if kind == T_SET_LISTPACK:
        return _build_set(parse_listpack(r.string()), limits)
    if kind == T_SET_INTSET:
        numbers = parse_intset(r.string())
        if numbers != sorted(set(numbers)):
            raise RDBError("intset not sorted")
        return _build_set([b"%d" % n for n in numbers], limits)
    if kind in (T_ZSET, T_ZSET_2):
        n = r.length()
        read = r.binary_double if kind == T_ZSET_2 else r.old_double
        pairs = []
        for _ in range(n):
            member = r.string()
            pairs.append((member, read()))
        return _build_zset(pairs, limits)
    if kind in (T_ZSET_ZIPLIST, T_ZSET_LISTPACK):
        blob = r.string()
        items = parse_listpack(blob) if kind == T_ZSET_LISTPACK else parse_ziplist(blob)
        pairs = [(m, _score(s)) for m, s in _pairs(items)]
        return _build_zset(pairs, limits, by_length_only=True)
    if kind == T_HASH:
        pairs = []
        for _ in range(r.length()):
            f = r.string()
            pairs.append((f, r.string()))
        return _build_hash(pairs, limits)
    if kind in (T_HASH_ZIPLIST, T_HASH_LISTPACK):
        blob = r.string()
        items = parse_listpack(blob) if kind == T_HASH_LISTPACK else parse_ziplist(blob)
        return _build_hash(_pairs(items), limits, by_length_only=True)
    if kind in (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
        return decode_stream(kind, r)
    if kind in _UNSUPPORTED:
        raise RDBUnsupported(f"a key holds {_UNSUPPORTED[kind]} (RDB type {kind}), which yizhan does not support")
    raise RDBError(f"unknown RDB value type {kind}")


_HASH_FIELD_TTLS = "a hash with per-field expirations (Redis 7.4's HEXPIRE)"
_UNSUPPORTED = {6: "a module value", 7: "a module value",
                T_HASH_ZIPMAP: "a zipmap hash (Redis before 2.6)",
                T_HASH_METADATA_PRE_GA: _HASH_FIELD_TTLS, T_HASH_LISTPACK_EX_PRE_GA: _HASH_FIELD_TTLS,
                T_HASH_METADATA: _HASH_FIELD_TTLS, T_HASH_LISTPACK_EX: _HASH_FIELD_TTLS}


def _check_non_empty(value) -> None:
    if type(value) not in (bytes, bytearray, Stream) and not len(value):  # a stream may be empty
        raise RDBError("empty aggregate value")


def _decode_keyed(kind: int, key: bytes, r: Reader, limits: Limits):
    """decode_value for a file's key: a type yizhan cannot hold is refused with its key."""
    if kind in _UNSUPPORTED:
        raise RDBUnsupported(f"Unknown RDB encoding type {kind} (key {key!r}: {_UNSUPPORTED[kind]}, "
                             f"which yizhan does not support)")
    return decode_value(kind, r, limits)


# -- DUMP / RESTORE ------------------------------------------------------------------------
def dump_payload(value, compress: bool = True) -> bytes:
    """DUMP's serialization: type, value, 2-byte RDB version, CRC64 of all that (little-endian)."""
    kind, body = encode_value(value, compress)
    payload = bytes((kind,)) + body + struct.pack("<H", RDB_VERSION)
    return payload + struct.pack("<Q", crc64(payload))


def verify_payload(payload: bytes, check_crc: bool = True) -> bool:
    """verifyDumpPayload: long enough, a version this server reads, a matching CRC64."""
    if len(payload) < 10:
        return False
    version = struct.unpack_from("<H", payload, len(payload) - 10)[0]
    if version > RDB_VERSION:
        return False
    if not check_crc:
        return True
    return struct.unpack_from("<Q", payload, len(payload) - 8)[0] == crc64(payload[:-8])


def restore_payload(payload: bytes, limits: Limits):
    """The value in a verified DUMP payload; RDBError when its data is malformed. Like Redis,
    the reader sees the whole payload, footer included, and ignores whatever follows the value."""
    r = Reader(payload)
    kind = r.byte()
    if kind > T_STREAM_LISTPACKS_2:  # a type Redis 7.0 does not know (rdbIsObjectType)
        raise RDBError(f"unknown RDB value type {kind}")
    value = decode_value(kind, r, limits)
    _check_non_empty(value)
    return value


def deep_checked_blobs(payload: bytes) -> int:
    """How many compact blobs of a DUMP payload redis-server deep-checks when it sanitizes
    payloads (INFO's dump_payload_sanitizations counts them): each packed quicklist node, an
    intset, a zset or hash listpack, each listpack node of a stream; 0 for other types.
    yizhan decodes every blob fully whatever sanitize-dump-payload says (a malformed one is
    refused either way); the parameter decides only what is counted."""
    r = Reader(payload)
    kind = r.byte()
    if kind in (T_SET_INTSET, T_ZSET_LISTPACK, T_HASH_LISTPACK):
        return 1
    if kind not in (T_LIST_QUICKLIST_2, T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
        return 0
    blobs = 0
    for _ in range(r.length()):
        if kind == T_LIST_QUICKLIST_2:
            blobs += r.length() == NODE_PACKED
        else:
            r.string()  # a stream node's master ID
            blobs += 1
        r.string()
    return blobs


# -- whole files ---------------------------------------------------------------------------
@dataclass
class Record:
    """One key read from an RDB file."""

    db: int
    key: bytes
    value: object
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None


@dataclass
class Snapshot:
    aux: dict[bytes, bytes] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    functions: list[bytes] = field(default_factory=list)  # each library's code, in file order


# -- function libraries --------------------------------------------------------------------------
def encode_functions(codes, compress: bool = True) -> bytes:
    """rdbSaveFunctions: one RDB_OPCODE_FUNCTION2 record (the library's code) per library."""
    return b"".join(bytes((OP_FUNCTION2,)) + encode_string(code, compress) for code in codes)


def read_function(kind: int, r: Reader) -> bytes:
    """The code of one function record (rdbFunctionLoad): FUNCTION2 holds it whole; the
    release candidates' FUNCTION holds name, engine, description and code, which become
    "#!<engine> name=<name>\n<code>" (the description is dropped)."""
    if kind == OP_FUNCTION2:
        return _function_field(r, "Failed loading library payload")
    name = _function_field(r, "Failed loading library name")
    engine = _function_field(r, "Failed loading engine name")
    try:
        has_description = r.length()
    except RDBError:
        raise RDBError("Failed loading library description indicator") from None
    if has_description:
        _function_field(r, "Failed loading library description")
    code = _function_field(r, "Failed loading library blob")
    return b"#!%s name=%s\n%s" % (engine, name, code)


def _function_field(r: Reader, failure: str) -> bytes:
    try:
        return r.string()
    except RDBError:
        raise RDBError(failure) from None


def dump_functions(codes, compress: bool = True) -> bytes:
    """FUNCTION DUMP's payload: the function records, the RDB version, CRC64 of all that."""
    payload = encode_functions(codes, compress) + struct.pack("<H", RDB_VERSION)
    return payload + struct.pack("<Q", crc64(payload))


def restore_functions(payload: bytes) -> list[bytes]:
    """The library codes of a verified FUNCTION DUMP payload, read as functionRestoreCommand
    reads them: records until only the 10-byte footer is left. RDBError with Redis's message
    ("can not read data type", "given type is not a function", "Failed loading ...")."""
    r = Reader(payload)
    codes = []
    while len(payload) - r.pos > 10:
        kind = r.byte()
        if kind not in (OP_FUNCTION, OP_FUNCTION2):
            raise RDBError("given type is not a function")
        codes.append(read_function(kind, r))
    return codes


def _aux(name: bytes, value: bytes) -> bytes:
    return bytes((OP_AUX,)) + encode_string(name) + encode_string(value)


def encode_header(now_s: int, used_mem: int = 0) -> bytes:
    """The magic and aux fields; `now_s` is the ctime field (the server clock's, in seconds)."""
    return (MAGIC + _aux(b"redis-ver", b"7.0.15") + _aux(b"redis-bits", b"64")
            + _aux(b"ctime", b"%d" % now_s) + _aux(b"used-mem", b"%d" % used_mem)
            + _aux(b"aof-base", b"0"))


def encode_db(index: int, items, sizes: tuple[int, int], compress: bool = True):
    """Yield the chunks of one database: SELECTDB, RESIZEDB (`sizes`: keys, keys with a TTL,
    a hint for the reader), then each (key, value, expire_ms or None[, (idle, freq)]) of
    `items`; idle (seconds) and freq (LFU counter) are written when not None."""
    yield bytes((OP_SELECTDB,)) + encode_length(index)
    yield bytes((OP_RESIZEDB,)) + encode_length(sizes[0]) + encode_length(sizes[1])
    for item in items:
        key, value, expire_ms = item[:3]
        kind, body = encode_value(value, compress)
        head = b"" if expire_ms is None else bytes((OP_EXPIRETIME_MS,)) + struct.pack("<q", expire_ms)
        if len(item) > 3:  # (idle seconds, LFU counter) under an LRU / LFU maxmemory-policy
            idle, freq = item[3]
            if idle is not None:
                head += bytes((OP_IDLE,)) + encode_length(idle)
            if freq is not None:
                head += bytes((OP_FREQ, freq))
        yield head + bytes((kind,)) + encode_string(key, compress) + body


def iter_file(dbs, now_s: int, compress: bool = True, functions=(), aux=()):
    """A complete RDB file, chunk by chunk, from (db index, items, sizes) triples in index order
    (see `encode_db`) after the function libraries' codes: memory stays bounded by one value,
    however large the dataset. `aux`: more (name, value) aux fields (a replication transfer's
    repl-stream-db, repl-id, repl-offset)."""
    crc = 0
    extra = b"".join(_aux(name, value) for name, value in aux)
    chunks = [encode_header(now_s) + extra + encode_functions(functions, compress)]
    for index, items, sizes in dbs:
        chunks = _chain(chunks, encode_db(index, items, sizes, compress))
    for chunk in _chain(chunks, [bytes((OP_EOF,))]):
        crc = crc64(chunk, crc)
        yield chunk
    yield struct.pack("<Q", crc)


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def encode_file(dbs: dict[int, list], now_s: int = 0, compress: bool = True,
                functions=()) -> bytes:
    """A complete RDB file of {db index: [(key, value, expire_ms or None), ...]} and the
    function libraries' codes."""
    triples = [(index, items, (len(items), sum(1 for *_, e in items if e is not None)))
               for index, items in sorted(dbs.items()) if items]
    return b"".join(iter_file(triples, now_s, compress, functions))


def decode_file(data: bytes, limits: Limits | None = None, check_crc: bool = True) -> Snapshot:
    """Every key of an RDB file (versions 1-12). Raises RDBError on anything malformed, and
    RDBUnsupported, before any key is installed, for a value yizhan cannot hold (in Redis 7.0's
    words for a type it does not know: "Unknown RDB encoding type N", then the key)."""
    limits = limits or Limits()
    if len(data) < 9 or data[:5] != b"REDIS" or not data[5:9].isdigit():
        raise RDBError("wrong signature (not an RDB file)")
    version = int(data[5:9])
    if not 1 <= version <= RDB_LOAD_VERSION:
        raise RDBError(f"can't handle RDB format version {version}")
    r = Reader(data, 9)
    snap = Snapshot()
    db = 0
    expire = idle = freq = None
    while True:
        kind = r.byte()
        if kind == OP_EOF:
            break
        if kind == OP_SELECTDB:
            db = r.length()
        elif kind == OP_RESIZEDB:
            r.length()
            r.length()
        elif kind == OP_SLOT_INFO and version >= 12:
            r.length()
            r.length()
            r.length()
        elif kind == OP_AUX:
            name = r.string()
            snap.aux[name] = r.string()
        elif kind == OP_EXPIRETIME_MS:
            expire = struct.unpack("<q", r.take(8))[0]
        elif kind == OP_EXPIRETIME:
            expire = struct.unpack("<i", r.take(4))[0] * 1000
        elif kind == OP_IDLE:
            idle = r.length()
        elif kind == OP_FREQ:
            freq = r.byte()
        elif kind in (OP_FUNCTION, OP_FUNCTION2):
            snap.functions.append(read_function(kind, r))
        elif kind == OP_MODULE_AUX:
            raise RDBUnsupported("the file holds module data, which yizhan does not support")
        else:
            key = r.string()
            value = _decode_keyed(kind, key, r, limits)
            _check_non_empty(value)
            snap.records.append(Record(db, key, value, expire, idle, freq))
            expire = idle = freq = None
    if version >= 5:
        end = r.pos
        stored = struct.unpack("<Q", r.take(8))[0]
        if check_crc and stored and stored != crc64(data[:end]):
            raise RDBError("RDB checksum mismatch")
    return snap

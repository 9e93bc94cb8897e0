"""What a key costs as redis-server 7.0 would count it: the bytes its allocator (jemalloc)
hands out for the key's sds string and the value object in the encoding Redis would use
(Redis's objectComputeSize and sdsZmallocSize), whatever yizhan holds in Python for them.

MEMORY USAGE answers `usage` (`key_bytes` + the main dict's entry). INFO used_memory and
maxmemory add up `key_bytes` of every key, kept up to date as keys are written: the keyspace
adds and subtracts a string key's bytes as it stores and removes it (`Database.dataset`) and
marks every other key it commits (`Database.touched`); `settle` costs the marked keys again
(listpacks from their lengths, no per-element walk) when the figure is read, before a command
under maxmemory, by INFO and MEMORY STATS, and at each cron tick. yizhan's own Python objects
are not what is counted: used_memory is meant to follow the data as Redis's does, so that
maxmemory, MEMORY USAGE and the INFO memory fields mean on yizhan what they mean on
redis-server for the same dataset.

The figures are Redis 7.0's struct sizes on 64-bit Linux (robj 16, dictEntry 24, dict 40,
quicklist 40, quicklistNode 40, a skiplist node 24 + 16 per level) and jemalloc's size
classes; listpacks and intsets are sized entry by entry as Redis lays them out. Large
hashtables, skiplists and streams are sized from up to `samples` elements (0: all), the
rest extrapolated, as Redis does.
"""

from __future__ import annotations

import math

from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.hll import Hll
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.packed import split
from yizhan.redis.types.sets import Set
from yizhan.redis.types.streams import Stream
from yizhan.redis.types.strings import ROBJ_BYTES as ROBJ, accounted_bytes, canonical_int, jemalloc, sds_bytes as sds, string_bytes
from yizhan.redis.types.zsets import ZSet

DICT_ENTRY = 24  # sizeof(dictEntry): what MEMORY USAGE and the overhead figures count
DICT_ENTRY_ALLOC = 32  # what jemalloc hands out for one (used_memory sees this)
DICT = 40
QUICKLIST = 40
QUICKLIST_NODE = 40
LISTPACK_EMPTY = 7  # header (6) + end byte
LISTPACK_NODE_LIMIT = 8192  # list-max-listpack-size -2: 8 kB nodes
ZSL_NODE = 24  # ele, score, backward; plus 16 bytes per level
ZSL_HEADER = ZSL_NODE + 32 * 16
ZSET_STRUCTS = 16 + 32  # zset (dict*, zsl*) and zskiplist
STREAM_STRUCT = 80
STREAM_PREALLOC = 4096
STREAM_CG = 40
STREAM_NACK = 24
STREAM_CONSUMER = 24
DEFAULT_SAMPLES = 5


def dict_slots(used: int) -> int:
    """Buckets of a Redis dict holding `used` entries (4 at least, doubled when full)."""
    return 4 if used <= 4 else 1 << (used - 1).bit_length()


def dict_overhead(used: int) -> int:
    """A dict's entries and bucket array, without the keys and values they point to."""
    return used * DICT_ENTRY + dict_slots(used) * 8 if used else 0


# -- listpacks and intsets -------------------------------------------------------------------
def _backlen(size: int) -> int:
    return 1 if size < 128 else 2 if size < 16384 else 3 if size < 2097152 else 4 if size < 268435456 else 5


def lp_entry(element: bytes) -> int:
    """Bytes of one listpack entry: an integer's encoding when the text is a canonical int64,
    else the string with its 1, 2 or 5 byte header, plus the back length."""
    n = len(element)
    if n <= 20 and element[:1] in b"-0123456789":
        number = canonical_int(element)
        if number is not None:
            if 0 <= number <= 127:
                size = 1
            elif -4096 <= number <= 4095:
                size = 2
            elif -32768 <= number <= 32767:
                size = 3
            elif -8388608 <= number <= 8388607:
                size = 4
            elif -2147483648 <= number <= 2147483647:
                size = 5
            else:
                size = 9
            return size + 1
    size = n + (1 if n < 64 else 2 if n < 4096 else 5)
    return size + _backlen(size)


def listpack_bytes(elements) -> int:
    return jemalloc(LISTPACK_EMPTY + sum(map(lp_entry, elements)))


def _score_element(score: float) -> bytes:
    """How a listpack zset stores a score: as an integer when it is one, else as d2string's
    text (%.17g; inf and -inf as such)."""
    if math.isfinite(score) and score == int(score) and abs(score) < 1 << 63:
        return b"%d" % int(score)
    return b"%.17g" % score


# -- the value types ---------------------------------------------------------------------------
def _sample(iterable, samples: int) -> list:
    out = []
    for item in iterable:
        out.append(item)
        if samples and len(out) >= samples:
            break
    return out


def _hashtable(count: int, per_element: float) -> int:
    return ROBJ + DICT + dict_slots(count) * 8 + int(per_element * count)


def _packed_bytes(blob: bytes, elements: int, exact: bool) -> int:
    """A listpack holding the elements of a packed blob: entry by entry when `exact`, else
    from the blob's length (each element's text and one marker, plus its back length: exact
    for strings under 64 bytes, a byte or two over for integers)."""
    if exact:
        return listpack_bytes(split(blob))
    return jemalloc(LISTPACK_EMPTY + len(blob) + elements)


def hash_bytes(value: Hash, samples: int, exact: bool = True) -> int:
    fields = value.fields
    if type(fields) is not dict:
        return ROBJ + _packed_bytes(fields.blob, 2 * len(fields), exact)
    picked = _sample(fields.items(), samples)
    if not picked:
        return ROBJ + DICT
    entry = DICT_ENTRY if exact else DICT_ENTRY_ALLOC
    per = sum(sds(len(f)) + sds(len(v)) + entry for f, v in picked) / len(picked)
    return _hashtable(len(fields), per)


def set_bytes(value: Set, samples: int, exact: bool = True) -> int:
    if value.hashed is None:
        return ROBJ + jemalloc(8 + len(value.ints) * value.ints.itemsize)
    picked = _sample(value.hashed, samples)
    if not picked:
        return ROBJ + DICT
    per = sum(sds(len(m)) for m in picked) / len(picked) + (DICT_ENTRY if exact else DICT_ENTRY_ALLOC)
    return _hashtable(len(value.hashed), per)


def zset_bytes(value: ZSet, samples: int, exact: bool = True) -> int:
    if value.blob is not None and not exact:
        return ROBJ + _packed_bytes(value.blob, 2 * len(value), False)
    if value.blob is not None:
        parts = split(value.blob)
        return ROBJ + jemalloc(LISTPACK_EMPTY + sum(
            lp_entry(member) + lp_entry(_score_element(float(score))) for member, score in zip(parts[::2], parts[1::2])))
    scores = value._scores
    picked = _sample(scores, samples)
    node = jemalloc(ZSL_NODE + 16) * 0.75 + jemalloc(ZSL_NODE + 32) * 0.1875 + jemalloc(ZSL_NODE + 48) * 0.0625
    base = ROBJ + ZSET_STRUCTS + DICT + dict_slots(len(scores)) * 8 + jemalloc(ZSL_HEADER)
    if not picked:
        return base
    per = sum(sds(len(m)) for m in picked) / len(picked) + (DICT_ENTRY if exact else DICT_ENTRY_ALLOC) + node
    return base + int(per * len(scores))


def list_bytes(value: RedisList) -> int:
    """A quicklist of 8 kB listpack nodes holding the elements (sized from the packed nodes:
    each element's text and its separator)."""
    length = value.length
    if not length:
        return ROBJ + QUICKLIST
    payload = sum(map(len, value.nodes)) - length  # element text (escapes counted, rare)
    entries = payload + 2 * length  # a short string's header and back length
    nodes = max(1, -(-entries // (LISTPACK_NODE_LIMIT - LISTPACK_EMPTY)))
    return ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + jemalloc(LISTPACK_EMPTY + entries // nodes))


def _rax_bytes(elements: int) -> int:
    """streamRadixTreeMemoryUsage: 16 bytes an ID, 244 a node (about one node per element
    and the head)."""
    return elements * 16 + (elements + 1) * (4 + 240) if elements else 0


def _stream_node_bytes(node) -> int:
    """A stream listpack: preallocated at 4 kB (STREAM_LISTPACK_MAX_PRE_ALLOCATE), its entries
    sized as Redis lays them out (flags, ID deltas, values, and the fields unless they are the
    master entry's)."""
    size = LISTPACK_EMPTY + 3 * 2 + sum(map(lp_entry, node.master_fields or ())) + 2
    for item in node.items:
        size += sum(map(lp_entry, item.fields)) + 4 * 2
    return max(STREAM_PREALLOC, jemalloc(size))


def stream_bytes(value: Stream, samples: int) -> int:
    """objectComputeSize of a stream: the rax of listpacks (the first `samples` nodes sized,
    the others taken at their mean, the last one sized), then each consumer group with its
    PEL and consumers."""
    nodes = value.nodes
    size = ROBJ + STREAM_STRUCT + _rax_bytes(len(nodes))
    picked = _sample(nodes, samples)
    if len(nodes) <= len(picked):
        size += sum(map(_stream_node_bytes, picked))
    elif picked:
        size += sum(map(_stream_node_bytes, picked)) // len(picked) * (len(nodes) - 1)
        size += _stream_node_bytes(nodes[-1])
    for group in value.groups.values():
        size += STREAM_CG + _rax_bytes(len(group.pel)) + STREAM_NACK * len(group.pel)
        for consumer in group.consumers.values():
            size += STREAM_CONSUMER + len(consumer.name) + _rax_bytes(len(consumer.pel))
    return size


def value_bytes(value, samples: int = DEFAULT_SAMPLES, exact: bool = True) -> int:
    """objectComputeSize: the value object in Redis's encoding for it. `exact`: as MEMORY USAGE
    answers (listpacks entry by entry, dict entries at sizeof); else as used_memory sees it
    (listpacks from their lengths, without a walk; dict entries at their allocated size)."""
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return string_bytes(value) if exact else accounted_bytes(value)
    if kind is Hash:
        return hash_bytes(value, samples, exact)
    if kind is Set:
        return set_bytes(value, samples, exact)
    if kind is ZSet:
        return zset_bytes(value, samples, exact)
    if kind is RedisList:
        return list_bytes(value)
    if kind is Hll:
        return ROBJ + sds(len(value.value()))
    if kind is Stream:
        return stream_bytes(value, samples)
    return ROBJ


def key_bytes(key: bytes, value, samples: int = DEFAULT_SAMPLES, exact: bool = True) -> int:
    """The key's sds and its value object (what the dataset holds for it, dict entry aside)."""
    return sds(len(key)) + value_bytes(value, samples, exact)


def usage(key: bytes, value, samples: int = DEFAULT_SAMPLES) -> int:
    """MEMORY USAGE: the key, its value and its entry in the main dict."""
    return key_bytes(key, value, samples) + DICT_ENTRY


def accounted(key: bytes, value) -> int:
    """What the running total counts for a key: `key_bytes` as used_memory sees it, a
    collection's in whole 8-byte units (it travels in the value as `mem_units`)."""
    if type(value) is bytes or type(value) is bytearray:
        return key_bytes(key, value, DEFAULT_SAMPLES, False)
    return key_bytes(key, value, DEFAULT_SAMPLES, False) // 8 * 8


def settle(db) -> int:
    """Bring `db.dataset` up to date with the keys written since the last call (see
    `Database.dataset`): each touched collection's count replaced by its cost now, a
    bytearray's likewise through `db.sized`. Strings held as bytes are counted by the keyspace
    as they are stored. Returns the database's dataset bytes."""
    touched = db.touched
    if touched:
        db.touched = set()
        sized, data = db.sized, db.data
        delta = 0
        for key in touched:
            old = sized.pop(key, None)
            if old is not None:
                delta -= old
            value = data.get(key)
            if value is None or type(value) is bytes:
                continue
            cost = key_bytes(key, value, DEFAULT_SAMPLES, False)
            if type(value) is bytearray:
                sized[key] = cost
                delta += cost
            else:
                units = cost // 8
                delta += (units - getattr(value, "mem_units", 0)) * 8
                value.mem_units = units
        db.dataset += delta
    return db.dataset


def db_overhead(db) -> tuple[int, int]:
    """overhead.hashtable.main and .expires of a database, as Redis 7.0 counts them: dict
    entries and bucket arrays, and the main dict's value object headers."""
    keys, expires = len(db.data), len(db.expires)
    return dict_overhead(keys) + keys * ROBJ, dict_overhead(expires)


def allocated_beyond_overhead(db) -> int:
    """What jemalloc adds to the overhead figures: a dict entry takes a 32-byte block, not 24."""
    return (len(db.data) + len(db.expires)) * (DICT_ENTRY_ALLOC - DICT_ENTRY)


def dataset_bytes(dbs) -> int:
    """used_memory_dataset's share of the databases: what the keys and values take beyond
    the overhead figures (the value headers are overhead, as in Redis)."""
    return sum(settle(db) - len(db.data) * ROBJ + allocated_beyond_overhead(db) for db in dbs)

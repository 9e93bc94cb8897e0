"""Direct paths for the hottest commands, each installed in front of the general handler it must
equal, and nowhere else.

A direct path serves only the common shape of its command (GET; SET key value; INCR, DECR,
INCRBY, DECRBY; MSET while nobody watches, waits or listens and no key has a TTL; ZADD key score
member on a live sorted set without TTL; LPUSH key element; LPOP key; SADD key member; HSET key
field value) and hands every other shape to the general handler in the command's own module.
It does what the general path does, with the same checks and errors in the same order and the
same effects (lazy expiry, access stamp, LFU hit, keyspace_hits/misses, and the commit: dirty
count, WATCH/blocking signal, keyspace event), with the calls of `Database.lookup_*` and
`Database.commit` written out where that pays (GET, SET, the INCR family) and the generic
parsing and loops skipped.

`FAST_PATHS` maps each command name to (direct, general); importing this module installs the
direct paths in the command table. tests/unit/test_keyspace_fast_paths.py runs every pair on the
same starting states and compares reply, keyspace, notifications, dirty count and hits/misses.
A direct path that cannot be kept equal cheaply is to be dropped, not patched.
"""

from __future__ import annotations

from typing import Callable

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, INT64_MIN, parse_int
from yizhan.redis.commands import hashes, lists, sets, strings, zsets
from yizhan.redis.floats import parse_double
from yizhan.redis.keyspace import HASH, LIST, SET, STRING, ZSET
from yizhan.redis.table import COMMANDS
from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.sets import Set
from yizhan.redis.types.strings import accounted_bytes, key_string_bytes
from yizhan.redis.types.zsets import Limits, ZSet
from yizhan.resp import OK, ErrorReply

FAST_PATHS: dict[str, tuple[Callable, Callable]] = {}


def _direct(name: str, general: Callable) -> Callable:
    """Register the decorated function as the direct path of command `name` (whose general
    handler is `general`) and install it in the command table."""
    def install(direct: Callable) -> Callable:
        FAST_PATHS[name] = (direct, general)
        COMMANDS[name.encode()].handler = direct
        return direct
    return install


# -- strings -----------------------------------------------------------------------------------
@_direct("get", strings.get)
def get(c, argv):
    key = argv[1]
    db = c.db  # db.lookup_read(key), written out
    value = db.data.get(key)
    if value is not None and db.expires:
        when = db.expires.get(key)
        if when is not None and when <= db.clock.ms() and db._lapsed(key, False):
            value = None
    if value is None:
        if db.stats is not None:
            db.stats.keyspace_misses += 1
        if db.on_keymiss is not None:
            db.on_keymiss(db, key)
        return None
    db.access[key] = db.clock.tick_ms
    if db.count_hits:
        hits = db.hits
        hits[key] = hits.get(key, 0) + 1
    if db.stats is not None:
        db.stats.keyspace_hits += 1
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    raise ErrorReply(errors.WRONGTYPE)


@_direct("set", strings.set_)
def set_(c, argv):
    if len(argv) != 3:
        return strings.set_(c, argv)
    key = argv[1]
    db = c.db  # db.lookup_write(key), db.store(key, value) and db.commit(key, STRING, "set")
    data = db.data
    value = argv[2]
    old = data.get(key)
    if old is not None:
        expires = db.expires
        if expires and (when := expires.get(key)) is not None and when <= db.clock.ms() and db._lapsed(key, True):
            old = None
        elif db.count_hits:  # the lookup's access stamp is overwritten by the store's
            hits = db.hits
            hits[key] = hits.get(key, 0) + 1
    # db.dataset: strings.accounted_bytes of the new value less the old one's, written out: the
    # same length costs the same
    if type(old) is bytes:
        if len(old) != len(value):
            db.dataset += accounted_bytes(value) - accounted_bytes(old)
    else:
        if old is None:
            if db.on_new is not None:
                db.on_new(db, key)
        else:
            db.forget(key, old)
            if db.on_lazy_overwrite is not None:  # an aggregate overwritten (lazyfree.py)
                db.on_lazy_overwrite(old)
        db.dataset += key_string_bytes(key, value)
    data[key] = value
    if db.expires:
        db.expires.pop(key, None)
    if db.encodings:
        db.encodings.pop(key, None)
    db.access[key] = db.clock.tick_ms
    if db.stats is not None:
        db.stats.dirty += 1
    if db.on_change is not None:
        db.on_change(db, key)
    if db.on_event is not None:
        db.on_event(db, STRING, "set", key)
    return OK


def _incr(c, key: bytes, delta: int) -> int:
    """strings._incr with db.write_string, db.store(keep_ttl) and db.commit written out."""
    db = c.db
    data = db.data
    value = data.get(key)
    if value is not None:
        expires = db.expires
        if expires and (when := expires.get(key)) is not None and when <= db.clock.ms() and db._lapsed(key, True):
            value = None
        else:
            db.access[key] = db.clock.tick_ms  # touched even when the command then fails
            if db.count_hits:
                hits = db.hits
                hits[key] = hits.get(key, 0) + 1
    if value is None:
        current = 0
    elif type(value) is bytes:
        n = len(value)  # parse_int's usual case written out: plain digits, in range
        if 0 < n < 19 and value.isdigit() and (value[0] != 48 or n == 1):
            current = int(value)
        else:
            current = parse_int(value)
    elif type(value) is bytearray:
        current = parse_int(bytes(value))
    else:
        raise ErrorReply(errors.WRONGTYPE)
    result = current + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise ErrorReply(errors.OVERFLOW)
    new = b"%d" % result
    if value is None:
        if db.on_new is not None:
            db.on_new(db, key)
        db.dataset += key_string_bytes(key, new)
    elif type(value) is not bytes:
        db.dataset += key_string_bytes(key, new)
        db.touched.add(key)
    elif len(new) != len(value):
        db.dataset += accounted_bytes(new) - accounted_bytes(value)
    data[key] = new
    if db.encodings:
        db.encodings.pop(key, None)
    if value is None:
        db.access[key] = db.clock.tick_ms
    if db.stats is not None:
        db.stats.dirty += 1
    if db.on_change is not None:
        db.on_change(db, key)
    if db.on_event is not None:
        db.on_event(db, STRING, "incrby", key)
    return result


@_direct("incr", strings.incr)
def incr(c, argv):
    return _incr(c, argv[1], 1)


@_direct("decr", strings.decr)
def decr(c, argv):
    return _incr(c, argv[1], -1)


@_direct("incrby", strings.incrby)
def incrby(c, argv):
    return _incr(c, argv[1], parse_int(argv[2]))


@_direct("decrby", strings.decrby)
def decrby(c, argv):
    delta = parse_int(argv[2])
    if delta == INT64_MIN:
        raise ErrorReply(errors.DECREMENT_OVERFLOW)
    return _incr(c, argv[1], -delta)


@_direct("mset", strings.mset)
def mset(c, argv):
    """With no TTL in the database (so no key to reclaim), no LFU counting and nobody
    watching, waiting or listening, each pair's lookup, store and commit reduce to dict updates
    and the dirty count."""
    db = c.db
    if (len(argv) % 2 == 0 or db.expires or db.count_hits or db.on_change is not None
            or db.on_event is not None):
        return strings.mset(c, argv)
    keys = argv[1::2]
    data = db.data
    cost = 0
    for key, value in zip(keys, argv[2::2]):  # a repeated key: the last value wins, as in sequence
        old = data.get(key)
        if type(old) is bytes:  # as in SET
            if len(old) != len(value):
                cost += accounted_bytes(value) - accounted_bytes(old)
        else:
            if old is not None:
                db.forget(key, old)
                if db.on_lazy_overwrite is not None:  # as in SET
                    db.on_lazy_overwrite(old)
            cost += key_string_bytes(key, value)
        data[key] = value
    db.dataset += cost
    if db.encodings:
        for key in keys:
            db.encodings.pop(key, None)
    db.access.update(dict.fromkeys(keys, db.clock.tick_ms))
    if db.stats is not None:
        db.stats.dirty += len(keys)
    return OK


# -- collections -------------------------------------------------------------------------------
@_direct("lpush", lists.lpush)
def lpush(c, argv):
    if len(argv) != 3:
        return lists.lpush(c, argv)
    db, key = c.db, argv[1]
    lst = db.lookup_write(key)
    if lst is None:
        lst = RedisList()
        lst.appendleft(argv[2])
        db.store(key, lst)
    elif type(lst) is RedisList:
        lst.appendleft(argv[2])
    else:
        raise ErrorReply(errors.WRONGTYPE)
    db.touched.add(key)  # db.commit(key, LIST, "lpush"), written out
    if db.stats is not None:
        db.stats.dirty += 1
    if db.on_change is not None:
        db.on_change(db, key)
    if db.on_event is not None:
        db.on_event(db, LIST, "lpush", key)
    return lst.length  # len(lst) without a Python-level __len__


@_direct("lpop", lists.lpop)
def lpop(c, argv):
    if len(argv) != 2:
        return lists.lpop(c, argv)
    db, key = c.db, argv[1]
    lst = db.data.get(key)  # db.lookup_write(key), written out
    if lst is None:
        return None
    expires = db.expires
    if expires and (when := expires.get(key)) is not None and when <= db.clock.ms() and db._lapsed(key, True):
        return None
    db.access[key] = db.clock.tick_ms
    if db.count_hits:
        hits = db.hits
        hits[key] = hits.get(key, 0) + 1
    if type(lst) is not RedisList:
        raise ErrorReply(errors.WRONGTYPE)
    reply = lst.popleft()
    if not lst.length:  # no Python-level __bool__
        db.commit(key, LIST, "lpop", 1, lst)
        return reply
    db.touched.add(key)  # db.commit(key, LIST, "lpop") of a list left non-empty, written out
    if db.stats is not None:
        db.stats.dirty += 1
    if db.on_change is not None:
        db.on_change(db, key)
    if db.on_event is not None:
        db.on_event(db, LIST, "lpop", key)
    return reply


@_direct("sadd", sets.sadd)
def sadd(c, argv):
    if len(argv) != 3:
        return sets.sadd(c, argv)
    db, key = c.db, argv[1]
    s = db.lookup_write(key)
    created = s is None
    if created:
        s = Set()
    elif type(s) is not Set:
        raise ErrorReply(errors.WRONGTYPE)
    if not s.add(argv[2], c.server.int_params.int("set-max-intset-entries")):
        return 0
    if created:
        db.store(key, s)
    db.commit(key, SET, "sadd")
    return 1


@_direct("hset", hashes.hset)
def hset(c, argv):
    if len(argv) != 4:
        return hashes.hset(c, argv)
    db, key = c.db, argv[1]
    h = db.lookup_write(key)
    if h is None:
        h = Hash()
        added = 1 if h.set(argv[2], argv[3], c.server.int_params) else 0
        db.store(key, h)
    elif type(h) is Hash:
        added = 1 if h.set(argv[2], argv[3], c.server.int_params) else 0
    else:
        raise ErrorReply(errors.WRONGTYPE)
    db.commit(key, HASH, "hset")
    return added


@_direct("zadd", zsets.zadd)
def zadd(c, argv):
    """ZADD key score member on a live sorted set without TTL; anything else (options, a new
    key, a key with a TTL) is the general path's."""
    if len(argv) != 4 or argv[2][:1].isalpha():
        return zsets.zadd(c, argv)
    db, key = c.db, argv[1]
    zs = db.data.get(key)
    if type(zs) is not ZSet or (db.expires and key in db.expires):
        return zsets.zadd(c, argv)
    raw = argv[2]
    score = float(raw) if len(raw) <= 20 and raw.isdigit() else parse_double(raw)
    db.access[key] = db.clock.tick_ms  # db.write_typed(key, ZSet)'s bookkeeping, written out
    if db.count_hits:
        hits = db.hits
        hits[key] = hits.get(key, 0) + 1
    member = argv[3]
    current = zs.score(member)
    if current is None:
        Limits(c.server.int_params).make_room(zs, member)
        zs.insert(member, score)
    elif score != current:
        zs.rescore(member, current, score)
    else:
        return 0
    db.commit(key, ZSET, "zadd")
    return 1 if current is None else 0

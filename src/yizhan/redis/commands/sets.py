"""Set commands (SADD ... SSCAN) over the `Set` value type of types/sets.py (intset or
hashtable, as Redis 7.0).

SUNION, SDIFF, their STORE forms and SPOP of the whole set build a fresh set as Redis does
(starting as an intset), so their results are intsets, listed in order, whenever they can be.
SINTER lists the members in the order of the smallest set it walks.
"""

from __future__ import annotations

import random

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.commands.hashes import (distinct_random, parse_random_count,
                                          parse_scan_options)
from yizhan.redis.commands.keys import parse_cursor
from yizhan.redis.glob import match
from yizhan.redis.keyspace import GENERIC, SET
from yizhan.redis.table import command
from yizhan.redis.types.sets import Set
from yizhan.resp import ErrorReply, ReplySet


def _get_set(c, key: bytes) -> Set | None:
    return c.db.read_typed(key, Set)


def _set_for_write(c, key: bytes) -> Set | None:
    """The set at `key` for SREM and SPOP (lookupKeyWrite)."""
    return c.db.write_typed(key, Set)


def _max_intset(c) -> int:
    return c.server.int_params.int("set-max-intset-entries")


# -- single-set commands -------------------------------------------------------------------------
@command("SADD key member [member ...]", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
         group="set", summary="Add one or more members to a set",
         complexity="O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.",
         key_specs="RW insert index:1")
def sadd(c, argv):
    key = argv[1]
    s = c.db.write_typed(key, Set)
    created = s is None
    if created:
        s = Set()
    added = s.add_all(argv[2:], _max_intset(c))
    if created:
        c.db.store(key, s)
    if added:
        c.db.commit(key, SET, "sadd", added)  # one change per member added, as Redis counts them
    return added


@command("SREM key member [member ...]", arity=-3, flags="write fast", keys=(1, 1, 1), group="set",
         summary="Remove one or more members from a set",
         complexity="O(N) where N is the number of members to be removed.",
         key_specs="RW delete index:1")
def srem(c, argv):
    key = argv[1]
    s = _set_for_write(c, key)
    if s is None:
        return 0
    removed = 0
    for member in argv[2:]:
        removed += s.discard(member)
        if not len(s):
            break
    if removed:
        c.db.commit(key, SET, "srem", removed, s)
    return removed


@command("SCARD key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="set",
         summary="Get the number of members in a set",
         key_specs="RO index:1")
def scard(c, argv):
    s = _get_set(c, argv[1])
    return 0 if s is None else len(s)


@command("SISMEMBER key member", arity=3, flags="readonly fast", keys=(1, 1, 1), group="set",
         summary="Determine if a given value is a member of a set",
         key_specs="RO index:1")
def sismember(c, argv):
    s = _get_set(c, argv[1])
    return int(s is not None and argv[2] in s)


@command("SMISMEMBER key member [member ...]", arity=-3, flags="readonly fast", keys=(1, 1, 1),
         group="set", since="6.2.0",
         summary="Returns the membership associated with the given elements for a set",
         complexity="O(N) where N is the number of elements being checked for membership")
def smismember(c, argv):
    s = _get_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [int(member in s) for member in argv[2:]]


@command("SMEMBERS key", arity=2, flags="readonly", keys=(1, 1, 1), group="set",
         summary="Get all the members in a set", complexity="O(N) where N is the set cardinality.",
         tips="nondeterministic_output_order")
def smembers(c, argv):
    s = _get_set(c, argv[1])
    return ReplySet() if s is None else ReplySet(s)


@command("SRANDMEMBER key [count]", arity=-2, flags="readonly", keys=(1, 1, 1), group="set",
         summary="Get one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value "
                    "of the passed count.", tips="nondeterministic_output")
def srandmember(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.SYNTAX)
    if len(argv) == 2:
        s = _get_set(c, argv[1])
        return None if s is None else s.random_member()
    count = parse_random_count(argv[2])
    s = _get_set(c, argv[1])
    if s is None or count == 0:
        return []
    size = len(s)
    if count < 0:
        if s.is_intset:
            return [b"%d" % n for n in random.choices(s.ints, k=-count)]
        return random.choices(s.members.items, k=-count)
    if count >= size:
        return list(s)
    return distinct_random(size, count, s.random_member, lambda: list(s))


@command("SPOP key [count]", arity=-2, flags="write fast", keys=(1, 1, 1), group="set",
         summary="Remove and return one or multiple random members from a set",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value of the "
                    "passed count.", tips="nondeterministic_output",
         key_specs="RW access delete index:1")
def spop(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.SYNTAX)
    key = argv[1]
    if len(argv) == 2:
        s = _set_for_write(c, key)
        if s is None:
            return None
        member = s.pop_random()
        c.db.commit(key, SET, "spop", 1, s)
        return member
    count = parse_int(argv[2], errors.MUST_BE_POSITIVE)
    if count < 0:
        raise ErrorReply(errors.MUST_BE_POSITIVE)
    s = _set_for_write(c, key)
    if s is None or count == 0:
        return ReplySet()
    size = len(s)
    if count >= size:  # the whole set, listed as a fresh union of it (SUNION's read lookup)
        popped = ReplySet(Set.build(c.db.read_typed(key, Set), _max_intset(c)))
        c.db.remove(key)
        c.db.commit(key, SET, "spop", size)
        c.db.commit(key, GENERIC, "del", 0)
        return popped
    remaining = size - count
    if remaining * 5 > count:
        popped = _pop_many(s, count)
    else:  # Redis moves a few random members to a new set and hands over the old one
        kept = _pop_many(s, remaining)
        popped = list(s)
        c.db.store(key, Set.build(kept, _max_intset(c)), keep_ttl=True)
    c.db.commit(key, SET, "spop", count)
    return ReplySet(popped)


def _pop_many(s: Set, count: int) -> list[bytes]:
    """Remove `count` (< len) members at random and return them."""
    if s.is_intset:
        ints = s.ints
        picks = random.sample(range(len(ints)), count)
        chosen = set(picks)
        s.keep_ints(n for i, n in enumerate(ints) if i not in chosen)
        return [b"%d" % ints[i] for i in picks]
    return [s.pop_random() for _ in range(count)]


@command("SMOVE source destination member", arity=4, flags="write fast", keys=(1, 2, 1),
         group="set", summary="Move a member from one set to another",
         key_specs="RW access delete index:1; RW insert index:2")
def smove(c, argv):
    db, src_key, dst_key, member = c.db, argv[1], argv[2], argv[3]
    src, dst = db.lookup_write(src_key), db.lookup_write(dst_key)
    if src is None:
        return 0
    if type(src) is not Set or (dst is not None and type(dst) is not Set):
        raise ErrorReply(errors.WRONGTYPE)
    if src is dst:
        return int(member in src)
    if not src.discard(member):
        return 0
    db.commit(src_key, SET, "srem", 1, src)
    if dst is None:
        dst = Set()
        db.store(dst_key, dst)
    if dst.add(member, _max_intset(c)):
        db.commit(dst_key, SET, "sadd")
    return 1


# -- set algebra -------------------------------------------------------------------------------
def _sets_of(c, keys: list[bytes]) -> list[Set | None]:
    """Every key's set (None when missing), type-checked before anything is computed."""
    get = c.db.read_typed
    return [get(key, Set) for key in keys]


def _intersection(sets: list[Set], limit: int = 0):
    """Members of the intersection, in the order of the smallest set (stable for ties, as
    Redis's qsort leaves them); stops after `limit` members when limit > 0."""
    ordered = sorted(sets, key=len)
    first = ordered[0]
    others = [s for s in ordered[1:] if s is not first]
    found = 0
    if first.is_intset:
        for n in first.ints:
            if all(other.has_int(n) for other in others):
                yield b"%d" % n
                found += 1
                if found == limit:
                    return
    else:
        for member in first:
            if all(member in other for other in others):
                yield member
                found += 1
                if found == limit:
                    return


def _store(c, dst_key: bytes, result: Set, event: str) -> int:
    """Store a STORE command's result at `dst_key` (deleting it when the result is empty)."""
    if len(result):
        c.db.store(dst_key, result)
        c.db.commit(dst_key, SET, event)
        return len(result)
    if c.db.remove(dst_key):
        c.db.commit(dst_key, GENERIC, "del")
    return 0


def _sinter(c, keys: list[bytes], dst_key: bytes | None):
    sets = _sets_of(c, keys)
    if any(s is None for s in sets):
        return ReplySet() if dst_key is None else _store(c, dst_key, Set(), "sinterstore")
    if dst_key is None:
        return ReplySet(_intersection(sets))
    return _store(c, dst_key, Set.build(_intersection(sets), _max_intset(c)), "sinterstore")


def _sunion_diff(c, keys: list[bytes], dst_key: bytes | None, diff: bool):
    sets = _sets_of(c, keys)
    max_intset = _max_intset(c)
    if not diff:
        result = Set()
        for s in sets:
            if s is not None:
                for member in s:
                    result.add(member, max_intset)
    elif sets[0] is None:
        result = Set()
    else:
        first = sets[0]
        others = [s for s in sets[1:] if s is not None]
        result = Set.build((m for m in first if not any(m in other for other in others)), max_intset)
    if dst_key is None:
        return ReplySet(result)
    return _store(c, dst_key, result, "sdiffstore" if diff else "sunionstore")


_ALGEBRA = dict(flags="readonly", keys=(1, -1, 1), group="set", tips="nondeterministic_output_order")
_STORE = dict(flags="write denyoom", keys=(1, -1, 1), group="set")


@command("SINTER key [key ...]", arity=-2, **_ALGEBRA, summary="Intersect multiple sets",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.")
def sinter(c, argv):
    return _sinter(c, argv[1:], None)


@command("SINTERSTORE destination key [key ...]", arity=-3, **_STORE,
         summary="Intersect multiple sets and store the resulting set in a key",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.",
         key_specs="RW update index:1; RO access index:2 range:-1:1:0")
def sinterstore(c, argv):
    return _sinter(c, argv[2:], argv[1])


@command("SINTERCARD numkeys key [key ...] [LIMIT limit]", arity=-3, flags="readonly movablekeys",
         group="set", since="7.0.0",
         summary="Intersect multiple sets and return the cardinality of the result",
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                    "number of sets.",
         key_specs="RO access index:1 keynum:0:1:1")
def sintercard(c, argv):
    numkeys = parse_int(argv[1], errors.NUMKEYS_NOT_POSITIVE)
    if numkeys < 1:
        raise ErrorReply(errors.NUMKEYS_NOT_POSITIVE)
    if numkeys > len(argv) - 2:
        raise ErrorReply(errors.NUMKEYS_TOO_MANY)
    limit, i = 0, 2 + numkeys
    while i < len(argv):
        if option_word(argv[i]) == b"LIMIT" and i + 1 < len(argv):
            limit = parse_int(argv[i + 1], errors.LIMIT_NEGATIVE)
            if limit < 0:
                raise ErrorReply(errors.LIMIT_NEGATIVE)
            i += 2
        else:
            raise ErrorReply(errors.SYNTAX)
    sets = _sets_of(c, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    return sum(1 for _ in _intersection(sets, limit))


@command("SUNION key [key ...]", arity=-2, **_ALGEBRA, summary="Add multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.")
def sunion(c, argv):
    return _sunion_diff(c, argv[1:], None, diff=False)


@command("SUNIONSTORE destination key [key ...]", arity=-3, **_STORE,
         summary="Add multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         key_specs="OW update index:1; RO access index:2 range:-1:1:0")
def sunionstore(c, argv):
    return _sunion_diff(c, argv[2:], argv[1], diff=False)


@command("SDIFF key [key ...]", arity=-2, **_ALGEBRA, summary="Subtract multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.")
def sdiff(c, argv):
    return _sunion_diff(c, argv[1:], None, diff=True)


@command("SDIFFSTORE destination key [key ...]", arity=-3, **_STORE,
         summary="Subtract multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         key_specs="OW update index:1; RO access index:2 range:-1:1:0")
def sdiffstore(c, argv):
    return _sunion_diff(c, argv[2:], argv[1], diff=True)


# -- scanning ------------------------------------------------------------------------------------
@command("SSCAN key cursor [MATCH pattern] [COUNT count]", arity=-3, flags="readonly",
         keys=(1, 1, 1), group="set", since="2.8.0", summary="Incrementally iterate Set elements",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside "
                    "the collection..", tips="nondeterministic_output")
def sscan(c, argv):
    cursor = parse_cursor(argv[2])
    s = _get_set(c, argv[1])
    if s is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    if s.is_intset:
        found = list(s)
        cursor = 0
    else:
        cursor, found = s.members.scan(cursor, count)
    if pattern is not None:
        found = [m for m in found if match(pattern, m)]
    return [b"%d" % cursor, found]

"""Hash commands (HSET ... HSCAN) over the `Hash` value type of types/hashes.py. A listpack
hash is scanned in one HSCAN call (cursor 0, COUNT ignored); a hashtable hash through its
`Pool`.

Also here, shared with sets.py: SCAN-family option parsing, and the count argument and random
picks of HRANDFIELD / SRANDMEMBER.
"""

from __future__ import annotations

import random
from typing import Callable

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, INT64_MIN, option_word, parse_int
from yizhan.redis.commands.keys import parse_cursor
from yizhan.redis.floats import add_long_double, format_long_double_human, parse_long_double
from yizhan.redis.glob import match
from yizhan.redis.keyspace import HASH
from yizhan.redis.table import command
from yizhan.redis.types.hashes import Hash
from yizhan.resp import OK, ErrorReply


# -- helpers shared with sets.py ---------------------------------------------------------------
def parse_scan_options(argv: list[bytes], start: int) -> tuple[int, bytes | None]:
    """COUNT and MATCH of HSCAN/SSCAN (Redis's scanGenericCommand): (count, pattern or None)."""
    count, pattern = 10, None
    i = start
    while i < len(argv):
        option = option_word(argv[i])
        if option == b"COUNT" and len(argv) - i >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise ErrorReply(errors.SYNTAX)
        elif option == b"MATCH" and len(argv) - i >= 2:
            pattern = argv[i + 1] if argv[i + 1] != b"*" else None
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 2
    return count, pattern


def parse_random_count(raw: bytes) -> int:
    """The count of HRANDFIELD/SRANDMEMBER: an integer in [-LONG_MAX, LONG_MAX]."""
    count = parse_int(raw)
    if count == INT64_MIN:
        raise ErrorReply(errors.LONG_RANGE)
    return count


def distinct_random(size: int, count: int, pick: Callable, everything: Callable, rng=random) -> list:
    """`count` (< size) distinct elements at random: from a full listing when they are many
    (Redis's case 3), else by picking at random until enough are found (its case 4)."""
    if count * 3 > size:
        return rng.sample(everything(), count)
    chosen: dict = {}
    while len(chosen) < count:
        chosen[pick()] = None
    return list(chosen)


# -- reading -------------------------------------------------------------------------------------
def _get_hash(c, key: bytes) -> Hash | None:
    return c.db.read_typed(key, Hash)


def _hash_for_delete(c, key: bytes) -> Hash | None:
    """The hash at `key` for HDEL (lookupKeyWrite)."""
    return c.db.write_typed(key, Hash)


@command("HGET key field", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Get the value of a hash field")
def hget(c, argv):
    h = _get_hash(c, argv[1])
    return None if h is None else h.fields.get(argv[2])


@command("HMGET key field [field ...]", arity=-3, flags="readonly fast", keys=(1, 1, 1),
         group="hash", since="2.0.0", summary="Get the values of all the given hash fields",
         complexity="O(N) where N is the number of fields being requested.")
def hmget(c, argv):
    h = _get_hash(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.fields.get
    return [get(field) for field in argv[2:]]


@command("HLEN key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get the number of fields in a hash",
         key_specs="RO index:1")
def hlen(c, argv):
    h = _get_hash(c, argv[1])
    return 0 if h is None else len(h.fields)


@command("HSTRLEN key field", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="3.2.0", summary="Get the length of the value of a hash field",
         key_specs="RO index:1")
def hstrlen(c, argv):
    h = _get_hash(c, argv[1])
    value = None if h is None else h.fields.get(argv[2])
    return 0 if value is None else len(value)


@command("HEXISTS key field", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Determine if a hash field exists",
         key_specs="RO index:1")
def hexists(c, argv):
    h = _get_hash(c, argv[1])
    return int(h is not None and argv[2] in h.fields)


@command("HKEYS key", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the fields in a hash", complexity="O(N) where N is the size of the hash.",
         tips="nondeterministic_output_order")
def hkeys(c, argv):
    h = _get_hash(c, argv[1])
    return [] if h is None else list(h.fields)


@command("HVALS key", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the values in a hash", complexity="O(N) where N is the size of the hash.",
         tips="nondeterministic_output_order")
def hvals(c, argv):
    h = _get_hash(c, argv[1])
    return [] if h is None else list(h.fields.values())


@command("HGETALL key", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Get all the fields and values in a hash",
         complexity="O(N) where N is the size of the hash.", tips="nondeterministic_output_order")
def hgetall(c, argv):
    h = _get_hash(c, argv[1])
    return {} if h is None else dict(h.fields)


# -- writing -------------------------------------------------------------------------------------
def _hash_for_write(c, key: bytes) -> tuple[Hash, bool]:
    """The hash at `key`, or a new empty one (not stored yet): (hash, created)."""
    h = c.db.write_typed(key, Hash)
    return (Hash(), True) if h is None else (h, False)


def _store(c, key: bytes, h: Hash, created: bool, event: str, dirty: int = 1) -> None:
    if created:
        c.db.store(key, h)
    c.db.commit(key, HASH, event, dirty)


def _hset_pairs(c, argv, name: str) -> int:
    if len(argv) % 2:
        raise ErrorReply(errors.wrong_arity(name))
    key = argv[1]
    h, created = _hash_for_write(c, key)
    params = c.server.int_params
    added = 0
    for i in range(2, len(argv), 2):
        added += h.set(argv[i], argv[i + 1], params)
    _store(c, key, h, created, "hset", (len(argv) - 2) // 2)  # one change per pair set
    return added


@command("HSET key field value [field value ...]", arity=-4, flags="write denyoom fast",
         keys=(1, 1, 1), group="hash", since="2.0.0", summary="Set the string value of a hash field",
         complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when "
                    "the command is called with multiple field/value pairs.")
def hset(c, argv):
    return _hset_pairs(c, argv, "hset")


@command("HMSET key field value [field value ...]", arity=-4, flags="write denyoom fast",
         keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Set multiple hash fields to multiple values",
         complexity="O(N) where N is the number of fields being set.")
def hmset(c, argv):
    _hset_pairs(c, argv, "hmset")
    return OK


@command("HSETNX key field value", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
         group="hash", since="2.0.0",
         summary="Set the value of a hash field, only if the field does not exist",
         key_specs="RW insert index:1")
def hsetnx(c, argv):
    key, field = argv[1], argv[2]
    h, created = _hash_for_write(c, key)
    if field in h.fields:
        return 0
    h.set(field, argv[3], c.server.int_params)
    _store(c, key, h, created, "hset")
    return 1


@command("HDEL key field [field ...]", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash",
         since="2.0.0", summary="Delete one or more hash fields",
         complexity="O(N) where N is the number of fields to be removed.",
         key_specs="RW delete index:1")
def hdel(c, argv):
    key = argv[1]
    h = _hash_for_delete(c, key)
    if h is None:
        return 0
    deleted = 0
    for field in argv[2:]:
        deleted += h.delete(field)
    if deleted:
        c.db.commit(key, HASH, "hdel", deleted, h)
    return deleted


@command("HINCRBY key field increment", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
         group="hash", since="2.0.0",
         summary="Increment the integer value of a hash field by the given number",
         key_specs="RW access update index:1")
def hincrby(c, argv):
    increment = parse_int(argv[3])
    key, field = argv[1], argv[2]
    h, created = _hash_for_write(c, key)
    current = h.fields.get(field)
    value = 0 if current is None else parse_int(current, errors.HASH_NOT_INTEGER)
    if ((increment < 0 and value < 0 and increment < INT64_MIN - value)
            or (increment > 0 and value > 0 and increment > INT64_MAX - value)):
        raise ErrorReply(errors.OVERFLOW)
    value += increment
    h.set(field, b"%d" % value, c.server.int_params)
    _store(c, key, h, created, "hincrby")
    return value


@command("HINCRBYFLOAT key field increment", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
         group="hash", since="2.6.0",
         summary="Increment the float value of a hash field by the given amount",
         key_specs="RW access update index:1")
def hincrbyfloat(c, argv):
    increment = parse_long_double(argv[3])
    if isinstance(increment, str):  # an infinity
        raise ErrorReply(errors.INCR_NAN_OR_INFINITY)
    key, field = argv[1], argv[2]
    h, created = _hash_for_write(c, key)
    current = h.fields.get(field)
    if current is None:
        value = (0, 0)
    else:
        try:
            value = parse_long_double(current)
        except ErrorReply:
            raise ErrorReply(errors.HASH_NOT_FLOAT) from None
    text = format_long_double_human(add_long_double(value, increment))
    h.set(field, text, c.server.int_params)
    _store(c, key, h, created, "hincrbyfloat")
    return text


# -- random fields and scanning ------------------------------------------------------------------
@command("HRANDFIELD key [count [WITHVALUES]]", arity=-2, flags="readonly", keys=(1, 1, 1),
         group="hash", since="6.2.0", summary="Get one or multiple random fields from a hash",
         complexity="O(N) where N is the number of fields returned", tips="nondeterministic_output")
def hrandfield(c, argv):
    if len(argv) < 3:
        h = _get_hash(c, argv[1])
        return None if h is None else h.random_field()
    count = parse_random_count(argv[2])
    if len(argv) > 4 or (len(argv) == 4 and option_word(argv[3]) != b"WITHVALUES"):
        raise ErrorReply(errors.SYNTAX)
    with_values = len(argv) == 4
    if with_values and not -(INT64_MAX // 2) <= count <= INT64_MAX // 2:
        raise ErrorReply(errors.VALUE_OUT_OF_RANGE)
    h = _get_hash(c, argv[1])
    if h is None or count == 0:
        return []
    fields = h.fields
    if count < 0:
        names = h.field_pool().items if h.hashtable else list(fields)
        picks = random.choices(names, k=-count)
    elif count >= len(fields):
        picks = list(fields)
    else:
        picks = distinct_random(len(fields), count, h.random_field, lambda: list(fields))
    if not with_values:
        return picks
    if c.proto == 3:
        return [[field, fields[field]] for field in picks]
    return [item for field in picks for item in (field, fields[field])]


@command("HSCAN key cursor [MATCH pattern] [COUNT count]", arity=-3, flags="readonly",
         keys=(1, 1, 1), group="hash", since="2.8.0",
         summary="Incrementally iterate hash fields and associated values",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside "
                    "the collection..", tips="nondeterministic_output")
def hscan(c, argv):
    cursor = parse_cursor(argv[2])
    h = _get_hash(c, argv[1])
    if h is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    fields = h.fields
    if not h.hashtable:
        pairs = list(fields.items())
        cursor = 0
    else:
        cursor, found = h.field_pool().scan(cursor, count, weight=2)
        pairs = [(field, fields[field]) for field in found]
    if pattern is not None:
        pairs = [(f, v) for f, v in pairs if match(pattern, f)]
    return [b"%d" % cursor, [item for pair in pairs for item in pair]]


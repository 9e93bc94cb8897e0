"""Generic key commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX,
MOVE, COPY, TOUCH, OBJECT, and expiry (EXPIRE family, TTL family, PERSIST), as Redis 7.0 does them.

Lookups mirror Redis's: commands that look a key up for reading or writing touch it (LRU time,
LFU hit); EXISTS, TYPE, TTL, OBJECT and SCAN's TYPE filter look without touching.
"""

from __future__ import annotations

from yizhan.redis import errors, lazyfree
from yizhan.redis.args import INT64_MAX, option_word, parse_int
from yizhan.redis.glob import match
from yizhan.redis.keyspace import ENCODINGS, GENERIC, TYPE_NAMES, copy_value
from yizhan.redis.table import command, container, help_reply
from yizhan.redis.types.strings import (SHARED_INTEGERS, SHARED_REFCOUNT, canonical_int,
                                         string_encoding)
from yizhan.resp import OK, ErrorReply, Simple

_UINT64_MAX = (1 << 64) - 1
_C_SPACE = b" \t\n\v\f\r"


def _delete_keys(c, keys, lazy: bool) -> int:
    """DEL and UNLINK; a `lazy` deletion counts in INFO's lazyfreed_objects (lazyfree.py)."""
    db, deleted = c.db, 0
    for key in keys:
        value = db.data.get(key) if lazy else None
        if db.remove(key):
            if value is not None:
                lazyfree.freed(c.server.stats, value)
            db.commit(key, GENERIC, "del")
            deleted += 1
    return deleted


# -- existence, deletion, type ---------------------------------------------------------------
@command("DEL key [key ...]", arity=-2, flags="write", keys=(1, -1, 1), group="generic",
         summary="Delete a key", tips="request_policy:multi_shard response_policy:agg_sum",
         complexity="O(N) where N is the number of keys that will be removed. When a key to remove "
                    "holds a value other than a string, the individual complexity for this key is O(M) "
                    "where M is the number of elements in the list, set, sorted set or hash. Removing a "
                    "single key that holds a string value is O(1).",
         key_specs="RM delete index:1 range:-1:1:0")
def del_(c, argv):
    return _delete_keys(c, argv[1:], lazyfree.deleting_lazily(c.server.params, "user-del"))


@command("UNLINK key [key ...]", arity=-2, flags="write fast", keys=(1, -1, 1), group="generic",
         since="4.0.0", summary="Delete a key asynchronously in another thread. Otherwise it is "
         "just as DEL, but non blocking.", tips="request_policy:multi_shard response_policy:agg_sum",
         complexity="O(1) for each key removed regardless of its size. Then the command does O(N) work "
                    "in a different thread in order to reclaim memory, where N is the number of "
                    "allocations the deleted objects where composed of.",
         key_specs="RM delete index:1 range:-1:1:0")
def unlink(c, argv):
    return _delete_keys(c, argv[1:], True)


@command("EXISTS key [key ...]", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         summary="Determine if a key exists", tips="request_policy:multi_shard response_policy:agg_sum",
         complexity="O(N) where N is the number of keys to check.",
         key_specs="RO index:1 range:-1:1:0")
def exists(c, argv):
    get = c.db.lookup_read
    return sum(get(key, False) is not None for key in argv[1:])


@command("TOUCH key [key ...]", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         since="3.2.1", summary="Alters the last access time of a key(s). Returns the number of "
         "existing keys specified.", tips="request_policy:multi_shard response_policy:agg_sum",
         complexity="O(N) where N is the number of keys that will be touched.",
         key_specs="RO index:1 range:-1:1:0")
def touch(c, argv):
    get = c.db.lookup_read
    return sum(get(key) is not None for key in argv[1:])


@command("TYPE key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Determine the type stored at key",
         key_specs="RO index:1")
def type_(c, argv):
    return Simple(_type_of(c.db.lookup_read(argv[1], touch=False)))


def _type_of(value) -> str:
    return "none" if value is None else TYPE_NAMES.get(type(value), "unknown")


# -- iteration -------------------------------------------------------------------------------
@command("KEYS pattern", arity=2, flags="readonly", group="generic",
         summary="Find all keys matching the given pattern", acl="keyspace read slow dangerous",
         tips="request_policy:all_shards nondeterministic_output_order",
         complexity="O(N) with N being the number of keys in the database, under the assumption that "
                    "the key names in the database and the given pattern have limited length.")
def keys(c, argv):
    db, pattern = c.db, argv[1]
    everything = pattern == b"*"
    expires = db.expires
    now = db.clock.ms()
    return [key for key in db.data
            if (everything or match(pattern, key))
            and not (expires and expires.get(key, now + 1) <= now)]


def parse_cursor(raw: bytes) -> int:
    """A SCAN cursor as Redis reads it with strtoul: an optional sign, decimal digits, nothing
    after them (the C string ends at a NUL byte), no leading space, at most 2**64-1; "-n" wraps."""
    if raw[:1] and raw[0] in _C_SPACE:
        raise ErrorReply(errors.INVALID_CURSOR)
    text = raw.split(b"\0", 1)[0]
    sign = text[:1]
    digits = text[1:] if sign in (b"+", b"-") else text
    if not digits:
        if text:  # nothing converted: strtoul's end pointer stays on the sign
            raise ErrorReply(errors.INVALID_CURSOR)
        return 0
    if not digits.isdigit():
        raise ErrorReply(errors.INVALID_CURSOR)
    value = int(digits)
    if value > _UINT64_MAX:
        raise ErrorReply(errors.INVALID_CURSOR)
    return (-value) & _UINT64_MAX if sign == b"-" else value


@command("SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]", arity=-2, flags="readonly",
         group="generic", since="2.8.0", summary="Incrementally iterate the keys space",
         tips="nondeterministic_output request_policy:special",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
                    "calls for the cursor to return back to 0. N is the number of elements inside "
                    "the collection.")
def scan(c, argv):
    cursor = parse_cursor(argv[1])
    count, pattern, type_filter = 10, None, None
    i = 2
    while i < len(argv):
        option = option_word(argv[i])
        if option == b"COUNT" and len(argv) - i >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise ErrorReply(errors.SYNTAX)
        elif option == b"MATCH" and len(argv) - i >= 2:
            pattern = argv[i + 1] if argv[i + 1] != b"*" else None
        elif option == b"TYPE" and len(argv) - i >= 2:
            type_filter = option_word(argv[i + 1])
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 2
    db = c.db
    cursor, found = db.scan(cursor, count)
    return [b"%d" % cursor, [key for key in found if _scan_keeps(db, key, pattern, type_filter)]]


def _scan_keeps(db, key: bytes, pattern: bytes | None, type_filter: bytes | None) -> bool:
    """Redis's SCAN filters, in its order: pattern, type (a lookup, which reclaims an expired
    key and calls it "none"), then expiry."""
    if pattern is not None and not match(pattern, key):
        return False
    if type_filter is not None and type_filter != _type_of(db.lookup_read(key, touch=False)).encode().upper():
        return False
    if db.is_expired(key):
        db.contains(key)  # reclaims it
        return False
    return True


@command("RANDOMKEY", arity=1, flags="readonly", group="generic",
         summary="Return a random key from the keyspace",
         tips="request_policy:all_shards nondeterministic_output")
def randomkey(c, argv):
    return c.db.random_key()


# -- renaming, moving, copying ---------------------------------------------------------------
def _rename(c, argv, nx: bool):
    db, source, target = c.db, argv[1], argv[2]
    if db.lookup_write(source) is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    if source == target:
        return 0 if nx else OK
    if db.lookup_write(target) is not None:
        if nx:
            return 0
        lazyfree.server_deleted(c.server, db, target)
        db.remove(target)
    db.put(target, db.take(source))
    db.commit(source, GENERIC, "rename_from")
    db.commit(target, GENERIC, "rename_to", 0)  # RENAME counts one change in all
    return 1 if nx else OK


@command("RENAME key newkey", arity=3, flags="write", keys=(1, 2, 1), group="generic",
         summary="Rename a key",
         key_specs="RW access delete index:1; OW update index:2")
def rename(c, argv):
    return _rename(c, argv, nx=False)


@command("RENAMENX key newkey", arity=3, flags="write fast", keys=(1, 2, 1), group="generic",
         summary="Rename a key, only if the new key does not exist",
         key_specs="RW access delete index:1; OW insert index:2")
def renamenx(c, argv):
    return _rename(c, argv, nx=True)


def parse_db_index(c, raw: bytes):
    """The database named by a MOVE/COPY argument: an int32 (Redis's getIntFromObjectOrReply)
    that must name an existing database."""
    index = parse_int(raw)
    if not -(1 << 31) <= index < (1 << 31):
        raise ErrorReply(errors.INT32_RANGE)
    if not 0 <= index < len(c.server.dbs):
        raise ErrorReply(errors.OUT_OF_RANGE_DB)
    return c.server.dbs[index]


@command("MOVE key db", arity=3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Move a key to another database",
         key_specs="RW access update index:1")
def move(c, argv):
    source, key = c.db, argv[1]
    target = parse_db_index(c, argv[2])
    if target is source:
        raise ErrorReply(errors.SAME_OBJECT)
    if source.lookup_write(key) is None or target.lookup_write(key) is not None:
        return 0
    target.put(key, source.take(key))
    source.commit(key, GENERIC, "move_from")
    target.commit(key, GENERIC, "move_to", 0)  # MOVE counts one change in all
    return 1


@command("COPY source destination [DB destination-db] [REPLACE]", arity=-3, flags="write denyoom",
         keys=(1, 2, 1), group="generic", since="6.2.0", summary="Copy a key",
         complexity="O(N) worst case for collections, where N is the number of nested items. "
                    "O(1) for string values.",
         key_specs="RO access index:1; OW update index:2")
def copy(c, argv):
    source_db, source, target = c.db, argv[1], argv[2]
    target_db, replace = source_db, False
    j = 3
    while j < len(argv):
        option = option_word(argv[j])
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and len(argv) - j - 1 >= 1:
            target_db = parse_db_index(c, argv[j + 1])
            j += 1
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    if target_db is source_db and source == target:
        raise ErrorReply(errors.SAME_OBJECT)
    value = source_db.lookup_read(source)
    if value is None:
        return 0
    expire = source_db.expires.get(source)
    if target_db.lookup_write(target) is not None:
        if not replace:
            return 0
        lazyfree.server_deleted(c.server, target_db, target)
        target_db.remove(target)
    target_db.store(target, copy_value(value))
    encoding = _copied_encoding(source_db, source, value)
    if encoding is not None:
        target_db.set_encoding(target, encoding)
    if expire is not None:
        target_db.expire_at(target, expire)
    target_db.commit(target, GENERIC, "copy_to")  # COPY counts one change in all
    return 1


def _copied_encoding(db, key: bytes, value) -> str | None:
    """Redis's dupStringObject keeps the encoding but never returns the shared integer."""
    override = db.encodings.get(key)
    if override is not None:
        return override
    if type(value) is bytes and canonical_int(value) is not None:
        return "int-private"
    return None


# -- OBJECT ----------------------------------------------------------------------------------
container("OBJECT", group="generic", since="2.2.3",
          summary="A container for object introspection commands").acl = "slow"

_OBJECT_HELP = [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]


@command("OBJECT HELP", arity=2, flags="loading stale", group="generic", since="6.2.0",
         summary="Show helpful text about the different subcommands")
def object_help(c, argv):
    return help_reply(argv, _OBJECT_HELP)


@command("OBJECT ENCODING key", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         tips="nondeterministic_output",
         since="2.2.3", summary="Inspect the internal encoding of a Redis object",
         key_specs="RO index:2")
def object_encoding(c, argv):
    value = c.db.lookup_read(argv[2], touch=False, keymiss=False)
    if value is None:
        return None
    if type(value) is bytes or type(value) is bytearray:
        override = c.db.encodings.get(argv[2])
        encoding = ("int" if override == "int-private" else override) or string_encoding(value)
    else:
        describe = ENCODINGS.get(type(value))
        encoding = describe(value, c.server.params) if describe is not None else "unknown"
    return encoding.encode()


@command("OBJECT REFCOUNT key", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         tips="nondeterministic_output",
         since="2.2.3", summary="Get the number of references to the value of the key",
         key_specs="RO index:2")
def object_refcount(c, argv):
    db, key = c.db, argv[2]
    value = db.lookup_read(key, touch=False, keymiss=False)
    if value is None:
        return None
    return SHARED_REFCOUNT if _is_shared_integer(c, db, key, value) else 1


def _is_shared_integer(c, db, key: bytes, value) -> bool:
    """Whether Redis would hold this value as one of its shared integers 0..9999: a string it
    encoded as an integer, while the eviction policy lets integers be shared."""
    if type(value) is not bytes or key in db.encodings:
        return False
    number = canonical_int(value)
    if number is None or not 0 <= number < SHARED_INTEGERS:
        return False
    params = c.server.params
    policy = params.get("maxmemory-policy")
    return params.get("maxmemory") == "0" or not ("lru" in policy or "lfu" in policy)


def _lfu_selected(c) -> bool:
    return "lfu" in c.server.params.get("maxmemory-policy")


@command("OBJECT IDLETIME key", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         tips="nondeterministic_output",
         since="2.2.3", summary="Get the time since a Redis object was last accessed",
         key_specs="RO index:2")
def object_idletime(c, argv):
    db, key = c.db, argv[2]
    if db.lookup_read(key, touch=False, keymiss=False) is None:
        return None
    if _lfu_selected(c):
        raise ErrorReply(errors.LFU_SELECTED)
    return db.idle_seconds(key)


@command("OBJECT FREQ key", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         tips="nondeterministic_output",
         since="4.0.0", summary="Get the logarithmic access frequency counter of a Redis object",
         key_specs="RO index:2")
def object_freq(c, argv):
    db, key = c.db, argv[2]
    if db.lookup_read(key, touch=False, keymiss=False) is None:
        return None
    if not _lfu_selected(c):
        raise ErrorReply(errors.LFU_NOT_SELECTED)
    params = c.server.params
    return db.lfu_counter(key, params.int("lfu-log-factor"), params.int("lfu-decay-time"))


# -- expiry ----------------------------------------------------------------------------------
_EXPIRE_FLAGS = (b"NX", b"XX", b"GT", b"LT")
_SECONDS_MAX = INT64_MAX // 1000
_SECONDS_MIN = -((1 << 63) // 1000)  # C's LLONG_MIN / 1000 truncates toward zero


def _expire(c, argv, relative: bool, seconds: bool, name: str):
    flags = set()
    for option in argv[3:]:
        word = option_word(option)
        if word not in _EXPIRE_FLAGS:
            raise ErrorReply(errors.unsupported_option(option))
        flags.add(word)
    if b"NX" in flags and len(flags) > 1:
        raise ErrorReply(errors.NX_XX_GT_LT)
    if b"GT" in flags and b"LT" in flags:
        raise ErrorReply(errors.GT_LT)
    when = parse_int(argv[2])
    now = c.server.clock.ms()
    if seconds:
        if when > _SECONDS_MAX or when < _SECONDS_MIN:
            raise ErrorReply(errors.invalid_expire(name))
        when *= 1000
    base = now if relative else 0
    if when > INT64_MAX - base:
        raise ErrorReply(errors.invalid_expire(name))
    when += base
    db, key = c.db, argv[1]
    if db.lookup_write(key) is None:
        return 0
    if flags and not _expire_condition_holds(flags, when, db.expires.get(key, -1)):
        return 0
    if when <= now:
        db.remove(key)
        db.commit(key, GENERIC, "del")
    else:
        db.expire_at(key, when)
        db.commit(key, GENERIC, "expire")
    return 1


def _expire_condition_holds(flags: set, when: int, current: int) -> bool:
    if b"NX" in flags and current != -1:
        return False
    if b"XX" in flags and current == -1:
        return False
    if b"GT" in flags and (when <= current or current == -1):
        return False
    if b"LT" in flags and current != -1 and when >= current:
        return False
    return True


@command("EXPIRE key seconds [NX | XX | GT | LT]", arity=-3, flags="write fast", keys=(1, 1, 1),
         group="generic", summary="Set a key's time to live in seconds")
def expire(c, argv):
    return _expire(c, argv, relative=True, seconds=True, name="expire")


@command("PEXPIRE key milliseconds [NX | XX | GT | LT]", arity=-3, flags="write fast", keys=(1, 1, 1),
         group="generic", since="2.6.0", summary="Set a key's time to live in milliseconds")
def pexpire(c, argv):
    return _expire(c, argv, relative=True, seconds=False, name="pexpire")


@command("EXPIREAT key unix-time-seconds [NX | XX | GT | LT]", arity=-3, flags="write fast",
         keys=(1, 1, 1), group="generic", since="1.2.0",
         summary="Set the expiration for a key as a UNIX timestamp")
def expireat(c, argv):
    return _expire(c, argv, relative=False, seconds=True, name="expireat")


@command("PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]", arity=-3, flags="write fast",
         keys=(1, 1, 1), group="generic", since="2.6.0",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds")
def pexpireat(c, argv):
    return _expire(c, argv, relative=False, seconds=False, name="pexpireat")


def _ttl(c, key: bytes, milliseconds: bool, absolute: bool) -> int:
    db = c.db
    if db.lookup_read(key, touch=False) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    ttl = max(when if absolute else when - c.server.clock.ms(), 0)
    return ttl if milliseconds else (ttl + 500) // 1000


@command("TTL key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         tips="nondeterministic_output",
         summary="Get the time to live for a key in seconds")
def ttl(c, argv):
    return _ttl(c, argv[1], milliseconds=False, absolute=False)


@command("PTTL key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic", since="2.6.0",
         tips="nondeterministic_output",
         summary="Get the time to live for a key in milliseconds")
def pttl(c, argv):
    return _ttl(c, argv[1], milliseconds=True, absolute=False)


@command("EXPIRETIME key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0", summary="Get the expiration Unix timestamp for a key")
def expiretime(c, argv):
    return _ttl(c, argv[1], milliseconds=False, absolute=True)


@command("PEXPIRETIME key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0", summary="Get the expiration Unix timestamp for a key in milliseconds")
def pexpiretime(c, argv):
    return _ttl(c, argv[1], milliseconds=True, absolute=True)


@command("PERSIST key", arity=2, flags="write fast", keys=(1, 1, 1), group="generic", since="2.2.0",
         summary="Remove the expiration from a key")
def persist(c, argv):
    db, key = c.db, argv[1]
    if db.lookup_write(key) is None or not db.clear_expire(key):
        return 0
    db.commit(key, GENERIC, "persist")
    return 1

"""String commands: the value is `bytes` (or `bytearray` once changed in place by APPEND or
SETRANGE, which is what Redis calls the "raw" encoding). INCRBYFLOAT's long double arithmetic
is in redis/floats.py.
"""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, INT64_MIN, option_word, parse_int
from yizhan.redis.floats import add_long_double, format_long_double_human, parse_long_double
from yizhan.redis.keyspace import GENERIC, STRING
from yizhan.redis.table import command
from yizhan.resp import OK, ErrorReply

_STRING_TYPES = (bytes, bytearray)


def _reply(value):
    """A stored value as a reply: a bytearray is copied, since it may change in place later."""
    return bytes(value) if type(value) is bytearray else value


def _max_len(c) -> int:
    return c.server.params.int("proto-max-bulk-len")


def _check_length(c, size: int, append: int) -> None:
    """Redis's checkStringLength: the string would grow beyond proto-max-bulk-len."""
    if size + append > _max_len(c):
        raise ErrorReply(errors.STRING_TOO_LONG)


# -- GET and SET families --------------------------------------------------------------------
@command("GET key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key")
def get(c, argv):
    return _reply(c.db.read_string(argv[1]))


def expiry_ms(raw: bytes, option: bytes, command_name: str, now_ms: int) -> int:
    """`raw` (the argument after EX/PX/EXAT/PXAT) as an absolute time in ms, as Redis's
    getExpireMillisecondsOrReply computes it: positive, and no int64 overflow on the way."""
    value = parse_int(raw)
    if value <= 0 or (option in (b"EX", b"EXAT") and value > INT64_MAX // 1000):
        raise ErrorReply(errors.invalid_expire(command_name))
    if option in (b"EX", b"EXAT"):
        value *= 1000
    if option in (b"EX", b"PX"):
        if value > INT64_MAX - now_ms:
            raise ErrorReply(errors.invalid_expire(command_name))
        value += now_ms
    return value


_EXPIRY_OPTIONS = frozenset((b"EX", b"PX", b"EXAT", b"PXAT"))


def parse_string_options(argv: list[bytes], start: int, for_set: bool):
    """Redis's parseExtendedStringArgumentsOrReply for SET (for_set) and GETEX: returns the set of
    flags seen and the (option, raw value) of the expiry, if any. A flag may repeat; conflicting
    flags, or an expiry option without a value, are a syntax error."""
    flags: set[bytes] = set()
    expiry = None
    pos = start
    while pos < len(argv):
        option = option_word(argv[pos])
        has_next = pos + 1 < len(argv)
        timed = flags & _EXPIRY_OPTIONS
        if for_set and option in (b"NX", b"XX") and (b"XX" if option == b"NX" else b"NX") not in flags:
            flags.add(option)
        elif for_set and option == b"GET":
            flags.add(option)
        elif for_set and option == b"KEEPTTL" and not timed:
            flags.add(option)
        elif not for_set and option == b"PERSIST" and not timed:
            flags.add(option)
        elif (option in _EXPIRY_OPTIONS and has_next and not (timed - {option})
              and not flags & {b"KEEPTTL", b"PERSIST"}):
            flags.add(option)
            expiry = (option, argv[pos + 1])
            pos += 1
        else:
            raise ErrorReply(errors.SYNTAX)
        pos += 1
    return flags, expiry


def set_generic(c, key: bytes, value: bytes, flags=frozenset(), expiry=None, name: str = "set",
                ok=OK, abort=None):
    """Redis's setGenericCommand, shared by SET, SETNX, SETEX and PSETEX."""
    when = expiry_ms(expiry[1], expiry[0], name, c.server.clock.ms()) if expiry else None
    db = c.db
    get_old = b"GET" in flags
    old = db.read_string(key) if get_old else None
    exists = db.lookup_write(key) is not None
    if (b"NX" in flags and exists) or (b"XX" in flags and not exists):
        return old if get_old else abort
    db.store(key, value, keep_ttl=b"KEEPTTL" in flags)
    db.commit(key, STRING, "set")
    if when is not None:
        db.expire_at(key, when)
        db.commit(key, GENERIC, "expire", 0)  # SET EX counts one change
    return old if get_old else ok


def set_keys(argv: list[bytes]) -> list:
    """setGetKeys: the key's flags depend on GET (read and written) or not (overwritten)."""
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return [(1, ("RW", "access", "update"))]
    return [(1, ("OW", "update"))]


@command("SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
         "PXAT unix-time-milliseconds | KEEPTTL]", arity=-3, flags="write denyoom", keys=(1, 1, 1),
         group="string", summary="Set the string value of a key", complexity="O(1)",
         key_specs=("RW access update variable_flags index:1 -- RW and ACCESS due to the optional "
                    "`GET` argument"), getkeys=set_keys)
def set_(c, argv):
    flags, expiry = parse_string_options(argv, 3, for_set=True)
    return set_generic(c, argv[1], argv[2], flags, expiry)


@command("SETNX key value", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the value of a key, only if the key does not exist",
         key_specs="OW insert index:1")
def setnx(c, argv):
    return set_generic(c, argv[1], argv[2], {b"NX"}, ok=1, abort=0)


@command("SETEX key seconds value", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.0.0", summary="Set the value and expiration of a key",
         key_specs="OW update index:1")
def setex(c, argv):
    return set_generic(c, argv[1], argv[3], expiry=(b"EX", argv[2]), name="setex")


@command("PSETEX key milliseconds value", arity=4, flags="write denyoom", keys=(1, 1, 1),
         group="string", since="2.6.0", summary="Set the value and expiration in milliseconds of a key",
         key_specs="OW update index:1")
def psetex(c, argv):
    return set_generic(c, argv[1], argv[3], expiry=(b"PX", argv[2]), name="psetex")


@command("GETSET key value", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key and return its old value",
         key_specs="RW access update index:1")
def getset(c, argv):
    db, key = c.db, argv[1]
    old = db.read_string(key)
    db.store(key, argv[2])
    db.commit(key, STRING, "set")
    return old


@command("GETDEL key", arity=2, flags="write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         summary="Get the value of a key and delete the key",
         key_specs="RW access delete index:1")
def getdel(c, argv):
    db, key = c.db, argv[1]
    old = db.read_string(key)
    if old is not None:
        db.remove(key)
        db.commit(key, GENERIC, "del")
    return old


@command("GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
         "PXAT unix-time-milliseconds | PERSIST]", arity=-2, flags="write fast", keys=(1, 1, 1),
         group="string", since="6.2.0", summary="Get the value of a key and optionally set its expiration",
         key_specs="RW access update index:1 -- RW and UPDATE because it changes the TTL")
def getex(c, argv):
    flags, expiry = parse_string_options(argv, 2, for_set=False)
    db, key = c.db, argv[1]
    value = db.read_string(key)
    if value is None:
        return None
    now = c.server.clock.ms()
    when = expiry_ms(expiry[1], expiry[0], "getex", now) if expiry else None
    value = _reply(value)
    if when is not None and expiry[0] in (b"EXAT", b"PXAT") and when <= now:
        db.remove(key)
        db.commit(key, GENERIC, "del")
    elif when is not None:
        db.expire_at(key, when)
        db.commit(key, GENERIC, "expire")
    elif b"PERSIST" in flags and db.clear_expire(key):
        db.commit(key, GENERIC, "persist")
    return value


@command("MGET key [key ...]", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="string",
         tips="request_policy:multi_shard",
         summary="Get the values of all the given keys",
         complexity="O(N) where N is the number of keys to retrieve.")
def mget(c, argv):
    get_value = c.db.lookup_read
    replies = []
    for key in argv[1:]:
        value = get_value(key)
        replies.append(_reply(value) if type(value) in _STRING_TYPES else None)
    return replies


def _mset(c, argv, name: str, nx: bool):
    if len(argv) % 2 == 0:
        raise ErrorReply(errors.wrong_arity(name))
    db = c.db
    if nx and any(db.lookup_write(argv[i]) is not None for i in range(1, len(argv), 2)):
        return 0
    for i in range(1, len(argv), 2):
        if not nx:
            db.lookup_write(argv[i])  # setKey's lookup: an expired key is reclaimed first
        db.store(argv[i], argv[i + 1])
        db.commit(argv[i], STRING, "set")
    return 1 if nx else OK


@command("MSET key value [key value ...]", arity=-3, flags="write denyoom", keys=(1, -1, 2),
         tips="request_policy:multi_shard response_policy:all_succeeded",
         group="string", since="1.0.1", summary="Set multiple keys to multiple values",
         complexity="O(N) where N is the number of keys to set.",
         key_specs="OW update index:1 range:-1:2:0")
def mset(c, argv):
    return _mset(c, argv, "mset", nx=False)


@command("MSETNX key value [key value ...]", arity=-3, flags="write denyoom", keys=(1, -1, 2),
         tips="request_policy:multi_shard response_policy:agg_min",
         group="string", since="1.0.1",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         complexity="O(N) where N is the number of keys to set.",
         key_specs="OW insert index:1 range:-1:2:0")
def msetnx(c, argv):
    return _mset(c, argv, "msetnx", nx=True)


# -- in-place edits and ranges ---------------------------------------------------------------
@command("APPEND key value", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="2.0.0", summary="Append a value to a key",
         complexity="O(1). The amortized time complexity is O(1) assuming the appended value is "
                    "small and the already present value is of any size, since the dynamic string "
                    "library used by Redis will double the free space available on every reallocation.",
         key_specs="RW insert index:1")
def append(c, argv):
    db, key, tail = c.db, argv[1], argv[2]
    value = db.write_string(key)
    if value is None:
        value = tail
        db.store(key, value)
    else:
        _check_length(c, len(value), len(tail))
        if type(value) is bytearray:
            value += tail
        else:
            value = bytearray(value) + tail
            db.store(key, value, keep_ttl=True)
    db.commit(key, STRING, "append")
    return len(value)


@command("STRLEN key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string", since="2.2.0",
         summary="Get the length of the value stored in a key",
         key_specs="RO index:1")
def strlen(c, argv):
    value = c.db.read_string(argv[1])
    return 0 if value is None else len(value)


@command("SETRANGE key offset value", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.2.0", summary="Overwrite part of a string at key starting at the specified offset",
         complexity="O(1), not counting the time taken to copy the new string in place. Usually, "
                    "this string is very small so the amortized complexity is O(1). Otherwise, "
                    "complexity is O(M) with M being the length of the value argument.")
def setrange(c, argv):
    db, key, patch = c.db, argv[1], argv[3]
    offset = parse_int(argv[2])
    if offset < 0:
        raise ErrorReply(errors.OFFSET_OUT_OF_RANGE)
    value = db.write_string(key)
    if not patch:
        return 0 if value is None else len(value)
    _check_length(c, offset, len(patch))
    if value is None:
        value = bytearray(offset) + patch
        db.store(key, value)
    else:
        in_place = type(value) is bytearray
        if not in_place:
            value = bytearray(value)
        if len(value) < offset:
            value.extend(bytes(offset - len(value)))
        value[offset:offset + len(patch)] = patch
        if not in_place:
            db.store(key, value, keep_ttl=True)
    db.commit(key, STRING, "setrange")
    return len(value)


def _getrange(c, argv):
    start, end = parse_int(argv[2]), parse_int(argv[3])
    value = c.db.read_string(argv[1])
    if value is None or (start < 0 and end < 0 and start > end):
        return b""
    size = len(value)
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    end = min(end, size - 1)
    if start > end or size == 0:
        return b""
    return bytes(value[start:end + 1])


_RANGE_COMPLEXITY = ("O(N) where N is the length of the returned string. The complexity is ultimately "
                     "determined by the returned length, but because creating a substring from an "
                     "existing string is very cheap, it can be considered O(1) for small strings.")


@command("GETRANGE key start end", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         since="2.4.0", summary="Get a substring of the string stored at a key",
         complexity=_RANGE_COMPLEXITY)
def getrange(c, argv):
    return _getrange(c, argv)


@command("SUBSTR key start end", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", complexity=_RANGE_COMPLEXITY)
def substr(c, argv):
    return _getrange(c, argv)


# -- counters ----------------------------------------------------------------------------------
def _incr(c, argv: list[bytes], delta: int = 1) -> int:
    """INCRBY of argv[1] by `delta` (incrDecrCommand): the TTL stays."""
    db, key = c.db, argv[1]
    value = db.write_string(key)
    current = 0 if value is None else parse_int(bytes(value))
    result = current + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise ErrorReply(errors.OVERFLOW)
    db.store(key, b"%d" % result, keep_ttl=True)
    db.commit(key, STRING, "incrby")
    return result


@command("INCR key", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by one",
         key_specs="RW access update index:1")
def incr(c, argv):
    return _incr(c, argv)


@command("DECR key", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by one",
         key_specs="RW access update index:1")
def decr(c, argv):
    return _incr(c, argv, -1)


@command("INCRBY key increment", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by the given amount",
         key_specs="RW access update index:1")
def incrby(c, argv):
    return _incr(c, argv, parse_int(argv[2]))


@command("DECRBY key decrement", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by the given number",
         key_specs="RW access update index:1")
def decrby(c, argv):
    delta = parse_int(argv[2])
    if delta == INT64_MIN:
        raise ErrorReply(errors.DECREMENT_OVERFLOW)
    return _incr(c, argv, -delta)


@command("INCRBYFLOAT key increment", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
         group="string", since="2.6.0", summary="Increment the float value of a key by the given amount",
         key_specs="RW access update index:1")
def incrbyfloat(c, argv):
    db, key = c.db, argv[1]
    value = db.write_string(key)
    current = (0, 0) if value is None else parse_long_double(bytes(value))
    result = add_long_double(current, parse_long_double(argv[2]))
    text = format_long_double_human(result)
    db.store(key, text, keep_ttl=True)
    if b"." not in text and len(text) <= 44:
        db.set_encoding(key, "embstr")  # Redis never makes INCRBYFLOAT's result an int object
    db.commit(key, STRING, "incrbyfloat")
    return text


# -- LCS -------------------------------------------------------------------------------------
@command("LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]", arity=-3, flags="readonly",
         keys=(1, 2, 1), group="string", since="7.0.0", summary="Find longest common substring",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively")
def lcs(c, argv):
    a, b = c.db.lookup_read(argv[1]), c.db.lookup_read(argv[2])
    if (a is not None and type(a) not in _STRING_TYPES) or (b is not None and type(b) not in _STRING_TYPES):
        raise ErrorReply(errors.LCS_NOT_STRINGS)
    a, b = bytes(a or b""), bytes(b or b"")
    get_len = get_idx = with_match_len = False
    min_match_len = 0
    pos = 3
    while pos < len(argv):
        option = option_word(argv[pos])
        if option == b"IDX":
            get_idx = True
        elif option == b"LEN":
            get_len = True
        elif option == b"WITHMATCHLEN":
            with_match_len = True
        elif option == b"MINMATCHLEN" and pos + 1 < len(argv):
            min_match_len = max(parse_int(argv[pos + 1]), 0)
            pos += 1
        else:
            raise ErrorReply(errors.SYNTAX)
        pos += 1
    if get_len and get_idx:
        raise ErrorReply(errors.LCS_LEN_AND_IDX)
    if len(a) >= 0xFFFFFFFE or len(b) >= 0xFFFFFFFE:
        raise ErrorReply(errors.LCS_TOO_LONG)
    if (len(a) + 1) * (len(b) + 1) * 4 > _max_len(c):
        raise ErrorReply(errors.LCS_TOO_MUCH_MEMORY)
    table = LcsTable(a, b)
    if get_len:
        return table.length(len(a), len(b))
    common, matches = lcs_backtrack(a, b, table, min_match_len, with_match_len)
    if get_idx:
        return {b"matches": matches, b"len": table.length(len(a), len(b))}
    return common


class LcsTable:
    """The LCS(i, j) table of the dynamic-programming solution, held as one bit vector per row
    (Hyyrö's bit-parallel algorithm): a zero bit at position j-1 of row i means LCS(i, j) is one
    more than LCS(i, j-1). O(len(a) * len(b) / word) time, len(a) * len(b) bits of memory."""

    __slots__ = ("rows", "width")

    def __init__(self, a: bytes, b: bytes):
        self.width = len(b)
        full = (1 << len(b)) - 1
        masks: dict[int, int] = {}
        for j, byte in enumerate(b):
            masks[byte] = masks.get(byte, 0) | (1 << j)
        row = full
        rows = [row]
        for byte in a:
            match = row & masks.get(byte, 0)
            row = ((row + match) | (row - match)) & full
            rows.append(row)
        self.rows = rows

    def length(self, i: int, j: int) -> int:
        """LCS(i, j): the LCS length of a[:i] and b[:j]."""
        return j - (self.rows[i] & ((1 << j) - 1)).bit_count()


def lcs_backtrack(a: bytes, b: bytes, table: LcsTable, min_match_len: int, with_match_len: bool):
    """Walk the table back from the end as Redis's lcsCommand does: the common string, and the
    matched ranges (last first) as [[a_start, a_end], [b_start, b_end](, length)] lists."""
    i, j = len(a), len(b)
    idx = table.length(i, j)
    result = bytearray(idx)
    matches = []
    unset = len(a)
    a_start, a_end, b_start, b_end = unset, 0, 0, 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx, i, j = idx - 1, i - 1, j - 1
        else:
            if table.length(i - 1, j) > table.length(i, j - 1):
                i -= 1
            else:
                j -= 1
            if a_start != unset:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if min_match_len == 0 or match_len >= min_match_len:
                entry = [[a_start, a_end], [b_start, b_end]]
                if with_match_len:
                    entry.append(match_len)
                matches.append(entry)
            a_start = unset
    return bytes(result), matches

"""SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0's sort.c does them.

Values are reached generically (`keyspace.type_name`): a list iterates in order, a set in its own
order (an intset in numeric order), a sorted set by its `order` of (score, member) pairs. BY and
GET patterns substitute the first '*' with the element ("#" is the element itself; "key*->field"
reads a hash field), seeing the pattern as C does: up to its first NUL byte.

Ordering follows the C code exactly: numeric weights parsed with glibc strtod's rules (leading
spaces allowed, "" is 0, ERANGE on overflow and on inexact underflow), ties between equal weights
broken by comparing the elements; ALPHA compares with strcoll in the C/C.UTF-8 locale (bytes up
to the first NUL), or byte-wise when storing. glibc's qsort is a stable merge sort, so Python's
stable sort gives the same order; BY with a LIMIT uses Redis's partial quicksort, ported below.
"""

from __future__ import annotations

import math
import re
from itertools import islice

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.floats import DBL_MIN, strtod
from yizhan.redis.keyspace import GENERIC, LIST, type_name
from yizhan.redis.pqsort import pqsort
from yizhan.redis.table import command
from yizhan.redis.types.lists import RedisList
from yizhan.resp import ErrorReply

_SORTABLE = ("list", "set", "zset")


def _cstr(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


# -- weights ---------------------------------------------------------------------------------
_PLAIN = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?").fullmatch


def sort_score(raw: bytes) -> tuple[float, bool]:
    """The weight SORT reads from a string, and whether it "can't be converted into double":
    text after the number (up to a NUL byte), any ERANGE (sortCommand checks errno), or NaN."""
    if _PLAIN(raw) is not None:
        value = float(raw)
        if DBL_MIN <= abs(value) < math.inf:  # no overflow, no underflow: strtod agrees
            return value, False
    value, end, erange = strtod(raw)
    bad = (end < len(raw) and raw[end] != 0) or erange or math.isnan(value)
    return value, bad


# -- patterns --------------------------------------------------------------------------------
def compile_pattern(pattern: bytes):
    """Redis's lookupKeyByPattern with the pattern parsed once: a function (db, element) -> bytes or
    None. The pattern is read as a C string for '#', '*' and "->"; the key's tail and the field
    name are cut from the whole pattern, as Redis's memcpy of sds lengths does."""
    cpat = _cstr(pattern)
    if cpat == b"#":
        return lambda db, element: element
    star = cpat.find(b"*")
    if star < 0:
        return lambda db, element: None
    prefix = pattern[:star]
    arrow = cpat.find(b"->", star + 1)
    if arrow >= 0 and arrow + 2 < len(cpat):
        postfix, field = pattern[star + 1:arrow], pattern[arrow + 2:]

        def hash_field(db, element):
            value = db.lookup_read(prefix + element + postfix)
            if value is None or type_name(value) != "hash":
                return None
            found = value.get(field)
            return bytes(found) if type(found) is bytearray else found

        return hash_field
    postfix = pattern[star + 1:]

    def string_value(db, element):
        value = db.lookup_read(prefix + element + postfix)
        kind = type(value)
        if kind is bytes:
            return value
        return bytes(value) if kind is bytearray else None

    return string_value


# -- the command -----------------------------------------------------------------------------
class _Options:
    __slots__ = ("desc", "alpha", "limit_start", "limit_count", "store", "sortby", "dontsort", "gets")

    def __init__(self):
        self.desc = self.alpha = self.dontsort = False
        self.limit_start, self.limit_count = 0, -1
        self.store = self.sortby = None
        self.gets: list[bytes] = []


def _parse(argv: list[bytes], readonly: bool, full_key_access) -> _Options:
    """The options; `full_key_access()` says whether the user may read every key (BY with a
    pattern and GET need it, as ACLUserCheckCmdWithUnrestrictedKeyAccess decides)."""
    o = _Options()
    j = 2
    while j < len(argv):
        word = option_word(argv[j])
        left = len(argv) - j - 1
        if word == b"ASC":
            o.desc = False
        elif word == b"DESC":
            o.desc = True
        elif word == b"ALPHA":
            o.alpha = True
        elif word == b"LIMIT" and left >= 2:
            o.limit_start = parse_int(argv[j + 1])
            o.limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and word == b"STORE" and left >= 1:
            o.store = argv[j + 1]
            j += 1
        elif word == b"BY" and left >= 1:
            o.sortby = argv[j + 1]
            if b"*" not in _cstr(o.sortby):
                o.dontsort = True  # a constant pattern: nothing to sort (and it sticks)
            elif not full_key_access():
                raise ErrorReply(errors.SORT_BY_ACL)
            j += 1
        elif word == b"GET" and left >= 1:
            if not full_key_access():
                raise ErrorReply(errors.SORT_GET_ACL)
            o.gets.append(argv[j + 1])
            j += 1
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    return o


def _limits(o: _Options, n: int) -> tuple[int, int]:
    start = min(max(o.limit_start, 0), n)
    count = min(max(o.limit_count, -1), n)
    end = n - 1 if count < 0 else start + count - 1
    if start >= n:
        start, end = n - 1, n - 2
    if end >= n:
        end = n - 1
    return start, end


def _load(value, kind: str, o: _Options, start: int, end: int) -> tuple[list, int, int]:
    """The elements to sort (or, unsorted, already cut to the LIMIT range) and start/end."""
    n = len(value)
    if kind in ("list", "zset") and o.dontsort and (start != 0 or end != n - 1):
        wanted = end - start + 1
    else:
        wanted = n
    if kind == "list" and o.dontsort:
        if end < start:
            return [], start, end
        source = reversed(value) if o.desc else iter(value)
        return list(islice(source, start, start + wanted)), 0, end - start
    if kind == "list":
        return list(value), start, end
    if kind == "set":
        return list(value), start, end
    order = value.order  # (score, member) pairs in rank order
    if o.dontsort:
        if o.desc:
            ranks = order.islice(n - start - wanted, n - start, reverse=True)
        else:
            ranks = order.islice(start, start + wanted)
        return [member for _, member in ranks], 0, end - start
    return list(value.scores), start, end


_DECIMAL = b"0123456789.eE+-"


def _scores(db, elements: list, weigh) -> tuple[list[float], bool]:
    """Each element's weight as a double (0 when BY finds nothing), and whether any weight was
    not a valid double. Plain decimals in the normal range take the quick float() path."""
    scores = []
    bad = False
    inf = math.inf
    for element in elements:
        weight = weigh(db, element) if weigh is not None else element
        if weight is None:
            scores.append(0.0)
            continue
        if not weight.translate(None, _DECIMAL):
            try:
                value = float(weight)
            except ValueError:
                value = 0.0
            if DBL_MIN <= abs(value) < inf:
                scores.append(value)
                continue
        value, invalid = sort_score(weight)
        scores.append(value)
        bad = bad or invalid
    return scores, bad


def _sort_numeric(elements: list, scores: list[float], desc: bool) -> None:
    """sortCompare's numeric order: by score, equal scores by the elements' bytes. (Equal
    (score, element) pairs are identical, so neither stability nor pqsort can show.)"""
    order = sorted(range(len(elements)), key=scores.__getitem__, reverse=desc)
    result = [elements[i] for i in order]
    if len(set(scores)) != len(scores):  # equal scores: order each run by element
        ranked = [scores[i] for i in order]
        i, n = 0, len(ranked)
        while i < n:
            j = i + 1
            while j < n and ranked[j] == ranked[i]:
                j += 1
            if j - i > 1:
                result[i:j] = sorted(result[i:j], reverse=desc)
            i = j
    elements[:] = result


def _sort(db, elements: list, o: _Options, start: int, end: int) -> bool:
    """Sort `elements` in place as Redis would; True if a weight was not a valid double."""
    alpha, store, desc = o.alpha, o.store is not None, o.desc
    weigh = compile_pattern(o.sortby) if o.sortby is not None else None
    if not alpha:
        scores, bad = _scores(db, elements, weigh)
        _sort_numeric(elements, scores, desc)
        return bad
    if weigh is None:
        # strcoll in the C locale compares up to the first NUL (byte-wise when storing).
        if store or not any(b"\0" in element for element in elements):
            elements.sort(reverse=desc)
        else:
            elements.sort(key=_cstr, reverse=desc)
        return False
    pairs = []
    for element in elements:
        weight = weigh(db, element)
        key = (0, b"") if weight is None else (1, weight if store else _cstr(weight))
        pairs.append((key, element))
    if start != 0 or end != len(elements) - 1:
        sign = -1 if desc else 1

        def cmp(x, y):
            return sign * ((x[0] > y[0]) - (x[0] < y[0]))

        pqsort(pairs, cmp, start, end)  # ties keep the order Redis's pqsort leaves them in
    else:
        pairs.sort(key=lambda pair: pair[0], reverse=desc)  # glibc qsort: a stable merge sort
    elements[:] = [element for _, element in pairs]
    return False


def sort_generic(c, argv: list[bytes], readonly: bool):
    o = _parse(argv, readonly, lambda: c.user.unrestricted or c.server.acl.reads_every_key(c.user, argv))
    db = c.db
    value = db.lookup_read(argv[1])
    if value is None:
        kind, value = "list", ()
    else:
        kind = type_name(value)
        if kind not in _SORTABLE:
            raise ErrorReply(errors.WRONGTYPE)
    if o.dontsort and kind == "set" and (o.store is not None or c.in_script):
        o.dontsort, o.alpha, o.sortby = False, True, None  # so replicas and scripts see one order
    if kind == "zset" and getattr(value, "listpack", False):
        value.listpack = False  # zsetConvert: SORT turns a listpack sorted set into a skiplist
        db.touched.add(argv[1])  # its memory is costed again (key_cost.settle)
    start, end = _limits(o, len(value))
    elements, start, end = _load(value, kind, o, start, end)
    bad = False
    if not o.dontsort:
        bad = _sort(db, elements, o, start, end)
    gets = o.gets
    count = end - start + 1
    outputlen = len(gets) * count if gets else count
    if bad:
        raise ErrorReply(errors.SORT_NOT_DOUBLE)
    chosen = elements[start:end + 1] if count > 0 else []
    if o.store is None:
        if not gets:
            return chosen
        return _get(db, chosen, gets)
    if gets:
        items = _get(db, chosen, gets)
        items = [b"" if item is None else item for item in items]
    else:
        items = chosen
    _store(c, o.store, items, outputlen)
    return outputlen


def _get(db, elements: list, patterns: list[bytes]) -> list:
    lookups = [compile_pattern(pattern) for pattern in patterns]
    return [lookup(db, element) for element in elements for lookup in lookups]


def _store(c, key: bytes, items: list, outputlen: int) -> None:
    """The result as a list at `key` (TTL dropped), or `key` deleted when there is none."""
    db = c.db
    if outputlen:
        db.store(key, RedisList(items))
        db.commit(key, LIST, "sortstore", outputlen)  # one change per element stored, as Redis
    elif db.remove(key):
        db.commit(key, GENERIC, "del")


_COMPLEXITY = ("O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M "
               "the number of returned elements. When the elements are not sorted, complexity is O(N).")


_SKIPPED = {b"limit": 2, b"get": 1, b"by": 1}  # sortGetKeys: options whose arguments are not keys


def sort_ro_keys(argv: list[bytes]) -> list:
    """sortROGetKeys: the sorted key (BY and GET patterns name no key of their own)."""
    return [(1, ("RO", "access"))]


def sort_keys(argv: list[bytes]) -> list:
    """sortGetKeys: the sorted key, then the last STORE destination."""
    keys = sort_ro_keys(argv)
    store = None
    i = 2
    while i < len(argv):
        word = argv[i].split(b"\0", 1)[0].lower()
        if word in _SKIPPED:
            i += _SKIPPED[word]
        elif word == b"store" and i + 1 < len(argv):
            store = (i + 1, ("OW", "update"))
        i += 1
    return keys + [store] if store else keys


@command("SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] "
         "[ALPHA] [STORE destination]", arity=-2, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="generic", summary="Sort the elements in a list, set or sorted set",
         complexity=_COMPLEXITY, acl="write set sortedset list slow dangerous",
         key_specs=("RO access index:1; RO access unknown -- For the optional BY/GET keyword. It "
                    "is marked 'unknown' because the key names derive from the content of the key "
                    "we sort; OW update unknown -- For the optional STORE keyword. It is marked "
                    "'unknown' because the keyword can appear anywhere in the argument array"),
         getkeys=sort_keys)
def sort(c, argv):
    return sort_generic(c, argv, readonly=False)


@command("SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] "
         "[ALPHA]", arity=-2, flags="readonly movablekeys", keys=(1, 1, 1), group="generic", since="7.0.0",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         complexity=_COMPLEXITY, acl="read set sortedset list slow dangerous",
         key_specs=("RO access index:1; RO access unknown -- For the optional BY/GET keyword. It "
                    "is marked 'unknown' because the key names derive from the content of the key "
                    "we sort"), getkeys=sort_ro_keys)
def sort_ro(c, argv):
    return sort_generic(c, argv, readonly=True)

"""Sorted set commands (ZADD ... ZSCAN, the blocking BZPOPMIN/BZPOPMAX/BZMPOP), as Redis 7.0,
over the `ZSet` value type of types/zsets.py.

Lexicographic ranges assume, as Redis documents, that all scores are equal; then they bisect.
With mixed scores the result is what Redis's listpack walk gives (a linear scan).

Numbers are parsed as Redis parses them with C's strtod (redis/floats.py): scores with
string2d's rules (no overflow to inf, no underflow to 0), range bounds with zslParseRange's
laxer ones (leading spaces, "" meaning 0, text after a NUL byte ignored, ERANGE ignored).
"""

from __future__ import annotations

import math
import random

from yizhan.redis import errors
from yizhan.redis.args import INT64_MAX, option_word, parse_int
from yizhan.redis.blocking import parse_timeout
from yizhan.redis.commands.keys import parse_cursor
from yizhan.redis.floats import parse_double, strtod
from yizhan.redis.glob import match
from yizhan.redis.keyspace import GENERIC, ZSET, type_name
from yizhan.redis.table import command
from yizhan.redis.types.zsets import Limits, ZSet, from_items
from yizhan.resp import NULL_ARRAY, ErrorReply

_GROUP = "sorted_set"
_INF = math.inf


# -- number parsing: redis/floats.py's strtod ---------------------------------------------
def _range_item(raw: bytes) -> tuple[float, bool] | None:
    """One bound of zslParseRange: (value, exclusive), or None when invalid."""
    exclusive = raw[:1] == b"("
    text = raw[1:] if exclusive else raw
    value, end, _ = strtod(text)
    if (end < len(text) and text[end] != 0) or math.isnan(value):
        return None
    return value, exclusive


# -- ranges --------------------------------------------------------------------------------
class ScoreRange:
    """min/max scores, each inclusive or exclusive (zrangespec)."""

    __slots__ = ("lo", "loex", "hi", "hiex")

    def __init__(self, raw_min: bytes, raw_max: bytes):
        lo, hi = _range_item(raw_min), _range_item(raw_max)
        if lo is None or hi is None:
            raise ErrorReply(errors.ZSET_MINMAX_NOT_FLOAT)
        (self.lo, self.loex), (self.hi, self.hiex) = lo, hi

    def gte_min(self, item) -> bool:
        return item[0] > self.lo if self.loex else item[0] >= self.lo

    def lte_max(self, item) -> bool:
        return item[0] < self.hi if self.hiex else item[0] <= self.hi

    def above_min(self, order) -> int:
        """Index of the first element that satisfies the min."""
        lo = self.lo
        if self.loex:
            if lo == _INF:
                return len(order)
            lo = math.nextafter(lo, _INF)
        return order.bisect_left((lo, b""))

    def past_max(self, order) -> int:
        """Index of the first element beyond the max."""
        hi = self.hi
        if not self.hiex:
            if hi == _INF:
                return len(order)
            hi = math.nextafter(hi, _INF)
        return order.bisect_left((hi, b""))

    def first(self, zs: ZSet) -> int | None:
        i = self.above_min(zs.order)
        return i if i < len(zs.order) and self.lte_max(zs.order[i]) else None

    def last(self, zs: ZSet) -> int | None:
        j = self.past_max(zs.order) - 1
        return j if j >= 0 and self.gte_min(zs.order[j]) else None

    def end_forward(self, zs: ZSet, start: int) -> int:
        return max(start, self.past_max(zs.order))

    def end_reverse(self, zs: ZSet, start: int) -> int:
        return min(start, self.above_min(zs.order) - 1)


_MINSTRING, _MAXSTRING = -1, 1


def _lex_item(raw: bytes) -> tuple[int, bytes, bool]:
    """zslParseLexRangeItem: (sentinel kind, string, exclusive)."""
    head = raw[:1]
    if head == b"+" and raw[1:2] in (b"", b"\0"):
        return _MAXSTRING, b"", True
    if head == b"-" and raw[1:2] in (b"", b"\0"):
        return _MINSTRING, b"", True
    if head == b"(":
        return 0, raw[1:], True
    if head == b"[":
        return 0, raw[1:], False
    raise ErrorReply(errors.ZSET_MINMAX_NOT_LEX)


class LexRange:
    """min/max strings, "-"/"+" for the ends (zlexrangespec)."""

    __slots__ = ("lo", "hi", "empty")

    def __init__(self, raw_min: bytes, raw_max: bytes):
        self.lo, self.hi = _lex_item(raw_min), _lex_item(raw_max)
        cmp = _lex_compare(self.lo, self.hi)
        self.empty = cmp > 0 or (cmp == 0 and (self.lo[2] or self.hi[2]))

    def gte_min(self, item) -> bool:
        kind, value, exclusive = self.lo
        if kind:
            return kind == _MINSTRING
        return item[1] > value if exclusive else item[1] >= value

    def lte_max(self, item) -> bool:
        kind, value, exclusive = self.hi
        if kind:
            return kind == _MAXSTRING
        return item[1] < value if exclusive else item[1] <= value

    def _in_range(self, zs: ZSet) -> bool:
        order = zs.order
        return not self.empty and bool(order) and self.gte_min(order[-1]) and self.lte_max(order[0])

    def _bisect(self, zs: ZSet, bound, after: bool) -> int:
        """With uniform scores: index of the first member beyond `bound` (after) or not below it."""
        kind, value, exclusive = bound
        if kind:
            return 0 if kind == _MINSTRING else len(zs.order)
        key = (zs.order[0][0], value)
        return zs.order.bisect_right(key) if after else zs.order.bisect_left(key)

    def first(self, zs: ZSet) -> int | None:
        if not self._in_range(zs):
            return None
        order = zs.order
        if zs.uniform():
            i = self._bisect(zs, self.lo, after=self.lo[2])
        else:
            i = next((i for i, item in enumerate(order) if self.gte_min(item)), len(order))
        return i if i < len(order) and self.lte_max(order[i]) else None

    def last(self, zs: ZSet) -> int | None:
        if not self._in_range(zs):
            return None
        order = zs.order
        if zs.uniform():
            j = self._bisect(zs, self.hi, after=not self.hi[2]) - 1
        else:
            j = next((j for j in range(len(order) - 1, -1, -1) if self.lte_max(order[j])), -1)
        return j if j >= 0 and self.gte_min(order[j]) else None

    def end_forward(self, zs: ZSet, start: int) -> int:
        if zs.uniform():
            return max(start, self._bisect(zs, self.hi, after=not self.hi[2]))
        order, end = zs.order, start
        for item in order.islice(start):
            if not self.lte_max(item):
                break
            end += 1
        return end

    def end_reverse(self, zs: ZSet, start: int) -> int:
        if zs.uniform():
            return min(start, self._bisect(zs, self.lo, after=self.lo[2]) - 1)
        order, end = zs.order, start
        for item in order.islice(0, start + 1, reverse=True):
            if not self.gte_min(item):
                break
            end -= 1
        return end


def _lex_compare(a, b) -> int:
    """sdscmplex: "-" below everything, "+" above, same sentinel equal."""
    if a[0] or b[0]:
        if a[0] == b[0]:
            return 0
        if a[0] == _MINSTRING or b[0] == _MAXSTRING:
            return -1
        return 1
    return (a[1] > b[1]) - (a[1] < b[1])


def _walk(zs: ZSet, rng, reverse: bool, offset: int = 0, limit: int = -1) -> tuple[int, int]:
    """The slice [start, stop) of `zs.order` a by-score/by-lex range selects after LIMIT
    (genericZrangebyscoreCommand): skip `offset` elements from the first (last) in range,
    then take up to `limit` (negative: no limit) while still in range."""
    order = zs.order
    if offset < 0 or (offset > 0 and offset >= len(order)):
        return 0, 0
    if not reverse:
        first = rng.first(zs)
        if first is None or first + offset >= len(order):
            return 0, 0
        start = first + offset
        stop = rng.end_forward(zs, start)
        if limit >= 0:
            stop = min(stop, start + limit)
        return start, stop
    last = rng.last(zs)
    if last is None or last - offset < 0:
        return 0, 0
    top = last - offset
    bottom = rng.end_reverse(zs, top)
    if limit >= 0:
        bottom = max(bottom, top - limit)
    return bottom + 1, top + 1


def _rank_slice(length: int, start: int, end: int) -> tuple[int, int]:
    """Redis's index sanitising for ZRANGE/ZREMRANGEBYRANK: the slice [start, stop)."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    if start < 0:
        start = 0
    if start > end or start >= length:
        return 0, 0
    return start, min(end, length - 1) + 1


# -- replies -------------------------------------------------------------------------------
def _reply_items(c, items, withscores: bool) -> list:
    """Members, or members with scores: flat in RESP2, [member, score] pairs in RESP3."""
    if not withscores:
        return [member for _, member in items]
    if c.proto == 2:
        flat = []
        for score, member in items:
            flat.append(member)
            flat.append(score)
        return flat
    return [[member, score] for score, member in items]


def _zset(c, key: bytes) -> ZSet | None:
    return c.db.read_typed(key, ZSet)



def _long(raw: bytes, message: str | None, lo: int, hi: int) -> int:
    """getRangeLongFromObjectOrReply: not an integer and out of range share `message`."""
    value = parse_int(raw, message or errors.NOT_INTEGER)
    if not lo <= value <= hi:
        raise ErrorReply(message or f"ERR value is out of range, value must between {lo} and {hi}")
    return value


# -- ZADD / ZINCRBY ------------------------------------------------------------------------
def _zadd(c, argv, incr: bool):
    pos, nx, xx, gt, lt, ch = 2, False, False, False, False, False
    while pos < len(argv):
        if not argv[pos][:1].isalpha():  # a score: no option starts otherwise
            break
        option = option_word(argv[pos])
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option == b"CH":
            ch = True
        elif option == b"INCR":
            incr = True
        elif option == b"GT":
            gt = True
        elif option == b"LT":
            lt = True
        else:
            break
        pos += 1
    pairs = len(argv) - pos
    if pairs % 2 or not pairs:
        raise ErrorReply(errors.SYNTAX)
    if nx and xx:
        raise ErrorReply(errors.ZADD_XX_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise ErrorReply(errors.ZADD_GT_LT_NX)
    if incr and pairs > 2:
        raise ErrorReply(errors.ZADD_INCR_PAIRS)
    scores = [parse_double(argv[i]) for i in range(pos, len(argv), 2)]
    db, key = c.db, argv[1]
    zs = db.write_typed(key, ZSet)
    created = zs is None
    if created and xx:
        return None if incr else 0
    limits = Limits(c.server.int_params) if created else None
    if created:  # the first member decides the encoding of a new key
        zs = ZSet(listpack=limits.entries != 0 and len(argv[pos + 1]) <= limits.value)
    added = updated = processed = 0
    score = 0.0
    try:
        for score, member in zip(scores, argv[pos + 1::2]):
            current = zs.score(member)
            if current is not None:
                if nx:
                    continue
                if incr:
                    score += current
                    if math.isnan(score):
                        raise ErrorReply(errors.ZSET_NAN)
                if (lt and score >= current) or (gt and score <= current):
                    continue
                processed += 1
                if score != current:
                    zs.rescore(member, current, score)
                    updated += 1
            elif not xx:
                if limits is None:
                    limits = Limits(c.server.int_params)
                limits.make_room(zs, member)
                zs.insert(member, score)
                added += 1
                processed += 1
    finally:
        if added or updated:
            if created:
                db.store(key, zs)
            db.commit(key, ZSET, "zincr" if incr else "zadd", added + updated)
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]", arity=-4,
         flags="write denyoom fast", keys=(1, 1, 1), group=_GROUP, since="1.2.0",
         summary="Add one or more members to a sorted set, or update its score if it already exists",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.")
def zadd(c, argv):
    return _zadd(c, argv, incr=False)


@command("ZINCRBY key increment member", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
         group=_GROUP, since="1.2.0", summary="Increment the score of a member in a sorted set",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         key_specs="RW access update index:1")
def zincrby(c, argv):
    return _zadd(c, argv, incr=True)


# -- reading single members ----------------------------------------------------------------
@command("ZSCORE key member", arity=3, flags="readonly fast", keys=(1, 1, 1), group=_GROUP,
         since="1.2.0", summary="Get the score associated with the given member in a sorted set")
def zscore(c, argv):
    zs = _zset(c, argv[1])
    return None if zs is None else zs.score(argv[2])


@command("ZMSCORE key member [member ...]", arity=-3, flags="readonly fast", keys=(1, 1, 1),
         group=_GROUP, since="6.2.0",
         summary="Get the score associated with the given members in a sorted set",
         complexity="O(N) where N is the number of members being requested.")
def zmscore(c, argv):
    zs = _zset(c, argv[1])
    scores = zs.scores if zs is not None else {}
    return [scores.get(member) for member in argv[2:]]


@command("ZCARD key", arity=2, flags="readonly fast", keys=(1, 1, 1), group=_GROUP, since="1.2.0",
         summary="Get the number of members in a sorted set",
         key_specs="RO index:1")
def zcard(c, argv):
    zs = _zset(c, argv[1])
    return 0 if zs is None else len(zs)


def _rank(c, argv, reverse: bool):
    zs = _zset(c, argv[1])
    if zs is None:
        return None
    rank = zs.rank(argv[2])
    if rank is None:
        return None
    return len(zs) - 1 - rank if reverse else rank


@command("ZRANK key member", arity=3, flags="readonly fast", keys=(1, 1, 1), group=_GROUP,
         since="2.0.0", summary="Determine the index of a member in a sorted set", complexity="O(log(N))")
def zrank(c, argv):
    return _rank(c, argv, reverse=False)


@command("ZREVRANK key member", arity=3, flags="readonly fast", keys=(1, 1, 1), group=_GROUP,
         since="2.0.0",
         summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
         complexity="O(log(N))")
def zrevrank(c, argv):
    return _rank(c, argv, reverse=True)


# -- counting ranges -----------------------------------------------------------------------
@command("ZCOUNT key min max", arity=4, flags="readonly fast", keys=(1, 1, 1), group=_GROUP,
         since="2.0.0", summary="Count the members in a sorted set with scores within the given values",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zcount(c, argv):
    rng = ScoreRange(argv[2], argv[3])
    zs = _zset(c, argv[1])
    if zs is None:
        return 0
    start, stop = _walk(zs, rng, reverse=False)
    return stop - start


@command("ZLEXCOUNT key min max", arity=4, flags="readonly fast", keys=(1, 1, 1), group=_GROUP,
         since="2.8.9",
         summary="Count the number of members in a sorted set between a given lexicographical range",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zlexcount(c, argv):
    rng = LexRange(argv[2], argv[3])
    zs = _zset(c, argv[1])
    if zs is None:
        return 0
    start, stop = _walk(zs, rng, reverse=False)
    return stop - start


# -- ZRANGE and its family -----------------------------------------------------------------
_RANK, _SCORE, _LEX = "rank", "score", "lex"


def _zrange(c, argv, first: int, store: bool, by: str | None, reverse: bool | None):
    """zrangeGenericCommand: `first` is the source key's index; `by`/`reverse` are None when
    the options may choose them (ZRANGE, ZRANGESTORE). Returns the reply."""
    withscores, offset, limit = False, 0, -1
    pos = first + 3
    while pos < len(argv):
        option = option_word(argv[pos])
        left = len(argv) - pos - 1
        if not store and option == b"WITHSCORES":
            withscores = True
        elif option == b"LIMIT" and left >= 2:
            offset = parse_int(argv[pos + 1])
            limit = parse_int(argv[pos + 2])
            pos += 2
        elif reverse is None and option == b"REV":
            reverse = True
        elif by is None and option == b"BYLEX":
            by = _LEX
        elif by is None and option == b"BYSCORE":
            by = _SCORE
        else:
            raise ErrorReply(errors.SYNTAX)
        pos += 1
    reverse = bool(reverse)
    by = by or _RANK
    if limit != -1 and by == _RANK:
        raise ErrorReply(errors.ZRANGE_LIMIT_NEEDS_BY)
    if withscores and by == _LEX:
        raise ErrorReply(errors.ZRANGE_WITHSCORES_BYLEX)
    low, high = argv[first + 1], argv[first + 2]
    if reverse and by != _RANK:
        low, high = high, low
    if by == _RANK:
        start, end = parse_int(low), parse_int(high)
    else:
        rng = ScoreRange(low, high) if by == _SCORE else LexRange(low, high)
    zs = c.db.read_typed(argv[first], ZSet)
    if zs is None:
        return _range_store(c, argv[1], [], None) if store else []
    if by == _RANK:
        begin, stop = _rank_slice(len(zs), start, end)
        if reverse:
            begin, stop = len(zs) - stop, len(zs) - begin
        items = zs.order[begin:stop]
        if reverse:
            items.reverse()
        size_hint = stop - begin
    else:
        begin, stop = _walk(zs, rng, reverse, offset, limit)
        items = zs.order[begin:stop]
        if reverse:
            items.reverse()
        size_hint = None
    if store:
        return _range_store(c, argv[1], items, size_hint)
    return _reply_items(c, items, withscores)


def _range_store(c, key: bytes, items, size_hint: int | None) -> int:
    """zrangeResultBeginStore / FinalizeStore: a listpack unless the known length is too big,
    filled by zsetAdd one element at a time; an empty result deletes the destination."""
    db = c.db
    if not items:
        if db.remove(key):
            db.commit(key, GENERIC, "del")
        return 0
    limits = Limits(c.server.int_params)
    zs = ZSet(listpack=size_hint is None or size_hint <= limits.entries)
    for score, member in items:
        limits.make_room(zs, member)
        zs.insert(member, score)
    db.store(key, zs)
    db.commit(key, ZSET, "zrangestore")
    return len(zs)


_RANGE_COMPLEXITY = ("O(log(N)+M) with N being the number of elements in the sorted set and M the "
                     "number of elements returned.")
_BY_COMPLEXITY = ("O(log(N)+M) with N being the number of elements in the sorted set and M the number "
                  "of elements being returned. If M is constant (e.g. always asking for the first 10 "
                  "elements with LIMIT), you can consider it O(log(N)).")


@command("ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
         arity=-4, flags="readonly", keys=(1, 1, 1), group=_GROUP, since="1.2.0",
         summary="Return a range of members in a sorted set", complexity=_RANGE_COMPLEXITY)
def zrange(c, argv):
    return _zrange(c, argv, 1, False, None, None)


@command("ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]", arity=-5,
         flags="write denyoom", keys=(1, 2, 1), group=_GROUP, since="6.2.0",
         summary="Store a range of members from sorted set into another key",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the "
                    "number of elements stored into the destination key.",
         key_specs="OW update index:1; RO access index:2")
def zrangestore(c, argv):
    return _zrange(c, argv, 2, True, None, None)


@command("ZREVRANGE key start stop [WITHSCORES]", arity=-4, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="1.2.0",
         summary="Return a range of members in a sorted set, by index, with scores ordered from high to low",
         complexity=_RANGE_COMPLEXITY)
def zrevrange(c, argv):
    return _zrange(c, argv, 1, False, _RANK, True)


@command("ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]", arity=-4, flags="readonly",
         keys=(1, 1, 1), group=_GROUP, since="1.0.5",
         summary="Return a range of members in a sorted set, by score", complexity=_BY_COMPLEXITY)
def zrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, _SCORE, False)


@command("ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]", arity=-4,
         flags="readonly", keys=(1, 1, 1), group=_GROUP, since="2.2.0",
         summary="Return a range of members in a sorted set, by score, with scores ordered from high to low",
         complexity=_BY_COMPLEXITY)
def zrevrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, _SCORE, True)


@command("ZRANGEBYLEX key min max [LIMIT offset count]", arity=-4, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="2.8.9",
         summary="Return a range of members in a sorted set, by lexicographical range",
         complexity=_BY_COMPLEXITY)
def zrangebylex(c, argv):
    return _zrange(c, argv, 1, False, _LEX, False)


@command("ZREVRANGEBYLEX key max min [LIMIT offset count]", arity=-4, flags="readonly",
         keys=(1, 1, 1), group=_GROUP, since="2.8.9",
         summary="Return a range of members in a sorted set, by lexicographical range, ordered from "
                 "higher to lower strings.", complexity=_BY_COMPLEXITY)
def zrevrangebylex(c, argv):
    return _zrange(c, argv, 1, False, _LEX, True)


# -- removing ------------------------------------------------------------------------------
@command("ZREM key member [member ...]", arity=-3, flags="write fast", keys=(1, 1, 1), group=_GROUP,
         since="1.2.0", summary="Remove one or more members from a sorted set",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the "
                    "number of elements to be removed.",
         key_specs="RW delete index:1")
def zrem(c, argv):
    db, key = c.db, argv[1]
    zs = db.write_typed(key, ZSet)
    if zs is None:
        return 0
    deleted = 0
    for member in argv[2:]:
        if zs.remove(member):
            deleted += 1
            if not zs:
                break
    if deleted:
        db.commit(key, ZSET, "zrem", deleted, zs)
    return deleted


def _zremrange(c, argv, by: str):
    if by == _RANK:
        start, end = parse_int(argv[2]), parse_int(argv[3])
        event = "zremrangebyrank"
    elif by == _SCORE:
        rng = ScoreRange(argv[2], argv[3])
        event = "zremrangebyscore"
    else:
        rng = LexRange(argv[2], argv[3])
        event = "zremrangebylex"
    db, key = c.db, argv[1]
    zs = db.write_typed(key, ZSet)
    if zs is None:
        return 0
    if by == _RANK:
        begin, stop = _rank_slice(len(zs), start, end)
    else:
        begin, stop = _walk(zs, rng, reverse=False)
    if stop <= begin:
        return 0
    zs.remove_slice(begin, stop)
    db.commit(key, ZSET, event, stop - begin, zs)
    return stop - begin


_REMRANGE_COMPLEXITY = ("O(log(N)+M) with N being the number of elements in the sorted set and M the "
                        "number of elements removed by the operation.")


@command("ZREMRANGEBYRANK key start stop", arity=4, flags="write", keys=(1, 1, 1), group=_GROUP,
         since="2.0.0", summary="Remove all members in a sorted set within the given indexes",
         complexity=_REMRANGE_COMPLEXITY,
         key_specs="RW delete index:1")
def zremrangebyrank(c, argv):
    return _zremrange(c, argv, _RANK)


@command("ZREMRANGEBYSCORE key min max", arity=4, flags="write", keys=(1, 1, 1), group=_GROUP,
         since="1.2.0", summary="Remove all members in a sorted set within the given scores",
         complexity=_REMRANGE_COMPLEXITY,
         key_specs="RW delete index:1")
def zremrangebyscore(c, argv):
    return _zremrange(c, argv, _SCORE)


@command("ZREMRANGEBYLEX key min max", arity=4, flags="write", keys=(1, 1, 1), group=_GROUP,
         since="2.8.9",
         summary="Remove all members in a sorted set between the given lexicographical range",
         complexity=_REMRANGE_COMPLEXITY,
         key_specs="RW delete index:1")
def zremrangebylex(c, argv):
    return _zremrange(c, argv, _LEX)


# -- popping -------------------------------------------------------------------------------
def _pop_from(c, db, key: bytes, zs: ZSet, maximum: bool, count: int) -> list:
    """Pop up to `count` members from one end: [(score, member)] in pop order."""
    n = min(count, len(zs))
    if maximum:
        items = zs.remove_slice(len(zs) - n, len(zs))
        items.reverse()
    else:
        items = zs.remove_slice(0, n)
    db.commit(key, ZSET, "zpopmax" if maximum else "zpopmin", n, zs)
    return items


def _pop_reply(c, key: bytes, items, emitkey: bool, nested: bool) -> list:
    """genericZpopCommand's four reply shapes."""
    if nested:
        pairs = [[member, score] for score, member in items]
        return [key, pairs] if emitkey else pairs
    flat = [key] if emitkey else []
    for score, member in items:
        flat.append(member)
        flat.append(score)
    return flat


def _zpop(c, keys, maximum: bool, emitkey: bool, count: int, nested: bool, nil_when_empty: bool):
    """genericZpopCommand: the first existing key is popped (after its type is checked)."""
    db = c.db
    for key in keys:
        zs = db.write_typed(key, ZSet)
        if zs is not None:
            break
    else:
        return NULL_ARRAY if nil_when_empty else []
    if count == 0:
        return []
    items = _pop_from(c, db, key, zs, maximum, 1 if count == -1 else count)
    return _pop_reply(c, key, items, emitkey, nested)


def _zpopminmax(c, argv, maximum: bool):
    if len(argv) > 3:
        raise ErrorReply(errors.SYNTAX)
    count = -1
    if len(argv) == 3:
        count = _long(argv[2], errors.MUST_BE_POSITIVE, 0, INT64_MAX)
    nested = c.proto > 2 and count != -1
    return _zpop(c, argv[1:2], maximum, False, count, nested, False)


_POP_COMPLEXITY = ("O(log(N)*M) with N being the number of elements in the sorted set, and M being "
                   "the number of elements popped.")
_MPOP_COMPLEXITY = ("O(K) + O(M*log(N)) where K is the number of provided keys, N being the number "
                    "of elements in the sorted set, and M being the number of elements popped.")


@command("ZPOPMIN key [count]", arity=-2, flags="write fast", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Remove and return members with the lowest scores in a sorted set",
         complexity=_POP_COMPLEXITY,
         key_specs="RW access delete index:1")
def zpopmin(c, argv):
    return _zpopminmax(c, argv, maximum=False)


@command("ZPOPMAX key [count]", arity=-2, flags="write fast", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Remove and return members with the highest scores in a sorted set",
         complexity=_POP_COMPLEXITY,
         key_specs="RW access delete index:1")
def zpopmax(c, argv):
    return _zpopminmax(c, argv, maximum=True)


def _parse_mpop(argv, numkeys_index: int) -> tuple[list[bytes], bool, int]:
    """ZMPOP/BZMPOP arguments after numkeys: (keys, maximum, count)."""
    numkeys = _long(argv[numkeys_index], errors.NUMKEYS_NOT_POSITIVE, 1, INT64_MAX)
    where = numkeys_index + numkeys + 1
    if where >= len(argv):
        raise ErrorReply(errors.SYNTAX)
    side = option_word(argv[where])
    if side not in (b"MIN", b"MAX"):
        raise ErrorReply(errors.SYNTAX)
    count = -1
    pos = where + 1
    while pos < len(argv):
        if count == -1 and option_word(argv[pos]) == b"COUNT" and pos + 1 < len(argv):
            count = _long(argv[pos + 1], errors.ZSET_COUNT_POSITIVE, 1, INT64_MAX)
            pos += 2
        else:
            raise ErrorReply(errors.SYNTAX)
    return argv[numkeys_index + 1:where], side == b"MAX", 1 if count == -1 else count


@command("ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]", arity=-4, flags="write movablekeys",
         group=_GROUP, since="7.0.0", summary="Remove and return members with scores in a sorted set",
         complexity=_MPOP_COMPLEXITY,
         key_specs="RW access delete index:1 keynum:0:1:1")
def zmpop(c, argv):
    keys, maximum, count = _parse_mpop(argv, 1)
    return _zpop(c, keys, maximum, True, count, True, True)


def _blocking_pop(c, keys, maximum: bool, timeout_ms: int, count: int, nested: bool):
    """blockingGenericZpopCommand: serve from the first non-empty key, or park the client."""
    db = c.db
    for key in keys:
        zs = db.write_typed(key, ZSet)
        if zs is not None:
            items = _pop_from(c, db, key, zs, maximum, 1 if count == -1 else count)
            return _pop_reply(c, key, items, True, nested)
    waiting = list(dict.fromkeys(keys))

    def attempt(ready_key: bytes | None = None):
        for key in waiting if ready_key is None else (ready_key,):
            zs = db.lookup_write(key, touch=False)
            if type(zs) is ZSet:
                items = _pop_from(c, db, key, zs, maximum, 1 if count == -1 else count)
                return _pop_reply(c, key, items, True, nested)
        return None

    return c.block(waiting, timeout_ms, attempt, NULL_ARRAY)


@command("BZPOPMIN key [key ...] timeout", arity=-3, flags="write noscript blocking fast",
         keys=(1, -2, 1), group=_GROUP, since="5.0.0",
         summary="Remove and return the member with the lowest score from one or more sorted sets, "
                 "or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         key_specs="RW access delete index:1 range:-2:1:0")
def bzpopmin(c, argv):
    timeout_ms = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], False, timeout_ms, -1, False)


@command("BZPOPMAX key [key ...] timeout", arity=-3, flags="write noscript blocking fast",
         keys=(1, -2, 1), group=_GROUP, since="5.0.0",
         summary="Remove and return the member with the highest score from one or more sorted sets, "
                 "or block until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         key_specs="RW access delete index:1 range:-2:1:0")
def bzpopmax(c, argv):
    timeout_ms = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], True, timeout_ms, -1, False)


@command("BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]", arity=-5,
         flags="write blocking movablekeys", group=_GROUP, since="7.0.0",
         summary="Remove and return members with scores in a sorted set or block until one is available",
         complexity=_MPOP_COMPLEXITY,
         key_specs="RW access delete index:2 keynum:0:1:1")
def bzmpop(c, argv):
    keys, maximum, count = _parse_mpop(argv, 2)
    timeout_ms = parse_timeout(argv[1])
    return _blocking_pop(c, keys, maximum, timeout_ms, count, True)


# -- ZRANDMEMBER ---------------------------------------------------------------------------
_LONG_MAX = INT64_MAX


@command("ZRANDMEMBER key [count [WITHSCORES]]", arity=-2, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="6.2.0", summary="Get one or multiple random elements from a sorted set",
         complexity="O(N) where N is the number of elements returned", tips="nondeterministic_output")
def zrandmember(c, argv):
    if len(argv) < 3:
        zs = _zset(c, argv[1])
        if zs is None:
            return None
        return zs.order[random.randrange(len(zs))][1]
    count = _long(argv[2], None, -_LONG_MAX, _LONG_MAX)
    if len(argv) > 4 or (len(argv) == 4 and option_word(argv[3]) != b"WITHSCORES"):
        raise ErrorReply(errors.SYNTAX)
    withscores = len(argv) == 4
    if withscores and not -(_LONG_MAX // 2) <= count <= _LONG_MAX // 2:
        raise ErrorReply(errors.VALUE_OUT_OF_RANGE)
    zs = _zset(c, argv[1])
    if zs is None or count == 0:
        return []
    order, size = zs.order, len(zs)
    if count < 0 or count == 1:
        items = [order[random.randrange(size)] for _ in range(abs(count))]
    elif count >= size:
        items = list(reversed(order))  # zuiNext walks a sorted set from its tail
    else:
        items = [order[i] for i in random.sample(range(size), count)]
    return _reply_items(c, items, withscores)


# -- ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD ------------------------------
class _Source:
    """One input of a set operation: a sorted set, a plain set (every score 1) or nothing."""

    __slots__ = ("value", "weight", "is_zset")

    def __init__(self, value):
        self.value = value
        self.weight = 1.0
        self.is_zset = type(value) is ZSet

    def __len__(self) -> int:
        return 0 if self.value is None else len(self.value)

    def items(self):
        """(member, score) in zuiNext's order: a sorted set from its tail, a set as it iterates."""
        if self.value is None:
            return
        if self.is_zset:
            for score, member in reversed(self.value.order):
                yield member, score
        else:
            for member in self.value:
                yield _member_bytes(member), 1.0

    def find(self, member: bytes) -> float | None:
        if self.value is None:
            return None
        if self.is_zset:
            return self.value.scores.get(member)
        return 1.0 if member in self.value else None


def _member_bytes(member) -> bytes:
    if type(member) is bytes:
        return member
    if type(member) is int:
        return b"%d" % member
    return bytes(member)


def _aggregate(target: float, value: float, how: bytes) -> float:
    """zunionInterAggregate (SUM turns inf + -inf into 0)."""
    if how == b"SUM":
        total = target + value
        return 0.0 if math.isnan(total) else total
    if how == b"MIN":
        return value if value < target else target
    return value if value > target else target


def _setop(c, argv, numkeys_index: int, op: str, store: bool, card: bool = False):
    """zunionInterDiffGenericCommand. Returns the reply."""
    name = argv[0].decode("ascii", "replace").lower()
    setnum = parse_int(argv[numkeys_index])
    if setnum < 1:
        raise ErrorReply(errors.zset_needs_a_key(name))
    if setnum > len(argv) - (numkeys_index + 1):
        raise ErrorReply(errors.SYNTAX)
    db = c.db
    sources = []
    for key in argv[numkeys_index + 1:numkeys_index + 1 + setnum]:
        value = db.lookup_read(key)
        if value is not None and type(value) is not ZSet and type_name(value) != "set":
            raise ErrorReply(errors.WRONGTYPE)
        sources.append(_Source(value))
    aggregate, withscores, limit = b"SUM", False, 0
    pos = numkeys_index + 1 + setnum
    while pos < len(argv):
        remaining = len(argv) - pos
        option = option_word(argv[pos])
        if op != "diff" and not card and remaining >= setnum + 1 and option == b"WEIGHTS":
            for i, source in enumerate(sources):
                source.weight = parse_double(argv[pos + 1 + i], errors.ZSET_WEIGHT_NOT_FLOAT)
            pos += setnum + 1
        elif op != "diff" and not card and remaining >= 2 and option == b"AGGREGATE":
            aggregate = option_word(argv[pos + 1])
            if aggregate not in (b"SUM", b"MIN", b"MAX"):
                raise ErrorReply(errors.SYNTAX)
            pos += 2
        elif not store and not card and option == b"WITHSCORES":
            withscores = True
            pos += 1
        elif card and remaining >= 2 and option == b"LIMIT":
            limit = _long(argv[pos + 1], errors.LIMIT_NEGATIVE, 0, INT64_MAX)
            pos += 2
        else:
            raise ErrorReply(errors.SYNTAX)
    if op != "diff":
        sources.sort(key=len)  # stable, as glibc's qsort (a merge sort) is
    if op == "inter":
        result = _inter(sources, aggregate, limit if card else -1)
        if card:
            return result
    elif op == "union":
        result = _union(sources, aggregate)
    else:
        result = _diff(sources)
    if store:
        return _setop_store(c, argv[1], result, op)
    items = sorted((score, member) for member, score in result.items())
    return _reply_items(c, items, withscores)


def _inter(sources, aggregate: bytes, card_limit: int):
    """Members of every input with aggregated weighted scores; with card_limit >= 0 (ZINTERCARD)
    only their number, stopping at the limit (0: no limit)."""
    result: dict[bytes, float] = {}
    cardinality = 0
    if not len(sources[0]):
        return 0 if card_limit >= 0 else result
    first, others = sources[0], sources[1:]
    for member, score in first.items():
        total = first.weight * score
        if math.isnan(total):
            total = 0.0
        for source in others:
            value = source.find(member)
            if value is None:
                break
            total = _aggregate(total, value * source.weight, aggregate)
        else:
            if card_limit >= 0:
                cardinality += 1
                if card_limit and cardinality >= card_limit:
                    break
            else:
                result[member] = total
    return cardinality if card_limit >= 0 else result


def _union(sources, aggregate: bytes) -> dict[bytes, float]:
    result: dict[bytes, float] = {}
    for source in sources:
        weight = source.weight
        for member, score in source.items():
            value = weight * score
            if math.isnan(value):
                value = 0.0
            current = result.get(member)
            result[member] = value if current is None else _aggregate(current, value, aggregate)
    return result


def _diff(sources) -> dict[bytes, float]:
    first, others = sources[0], sources[1:]
    if any(other.value is first.value for other in others if first.value is not None):
        return {}
    return {member: score for member, score in first.items()
            if all(other.find(member) is None for other in others)}


def _setop_store(c, key: bytes, result: dict, op: str) -> int:
    db = c.db
    if not result:
        if db.remove(key):
            db.commit(key, GENERIC, "del")
        return 0
    zs = from_items(Limits(c.server.int_params), result.items())
    db.store(key, zs)
    db.commit(key, ZSET, "z" + op + "store")
    return len(zs)


_UNION_COMPLEXITY = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and "
                     "M being the number of elements in the resulting sorted set.")
_INTER_COMPLEXITY = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being "
                     "the number of input sorted sets and M being the number of elements in the "
                     "resulting sorted set.")
_DIFF_COMPLEXITY = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in all the "
                    "sets, N is the size of the first set, and K is the size of the result set.")


@command("ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] "
         "[WITHSCORES]", arity=-3, flags="readonly movablekeys", group=_GROUP, since="6.2.0",
         summary="Add multiple sorted sets", complexity=_UNION_COMPLEXITY,
         key_specs="RO access index:1 keynum:0:1:1")
def zunion(c, argv):
    return _setop(c, argv, 1, "union", store=False)


@command("ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] "
         "[WITHSCORES]", arity=-3, flags="readonly movablekeys", group=_GROUP, since="6.2.0",
         summary="Intersect multiple sorted sets", complexity=_INTER_COMPLEXITY,
         key_specs="RO access index:1 keynum:0:1:1")
def zinter(c, argv):
    return _setop(c, argv, 1, "inter", store=False)


@command("ZDIFF numkeys key [key ...] [WITHSCORES]", arity=-3, flags="readonly movablekeys",
         group=_GROUP, since="6.2.0", summary="Subtract multiple sorted sets", complexity=_DIFF_COMPLEXITY,
         key_specs="RO access index:1 keynum:0:1:1")
def zdiff(c, argv):
    return _setop(c, argv, 1, "diff", store=False)


@command("ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
         "[AGGREGATE SUM | MIN | MAX]", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=_GROUP, since="2.0.0",
         summary="Add multiple sorted sets and store the resulting sorted set in a new key",
         complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M "
                    "being the number of elements in the resulting sorted set.",
         key_specs="OW update index:1; RO access index:2 keynum:0:1:1")
def zunionstore(c, argv):
    return _setop(c, argv, 2, "union", store=True)


@command("ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
         "[AGGREGATE SUM | MIN | MAX]", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=_GROUP, since="2.0.0",
         summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
         complexity=_INTER_COMPLEXITY,
         key_specs="OW update index:1; RO access index:2 keynum:0:1:1")
def zinterstore(c, argv):
    return _setop(c, argv, 2, "inter", store=True)


@command("ZDIFFSTORE destination numkeys key [key ...]", arity=-4, flags="write denyoom movablekeys",
         keys=(1, 1, 1), group=_GROUP, since="6.2.0",
         summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
         complexity=_DIFF_COMPLEXITY,
         key_specs="OW update index:1; RO access index:2 keynum:0:1:1")
def zdiffstore(c, argv):
    return _setop(c, argv, 2, "diff", store=True)


@command("ZINTERCARD numkeys key [key ...] [LIMIT limit]", arity=-3, flags="readonly movablekeys",
         group=_GROUP, since="7.0.0",
         summary="Intersect multiple sorted sets and return the cardinality of the result",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being the number "
                    "of input sorted sets.",
         key_specs="RO access index:1 keynum:0:1:1")
def zintercard(c, argv):
    return _setop(c, argv, 1, "inter", store=False, card=True)


# -- ZSCAN ---------------------------------------------------------------------------------
def _listpack_score(score: float) -> bytes:
    """A score as a listpack holds it (zzlInsertAt): an integer if it is one within +-2^62
    (double2ll), else d2string's "%.17g"."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if -4611686018427387904.0 <= score <= 4611686018427387904.0 and score == int(score):
        return b"%d" % int(score)
    return b"%.17g" % score


def _skiplist_score(score: float) -> bytes:
    """A score as createStringObjectFromLongDouble prints it ("%.17Lg" of the same value)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


@command("ZSCAN key cursor [MATCH pattern] [COUNT count]", arity=-3, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="2.8.0",
         summary="Incrementally iterate sorted sets elements and associated scores",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls "
                    "for the cursor to return back to 0. N is the number of elements inside the "
                    "collection..", tips="nondeterministic_output")
def zscan(c, argv):
    cursor = parse_cursor(argv[2])
    zs = _zset(c, argv[1])
    if zs is None:
        return [b"0", []]
    count, pattern = 10, None
    pos = 3
    while pos < len(argv):
        option = option_word(argv[pos])
        if option == b"COUNT" and len(argv) - pos >= 2:
            count = parse_int(argv[pos + 1])
            if count < 1:
                raise ErrorReply(errors.SYNTAX)
        elif option == b"MATCH" and len(argv) - pos >= 2:
            pattern = None if argv[pos + 1] == b"*" else argv[pos + 1]
        else:
            raise ErrorReply(errors.SYNTAX)
        pos += 2
    found: list[bytes] = []
    if zs.listpack:
        members = [(member, _listpack_score(score)) for score, member in zs.order]
        cursor = 0
    else:
        seen: list[bytes] = []
        table = zs.scan_table()
        budget = count * 20  # Redis doubles COUNT for member/score pairs, then allows 10x
        while True:
            cursor = table.scan(cursor, seen.append)
            if not cursor or not budget:
                break
            budget -= 1
            if len(seen) >= count:
                break
        scores = zs.scores
        members = [(member, _skiplist_score(scores[member])) for member in seen]
    for member, score in members:
        if pattern is None or match(pattern, member):
            found.append(member)
            found.append(score)
    return [b"%d" % cursor, found]

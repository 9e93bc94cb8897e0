"""Lists: every list command, blocking ones included (Redis 7.0's t_list.c), over the
`RedisList` value type of types/lists.py. An empty list is never stored: the command that
empties it deletes the key.

Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) serve at once when they can;
otherwise they park the client with `c.block`, handing over an `attempt` closure that the
blocking registry retries, first blocked first served, whenever one of the keys changes.
"""

from __future__ import annotations

from itertools import islice

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.blocking import parse_timeout
from yizhan.redis.keyspace import LIST
from yizhan.redis.table import command
from yizhan.redis.types.lists import RedisList
from yizhan.resp import NULL_ARRAY, OK, ErrorReply
from yizhan.resp.encoder import BulkStrings, SameSizeBulkStrings


_LEFT, _RIGHT = b"LEFT", b"RIGHT"


# -- shared helpers ---------------------------------------------------------------------------
def _side(raw: bytes) -> bytes:
    """LEFT or RIGHT (getListPositionFromObjectOrReply)."""
    side = option_word(raw)
    if side != _LEFT and side != _RIGHT:
        raise ErrorReply(errors.SYNTAX)
    return side


def _positive(raw: bytes, message: str = errors.LIST_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: 0..LONG_MAX, with one message for every failure."""
    value = parse_int(raw, message)
    if value < 0:
        raise ErrorReply(message)
    return value


def _at_least_one(raw: bytes, message: str) -> int:
    """getRangeLongFromObjectOrReply(1, LONG_MAX) with a message for every failure."""
    value = parse_int(raw, message)
    if value < 1:
        raise ErrorReply(message)
    return value


def _list(c, key: bytes) -> RedisList | None:
    """The list at `key` for a reading command (lookupKeyRead)."""
    return c.db.read_typed(key, RedisList)


def _list_for_write(c, key: bytes) -> RedisList | None:
    """The list at `key` for a writing command (lookupKeyWrite)."""
    return c.db.write_typed(key, RedisList)


def _peek_list(db, key: bytes) -> RedisList | None:
    """The list at `key` for a blocked client's retry: None when missing or of another type."""
    value = db.lookup_write(key)
    return value if type(value) is RedisList else None


def _deny_blocking(c) -> bool:
    """Redis's CLIENT_DENY_BLOCKING: inside MULTI/EXEC a blocking command answers at once."""
    return c.in_exec or c.multi is not None


def _unique(keys) -> list[bytes]:
    """Keys in order with repeats dropped (a client waits once per key, as blockForKeys)."""
    return list(dict.fromkeys(keys))


def _pop_many(lst: RedisList, left: bool, count: int) -> list[bytes]:
    take = min(count, len(lst))
    pop = lst.popleft if left else lst.pop
    return [pop() for _ in range(take)]


def _normalize_range(start: int, end: int, size: int) -> tuple[int, int] | None:
    """Redis's index rules for LRANGE/LTRIM: negative from the tail, clamped; None if empty."""
    if start < 0:
        start += size
    if end < 0:
        end += size
    if start < 0:
        start = 0
    if start > end or start >= size:
        return None
    return start, min(end, size - 1)


def _slice(lst: RedisList, start: int, end: int) -> list[bytes]:
    """Elements start..end (inclusive, in range); a list's elements are bytes, which the
    reply's encoding may rely on (`BulkStrings`)."""
    items, size = lst.range(start, end)
    return SameSizeBulkStrings(items, size) if size >= 0 else BulkStrings(items)


# -- pushing ----------------------------------------------------------------------------------
def _push(c, argv, left: bool, only_existing: bool) -> int:
    db = c.db
    key = argv[1]
    lst = db.write_typed(key, RedisList)
    if lst is None:
        if only_existing:
            return 0
        lst = RedisList()
        _extend(lst, argv, left)
        db.store(key, lst)
    else:
        _extend(lst, argv, left)
    db.commit(key, LIST, "lpush" if left else "rpush", len(argv) - 2)  # one per element
    return len(lst)


def _extend(lst: RedisList, argv, left: bool) -> None:
    if len(argv) == 3:  # one element: no slice
        if left:
            lst.appendleft(argv[2])
        else:
            lst.append(argv[2])
    elif left:
        lst.extendleft(argv[2:])
    else:
        lst.extend(argv[2:])


_PUSH_COMPLEXITY = ("O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.")


@command("LPUSH key element [element ...]", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
         group="list", summary="Prepend one or multiple elements to a list", complexity=_PUSH_COMPLEXITY,
         key_specs="RW insert index:1")
def lpush(c, argv):
    return _push(c, argv, left=True, only_existing=False)


@command("RPUSH key element [element ...]", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
         group="list", summary="Append one or multiple elements to a list", complexity=_PUSH_COMPLEXITY,
         key_specs="RW insert index:1")
def rpush(c, argv):
    return _push(c, argv, left=False, only_existing=False)


@command("LPUSHX key element [element ...]", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
         group="list", since="2.2.0", summary="Prepend an element to a list, only if the list exists",
         complexity=_PUSH_COMPLEXITY,
         key_specs="RW insert index:1")
def lpushx(c, argv):
    return _push(c, argv, left=True, only_existing=True)


@command("RPUSHX key element [element ...]", arity=-3, flags="write denyoom fast", keys=(1, 1, 1),
         group="list", since="2.2.0", summary="Append an element to a list, only if the list exists",
         complexity=_PUSH_COMPLEXITY,
         key_specs="RW insert index:1")
def rpushx(c, argv):
    return _push(c, argv, left=False, only_existing=True)


@command("LINSERT key <BEFORE | AFTER> pivot element", arity=5, flags="write denyoom", keys=(1, 1, 1),
         group="list", since="2.2.0", summary="Insert an element before or after another element in a list",
         complexity="O(N) where N is the number of elements to traverse before seeing the value pivot. "
                    "This means that inserting somewhere on the left end on the list (head) can be "
                    "considered O(1) and inserting somewhere on the right end (tail) is O(N).",
         key_specs="RW insert index:1")
def linsert(c, argv):
    where = option_word(argv[2])
    if where != b"BEFORE" and where != b"AFTER":
        raise ErrorReply(errors.SYNTAX)
    key = argv[1]
    lst = _list_for_write(c, key)
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(index if where == b"BEFORE" else index + 1, argv[4])
    c.db.commit(key, LIST, "linsert")
    return len(lst)


# -- popping ----------------------------------------------------------------------------------
def _pop(c, argv, left: bool):
    if len(argv) > 3:
        raise ErrorReply(errors.wrong_arity("lpop" if left else "rpop"))
    has_count = len(argv) == 3
    count = _positive(argv[2]) if has_count else 0
    key = argv[1]
    lst = c.db.write_typed(key, RedisList)
    if lst is None:
        return NULL_ARRAY if has_count else None
    if has_count and not count:
        return []
    if has_count:
        reply = _pop_many(lst, left, count)
    else:
        reply = lst.popleft() if left else lst.pop()
    c.db.commit(key, LIST, "lpop" if left else "rpop", len(reply) if has_count else 1, lst)
    return reply


@command("LPOP key [count]", arity=-2, flags="write fast", keys=(1, 1, 1), group="list",
         summary="Remove and get the first elements in a list",
         complexity="O(N) where N is the number of elements returned",
         key_specs="RW access delete index:1")
def lpop(c, argv):
    return _pop(c, argv, left=True)


@command("RPOP key [count]", arity=-2, flags="write fast", keys=(1, 1, 1), group="list",
         summary="Remove and get the last elements in a list",
         complexity="O(N) where N is the number of elements returned",
         key_specs="RW access delete index:1")
def rpop(c, argv):
    return _pop(c, argv, left=False)


def _parse_mpop(argv, numkeys_at: int) -> tuple[list[bytes], bool, int]:
    """LMPOP/BLMPOP arguments after the command (and timeout): keys, left?, count."""
    numkeys = _at_least_one(argv[numkeys_at], errors.NUMKEYS_NOT_POSITIVE)
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        raise ErrorReply(errors.SYNTAX)
    left = _side(argv[where_at]) == _LEFT
    count = -1
    pos = where_at + 1
    while pos < len(argv):
        if count == -1 and option_word(argv[pos]) == b"COUNT" and pos + 1 < len(argv):
            count = _at_least_one(argv[pos + 1], "ERR count should be greater than 0")
            pos += 2
        else:
            raise ErrorReply(errors.SYNTAX)
    return argv[numkeys_at + 1:where_at], left, max(count, 1)


def _pop_first(c, db, keys, left: bool, count: int | None, strict: bool):
    """Pop from the first non-empty list among `keys`: [key, element] when count is None
    (BLPOP/BRPOP), else [key, [up to count elements]] (LMPOP/BLMPOP); None when all are empty.
    `strict` raises WRONGTYPE at a key of another type (a command run by its client); a blocked
    client's retry skips such keys instead."""
    for key in keys:
        lst = _list_for_write(c, key) if strict else _peek_list(db, key)
        if not lst:
            continue
        if count is None:
            reply = [key, lst.popleft() if left else lst.pop()]
        else:
            reply = [key, _pop_many(lst, left, count)]
        db.commit(key, LIST, "lpop" if left else "rpop", 1 if count is None else len(reply[1]), lst)
        return reply
    return None


@command("LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", arity=-4, flags="write movablekeys",
         group="list", since="7.0.0", summary="Pop elements from a list",
         complexity="O(N+M) where N is the number of provided keys and M is the number of elements "
                    "returned.",
         key_specs="RW access delete index:1 keynum:0:1:1")
def lmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 1)
    reply = _pop_first(c, c.db, keys, left, count, strict=True)
    return NULL_ARRAY if reply is None else reply


# -- reading ----------------------------------------------------------------------------------
@command("LLEN key", arity=2, flags="readonly fast", keys=(1, 1, 1), group="list",
         summary="Get the length of a list",
         key_specs="RO index:1")
def llen(c, argv):
    lst = _list(c, argv[1])
    return 0 if lst is None else len(lst)


@command("LRANGE key start stop", arity=4, flags="readonly", keys=(1, 1, 1), group="list",
         summary="Get a range of elements from a list",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, from "
                    "nearest end (HEAD or TAIL) for large lists; and N is the number of elements in "
                    "the specified range.")
def lrange(c, argv):
    start, end = parse_int(argv[2]), parse_int(argv[3])
    lst = _list(c, argv[1])
    if lst is None:
        return []
    bounds = _normalize_range(start, end, len(lst))
    return [] if bounds is None else _slice(lst, *bounds)


@command("LINDEX key index", arity=3, flags="readonly", keys=(1, 1, 1), group="list",
         summary="Get an element from a list by its index",
         complexity="O(N) where N is the number of elements to traverse to get to the element at "
                    "index. This makes asking for the first or the last element of the list O(1).")
def lindex(c, argv):
    lst = _list(c, argv[1])
    if lst is None:
        return None
    index = parse_int(argv[2])
    if index < 0:
        index += len(lst)
    return lst[index] if 0 <= index < len(lst) else None


@command("LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]", arity=-3, flags="readonly",
         keys=(1, 1, 1), group="list", since="6.0.6", summary="Return the index of matching elements on a list",
         complexity="O(N) where N is the number of elements in the list, for the average case. When "
                    "searching for elements near the head or the tail of the list, or when the MAXLEN "
                    "option is provided, the command may run in constant time.")
def lpos(c, argv):
    rank, count, maxlen = _parse_lpos(argv)
    from_tail = rank < 0
    if rank == -(1 << 63):
        # In C, -LONG_MIN stays LONG_MIN: every match reaches that rank, and the COUNT test
        # (matches - rank + 1 >= count) overflows and never stops the scan.
        rank = 1
        count = 0 if count != -1 else -1
    elif from_tail:
        rank = -rank
    lst = _list(c, argv[1])
    if lst is None:
        return [] if count != -1 else None
    matches = _lpos_scan(lst, argv[2], rank, count, maxlen, from_tail)
    if count != -1:
        return matches
    return matches[0] if matches else None


def _parse_lpos(argv) -> tuple[int, int, int]:
    rank, count, maxlen = 1, -1, 0
    pos = 3
    while pos < len(argv):
        option = option_word(argv[pos])
        has_value = pos + 1 < len(argv)
        if option == b"RANK" and has_value:
            rank = parse_int(argv[pos + 1])
            if rank == 0:
                raise ErrorReply(errors.LPOS_RANK_ZERO)
        elif option == b"COUNT" and has_value:
            count = _positive(argv[pos + 1], "ERR COUNT can't be negative")
        elif option == b"MAXLEN" and has_value:
            maxlen = _positive(argv[pos + 1], "ERR MAXLEN can't be negative")
        else:
            raise ErrorReply(errors.SYNTAX)
        pos += 2
    return rank, count, maxlen


def _lpos_scan(lst, element: bytes, rank: int, count: int, maxlen: int, from_tail: bool) -> list[int]:
    """Indexes (as LINDEX counts them) of matches from the rank-th on, at most `count` of them
    (all for 0; one when COUNT was not given), looking at no more than `maxlen` elements."""
    size = len(lst)
    limit = size if not maxlen else min(maxlen, size)
    wanted = 1 if count == -1 else count
    found: list[int] = []
    matches = 0
    for offset, item in enumerate(islice(reversed(lst) if from_tail else lst, limit)):
        if item == element:
            matches += 1
            if matches >= rank:
                found.append(size - offset - 1 if from_tail else offset)
                if wanted and len(found) >= wanted:
                    break
    return found


# -- changing in place ------------------------------------------------------------------------
@command("LSET key index element", arity=4, flags="write denyoom", keys=(1, 1, 1), group="list",
         summary="Set the value of an element in a list by its index",
         complexity="O(N) where N is the length of the list. Setting either the first or the last "
                    "element of the list is O(1).")
def lset(c, argv):
    key = argv[1]
    lst = _list_for_write(c, key)
    if lst is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    index = parse_int(argv[2])
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        raise ErrorReply(errors.INDEX_OUT_OF_RANGE)
    lst[index] = argv[3]
    c.db.commit(key, LIST, "lset")
    return OK


@command("LREM key count element", arity=4, flags="write", keys=(1, 1, 1), group="list",
         summary="Remove elements from a list",
         complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
         key_specs="RW delete index:1")
def lrem(c, argv):
    limit = parse_int(argv[2])
    key, element = argv[1], argv[3]
    lst = _list_for_write(c, key)
    if lst is None:
        return 0
    removed = _remove_matches(lst, element, limit)
    if removed:
        c.db.commit(key, LIST, "lrem", removed, lst)
    return removed


def _remove_matches(lst: RedisList, element: bytes, limit: int) -> int:
    """Remove up to |limit| occurrences (all for 0), from the tail when limit < 0."""
    size = len(lst)
    if limit == 0:
        kept = [item for item in lst if item != element]
    else:
        budget = abs(limit)
        kept = []
        for item in (reversed(lst) if limit < 0 else lst):
            if budget and item == element:
                budget -= 1
            else:
                kept.append(item)
        if limit < 0:
            kept.reverse()
    removed = size - len(kept)
    if removed:
        lst.clear()
        lst.extend(kept)
    return removed


@command("LTRIM key start stop", arity=4, flags="write", keys=(1, 1, 1), group="list",
         summary="Trim a list to the specified range",
         complexity="O(N) where N is the number of elements to be removed by the operation.",
         key_specs="RW delete index:1")
def ltrim(c, argv):
    start, end = parse_int(argv[2]), parse_int(argv[3])
    key = argv[1]
    lst = _list_for_write(c, key)
    if lst is None:
        return OK
    size = len(lst)
    bounds = _normalize_range(start, end, size)
    if bounds is None:
        lst.clear()
    else:
        first, last = bounds
        drop_left, drop_right = first, size - 1 - last
        if drop_left + drop_right > last - first + 1:
            kept = _slice(lst, first, last)
            lst.clear()
            lst.extend(kept)
        else:
            for _ in range(drop_left):
                lst.popleft()
            for _ in range(drop_right):
                lst.pop()
    c.db.commit(key, LIST, "ltrim", size - len(lst), lst)
    return OK


# -- moving between lists ---------------------------------------------------------------------
def _move(c, db, source: bytes, src: RedisList, destination: bytes, dst: RedisList | None,
          from_left: bool, to_left: bool) -> bytes:
    """Pop from `src` and push onto `dst` (None: create it), with Redis's events in its order:
    the push on the destination, then the pop on the source, then its deletion if emptied."""
    value = src.popleft() if from_left else src.pop()
    if dst is None:
        db.store(destination, RedisList((value,)))
    elif to_left:
        dst.appendleft(value)
    else:
        dst.append(value)
    db.commit(destination, LIST, "lpush" if to_left else "rpush", 0)  # LMOVE counts the pop only
    db.commit(source, LIST, "lpop" if from_left else "rpop", 1, src)
    return value


def _lmove(c, source: bytes, destination: bytes, from_left: bool, to_left: bool):
    src = _list_for_write(c, source)
    if src is None:
        return None
    dst = _list_for_write(c, destination)
    return _move(c, c.db, source, src, destination, dst, from_left, to_left)


@command("LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>", arity=5, flags="write denyoom",
         keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Pop an element from a list, push it to another list and return it",
         key_specs="RW access delete index:1; RW insert index:2")
def lmove(c, argv):
    from_left = _side(argv[3]) == _LEFT
    to_left = _side(argv[4]) == _LEFT
    return _lmove(c, argv[1], argv[2], from_left, to_left)


@command("RPOPLPUSH source destination", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list",
         since="1.2.0", summary="Remove the last element in a list, prepend it to another list and return it",
         key_specs="RW access delete index:1; RW insert index:2")
def rpoplpush(c, argv):
    return _lmove(c, argv[1], argv[2], from_left=False, to_left=True)


# -- blocking ---------------------------------------------------------------------------------
def _blocking_pop(c, keys: list[bytes], timeout_ms: int, left: bool, count: int | None):
    """BLPOP/BRPOP (count None: reply [key, element]) and BLMPOP (reply [key, [elements]])."""
    reply = _pop_first(c, c.db, keys, left, count, strict=True)
    if reply is not None:
        return reply
    if _deny_blocking(c):
        return NULL_ARRAY
    db = c.db
    waiting = _unique(keys)

    def attempt(key: bytes | None = None):
        """Serve from `key` when told which key is ready (Redis serves a client from the key
        that became ready), else from the first non-empty list."""
        return _pop_first(c, db, waiting if key is None else (key,), left, count, strict=False)

    return c.block(waiting, timeout_ms, attempt, NULL_ARRAY)


@command("BLPOP key [key ...] timeout", arity=-3, flags="write noscript blocking", keys=(1, -2, 1),
         group="list", since="2.0.0",
         summary="Remove and get the first element in a list, or block until one is available",
         complexity="O(N) where N is the number of provided keys.",
         key_specs="RW access delete index:1 range:-2:1:0")
def blpop(c, argv):
    timeout_ms = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], timeout_ms, left=True, count=None)


@command("BRPOP key [key ...] timeout", arity=-3, flags="write noscript blocking", keys=(1, -2, 1),
         group="list", since="2.0.0",
         summary="Remove and get the last element in a list, or block until one is available",
         complexity="O(N) where N is the number of provided keys.",
         key_specs="RW access delete index:1 range:-2:1:0")
def brpop(c, argv):
    timeout_ms = parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], timeout_ms, left=False, count=None)


@command("BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", arity=-5,
         flags="write blocking movablekeys", group="list", since="7.0.0",
         summary="Pop elements from a list, or block until one is available",
         complexity="O(N+M) where N is the number of provided keys and M is the number of elements "
                    "returned.",
         key_specs="RW access delete index:2 keynum:0:1:1")
def blmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 2)
    timeout_ms = parse_timeout(argv[1])
    return _blocking_pop(c, keys, timeout_ms, left, count)


def _blocking_move(c, source: bytes, destination: bytes, from_left: bool, to_left: bool, timeout_ms: int):
    if _list_for_write(c, source) is not None:
        return _lmove(c, source, destination, from_left, to_left)
    if _deny_blocking(c):
        return None
    db = c.db

    def attempt(key: bytes | None = None):
        src = _peek_list(db, source)
        if not src:
            return None
        dst = db.lookup_write(destination)
        if dst is not None and type(dst) is not RedisList:
            return ErrorReply(errors.WRONGTYPE)  # Redis answers the error and unblocks
        return _move(c, db, source, src, destination, dst, from_left, to_left)

    return c.block([source], timeout_ms, attempt, NULL_ARRAY)


@command("BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout", arity=6,
         flags="write denyoom noscript blocking", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Pop an element from a list, push it to another list and return it; or block until "
                 "one is available",
         key_specs="RW access delete index:1; RW insert index:2")
def blmove(c, argv):
    from_left = _side(argv[3]) == _LEFT
    to_left = _side(argv[4]) == _LEFT
    timeout_ms = parse_timeout(argv[5])
    return _blocking_move(c, argv[1], argv[2], from_left, to_left, timeout_ms)


@command("BRPOPLPUSH source destination timeout", arity=4, flags="write denyoom noscript blocking",
         keys=(1, 2, 1), group="list", since="2.2.0",
         summary="Pop an element from a list, push it to another list and return it; or block until "
                 "one is available",
         key_specs="RW access delete index:1; RW insert index:2")
def brpoplpush(c, argv):
    timeout_ms = parse_timeout(argv[3])
    return _blocking_move(c, argv[1], argv[2], False, True, timeout_ms)

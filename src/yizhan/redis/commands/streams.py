"""Streams: every X* command as Redis 7.0's t_stream.c, over the `Stream` value type of
types/streams.py: XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD and XREADGROUP
(blocking included), XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO.

A blocking XREAD/XREADGROUP that finds nothing parks its client with `c.block`; its `attempt`
serves it from the stream that changed, first blocked first served, as Redis's
serveClientsBlockedOnStreamKey does (a reader in a group waits past the group's last ID, a
destroyed group or a deleted stream wakes it with Redis's error).
"""

from __future__ import annotations

import os
from itertools import islice

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.keyspace import STREAM
from yizhan.redis.table import command, container, help_reply
from yizhan.redis.types.streams import (INVALID_ENTRIES_READ, LISTPACK_MAX_SIZE, MAX, MAX_ID, ZERO,
                                        Group, Nack, Stream, decr_id, format_id, incr_id)
from yizhan.resp import NULL_ARRAY, OK, ErrorReply, Raw
from yizhan.resp.encoder import Many

_GROUP = "stream"
_C_SPACE = b" \t\n\v\f\r"
XREAD_BLOCKED_DEFAULT_COUNT = 1000
_FOREVER_MS = 1 << 40  # a BLOCK longer than this (35 years) waits forever
_MEMORY_BYTES = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# -- arguments ----------------------------------------------------------------------------------
def _cstr(raw: bytes) -> bytes:
    """An argument as C string functions see it: up to the first NUL."""
    return raw.split(b"\0", 1)[0]


def _strtoull(text: bytes) -> int | None:
    """Redis's string2ull: string2ll (a negative number fails), else strtoull's syntax (blanks,
    a sign, at least one digit, nothing after; '-' negates modulo 2**64; ERANGE fails)."""
    try:
        value = parse_int(text)
    except ErrorReply:
        value = None
    if value is not None:
        return value if value >= 0 else None
    rest = text.lstrip(_C_SPACE)
    negative = rest[:1] == b"-"
    if rest[:1] in (b"-", b"+"):
        rest = rest[1:]
    if not rest or not rest.isdigit():
        return None
    value = int(rest)
    if value > MAX_ID:
        return None
    return (-value) & MAX_ID if negative else value


def parse_id(raw: bytes, missing_seq: int = 0, strict: bool = False, star: bool = False):
    """streamGenericParseIDOrReply: (id, seq_given). `strict` refuses "-" and "+"; `star`
    (XADD) accepts "ms-*" with seq_given False."""
    if len(raw) > 127:
        raise ErrorReply(errors.STREAM_INVALID_ID)
    text = raw.split(b"\0", 1)[0]
    if text in (b"-", b"+"):
        if strict:
            raise ErrorReply(errors.STREAM_INVALID_ID)
        return (ZERO if text == b"-" else MAX), True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = _strtoull(ms_text)
    if ms is None:
        raise ErrorReply(errors.STREAM_INVALID_ID)
    if not dash:
        return (ms, missing_seq), True
    if star and seq_text == b"*":
        return (ms, 0), False
    seq = _strtoull(seq_text)
    if seq is None:
        raise ErrorReply(errors.STREAM_INVALID_ID)
    return (ms, seq), True


def _strict_id(raw: bytes, missing_seq: int = 0):
    return parse_id(raw, missing_seq, strict=True)[0]


def _interval_start(raw: bytes):
    """The start of a range: "(" excludes (streamParseIntervalIDOrReply + streamIncrID)."""
    if len(raw) > 1 and raw[:1] == b"(":
        sid = incr_id(_strict_id(raw[1:], 0))
        if sid is None:
            raise ErrorReply(errors.STREAM_INVALID_START)
        return sid
    return parse_id(raw, 0)[0]


def _interval_end(raw: bytes):
    if len(raw) > 1 and raw[:1] == b"(":
        sid = decr_id(_strict_id(raw[1:], MAX_ID))
        if sid is None:
            raise ErrorReply(errors.STREAM_INVALID_END)
        return sid
    return parse_id(raw, MAX_ID)[0]


def _long(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    return parse_int(raw, message)


class TrimArgs:
    """What streamParseAddOrTrimArgsOrReply finds: the trimming strategy and, for XADD, the
    NOMKSTREAM flag and the ID."""

    __slots__ = ("maxlen", "minid", "approx", "limit", "limit_given", "strategy_at", "nomkstream",
                 "id_at", "id", "id_given", "seq_given")

    def __init__(self):
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.limit_given = False
        self.strategy_at = 0
        self.nomkstream = False
        self.id_at = 0
        self.id = ZERO
        self.id_given = False
        self.seq_given = True

    @property
    def strategy(self) -> bool:
        return self.maxlen is not None or self.minid is not None


def _parse_trim(argv, xadd: bool) -> TrimArgs:
    args = TrimArgs()
    i = 2
    n = len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        word = option_word(opt)
        if xadd and _cstr(opt) == b"*":
            break
        if word == b"MAXLEN" and more:
            if args.strategy:
                raise ErrorReply(errors.TRIM_MAXLEN_AND_MINID)
            args.approx = False
            nxt = argv[i + 1].split(b"\0", 1)[0]
            if more >= 2 and nxt in (b"~", b"="):
                args.approx = nxt == b"~"
                i += 1
            maxlen = _long(argv[i + 1])
            if maxlen < 0:
                raise ErrorReply(errors.TRIM_MAXLEN_NEGATIVE)
            args.maxlen = maxlen
            i += 1
            args.strategy_at = i
        elif word == b"MINID" and more:
            if args.strategy:
                raise ErrorReply(errors.TRIM_MAXLEN_AND_MINID)
            args.approx = False
            nxt = argv[i + 1].split(b"\0", 1)[0]
            if more >= 2 and nxt in (b"~", b"="):
                args.approx = nxt == b"~"
                i += 1
            args.minid = _strict_id(argv[i + 1])
            i += 1
            args.strategy_at = i
        elif word == b"LIMIT" and more:
            limit = _long(argv[i + 1])
            if limit < 0:
                raise ErrorReply(errors.TRIM_LIMIT_NEGATIVE)
            args.limit = limit
            args.limit_given = True
            i += 1
        elif xadd and word == b"NOMKSTREAM":
            args.nomkstream = True
        elif xadd:
            args.id, args.seq_given = parse_id(opt, 0, strict=True, star=True)
            args.id_given = True
            break
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 1
    args.id_at = i
    if args.limit and not args.strategy:
        raise ErrorReply(errors.TRIM_LIMIT_WITHOUT_STRATEGY)
    if not xadd and not args.strategy:
        raise ErrorReply(errors.XTRIM_WITHOUT_STRATEGY)
    if args.limit_given and not args.approx:
        raise ErrorReply(errors.TRIM_LIMIT_WITHOUT_APPROX)
    return args


def _default_limit(c) -> int:
    """100 nodes' worth of entries, capped as Redis caps it."""
    limit = 100 * c.server.int_params["stream-node-max-entries"]
    if limit <= 0:
        limit = 10000
    return min(limit, 1000000)


def _trim(c, s: Stream, args: TrimArgs) -> int:
    """Trim as parsed; `~` without LIMIT works through at most 100 nodes' worth of entries,
    exact trimming has no limit."""
    if args.limit_given:
        limit = args.limit
    else:
        limit = _default_limit(c) if args.approx else 0
    return s.trim(args.maxlen, args.minid, args.approx, limit)


# -- replies ----------------------------------------------------------------------------------
def _entry(item) -> list:
    return [format_id(item.id), item.fields]


def _entries(items) -> list:
    return [[format_id(item.id), item.fields] for item in items]


def _keyed(c, pairs: list) -> object:
    """[key, value] pairs (a new list of new lists) as an array of pairs (RESP2: the list as
    it is) or a map (RESP3), duplicates kept."""
    if c.proto == 2:
        return pairs
    keys = [key for key, _ in pairs]
    if len(set(keys)) == len(keys):
        return dict(pairs)
    out = Many([Raw(b"%%%d\r\n" % len(pairs))])
    for key, value in pairs:
        out.extend((key, value))
    return out


def _now(c) -> int:
    return c.server.clock.ms()


def _unsignalled(c, key: bytes, event: str | None, dirty: int = 1) -> None:
    """A change Redis makes without signalModifiedKey (consumer-group and PEL bookkeeping:
    WATCH does not see it): `dirty` counted and `event` fired, as `Database.commit` would,
    without the key's signal."""
    db = c.db
    db.touched.add(key)  # its memory is costed again (key_cost.settle)
    if db.stats is not None:
        db.stats.dirty += dirty
    if event is not None and db.on_event is not None:
        db.on_event(db, STREAM, event, key)


# -- XADD, XTRIM, XDEL, XLEN, XSETID --------------------------------------------------------------
@command("XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value "
         "[field value ...]", arity=-5, flags="write denyoom fast", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Appends a new entry to a stream",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of "
                    "entries evicted.", tips="nondeterministic_output",
         key_specs=("RW update index:1 -- UPDATE instead of INSERT because of the optional "
                    "trimming feature"))
def xadd(c, argv):
    args = _parse_trim(argv, xadd=True)
    field_at = args.id_at + 1
    nfields = len(argv) - field_at
    if nfields < 2 or nfields % 2:
        raise ErrorReply(errors.wrong_arity("xadd"))
    if args.id_given and args.seq_given and args.id == ZERO:
        raise ErrorReply(errors.XADD_ID_ZERO)
    db, key = c.db, argv[1]
    s = db.write_typed(key, Stream)
    created = s is None
    if created:
        if args.nomkstream:
            return None
        s = Stream()
    if s.last_id == MAX:
        raise ErrorReply(errors.XADD_EXHAUSTED)
    sid = _new_id(c, s, args)
    fields = argv[field_at:]
    if sum(map(len, fields)) > LISTPACK_MAX_SIZE:
        raise ErrorReply(errors.XADD_TOO_LARGE)
    params = c.server.int_params
    s.append(sid, fields, params["stream-node-max-bytes"], params["stream-node-max-entries"])
    if created:
        db.store(key, s)
    db.commit(key, STREAM, "xadd")
    if args.strategy and _trim(c, s, args):
        db.commit(key, STREAM, "xtrim", 0)
    return format_id(sid)


def _new_id(c, s: Stream, args: TrimArgs):
    if not args.id_given:
        return s.next_id(_now(c))
    sid = args.id
    if not args.seq_given:
        if s.last_id[0] == sid[0]:
            if s.last_id[1] == MAX_ID:  # Redis answers with the errno left over: ERANGE
                raise ErrorReply(errors.XADD_TOO_LARGE)
            sid = (sid[0], s.last_id[1] + 1)
    if sid <= s.last_id:
        raise ErrorReply(errors.XADD_ID_SMALL)
    return sid


@command("XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]", arity=-4, flags="write",
         keys=(1, 1, 1), group=_GROUP, since="6.2.0", summary="Trims the stream to (approximately if '~' "
         "is passed) a certain size", complexity="O(N), with N being the number of evicted entries. "
         "Constant times are very small however, since entries are organized in macro nodes containing "
         "multiple entries that can be released with a single deallocation.", tips="nondeterministic_output",
         key_specs="RW delete index:1")
def xtrim(c, argv):
    args = _parse_trim(argv, xadd=False)
    db, key = c.db, argv[1]
    s = db.write_typed(key, Stream)
    if s is None:
        return 0
    deleted = _trim(c, s, args)
    if deleted:
        db.commit(key, STREAM, "xtrim", deleted)
    return deleted


@command("XDEL key id [id ...]", arity=-3, flags="write fast", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Removes the specified entries from the stream. Returns the number of "
         "items actually deleted, that may be different from the number of IDs passed in case certain "
         "IDs do not exist.", complexity="O(1) for each single item to delete in the stream, regardless "
         "of the stream size.",
         key_specs="RW delete index:1")
def xdel(c, argv):
    db, key = c.db, argv[1]
    s = db.write_typed(key, Stream)
    if s is None:
        return 0
    ids = [_strict_id(raw) for raw in argv[2:]]
    deleted = 0
    first_entry = False
    for sid in ids:
        if s.delete(sid):
            if sid == s.first_id:
                first_entry = True
            if sid > s.max_deleted:
                s.max_deleted = sid
            deleted += 1
    if deleted:
        if not s.ids:
            s.first_id = ZERO
        elif first_entry:
            s.first_id = s.ids[0]
        db.commit(key, STREAM, "xdel", deleted)
    return deleted


@command("XLEN key", arity=2, flags="readonly fast", keys=(1, 1, 1), group=_GROUP, since="5.0.0",
         summary="Return the number of entries in a stream",
         key_specs="RO index:1")
def xlen(c, argv):
    s = c.db.read_typed(argv[1], Stream)
    return 0 if s is None else len(s.ids)


@command("XSETID key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]",
         arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group=_GROUP, since="5.0.0",
         summary="An internal command for replicating stream values")
def xsetid(c, argv):
    sid = _strict_id(argv[2])
    entries_added = -1
    max_deleted = ZERO
    i = 3
    while i < len(argv):
        more = len(argv) - 1 - i
        word = option_word(argv[i])
        if word == b"ENTRIESADDED" and more:
            entries_added = _long(argv[i + 1])
            if entries_added < 0:
                raise ErrorReply(errors.XSETID_ENTRIES_ADDED_NEGATIVE)
        elif word == b"MAXDELETEDID" and more:
            max_deleted = _strict_id(argv[i + 1])
            if sid < max_deleted:
                raise ErrorReply(errors.XSETID_BELOW_MAX_DELETED)
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 2
    s = c.db.write_typed(argv[1], Stream)
    if s is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    if s.ids:
        if sid < s.ids[-1]:
            raise ErrorReply(errors.XSETID_SMALL)
        if entries_added != -1 and len(s.ids) > entries_added:
            raise ErrorReply(errors.XSETID_ENTRIES_ADDED_SMALL)
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_deleted != ZERO:
        s.max_deleted = max_deleted
    _unsignalled(c, argv[1], "xsetid")
    return OK


# -- XRANGE / XREVRANGE -----------------------------------------------------------------------------
def _range(c, argv, rev: bool):
    start_raw, end_raw = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start = _interval_start(start_raw)
    end = _interval_end(end_raw)
    count = -1
    i = 4
    while i < len(argv):
        if option_word(argv[i]) == b"COUNT" and len(argv) - i - 1 >= 1:
            count = max(_long(argv[i + 1]), 0)
            i += 2
        else:
            raise ErrorReply(errors.SYNTAX)
    s = c.db.read_typed(argv[1], Stream)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries(s.range(start, end, rev, max(count, 0)))


@command("XRANGE key start end [COUNT count]", arity=-4, flags="readonly", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Return a range of elements in a stream, with IDs matching the specified "
         "IDs interval", complexity="O(N) with N being the number of elements being returned. If N is "
         "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).")
def xrange(c, argv):
    return _range(c, argv, rev=False)


@command("XREVRANGE key end start [COUNT count]", arity=-4, flags="readonly", keys=(1, 1, 1),
         group=_GROUP, since="5.0.0", summary="Return a range of elements in a stream, with IDs matching "
         "the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
         complexity="O(N) with N being the number of elements returned. If N is constant (e.g. always "
         "asking for the first 10 elements with COUNT), you can consider it O(1).")
def xrevrange(c, argv):
    return _range(c, argv, rev=True)


# -- XREAD / XREADGROUP -------------------------------------------------------------------------------
class ReadArgs:
    __slots__ = ("timeout_ms", "count", "keys", "raw_ids", "group", "consumer", "noack")

    def __init__(self):
        self.timeout_ms = -1
        self.count = 0
        self.keys: list[bytes] = []
        self.raw_ids: list[bytes] = []
        self.group: bytes | None = None
        self.consumer: bytes | None = None
        self.noack = False


# the option words as clients usually spell them, found without upper-casing
_READ_WORDS = {spelling: word for word in (b"BLOCK", b"COUNT", b"STREAMS", b"GROUP", b"NOACK")
               for spelling in (word, word.lower())}


def _parse_read(c, argv, group_mode: bool) -> ReadArgs:
    args = ReadArgs()
    streams_at = 0
    n = len(argv)
    i = 1
    while i < n:
        more = n - i - 1
        word = _READ_WORDS.get(argv[i]) or option_word(argv[i])
        if word == b"BLOCK" and more:
            if c.in_script:
                raise ErrorReply(errors.block_in_script(argv[0]))
            i += 1
            timeout = _long(argv[i], errors.XREAD_TIMEOUT_NOT_INTEGER)
            if timeout < 0:
                raise ErrorReply(errors.TIMEOUT_NEGATIVE)
            args.timeout_ms = timeout
        elif word == b"COUNT" and more:
            i += 1
            args.count = max(_long(argv[i]), 0)
        elif word == b"STREAMS" and more:
            streams_at = i + 1
            pairs = n - streams_at
            if pairs % 2:
                raise ErrorReply(errors.XREAD_UNBALANCED)
            half = pairs // 2
            args.keys = argv[streams_at:streams_at + half]
            args.raw_ids = argv[streams_at + half:]
            break
        elif word == b"GROUP" and more >= 2:
            if not group_mode:
                raise ErrorReply(errors.XREAD_GROUP_OPTION)
            args.group, args.consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif word == b"NOACK":
            if not group_mode:
                raise ErrorReply(errors.XREAD_NOACK_OPTION)
            args.noack = True
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 1
    if not streams_at:
        raise ErrorReply(errors.SYNTAX)
    if group_mode and args.group is None:
        raise ErrorReply(errors.XREADGROUP_MISSING_GROUP)
    return args


def _read_ids(c, args: ReadArgs, group_mode: bool) -> tuple[list, list]:
    """Each stream's starting point (exclusive) and, in a group read, its group."""
    ids, groups = [], []
    for key, raw in zip(args.keys, args.raw_ids):
        s = c.db.read_typed(key, Stream)
        if group_mode:
            group = s.groups.get(args.group) if s is not None else None
            if group is None:
                raise ErrorReply(errors.nogroup(key, args.group, " in XREADGROUP with GROUP option"))
            groups.append(group)
        text = _cstr(raw)
        if text == b"$":
            if group_mode:
                raise ErrorReply(errors.XREADGROUP_DOLLAR)
            ids.append(s.last_id if s is not None else ZERO)
        elif text == b">":
            if not group_mode:
                raise ErrorReply(errors.XREAD_GREATER)
            ids.append(None)
        else:
            sid = _strict_id(raw)
            # Redis keeps ">" as the largest ID: that ID given explicitly reads new entries too
            ids.append(None if group_mode and sid == MAX else sid)
    return ids, groups


def _serve_group(c, s: Stream, key: bytes, group: Group, args: ReadArgs, after, count: int):
    """streamReplyWithRange for a group: new entries (after=None: past last_id) or the consumer's
    own history (after an ID)."""
    now = _now(c)
    consumer = group.consumer(args.consumer, now)
    if consumer is None:
        consumer = group.add_consumer(args.consumer, now)
        _unsignalled(c, key, "xgroup-createconsumer")
    if after is not None:
        return _history(s, consumer, after, count, now)
    items = s.unread(group, count)
    pel, own = group.pel, consumer.pel
    for item in items:  # each one past the group's last_id
        sid = item.id
        s.delivered(group, sid)
        if not args.noack:
            nack = pel.get(sid)
            if nack is None:
                nack = pel[sid] = Nack(now, consumer)
                own[sid] = nack
            else:
                group.assign(sid, nack, consumer)
                nack.delivery_time = now
                nack.delivery_count = 1
    return _entries(items)


def _history(s: Stream, consumer, after, count: int, now: int) -> list:
    """streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `after` + 1; a
    deleted entry comes as [id, nil]."""
    start = incr_id(after)
    out = []
    if start is None:
        return out
    for sid in consumer.pel.irange(minimum=start):
        if count and len(out) >= count:
            break
        item = s.index.get(sid)
        if item is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            nack = consumer.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append(_entry(item))
    return out


def _read(c, argv, group_mode: bool):
    args = _parse_read(c, argv, group_mode)
    ids, groups = _read_ids(c, args, group_mode)
    served = []
    for i, key in enumerate(args.keys):
        s = c.db.read_typed(key, Stream)
        if s is None:
            continue
        after = ids[i]
        if group_mode:
            group = groups[i]
            if after is None:
                if not s.ids or s.ids[-1] <= group.last_id:
                    continue
            served.append([key, _serve_group(c, s, key, group, args, after, args.count)])
            _unsignalled(c, key, None)
        elif s.ids and s.ids[-1] > after:
            served.append([key, _entries(s.after(after, args.count))])
    if served:
        return _keyed(c, served)
    if args.timeout_ms == -1 or c.in_exec or c.multi is not None:
        return NULL_ARRAY
    return _block(c, args, ids, group_mode)


def _block(c, args: ReadArgs, ids: list, group_mode: bool):
    db = c.db
    keys = list(dict.fromkeys(args.keys))
    since = {}
    for key, after in zip(args.keys, ids):
        since.setdefault(key, after)
    count = args.count or XREAD_BLOCKED_DEFAULT_COUNT

    def attempt(key: bytes):
        value = db.lookup_write(key, touch=False)
        if type(value) is not Stream:  # deleted or overwritten: group readers are told
            return ErrorReply(errors.UNBLOCKED_STREAM_GONE) if group_mode else None
        if group_mode:
            group = value.groups.get(args.group)
            if group is None:
                return ErrorReply(errors.NOGROUP_BLOCKED)
            after = group.last_id
        else:
            after = since[key]
        if value.last_id <= after:
            return None
        if group_mode:
            entries = _serve_group(c, value, key, group, args, None, count)
        else:
            entries = _entries(value.after(after, count))
        return _keyed(c, [[key, entries]])

    timeout = args.timeout_ms if args.timeout_ms <= _FOREVER_MS else 0
    return c.block(keys, timeout, attempt, NULL_ARRAY)


@command("XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]", arity=-4,
         flags="readonly blocking movablekeys", group=_GROUP, since="5.0.0",
         summary="Return never seen elements in multiple streams, with IDs greater than the ones reported "
         "by the caller for each stream. Can block.", complexity="For each stream mentioned: O(N) with N "
         "being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is "
         "O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M "
         "clients blocked on the stream getting new data.",
         key_specs="RO access keyword:STREAMS:1 range:-1:1:2")
def xread(c, argv):
    return _read(c, argv, group_mode=False)


@command("XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key "
         "[key ...] id [id ...]", arity=-7, flags="write blocking movablekeys", group=_GROUP,
         since="5.0.0", summary="Return new entries from a stream using a consumer group, or access the "
         "history of the pending entries for a given consumer. Can block.",
         complexity="For each stream mentioned: O(M) with M being the number of elements returned. If M "
         "is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it "
         "O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve "
         "the N clients blocked on the stream getting new data.",
         key_specs="RO access keyword:STREAMS:4 range:-1:1:2")
def xreadgroup(c, argv):
    return _read(c, argv, group_mode=True)


# -- XGROUP ---------------------------------------------------------------------------------------
container("XGROUP", group=_GROUP, since="5.0.0", summary="A container for consumer groups commands")


def _group_options(argv, create: bool, setid: bool) -> tuple[bool, int]:
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        word = option_word(argv[i])
        if create and word == b"MKSTREAM":
            mkstream = True
            i += 1
        elif (create or setid) and word == b"ENTRIESREAD" and i + 1 < len(argv):
            entries_read = _long(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise ErrorReply(errors.XGROUP_ENTRIESREAD)
            i += 2
        else:
            raise ErrorReply(errors.subcommand_syntax(argv[1], errors.text(argv[0])))
    return mkstream, entries_read


def _group_stream(c, argv, mkstream: bool = False) -> Stream | None:
    s = c.db.write_typed(argv[2], Stream)
    if s is None and not mkstream:
        raise ErrorReply(errors.XGROUP_NEEDS_KEY)
    return s


def _existing_group(c, argv) -> tuple[Stream, Group]:
    s = _group_stream(c, argv)
    group = s.groups.get(argv[3])
    if group is None:
        raise ErrorReply(errors.nogroup_for_key(argv[3], argv[2]))
    return s, group


@command("XGROUP CREATE key groupname <id | $> [MKSTREAM] [ENTRIESREAD entries_read]", arity=-5,
         flags="write denyoom", keys=(2, 2, 1), group=_GROUP, since="5.0.0",
         summary="Create a consumer group.",
         key_specs="RW insert index:2")
def xgroup_create(c, argv):
    mkstream, entries_read = _group_options(argv, create=True, setid=False)
    s = _group_stream(c, argv, mkstream)
    if len(argv) > 8:
        raise ErrorReply(errors.subcommand_syntax(argv[1], errors.text(argv[0])))
    if _cstr(argv[4]) == b"$":
        sid = s.last_id if s is not None else ZERO
    else:
        sid = _strict_id(argv[4])
    db, key = c.db, argv[2]
    if s is None:
        s = Stream()
        db.store(key, s)
        db.commit(key, STREAM, None, 0)
    if argv[3] in s.groups:
        raise ErrorReply(errors.BUSYGROUP)
    s.groups[argv[3]] = Group(sid, entries_read)
    _unsignalled(c, key, "xgroup-create")
    return OK


@command("XGROUP CREATECONSUMER key groupname consumername", arity=5, flags="write denyoom",
         keys=(2, 2, 1), group=_GROUP, since="6.2.0", summary="Create a consumer in a consumer group.",
         key_specs="RW insert index:2")
def xgroup_createconsumer(c, argv):
    _, group = _existing_group(c, argv)
    if group.add_consumer(argv[4], _now(c)) is None:
        return 0
    _unsignalled(c, argv[2], "xgroup-createconsumer")
    return 1


@command("XGROUP DESTROY key groupname", arity=4, flags="write", keys=(2, 2, 1), group=_GROUP,
         since="5.0.0", summary="Destroy a consumer group.",
         complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
         key_specs="RW delete index:2")
def xgroup_destroy(c, argv):
    s = _group_stream(c, argv)
    if s.groups.pop(argv[3], None) is None:
        return 0
    _unsignalled(c, argv[2], "xgroup-destroy")
    c.server.blocking.key_changed(c.db.index, argv[2])  # wakes its blocked readers
    return 1


_XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


@command("XGROUP HELP", arity=2, flags="loading stale", group=_GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def xgroup_help(c, argv):
    return help_reply(argv, _XGROUP_HELP)


@command("XGROUP DELCONSUMER key groupname consumername", arity=5, flags="write", keys=(2, 2, 1),
         group=_GROUP, since="5.0.0", summary="Delete a consumer from a consumer group.",
         key_specs="RW delete index:2")
def xgroup_delconsumer(c, argv):
    _, group = _existing_group(c, argv)
    consumer = group.consumer(argv[4], 0, refresh=False)
    if consumer is None:
        return 0
    pending = group.delete_consumer(consumer)
    _unsignalled(c, argv[2], "xgroup-delconsumer")
    return pending


@command("XGROUP SETID key groupname <id | $> [ENTRIESREAD entries_read]", arity=-5, flags="write",
         keys=(2, 2, 1), group=_GROUP, since="5.0.0", summary="Set a consumer group to an arbitrary last "
         "delivered ID value.")
def xgroup_setid(c, argv):
    _, entries_read = _group_options(argv, create=False, setid=True)
    s, group = _existing_group(c, argv)
    if len(argv) not in (5, 7):
        raise ErrorReply(errors.subcommand_syntax(argv[1], errors.text(argv[0])))
    sid = s.last_id if _cstr(argv[4]) == b"$" else parse_id(argv[4], 0)[0]
    group.last_id = sid
    group.entries_read = entries_read
    _unsignalled(c, argv[2], "xgroup-setid")
    return OK


# -- XACK, XPENDING, XCLAIM, XAUTOCLAIM -------------------------------------------------------------
@command("XACK key group id [id ...]", arity=-4, flags="write fast", keys=(1, 1, 1), group=_GROUP,
         since="5.0.0", summary="Marks a pending message as correctly processed, effectively removing it "
         "from the pending entries list of the consumer group. Return value of the command is the number "
         "of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the "
         "PEL.", complexity="O(1) for each message ID processed.")
def xack(c, argv):
    s = c.db.read_typed(argv[1], Stream)
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        return 0
    ids = [_strict_id(raw) for raw in argv[3:]]
    acked = 0
    for sid in ids:
        if group.ack(sid):
            acked += 1
    if acked:
        _unsignalled(c, argv[1], None, acked)
    return acked


@command("XPENDING key group [[IDLE min-idle-time] start end count [consumer]]", arity=-3,
         flags="readonly", keys=(1, 1, 1), group=_GROUP, since="5.0.0",
         summary="Return information and entries from a stream consumer group pending entries list, that "
         "are messages fetched but never acknowledged.", complexity="O(N) with N being the number of "
         "elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where "
         "M is the total number of entries scanned when used with the IDLE filter. When the command "
         "returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, "
         "an additional O(N) time for iterating every consumer.", tips="nondeterministic_output")
def xpending(c, argv):
    n = len(argv)
    if n != 3 and not 6 <= n <= 9:
        raise ErrorReply(errors.SYNTAX)
    consumer_name = None
    if n >= 6:
        at = 3
        min_idle = 0
        if option_word(argv[3]) == b"IDLE":
            min_idle = _long(argv[4])
            if n < 8:
                raise ErrorReply(errors.SYNTAX)
            at = 5
        count = max(_long(argv[at + 2]), 0)
        start = _interval_start(argv[at])
        end = _interval_end(argv[at + 1])
        if at + 3 < n:
            consumer_name = argv[at + 3]
    s = c.db.read_typed(argv[1], Stream)
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        raise ErrorReply(errors.nogroup(argv[1], argv[2]))
    if n == 3:
        return _pending_summary(group)
    pel = group.pel
    if consumer_name is not None:
        consumer = group.consumer(consumer_name, 0, refresh=False)
        if consumer is None:
            return []
        pel = consumer.pel
    now = _now(c)
    out = []
    if start > end:
        return out
    for sid in pel.irange(minimum=start, maximum=end):
        if not count:
            break
        nack = pel[sid]
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        count -= 1
        out.append([format_id(sid), nack.consumer.name, max(now - nack.delivery_time, 0),
                    nack.delivery_count])
    return out


def _pending_summary(group: Group) -> list:
    if not group.pel:
        return [0, None, None, NULL_ARRAY]
    owners = [[consumer.name, b"%d" % len(consumer.pel)]
              for consumer in group.sorted_consumers() if consumer.pel]
    return [len(group.pel), format_id(group.pel.keys()[0]), format_id(group.pel.keys()[-1]), owners]


def _claim_target(c, argv) -> tuple[Stream, Group]:
    s = c.db.read_typed(argv[1], Stream)
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        raise ErrorReply(errors.nogroup(argv[1], argv[2]))
    return s, group


def _claimer(c, group: Group, name: bytes, key: bytes, now: int):
    consumer = group.consumer(name, now)
    if consumer is None:
        consumer = group.add_consumer(name, now)
        _unsignalled(c, key, "xgroup-createconsumer")
    return consumer


@command("XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] "
         "[RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]", arity=-6, flags="write fast",
         keys=(1, 1, 1), group=_GROUP, since="5.0.0", summary="Changes (or acquires) ownership of a "
         "message in a consumer group, as if the message was delivered to the specified consumer.",
         complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
         tips="nondeterministic_output")
def xclaim(c, argv):
    s, group = _claim_target(c, argv)
    min_idle = max(_long(argv[4], errors.XCLAIM_MIN_IDLE), 0)
    ids = []
    j = 5
    while j < len(argv):
        try:
            ids.append(_strict_id(argv[j]))
        except ErrorReply:
            break
        j += 1
    now = _now(c)
    retrycount = -1
    delivery = -1
    force = justid = False
    last_id = ZERO
    while j < len(argv):
        more = len(argv) - 1 - j
        word = option_word(argv[j])
        if word == b"FORCE":
            force = True
        elif word == b"JUSTID":
            justid = True
        elif word == b"IDLE" and more:
            j += 1
            delivery = now - _long(argv[j], errors.XCLAIM_IDLE)
        elif word == b"TIME" and more:
            j += 1
            delivery = _long(argv[j], errors.XCLAIM_TIME)
        elif word == b"RETRYCOUNT" and more:
            j += 1
            retrycount = _long(argv[j], errors.XCLAIM_RETRYCOUNT)
        elif word == b"LASTID" and more:
            j += 1
            last_id = _strict_id(argv[j])
        else:
            raise ErrorReply(errors.xclaim_unrecognized(argv[j]))
        j += 1
    if last_id > group.last_id:
        group.last_id = last_id
        _unsignalled(c, argv[1], None)
    if delivery < 0 or (delivery > now and now):  # (now 0: an AOF replay's stopped clock)
        delivery = now
    consumer = None
    out = []
    for sid in ids:
        nack = group.pel.get(sid)
        item = s.index.get(sid)
        if item is None:
            if nack is not None:
                group.ack(sid)
                _unsignalled(c, argv[1], None)
            continue
        if force and nack is None:
            nack = group.pel[sid] = Nack(now, None)
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _claimer(c, group, argv[3], argv[1], now)
        nack.delivery_time = delivery
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        group.assign(sid, nack, consumer)
        out.append(format_id(sid) if justid else _entry(item))
        _unsignalled(c, argv[1], None)
    return out


@command("XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]", arity=-6,
         flags="write fast", keys=(1, 1, 1), group=_GROUP, since="6.2.0",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the messages "
         "were delivered to the specified consumer.", complexity="O(1) if COUNT is small.",
         tips="nondeterministic_output",
         key_specs="RW delete index:1")
def xautoclaim(c, argv):
    min_idle = max(_long(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start = _interval_start(argv[5])
    count = 100
    justid = False
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        word = option_word(argv[j])
        if word == b"COUNT" and more:
            count = _long(argv[j + 1], errors.XAUTOCLAIM_COUNT)
            if not 1 <= count <= ((1 << 63) - 1) // 16:
                raise ErrorReply(errors.XAUTOCLAIM_COUNT)
            j += 1
        elif word == b"JUSTID":
            justid = True
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    s, group = _claim_target(c, argv)
    if count * 16 > _MEMORY_BYTES:  # the array of deleted IDs Redis allocates first
        raise ErrorReply(errors.XAUTOCLAIM_COUNT_TOO_HIGH)
    attempts = count * 10
    now = _now(c)
    consumer = None
    claimed, deleted = [], []
    pending = list(islice(group.pel.irange(minimum=start), attempts + 1))
    at = 0
    while attempts and count and at < len(pending):
        attempts -= 1
        sid = pending[at]
        at += 1
        nack = group.pel[sid]
        item = s.index.get(sid)
        if item is None:
            group.ack(sid)
            _unsignalled(c, argv[1], None)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _claimer(c, group, argv[3], argv[1], now)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        group.assign(sid, nack, consumer)
        claimed.append(format_id(sid) if justid else _entry(item))
        count -= 1
        _unsignalled(c, argv[1], None)
    next_id = format_id(pending[at]) if at < len(pending) else b"0-0"
    return [next_id, claimed, deleted]


# -- XINFO ----------------------------------------------------------------------------------------
container("XINFO", group=_GROUP, since="5.0.0", summary="A container for stream introspection commands")


def _info_stream(c, argv, s: Stream):
    full = False
    count = 10
    options = argv[3:]
    if options:
        if len(options) not in (1, 3) or option_word(options[0]) != b"FULL":
            raise ErrorReply(errors.subcommand_syntax(argv[1], errors.text(argv[0])))
        full = True
        if len(options) == 3:
            if option_word(options[1]) != b"COUNT":
                raise ErrorReply(errors.subcommand_syntax(argv[1], errors.text(argv[0])))
            count = _long(options[2])
            if count < 0:
                count = 10
    info = {
        b"length": len(s.ids),
        b"radix-tree-keys": len(s.nodes),
        b"radix-tree-nodes": s.rax_nodes(),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        info[b"groups"] = len(s.groups)
        info[b"first-entry"] = _entry(s.index[s.ids[0]]) if s.ids else None
        info[b"last-entry"] = _entry(s.index[s.ids[-1]]) if s.ids else None
        return info
    info[b"entries"] = _entries(s.range(ZERO, MAX, count=count))
    info[b"groups"] = [_info_full_group(s, name, group, count) for name, group in s.sorted_groups()]
    return info


def _info_full_group(s: Stream, name: bytes, group: Group, count: int) -> dict:
    pel = group.pel.items()[:count] if count else group.pel.items()
    consumers = []
    for consumer in group.sorted_consumers():
        own = consumer.pel.items()[:count] if count else consumer.pel.items()
        consumers.append({
            b"name": consumer.name,
            b"seen-time": consumer.seen_time,
            b"pel-count": len(consumer.pel),
            b"pending": [[format_id(sid), nack.delivery_time, nack.delivery_count] for sid, nack in own],
        })
    return {
        b"name": name,
        b"last-delivered-id": format_id(group.last_id),
        b"entries-read": None if group.entries_read == INVALID_ENTRIES_READ else group.entries_read,
        b"lag": s.lag(group),
        b"pel-count": len(group.pel),
        b"pending": [[format_id(sid), nack.consumer.name, nack.delivery_time, nack.delivery_count]
                     for sid, nack in pel],
        b"consumers": consumers,
    }


def _info_target(c, argv) -> Stream:
    s = c.db.read_typed(argv[2], Stream)
    if s is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    return s


_XINFO_HELP = [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
]


@command("XINFO HELP", arity=2, flags="loading stale", group=_GROUP, since="5.0.0",
         summary="Show helpful text about the different subcommands")
def xinfo_help(c, argv):
    return help_reply(argv, _XINFO_HELP)


@command("XINFO STREAM key [FULL [COUNT count]]", arity=-3, flags="readonly", keys=(2, 2, 1),
         group=_GROUP, since="5.0.0", summary="Get information about a stream")
def xinfo_stream(c, argv):
    return _info_stream(c, argv, _info_target(c, argv))


@command("XINFO CONSUMERS key groupname", arity=4, flags="readonly", keys=(2, 2, 1), group=_GROUP,
         since="5.0.0", summary="List the consumers in a consumer group", tips="nondeterministic_output")
def xinfo_consumers(c, argv):
    s = _info_target(c, argv)
    group = s.groups.get(argv[3])
    if group is None:
        raise ErrorReply(errors.nogroup_for_key(argv[3], argv[2]))
    now = _now(c)
    return [{b"name": consumer.name, b"pending": len(consumer.pel),
             b"idle": max(now - consumer.seen_time, 0)} for consumer in group.sorted_consumers()]


@command("XINFO GROUPS key", arity=3, flags="readonly", keys=(2, 2, 1), group=_GROUP, since="5.0.0",
         summary="List the consumer groups of a stream")
def xinfo_groups(c, argv):
    s = _info_target(c, argv)
    return [{
        b"name": name,
        b"consumers": len(group.consumers),
        b"pending": len(group.pel),
        b"last-delivered-id": format_id(group.last_id),
        b"entries-read": None if group.entries_read == INVALID_ENTRIES_READ else group.entries_read,
        b"lag": s.lag(group),
    } for name, group in s.sorted_groups()]

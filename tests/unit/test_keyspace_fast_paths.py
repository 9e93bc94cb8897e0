"""Every direct path of redis/commands/fast.py against the general handler it stands for, in one
table: both run the same command on the same starting state (missing keys, every value type,
live and expired TTLs, encoding overrides, a built SCAN table, LFU counting on or off, WATCH
and keyspace notifications on or off), and everything observable afterwards must be equal: the
reply (or error), the whole keyspace (values, encodings, TTLs, access times, LFU hits, the SCAN
table), the keyspace events in order, the keys signalled to WATCH/blocking, the dirty count,
keyspace_hits/misses and expired_keys."""

import pytest
from hypothesis import given, settings, strategies as st

from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.commands.fast import FAST_PATHS
from yizhan.redis.instance import RedisInstance
from yizhan.redis.key_cost import settle
from yizhan.redis.keyspace import ENCODINGS, KeyDict
from yizhan.redis.session import Client
from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.sets import Set
from yizhan.redis.types.zsets import ZSet
from yizhan.resp import ErrorReply

KEYS = [b"a", b"b", b"c"]
KEY = st.sampled_from(KEYS)
VALUE = st.sampled_from([b"1", b"-7", b"x", b"", b"9223372036854775807", b"12345678901234567890"])
MEMBER = st.sampled_from([b"1", b"2", b"m", b"n", b"-0"])
SCORE = st.sampled_from([b"1", b"2.5", b"-0", b"0", b"inf", b"x", b"NX", b"1e400"])
DELTA = st.sampled_from([b"1", b"-3", b"9223372036854775807", b"-9223372036854775808", b"x"])


def _argv(name: bytes, *shapes):
    """argv for `name` from the strategies of its argument shapes (one is picked)."""
    return st.one_of(*[st.tuples(*shape) for shape in shapes]).map(lambda args: [name, *args])


def _pairs(first, second, max_size=4):
    return st.lists(st.tuples(first, second), min_size=1, max_size=max_size).map(
        lambda pairs: [x for pair in pairs for x in pair])


# Each direct path with the commands that exercise it: its own shape and shapes it hands over.
COMMANDS = {
    "get": _argv(b"GET", (KEY,)),
    "set": _argv(b"SET", (KEY, VALUE), (KEY, VALUE, st.sampled_from([b"NX", b"XX", b"GET", b"KEEPTTL"]))),
    "incr": _argv(b"INCR", (KEY,)),
    "decr": _argv(b"DECR", (KEY,)),
    "incrby": _argv(b"INCRBY", (KEY, DELTA)),
    "decrby": _argv(b"DECRBY", (KEY, DELTA)),
    "mset": st.one_of(_pairs(KEY, VALUE), _pairs(KEY, VALUE).map(lambda a: a + [b"odd"])).map(
        lambda args: [b"MSET", *args]),
    "lpush": _argv(b"LPUSH", (KEY, VALUE), (KEY, VALUE, VALUE)),
    "lpop": _argv(b"LPOP", (KEY,), (KEY, st.sampled_from([b"1", b"2", b"0", b"-1"]))),
    "sadd": _argv(b"SADD", (KEY, MEMBER), (KEY, MEMBER, MEMBER)),
    "hset": _argv(b"HSET", (KEY, MEMBER, VALUE), (KEY, MEMBER, VALUE, MEMBER, VALUE)),
    "zadd": _argv(b"ZADD", (KEY, SCORE, MEMBER), (KEY, SCORE, MEMBER, SCORE, MEMBER)),
}

STRINGS = st.one_of(VALUE, VALUE.map(bytearray))
VALUES = st.one_of(
    st.tuples(st.just("string"), STRINGS),
    st.tuples(st.just("list"), st.lists(VALUE, min_size=1, max_size=3)),
    st.tuples(st.just("set"), st.lists(MEMBER, min_size=1, max_size=3)),
    st.tuples(st.just("hash"), st.dictionaries(MEMBER, VALUE, min_size=1, max_size=3)),
    st.tuples(st.just("zset"), st.dictionaries(MEMBER, st.sampled_from([0.0, 1.0, 2.5]), min_size=1, max_size=3)),
)
STATE = st.fixed_dictionaries({
    "values": st.dictionaries(KEY, VALUES, min_size=1),
    "ttl": st.dictionaries(KEY, st.integers(-5, 5)),  # ms from now; <= 0: already expired
    "embstr": st.sets(KEY),                              # an encoding override on a string
    "scan": st.booleans(),                               # SCAN's table already built
    "lfu": st.booleans(),                                # LFU hits counted (an LFU policy)
    "watched": st.sets(KEY),                             # WATCHed by another client
    "notify": st.booleans(),                             # notify-keyspace-events on
})


def _value(kind: str, content):
    if kind == "string":
        return content
    if kind == "list":
        return RedisList(content)
    if kind == "set":
        return Set.build(content, 512)
    if kind == "hash":
        h = Hash()
        for field, value in content.items():
            h.set(field, value, _PARAMS)
        return h
    zs = ZSet()
    for member, score in content.items():
        zs.insert(member, score)
    return zs


_PARAMS = RedisInstance(clock=ManualClock()).int_params


def _instance(state) -> tuple:
    """A server in `state`, a client on db 0, and the recorders of events and signals."""
    clock = ManualClock()
    srv = RedisInstance(clock=clock)
    events, signals = [], []
    srv.pubsub.notify = lambda klass, event, key, db_index: events.append((db_index, klass, event, key))
    if state["notify"]:
        srv.set_notify_flags("KEAm")
    real_key_changed = srv.key_changed
    srv.key_changed = lambda db, key: (signals.append(key), real_key_changed(db, key))
    c = Client(srv, "test")
    db = c.db
    for key, (kind, content) in state["values"].items():
        db.store(key, _value(kind, content))
        if key in state["ttl"]:
            db.expire_at(key, clock.ms() + state["ttl"][key])
        if kind == "string" and key in state["embstr"]:
            db.set_encoding(key, "embstr")
    if state["scan"]:
        db.data.scan_table()
    watcher = Client(srv, "watcher")
    for key in sorted(state["watched"]):
        srv.watch(watcher, key)
    for d in srv.dbs:
        d.count_hits = state["lfu"]
    clock.advance(1000)
    srv.reset_stats()
    srv.stats.dirty = 0
    events.clear()
    return c, watcher, events, signals


def _encoding(srv, db, key, value) -> str:
    if type(value) in (bytes, bytearray):
        return db.encodings.get(key, "derived")
    return ENCODINGS[type(value)](value, srv.params)


def _content(value):
    if type(value) in (bytes, bytearray):
        return (type(value).__name__, bytes(value))
    if type(value) is RedisList:
        return ("list", list(value))
    if type(value) is Set:
        return ("set", sorted(value))
    if type(value) is Hash:
        return ("hash", sorted(value.items()))
    return ("zset", sorted(value.scores.items()))


def _outcome(c, watcher, events, signals, reply) -> tuple:
    db, stats = c.db, c.server.stats
    keyspace = {key: (_content(value), _encoding(c.server, db, key, value)) for key, value in db.data.items()}
    table = sorted(db.data.table) if db.data.table is not None else None
    return (reply, keyspace, dict(db.expires), dict(db.access), dict(db.hits), table, list(events),
            list(signals), watcher.dirty_cas, stats.dirty, stats.keyspace_hits, stats.keyspace_misses,
            stats.expired_keys, settle(db))


def _run(handler, c, argv):
    try:
        reply = handler(c, list(argv))
    except ErrorReply as error:
        return ("error", str(error))
    return bytes(reply) if type(reply) is bytearray else reply


def test_every_direct_path_is_in_the_table():
    assert set(COMMANDS) == set(FAST_PATHS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@settings(max_examples=300, deadline=None)
@given(state=STATE, data=st.data())
def test_every_direct_path_equals_its_general_twin(name, state, data):
    argv = data.draw(COMMANDS[name])
    direct, general = FAST_PATHS[name]
    outcomes = []
    for handler in (direct, general):
        c, watcher, events, signals = _instance(state)
        outcomes.append(_outcome(c, watcher, events, signals, _run(handler, c, argv)))
    assert outcomes[0] == outcomes[1]


def test_direct_paths_are_what_the_command_table_runs():
    from yizhan.redis.table import COMMANDS as TABLE

    for name, (direct, general) in FAST_PATHS.items():
        assert TABLE[name.encode()].handler is direct and direct is not general


def test_key_dict_is_a_plain_dict_until_scanned_and_after_clear():
    """Writes cost a plain dict's until SCAN builds the table; from then on every way of
    writing keeps the table in step; clear() drops the table and the tracking."""
    data = KeyDict()
    data[b"a"] = 1
    assert type(data).__setitem__ is dict.__setitem__
    table = data.scan_table()
    data[b"b"] = 2
    data.update({b"c": 3})
    data.setdefault(b"d", 4)
    del data[b"a"]
    data.pop(b"b")
    data |= {b"e": 5}
    assert sorted(table) == sorted(data) == [b"c", b"d", b"e"]
    data.clear()
    assert data.table is None and type(data).__setitem__ is dict.__setitem__
    data[b"x"] = 1
    assert sorted(data.scan_table()) == [b"x"]

"""The keyspace's fast paths (issue 6) against the general operations they stand for:
`set_pairs` (MSET) is `store` + `commit` for each pair."""

from hypothesis import given, settings, strategies as st

from yizhan.clock import ManualClock
from yizhan.redis.instance import Stats
from yizhan.redis.keyspace import Database, KeyDict

KEYS = st.sampled_from([b"a", b"b", b"c", b"d"])
STATE = st.fixed_dictionaries({
    "existing": st.dictionaries(KEYS, st.binary(max_size=3)),
    "ttl": st.dictionaries(KEYS, st.integers(-5, 5)),       # relative to now; <= 0: expired
    "encodings": st.dictionaries(KEYS, st.just("embstr")),
    "scan": st.booleans(),
    "listening": st.booleans(),
})


def _database(state) -> tuple[Database, list]:
    clock = ManualClock()
    db = Database(0, clock, Stats())
    changes: list = []
    for key, value in state["existing"].items():
        db.store(key, value)
        if key in state["ttl"]:
            db.expire_at(key, clock.ms() + state["ttl"][key])
        if key in state["encodings"]:
            db.set_encoding(key, "embstr")
    if state["scan"]:
        db.data.scan_table()
    clock.advance(1000)
    if state["listening"]:
        db.on_change = lambda _db, key: changes.append(key)
    return db, changes


def _snapshot(db: Database, changes: list) -> tuple:
    table = sorted(db.data.table) if db.data.table is not None else None
    return (dict(db.data), dict(db.expires), dict(db.encodings), dict(db.access), dict(db.hits),
            db.stats.dirty, db.stats.keyspace_hits, db.stats.keyspace_misses, sorted(changes), table)


@given(STATE, st.lists(st.tuples(KEYS, st.binary(max_size=3)), min_size=1, max_size=6))
def test_set_pairs_is_set_for_each_pair(state, pairs):
    argv = [b"MSET"] + [x for pair in pairs for x in pair]
    fast, fast_changes = _database(state)
    fast.set_pairs(argv)
    slow, slow_changes = _database(state)
    for key, value in pairs:
        slow.store(key, value)
        slow.commit(key, "$", "set")
    assert _snapshot(fast, fast_changes) == _snapshot(slow, slow_changes)


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


# -- the command fast paths (GET, SET without options, INCR/DECR/INCRBY, ZADD key score member)
# against their general twins, on the same states: reply, keyspace after (values, TTLs, access
# times, LFU hits), dirty count, keyspace_hits/keyspace_misses, expired keys and notifications.
def _instance(state) -> tuple:
    from yizhan.redis import commands  # noqa: F401  (fills the command table)
    from yizhan.redis.instance import RedisInstance
    from yizhan.redis.session import Client
    from yizhan.redis.types.zsets import ZSet

    clock = ManualClock()
    srv = RedisInstance(clock=clock)
    srv.set_notify_flags("AKEm")
    events: list = []
    srv.notify = lambda db, klass, event, key: events.append((db.index, klass, event, key))
    for db in srv.dbs:
        db.on_event = srv.notify
    c = Client(srv, "test")
    db = c.db
    for key, value in state["existing"].items():
        if key in state["zsets"]:
            zs = ZSet()
            zs.insert(b"m", 1.0)
            db.store(key, zs)
        else:
            db.store(key, value)
        if key in state["ttl"]:
            db.expire_at(key, clock.ms() + state["ttl"][key])
    clock.advance(1000)
    clock.tick()
    srv.reset_stats()
    events.clear()
    return c, events


def _command_snapshot(c, events: list, reply) -> tuple:
    db, stats = c.db, c.server.stats
    values = {k: (type(v).__name__, getattr(v, "scores", v)) for k, v in db.data.items()}
    return (reply, values, dict(db.expires), dict(db.access), dict(db.hits), stats.dirty,
            stats.keyspace_hits, stats.keyspace_misses, stats.expired_keys, list(events))


def _handler(argv):
    from yizhan.redis.table import BY_REQUEST_NAME

    return BY_REQUEST_NAME[argv[0]].handler


def _general_get(c, argv):
    value = c.db.read_string(argv[1])
    return bytes(value) if value is not None else None


def _general_set(c, argv):
    from yizhan.redis.commands.strings import set_generic

    return set_generic(c, argv[1], argv[2])


def _general_incr(c, argv):
    from yizhan.redis import errors
    from yizhan.redis.args import INT64_MAX, INT64_MIN, parse_int
    from yizhan.resp import ErrorReply

    delta = {b"INCR": 1, b"DECR": -1}.get(argv[0]) or parse_int(argv[2])
    value = c.db.write_string(argv[1])
    result = (0 if value is None else parse_int(bytes(value))) + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise ErrorReply(errors.OVERFLOW)
    c.db.store(argv[1], b"%d" % result, keep_ttl=True)
    c.db.commit(argv[1], "$", "incrby")
    return result


def _general_zadd(c, argv):
    from yizhan.redis.commands.zsets import _zadd

    return _zadd(c, argv, incr=False)


COMMAND_STATE = st.fixed_dictionaries({
    "existing": st.dictionaries(KEYS, st.sampled_from([b"1", b"-7", b"x", b"9223372036854775807", b""])),
    "ttl": st.dictionaries(KEYS, st.integers(-5, 5)),
    "zsets": st.sets(KEYS),
})
FAST_COMMANDS = st.one_of(
    st.tuples(st.just(b"GET"), KEYS),
    st.tuples(st.just(b"SET"), KEYS, st.binary(max_size=3)),
    st.tuples(st.sampled_from([b"INCR", b"DECR"]), KEYS),
    st.tuples(st.just(b"INCRBY"), KEYS, st.sampled_from([b"1", b"-3", b"9223372036854775807"])),
    st.tuples(st.just(b"ZADD"), KEYS, st.sampled_from([b"1", b"2.5", b"-0"]), st.sampled_from([b"m", b"n"])),
)
GENERAL = {b"GET": _general_get, b"SET": _general_set, b"INCR": _general_incr, b"DECR": _general_incr,
           b"INCRBY": _general_incr, b"ZADD": _general_zadd}


@settings(max_examples=400)
@given(COMMAND_STATE, FAST_COMMANDS)
def test_command_fast_paths_equal_their_general_twins(state, command):
    from yizhan.resp import ErrorReply

    argv = list(command)
    fast, fast_events = _instance(state)
    slow, slow_events = _instance(state)
    outcomes = []
    for c, events, run in ((fast, fast_events, _handler(argv)), (slow, slow_events, GENERAL[argv[0]])):
        try:
            reply = run(c, argv)
        except ErrorReply as error:
            reply = ("error", str(error))
        outcomes.append(_command_snapshot(c, events, reply))
    assert outcomes[0] == outcomes[1]

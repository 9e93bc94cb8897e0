"""The keyspace's fast paths (issue 6) against the general operations they stand for:
`set_pairs` (MSET) is `set` for each pair, `replace` (SET) is `get` then `set`."""

from hypothesis import given, strategies as st

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
        db.set(key, value)
        if key in state["ttl"]:
            db.set_expire(key, clock.ms() + state["ttl"][key])
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
            db.stats.dirty, sorted(changes), table)


@given(STATE, st.lists(st.tuples(KEYS, st.binary(max_size=3)), min_size=1, max_size=6))
def test_set_pairs_is_set_for_each_pair(state, pairs):
    argv = [b"MSET"] + [x for pair in pairs for x in pair]
    fast, fast_changes = _database(state)
    fast.set_pairs(argv)
    slow, slow_changes = _database(state)
    for key, value in pairs:
        slow.set(key, value)
    assert _snapshot(fast, fast_changes) == _snapshot(slow, slow_changes)


@given(STATE, KEYS, st.binary(max_size=3))
def test_replace_is_get_then_set(state, key, value):
    fast, fast_changes = _database(state)
    fast.replace(key, value)
    slow, slow_changes = _database(state)
    slow.get(key)
    slow.set(key, value)
    assert _snapshot(fast, fast_changes) == _snapshot(slow, slow_changes)
    assert fast.stats.expired_keys == slow.stats.expired_keys


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

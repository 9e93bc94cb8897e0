"""The keyspace's running memory figure (`Database.dataset`, key_cost.settle) equals a count
from scratch after any mix of writes: every way a key is stored, changed, moved, expired or
removed is accounted for."""

from __future__ import annotations

from hypothesis import example, given, settings, strategies as st

from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.key_cost import accounted, settle
from yizhan.redis.session import Client

KEYS = [b"a", b"b", b"c"]
key = st.sampled_from(KEYS)
small = st.sampled_from([b"1", b"12345", b"x", b"value:1", b"y" * 60, b"-7"])
field = st.sampled_from([b"f1", b"f2", b"f3", b"1", b"2"])

COMMAND = st.one_of(
    st.tuples(st.just(b"SET"), key, small),
    st.tuples(st.just(b"SET"), key, small, st.just(b"EX"), st.just(b"5")),
    st.tuples(st.just(b"MSET"), key, small, key, small),
    st.tuples(st.just(b"INCR"), key),
    st.tuples(st.just(b"APPEND"), key, small),
    st.tuples(st.just(b"SETRANGE"), key, st.just(b"3"), small),
    st.tuples(st.just(b"SETBIT"), key, st.just(b"100"), st.just(b"1")),
    st.tuples(st.just(b"DEL"), key),
    st.tuples(st.just(b"UNLINK"), key, key),
    st.tuples(st.just(b"RENAME"), key, key),
    st.tuples(st.just(b"COPY"), key, key, st.just(b"REPLACE")),
    st.tuples(st.just(b"MOVE"), key, st.just(b"1")),
    st.tuples(st.just(b"SWAPDB"), st.just(b"0"), st.just(b"1")),
    st.tuples(st.just(b"EXPIRE"), key, st.just(b"1")),
    st.tuples(st.just(b"PERSIST"), key),
    st.tuples(st.just(b"HSET"), key, field, small),
    st.tuples(st.just(b"HDEL"), key, field),
    st.tuples(st.just(b"SADD"), key, field),
    st.tuples(st.just(b"SADD"), key, small, field),
    st.tuples(st.just(b"SREM"), key, field),
    st.tuples(st.just(b"ZADD"), key, st.just(b"1.5"), field),
    st.tuples(st.just(b"ZREM"), key, field),
    st.tuples(st.just(b"LPUSH"), key, small),
    st.tuples(st.just(b"RPUSH"), key, small, small),
    st.tuples(st.just(b"LPOP"), key),
    st.tuples(st.just(b"PFADD"), key, small),
    st.tuples(st.just(b"XADD"), key, st.just(b"*"), field, small),
    st.tuples(st.just(b"SUNIONSTORE"), key, key, key),
    st.tuples(st.just(b"SORT"), key, st.just(b"ALPHA"), st.just(b"STORE"), key),
    st.tuples(st.just(b"GETDEL"), key),
    st.tuples(st.just(b"FLUSHDB"),),
    st.tuples(st.just(b"DEBUG"), st.just(b"RELOAD")),
)


def from_scratch(db) -> int:
    return sum(accounted(k, v) for k, v in db.data.items())


@settings(max_examples=300, deadline=None)
@example(script=[(b"ZADD", b"a", b"1.5", b"f1"), (b"SORT", b"a", b"ALPHA", b"STORE", b"b")],
         pauses=[0] * 30)  # SORT converts a listpack sorted set: once missed by the running figure
@given(st.lists(COMMAND, max_size=30), st.lists(st.integers(0, 3000), min_size=30, max_size=30))
def test_running_figure_equals_a_count_from_scratch(tmp_path_factory, script, pauses):
    srv = RedisInstance(clock=ManualClock())
    srv.params.values["dir"] = str(tmp_path_factory.mktemp("memory"))
    c = Client(srv, "test")
    for argv, pause in zip(script, pauses):
        c.execute(list(argv))
        srv.clock.advance(pause)
        if pause > 2500:
            srv.active_expire_cycle()
        for db in srv.dbs[:2]:
            assert settle(db) == from_scratch(db)
    for db in srv.dbs:
        assert settle(db) == from_scratch(db)

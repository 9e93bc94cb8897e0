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
small = st.sampled_from([b"1", b"12345", b"x", b"value:1", b"y" * 60, b"-7", b"1.5", b"z" * 70])
field = st.sampled_from([b"f1", b"f2", b"f3", b"1", b"2", b"m" * 70])
offset = st.sampled_from([b"0", b"3", b"100", b"5000"])
score = st.sampled_from([b"1.5", b"-2", b"7"])


def _payloads() -> list[bytes]:
    """DUMP payloads for RESTORE: one value of each type and encoding the script can make."""
    srv = RedisInstance(clock=ManualClock())
    c = Client(srv, "dump")
    writes = [[b"SET", b"s", b"12345"], [b"SET", b"t", b"x" * 70], [b"RPUSH", b"l", b"a", b"b"],
              [b"HSET", b"h", b"f", b"v"], [b"HSET", b"H", b"f", b"v" * 70], [b"SADD", b"i", b"1", b"2"],
              [b"SADD", b"S", b"a", b"b"], [b"ZADD", b"z", b"1", b"a"], [b"ZADD", b"Z", b"1", b"a" * 70],
              [b"XADD", b"x", b"1-1", b"f", b"v"], [b"PFADD", b"p", b"a"]]
    for argv in writes:
        c.execute(argv)
    return [c.execute([b"DUMP", argv[1]]) for argv in writes]


PAYLOADS = _payloads()

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
    # writes that convert an encoding or move values between keys
    st.tuples(st.just(b"SETRANGE"), key, offset, small),
    st.tuples(st.just(b"INCRBYFLOAT"), key, st.just(b"0.25")),
    st.tuples(st.just(b"GETSET"), key, small),
    st.tuples(st.just(b"HINCRBY"), key, field, st.just(b"3")),
    st.tuples(st.just(b"HINCRBYFLOAT"), key, field, st.just(b"1.5")),
    st.tuples(st.just(b"HSETNX"), key, field, small),
    st.tuples(st.just(b"SMOVE"), key, key, field),
    st.tuples(st.just(b"SPOP"), key),
    st.tuples(st.just(b"SRANDMEMBER"), key, st.just(b"-3")),
    st.tuples(st.just(b"SINTERSTORE"), key, key, key),
    st.tuples(st.just(b"SDIFFSTORE"), key, key, key),
    st.tuples(st.just(b"ZADD"), key, score, small),
    st.tuples(st.just(b"ZINCRBY"), key, score, field),
    st.tuples(st.just(b"ZRANGESTORE"), key, key, st.just(b"0"), st.just(b"-1")),
    st.tuples(st.just(b"ZUNIONSTORE"), key, st.just(b"2"), key, key),
    st.tuples(st.just(b"ZINTERSTORE"), key, st.just(b"2"), key, key),
    st.tuples(st.just(b"ZDIFFSTORE"), key, st.just(b"2"), key, key),
    st.tuples(st.just(b"ZPOPMIN"), key),
    st.tuples(st.just(b"ZRANDMEMBER"), key, st.just(b"-3")),
    st.tuples(st.just(b"ZREMRANGEBYSCORE"), key, st.just(b"-inf"), st.just(b"0")),
    st.tuples(st.just(b"LMOVE"), key, key, st.just(b"LEFT"), st.just(b"RIGHT")),
    st.tuples(st.just(b"RPOPLPUSH"), key, key),
    st.tuples(st.just(b"LSET"), key, st.just(b"0"), small),
    st.tuples(st.just(b"LINSERT"), key, st.just(b"BEFORE"), small, small),
    st.tuples(st.just(b"LTRIM"), key, st.just(b"1"), st.just(b"-1")),
    st.tuples(st.just(b"LREM"), key, st.just(b"0"), small),
    st.tuples(st.just(b"GEOADD"), key, st.just(b"13.361389"), st.just(b"38.115556"), field),
    st.tuples(st.just(b"GEOSEARCHSTORE"), key, key, st.just(b"FROMLONLAT"), st.just(b"13"), st.just(b"38"),
              st.just(b"BYRADIUS"), st.just(b"500"), st.just(b"km")),
    st.tuples(st.just(b"XADD"), key, st.just(b"MAXLEN"), st.just(b"2"), st.just(b"*"), field, small),
    st.tuples(st.just(b"XTRIM"), key, st.just(b"MAXLEN"), st.just(b"1")),
    st.tuples(st.just(b"XDEL"), key, st.just(b"0-1")),
    st.tuples(st.just(b"XGROUP"), st.just(b"CREATE"), key, st.just(b"g"), st.just(b"0"), st.just(b"MKSTREAM")),
    st.tuples(st.just(b"XREADGROUP"), st.just(b"GROUP"), st.just(b"g"), st.just(b"c"), st.just(b"STREAMS"), key,
              st.just(b">")),
    st.tuples(st.just(b"PFMERGE"), key, key),
    st.tuples(st.just(b"BITOP"), st.just(b"OR"), key, key, key),
    st.tuples(st.just(b"BITFIELD"), key, st.just(b"SET"), st.just(b"u8"), offset, st.just(b"200")),
    st.tuples(st.just(b"SORT"), key, st.just(b"STORE"), key),
    st.tuples(st.just(b"RENAMENX"), key, key),
    st.tuples(st.just(b"COPY"), key, key, st.just(b"DB"), st.just(b"1")),
    st.tuples(st.just(b"GETEX"), key, st.just(b"PERSIST")),
    st.tuples(st.just(b"RESTORE"), key, st.just(b"0"), st.sampled_from(PAYLOADS), st.just(b"REPLACE")),
    st.tuples(st.just(b"CONFIG"), st.just(b"SET"), st.just(b"maxmemory-policy"), st.just(b"allkeys-lfu")),
    st.tuples(st.just(b"CONFIG"), st.just(b"SET"),  # low limits: conversions by count with 3 fields
              st.sampled_from([b"hash-max-listpack-entries", b"zset-max-listpack-entries", b"set-max-intset-entries",
                               b"list-max-listpack-size"]), st.just(b"2")),
    st.tuples(st.just(b"OBJECT"), st.just(b"FREQ"), key),
    st.tuples(st.just(b"DEBUG"), st.just(b"SET-ACTIVE-EXPIRE"), st.just(b"1")),
    st.tuples(st.just(b"DEBUG"), st.just(b"POPULATE"), st.just(b"3"), key, st.sampled_from([b"10", b"70"])),
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
    srv.params.values["enable-debug-command"] = "yes"  # DEBUG RELOAD and the other DEBUG writes
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

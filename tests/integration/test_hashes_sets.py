"""Hashes and sets through redis-py: what the differential cases cannot compare byte for byte.

Random replies (HRANDFIELD, SRANDMEMBER, SPOP) are checked for shape, size, membership and
(with or without repeats) distinctness; HSCAN/SSCAN of hashtable-encoded containers are walked
to the end, also while the container changes; WATCH and keyspace notifications show which
commands count as writes. Tests taking `both_servers` run against yizhan and redis-server 7.0
alike, so the expectations are checked on the reference too.
"""

import collections
import random
import time

import pytest
import redis

from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.pool import Pool
from yizhan.redis.types.sets import Set
from yizhan.redis.params import Params


def connect(port: int, protocol: int = 2) -> redis.Redis:
    return redis.Redis(port=port, protocol=protocol)


# -- HRANDFIELD --------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("size", [5, 600])  # listpack, hashtable (over 512, the default limit)
def test_hrandfield_counts_and_membership(both_servers, protocol, size):
    r = connect(both_servers, protocol)
    stored = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    r.hset("h", mapping=stored)
    encoding = r.execute_command("OBJECT", "ENCODING", "h")
    assert encoding == (b"listpack" if size < 128 else b"hashtable")
    for _ in range(20):
        assert r.hrandfield("h") in stored
    for count in (1, 3, size - 1):
        fields = r.hrandfield("h", count)
        assert len(fields) == count == len(set(fields))
        assert set(fields) <= set(stored)
    assert sorted(r.hrandfield("h", size)) == sorted(stored)
    repeated = r.hrandfield("h", -3 * size)
    assert len(repeated) == 3 * size and set(repeated) <= set(stored)
    raw = r.execute_command("HRANDFIELD", "h", -7, "WITHVALUES")
    pairs = [tuple(p) for p in raw] if protocol == 3 else list(zip(raw[::2], raw[1::2]))
    assert len(pairs) == 7 and all(stored[f] == v for f, v in pairs)
    raw = r.execute_command("HRANDFIELD", "h", 3, "WITHVALUES")
    pairs = [tuple(p) for p in raw] if protocol == 3 else list(zip(raw[::2], raw[1::2]))
    assert len({f for f, _ in pairs}) == 3 and all(stored[f] == v for f, v in pairs)


def test_hrandfield_covers_every_field(yizhan_redis):
    yizhan_redis.hset("small", mapping={"a": 1, "b": 2, "c": 3})
    yizhan_redis.hset("big", mapping={f"f{i}": i for i in range(200)})
    assert {yizhan_redis.hrandfield("small") for _ in range(200)} == {b"a", b"b", b"c"}
    seen = collections.Counter(yizhan_redis.hrandfield("big", -20000))
    assert len(seen) == 200  # each field has p = 1/200: missing one is vanishingly unlikely


# -- SRANDMEMBER / SPOP ------------------------------------------------------------------------
@pytest.mark.parametrize("members", [[str(i) for i in range(10)], [f"m{i}" for i in range(600)]])
def test_srandmember_counts_and_membership(both_servers, members):
    r = connect(both_servers)
    r.sadd("s", *members)
    everything = {m.encode() for m in members}
    assert r.srandmember("s") in everything
    for count in (1, 4, len(members) - 1):
        picked = r.srandmember("s", count)
        assert len(picked) == count == len(set(picked)) and set(picked) <= everything
    assert sorted(r.srandmember("s", len(members) + 5)) == sorted(everything)
    repeated = r.srandmember("s", -2 * len(members))
    assert len(repeated) == 2 * len(members) and set(repeated) <= everything
    assert r.scard("s") == len(members)


@pytest.mark.parametrize("members", [[str(i) for i in range(50)], [f"m{i}" for i in range(300)]])
@pytest.mark.parametrize("leave", [None, 5])  # small counts pop one by one; leaving 5 rebuilds
@pytest.mark.parametrize("take", [1, 5])
def test_spop_count_removes_what_it_returns(both_servers, members, take, leave):
    r = connect(both_servers)
    count = take if leave is None else len(members) - leave
    r.sadd("s", *members)
    r.expire("s", 1000)
    popped = r.spop("s", count)
    remaining = r.smembers("s")
    assert len(popped) == count == len(set(popped))
    assert set(popped) | remaining == {m.encode() for m in members}
    assert not set(popped) & remaining
    assert 0 < r.ttl("s") <= 1000
    single = r.spop("s")
    assert single not in r.smembers("s") and single in remaining


def test_spop_everything_deletes_the_key(both_servers):
    r = connect(both_servers)
    r.sadd("s", "a", "b", 1)
    assert sorted(r.spop("s", 3)) == [b"1", b"a", b"b"]
    assert r.exists("s") == 0
    r.sadd("s", "x")
    assert r.spop("s") == b"x" and r.exists("s") == 0


def test_srandmember_is_spread_over_members(yizhan_redis):
    yizhan_redis.sadd("ints", 1, 2, 3)
    yizhan_redis.sadd("strs", "a", "b", "c")
    for key, expected in (("ints", {b"1", b"2", b"3"}), ("strs", {b"a", b"b", b"c"})):
        assert {yizhan_redis.srandmember(key) for _ in range(200)} == expected
        counts = collections.Counter(yizhan_redis.srandmember(key, -30000))
        assert all(8000 < n < 12000 for n in counts.values()), counts
    yizhan_redis.sadd("big", *range(1000))
    picked = yizhan_redis.srandmember("big", 10)
    assert len(set(picked)) == 10


# -- HSCAN / SSCAN -----------------------------------------------------------------------------
def scan_all(r, command: str, key: str, count: int, between=None) -> tuple[list, int]:
    """Every item a full SCAN-family iteration returns (a hash's as field, value, ...), and
    how many calls it took."""
    cursor, items, calls = 0, [], 0
    while True:
        cursor, batch = r.execute_command(command, key, cursor, "COUNT", count)
        cursor = int(cursor)
        if isinstance(batch, dict):  # redis-py's HSCAN reply
            batch = [item for pair in batch.items() for item in pair]
        items.extend(batch)
        calls += 1
        if between:
            between(calls)
        if cursor == 0:
            return items, calls


def test_sscan_walks_a_hashtable_set(both_servers):
    r = connect(both_servers)
    members = {f"m{i}".encode() for i in range(1000)}
    r.sadd("s", *members)
    items, calls = scan_all(r, "SSCAN", "s", 7)
    assert set(items) == members and calls > 20
    items, calls = scan_all(r, "SSCAN", "s", 100000)
    assert sorted(items) == sorted(members) and calls == 1


def test_hscan_walks_a_hashtable_hash(both_servers):
    r = connect(both_servers)
    stored = {f"f{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("h", mapping=stored)
    items, calls = scan_all(r, "HSCAN", "h", 10)
    assert dict(zip(items[::2], items[1::2])) == stored and calls > 20
    cursor, batch = r.hscan("h", 0, count=10)
    assert cursor != 0 and 0 < len(batch) < 1000 and all(stored[f] == v for f, v in batch.items())


def test_scan_survives_changes_during_iteration(both_servers):
    """Members present for the whole iteration are returned (the table grows and shrinks)."""
    r = connect(both_servers)
    r.sadd("s", *[f"keep{i}" for i in range(300)], *[f"gone{i}" for i in range(300)])

    def churn(call: int) -> None:
        if call == 3:
            r.sadd("s", *[f"new{i}" for i in range(2000)])
        if call == 10:
            r.srem("s", *[f"gone{i}" for i in range(300)], *[f"new{i}" for i in range(1900)])

    items, _ = scan_all(r, "SSCAN", "s", 20, churn)
    assert {f"keep{i}".encode() for i in range(300)} <= set(items)


def test_small_containers_scan_in_one_call(both_servers):
    r = connect(both_servers)
    r.sadd("ints", 30, 10, 20)
    r.hset("h", mapping={"b": 1, "a": 2})
    assert r.sscan("ints", 0, count=1) == (0, [b"10", b"20", b"30"])
    cursor, fields = r.hscan("h", 0, count=1)
    assert cursor == 0 and list(fields.items()) == [(b"b", b"1"), (b"a", b"2")]


# -- writes as WATCH and keyspace notifications see them ---------------------------------------
WRITES = [
    ("hset", lambda r: r.hset("h", "new", 1), True),
    ("hset-same-value", lambda r: r.hset("h", "a", 1), True),
    ("hsetnx-existing", lambda r: r.hsetnx("h", "a", 9), False),
    ("hdel-missing-field", lambda r: r.hdel("h", "zz"), False),
    ("hdel", lambda r: r.hdel("h", "a"), True),
    ("hincrby", lambda r: r.hincrby("h", "a", 1), True),
    ("sadd-existing", lambda r: r.sadd("s", "x"), False),
    ("sadd", lambda r: r.sadd("s", "y"), True),
    ("srem-missing", lambda r: r.srem("s", "zz"), False),
    ("spop", lambda r: r.spop("s"), True),
    ("smove-missing-member", lambda r: r.smove("s", "s2", "zz"), False),
]


@pytest.mark.parametrize("name,write,invalidates", WRITES, ids=[w[0] for w in WRITES])
def test_watch_sees_real_changes_only(both_servers, name, write, invalidates):
    r, other = connect(both_servers), connect(both_servers)
    r.hset("h", "a", 1)
    r.sadd("s", "x")
    key = "h" if name.startswith("h") else "s"
    with r.pipeline() as pipe:
        pipe.watch(key)
        write(other)
        pipe.multi()
        pipe.ping()
        if invalidates:
            with pytest.raises(redis.WatchError):
                pipe.execute()
        else:
            assert pipe.execute() == [True]


EXPECTED_EVENTS = [
    ("hset", "h"), ("hset", "h"), ("hincrby", "h"), ("hincrbyfloat", "h"), ("hdel", "h"), ("del", "h"),
    ("sadd", "s"), ("srem", "s"), ("srem", "s"), ("del", "s"), ("sadd", "t"),
    ("sadd", "s"), ("spop", "s"), ("del", "s"),
    ("sadd", "a"), ("sinterstore", "i"), ("sunionstore", "u"), ("del", "u"),
]


def test_keyspace_events(both_servers):
    r = connect(both_servers)
    r.config_set("notify-keyspace-events", "KEA")
    try:
        pubsub = r.pubsub()
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=1)["type"] == "psubscribe"
        r.hset("h", "a", 1)
        r.hsetnx("h", "b", 2)
        r.hincrby("h", "a", 1)
        r.hincrbyfloat("h", "a", 1.5)
        r.hdel("h", "a", "b")
        r.sadd("s", 1, 2)
        r.srem("s", 1)
        r.smove("s", "t", 2)
        r.sadd("s", 1, 2, 3)
        r.spop("s", 3)
        r.sadd("a", 1, 2)
        r.sinterstore("i", "a", "t")
        r.sunionstore("u", "a", "t")
        r.sdiffstore("u", "a", "a")
        events = []
        deadline = time.monotonic() + 5
        while len(events) < len(EXPECTED_EVENTS) and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message and message["type"] == "pmessage":
                events.append((message["channel"].split(b":", 1)[1].decode(), message["data"].decode()))
        pubsub.close()
    finally:
        r.config_set("notify-keyspace-events", "")
    assert events == EXPECTED_EVENTS


# -- the value classes -------------------------------------------------------------------------
def test_hash_encoding_and_copy():
    params = Params({"hash-max-listpack-entries": "2", "hash-max-listpack-value": "4"})
    h = Hash()
    assert h.set(b"a", b"1", params) and not h.set(b"a", b"2", params)
    assert h.encoding() == "listpack"
    twin = h.copy()
    h.set(b"b", b"12345", params)
    assert h.encoding() == "hashtable" and twin.encoding() == "listpack"
    assert dict(twin.items()) == {b"a": b"2"}
    assert h.delete(b"b") and not h.delete(b"b") and h.encoding() == "hashtable"
    assert list(h.field_pool()) == [b"a"]
    h.set(b"c", b"3", params)
    assert sorted(h.field_pool()) == [b"a", b"c"] and h.random_field() in (b"a", b"c")


def test_set_encoding_order_and_copy():
    s = Set.build([b"10", b"-2", b"7", b"10"], max_intset=3)
    assert s.encoding() == "intset" and list(s) == [b"-2", b"7", b"10"]
    assert b"7" in s and b"07" not in s and b"x" not in s
    twin = s.copy()
    assert s.add(b"8", max_intset=3) and s.encoding() == "hashtable"
    assert twin.encoding() == "intset" and list(twin) == [b"-2", b"7", b"10"]
    assert s.discard(b"8") and not s.discard(b"8") and s.encoding() == "hashtable"
    assert sorted(s) == sorted([b"-2", b"7", b"10"])
    assert Set.build([b"1", b"x"], max_intset=10).encoding() == "hashtable"
    assert Set.build([b"-0"], max_intset=10).encoding() == "hashtable"


def test_pool_scan_keeps_the_scan_guarantee():
    """Elements present for a whole iteration are returned whatever is added and removed."""
    rng = random.Random(7)
    for _ in range(30):
        pool = Pool(f"e{i}" for i in range(rng.randrange(1, 300)))
        steady = set(rng.sample(pool.items, len(pool) // 2))
        fresh = iter(range(10**6))
        cursor, seen = 0, []
        while True:
            cursor, found = pool.scan(cursor, rng.randrange(1, 20))
            seen.extend(found)
            for _ in range(rng.randrange(0, 10)):
                victims = [e for e in pool.items if e not in steady]
                if victims and rng.random() < 0.5:
                    assert pool.discard(rng.choice(victims))
                else:
                    assert pool.add(f"n{next(fresh)}")
            if cursor == 0:
                break
        assert steady <= set(seen)
        assert pool.where == {element: i for i, element in enumerate(pool.items)}


def test_pool_scan_counts_weighted_items():
    pool = Pool(range(10))
    assert pool.scan(0, 3) == (7, [9, 8, 7])
    assert pool.scan(7, 3, weight=2) == (5, [6, 5])
    assert pool.scan(5, 100) == (0, [4, 3, 2, 1, 0])
    assert pool.scan(10**20, 1) == (9, [9])
    assert Pool().scan(0, 10) == (0, [])


def test_intset_widens_as_redis_upgrades_and_keeps_order():
    s = Set.build([b"1", b"-5"], max_intset=10)
    assert s.ints.itemsize == 2
    s.add(b"70000", max_intset=10)
    assert s.ints.itemsize == 4 and list(s) == [b"-5", b"1", b"70000"]
    s.add(b"-9223372036854775808", max_intset=10)
    assert s.ints.itemsize == 8 and list(s)[0] == b"-9223372036854775808"
    assert s.copy().ints.itemsize == 8 and s.encoding() == "intset"

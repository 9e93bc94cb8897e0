"""Generic key commands through redis-py: SCAN and KEYS compared as sets with redis-server (their
order is hash order), SCAN's guarantee while keys come and go between calls, expiry reclaimed by
the active cycle without any access, and OBJECT IDLETIME / FREQ / TTL on a manual clock."""

import random
import time

import pytest
import redis

import yizhan
from yizhan.clock import ManualClock
from yizhan.testing.keyspace_events import pattern_messages


def _fill(client, keys):
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, b"v")
    pipe.execute()


def test_scan_returns_every_key_as_redis_does(both_servers):
    r = redis.Redis(port=both_servers)
    keys = {b"user:%d" % i for i in range(300)} | {b"item:%d" % i for i in range(200)} | {b"\x00bin\xff"}
    _fill(r, keys)
    assert set(r.scan_iter()) == keys
    assert set(r.scan_iter(match="user:1*", count=7)) == {k for k in keys if k.startswith(b"user:1")}
    assert set(r.scan_iter(_type="string", count=1000)) == keys
    assert set(r.scan_iter(_type="STRING", match="item:?")) == {b"item:%d" % i for i in range(10)}
    assert list(r.scan_iter(_type="hash")) == []
    cursor, batch = r.scan(0, count=10)
    assert cursor != 0 and 0 < len(batch) < 100


def test_scan_returns_keys_present_throughout_while_others_come_and_go(both_servers):
    r = redis.Redis(port=both_servers)
    rng = random.Random(5)
    stable = {b"stable:%d" % i for i in range(1500)}
    volatile = [b"volatile:%d" % i for i in range(1500)]
    _fill(r, stable | set(volatile))
    seen, cursor, serial, calls = set(), 0, 0, 0
    while True:
        cursor, batch = r.scan(cursor, count=rng.choice([5, 20, 100]))
        seen.update(batch)
        calls += 1
        if cursor == 0:
            break
        pipe = r.pipeline(transaction=False)
        if calls < 150:  # grow the keyspace (tables double under the cursor)...
            for _ in range(60):
                pipe.set(b"new:%d" % serial, b"v")
                serial += 1
        for _ in range(min(40, len(volatile))):  # ...and shrink it
            pipe.delete(volatile.pop(rng.randrange(len(volatile))))
        pipe.execute()
    assert stable <= seen


def test_keyspace_events_of_generic_commands(both_servers):
    r = redis.Redis(port=both_servers)
    r.config_set("notify-keyspace-events", "KEg")
    pubsub = r.pubsub()
    try:
        pubsub.psubscribe("__key*__:*")
        r.set("a", "1")
        r.set("b", "2")
        r.delete("a", "nokey", "b")
        r.set("k", "v")
        r.expire("k", 100)
        r.persist("k")
        r.persist("k")                       # no expiry to remove: no event
        r.rename("k", "k2")
        r.renamenx("k2", "k3")
        r.copy("k3", "c", destination_db=2)
        r.move("k3", 1)
        r.set("p", "v")
        r.pexpire("p", -1)                   # in the past: deleted
        r.unlink("p")                        # already gone: no event
        events = pattern_messages(pubsub, 24)
        keyspace = [(ch.split(b":", 1)[1], data) for ch, data in events if ch.startswith(b"__keyspace")]
        assert keyspace == [
            (b"a", b"del"), (b"b", b"del"), (b"k", b"expire"), (b"k", b"persist"),
            (b"k", b"rename_from"), (b"k2", b"rename_to"), (b"k2", b"rename_from"), (b"k3", b"rename_to"),
            (b"c", b"copy_to"), (b"k3", b"move_from"), (b"k3", b"move_to"), (b"p", b"del")]
        assert [ch for ch, _ in events if ch.startswith(b"__keyspace")][8:11] == [
            b"__keyspace@2__:c", b"__keyspace@0__:k3", b"__keyspace@1__:k3"]
        assert len(events) == 24
    finally:
        pubsub.close()
        r.config_set("notify-keyspace-events", "")


def test_keys_matches_redis_as_sets(yizhan_redis, reference_redis):
    ref = redis.Redis(port=reference_redis.port)
    ref.flushall()
    rng = random.Random(9)
    keys = {bytes(rng.choice(b"abc[]*?\\-^") for _ in range(rng.randint(0, 6))) for _ in range(400)}
    _fill(yizhan_redis, keys)
    _fill(ref, keys)
    for _ in range(200):
        pattern = bytes(rng.choice(b"abc[]*?\\-^") for _ in range(rng.randint(1, 7)))
        assert set(yizhan_redis.keys(pattern)) == set(ref.keys(pattern)), pattern


def test_object_encoding_matches_redis_for_random_values(yizhan_redis, reference_redis):
    ref = redis.Redis(port=reference_redis.port)
    ref.flushall()
    rng = random.Random(4)
    values = [b"%d" % rng.randint(-(10 ** 20), 10 ** 20) for _ in range(100)]
    values += [b"%d" % rng.randint(-20000, 20000) for _ in range(100)]
    values += [b"x" * rng.randint(0, 90) for _ in range(60)] + [b"0" + b"%d" % rng.randint(0, 99) for _ in range(10)]
    for i, value in enumerate(values):
        for client in (yizhan_redis, ref):
            client.set(b"k%d" % i, value)
        for sub in ("ENCODING", "REFCOUNT"):
            ours = yizhan_redis.execute_command("OBJECT", sub, b"k%d" % i)
            assert ours == ref.execute_command("OBJECT", sub, b"k%d" % i), (sub, value)


def test_randomkey_reaches_every_key(yizhan_redis):
    keys = {b"r%d" % i for i in range(30)}
    _fill(yizhan_redis, keys)
    seen = {yizhan_redis.randomkey() for _ in range(1500)}
    assert seen == keys


def test_expired_keys_are_reclaimed_without_being_accessed(yizhan_server):
    r = redis.Redis(port=yizhan_server.port, db=9)
    r.flushdb()
    database = yizhan_server.runtime.redis.dbs[9]
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(b"short:%d" % i, b"v", px=50)
    pipe.set(b"kept", b"v")
    pipe.execute()
    assert yizhan_server.call(lambda: len(database.data)) == 201
    deadline = time.monotonic() + 5
    while yizhan_server.call(lambda: len(database.data)) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert yizhan_server.call(lambda: sorted(database.data)) == [b"kept"]
    assert r.info("keyspace")["db9"] == {"keys": 1, "expires": 0, "avg_ttl": 0}
    assert r.info("stats")["expired_keys"] >= 200
    assert r.dbsize() == 1


@pytest.fixture(scope="module")
def manual():
    clock = ManualClock()
    with yizhan.Server(port=0, amqp_port=0, http_port=0, clock=clock) as server:
        yield server, clock, redis.Redis(port=server.port)


def test_idletime_ttl_and_expiry_follow_the_server_clock(manual):
    server, clock, r = manual
    r.flushall()
    r.set("k", "v")
    r.set("t", "v", ex=100)
    server.call(lambda: clock.advance(7_000))
    assert r.object("idletime", "k") == 7
    assert r.ttl("t") == 93
    r.get("k")
    assert r.object("idletime", "k") == 0
    r.pexpire("k", 1000)
    server.call(lambda: clock.advance(1000))
    database = server.runtime.redis.dbs[0]
    deadline = time.monotonic() + 5
    while server.call(lambda: b"k" in database.data) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.call(lambda: b"k" in database.data) is False  # the active cycle, not a read


def test_lfu_counter_follows_accesses_and_decays(manual):
    server, clock, r = manual
    r.flushall()
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        r.set("k", "v")
        assert r.object("freq", "k") == 5
        r.get("k")
        assert r.object("freq", "k") == 6
        for _ in range(300):
            r.get("k")
        hot = r.object("freq", "k")
        assert 8 <= hot <= 20
        server.call(lambda: clock.advance(4 * 60_000))
        assert r.object("freq", "k") == hot - 4
        r.config_set("lfu-decay-time", "2")
        assert r.object("freq", "k") == hot - 2
        with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
            r.object("idletime", "k")
    finally:
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("lfu-decay-time", "1")

"""Key access times come from the clock reading taken once per batch of requests (Redis's
cached LRU clock), not from a clock read per access: OBJECT IDLETIME and FREQ stay right."""

from yizhan.clock import Clock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection
from yizhan.testing.core import request


class SteppedClock(Clock):
    """A real `Clock` (its `tick` caches a reading) whose readings the test sets."""

    __slots__ = ("now",)

    def __init__(self, now: int):
        self.now = now
        super().__init__()

    def ms(self) -> int:
        return self.now

    def tick(self) -> None:
        self.tick_ms = self.now


def test_access_time_is_the_batch_reading():
    clock = SteppedClock(1_700_000_000_000)
    conn = RedisConnection(Client(RedisInstance(clock=clock)))
    assert request(conn, ["SET", "k", "v"], ["RPUSH", "l", "a"], ["INCR", "n"]) == b"+OK\r\n:1\r\n:1\r\n"
    db = conn.client.db
    assert db.access == {b"k": clock.now, b"l": clock.now, b"n": clock.now}
    clock.now += 7_000
    assert request(conn, ["OBJECT", "IDLETIME", "k"], ["OBJECT", "IDLETIME", "l"]) == b":7\r\n:7\r\n"
    assert request(conn, ["GET", "k"], ["LRANGE", "l", "0", "-1"]) == b"$1\r\nv\r\n*1\r\n$1\r\na\r\n"
    assert db.access[b"k"] == db.access[b"l"] == clock.now
    clock.now += 2_500
    assert request(conn, ["OBJECT", "IDLETIME", "k"], ["OBJECT", "IDLETIME", "n"]) == b":2\r\n:9\r\n"


def test_expiry_reads_the_clock_itself():
    """The batch reading is only for access times: a key whose time passes is gone at once."""
    clock = SteppedClock(1_700_000_000_000)
    conn = RedisConnection(Client(RedisInstance(clock=clock)))
    assert request(conn, ["SET", "k", "v", "PX", "100"]) == b"+OK\r\n"
    clock.now += 100       # no tick: the next batch's reading is not needed to expire it
    assert conn.client.db.lookup_read(b"k") is None


def test_hits_count_only_under_an_lfu_policy():
    """Accesses feed the LFU counter only while an LFU maxmemory-policy is selected (the only
    time OBJECT FREQ answers); switching the policy switches the counting. (FREQ 8 after three
    GETs with lfu-log-factor 0 is what redis-server 7.0 answers for a key made under LFU.)"""
    conn = RedisConnection(Client(RedisInstance(clock=SteppedClock(1_700_000_000_000))))
    db = conn.client.db
    assert request(conn, ["SET", "k", "v"], ["GET", "k"], ["GET", "k"]) == b"+OK\r\n$1\r\nv\r\n$1\r\nv\r\n"
    assert db.hits == {}
    assert request(conn, ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
                 ["CONFIG", "SET", "lfu-log-factor", "0"], ["SET", "n", "v"]) == b"+OK\r\n" * 3
    assert request(conn, ["GET", "n"], ["GET", "n"], ["GET", "n"], ["OBJECT", "FREQ", "n"]).endswith(b":8\r\n")
    assert request(conn, ["CONFIG", "SET", "maxmemory-policy", "noeviction"], ["GET", "k"]) == b"+OK\r\n$1\r\nv\r\n"
    assert b"k" not in db.hits

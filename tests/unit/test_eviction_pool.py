"""The eviction pool orders equally good candidates as Redis's evictionPoolPopulate does: a new
entry goes to the left of its equals, so the one sampled first is evicted first. Ordering them
by key name made the LRU policies evict, among keys last accessed in the same second, the
greatest names first (for key:0..key:7999 written in order: the most recent keys), and
test_maxmemory_load's volatile-lru case kept too few of the last keys written now and then."""

from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.keyspace import Database
from yizhan.redis.session import Client


def picks(monkeypatch, policy: str, sampled: list[bytes]) -> list[bytes]:
    srv = RedisInstance(clock=ManualClock())
    srv.params.values["maxmemory-policy"] = policy
    srv.params.values["maxmemory-samples"] = "1"
    c = Client(srv, "test")
    for key in sorted(sampled):
        c.execute([b"SET", key, b"v", b"EX", b"100"])  # the same second, the same time to live
    order = iter(sampled)
    for name in ("random_key", "random_volatile_key"):  # the sampling order the test chooses
        monkeypatch.setattr(Database, name, lambda self, rng=None: next(order, None))
    evictor = srv.evictor
    for _ in sampled:
        evictor._fill_pool(policy, policy.startswith("volatile"))
    return [evictor._pick(policy)[1] for _ in sampled]


def test_equal_candidates_go_in_the_order_they_were_sampled(monkeypatch):
    sampled = [b"key:7999", b"key:10", b"key:8000", b"key:5"]
    for policy in ("allkeys-lru", "volatile-lru", "volatile-ttl", "allkeys-lfu"):
        assert picks(monkeypatch, policy, sampled) == sampled, policy

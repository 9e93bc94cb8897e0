"""The server cron moves a large access-time dict into the packed archive, OBJECT IDLETIME
answers from it, and an LRU maxmemory-policy reads it back (eviction samples access times)."""

import time

from yizhan.redis.keyspace import Database


def _wait(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_cron_archives_access_times_and_an_lru_policy_reads_them_back(yizhan_server, yizhan_redis):
    database = yizhan_server.runtime.redis.dbs[0]
    keys = Database.ARCHIVE_MIN + 100
    pipe = yizhan_redis.pipeline(transaction=False)
    for i in range(keys):
        pipe.set(f"k{i}", "v")
    pipe.execute()
    try:
        assert _wait(lambda: yizhan_server.call(lambda: database.archive.entries) >= keys)
        assert yizhan_server.call(lambda: len(database.access)) < keys
        assert yizhan_redis.object("idletime", "k7") in (0, 1, 2)
        yizhan_redis.config_set("maxmemory-policy", "allkeys-lru")
        assert _wait(lambda: yizhan_server.call(lambda: database.archive.entries) == 0)
        assert yizhan_server.call(lambda: len(database.access)) == keys
    finally:
        yizhan_redis.config_set("maxmemory-policy", "noeviction")
        yizhan_redis.flushall()

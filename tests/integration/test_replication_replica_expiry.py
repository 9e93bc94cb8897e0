"""A yizhan replica does not expire keys itself, as a redis-server 7.0 replica does not: once a
key's time has passed, reads answer as if it were missing, but it stays (DBSIZE counts it)
until the master's DEL arrives; the active expiry cycle does not run on a replica. The same
scenario runs against a redis-server replica of the same master, and both answer alike.
The master's own active expiry is turned off (DEBUG SET-ACTIVE-EXPIRE 0), so its DEL comes
only when a read on the master reclaims the key."""

import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference

from tests.integration.test_replication_master import caught_up, link_up, wait_for


def observe(r: redis.Redis) -> list:
    """What a client of the replica sees of the expired key `k` (and the live `other`)."""
    return [r.get("k"), r.exists("k"), r.ttl("k"), r.type("k"), r.dbsize(), sorted(r.keys("*")),
            r.get("other"), r.execute_command("OBJECT", "ENCODING", "k") if r.exists("k") else None]


def test_replica_waits_for_the_masters_del():
    with RedisReference("redis-server", "--enable-debug-command", "local") as master, \
            RedisReference("redis-server", "--enable-debug-command", "local",
                           "--replicaof", "127.0.0.1", str(master.port)) as theirs, \
            Server(save="", enable_debug_command="local", replicaof=f"127.0.0.1 {master.port}") as ours:
        m = redis.Redis(port=master.port)
        replicas = [redis.Redis(port=theirs.port), redis.Redis(port=ours.port)]
        for replica in replicas:
            wait_for(lambda: link_up(replica), what="the link to come up")
        m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        m.set("other", "stays")
        m.set("k", "v", px=300)
        for replica in replicas:
            wait_for(lambda: caught_up(m, replica), what="the replica to catch up")
        # past its time on the replicas' clocks (the master's DEL has not come: it expires nothing)
        for replica in replicas:
            wait_for(lambda: replica.get("k") is None, what="k to read as missing")
        seen = [observe(replica) for replica in replicas]
        assert seen[1] == seen[0]
        assert seen[1][:6] == [None, 0, -2, b"none", 2, [b"other"]]  # hidden, still counted
        assert redis.Redis(port=ours.port).info("stats")["expired_keys"] == 0
        assert m.get("k") is None  # the master reclaims it now: its DEL reaches the replicas
        for replica in replicas:
            wait_for(lambda: caught_up(m, replica), what="the replica to catch up")
        assert [replica.dbsize() for replica in replicas] == [1, 1]

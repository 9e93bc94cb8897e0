"""yizhan as the master of a real redis-server 7.0 replica: `--replicaof` at start and REPLICAOF at
run time, full sync (diskless `$EOF:` and disk-based `$<length>`), the stream of effects
(several databases, transactions, scripts, functions, relative expiries, lazy and active
expiry as DEL), the partial resync after a dropped link (+CONTINUE, counted in INFO stats),
WAIT counting the replica's ACKs and min-replicas-to-write. Equality is DEBUG DIGEST, which
both servers compute the same way over the same data."""

import socket
import time

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def link_up(replica: redis.Redis) -> bool:
    return replica.info("replication").get("master_link_status") == "up"


def digest(port: int) -> bytes:
    return redis.Redis(port=port).execute_command("DEBUG", "DIGEST")


def caught_up(master: redis.Redis, replica: redis.Redis) -> bool:
    return replica.info("replication")["slave_repl_offset"] == master.info("replication")["master_repl_offset"]


def wait_equal(master_port: int, replica_port: int) -> None:
    master, replica = redis.Redis(port=master_port), redis.Redis(port=replica_port)
    wait_for(lambda: caught_up(master, replica), what="the replica's offset to reach the master's")
    assert digest(master_port) == digest(replica_port)


def populate(port: int) -> None:
    r = redis.Redis(port=port)
    r.set("s", "v")
    r.set("n", 42)
    r.rpush("list", *range(200))
    r.hset("hash", mapping={f"f{i}": i for i in range(50)})
    r.sadd("set", *range(30), "x")
    r.zadd("zset", {f"m{i}": i / 3 for i in range(40)})
    r.xadd("stream", {"a": "1"}, id="1-1")
    r.pfadd("hll", *range(20))
    r.set("ttl", "x", ex=3600)
    r.function_load("#!lua name=lib\nredis.register_function('setter', function(keys, args) "
                    "return redis.call('set', keys[1], args[1]) end)")
    redis.Redis(port=port, db=5).set("in5", "five")


def write_stream(port: int) -> None:
    """Writes whose propagation is not the command as sent."""
    r = redis.Redis(port=port)
    r.set("rel", "x", ex=1000)
    r.expire("s", 500)
    r.incrbyfloat("float", 1.25)
    r.spop("set")
    with r.pipeline(transaction=True) as p:
        p.incr("n").lpush("list", "head").hset("hash", "new", "1")
        p.execute()
    r.eval("redis.call('set', KEYS[1], 'a'); redis.call('rpush', KEYS[2], 'b'); return 1", 2, "e1", "e2")
    r.fcall("setter", 1, "fk", "fv")
    r.xadd("stream", {"b": "2"})
    db7 = redis.Redis(port=port, db=7)
    db7.set("seven", 7)
    r.set("short", "gone", px=50)
    db7.set("short7", "gone", px=50)
    time.sleep(0.3)
    assert r.get("short") is None  # lazily expired: a DEL reaches the replica
    r.delete("hash")


@pytest.fixture
def master():
    with Server(save="", enable_debug_command="local") as srv:
        yield srv


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_server_replica_syncs_and_follows(master, diskless):
    redis.Redis(port=master.port).config_set("repl-diskless-sync", diskless)
    populate(master.port)
    with RedisReference("redis-server", "--enable-debug-command", "local",
                        "--replicaof", "127.0.0.1", str(master.port)) as ref:
        replica = redis.Redis(port=ref.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_equal(master.port, ref.port)
        assert replica.get("s") == b"v" and redis.Redis(port=ref.port, db=5).get("in5") == b"five"
        write_stream(master.port)
        wait_equal(master.port, ref.port)
        assert replica.ttl("rel") > 900 and replica.exists("short", "hash") == 0
        assert redis.Redis(port=ref.port, db=7).exists("short7") == 0  # actively expired too
        info = redis.Redis(port=master.port).info("replication")
        assert info["connected_slaves"] == 1 and info["slave0"]["state"] == "online"
        assert info["slave0"]["port"] == ref.port
        assert redis.Redis(port=master.port).info("stats")["sync_full"] == 1


def test_replicaof_at_run_time_then_partial_resync(master):
    populate(master.port)
    with RedisReference("redis-server", "--enable-debug-command", "local") as ref:
        replica = redis.Redis(port=ref.port)
        replica.set("stale", "removed by the full sync")
        assert replica.replicaof("127.0.0.1", master.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_equal(master.port, ref.port)
        assert replica.exists("stale") == 0
        m = redis.Redis(port=master.port)
        for i in range(200):
            m.set(f"k{i}", i)
        replica.client_kill_filter(_type="master")  # the replica drops its link to us
        for i in range(200, 300):  # written while the link is down: from the backlog
            m.set(f"k{i}", i)
        wait_for(lambda: link_up(replica) and caught_up(m, replica), what="the link to come back")
        assert digest(master.port) == digest(ref.port)
        stats = m.info("stats")
        assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)
        assert replica.get("k299") == b"299"


def test_wait_counts_acks_and_min_replicas(master):
    m = redis.Redis(port=master.port)
    m.set("before", 1)
    assert m.wait(1, 100) == 0  # no replica
    m.config_set("min-replicas-to-write", 1)
    with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write.$"):
        m.set("refused", 1)
    with RedisReference("redis-server", "--replicaof", "127.0.0.1", str(master.port)) as ref:
        replica = redis.Redis(port=ref.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_for(lambda: m.info("replication").get("min_slaves_good_slaves") == 1, what="a good replica")
        assert m.set("accepted", 1)
        assert m.wait(1, 5000) == 1
        assert replica.get("accepted") == b"1"  # WAIT returned: the write is on the replica
        assert m.wait(2, 200) == 1  # only one replica acknowledges
        role = m.execute_command("ROLE")
        assert role[0] == b"master" and role[2][0][1] == str(ref.port).encode()
    wait_for(lambda: m.info("replication")["connected_slaves"] == 0, what="the replica to be gone")
    with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas to write.$"):
        m.set("refused", 1)
    m.config_set("min-replicas-to-write", 0)
    assert m.set("free", 1)


def test_a_replica_that_does_not_read_is_disconnected(master):
    """client-output-buffer-limit slave: the stream to a stalled replica does not grow without
    bound; the replica is dropped (it would resync when it comes back)."""
    m = redis.Redis(port=master.port)
    m.config_set("client-output-buffer-limit", "slave 1mb 0 0")
    stalled = socket.create_connection(("127.0.0.1", master.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
    wait_for(lambda: m.info("replication")["connected_slaves"] == 1, what="the fake replica to attach")
    value = b"x" * 100_000
    for i in range(400):  # 40 MB for a replica that reads nothing
        m.set(f"big{i % 10}", value)
        if m.info("replication")["connected_slaves"] == 0:
            break
    wait_for(lambda: m.info("replication")["connected_slaves"] == 0, what="the replica to be dropped")
    stalled.close()

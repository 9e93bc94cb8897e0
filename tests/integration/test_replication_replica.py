"""yizhan as the replica of a real redis-server 7.0 master: `replicaof` at start and REPLICAOF
at run time, the master's RDB (v10) loaded, its stream applied (DEBUG DIGEST equal), REPLCONF
GETACK answered (the master's WAIT counts yizhan), read-only for clients, partial resync after
the master drops the link (+CONTINUE: the master counts sync_partial_ok), and promotion with
REPLICAOF NO ONE (new replid, the master's as replid2)."""

import time

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference
from tests.integration.test_replication_master import (caught_up, digest, link_up, populate, wait_equal,
                                                       wait_for, write_stream)


@pytest.fixture
def redis_master():
    with RedisReference("redis-server", "--enable-debug-command", "local") as ref:
        yield ref


def test_follows_redis_server_from_start(redis_master):
    populate(redis_master.port)
    m = redis.Redis(port=redis_master.port)
    with Server(save="", enable_debug_command="local", replicaof=f"127.0.0.1 {redis_master.port}") as ours:
        replica = redis.Redis(port=ours.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_equal(redis_master.port, ours.port)
        write_stream(redis_master.port)
        wait_equal(redis_master.port, ours.port)
        with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only replica."):
            replica.set("k", "v")
        assert m.set("acked", 1) and m.wait(1, 5000) == 1  # yizhan answers GETACK
        info = replica.info("replication")
        assert info["role"] == "slave" and info["master_port"] == redis_master.port
        assert info["master_replid"] == m.info("replication")["master_replid"]
        assert replica.execute_command("ROLE")[:4] == [b"slave", b"127.0.0.1", redis_master.port, b"connected"]
        assert m.info("replication")["slave0"]["port"] == ours.port


def test_replicaof_at_run_time_partial_resync_and_promotion(redis_master):
    m = redis.Redis(port=redis_master.port)
    populate(redis_master.port)
    with Server(save="", enable_debug_command="local") as ours:
        replica = redis.Redis(port=ours.port)
        replica.set("mine", "dropped by the full sync")
        assert replica.replicaof("127.0.0.1", redis_master.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        wait_equal(redis_master.port, ours.port)
        assert replica.exists("mine") == 0
        m.client_kill_filter(_type="replica")  # the master drops the link
        for i in range(300):
            m.set(f"k{i}", i)
        wait_for(lambda: link_up(replica) and caught_up(m, replica), what="the link to come back")
        assert digest(redis_master.port) == digest(ours.port)
        stats = m.info("stats")
        assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)
        old_replid = m.info("replication")["master_replid"]
        offset = replica.info("replication")["master_repl_offset"]
        assert replica.replicaof("NO", "ONE")
        info = replica.info("replication")
        assert info["role"] == "master" and info["master_replid2"] == old_replid
        assert info["second_repl_offset"] == offset + 1 and info["master_replid"] != old_replid
        assert replica.set("now", "writable")
        assert replica.get("k299") == b"299"

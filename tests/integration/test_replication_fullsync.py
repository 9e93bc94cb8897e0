"""yizhan's full sync runs in a forked child, as Redis's: while a redis-server 7.0 replica is
still receiving a large RDB (made slow with the hidden rdb-key-save-delay), the master answers
other clients and takes writes, which reach the replica after the RDB. The observation is an
ordering, not a timing: PING is answered while INFO replication still shows the replica
waiting for its RDB (and the replica itself still syncing). Both transfers: diskless (the
child's pipe, `$EOF:`) and disk-based (a BGSAVE writing dump.rdb, then `$<length>`); and
several replicas arriving within repl-diskless-sync-delay share one sync."""

import logging
import os

import pytest
import redis

from yizhan.embedded import Server
from yizhan.redis.replication.state import replication
from yizhan.testing.reference import RedisReference

from tests.integration.test_replication_master import link_up, wait_equal, wait_for

KEYS = 2000


def slave_states(master: redis.Redis) -> list[str]:
    info = master.info("replication")
    return [info[f"slave{n}"]["state"] for n in range(info["connected_slaves"])]


@pytest.fixture
def master(tmp_path):
    with Server(save="", enable_debug_command="local", data_dir=str(tmp_path)) as srv:
        m = redis.Redis(port=srv.port)
        for start in range(0, KEYS, 500):
            m.mset({f"key:{i}": f"value-{i}" * 4 for i in range(start, start + 500)})
        m.rpush("list", *range(300))
        m.config_set("repl-diskless-sync-delay", 0)
        m.config_set("rdb-key-save-delay", 1000)  # 1 ms per key: the child takes seconds
        yield srv


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_master_serves_clients_during_a_full_sync(master, diskless):
    m = redis.Redis(port=master.port)
    m.config_set("repl-diskless-sync", diskless)
    with RedisReference("redis-server", "--enable-debug-command", "local",
                        "--replicaof", "127.0.0.1", str(master.port)) as ref:
        replica = redis.Redis(port=ref.port)
        wait_for(lambda: slave_states(m) == ["wait_bgsave"], what="the sync to start")
        assert m.ping() is True
        m.set("during", "the sync")
        m.incr("counter")
        m.rpush("list", "tail")
        assert slave_states(m) == ["wait_bgsave"]  # PING and writes answered before it ended
        assert m.info("persistence")["rdb_bgsave_in_progress"] == 1  # an RDB child, either way
        with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
            m.bgsave()
        assert replica.info("replication")["master_sync_in_progress"] == 1
        m.config_set("rdb-key-save-delay", 0)  # the next sync is quick; this child keeps its copy
        wait_for(lambda: link_up(replica), timeout=60, what="the link to come up")
        wait_equal(master.port, ref.port)
        assert replica.get("during") == b"the sync" and replica.get("counter") == b"1"
        assert replica.dbsize() == KEYS + 3
        assert slave_states(m) == ["online"]
    saved = os.path.exists(os.path.join(master.config.data_dir, "dump.rdb"))
    assert saved == (diskless == "no")  # a disk-based sync writes dump.rdb, as Redis's


def test_replicas_within_the_delay_share_one_sync(master, caplog):
    caplog.set_level(logging.INFO, logger="yizhan")
    m = redis.Redis(port=master.port)
    m.config_set("rdb-key-save-delay", 0)
    m.config_set("repl-diskless-sync-delay", 3)
    with RedisReference("redis-server", "--enable-debug-command", "local",
                        "--replicaof", "127.0.0.1", str(master.port)) as first:
        wait_for(lambda: slave_states(m) == ["wait_bgsave"], what="the first replica to wait")
        m.incr("between")  # in the RDB both get, not in their held streams
        with RedisReference("redis-server", "--enable-debug-command", "local",
                            "--replicaof", "127.0.0.1", str(master.port)) as second:
            for ref in (first, second):
                wait_for(lambda: link_up(redis.Redis(port=ref.port)), timeout=30, what="the link to come up")
                wait_equal(master.port, ref.port)
            assert m.info("stats")["sync_full"] == 2
            assert redis.Redis(port=second.port).get("between") == b"1"
            assert m.info("persistence")["rdb_saves"] == 0  # diskless: no file
    started = [r for r in caplog.records if r.getMessage().startswith("Starting BGSAVE for SYNC")]
    assert len(started) == 1  # one child for both replicas


def test_a_sync_child_does_not_outlive_the_server(master):
    m = redis.Redis(port=master.port)
    m.config_set("rdb-key-save-delay", 100000)  # 0.1 s per key: the child would run for minutes
    with RedisReference("redis-server", "--replicaof", "127.0.0.1", str(master.port)):
        wait_for(lambda: slave_states(m) == ["wait_bgsave"], what="the sync to start")
        pid = replication(master.runtime.redis).master.syncs.pid
        assert pid is not None and os.waitpid(pid, os.WNOHANG) == (0, 0)  # running
        master.stop()
        with pytest.raises(ChildProcessError):  # killed and reaped by the server
            os.waitpid(pid, os.WNOHANG)

"""yizhan as the replica of a real redis-server 7.0 master: `replicaof` at start and REPLICAOF
at run time, the master's RDB (v10) loaded, its stream applied (DEBUG DIGEST equal), REPLCONF
GETACK answered (the master's WAIT counts yizhan), read-only for clients, partial resync after
the master drops the link (+CONTINUE: the master counts sync_partial_ok), and promotion with
REPLICAOF NO ONE (new replid, the master's as replid2)."""

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.process import ServerProcess
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


def test_masterauth_both_ways_and_serve_replicaof(tmp_path):
    """A master with requirepass: redis-server replicates from yizhan with masterauth, and
    `yizhan serve --replicaof HOST PORT` (with masterauth in its config file) from redis-server."""
    with Server(save="", enable_debug_command="local", requirepass="s3cret") as ours, \
            RedisReference("redis-server", "--enable-debug-command", "local", "--masterauth", "s3cret",
                           "--replicaof", "127.0.0.1", str(ours.port)) as ref:
        redis.Redis(port=ours.port, password="s3cret").set("k", "v")
        replica = redis.Redis(port=ref.port)
        wait_for(lambda: link_up(replica), what="redis-server to authenticate and sync")
        wait_for(lambda: replica.get("k") == b"v", what="the write to arrive")
    with RedisReference("redis-server", "--enable-debug-command", "local") as ref:
        redis.Redis(port=ref.port).config_set("requirepass", "pw")  # (after start: the fixture PINGs)
        m = redis.Redis(port=ref.port, password="pw")
        m.set("from", "redis-server")
        data = tmp_path / "data"
        data.mkdir()
        (data / "yizhan.conf").write_text("masterauth pw\nenable-debug-command local\nsave \"\"\n")
        ours = ServerProcess(data, tmp_path / "yizhan.log", "--config", str(data / "yizhan.conf"),
                             "--replicaof", "127.0.0.1", str(ref.port))
        try:
            replica = redis.Redis(port=ours.redis_port)
            wait_for(lambda: link_up(replica), what="yizhan to authenticate and sync")
            m.set("later", "1")
            wait_for(lambda: caught_up(m, replica), what="yizhan to catch up")
            assert replica.get("from") == b"redis-server" and replica.get("later") == b"1"
            assert digest(ours.redis_port) == m.execute_command("DEBUG", "DIGEST")
        finally:
            ours.stop()


def test_chained_redis_to_yizhan_to_redis(redis_master):
    """redis-server -> yizhan -> redis-server: yizhan passes its master's stream on unchanged,
    and the RDB it gives its own replica names the database that stream is in (repl-stream-db),
    so writes in database 5 land in database 5 two hops away."""
    m5 = redis.Redis(port=redis_master.port, db=5)
    populate(redis_master.port)
    m5.set("five", "before")
    with Server(save="", enable_debug_command="local", replicaof=f"127.0.0.1 {redis_master.port}") as ours:
        middle = redis.Redis(port=ours.port)
        wait_for(lambda: link_up(middle), what="yizhan to sync")
        m5.set("five", "while the stream is in db 5")
        wait_for(lambda: caught_up(m5, middle), what="yizhan to catch up")
        with RedisReference("redis-server", "--enable-debug-command", "local",
                            "--replicaof", "127.0.0.1", str(ours.port)) as last:
            end = redis.Redis(port=last.port)
            wait_for(lambda: link_up(end), what="the last hop to sync")
            for i in range(100):
                m5.incr("counter")
            wait_for(lambda: caught_up(m5, middle) and caught_up(middle, end), what="both hops to catch up")
            assert redis.Redis(port=last.port, db=5).get("counter") == b"100"
            assert digest(redis_master.port) == digest(ours.port) == digest(last.port)

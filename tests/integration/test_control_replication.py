"""Replication follows the server clock (srv.advance) like every other timer: a yizhan
master frees its backlog after repl-backlog-ttl without replicas, and a yizhan replica drops a
master silent for repl-timeout and resyncs (partially), both with no wall time spent. Against
redis-server 7.0 as the other side."""

from __future__ import annotations

import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference
from tests.integration.test_replication_master import link_up, wait_for


def test_master_backlog_ttl_follows_the_server_clock():
    with Server(save="") as srv, RedisReference("redis-server") as ref:
        master = redis.Redis(port=srv.port)
        master.config_set("repl-backlog-ttl", "3600")
        replica = redis.Redis(port=ref.port)
        replica.replicaof("127.0.0.1", srv.port)
        wait_for(lambda: link_up(replica), what="the link to come up")
        replica.replicaof("no", "one")
        wait_for(lambda: master.info("replication")["connected_slaves"] == 0, what="the replica to leave")
        srv.advance(3000)
        assert master.info("replication")["repl_backlog_active"] == 1  # not yet
        srv.advance(601)
        assert master.info("replication")["repl_backlog_active"] == 0  # freed by the advance


def test_replica_timeout_follows_the_server_clock():
    with RedisReference("redis-server") as ref, Server(save="") as srv:
        master = redis.Redis(port=ref.port)
        master.config_set("repl-ping-replica-period", "3600")  # the master stays quiet
        master.set("k", "v")
        ours = redis.Redis(port=srv.port)
        ours.config_set("repl-timeout", "60")
        ours.replicaof("127.0.0.1", ref.port)
        wait_for(lambda: link_up(ours), what="the link to come up")
        assert master.info("stats")["sync_partial_ok"] == 0
        srv.advance(30)
        assert link_up(ours)  # within repl-timeout
        srv.advance(31)  # silent for 61 s of server time: the link is dropped, then made again
        wait_for(lambda: master.info("stats")["sync_partial_ok"] == 1, what="a partial resync")
        wait_for(lambda: link_up(ours), what="the link to come back")
        assert ours.get("k") == b"v"

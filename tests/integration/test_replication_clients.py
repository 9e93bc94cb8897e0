"""What a master shows of its replicas, as redis-server 7.0 shows it: CLIENT LIST flags S for a
replica's connection, and INFO clients' connected_clients leaving replicas out. The same
redis-server replica attaches to yizhan and to a redis-server master; both masters answer alike."""

import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference

from tests.integration.test_replication_master import link_up, wait_for


def seen_by(master_port: int) -> tuple:
    m = redis.Redis(port=master_port, single_connection_client=True)
    with RedisReference("redis-server", "--replicaof", "127.0.0.1", str(master_port)) as ref:
        wait_for(lambda: link_up(redis.Redis(port=ref.port)), what="the link to come up")
        flags = sorted(c["flags"] for c in m.client_list())
        replicas = [c for c in m.client_list() if "S" in c["flags"]]
        seen = (flags, len(replicas), m.info("clients")["connected_clients"], len(m.client_list(_type="replica")))
    m.close()
    return seen


def test_replica_flags_and_connected_clients():
    with Server(save="") as ours, RedisReference("redis-server") as theirs:
        assert seen_by(ours.port) == seen_by(theirs.port) == (["N", "S"], 1, 1, 1)


def master_link_seen(replica_port: int, master: redis.Redis) -> tuple:
    r = redis.Redis(port=replica_port, single_connection_client=True)
    wait_for(lambda: link_up(r), what="the link to come up")
    links = r.client_list(_type="master")
    seen = ([c["flags"] for c in links], links[0]["addr"] == f"127.0.0.1:{master.connection_pool.connection_kwargs['port']}",
            r.info("clients")["connected_clients"], len(r.client_list()))
    before = master.info("stats")["sync_partial_ok"]
    assert r.client_kill_filter(_type="master") == 1  # the link drops and continues (+CONTINUE)
    wait_for(lambda: master.info("stats")["sync_partial_ok"] == before + 1, what="the partial resync")
    wait_for(lambda: link_up(r), what="the link to come back")
    r.close()
    return seen


def test_master_link_flag_m():
    with RedisReference("redis-server") as master, \
            RedisReference("redis-server", "--replicaof", "127.0.0.1", str(master.port)) as theirs, \
            Server(save="", replicaof=f"127.0.0.1 {master.port}") as ours:
        m = redis.Redis(port=master.port)
        assert master_link_seen(ours.port, m) == master_link_seen(theirs.port, m) == (["M"], True, 2, 2)

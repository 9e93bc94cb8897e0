"""FAILOVER (Redis 6.2+'s coordinated failover) between yizhan and redis-server 7.0, in the four
pairings (yizhan master -> redis-server replica, redis-server -> yizhan, yizhan -> yizhan, and
redis-server -> redis-server as the reference): the roles swap, the old master continues the
new master's history by a partial resync, INFO replication and ROLE say the same on both sides
as in the all-Redis pairing. The road to Redis runs with writers at work and loses no
acknowledged write. ABORT, TIMEOUT (aborting, or failing over with FORCE), the errors with a
replica attached and the refusals while a failover waits are compared reply for reply with a
redis-server master, whose replica (a redis-server) is stopped with SIGSTOP so it cannot catch
up."""

import contextlib
import os
import signal
import threading
import time

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference
from tests.integration.test_replication_master import digest, link_up, populate, wait_equal, wait_for
from tests.integration.test_replication_switchover import Writer


@contextlib.contextmanager
def server(kind: str):
    """(port, process or None) of a yizhan or redis-server instance."""
    if kind == "yizhan":
        with Server(save="", enable_debug_command="local") as ours:
            yield ours.port, None
    else:
        with RedisReference("redis-server", "--enable-debug-command", "local") as ref:
            yield ref.port, ref.process


@contextlib.contextmanager
def pair(master_kind: str, replica_kind: str):
    """A master with data and a replica in sync with it: (master port, replica port, replica process)."""
    with server(master_kind) as (mport, _), server(replica_kind) as (rport, rprocess):
        populate(mport)
        replica = redis.Redis(port=rport)
        assert replica.replicaof("127.0.0.1", mport)
        wait_for(lambda: link_up(replica), what="the replica to sync")
        wait_equal(mport, rport)
        wait_for(lambda: redis.Redis(port=mport).info("replication").get("slave0", {}).get("state") == "online",
                 what="the master to see its replica online")
        yield mport, rport, rprocess


def failover_state(port: int) -> str:
    return redis.Redis(port=port).info("replication")["master_failover_state"]


def settled(old: int, new: int) -> bool:
    """The old master follows the new one, the failover over, the link up."""
    info = redis.Redis(port=old).info("replication")
    return info["role"] == "slave" and info["master_failover_state"] == "no-failover" and \
        info["master_link_status"] == "up" and info["master_port"] == new


def summary(old: int, new: int, sync_partial_before: int) -> dict:
    """What a finished failover leaves, in terms that do not depend on ports or ids."""
    a, b = redis.Redis(port=old), redis.Redis(port=new)
    wait_equal(new, old)
    ai, bi = a.info("replication"), b.info("replication")
    arole, brole = a.execute_command("ROLE"), b.execute_command("ROLE")
    return {
        "old": (ai["role"], ai["master_port"] == new, ai["master_link_status"], ai["master_failover_state"],
                ai["connected_slaves"], list(ai)),
        "new": (bi["role"], bi["connected_slaves"], bi["slave0"]["port"] == old, bi["slave0"]["state"],
                bi["master_failover_state"], list(bi)),
        "replids": (ai["master_replid"] == bi["master_replid"], ai["master_replid2"] == bi["master_replid2"],
                    bi["second_repl_offset"] > 0),
        "role": (arole[0], arole[2] == new, arole[3], brole[0], [int(p[1]) == old for p in brole[2]]),
        "partial_resyncs": b.info("stats")["sync_partial_ok"] - sync_partial_before,
        "full_syncs_on_new": b.info("stats")["sync_full"],
        "digests_equal": digest(old) == digest(new),
        "writable": (b.set("after", "failover"), _readonly(a)),
    }


def _readonly(r: redis.Redis) -> str:
    try:
        r.set("x", "y")
    except redis.ReadOnlyError as exc:
        return str(exc)
    return "accepted"


def run_failover(master_kind: str, replica_kind: str, to_target: bool) -> dict:
    with pair(master_kind, replica_kind) as (mport, rport, _):
        m = redis.Redis(port=mport)
        before = redis.Redis(port=rport).info("stats")["sync_partial_ok"]
        args = ["FAILOVER", "TO", "127.0.0.1", rport] if to_target else ["FAILOVER"]
        assert m.execute_command(*args) == b"OK"
        wait_for(lambda: settled(mport, rport), what="the failover to finish")
        return summary(mport, rport, before)


@pytest.fixture(scope="module")
def reference_failover():
    return {to: run_failover("redis", "redis", to) for to in (True, False)}


@pytest.mark.parametrize("to_target", [True, False], ids=["to-target", "any-replica"])
@pytest.mark.parametrize("master_kind,replica_kind", [("yizhan", "redis"), ("redis", "yizhan"), ("yizhan", "yizhan")])
def test_failover_swaps_roles_as_between_two_redis_servers(reference_failover, master_kind, replica_kind, to_target):
    ours = run_failover(master_kind, replica_kind, to_target)
    assert ours == reference_failover[to_target]
    assert ours["partial_resyncs"] == 1 and ours["digests_equal"]


def _blocked_client_at_failover(master_kind: str) -> list:
    """A BLPOP waiting on the master when it becomes a replica: an error, then the connection closes."""
    with pair(master_kind, "redis") as (mport, rport, _):
        with RawClient("127.0.0.1", mport) as blocked, RawClient("127.0.0.1", mport) as c:
            blocked.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n")
            wait_for(lambda: redis.Redis(port=mport).info("clients")["blocked_clients"] == 1, what="BLPOP to block")
            log = [c.call("FAILOVER", "TO", "127.0.0.1", rport)]
            wait_for(lambda: settled(mport, rport), what="the failover to finish")
            log.append(blocked.read_reply())
            blocked.sock.settimeout(5)
            log.append(blocked.sock.recv(100))  # closed: b""
            return log


def test_blocked_clients_are_unblocked_and_closed_as_by_redis_server():
    ours, theirs = _blocked_client_at_failover("yizhan"), _blocked_client_at_failover("redis")
    assert ours == theirs
    assert ours[1].startswith(b"-UNBLOCKED force unblock") and ours[2] == b""


def test_failover_to_redis_server_loses_no_acknowledged_write():
    """The road to Redis in one command: writers keep writing to yizhan; FAILOVER hands the
    master role to the redis-server replica once it has every write; the writes yizhan held
    meanwhile are refused with READONLY (not acknowledged) and retried on redis-server."""
    with pair("yizhan", "redis") as (yport, rport, _):
        current = {"port": yport}
        stop = threading.Event()
        writers = [Writer(n, lambda: current["port"], stop) for n in range(4)]
        for w in writers:
            w.start()
        time.sleep(0.5)
        yz, rs = redis.Redis(port=yport), redis.Redis(port=rport)
        started = time.monotonic()
        assert yz.execute_command("FAILOVER", "TO", "127.0.0.1", rport, "TIMEOUT", 30_000) == b"OK"
        wait_for(lambda: settled(yport, rport), what="the failover to finish")
        current["port"] = rport
        settled_after = time.monotonic() - started
        time.sleep(0.5)
        stop.set()
        for w in writers:
            w.join(30)
        assert not any(w.errors for w in writers), [w.errors for w in writers]
        assert sum(w.incrs for w in writers) > 0
        for w in writers:
            keys = sorted(w.acked)
            assert rs.mget(keys) == [w.acked[k] for k in keys]
            assert int(rs.get(f"count:{w.n}")) == w.incrs
        wait_equal(rport, yport)
        assert rs.info("stats")["sync_partial_ok"] == 1
        print(f"\nfailover: settled {settled_after:.2f} s after FAILOVER, "
              f"{sum(w.incrs * 2 for w in writers)} acknowledged writes during the run, "
              f"{sum(w.refused for w in writers)} refused with READONLY and retried")


# -- replies compared with a redis-server master ---------------------------------------------
def _transcript_with_stopped_replica(master_kind: str, scenario) -> list:
    with pair(master_kind, "redis") as (mport, rport, rprocess):
        with RawClient("127.0.0.1", mport) as c, RawClient("127.0.0.1", rport) as rc:
            log = [c.call("FAILOVER", "TO", "127.0.0.1", "1"), c.call("FAILOVER", "TO", "127.0.0.2", rport),
                   c.call("FAILOVER", "TIMEOUT", "100", "FORCE"), c.call("FAILOVER", "TO", "127.0.0.1", rport, "FORCE"),
                   c.call("FAILOVER", "TO", "127.0.0.1", rport, "TIMEOUT", "0"), c.call("FAILOVER", "ABORT"),
                   rc.call("FAILOVER"), rc.call("FAILOVER", "ABORT"), rc.call("PSYNC", "0" * 40, "1", "FAILOVER"),
                   c.call("PSYNC", "0" * 40, "1", "FAILOVER")]
            os.kill(rprocess.pid, signal.SIGSTOP)
            try:
                c.call("SET", "unacked", "1")  # the replica cannot acknowledge this one
                log += scenario(c, mport, rport, rprocess)
            finally:
                os.kill(rprocess.pid, signal.SIGCONT)
            return log


def _held_write(mport: int) -> tuple[RawClient, list]:
    """A write sent now, held by the failover: its key stays unset (reads still run)."""
    writer = RawClient("127.0.0.1", mport)
    writer.send_raw(b"*3\r\n$3\r\nSET\r\n$4\r\nheld\r\n$1\r\nv\r\n")
    time.sleep(0.1)
    return writer, [redis.Redis(port=mport).get("held")]


def _abort(c, mport, rport, rprocess) -> list:
    log = [c.call("FAILOVER", "TIMEOUT", "60000"), failover_state(mport)]
    writer, held = _held_write(mport)
    log += held
    log += [c.call("FAILOVER"), c.call("FAILOVER", "TO", "127.0.0.1", rport), c.call("REPLICAOF", "NO", "ONE"),
            c.call("REPLICAOF", "127.0.0.1", rport), c.call("PSYNC", "?", "-1"), c.call("SYNC"),
            c.call("FAILOVER", "ABORT", "x"), c.call("FAILOVER", "ABORT"), failover_state(mport),
            c.call("FAILOVER", "ABORT")]
    log += [writer.read_reply(), redis.Redis(port=mport).get("held"), c.call("ROLE")[:16]]
    writer.close()
    return log


def _timeout(c, mport, rport, rprocess) -> list:
    log = [c.call("FAILOVER", "TO", "127.0.0.1", rport, "TIMEOUT", "2000"), failover_state(mport)]
    writer, held = _held_write(mport)
    log += held
    wait_for(lambda: failover_state(mport) == "no-failover", what="the timeout to abort the failover")
    log += [writer.read_reply(), redis.Redis(port=mport).info("replication")["role"], c.call("FAILOVER", "ABORT")]
    writer.close()
    return log


def _force(c, mport, rport, rprocess) -> list:
    log = [c.call("FAILOVER", "TIMEOUT", "1500", "TO", "127.0.0.1", rport, "FORCE"), failover_state(mport)]
    wait_for(lambda: failover_state(mport) == "failover-in-progress", what="the timeout to force the failover")
    info = redis.Redis(port=mport).info("replication")
    log += [info["role"], info["master_port"] == rport, c.call("FAILOVER"), c.call("REPLICAOF", "NO", "ONE")]
    os.kill(rprocess.pid, signal.SIGCONT)
    wait_for(lambda: settled(mport, rport), what="the forced failover to finish")
    log += [redis.Redis(port=rport).info("replication")["role"], c.call("FAILOVER", "ABORT")]
    return log


def _client_pause(c, mport, rport, rprocess) -> list:
    """CLIENT PAUSE and UNPAUSE during a failover: the failover's hold on writes stays."""
    log = [c.call("FAILOVER", "TIMEOUT", "60000"), c.call("CLIENT", "PAUSE", "60000", "WRITE")]
    writer, held = _held_write(mport)
    log += held + [c.call("CLIENT", "UNPAUSE"), c.call("GET", "held"), c.call("CLIENT", "PAUSE", "10", "WRITE"),
                   c.call("GET", "held"), c.call("FAILOVER", "ABORT"), writer.read_reply(), c.call("GET", "held")]
    writer.close()
    return log


@pytest.mark.parametrize("scenario", [_abort, _timeout, _force, _client_pause],
                         ids=["abort", "timeout", "force", "client-pause"])
def test_failover_replies_match_redis_server(scenario):
    ours = _transcript_with_stopped_replica("yizhan", scenario)
    theirs = _transcript_with_stopped_replica("redis", scenario)
    assert ours == theirs


def _refused_while_syncing(master_kind: str) -> list:
    """A replica still waiting for its full sync (a diskless sync delayed 60 s) is no target."""
    with server(master_kind) as (mport, _), server("redis") as (rport, _):
        m = redis.Redis(port=mport)
        m.config_set("repl-diskless-sync", "yes")
        m.config_set("repl-diskless-sync-delay", 60)
        assert redis.Redis(port=rport).replicaof("127.0.0.1", mport)
        wait_for(lambda: m.info("replication")["connected_slaves"] == 1, what="the replica to ask for a sync")
        with RawClient("127.0.0.1", mport) as c:
            return [m.info("replication")["slave0"]["state"], c.call("FAILOVER", "TO", "127.0.0.1", rport),
                    c.call("FAILOVER", "TO", "localhost", rport), c.call("FAILOVER", "ABORT"), failover_state(mport)]


def test_failover_to_a_replica_still_syncing_is_refused_as_by_redis_server():
    ours, theirs = _refused_while_syncing("yizhan"), _refused_while_syncing("redis")
    assert ours == theirs
    assert ours[1] == b"-ERR FAILOVER target replica is not online.\r\n"


def _chain_failover(middle_kind: str) -> list:
    """redis-server master -> <middle> -> redis-server sub-replica; FAILOVER to the middle one:
    promoted, it drops its replica, which comes back by a partial resync and follows the new
    replid, as Redis's replicationUnsetMaster has it."""
    with pair("redis", middle_kind) as (mport, port, _), server("redis") as (sport, _):
        sub = redis.Redis(port=sport)
        assert sub.replicaof("127.0.0.1", port)
        wait_for(lambda: link_up(sub), what="the sub-replica to sync")
        middle = redis.Redis(port=port)
        before = middle.info("stats")["sync_partial_ok"]
        assert redis.Redis(port=mport).execute_command("FAILOVER", "TO", "127.0.0.1", port) == b"OK"
        wait_for(lambda: settled(mport, port), what="the failover to finish")
        new_replid = middle.info("replication")["master_replid"]
        wait_for(lambda: link_up(sub) and sub.info("replication")["master_replid"] == new_replid,
                 what="the sub-replica to follow the new history")
        middle.set("after", 1)
        wait_for(lambda: sub.get("after") == b"1", what="the write to reach the sub-replica")
        info = middle.info("replication")
        return [info["connected_slaves"], sorted(info[f"slave{n}"]["port"] == p for n, p in enumerate((mport, sport))),
                middle.info("stats")["sync_partial_ok"] - before, middle.info("stats")["sync_full"] == 0]


def test_promoted_replica_resyncs_its_own_replicas_as_redis_server():
    assert _chain_failover("yizhan") == _chain_failover("redis")

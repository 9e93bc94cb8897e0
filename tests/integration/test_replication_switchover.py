"""The README's "Moving to Redis" recipe, end to end, with writers running the whole time:
clients write to yizhan; a redis-server replica syncs and catches up; writes are paused on
yizhan (CLIENT PAUSE WRITE) until the replica has everything, the replica is promoted
(REPLICAOF NO ONE), clients move to it, yizhan follows it (REPLICAOF: the writes it postponed
are refused with READONLY when the pause ends, so no client counts them as done, and retried
on redis-server). Afterwards every acknowledged write is on redis-server (each writer's last
acknowledged value per key, its INCR counter equal to the INCRs acknowledged) and yizhan,
now its replica, has the same DEBUG DIGEST. The volumes and times are printed (run with -s)."""

import subprocess
import threading
import time

import redis

from yizhan.embedded import Server
from yizhan.testing.reference import RedisReference
from tests.integration.test_replication_master import caught_up, digest, link_up, wait_equal, wait_for

PRELOAD_KEYS = 60_000
WRITERS = 4


class Writer(threading.Thread):
    """Writes to whichever server `target()` names; remembers what was acknowledged."""

    def __init__(self, n: int, target, stop: threading.Event):
        super().__init__(daemon=True)
        self.n, self.target, self.stop = n, target, stop
        self.acked: dict[bytes, bytes] = {}
        self.incrs = 0
        self.refused = 0
        self.errors: list[str] = []

    def run(self) -> None:
        i = 0
        clients = {}
        while not self.stop.is_set():
            port = self.target()
            r = clients.get(port) or clients.setdefault(port, redis.Redis(port=port, socket_timeout=30))
            key, value = f"w{self.n}:{i % 500}".encode(), f"{i}".encode()
            try:
                r.set(key, value)
                self.acked[key] = value
                r.incr(f"count:{self.n}")
                self.incrs += 1
                i += 1
            except redis.ReadOnlyError:
                self.refused += 1  # postponed on yizhan, refused once it follows redis-server: retried
            except redis.RedisError as exc:
                self.errors.append(repr(exc))
                return


def preload(port: int) -> None:
    r = redis.Redis(port=port)
    with r.pipeline(transaction=False) as p:
        for i in range(PRELOAD_KEYS):
            p.set(f"key:{i}", "v" * 100 + str(i))
            if i % 20 == 0:
                p.hset(f"hash:{i}", mapping={f"f{j}": j for j in range(10)})
                p.rpush(f"list:{i}", *range(20))
                p.zadd(f"zset:{i}", {f"m{j}": j for j in range(10)})
            if i % 1000 == 999:
                p.execute()
        p.execute()


def test_switch_over_to_redis_server_loses_no_acknowledged_write(tmp_path):
    with Server(save="", enable_debug_command="local") as ours, \
            RedisReference("redis-server", "--enable-debug-command", "local") as ref:
        preload(ours.port)
        rdb_path = tmp_path / "size.rdb"
        subprocess.run(["redis-cli", "-p", str(ours.port), "--rdb", str(rdb_path)], check=True,
                       capture_output=True, timeout=120)
        rdb_mb = rdb_path.stat().st_size / 1e6
        keys_at_start = redis.Redis(port=ours.port).dbsize()
        current = {"port": ours.port}
        stop = threading.Event()
        writers = [Writer(n, lambda: current["port"], stop) for n in range(WRITERS)]
        for w in writers:
            w.start()
        time.sleep(0.5)
        yz, rs = redis.Redis(port=ours.port), redis.Redis(port=ref.port)

        started = time.monotonic()
        assert rs.replicaof("127.0.0.1", ours.port)
        wait_for(lambda: link_up(rs), timeout=120, what="redis-server to sync")
        synced = time.monotonic()
        wait_for(lambda: rs.info("replication")["slave_repl_offset"] >= yz.info("replication")["master_repl_offset"] - 200_000,
                 timeout=60, what="redis-server to come close")

        switch_started = time.monotonic()
        yz.client_pause(30_000, all=False)  # writes wait from here on
        wait_for(lambda: caught_up(yz, rs), timeout=60, what="redis-server to have every write")
        assert rs.replicaof("NO", "ONE")
        current["port"] = ref.port  # clients move
        assert yz.replicaof("127.0.0.1", ref.port)  # yizhan follows: postponed writes get READONLY
        yz.client_unpause()
        switched = time.monotonic()

        time.sleep(1.0)  # writers keep going against redis-server
        stop.set()
        for w in writers:
            w.join(30)
        assert not any(w.errors for w in writers), [w.errors for w in writers]

        for w in writers:  # nothing acknowledged is missing
            keys = sorted(w.acked)
            assert rs.mget(keys) == [w.acked[k] for k in keys]
            assert int(rs.get(f"count:{w.n}")) == w.incrs
        wait_for(lambda: link_up(yz), timeout=60, what="yizhan to follow redis-server")
        wait_equal(ref.port, ours.port)
        assert rs.info("stats")["sync_partial_ok"] == 1  # yizhan continued the history it handed over
        total_writes = sum(w.incrs * 2 for w in writers)
        print(f"\nswitch-over: {keys_at_start} keys, RDB {rdb_mb:.1f} MB, full sync in "
              f"{synced - started:.2f} s, writes paused for {switched - switch_started:.2f} s, "
              f"{total_writes} acknowledged writes during the run, "
              f"{sum(w.refused for w in writers)} refused with READONLY and retried, "
              f"final keys {rs.dbsize()}, digests equal: {digest(ref.port) == digest(ours.port)}")

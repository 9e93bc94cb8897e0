"""Parameters with an effect, each run against a `yizhan serve` subprocess and a redis-server
alike with real clients: pidfile (written at start, removed at exit), unixsocket and
unixsocketperm (a listener redis-py connects to), shutdown-on-sigterm / shutdown-on-sigint
(what SIGTERM and SIGINT save, and a failed save that keeps the server running unless
`force`), auto-aof-rewrite-percentage / auto-aof-rewrite-min-size (the automatic BGREWRITEAOF)
sanitize-dump-payload (INFO's dump_payload_sanitizations after RESTORE); and the replication
byte counters with yizhan as master and as replica of a redis-server."""

from __future__ import annotations

import signal
import stat
import time
from functools import partial
from pathlib import Path

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.process import ServerProcess
from yizhan.testing.reference import RedisReference
from yizhan.testing.wait import wait_for as _wait

wait_for = partial(_wait, timeout=20.0, pause=0.05)  # the bound and poll these tests used


class Running:
    """One server subprocess started with `params` (Redis parameter -> value)."""

    def __init__(self, kind: str, tmp_path: Path, **params: str):
        params = {name.replace("_", "-"): value for name, value in params.items()}
        if kind == "yizhan":
            conf = tmp_path / "yizhan.conf"
            conf.write_text("".join(f'{name} "{value}"\n' for name, value in params.items()))
            self.server = ServerProcess(tmp_path / "data", tmp_path / "yizhan.log", "--config", str(conf))
            self.port, self.process = self.server.redis_port, self.server.process
            self.dir = tmp_path / "data"  # relative paths are in the data dir, as Redis's are in its dir
        else:
            words = [word for name, value in params.items() for word in (f"--{name}", value)]
            self.server = RedisReference("redis-server", *words).start()
            self.port, self.process = self.server.port, self.server.process
            self.dir = Path(self.server.workdir)
        self.client = redis.Redis(port=self.port)

    def signal(self, signum) -> None:
        self.process.send_signal(signum)

    def exit_code(self) -> int:
        return self.process.wait(timeout=30)

    def info(self, section: str) -> dict:
        return self.client.info(section)

    def close(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if isinstance(self.server, ServerProcess):
            self.server.log.close()


@pytest.fixture(params=["yizhan", "redis"])
def kind(request):
    return request.param


@pytest.fixture
def start(kind, tmp_path):
    started = []

    def start(**params) -> Running:
        server = Running(kind, tmp_path, **params)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def test_pidfile_is_written_and_removed(start):
    server = start(pidfile="server.pid")
    path = server.dir / "server.pid"
    assert path.read_text().strip() == str(server.process.pid)
    assert server.client.config_get("pidfile") == {"pidfile": "server.pid"}
    server.signal(signal.SIGTERM)
    assert server.exit_code() == 0
    assert not path.exists()


def test_unix_socket_takes_clients(start):
    server = start(unixsocket="redis.sock", unixsocketperm="700")
    path = server.dir / "redis.sock"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    client = redis.Redis(unix_socket_path=str(path))
    assert client.set("k", "over the socket") and redis.Redis(port=server.port).get("k") == b"over the socket"
    info = client.client_info()
    assert (info["addr"], info["laddr"], info["flags"]) == ("redis.sock:0", "redis.sock:0", "U")
    assert client.config_get("unixsocket*") == {"unixsocket": "redis.sock", "unixsocketperm": "700"}
    client.close()


@pytest.mark.parametrize("signum, flags, save, written", [
    (signal.SIGTERM, "default", "3600 1", True),
    (signal.SIGTERM, "default", "", False),
    (signal.SIGTERM, "nosave", "3600 1", False),
    (signal.SIGTERM, "save now", "", True),
    (signal.SIGINT, "save", "", True),
    (signal.SIGINT, "nosave force", "3600 1", False),
])
def test_signals_save_as_shutdown_on_sig_says(start, signum, flags, save, written):
    server = start()
    name = "shutdown-on-sigterm" if signum == signal.SIGTERM else "shutdown-on-sigint"
    server.client.config_set(name, flags)
    server.client.config_set("save", save)
    server.client.set("k", "v")
    server.signal(signum)
    assert server.exit_code() == 0
    assert (server.dir / "dump.rdb").exists() is written


def test_a_failed_save_on_sigterm_keeps_running_unless_force(start):
    server = start(save="3600 1")
    server.client.set("k", "v")
    (server.dir / "dump.rdb").mkdir()  # the final rename onto a directory fails, even as root
    server.signal(signal.SIGTERM)
    time.sleep(1)  # the signal handled (no reply tells when): the server is still there
    assert server.process.poll() is None and server.client.get("k") == b"v"
    server.client.config_set("shutdown-on-sigterm", "force")
    server.signal(signal.SIGTERM)
    assert server.exit_code() == 0


def test_the_aof_is_rewritten_when_it_has_grown(start):
    server = start(appendonly="yes", auto_aof_rewrite_min_size="1mb")
    client = server.client
    wait_for(lambda: not server.info("persistence")["aof_rewrite_in_progress"], "the first AOF")
    rewrites = server.info("persistence")["aof_rewrites"]
    for i in range(50):
        client.set(f"key:{i}", "x" * 100)
    persistence = server.info("persistence")
    assert persistence["aof_current_size"] < 1024 * 1024 and persistence["aof_rewrites"] == rewrites
    client.config_set("auto-aof-rewrite-min-size", "1kb")  # now above the minimum, grown > 100 %
    wait_for(lambda: server.info("persistence")["aof_rewrites"] == rewrites + 1, "the automatic rewrite")
    wait_for(lambda: not server.info("persistence")["aof_rewrite_in_progress"], "the rewrite's end")
    persistence = server.info("persistence")
    assert persistence["aof_base_size"] == persistence["aof_current_size"]
    client.config_set("auto-aof-rewrite-percentage", "0")  # off: any growth is left alone
    for i in range(100):
        client.set(f"more:{i}", "y" * 100)
    assert server.info("persistence")["aof_rewrites"] == rewrites + 1
    assert client.get("key:49") == b"x" * 100


def _payloads(port: int) -> dict[str, bytes]:
    """DUMP payloads of redis-server's encodings: what each makes RESTORE deep-check."""
    client = redis.Redis(port=port)
    client.flushall()
    client.rpush("list", *range(5))                       # one packed quicklist node
    client.rpush("biglist", *(["x" * 60] * 300))          # several nodes
    client.sadd("intset", 1, 2, 3)
    client.sadd("hashset", "a", "b")                      # a hashtable: nothing to check
    client.hset("hash", mapping={"f": "v"})
    client.zadd("zset", {"m": 1})
    client.xadd("stream", {"f": "v"})
    client.set("string", "v")
    payloads = {key: client.dump(key) for key in
                ("list", "biglist", "intset", "hashset", "hash", "zset", "stream", "string")}
    client.close()
    return payloads


@pytest.mark.parametrize("mode", ["no", "yes", "clients"])
def test_restore_counts_dump_payload_sanitizations(start, tmp_path, mode):
    server = start()
    with RedisReference() as source:
        payloads = _payloads(source.port)
    client = server.client
    client.config_set("sanitize-dump-payload", mode)
    counts = {}
    for key, payload in payloads.items():
        before = server.info("stats")["dump_payload_sanitizations"]
        client.restore(f"copy:{key}", 0, payload)
        counts[key] = server.info("stats")["dump_payload_sanitizations"] - before
    expected = {"list": 1, "biglist": 3, "intset": 1, "hashset": 0, "hash": 1, "zset": 1, "stream": 1,
                "string": 0}
    assert counts == (expected if mode != "no" else dict.fromkeys(expected, 0))
    client.config_resetstat()
    assert server.info("stats")["dump_payload_sanitizations"] == 0


@pytest.mark.parametrize("yizhan_is", ["master", "replica"])
def test_replication_bytes_are_counted_apart(yizhan_is):
    """total_net_repl_output_bytes on the master and total_net_repl_input_bytes on the replica
    count the RDB and the stream (which total_net_*_bytes include too, as Redis's do), yizhan
    on either side of a redis-server."""
    with RedisReference() as ref, Server(save="") as ours:
        master_port, replica_port = (ours.port, ref.port) if yizhan_is == "master" else (ref.port, ours.port)
        master, replica = redis.Redis(port=master_port), redis.Redis(port=replica_port)
        before_master, before_replica = master.info("stats"), replica.info("stats")
        replica.replicaof("127.0.0.1", master_port)
        wait_for(lambda: replica.info("replication").get("master_link_status") == "up", "the link")
        for i in range(200):
            master.set(f"k{i}", "x" * 5000)
        wait_for(lambda: replica.info("replication")["slave_repl_offset"]
                  == master.info("replication")["master_repl_offset"], "the replica to catch up")
        after_master, after_replica = master.info("stats"), replica.info("stats")

        def grew(after, before, field):
            return after[field] - before[field]

        sent = grew(after_master, before_master, "total_net_repl_output_bytes")
        read = grew(after_replica, before_replica, "total_net_repl_input_bytes")
        assert read > 1_000_000 and abs(sent - read) < 200  # PSYNC's first reply line at most apart
        assert grew(after_master, before_master, "total_net_output_bytes") > sent
        assert grew(after_replica, before_replica, "total_net_input_bytes") > read
        assert grew(after_replica, before_replica, "total_net_repl_output_bytes") == 0
        assert grew(after_master, before_master, "total_net_repl_input_bytes") == 0
        replica.replicaof("NO", "ONE")


LAZYFREE_STEPS = [
    # (commands, then INFO memory's lazyfreed_objects is compared)
    [("SADD", "bigset", *[f"m{i}" for i in range(100)]), ("UNLINK", "bigset")],
    [("SADD", "small", "a", "b"), ("UNLINK", "small")],
    [("SADD", "ints", *range(100)), ("UNLINK", "ints")],                        # an intset: one block
    [("HSET", "bighash", *[w for i in range(600) for w in (f"f{i}", i)]), ("DEL", "bighash")],
    [("CONFIG", "SET", "lazyfree-lazy-user-del", "yes"),
     ("HSET", "bighash", *[w for i in range(600) for w in (f"f{i}", i)]), ("DEL", "bighash", "nokey")],
    [("ZADD", "bigzset", *[w for i in range(200) for w in (i, f"m{i}")]), ("UNLINK", "bigzset")],
    [("RPUSH", "shortlist", *(["x" * 60] * 300)), ("UNLINK", "shortlist")],     # 3 quicklist nodes
    [("RPUSH", "longlist", *(["y" * 5000] * 70)), ("UNLINK", "longlist")],      # 70 nodes
    [("MSET", "a", 1, "b", 2, "c", 3, "d", 4, "e", 5), ("FLUSHDB", "ASYNC")],
    [("MSET", "a", 1, "b", 2), ("FLUSHALL",)],
    [("CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"), ("MSET", "a", 1, "b", 2, "c", 3), ("FLUSHALL",)],
    [("MSET", "a", 1, "b", 2), ("FLUSHALL", "SYNC")],
    [("CONFIG", "SET", "lazyfree-lazy-expire", "yes"), ("SADD", "expiring", *[f"m{i}" for i in range(100)]),
     ("PEXPIRE", "expiring", 1), ("SLEEP",), ("GET", "expiring")],
    [("CONFIG", "SET", "lazyfree-lazy-expire", "no"), ("SADD", "expiring", *[f"m{i}" for i in range(100)]),
     ("PEXPIRE", "expiring", 1), ("SLEEP",), ("EXISTS", "expiring")],
    [("CONFIG", "SET", "maxmemory-policy", "allkeys-random"), ("CONFIG", "SET", "lazyfree-lazy-eviction", "yes"),
     ("SADD", "evicted", *[f"m{i}" for i in range(100)]), ("CONFIG", "SET", "maxmemory", "1"),
     ("CONFIG", "SET", "maxmemory", "0"), ("EXISTS", "evicted")],
    [("CONFIG", "SET", "lazyfree-lazy-server-del", "yes"), ("SADD", "big", *[f"m{i}" for i in range(100)]),
     ("SET", "big", "x")],
    [("SADD", "src", *[f"m{i}" for i in range(100)]), ("SADD", "dst", *[f"n{i}" for i in range(100)]),
     ("RENAME", "src", "dst")],
    [("SADD", "a1", *[f"a{i}" for i in range(100)]), ("SUNIONSTORE", "dst", "a1")],
    [("COPY", "a1", "dst", "REPLACE")],
    [("CONFIG", "SET", "lazyfree-lazy-server-del", "no"), ("SADD", "b2", *[f"m{i}" for i in range(100)]),
     ("SET", "b2", "x")],
    [("CONFIG", "RESETSTAT",)],
]


def test_lazyfreed_objects_count_as_redis_counts_them():
    with RedisReference() as ref, Server(save="") as ours:
        clients = {"yizhan": redis.Redis(port=ours.port), "redis-server": redis.Redis(port=ref.port)}
        for client in clients.values():
            client.config_set("hz", 1)  # the active expiry cycle leaves the expired key to the read
        history = []
        for step in LAZYFREE_STEPS:
            seen = {}
            for name, client in clients.items():
                for command in step:
                    if command[0] == "SLEEP":
                        time.sleep(0.05)
                    else:
                        client.execute_command(*command)
                # redis-server's lazy-free thread counts a job when it has done it
                wait_for(lambda: client.info("memory")["lazyfree_pending_objects"] == 0, "lazy frees")
                seen[name] = client.info("memory")["lazyfreed_objects"]
            assert seen["yizhan"] == seen["redis-server"], step
            history.append(seen["yizhan"])
        assert history == [1, 1, 1, 1, 2, 3, 3, 4, 9, 9, 12, 12, 13, 13, 14, 15, 16, 17, 18, 18, 0]
        assert clients["yizhan"].info("memory")["lazyfree_pending_objects"] == 0


def test_eviction_exceeded_time_spans_the_time_over_maxmemory():
    """current_eviction_exceeded_time runs while used memory stays over maxmemory with nothing
    to evict (noeviction) and joins total_eviction_exceeded_time once a command finds the
    server under a limit again (maxmemory 0 checks nothing, so the spell goes on meanwhile);
    CONFIG RESETSTAT clears both."""
    with RedisReference() as ref, Server(save="") as ours:
        for port in (ours.port, ref.port):
            client = redis.Redis(port=port)
            client.set("k", "v")
            client.config_set("maxmemory", 1)
            with pytest.raises(redis.exceptions.OutOfMemoryError):
                client.set("k2", "v")
            time.sleep(0.3)
            stats = client.info("stats")
            assert stats["current_eviction_exceeded_time"] >= 300
            assert stats["total_eviction_exceeded_time"] >= stats["current_eviction_exceeded_time"]
            client.config_set("maxmemory", 0)
            client.ping()
            assert client.info("stats")["current_eviction_exceeded_time"] >= 300
            client.config_set("maxmemory", "100mb")
            client.ping()  # a command under the limit closes the spell
            stats = client.info("stats")
            assert stats["current_eviction_exceeded_time"] == 0 and stats["total_eviction_exceeded_time"] >= 300
            client.config_set("maxmemory", 0)
            client.config_resetstat()
            assert client.info("stats")["total_eviction_exceeded_time"] == 0
            client.close()


def test_resetstat_clears_the_persistence_counters():
    """CONFIG RESETSTAT zeroes rdb_saves and aof_rewrites too, as Redis's resetServerStats."""
    with RedisReference() as ref, Server(save="") as ours:
        for port in (ours.port, ref.port):
            client = redis.Redis(port=port)
            client.set("k", "v")
            client.save()
            client.bgrewriteaof()
            wait_for(lambda: client.info("persistence")["aof_rewrites"] == 1, "the rewrite")
            assert client.info("persistence")["rdb_saves"] == 1
            client.config_resetstat()
            persistence = client.info("persistence")
            assert (persistence["rdb_saves"], persistence["aof_rewrites"]) == (0, 0)
            client.close()


def _follow(master: Running) -> tuple[RedisReference, redis.Redis]:
    replica = RedisReference().start()
    client = redis.Redis(port=replica.port)
    client.replicaof("127.0.0.1", master.port)
    wait_for(lambda: client.info("replication").get("master_link_status") == "up", "the link")
    master.client.set("first", "1")
    wait_for(lambda: master.client.info("replication").get("slave0", {}).get("offset")
              == master.client.info("replication")["master_repl_offset"], "the replica's ACK")
    return replica, client


def test_sigterm_waits_for_a_lagging_replica_up_to_shutdown_timeout(start):
    """A replica that has not acknowledged the last write (stopped with SIGSTOP) holds the
    SIGTERM shutdown back (shutdown-timeout 30) until it resumes and catches up; with
    shutdown-timeout 0 the server exits at once."""
    master = start(shutdown_timeout="30")
    replica, replica_client = _follow(master)
    try:
        replica.process.send_signal(signal.SIGSTOP)
        master.client.set("late", "written before SIGTERM")
        master.signal(signal.SIGTERM)
        time.sleep(1)  # (no reply tells when the signal is handled)
        assert master.process.poll() is None
        replica.process.send_signal(signal.SIGCONT)
        assert master.exit_code() == 0
        assert replica_client.get("late") == b"written before SIGTERM"
    finally:
        replica.process.send_signal(signal.SIGCONT)
        replica_client.close()
        replica.stop()


def test_sigterm_with_shutdown_timeout_0_does_not_wait(start):
    master = start(shutdown_timeout="0")
    replica, replica_client = _follow(master)
    try:
        replica.process.send_signal(signal.SIGSTOP)
        master.client.set("late", "1")
        master.signal(signal.SIGTERM)
        assert master.exit_code() == 0  # while the replica is still stopped
    finally:
        replica.process.send_signal(signal.SIGCONT)
        replica_client.close()
        replica.stop()

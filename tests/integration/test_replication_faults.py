"""Replication faults with redis-server 7.0 on the other side, writes running throughout: the
yizhan master killed with SIGKILL mid-stream and restarted (its AOF with appendfsync always has
every acknowledged write; the redis-server replica resyncs), the redis-server replica killed
with SIGKILL mid-stream and restarted, and a yizhan replica's link cut in the middle of the
master's RDB (the master makes it slowly: rdb-key-save-delay). Each time the pair recovers and
holds the same data (DEBUG DIGEST), with every acknowledged write on the replica."""

import signal
import subprocess
import threading
import time

import redis

from yizhan.embedded import Server
from yizhan.testing.process import ServerProcess
from yizhan.testing.reference import RedisReference, free_port
from tests.integration.test_replication_master import caught_up, digest, link_up, populate, wait_equal, wait_for


class Writer(threading.Thread):
    """SET and INCR against one port, through outages: what was acknowledged is recorded."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.acked: dict[bytes, bytes] = {}
        self.incrs = 0

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                r = redis.Redis(port=self.port, socket_timeout=5)
                while not self.stop.is_set():
                    key, value = f"w:{i % 300}".encode(), str(i).encode()
                    r.set(key, value)
                    self.acked[key] = value
                    r.incr("count")
                    self.incrs += 1
                    i += 1
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.05)  # the server is down: try again

    def finish(self) -> None:
        self.stop.set()
        self.join(30)

    def check(self, port: int) -> None:
        r = redis.Redis(port=port)
        keys = sorted(self.acked)
        assert r.mget(keys) == [self.acked[k] for k in keys]
        assert int(r.get("count")) >= self.incrs  # (an INCR done but its reply lost counts once more)


def start_yizhan(data_dir, log, port: int) -> ServerProcess:
    return ServerProcess(data_dir, log, "--port", str(port), "--config", str(data_dir / "yizhan.conf"))


def test_master_sigkilled_mid_stream_then_restarted(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "yizhan.conf").write_text("appendonly yes\nappendfsync always\nsave \"\"\nenable-debug-command local\n")
    port = free_port()
    master = start_yizhan(data, tmp_path / "1.log", port)
    try:
        populate(port)
        with RedisReference("redis-server", "--enable-debug-command", "local",
                            "--replicaof", "127.0.0.1", str(port)) as ref:
            replica = redis.Redis(port=ref.port)
            wait_for(lambda: link_up(replica), what="the link to come up")
            writer = Writer(port)
            writer.start()
            wait_for(lambda: writer.incrs > 300, what="writes to flow")
            master.kill()  # SIGKILL, mid-stream
            wait_for(lambda: not link_up(replica), what="the replica to see the master gone")
            master = start_yizhan(data, tmp_path / "2.log", port)  # the AOF brings every acked write back
            wait_for(lambda: writer.incrs > 600, what="writes to flow again")
            writer.finish()
            wait_for(lambda: link_up(replica), timeout=30, what="the replica to resync")
            wait_equal(port, ref.port)
            writer.check(ref.port)
    finally:
        master.stop(signal.SIGKILL)


def test_replica_sigkilled_mid_stream_then_restarted(tmp_path):
    with Server(save="", enable_debug_command="local") as ours:
        populate(ours.port)
        writer = Writer(ours.port)
        writer.start()
        port = free_port()
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path),
                   "--enable-debug-command", "local", "--replicaof", "127.0.0.1", str(ours.port)]
        replica_process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            replica = redis.Redis(port=port)
            wait_for(lambda: _answers(replica) and link_up(replica), what="the link to come up")
            wait_for(lambda: writer.incrs > 300, what="writes to flow")
            replica_process.send_signal(signal.SIGKILL)
            replica_process.wait()
            wait_for(lambda: redis.Redis(port=ours.port).info("replication")["connected_slaves"] == 0,
                     what="the master to drop the replica")
            replica_process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            wait_for(lambda: _answers(replica) and link_up(replica), what="the replica to resync")
            writer.finish()
            wait_equal(ours.port, port)
            writer.check(port)
            assert redis.Redis(port=ours.port).info("stats")["sync_full"] == 2
        finally:
            writer.finish()
            replica_process.kill()
            replica_process.wait()


def _answers(r: redis.Redis) -> bool:
    try:
        return r.ping()
    except redis.ConnectionError:
        return False


def test_replica_link_cut_mid_rdb(tmp_path):
    with RedisReference("redis-server", "--enable-debug-command", "local", "--repl-diskless-sync-delay", "0") as ref, \
            Server(save="", enable_debug_command="local") as ours:
        m = redis.Redis(port=ref.port)
        populate(ref.port)
        m.execute_command("DEBUG", "POPULATE", "5000", "bulk", "64")
        replica = redis.Redis(port=ours.port)
        replica.set("old", "kept until a new dataset is loaded")
        m.config_set("rdb-key-save-delay", 500)  # microseconds per key: a transfer of seconds
        replica.replicaof("127.0.0.1", ref.port)
        wait_for(lambda: replica.info("replication")["master_sync_in_progress"] == 1, what="the RDB transfer")
        m.client_kill_filter(_type="replica")  # cut mid-RDB
        m.config_set("rdb-key-save-delay", 0)
        assert replica.get("old") is not None  # the half-received RDB replaced nothing
        writer = Writer(ref.port)
        writer.start()
        wait_for(lambda: link_up(replica), timeout=60, what="a complete sync")
        wait_for(lambda: writer.incrs > 300, what="writes to flow")
        writer.finish()
        wait_for(lambda: caught_up(m, replica), what="the replica to catch up")
        assert digest(ref.port) == digest(ours.port)
        writer.check(ours.port)
        assert m.info("stats")["sync_full"] >= 2


def test_yizhan_replica_sigkilled_and_redis_master_sigkilled_mid_stream(tmp_path):
    """The other direction: a yizhan replica killed with SIGKILL mid-stream and started again
    (`--replicaof`) syncs again; then the redis-server master (appendfsync always) is killed with
    SIGKILL mid-stream and restarted on its port and directory, and yizhan follows it again."""
    master_port = free_port()
    master_dir = tmp_path / "master"
    master_dir.mkdir()
    command = ["redis-server", "--port", str(master_port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes", "--appendfsync", "always", "--dir", str(master_dir),
               "--enable-debug-command", "local"]
    master = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    data = tmp_path / "data"
    data.mkdir()
    (data / "yizhan.conf").write_text("enable-debug-command local\nsave \"\"\n")
    ours = None
    try:
        m = redis.Redis(port=master_port)
        wait_for(lambda: _answers(m), what="redis-server to start")
        populate(master_port)
        writer = Writer(master_port)
        writer.start()

        def start_ours(log):
            return ServerProcess(data, tmp_path / log, "--config", str(data / "yizhan.conf"),
                                 "--replicaof", "127.0.0.1", str(master_port))

        ours = start_ours("1.log")
        replica = redis.Redis(port=ours.redis_port)
        wait_for(lambda: link_up(replica), what="yizhan to sync")
        wait_for(lambda: writer.incrs > 300, what="writes to flow")
        ours.kill()  # the replica, SIGKILL, mid-stream
        ours = start_ours("2.log")
        replica = redis.Redis(port=ours.redis_port)
        wait_for(lambda: link_up(replica), what="yizhan to sync again")
        wait_for(lambda: writer.incrs > 600, what="more writes")
        master.send_signal(signal.SIGKILL)  # the master, SIGKILL, mid-stream
        master.wait()
        wait_for(lambda: not link_up(replica), what="yizhan to see the master gone")
        master = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # its AOF has every acked write
        wait_for(lambda: _answers(m), what="redis-server to restart")
        wait_for(lambda: writer.incrs > 900, what="writes after the restart")
        writer.finish()
        wait_for(lambda: link_up(replica) and caught_up(m, replica), timeout=30, what="yizhan to follow again")
        assert digest(master_port) == digest(ours.redis_port)
        writer.check(ours.redis_port)
    finally:
        master.kill()
        master.wait()
        if ours is not None:
            ours.stop(signal.SIGKILL)

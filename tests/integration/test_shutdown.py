"""SHUTDOWN that stops the server, run against a `yizhan serve` subprocess and a redis-server
subprocess alike: the connection closes with no reply, the process exits with 0, dump.rdb is
written when save points are set or SAVE is given and not with NOSAVE, a failed save refuses
(FORCE exits anyway), and SHUTDOWN NOSAVE stops a server busy running a script while SHUTDOWN
alone gets BUSY. Also the embedded `yizhan.Server`: SHUTDOWN stops its runtime."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import redis

import yizhan
from yizhan.testing.process import ServerProcess
from yizhan.testing.reference import RedisReference

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


class Running:
    """One server subprocess: its port, its process and its working directory."""

    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        if kind == "yizhan":
            self.server = ServerProcess(tmp_path / "data", tmp_path / "yizhan.log")
            self.port, self.process = self.server.redis_port, self.server.process
            self.dir = tmp_path / "data"  # the data dir (yizhan's CONFIG GET dir says ".")
        else:
            self.server = RedisReference().start()
            self.port, self.process = self.server.port, self.server.process
            self.dir = Path(self.server.workdir)
        self.client = redis.Redis(port=self.port)

    def dump_exists(self) -> bool:
        return (self.dir / "dump.rdb").exists()

    def request(self, *words: str) -> bytes:
        """Send one command on a new connection; everything read until the server closes it
        (b"" when it closes without a reply) or a reply arrives."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(_encode(words))
            return sock.recv(65536)

    def exit_code(self) -> int:
        return self.process.wait(timeout=30)

    def close(self) -> None:
        self.client.close()
        self.server.stop()


def _encode(words) -> bytes:
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


@pytest.fixture(params=["yizhan", "redis"])
def running(request, tmp_path):
    server = Running(request.param, tmp_path)
    yield server
    server.close()


@pytest.mark.parametrize("save, words, written", [
    ("3600 1", ("SHUTDOWN",), True),
    ("3600 1", ("SHUTDOWN", "NOW"), True),
    ("3600 1", ("SHUTDOWN", "NOSAVE"), False),
    ("3600 1", ("SHUTDOWN", "nosave", "now", "force"), False),
    ("", ("SHUTDOWN",), False),
    ("", ("SHUTDOWN", "SAVE"), True),
])
def test_shutdown_exits_saving_as_told(running, save, words, written):
    running.client.config_set("save", save)
    running.client.set("k", "v")
    assert not running.dump_exists()
    assert running.request(*words) == b""
    assert running.exit_code() == 0
    assert running.dump_exists() is written


def test_failed_save_refuses_and_force_exits(running):
    running.client.set("k", "v")
    (running.dir / "dump.rdb").mkdir()  # the final rename onto a directory fails, even as root
    assert running.request("SHUTDOWN", "SAVE") == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    assert running.client.ping() is True
    assert running.request("SHUTDOWN", "SAVE", "FORCE") == b""
    assert running.exit_code() == 0


def test_nosave_stops_a_busy_script(running):
    running.client.config_set("lua-time-limit", "100")
    caller = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    watcher = socket.create_connection(("127.0.0.1", running.port), timeout=10)
    watcher.sendall(_encode(("PING",)))
    assert watcher.recv(64) == b"+PONG\r\n"  # connected before the script starts
    caller.sendall(_encode(("EVAL", "while true do end", "0")))
    deadline = time.monotonic() + 10
    while True:
        watcher.sendall(_encode(("PING",)))
        if watcher.recv(256) == BUSY:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert running.request("SHUTDOWN") == BUSY
    assert running.request("SHUTDOWN", "SAVE") == BUSY
    assert running.request("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
    assert running.request("SHUTDOWN", "NOSAVE") == b""
    assert running.exit_code() == 0
    assert caller.recv(65536) == b""  # the script's caller gets no reply either
    assert watcher.recv(65536) == b""
    caller.close()
    watcher.close()


def test_embedded_server_stops_on_shutdown():
    server = yizhan.Server(port=0, amqp_port=0).start()
    try:
        redis_port, amqp_port = server.port, server.amqp_port
        client = redis.Redis(port=redis_port)
        client.set("k", "v")
        client.shutdown(nosave=True)  # redis-py expects the connection to close
        deadline = time.monotonic() + 10
        while not server.stopped:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for port in (redis_port, amqp_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        server.stop()

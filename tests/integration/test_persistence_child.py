"""A persistence child dies with its parent (issue 17): SIGKILL the server during a long
BGSAVE or BGREWRITEAOF, and the forked child is gone well before its work would have ended,
the clients' connections end, and a server started at once on the same ports binds them."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from yizhan.testing.process import ServerProcess, descendants

KEYS = 100
DELAY_US = 200_000  # rdb-key-save-delay: the child needs KEYS * 0.2 s = 20 s to finish


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_long_child(client: redis.Redis, kind: str) -> None:
    client.mset({f"key:{i}": "v" * 100 for i in range(KEYS)})
    if kind == "bgrewriteaof":
        client.config_set("appendonly", "yes")
        assert wait_until(lambda: client.info("persistence")["aof_rewrite_in_progress"] == 0, 30)
        client.config_set("rdb-key-save-delay", str(DELAY_US))
        client.bgrewriteaof()
    else:
        client.config_set("rdb-key-save-delay", str(DELAY_US))
        assert client.bgsave()


@pytest.mark.parametrize("kind", ["bgsave", "bgrewriteaof"])
def test_sigkill_during_a_long_child_then_restart_on_the_same_ports(tmp_path, kind):
    server = ServerProcess(tmp_path / "data", tmp_path / "first.log")
    try:
        client = redis.Redis(port=server.redis_port)
        start_long_child(client, kind)
        children = descendants(server.process.pid)
        assert len(children) == 1, children
        bystander = socket.create_connection(("127.0.0.1", server.redis_port), timeout=10)
        bystander.sendall(b"PING\r\n")
        assert bystander.recv(64) == b"+PONG\r\n"
    except BaseException:
        server.kill()
        raise
    server.kill()
    # The child would write for 20 s more; it must be gone long before.
    assert wait_until(lambda: not alive(children[0]), 5), "the persistence child outlived its parent"
    assert bystander.recv(64) == b""  # its connection ended with the parent
    bystander.close()
    again = ServerProcess(tmp_path / "data", tmp_path / "second.log", "--port", str(server.redis_port),
                          "--amqp-port", str(server.amqp_port))
    try:
        assert (again.redis_port, again.amqp_port) == (server.redis_port, server.amqp_port)
        assert redis.Redis(port=again.redis_port).ping()
    finally:
        again.stop()

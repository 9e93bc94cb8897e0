"""Hostile request loads of issue 17 against a `yizhan serve` process and redis-server: the
server's RSS growth must stay bounded (asserted on memory, never on time), and a client's
buffers go when it does. The figures of both servers are printed (`pytest -s`)."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from yizhan.testing.process import ServerProcess
from yizhan.testing.reference import RedisReference

CONNECTIONS = 20
BOUND_MB = 40  # the most any load below may add to the server's RSS


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def send_all_it_takes(sock: socket.socket, header: bytes, megabytes: int) -> None:
    """The header, then up to `megabytes` MB of payload until the server stops taking it."""
    chunk = b"p" * (1 << 20)
    try:
        sock.sendall(header)
        for _ in range(megabytes):
            sock.sendall(chunk)
    except OSError:
        pass


def open_clients(port: int) -> list[socket.socket]:
    clients = []
    for _ in range(CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        clients.append(sock)
    return clients


def settle(port: int) -> None:
    """Wait until the server answers (it has handled what came before)."""
    assert redis.Redis(port=port, password=None, socket_timeout=30).ping()


def huge_count(port: int) -> list[socket.socket]:
    """`*2147483647`: a count within Redis's limit that announces 16 GB of pointers."""
    clients = open_clients(port)
    for sock in clients:
        sock.sendall(b"*2147483647\r\n")
    return clients


def over_proto_max(port: int) -> list[socket.socket]:
    """A bulk over proto-max-bulk-len, then 20 MB each: refused at its header."""
    clients = open_clients(port)
    for sock in clients:
        send_all_it_takes(sock, b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$536870913\r\n", 20)
    return clients


def nested_counts(port: int) -> list[socket.socket]:
    """Element headers that hiredis would read as arrays and pushes announcing 10^9 elements."""
    clients = open_clients(port)
    for index, sock in enumerate(clients):
        sock.sendall(b"*2\r\n$3\r\nGET\r\n%b1000000000\r\n" % (b"*" if index % 2 else b">"))
    return clients


def unauthenticated(port: int) -> list[socket.socket]:
    """Before AUTH: a 300 MB bulk announced, then 15 MB each."""
    clients = open_clients(port)
    for sock in clients:
        send_all_it_takes(sock, b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$300000000\r\n", 15)
    return clients


def refused_big_arguments(port: int) -> list[socket.socket]:
    """100 MB of LPUSH of 10 KB values on a string key: every one refused with WRONGTYPE (a
    refused command's error used to keep its arguments alive until a garbage collection)."""
    client = redis.Redis(port=port)
    client.set("string", "x")
    value = b"v" * 10_000
    for _ in range(100):
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.lpush("string", value)
        pipe.execute(raise_on_error=False)
    client.close()
    return []


LOADS = {"refused-big-arguments": refused_big_arguments, "huge-count": huge_count, "over-proto-max": over_proto_max, "nested-counts": nested_counts,
         "unauthenticated": unauthenticated}


def measure(pid: int, port: int) -> dict[str, float]:
    growth = {}
    admin = redis.Redis(port=port)
    for name, load in LOADS.items():
        if name == "unauthenticated":
            admin.config_set("requirepass", "pw")
        before = rss_mb(pid)
        clients = load(port)
        time.sleep(0.5)  # let it read what it will (the assertion is on memory, not on time)
        if name == "unauthenticated":
            redis.Redis(port=port, password="pw").config_set("requirepass", "")
        settle(port)
        growth[name] = rss_mb(pid) - before
        for sock in clients:
            sock.close()
    return growth


def partial_then_gone(pid: int, port: int) -> tuple[float, float]:
    """Ten clients each send 30 MB of a 100 MB bulk, then disconnect: (growth while they are
    connected, growth left once they are gone)."""
    before = rss_mb(pid)
    clients = []
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        send_all_it_takes(sock, b"*2\r\n$4\r\nECHO\r\n$100000000\r\n", 30)
        clients.append(sock)
    settle(port)
    during = rss_mb(pid) - before
    for sock in clients:
        sock.close()
    time.sleep(0.5)
    settle(port)
    return during, rss_mb(pid) - before


@pytest.fixture(scope="module")
def yizhan_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    server = ServerProcess(tmp / "data", tmp / "server.log")
    yield server
    server.stop()


def test_hostile_loads_stay_bounded(yizhan_process):
    pid, port = yizhan_process.process.pid, yizhan_process.redis_port
    redis.Redis(port=port).ping()
    ours = measure(pid, port)
    with RedisReference() as reference:
        theirs = measure(reference.process.pid, reference.port)
    for name in LOADS:
        print(f"{name}: yizhan +{ours[name]:.1f} MB, redis-server +{theirs[name]:.1f} MB "
              f"({CONNECTIONS} connections)")
    for name, growth in ours.items():
        assert growth < BOUND_MB, f"{name}: RSS grew by {growth:.0f} MB"
    log = open(yizhan_process.log_path).read()
    assert "Traceback" not in log and "MemoryError" not in log


def test_buffers_go_with_their_client(yizhan_process):
    pid, port = yizhan_process.process.pid, yizhan_process.redis_port
    during, after = partial_then_gone(pid, port)
    with RedisReference() as reference:
        ref_during, ref_after = partial_then_gone(reference.process.pid, reference.port)
    print(f"300 MB of partial bulks: yizhan +{during:.0f} MB while connected, +{after:.0f} MB after; "
          f"redis-server +{ref_during:.0f} MB, +{ref_after:.0f} MB")
    assert during > 250, "the load did not reach the server"
    assert after < BOUND_MB, f"{after:.0f} MB still held after the clients left"

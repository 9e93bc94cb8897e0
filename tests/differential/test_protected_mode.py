"""Protected mode as redis-server 7.0 applies it (issue 17): both servers listen on every
interface with protected-mode yes and no password; a client that comes through this machine's
non-loopback address is refused with the DENIED text and closed, a loopback client is served,
and a password or `protected-mode no` lets the outside client in."""

from __future__ import annotations

import socket

import pytest
import redis

from yizhan import Server
from yizhan.redis import errors
from yizhan.testing.reference import RedisReference

DENIED = b"-" + errors.PROTECTED_MODE.encode() + b"\r\n"


def outside_address() -> str:
    """An address of this machine that is not loopback (the route to a public address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the source address
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.fail("this machine has no non-loopback IPv4 address to test protected mode from")
    return address


@pytest.fixture(scope="module", params=["yizhan", "redis-server"])
def open_server(request):
    """(port) of a server bound to 0.0.0.0 with the defaults (protected-mode yes, no password)."""
    if request.param == "yizhan":
        with Server(port=0, bind="0.0.0.0", save="") as server:
            yield server.port
    else:
        with RedisReference("redis-server", "--bind", "0.0.0.0") as reference:
            yield reference.port


def talk(host: str, port: int, data: bytes) -> tuple[bytes, bool]:
    """What the server sends after `data` (its greeting included) and whether it closed."""
    with socket.create_connection((host, port), timeout=5) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass
        sock.settimeout(0.5)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, socket.timeout):
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk


def rejected(port: int) -> int:
    return redis.Redis(port=port).info("stats")["rejected_connections"]


def test_outside_client_is_denied_and_closed(open_server):
    before = rejected(open_server)
    assert talk(outside_address(), open_server, b"PING\r\n") == (DENIED, True)
    assert rejected(open_server) == before + 1
    assert talk("127.0.0.1", open_server, b"PING\r\n") == (b"+PONG\r\n", False)
    assert redis.Redis(port=open_server).config_get("protected-mode") == {"protected-mode": "yes"}


def test_a_password_lets_the_outside_client_in(open_server):
    admin = redis.Redis(port=open_server)
    admin.config_set("requirepass", "pw")
    try:
        assert talk(outside_address(), open_server, b"PING\r\n") == (b"-NOAUTH Authentication required.\r\n", False)
        assert talk(outside_address(), open_server, b"AUTH pw\r\nPING\r\n") == (b"+OK\r\n+PONG\r\n", False)
    finally:
        redis.Redis(port=open_server, password="pw").config_set("requirepass", "")
    assert talk(outside_address(), open_server, b"PING\r\n") == (DENIED, True)


def test_protected_mode_no_lets_the_outside_client_in(open_server):
    admin = redis.Redis(port=open_server)
    admin.config_set("protected-mode", "no")
    try:
        assert talk(outside_address(), open_server, b"PING\r\n") == (b"+PONG\r\n", False)
    finally:
        admin.config_set("protected-mode", "yes")
    assert talk(outside_address(), open_server, b"PING\r\n") == (DENIED, True)

"""Request limits and protocol errors over raw sockets (issue 17): the exact bytes each server
answers and whether it closes the connection, yizhan against redis-server 7.0.

A case that leaves the connection open is read for a short quiet window (both servers alike);
one that closes it is read to the end."""

from __future__ import annotations

import socket

import pytest
import redis

QUIET = 0.5  # seconds without output after which an open connection has said all it will

PING = b"*1\r\n$4\r\nPING\r\n"

CLOSING = {
    "count-over-int-max": b"*2147483648\r\n",
    "count-over-uint32": b"*4294967295\r\n",
    "count-letters": b"*abc\r\n",
    "count-leading-zero": b"*05\r\n",
    "count-plus-sign": b"*+5\r\n",
    "count-minus-zero": b"*-0\r\n",
    "count-space": b"* 1\r\n",
    "count-lf-only": b"*1\n$4\r\nPING\r\n",
    "bulk-over-proto-max": b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$536870913\r\n",
    "bulk-negative": b"*1\r\n$-1\r\n",
    "bulk-minus-zero": b"*1\r\n$-0\r\n",
    "bulk-letters": b"*1\r\n$abc\r\n",
    "bulk-huge-number": b"*1\r\n$99999999999999999999999\r\n",
    "error-after-a-request": PING + b"*1\r\n$x\r\n",
    "too-big-count-string": b"*" + b"1" * 70000,
    "too-big-bulk-count-string": b"*1\r\n" + b"1" * 70000,
    "too-big-inline": b"x" * 70000,
    "unbalanced-quotes": b'SET "k v\r\n',
    "nested-array": b"*2\r\n*1\r\n",
    "integer-element": b"*1\r\n:1\r\n",
    "integer-element-first-of-two": b"*2\r\n:1\r\n",
    "simple-string-element": b"*1\r\n+PING\r\n",
    "verbatim-element": b"*1\r\n=8\r\ntxt:PING\r\n",
    "big-number-element": b"*1\r\n(12\r\n",
    "map-element": b"*2\r\n$3\r\nGET\r\n%1\r\n",
    "push-element": b"*2\r\n$3\r\nGET\r\n>1000000\r\n",
    "raw-byte-element": b"*1\r\n\xffxx\r\n",
    "nested-huge-array": b"*1\r\n*2147483647\r\n",
    "pipelined-then-bad": PING * 3 + b"*2\r\n$4\r\nECHO\r\n:5\r\n" + PING,
}

OPEN = {
    "negative-count-ignored": b"*-5\r\n" + PING,
    "null-count-ignored": b"*-1\r\n" + PING,
    "zero-count-ignored": b"*0\r\n" + PING,
    "empty-lines-ignored": b"\r\n\r\nPING\r\n",
    "inline-after-multibulk": PING + b"PING\r\n" + PING,
    "multibulk-after-inline": b"PING\r\n" + PING + b"ECHO x\r\n",
    "no-crlf-after-bulk": b"*1\r\n$4\r\nPINGXY" + PING,
    "cr-then-junk": b"*1\rX$4\r\nPING\r\n",
    "count-int-max-waits": b"*2147483647\r\n",
    "count-million-waits": b"*1048577\r\n",
    "bulk-at-proto-max-waits": b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$536870912\r\n",
    "nul-in-inline-waits": b"PING\x00\r\n",
    "nul-in-count-waits": b"*1\x00\r\n$4\r\nPING\r\n",
    "value-that-looks-like-headers": (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$30\r\n\n*99999\r\n$12345678\r\n+ok\r\n\r\n"
                                      b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
    "thousand-arguments": b"*1001\r\n$4\r\nECHO\r\n" + b"$1\r\nx\r\n" * 1000 + PING,
}


def exchange(port: int, data: bytes, before: bytes = b"") -> tuple[bytes, bool]:
    """Send `before` (answered first), then `data`; what comes back and whether the server
    closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if before:
            sock.sendall(before)
            _read_quiet(sock)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: what it said is still readable
        return _read_quiet(sock)


def _read_quiet(sock: socket.socket) -> tuple[bytes, bool]:
    sock.settimeout(QUIET)
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


@pytest.fixture(params=["yizhan", "redis-server"])
def port(request, yizhan_server, reference_redis):
    return yizhan_server.port if request.param == "yizhan" else reference_redis.port


@pytest.mark.parametrize("name", sorted(CLOSING))
def test_protocol_errors_close_as_redis_does(yizhan_server, reference_redis, name):
    ours = exchange(yizhan_server.port, CLOSING[name])
    theirs = exchange(reference_redis.port, CLOSING[name])
    assert ours == theirs
    assert theirs[1], "the reference kept the connection open: the case is not a closing one"


@pytest.mark.parametrize("name", sorted(OPEN))
def test_accepted_or_pending_input_as_redis_does(yizhan_server, reference_redis, name):
    ours = exchange(yizhan_server.port, OPEN[name])
    theirs = exchange(reference_redis.port, OPEN[name])
    assert ours == theirs
    assert not theirs[1]


def test_exact_texts(port):
    assert exchange(port, b"*4294967295\r\n") == (b"-ERR Protocol error: invalid multibulk length\r\n", True)
    assert exchange(port, CLOSING["bulk-over-proto-max"]) == (
        b"-ERR Protocol error: invalid bulk length\r\n", True)
    assert exchange(port, b"*-5\r\n" + PING) == (b"+PONG\r\n", False)


@pytest.fixture
def config(port):
    """CONFIG SET on the server under test, put back afterwards."""
    client = redis.Redis(port=port)
    saved = {}

    def set_(name, value):
        saved.setdefault(name, client.config_get(name)[name])
        client.config_set(name, value)

    yield set_
    for name, value in saved.items():
        client.config_set(name, value)
    client.close()


def test_proto_max_bulk_len_is_the_configured_one(port, config):
    config("proto-max-bulk-len", "1mb")
    assert exchange(port, b"*2\r\n$4\r\nECHO\r\n$1048577\r\n") == (
        b"-ERR Protocol error: invalid bulk length\r\n", True)
    value = b"v" * 1048576
    assert exchange(port, b"*2\r\n$4\r\nECHO\r\n$1048576\r\n" + value + b"\r\n") == (
        b"$1048576\r\n" + value + b"\r\n", False)


def test_query_buffer_limit_closes_unanswered(port, config):
    config("client-query-buffer-limit", "1mb")
    # A bulk that would take the query buffer beyond 1 MiB: dropped without a reply.
    assert exchange(port, b"*2\r\n$4\r\nECHO\r\n$2000000\r\n" + b"x" * 1_200_000) == (b"", True)
    # 1.7 MB of small arguments in one request: parsed as it arrives, never 1 MiB waiting.
    keys = 100_000
    request = b"*%d\r\n$3\r\nDEL\r\n" % (keys + 1) + b"".join(b"$10\r\nk%09d\r\n" % i for i in range(keys))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request + PING)
        out = b""
        while not out.endswith(b"+PONG\r\n") and (chunk := sock.recv(65536)):
            out += chunk
    assert out == b":0\r\n+PONG\r\n"


def test_query_buffer_limit_is_logged(yizhan_server, caplog):
    client = redis.Redis(port=yizhan_server.port)
    client.config_set("client-query-buffer-limit", "1mb")
    try:
        with caplog.at_level("WARNING", logger="yizhan.redis"):
            assert exchange(yizhan_server.port, b"*2\r\n$4\r\nECHO\r\n$2000000\r\n" + b"x" * 1_200_000) == (b"", True)
    finally:
        client.config_set("client-query-buffer-limit", "1gb")
    lines = [r.getMessage() for r in caplog.records if "max query buffer length" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("Closing client that reached max query buffer length: id=")
    assert lines[0].endswith('(qbuf initial bytes: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")')


UNAUTHENTICATED = {
    "count-11": (b"*11\r\n", True),
    "count-10-waits": (b"*10\r\n", False),
    "bulk-16385": (b"*2\r\n$4\r\nECHO\r\n$16385\r\n", True),
    "bulk-16384-noauth": (b"*2\r\n$4\r\nECHO\r\n$16384\r\n" + b"e" * 16384 + b"\r\n", False),
    "negative-count": (b"*-20\r\n" + PING, False),
    "over-int-max-first": (b"*2147483648\r\n", True),
    "bulk-over-proto-max-first": (b"*1\r\n$536870913\r\n", True),
    "inline-is-not-limited": (b"ECHO " + b"i" * 20000 + b"\r\n", False),
    "after-a-noauth": (PING + b"*12\r\n", True),
    "auth-then-eleven": (b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*11\r\n$3\r\nDEL\r\n" + b"$1\r\nk\r\n" * 10, False),
    "auth-then-big-bulk": (b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + b"b" * 20000 + b"\r\n",
                           False),
    "wrong-auth-then-eleven": (b"*2\r\n$4\r\nAUTH\r\n$2\r\nno\r\n*11\r\n", True),
}


@pytest.mark.parametrize("name", sorted(UNAUTHENTICATED))
def test_unauthenticated_limits(yizhan_server, reference_redis, name):
    data, closes = UNAUTHENTICATED[name]
    results = []
    for server_port in (yizhan_server.port, reference_redis.port):
        admin = redis.Redis(port=server_port)
        admin.config_set("requirepass", "pw")
        try:
            results.append(exchange(server_port, data))
        finally:
            admin = redis.Redis(port=server_port, password="pw")
            admin.config_set("requirepass", "")
    assert results[0] == results[1]
    assert results[1][1] == closes

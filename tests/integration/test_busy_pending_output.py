"""A reply made in the loop iteration that starts a long script is still sent once the script
is busy (Redis's processEventsWhileBlocked runs beforeSleep, which writes it): a client whose
PING was read just before the EVAL gets PONG, then BUSY, instead of waiting for the script's
end. This stalled Redis's "Timedout script does not cause a false dead client" test on
yizhan now and then. Run against yizhan and redis-server alike."""

from __future__ import annotations

import socket

import pytest

HOLD = ("local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end "
        "local start = now() while now() - start < 300000 do end return 1")
BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


def _encode(*words: str) -> bytes:
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read(sock: socket.socket, expected: bytes) -> bytes:
    data = b""
    while len(data) < len(expected):
        chunk = sock.recv(4096)  # a stalled reply fails on the socket timeout
        if not chunk:
            break
        data += chunk
    return data


def _line(sock: socket.socket) -> bytes:
    """One single-line reply (+PONG or -BUSY ...), whichever comes."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture(params=["yizhan", "redis"])
def port(request, yizhan_server, reference_redis):
    return yizhan_server.port if request.param == "yizhan" else reference_redis.port


@pytest.mark.parametrize("round_", range(3))
def test_reply_read_with_the_script_is_sent_while_busy(port, round_):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(3)]
    sleeper, watcher, caller = socks
    try:
        sleeper.sendall(_encode("CONFIG", "SET", "lua-time-limit", "1000"))
        assert _read(sleeper, b"+OK\r\n") == b"+OK\r\n"
        # While a 0.3 s script (under the limit) holds the server, PING then EVAL arrive:
        # both are read in the same loop iteration once it ends, the PING first.
        sleeper.sendall(_encode("EVAL", HOLD, "0"))
        watcher.sendall(_encode("PING"))
        caller.sendall(_encode("EVAL", "while true do end", "0"))
        assert _read(sleeper, b":1\r\n") == b":1\r\n"
        assert _read(watcher, b"+PONG\r\n") == b"+PONG\r\n"
        watcher.sendall(_encode("PING"))
        while (reply := _line(watcher)) != BUSY:  # PONG until the script is busy
            assert reply == b"+PONG\r\n"
            watcher.sendall(_encode("PING"))
        watcher.sendall(_encode("SCRIPT", "KILL"))
        assert _read(watcher, b"+OK\r\n") == b"+OK\r\n"
        assert _read(caller, b"-ERR Script killed").startswith(b"-ERR Script killed by user")
        sleeper.sendall(_encode("CONFIG", "SET", "lua-time-limit", "5000"))
        assert _read(sleeper, b"+OK\r\n") == b"+OK\r\n"
    finally:
        for sock in socks:
            sock.close()

"""MONITOR against redis-server 7.0: the lines a monitor receives for the same commands (with
the timestamp and the client's port masked), in RESP2 and RESP3, for the monitor and for the
client it watches: escaping, redaction, scripts (`lua`), MULTI/EXEC order, SELECT, commands
that are not shown (admin, refused, unknown) and what a client in MONITOR mode may still run."""

from __future__ import annotations

import re
import time

import pytest

from yizhan.testing.raw import RawClient

SCENARIO = [
    ("SET", "k", b'a b"\\\n\r\t\x07\x08\x01\xff'),
    ("GET", "k"), ("get", "k", "extra"), ("NOSUCH", "x"),
    ("AUTH", "pw"), ("AUTH", "user", "pw"), ("HELLO", "2", "AUTH", "default", "wrong"),
    ("HELLO", "2", "SETNAME", "watched"),
    ("EVAL", "redis.call('set','x','1') return redis.pcall('incr','k')", "0"),
    ("EVALSHA", "0" * 40, "0"),
    ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXEC",),
    ("CONFIG", "GET", "maxmemory"), ("SLOWLOG", "LEN"), ("CLIENT", "LIST"), ("CLIENT", "ID"),
    ("SELECT", "3"), ("SET", "y", "1"), ("SELECT", "0"),
    ("RPUSH", "list", "a", "b"), ("LPOP", "list"), ("PING",),
]

_TIMESTAMP = re.compile(rb"^\+\d+\.\d{6} ")
_ADDR = re.compile(rb"\[(\d+) 127\.0\.0\.1:\d+\]")


def _masked(line: bytes) -> bytes:
    assert _TIMESTAMP.match(line), line
    return _ADDR.sub(rb"[\1 ADDR]", _TIMESTAMP.sub(b"+TS ", line))


def _read_lines(client: RawClient, count: int, timeout: float = 5.0) -> list[bytes]:
    lines = []
    deadline = time.monotonic() + timeout
    client.sock.settimeout(timeout)
    while len(lines) < count and time.monotonic() < deadline:
        lines.append(client.read_reply())
    return lines


def _monitor_transcript(port: int, monitor_proto: int, client_proto: int) -> tuple[list[bytes], list[bytes]]:
    """What a monitor sees while another client runs SCENARIO, and the replies of a client
    that then enters MONITOR mode itself."""
    with RawClient("127.0.0.1", port) as setup:
        setup.call("FLUSHALL")
        setup.call("SCRIPT", "FLUSH")
    with RawClient("127.0.0.1", port) as monitor, RawClient("127.0.0.1", port) as client:
        if monitor_proto == 3:
            monitor.call("HELLO", "3")
        assert monitor.call("MONITOR") == b"+OK\r\n"
        if client_proto == 3:
            client.call("HELLO", "3")
        for command in SCENARIO:
            client.call(*command)
        client.call("ECHO", "end")
        lines = []
        while not lines or b'"end"' not in lines[-1]:
            lines += _read_lines(monitor, 1)
        # a client in MONITOR mode: keyspace commands refused, others answered
        own = [monitor.call("GET", "k"), monitor.call("SET", "k", "v"), monitor.call("PING"),
               monitor.call("CLIENT", "GETNAME")]
        own += [monitor.call("RESET"), monitor.call("GET", "k"), monitor.call("ECHO", "after-reset")]
        client.call("SET", "unseen", "1")  # no longer monitoring: nothing more arrives
        return [_masked(line) for line in lines], [_masked(r) if _TIMESTAMP.match(r) else r for r in own]


@pytest.mark.parametrize("monitor_proto", [2, 3])
@pytest.mark.parametrize("client_proto", [2, 3])
def test_monitor_lines_match_redis(yizhan_server, reference_redis, monitor_proto, client_proto):
    ours = _monitor_transcript(yizhan_server.port, monitor_proto, client_proto)
    theirs = _monitor_transcript(reference_redis.port, monitor_proto, client_proto)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert any(b"[0 lua]" in line for line in ours[0])  # the test can tell scripts apart


def test_monitor_sees_functions_and_several_monitors(yizhan_server, reference_redis):
    def transcript(port):
        with RawClient("127.0.0.1", port) as setup:
            setup.call("FUNCTION", "FLUSH")
            setup.call("FUNCTION", "LOAD", "#!lua name=mon\nredis.register_function('f', "
                                            "function(keys, args) return redis.call('set', keys[1], args[1]) end)")
        with RawClient("127.0.0.1", port) as first, RawClient("127.0.0.1", port) as second, \
                RawClient("127.0.0.1", port) as client:
            first.call("MONITOR")
            second.call("MONITOR")
            client.call("FCALL", "f", "1", "fk", "fv")
            client.call("FCALL_RO", "f", "1", "fk", "fv")
            client.call("ECHO", "end")
            seen = []
            for monitor in (first, second):
                lines = []
                while not lines or b'"end"' not in lines[-1]:
                    lines += _read_lines(monitor, 1)
                seen.append([_masked(line) for line in lines])
            return seen

    ours, theirs = transcript(yizhan_server.port), transcript(reference_redis.port)
    assert ours == theirs
    assert ours[0] == ours[1]


@pytest.mark.parametrize("proto", [2, 3])
def test_monitor_refusals_match_redis(differential, proto):
    differential.check([["MULTI"], ["MONITOR"], ["EXEC"], ["MONITOR", "x"]], proto=proto)

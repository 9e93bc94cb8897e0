"""INFO commandstats / errorstats / latencystats against redis-server 7.0 after CONFIG
RESETSTAT and the same commands: the same commands listed with the same calls, rejected_calls
and failed_calls, the same error counts by code, the same latency rows and percentile names
(times differ by nature and are only checked for their format)."""

from __future__ import annotations

import re

import hiredis

import pytest

from yizhan.testing.raw import RawClient, encode_command

SCENARIO = [
    ("SET", "k", "v"), ("GET", "k"), ("GET", "k"), ("get", "a", "b"), ("INCR", "k"), ("NOSUCH",),
    ("CLIENT", "NOPE"), ("CLIENT", "ID"), ("CLIENT",), ("LPUSH", "k", "x"), ("MULTI",), ("INCR", "k"),
    ("SET", "k"), ("EXEC",), ("MULTI",), ("INCR", "k"), ("EXEC",), ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
    ("EVAL", "return redis.pcall('incr', KEYS[1])", "1", "k"), ("AUTH", "nopass"), ("HSET", "h", "f"),
    ("SLOWLOG", "LEN"), ("CONFIG", "GET", "maxmemory"), ("SELECT", "99"),
]

_ROW = re.compile(r"^(\w+[^:]*):(.*)$")


def _section(client: RawClient, name: str) -> dict[str, str]:
    raw = client.call("INFO", name)
    body = raw.split(b"\r\n", 1)[1].decode().removeprefix("txt:")
    rows = {}
    for line in body.splitlines():
        match = _ROW.match(line)
        if match and not line.startswith("#"):
            rows[match.group(1)] = match.group(2)
    return rows


def _fields(value: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in value.split(","))


def _transcript(port: int, proto: int) -> dict:
    with RawClient("127.0.0.1", port) as client:
        if proto == 3:
            client.call("HELLO", "3")
        client.call("FLUSHALL")
        client.call("CONFIG", "RESETSTAT")
        for command in SCENARIO:
            client.call(*command)
        commands = _section(client, "commandstats")
        errors = _section(client, "errorstats")
        latency = _section(client, "latencystats")
        stats = _section(client, "stats")
        client.call("CONFIG", "RESETSTAT")
        after = (_section(client, "commandstats"), _section(client, "errorstats"))
    for value in commands.values():
        fields = _fields(value)
        assert list(fields) == ["calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"]
        assert re.fullmatch(r"\d+\.\d\d", fields["usec_per_call"])
    for value in latency.values():
        assert all(re.fullmatch(r"\d+\.\d{3}", v) for v in _fields(value).values())
    return {
        "commands": {name: {k: v for k, v in _fields(value).items() if k not in ("usec", "usec_per_call")}
                     for name, value in commands.items()},
        "errors": errors,
        "latency": {name: list(_fields(value)) for name, value in latency.items()},
        "total_error_replies": stats["total_error_replies"],
        "after_resetstat": (sorted(after[0]), after[1]),
    }


@pytest.mark.parametrize("proto", [2, 3])
def test_commandstats_match_redis(yizhan_server, reference_redis, proto):
    ours = _transcript(yizhan_server.port, proto)
    theirs = _transcript(reference_redis.port, proto)
    assert ours == theirs
    assert ours["commands"]["cmdstat_get"]["rejected_calls"] == "1"


def test_errorstats_keep_error_codes_bytes(differential):
    """An error code that is not UTF-8 is counted and shown with its bytes (the connection
    survives: the INFO reply used to fail to encode)."""
    differential.check([["CONFIG", "RESETSTAT"], ["EVAL", b"return redis.error_reply('\xff\xfeBAD oops')", "0"],
                        ["INFO", "errorstats"], ["EVAL", b"return {err='\xc3'}", "0"], ["INFO", "errorstats"]])


def _histogram(port: int, proto: int) -> dict:
    with RawClient("127.0.0.1", port) as client:
        if proto == 3:
            client.call("HELLO", "3")
        client.call("CONFIG", "RESETSTAT")
        for _ in range(5):
            client.call("SET", "h", "v")
        client.call("GET", "h")
        reader = hiredis.Reader()
        reader.feed(client.call("LATENCY", "HISTOGRAM", "set", "get", "nosuch", "config"))
        reply = reader.gets()
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
    shape = {}
    for name, body in pairs:
        fields = body if isinstance(body, dict) else dict(zip(body[::2], body[1::2]))
        buckets = fields[b"histogram_usec"]
        buckets = list(buckets.items()) if isinstance(buckets, dict) else list(zip(buckets[::2], buckets[1::2]))
        counts = [count for _, count in buckets]
        assert counts == sorted(counts) and counts[-1] == fields[b"calls"]
        assert all(key in _STEPS for key, _ in buckets)
        shape[name] = fields[b"calls"]
    return shape


# The microsecond keys Redis's logarithmic iteration (1024 ns, doubling) reports.
_STEPS = {1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266}


@pytest.mark.parametrize("proto", [2, 3])
def test_latency_histogram_matches_redis(yizhan_server, reference_redis, proto):
    ours = _histogram(yizhan_server.port, proto)
    assert ours == _histogram(reference_redis.port, proto)
    assert ours == {b"set": 5, b"get": 1, b"config|resetstat": 1}


@pytest.mark.parametrize("proto", [2, 3])
def test_latency_histogram_reply_shape_matches_redis(differential, proto):
    """Arguments in order, repeated ones repeated, a container's subcommands: one call each,
    so one bucket each, and only the numbers (times) may differ."""
    def shape(port):
        with RawClient("127.0.0.1", port) as client:
            if proto == 3:
                client.call("HELLO", "3")
            client.call("CONFIG", "RESETSTAT")
            client.call("SET", "h", "v")
            client.call("GET", "h")
            raw = client.call("LATENCY", "HISTOGRAM", "set", "get", "nosuch", "config", "set")
            return re.sub(rb"([:$])\d+", rb"\1N", raw)
    assert shape(differential.ours_port) == shape(differential.theirs_port)


def _blocked_stats(port: int) -> list:
    """A blocked command's call counts when it blocks (as Redis 7.0 counts calls); an UNBLOCKED
    error makes it a failed call and an error reply."""
    with RawClient("127.0.0.1", port) as a, RawClient("127.0.0.1", port) as b:
        b.call("DEL", "bl")
        b.call("CONFIG", "RESETSTAT")
        b.call("SLOWLOG", "RESET")
        b.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        try:
            a_id = a.call("CLIENT", "ID")[1:-2]
            seen = []
            a.send_raw(encode_command(["BLPOP", "bl", "0"]))
            while b"blocked_clients:1" not in b.call("INFO", "clients"):
                pass
            seen.append(_calls(b, "cmdstat_blpop"))
            b.call("RPUSH", "bl", "x")
            seen.append(a.read_reply())
            seen.append(_calls(b, "cmdstat_blpop"))
            a.send_raw(encode_command(["BLPOP", "bl", "0"]))
            while b"blocked_clients:1" not in b.call("INFO", "clients"):
                pass
            seen.append(b.call("CLIENT", "UNBLOCK", a_id, "ERROR"))
            seen.append(a.read_reply())
            seen.append(_calls(b, "cmdstat_blpop"))
            seen.append(a.call("BLPOP", "bl", "0.01"))
            seen.append(_calls(b, "cmdstat_blpop"))
            seen.append(b.call("INFO", "errorstats").split(b"\r\n", 1)[1])
            return seen
        finally:
            b.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")


def _calls(client: RawClient, name: str):
    for line in client.call("INFO", "commandstats").decode().split("\r\n"):
        if line.startswith(name + ":"):
            return [field for field in line.split(",") if not field.startswith(("usec", name + ":calls=0,usec"))
                    and "usec" not in field]
    return None


def test_blocked_command_stats_match_redis(yizhan_server, reference_redis):
    assert _blocked_stats(yizhan_server.port) == _blocked_stats(reference_redis.port)

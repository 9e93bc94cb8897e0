"""SLOWLOG and LATENCY against redis-server 7.0: entries (ids, arguments truncated at 32
arguments and 128 bytes, redaction, client address and name, EXEC's commands but not EXEC,
script commands as `?:0`), with the timestamps and durations that differ by nature masked;
slowlog-max-len; the error and help replies; the latency monitor disabled, quiet and after
spikes (a script that busy-waits makes them on both servers)."""

from __future__ import annotations

import re

import hiredis
import pytest

from yizhan.testing.raw import RawClient

SLOW_SCENARIO = [
    ("SET", "k", "x" * 200), ("RPUSH", "l", *map(str, range(40))), ("RPUSH", "l", *map(str, range(31))),
    ("EVAL", "return redis.call('get','k')", "0"), ("AUTH", "secret"),
    ("HELLO", "2", "AUTH", "default", "pw"), ("MULTI",), ("INCR", "k"), ("EXEC",),
    ("CLIENT", "SETNAME", "slow"), ("GET", "k"), ("get", "k", "x"),
]


def _decode(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _masked_entries(entries) -> list:
    first_id = entries[-1][0] if entries else 0
    return [[entry[0] - first_id, "TS", "DURATION", entry[3], re.sub(rb":\d+$", b":PORT", entry[4]), entry[5]]
            for entry in entries]


def _slowlog_transcript(port: int, proto: int) -> tuple:
    with RawClient("127.0.0.1", port) as client:
        if proto == 3:
            client.call("HELLO", "3")
        client.call("FLUSHALL")
        client.call("SLOWLOG", "RESET")
        client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        try:
            for command in SLOW_SCENARIO:
                client.call(*command)
            entries = _decode(client.call("SLOWLOG", "GET", "-1"))
            length = client.call("SLOWLOG", "LEN")
            two = client.call("SLOWLOG", "GET", "2")
            client.call("CONFIG", "SET", "slowlog-max-len", "3")
            client.call("PING")
            trimmed = _decode(client.call("SLOWLOG", "GET"))
        finally:
            client.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
            client.call("CONFIG", "SET", "slowlog-max-len", "128")
        return _masked_entries(entries), length, two[:1], _masked_entries(trimmed)


@pytest.mark.parametrize("proto", [2, 3])
def test_slowlog_entries_match_redis(yizhan_server, reference_redis, proto):
    ours = _slowlog_transcript(yizhan_server.port, proto)
    theirs = _slowlog_transcript(reference_redis.port, proto)
    assert ours == theirs
    assert any(arg.endswith(b"(72 more bytes)") for entry in ours[0] for arg in entry[3])


ERROR_CASES = {
    "slowlog-errors": [["SLOWLOG", "GET", "-2"], ["SLOWLOG", "GET", "x"], ["SLOWLOG", "GET", "0"],
                       ["SLOWLOG", "GET", "1", "2"], ["SLOWLOG", "LEN", "x"], ["SLOWLOG", "RESET", "x"],
                       ["SLOWLOG", "HELP"], ["SLOWLOG", "nope"], ["SLOWLOG"], ["SLOWLOG", "RESET"],
                       ["SLOWLOG", "LEN"], ["SLOWLOG", "GET"]],
    "latency-disabled": [["LATENCY", "LATEST"], ["LATENCY", "HISTORY", "command"], ["LATENCY", "DOCTOR"],
                         ["LATENCY", "GRAPH", "command"], ["LATENCY", "RESET"], ["LATENCY", "RESET", "a", "b"],
                         ["LATENCY", "HELP"], ["LATENCY", "nope"], ["LATENCY"], ["LATENCY", "HISTORY"],
                         ["LATENCY", "GRAPH", "a", "b"]],
    "latency-quiet": [["CONFIG", "SET", "latency-monitor-threshold", "10000"], ["LATENCY", "DOCTOR"],
                      ["LATENCY", "LATEST"], ["CONFIG", "SET", "latency-monitor-threshold", "0"]],
    "latency-config": [["~CONFIG", "GET", "latency*"], ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"],
                       ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 x"],
                       ["CONFIG", "SET", "latency-tracking-info-percentiles", "50.50 99.000 0"],
                       ["CONFIG", "GET", "latency-tracking-info-percentiles"],
                       ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_matches_redis(differential, name, proto):
    differential.check(ERROR_CASES[name], proto=proto)


BUSY = ("local s = redis.call('time') local stop = s[1] * 1000000 + s[2] + tonumber(ARGV[1]) "
        "while true do local n = redis.call('time') if n[1] * 1000000 + n[2] >= stop then break end end "
        "return 1")
_NUMBERS = re.compile(rb"\d+")


def _latency_transcript(port: int) -> dict:
    with RawClient("127.0.0.1", port) as client:
        client.call("LATENCY", "RESET")
        client.call("CONFIG", "SET", "latency-monitor-threshold", "50")
        try:
            client.call("EVAL", BUSY, "0", "60000")
            client.call("EVAL", BUSY, "0", "90000")
            latest = _decode(client.call("LATENCY", "LATEST"))
            history = _decode(client.call("LATENCY", "HISTORY", "command"))
            doctor = client.call("LATENCY", "DOCTOR")
            graph = client.call("LATENCY", "GRAPH", "command")
            reset = client.call("LATENCY", "RESET", "command", "nope")
        finally:
            client.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            client.call("LATENCY", "RESET")
        command = [row for row in latest if row[0] == b"command"]
        # (a loaded machine may add a fast-command event on either server: only "command" is compared)
        doctor_lines = [line for line in _NUMBERS.sub(b"N", doctor).split(b"\n")
                        if b"fast-command" not in line and b"1) " not in line]
        return {"events": b"command" in [row[0] for row in latest], "history": len(history) in (1, 2),
                "doctor": [line for line in doctor_lines if line.startswith((b"N. command", b"Dave", b"- Check"))], "graph": _NUMBERS.sub(b"N", graph.split(b"\n", 1)[0]), "reset": reset,
                "max": command[0][3] >= 90}


def test_latency_events_match_redis(yizhan_server, reference_redis):
    assert _latency_transcript(yizhan_server.port) == _latency_transcript(reference_redis.port)


COMMAND_TABLE = {
    "command-info": [["COMMAND", "INFO", "monitor"], ["COMMAND", "INFO", "slowlog|get", "slowlog|len",
                                                      "slowlog|reset", "slowlog|help"],
                     ["COMMAND", "INFO", "latency|latest", "latency|history", "latency|reset",
                      "latency|graph", "latency|doctor", "latency|histogram", "latency|help"],
                     ["~COMMAND", "INFO", "slowlog"], ["~COMMAND", "INFO", "latency"]],
    "command-docs": [["COMMAND", "DOCS", "monitor"], ["~COMMAND", "DOCS", "slowlog"], ["~COMMAND", "DOCS", "latency"]],
}


@pytest.mark.parametrize("name", sorted(COMMAND_TABLE))
def test_command_table_matches_redis(differential, name):
    differential.check(COMMAND_TABLE[name])

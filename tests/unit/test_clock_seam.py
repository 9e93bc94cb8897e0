"""The sans-IO cores read time only through the injected `Clock`: no module of yizhan.redis or
yizhan.amqp reads the time module's clocks itself, so a `ManualClock` moves every
time-dependent answer (CLIENT LIST age and idle, uptime, LASTSAVE, a script's duration)."""

from __future__ import annotations

import ast
from pathlib import Path

import yizhan
from yizhan.amqp.consumer_timeout import ConsumerTimeouts
from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection
from yizhan.testing.core import request

PACKAGE = Path(yizhan.__file__).parent
CLOCK_READS = {"time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
               "process_time", "process_time_ns", "clock_gettime", "clock_gettime_ns"}


def _clock_reads(path: Path, root: Path = PACKAGE) -> list[str]:
    """`time.<clock>` attributes and `from time import <clock>` in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Attribute) and node.attr in CLOCK_READS
                and isinstance(node.value, ast.Name) and node.value.id == "time"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: time.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found += [f"{path.relative_to(root)}:{node.lineno}: from time import {alias.name}"
                      for alias in node.names if alias.name in CLOCK_READS]
    return sorted(found)


def test_no_core_module_reads_the_time_module():
    sources = sorted([*(PACKAGE / "redis").rglob("*.py"), *(PACKAGE / "amqp").rglob("*.py")])
    assert len(sources) > 40  # the walk found the packages
    assert [read for path in sources for read in _clock_reads(path)] == []


def test_the_check_sees_a_clock_read(tmp_path):
    """The check above can fail: it finds both spellings."""
    probe = tmp_path / "probe.py"
    probe.write_text("import time\nfrom time import monotonic\nstarted = time.time()\ntime.sleep(0)\n")
    assert _clock_reads(probe, tmp_path) == ["probe.py:2: from time import monotonic", "probe.py:3: time.time"]


def _connection(clock: ManualClock, server: RedisInstance | None = None) -> RedisConnection:
    client = Client(server or RedisInstance(clock=clock))
    client.server.register(client)
    return RedisConnection(client)


def _client_list_field(reply: bytes, name: str) -> int:
    line = reply.split(b"\r\n")[1].decode()
    return int(dict(word.split("=", 1) for word in line.split() if "=" in word)[name])


def test_client_list_age_and_idle_follow_the_clock():
    clock = ManualClock()
    conn = _connection(clock)
    assert _client_list_field(request(conn, ["CLIENT", "INFO"]), "age") == 0
    clock.advance(5_000)
    reply = request(conn, ["CLIENT", "INFO"])  # a read: idle is 0 again, age goes on
    assert _client_list_field(reply, "age") == 5 and _client_list_field(reply, "idle") == 0
    other = _connection(clock, conn.client.server)
    clock.advance(3_000)
    listing = request(other, ["CLIENT", "LIST", "ID", str(conn.client.id)])
    assert _client_list_field(listing, "age") == 8 and _client_list_field(listing, "idle") == 3


def test_uptime_and_lastsave_follow_the_clock():
    clock = ManualClock(start_ms=1_700_000_000_000)
    conn = _connection(clock)
    assert request(conn, ["LASTSAVE"]) == b":1700000000\r\n"
    clock.advance(90_000)
    info = request(conn, ["INFO", "server"])
    assert b"uptime_in_seconds:90\r\n" in info
    assert b"uptime_in_days:0\r\n" in info


def test_consumer_timeout_sweeps_on_the_injected_clock():
    """The sweep's time is the server clock's monotonic reading."""
    clock = ManualClock()
    sweeps = []
    sweeper = ConsumerTimeouts(None, 1000, clock)
    sweeper.sweep = sweeps.append
    sweeper.loop = _NoLoop()
    sweeper._tick()
    clock.advance(2_500)
    sweeper._tick()
    assert sweeps == [clock.monotonic() - 2.5, clock.monotonic()]


class _NoLoop:
    def call_later(self, delay, callback):
        return None

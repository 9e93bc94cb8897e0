"""Arbitrary input through the whole sans-IO Redis connection: never an exception, never an
internal error (answered or logged); malformed input gets a protocol error and a close."""

import logging

from hypothesis import HealthCheck, given, settings, strategies as st

from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection
from yizhan.redis.table import COMMANDS
from yizhan.testing.core import exchange, request

# Commands that write files or fork are left out: the fuzzed instance has no data directory.
UNSAFE = {b"quit", b"save", b"bgsave", b"sync", b"psync", b"replconf", b"shutdown", b"debug"}
SAFE_NAMES = sorted(
    [n.decode() for n, cmd in COMMANDS.items() if cmd.handler is not None and n not in UNSAFE]
    + [f"{n.decode()} {sub.decode()}" for n, cmd in COMMANDS.items() if n != b"debug"
       for sub in cmd.subcommands if n not in UNSAFE]
)


def new_connection() -> RedisConnection:
    return RedisConnection(Client(RedisInstance(clock=ManualClock())))


def nothing_logged(caplog) -> None:
    """No error logged by this example (then ready for the next: caplog is shared by them)."""
    logged = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    caplog.clear()
    assert logged == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes(caplog, data):
    caplog.clear()
    conn = new_connection()
    out = exchange(conn, data)
    assert isinstance(out, bytes)
    assert b"internal error" not in out
    nothing_logged(caplog)
    if out.startswith(b"-ERR Protocol error") or b"\r\n-ERR Protocol error" in out:
        assert conn.close_after == 0.0


ARG = st.one_of(
    st.sampled_from([b"0", b"1", b"-1", b"2", b"10", b"-100", b"9223372036854775807",
                     b"-9223372036854775808", b"9223372036854775808", b"1.5", b"inf", b"-inf", b"nan",
                     b"", b"k", b"k2", b"NX", b"XX", b"GT", b"LT", b"EX", b"PX", b"GET", b"KEEPTTL",
                     b"BYTE", b"BIT", b"MATCH", b"COUNT", b"TYPE", b"*", b"LEN", b"IDX", b"WITHMATCHLEN",
                     b"u8", b"i64", b"#1", b"OVERFLOW", b"SAT", b"FAIL", b"INCRBY", b"SET", b"AND",
                     b"NOT", b"REPLACE", b"DB", b"ENCODING", b"FREQ", b"ID", b"SKIPME", b"no", b"yes"]),
    st.binary(max_size=12),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(st.sampled_from(SAFE_NAMES), st.lists(ARG, max_size=6)), min_size=1, max_size=8))
def test_random_commands_never_hit_an_internal_error(caplog, calls):
    caplog.clear()
    conn = new_connection()
    for name, args in calls:
        out = request(conn, [*name.encode().split(), *args])
        assert b"internal error" not in out, (name, args, out)
        if conn.close_after is not None:
            break
    nothing_logged(caplog)

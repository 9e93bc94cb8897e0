"""The `new` keyspace event (class n, not part of A) against redis-server 7.0: fired when a
key is created, before the command's own event, by every kind of write (SET, INCR, MSET,
list/set/hash/zset creation, RENAME, COPY, MOVE, RESTORE, SETRANGE, an expired key
written again), not by writes to existing keys."""

from __future__ import annotations

import pytest

from yizhan.testing.raw import RawClient

COMMANDS = [
    ["SET", "s", "1"], ["SET", "s", "2"], ["INCR", "n"], ["INCR", "n"], ["MSET", "m1", "a", "m2", "b", "m1", "c"],
    ["LPUSH", "l", "a"], ["RPUSH", "l", "b"], ["SADD", "st", "a"], ["HSET", "h", "f", "v"], ["ZADD", "z", "1", "a"],
    ["SETRANGE", "r", "2", "x"], ["APPEND", "ap", "x"], ["RENAME", "s", "s2"], ["COPY", "s2", "s3"],
    ["COPY", "s2", "s3", "REPLACE"], ["MOVE", "s3", "1"], ["SET", "e", "1", "PX", "1"], ["SLEEP", "20"],
    ["SET", "e", "2"], ["PFADD", "hll", "a"], ["SETNX", "s2", "x"], ["GETSET", "gs", "x"], ["INCRBYFLOAT", "f", "1.5"],
    ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["SINTERSTORE", "st2", "st"], ["SETBIT", "b", "3", "1"],
    ["DEL", "s2"], ["EVAL", "redis.call('set', KEYS[1], 'v')", "1", "ev"],
]


def _events(port: int, flags: str) -> tuple[list, list]:
    with RawClient("127.0.0.1", port) as client, RawClient("127.0.0.1", port) as subscriber:
        client.call("FLUSHALL")
        client.call("CONFIG", "SET", "notify-keyspace-events", flags)
        try:
            subscriber.call("PSUBSCRIBE", "__key*__:*")
            subscriber.call("SUBSCRIBE", "end-of-events")
            replies = []
            for command in COMMANDS:
                if command[0] == "SLEEP":
                    __import__("time").sleep(int(command[1]) / 1000)
                    continue
                replies.append(client.call(*command))
            dump = client.call("DUMP", "h")
            replies.append(client.call("RESTORE", "restored", "0", dump[dump.index(b"\r\n") + 2:-2]))
            replies.append(client.call("CONFIG", "GET", "notify-keyspace-events"))
            client.call("PUBLISH", "end-of-events", "x")
            events = []
            while b"end-of-events" not in (message := subscriber.read_reply()):
                events.append(message)
            return replies, events
        finally:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.mark.parametrize("flags", ["KEn", "En", "KEA", "gKEnm", "KEA$"])
def test_new_events_match_redis(yizhan_server, reference_redis, flags):
    ours = _events(yizhan_server.port, flags)
    theirs = _events(reference_redis.port, flags)
    assert ours == theirs
    assert (b"new" in b"".join(ours[1])) == ("n" in flags)

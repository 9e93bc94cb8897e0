"""Differential cases for the keyspace statistics: after every command, INFO's keyspace_hits and
keyspace_misses must have moved exactly as redis-server 7.0's (read lookups count a hit or a miss,
write lookups count nothing, as Redis's lookupKeyRead / lookupKeyWrite), and so must
rdb_changes_since_last_save (Redis's server.dirty: one per element added or removed, one per key
deleted, as its t_*.c files count them).

Replies are compared by their type byte only: some commands here answer at random (SPOP,
RANDOMKEY); their reply bytes are the other differential files' business.
"""

import time

import pytest

from yizhan.testing.raw import RawClient

STRINGS = [
    ["SET", "k", "v"], ["GET", "k"], ["GET", "nokey"], ["MGET", "k", "nokey", "k"],
    ["EXISTS", "k", "nokey", "k"], ["TYPE", "k"], ["TYPE", "nokey"], ["TTL", "k"], ["PTTL", "nokey"],
    ["STRLEN", "k"], ["STRLEN", "nokey"], ["GETRANGE", "k", "0", "1"], ["SUBSTR", "nokey", "0", "1"],
    ["SET", "k", "w", "GET"], ["SET", "nokey2", "v", "GET"], ["SET", "k", "x", "NX"], ["SET", "k", "y", "XX"],
    ["SET", "k", "z", "EX", "100"], ["SETEX", "k", "100", "v"], ["SETNX", "k", "v"],
    ["GETSET", "k", "w"], ["GETSET", "nokey3", "w"], ["GETDEL", "nokey3"], ["GETDEL", "nokey4"],
    ["GETEX", "k", "PERSIST"], ["GETEX", "nokey"], ["APPEND", "k", "x"], ["APPEND", "nokey5", "x"],
    ["INCR", "n"], ["INCRBY", "n", "5"], ["DECR", "n"], ["INCRBYFLOAT", "f", "1.5"],
    ["MSET", "a", "1", "b", "2"], ["MSETNX", "a", "1", "c", "3"], ["MSETNX", "d", "1", "e", "3"],
    ["SETRANGE", "k", "0", "q"], ["LCS", "k", "a"], ["TOUCH", "k", "nokey", "a"],
    ["OBJECT", "ENCODING", "k"], ["OBJECT", "ENCODING", "nokey"], ["OBJECT", "REFCOUNT", "n"],
    ["OBJECT", "IDLETIME", "k"], ["DUMP", "k"], ["DUMP", "nokey"], ["COPY", "k", "k2"],
    ["COPY", "nokey", "k9"], ["RENAME", "k2", "k3"], ["RENAMENX", "k3", "k"], ["EXPIRE", "k3", "100"],
    ["PEXPIRE", "nokey", "100"], ["PERSIST", "k3"], ["EXPIRETIME", "k3"], ["DEL", "k3", "nokey", "a"],
    ["UNLINK", "b", "c"], ["MOVE", "k", "1"], ["STRLEN", "k"],
]

EXPIRED = [
    ["SET", "e", "v", "PX", "1"], ["SET", "e2", "v", "PX", "1"], ["SET", "e3", "v", "PX", "1"],
    ["SLEEP", "30"], ["GET", "e"], ["SET", "e2", "w"], ["EXISTS", "e3"], ["DBSIZE"],
]

LISTS = [
    ["LPUSH", "l", "a", "b", "c"], ["RPUSH", "l", "d", "e"], ["LPUSHX", "nol", "a"], ["RPUSHX", "l", "f", "g"],
    ["LRANGE", "l", "0", "-1"], ["LRANGE", "nol", "0", "-1"], ["LLEN", "l"], ["LLEN", "nol"],
    ["LINDEX", "l", "0"], ["LPOS", "l", "a"], ["LPOS", "nol", "a"], ["LPOP", "l"], ["LPOP", "l", "2"],
    ["RPOP", "nol"], ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["RPOPLPUSH", "l", "l2"], ["LSET", "l", "0", "z"],
    ["LREM", "l", "0", "z"], ["LTRIM", "l", "0", "5"], ["LINSERT", "l", "BEFORE", "f", "x"],
    ["LINSERT", "nol", "BEFORE", "f", "x"], ["LMPOP", "2", "nol", "l", "LEFT", "COUNT", "2"],
    ["BLPOP", "nol", "l", "0.01"], ["BRPOP", "nol", "0.01"], ["BLMOVE", "l2", "l", "LEFT", "LEFT", "0.01"],
    ["SORT", "l2", "ALPHA"], ["SORT", "l2", "BY", "w_*", "GET", "h_*", "ALPHA"], ["SORT_RO", "nol"],
    ["SORT", "l2", "ALPHA", "STORE", "l3"], ["DEL", "l", "l2", "l3"],
]

HASHES = [
    ["HSET", "h", "f", "v", "g", "w", "i", "1"], ["HSET", "h", "f", "v2", "j", "x"], ["HMSET", "h", "k", "1"],
    ["HSETNX", "h", "f", "v"], ["HSETNX", "h", "new", "v"], ["HGET", "h", "f"], ["HGET", "noh", "f"],
    ["HMGET", "h", "f", "nof"], ["HLEN", "h"], ["HEXISTS", "h", "f"], ["HGETALL", "h"], ["HKEYS", "noh"],
    ["HVALS", "h"], ["HSTRLEN", "h", "f"], ["HINCRBY", "h", "i", "1"], ["HINCRBYFLOAT", "h", "fl", "1.5"],
    ["HDEL", "h", "f", "g", "nof"], ["HDEL", "noh", "f"], ["HRANDFIELD", "h"], ["HRANDFIELD", "h", "2"],
    ["HSCAN", "h", "0"], ["HSCAN", "noh", "0"], ["DEL", "h"],
]

SETS = [
    ["SADD", "s", "a", "b", "c", "a"], ["SADD", "s", "d"], ["SADD", "t", "1", "2", "3"],
    ["SISMEMBER", "s", "a"], ["SISMEMBER", "nos", "a"], ["SMISMEMBER", "s", "a", "z"], ["SMEMBERS", "s"],
    ["SCARD", "s"], ["SREM", "s", "a", "b", "zz"], ["SREM", "nos", "a"], ["SPOP", "t"], ["SPOP", "t", "5"],
    ["SRANDMEMBER", "s"], ["SRANDMEMBER", "s", "2"], ["SINTER", "s", "nos"], ["SUNION", "s", "nos"],
    ["SUNIONSTORE", "d", "s", "nos"], ["SINTERSTORE", "d2", "s", "d"], ["SDIFF", "s", "d"],
    ["SDIFFSTORE", "d3", "s", "nos"], ["SMOVE", "s", "d", "c"], ["SMOVE", "nos", "d", "c"],
    ["SINTERCARD", "2", "s", "d"], ["SSCAN", "s", "0"], ["DEL", "s", "d", "d2", "d3"],
]

ZSETS = [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZADD", "z", "5", "b"], ["ZADD", "z", "5", "b"],
    ["ZADD", "z", "7", "new"], ["ZADD", "z", "XX", "CH", "9", "a", "9", "zz"], ["ZSCORE", "z", "a"],
    ["ZSCORE", "noz", "a"], ["ZMSCORE", "z", "a", "q"], ["ZRANGE", "z", "0", "-1"], ["ZRANGE", "noz", "0", "-1"],
    ["ZRANGESTORE", "d", "z", "0", "-1"], ["ZRANGESTORE", "d", "noz", "0", "-1"], ["ZRANK", "z", "a"],
    ["ZREVRANK", "noz", "a"], ["ZCARD", "z"], ["ZCOUNT", "z", "0", "10"], ["ZLEXCOUNT", "z", "-", "+"],
    ["ZINCRBY", "z", "1", "a"], ["ZREM", "z", "a", "b", "nosuch"], ["ZPOPMIN", "z"], ["ZPOPMAX", "z", "2"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZREMRANGEBYRANK", "z", "0", "1"],
    ["ZREMRANGEBYSCORE", "noz", "0", "1"], ["ZUNIONSTORE", "u", "2", "z", "noz"], ["ZINTER", "2", "z", "noz"],
    ["ZDIFF", "2", "z", "d"], ["ZINTERCARD", "2", "z", "d"], ["ZRANDMEMBER", "z"], ["ZSCAN", "z", "0"],
    ["ZMPOP", "2", "noz", "z", "MIN"], ["BZPOPMIN", "noz", "z", "0.01"], ["DEL", "z", "d", "u"],
]

OTHERS = [
    ["PFADD", "p", "a", "b"], ["PFADD", "p", "a"], ["PFCOUNT", "p"], ["PFCOUNT", "nop"], ["PFCOUNT", "p", "nop"],
    ["PFMERGE", "p2", "p", "nop"], ["SETBIT", "b", "1", "1"], ["SETBIT", "b", "1", "1"], ["GETBIT", "b", "1"],
    ["GETBIT", "nob", "1"], ["BITCOUNT", "b"], ["BITPOS", "b", "1"], ["BITOP", "AND", "d", "b", "nob"],
    ["BITFIELD", "b", "GET", "u4", "0"], ["BITFIELD", "b", "SET", "u4", "0", "1"], ["BITFIELD", "nob", "INCRBY", "u4", "0", "1"],
    ["BITFIELD_RO", "b", "GET", "u4", "0"], ["SET", "x", "1"], ["SCAN", "0", "TYPE", "string"], ["KEYS", "*"],
    ["RANDOMKEY"], ["DBSIZE"], ["WATCH", "x"], ["UNWATCH"], ["FLUSHDB"], ["GET", "x"],
]

MULTI_ELEMENT = [
    ["SET", "a", "1", "EX", "100"], ["SET", "b", "2"], ["RENAME", "a", "b"], ["COPY", "b", "c", "REPLACE"],
    ["SET", "c", "x"], ["COPY", "b", "c", "REPLACE"], ["RPUSH", "l", "a", "x", "b", "x", "c", "x", "d"],
    ["LREM", "l", "2", "x"], ["LTRIM", "l", "1", "-2"], ["LTRIM", "l", "0", "-1"], ["LPUSHX", "l", "p", "q", "r"],
    ["BITFIELD", "bf", "SET", "u8", "0", "1", "SET", "u8", "8", "2", "GET", "u8", "0"],
    ["BITFIELD", "bf", "SET", "u8", "0", "1", "INCRBY", "u8", "8", "0"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZREMRANGEBYSCORE", "z", "2", "3"],
    ["ZADD", "z", "GT", "CH", "0", "a", "9", "d", "5", "e"], ["HSET", "h", "a", "1", "a", "2"],
    ["SADD", "s", "1", "2", "3", "4", "5"], ["SPOP", "s", "2"], ["SPOP", "s", "4"],
    ["PFADD", "p", "a", "b", "c", "d"], ["PFADD", "p", "a", "e"], ["MSET", "m1", "1", "m2", "2", "m1", "3"],
    ["EXPIRE", "m1", "100"], ["EXPIRE", "nokey", "100"], ["PERSIST", "m1"], ["GETEX", "m2", "EX", "100"],
    ["RPUSH", "sl", "3", "1", "2"], ["SORT", "sl", "STORE", "sd"], ["SORT", "nosl", "STORE", "sd"],
    ["SINTERSTORE", "si", "s", "s"], ["ZUNIONSTORE", "zu", "1", "z"], ["BITOP", "OR", "bo", "bf", "bf"],
    ["PFMERGE", "pm", "p", "p"], ["MSETNX", "n1", "1", "n2", "2"], ["SETRANGE", "n1", "3", "x"],
    ["SELECT", "1"], ["SET", "other", "v"], ["SELECT", "0"], ["FLUSHALL"],
]

CASES = {"multi-element": MULTI_ELEMENT, "strings": STRINGS, "expired": EXPIRED, "lists": LISTS, "hashes": HASHES, "sets": SETS,
         "zsets": ZSETS, "others": OTHERS}
FIELDS = (b"keyspace_hits", b"keyspace_misses", b"rdb_changes_since_last_save")


def _counters(client: RawClient) -> dict:
    raw = client.call("INFO", "all")
    return {line.split(b":")[0]: int(line.split(b":")[1]) for line in raw.split(b"\r\n")
            if line.split(b":")[0] in FIELDS}


def _deltas(port: int, commands: list) -> list:
    """(command, reply type byte, counter changes) for each command, on the server at `port`."""
    with RawClient("127.0.0.1", port) as client:
        client.call("FLUSHALL")
        saved = client.call("CONFIG", "GET", "save").split(b"\r\n")[-2]
        client.call("CONFIG", "SET", "save", "")  # no background save resets the dirty count midway
        client.call("CONFIG", "RESETSTAT")
        before = _counters(client)
        out = []
        for command in commands:
            if command[0] == "SLEEP":
                time.sleep(int(command[1]) / 1000)
                continue
            reply = client.call(*command)
            after = _counters(client)
            out.append((" ".join(command), reply[:1], {f.decode(): after[f] - before[f] for f in FIELDS}))
            before = after
        client.call("FLUSHALL")
        client.call("CONFIG", "SET", "save", saved)
        return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_counters_move_as_redis(yizhan_server, reference_redis, name):
    ours = _deltas(yizhan_server.port, CASES[name])
    theirs = _deltas(reference_redis.port, CASES[name])
    differ = [f"{a[0]}: yizhan {a[1:]} redis-server {b[1:]}" for a, b in zip(ours, theirs) if a != b]
    assert not differ, "counters differ from redis-server:\n" + "\n".join(differ)


def _mset_over_expired(port: int) -> tuple:
    """MSET over a key past its time (setKey's write lookup reclaims it first): the reply,
    expired_keys and the key events, in order."""
    with RawClient("127.0.0.1", port) as client, RawClient("127.0.0.1", port) as subscriber:
        client.call("FLUSHALL")
        client.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        client.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        try:
            subscriber.call("PSUBSCRIBE", "__keyevent@0__:*")
            subscriber.call("SUBSCRIBE", "end-of-events")
            client.call("SET", "e", "v", "PX", "1")
            time.sleep(0.02)
            client.call("CONFIG", "RESETSTAT")
            reply = client.call("MSET", "e", "w", "f", "x")
            stats = client.call("INFO", "stats")
            expired = [line for line in stats.split(b"\r\n") if line.startswith(b"expired_keys:")]
            client.call("PUBLISH", "end-of-events", "x")
            events = []
            while b"end-of-events" not in (message := subscriber.read_reply()):
                events.append(message)
            return reply, expired, events, client.call("MGET", "e", "f")
        finally:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")
            client.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_mset_reclaims_an_expired_key_as_redis(debug_servers):
    assert _mset_over_expired(debug_servers["yizhan"]) == _mset_over_expired(debug_servers["redis-server"])

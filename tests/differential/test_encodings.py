"""OBJECT ENCODING across Redis 7.0's compact-encoding thresholds, for every type, with the
defaults and after CONFIG SET of each threshold (and its old ziplist alias): the encoding a
value starts in, the write that converts it, that it never converts back, and what *STORE
commands, SPOP with a count and SORT make. Each case runs against yizhan and redis-server."""

import pytest
import redis

DEFAULTS = {"hash-max-listpack-entries": "512", "hash-max-listpack-value": "64", "set-max-intset-entries": "512",
            "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64", "list-max-listpack-size": "-2"}


def fields(n, start=0):
    return [x for i in range(start, start + n) for x in (f"f{i}", f"{i}")]


def members(n, start=0):
    return [f"m{i}" for i in range(start, start + n)]


def scored(n, start=0):
    return [x for i in range(start, start + n) for x in (f"{i}", f"m{i}")]


def enc(key):
    return ["OBJECT", "ENCODING", key]


CASES = {
    # -- hashes: hash-max-listpack-entries (512) / -value (64) ------------------------------------
    "hash-entries-default": [["HSET", "h", *fields(512)], enc("h"), ["HSET", "h", "f0", "again"], enc("h"),
                             ["HSET", "h", "extra", "1"], enc("h"), ["HDEL", "h", "extra", "f1", "f2"],
                             enc("h"), ["HLEN", "h"], ["HGET", "h", "f511"]],
    "hash-value-length": [["HSET", "a", "f", "v" * 64], enc("a"), ["HSET", "b", "f" * 64, "v"], enc("b"),
                          ["HSET", "a", "g", "v" * 65], enc("a"), ["HSET", "b", "f" * 65, "v"], enc("b"),
                          ["HSET", "c", "f", "1"], ["HSETNX", "c", "g", "v" * 65], enc("c"),
                          ["HSETNX", "c", "f", "v" * 65], ["~HGETALL", "c"]],
    "hash-config-set": [["CONFIG", "SET", "hash-max-listpack-entries", "2"], ["HSET", "h", *fields(2)], enc("h"),
                        ["HSET", "h", *fields(1, 2)], enc("h"), ["CONFIG", "SET", "hash-max-listpack-entries", "512"],
                        ["CONFIG", "SET", "hash-max-ziplist-value", "3"], ["HSET", "j", "abc", "xyz"], enc("j"),
                        ["HSET", "j", "k", "wxyz"], enc("j"), ["CONFIG", "GET", "hash-max-listpack-value"],
                        ["CONFIG", "SET", "hash-max-listpack-entries", "0"], ["HSET", "z", "a", "1"], enc("z")],
    "hash-binary-fields": [["HSET", "h", "\x00", "\x01", "\x02", "\x00\x02", "a\x00b", ""], enc("h"),
                           ["HGETALL", "h"], ["HGET", "h", "\x02"], ["HDEL", "h", "\x00"], ["HKEYS", "h"],
                           ["HVALS", "h"], ["HEXISTS", "h", "a\x00b"], ["HSTRLEN", "h", "\x02"]],
    # -- sets: set-max-intset-entries (512), intset only for canonical int64 members --------------
    "set-intset-entries": [["SADD", "s", *[str(i) for i in range(512)]], enc("s"), ["SADD", "s", "0"], enc("s"),
                           ["SADD", "s", "512"], enc("s"), ["SREM", "s", "512", "1", "2"], enc("s"), ["SCARD", "s"]],
    "set-intset-members": [["SADD", "a", "9223372036854775807", "-9223372036854775808"], enc("a"),
                           ["SADD", "b", "9223372036854775808"], enc("b"), ["SADD", "c", "007"], enc("c"),
                           ["SADD", "d", "-0"], enc("d"), ["SADD", "e", " 1"], enc("e"), ["SADD", "f", "1", "x"],
                           enc("f"), ["SREM", "f", "x"], enc("f"), ["SMEMBERS", "a"]],
    "set-config-set": [["CONFIG", "SET", "set-max-intset-entries", "3"], ["SADD", "s", "1", "2", "3"], enc("s"),
                       ["SADD", "s", "4"], enc("s"), ["SADD", "t", "1", "2", "3", "4"], enc("t")],
    "set-store-results": [["SADD", "a", "1", "2", "3"], ["SADD", "b", "3", "4", "x"],
                          ["SUNIONSTORE", "u", "a", "b"], enc("u"), ["SINTERSTORE", "i", "a", "b"], enc("i"),
                          ["SDIFFSTORE", "d", "a", "b"], enc("d"), ["SDIFFSTORE", "e", "b", "a"], enc("e"),
                          ["SMOVE", "b", "n", "4"], enc("n"), ["SMOVE", "b", "n", "x"], enc("n")],
    "set-spop-count": [["SADD", "s", *[str(i) for i in range(20)], "x"], ["SREM", "s", "x"], enc("s"),
                       ["?SPOP", "s", "15"], enc("s"), ["SCARD", "s"]],
    # -- sorted sets: zset-max-listpack-entries (128) / -value (64) -------------------------------
    "zset-entries-default": [["ZADD", "z", *scored(128)], enc("z"), ["ZADD", "z", "5", "m0"], enc("z"),
                             ["ZADD", "z", "1", "extra"], enc("z"), ["ZREM", "z", "extra", "m1"], enc("z"),
                             ["ZCARD", "z"], ["ZRANGE", "z", "0", "3", "WITHSCORES"]],
    "zset-value-length": [["ZADD", "a", "1", "m" * 64], enc("a"), ["ZADD", "a", "2", "m" * 65], enc("a"),
                          ["ZINCRBY", "b", "1", "m" * 65], enc("b")],
    "zset-config-set": [["CONFIG", "SET", "zset-max-listpack-entries", "2"], ["ZADD", "z", *scored(2)], enc("z"),
                        ["ZADD", "z", *scored(1, 2)], enc("z"), ["CONFIG", "SET", "zset-max-ziplist-value", "2"],
                        ["CONFIG", "SET", "zset-max-listpack-entries", "128"], ["ZADD", "y", "1", "ab"], enc("y"),
                        ["ZADD", "y", "1", "abc"], enc("y"), ["CONFIG", "GET", "zset-max-listpack-value"]],
    "zset-store-results": [["ZADD", "big", *scored(200)], ["ZADD", "small", "1", "a", "2", "b"],
                           ["ZUNIONSTORE", "u", "1", "small"], enc("u"), ["ZUNIONSTORE", "v", "1", "big"], enc("v"),
                           ["ZRANGESTORE", "r", "big", "0", "9"], enc("r"), ["ZINTERSTORE", "i", "2", "big", "small"],
                           ["EXISTS", "i"], ["ZDIFFSTORE", "d", "1", "big"], enc("d"), ["ZRANGE", "r", "0", "-1"]],
    "zset-negative-zero": [["ZADD", "lp", "-0", "a"], ["ZSCORE", "lp", "a"], ["ZADD", "sk", "-0", "m" * 65],
                           ["ZSCORE", "sk", "m" * 65], enc("lp"), enc("sk"), ["ZINCRBY", "lp", "-0", "a"],
                           ["ZSCORE", "lp", "a"]],
    "zset-listpack-ranges": [["ZADD", "z", "1", "a", "1", "b", "2", "c", "3", "\x00d", "-1.5", "e", "inf", "f"],
                             ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGEBYSCORE", "z", "(1", "3"],
                             ["ZREVRANGE", "z", "1", "3"], ["ZRANK", "z", "c"], ["ZREVRANK", "z", "\x00d"],
                             ["ZREMRANGEBYRANK", "z", "1", "2"], ["ZRANGE", "z", "0", "-1"], ["ZPOPMIN", "z"],
                             ["ZPOPMAX", "z", "2"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZMSCORE", "z", "c", "x"],
                             ["ZINCRBY", "z", "10", "c"], ["ZRANGEBYLEX", "z", "-", "+"], enc("z")],
    # -- lists: every list is a quicklist in 7.0, whatever list-max-listpack-size says ------------
    "list-quicklist": [["RPUSH", "l", "a"], enc("l"), ["RPUSH", "m", *members(1000)], enc("m"),
                       ["CONFIG", "SET", "list-max-listpack-size", "1"], ["RPUSH", "n", "a", "b"], enc("n"),
                       ["CONFIG", "SET", "list-max-ziplist-size", "-5"], ["LPUSH", "o", "x" * 100000], enc("o")],
    # -- strings: int, embstr up to 44 bytes, raw ---------------------------------------------------
    "string-encodings": [["SET", "a", "12345"], enc("a"), ["SET", "b", "9223372036854775807"], enc("b"),
                         ["SET", "c", "9223372036854775808"], enc("c"), ["SET", "d", "x" * 44], enc("d"),
                         ["SET", "e", "x" * 45], enc("e"), ["APPEND", "a", "6"], enc("a"), ["SET", "f", "-0"], enc("f"),
                         ["INCR", "g"], enc("g"), ["SETRANGE", "d", "0", "y"], enc("d"), ["SET", "h", "01"], enc("h")],
}


@pytest.fixture
def thresholds_restored(yizhan_server, reference_redis):
    """The servers are shared by the whole session: put the thresholds back after each case."""
    yield
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port)
        for name, value in DEFAULTS.items():
            client.config_set(name, value)
        client.close()


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, thresholds_restored, name, proto):
    differential.check(CASES[name], proto=proto)

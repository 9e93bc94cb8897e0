"""Differential cases for SORT and SORT_RO: lists, sets (intset and hashtable) and sorted sets;
numeric and ALPHA ordering, BY weights (keys and hash fields, "nosort"), GET patterns, LIMIT,
STORE; replies must equal redis-server 7.0's byte for byte, in RESP2 and RESP3.

A hashtable set walked without sorting ("BY nosort") comes in hash order: those replies are
compared as unordered collections ("~"). Everything that SORT really orders is compared exactly.
"""

import random

import pytest

_rng = random.Random(21)
NUMBERS = [str(_rng.randrange(-1000, 1000)) for _ in range(300)]
FLOATS = [repr(_rng.uniform(-1e6, 1e6)) for _ in range(200)]
WORDS = ["".join(_rng.choice("abcXYZ019_-") for _ in range(_rng.randrange(0, 8))) for _ in range(200)]
LIST = ["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5", "0", "-0.5"]
WEIGHTS = [["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_d", "1"], ["RPUSH", "l", "a", "b", "c", "d", "e"]]
HASHES = [["HSET", "h_a", "f", "30", "g", "ga"], ["HSET", "h_b", "f", "10", "g", "gb"],
          ["HSET", "h_c", "f", "20"], ["HSET", "h_d", "g", "gd"], ["RPUSH", "l", "a", "b", "c", "d", "e"]]
I64_MAX, I64_MIN = str(2**63 - 1), str(-(2**63))


def sort_all(*variants):
    return [["SORT", "l", *v] for v in variants]


CASES = {
    # -- numeric and ALPHA on lists -----------------------------------------------------------
    "list-numeric": [LIST, *sort_all([], ["DESC"], ["ASC"], ["DESC", "ASC"], ["ALPHA"], ["ALPHA", "DESC"]),
        ["SORT_RO", "l"], ["SORT_RO", "l", "DESC"]],
    "list-numeric-random": [["RPUSH", "l", *NUMBERS], *sort_all([], ["DESC"], ["LIMIT", "10", "20"],
        ["LIMIT", "250", "100", "DESC"], ["ALPHA"])],
    "list-floats": [["RPUSH", "l", *FLOATS], *sort_all([], ["DESC"], ["LIMIT", "0", "5"], ["ALPHA"])],
    "list-ties-broken-by-element": [["RPUSH", "l", "1.0", "1", "01", "1e0", "1.00", "+1", "0.1e1", "1"],
        *sort_all([], ["DESC"], ["LIMIT", "2", "3"])],
    "list-strtod-values": [["RPUSH", "l", " 5", "", "inf", "-inf", "0x10", "1e5", "+.5", "-0", "0",
        "1\x00abc", "\x00", "infinity", "  -1e3", "0x1p-1074", "0X1P3", "2.2250738585072014e-308"],
        *sort_all([], ["DESC"], ["ALPHA"])],
    "list-not-double": [["RPUSH", "l", "1", "a"], *sort_all([], ["ALPHA"], ["STORE", "d"], ["LIMIT", "0", "1"]),
        ["EXISTS", "d"], ["DEL", "l"], ["RPUSH", "l", "5 "], ["SORT", "l"], ["DEL", "l"], ["RPUSH", "l", "nan"],
        ["SORT", "l"], ["DEL", "l"], ["RPUSH", "l", "1e400"], ["SORT", "l"], ["DEL", "l"],
        ["RPUSH", "l", "1e-310"], ["SORT", "l"], ["DEL", "l"], ["RPUSH", "l", "4.9e-324"], ["SORT", "l"],
        ["DEL", "l"], ["RPUSH", "l", "0x1p-1075"], ["SORT", "l"], ["DEL", "l"], ["RPUSH", "l", "."],
        ["SORT", "l"], ["DEL", "l"], ["RPUSH", "l", "1e", "0x"], ["SORT", "l"], ["SORT", "l", "BY", "nosort"]],
    "list-alpha-words": [["RPUSH", "l", *WORDS], *sort_all(["ALPHA"], ["ALPHA", "DESC"],
        ["ALPHA", "LIMIT", "50", "10"], ["ALPHA", "STORE", "d"]), ["LRANGE", "d", "0", "-1"]],
    "list-alpha-nul-bytes": [["RPUSH", "l", "a\x00b", "a", "a\x00a", "b", "\x00z", "", "a\x00"],
        *sort_all(["ALPHA"], ["ALPHA", "DESC"], ["ALPHA", "STORE", "d"]), ["LRANGE", "d", "0", "-1"],
        ["SORT", "l", "ALPHA", "DESC", "STORE", "d"], ["LRANGE", "d", "0", "-1"]],
    # -- LIMIT ---------------------------------------------------------------------------
    "limit": [LIST, *sort_all(["LIMIT", "0", "2"], ["LIMIT", "2", "10"], ["LIMIT", "-1", "2"],
        ["LIMIT", "1", "-1"], ["LIMIT", "7", "1"], ["LIMIT", "8", "1"], ["LIMIT", "100", "1"],
        ["LIMIT", "0", "0"], ["LIMIT", "3", "0"], ["LIMIT", "1", "-5"], ["LIMIT", I64_MAX, I64_MAX],
        ["LIMIT", I64_MIN, I64_MAX], ["LIMIT", "2", I64_MIN], ["LIMIT", "2", "3", "DESC"],
        ["LIMIT", "1", "2", "LIMIT", "3", "2"])],
    "limit-errors": [LIST, *sort_all(["LIMIT", "1"], ["LIMIT"], ["LIMIT", "a", "1"], ["LIMIT", "1", "b"],
        ["LIMIT", "1.5", "2"], ["LIMIT", I64_MAX + "0", "1"], ["LIMIT", "x", "1", "FOO"],
        ["FOO", "LIMIT", "x", "1"], ["LIMIT", " 1", "2"])],
    "limit-nosort-list": [LIST, *sort_all(["BY", "nosort"], ["BY", "nosort", "DESC"],
        ["BY", "nosort", "LIMIT", "2", "3"], ["BY", "nosort", "LIMIT", "2", "3", "DESC"],
        ["BY", "nosort", "LIMIT", "0", "0"], ["BY", "nosort", "LIMIT", "9", "3"],
        ["BY", "nosort", "LIMIT", "-3", "-1", "DESC"], ["BY", "nosort", "LIMIT", "7", "10", "DESC"],
        ["BY", "nosort", "GET", "#", "LIMIT", "1", "1"])],
    # -- BY and GET ------------------------------------------------------------------------
    "by-weight-keys": [*WEIGHTS, *sort_all(["BY", "w_*"], ["BY", "w_*", "DESC"], ["BY", "w_*", "GET", "#"],
        ["BY", "w_*", "GET", "w_*", "GET", "#"], ["BY", "w_*", "ALPHA"], ["BY", "w_*", "ALPHA", "DESC"],
        ["BY", "w_*", "LIMIT", "1", "2"], ["BY", "w_*", "LIMIT", "1", "2", "DESC"],
        ["BY", "*_w"], ["BY", "w_*", "STORE", "d"]), ["LRANGE", "d", "0", "-1"]],
    "by-weight-not-double": [*WEIGHTS, ["SET", "w_e", "oops"], ["SORT", "l", "BY", "w_*"],
        ["SORT", "l", "BY", "w_*", "ALPHA"], ["SET", "w_e", "1e999"], ["SORT", "l", "BY", "w_*"],
        ["SET", "w_e", "-7"], ["SORT", "l", "BY", "w_*"], ["RPUSH", "w_a", "x"], ["SORT", "l", "BY", "w_*"]],
    "by-wrong-type-weights": [["RPUSH", "l", "a", "b", "c"], ["RPUSH", "w_a", "5"], ["SADD", "w_b", "1"],
        ["SET", "w_c", "-1"], ["SORT", "l", "BY", "w_*"], ["SORT", "l", "BY", "w_*", "GET", "w_*"],
        ["SORT", "l", "BY", "w_*->f"]],
    "by-hash-fields": [*HASHES, *sort_all(["BY", "h_*->f"], ["BY", "h_*->f", "DESC"],
        ["BY", "h_*->f", "GET", "#", "GET", "h_*->g", "GET", "h_*->f"], ["BY", "h_*->g", "ALPHA"],
        ["BY", "h_*->g", "ALPHA", "DESC", "GET", "h_*->g"], ["BY", "h_*->nosuch"], ["BY", "h_*->"],
        ["BY", "nosort", "GET", "h_*->f", "GET", "h_*->"], ["GET", "h_*->f", "STORE", "d"]),
        ["LRANGE", "d", "0", "-1"], ["HSET", "h_b", "f", "x"], ["SORT", "l", "BY", "h_*->f"]],
    "get-patterns": [["RPUSH", "l", "1", "2", "3"], ["SET", "v1", "one"], ["SET", "v3", "three"],
        ["SET", "v2->x", "arrow"], ["SET", "x", "fixed"], ["SET", "1v", "pre"], ["HSET", "hv1", "a->b", "deep"],
        ["SET", "#", "hash-key"],
        *sort_all(["GET", "v*"], ["GET", "#"], ["GET", "x"], ["GET", "*v"], ["GET", "v*->x"], ["GET", "v*->"],
            ["GET", "x->*"], ["GET", "hv*->a->b"], ["GET", "#", "GET", "v*", "GET", "nosuch*"],
            ["GET", "v*", "DESC"], ["GET", "v*\x00zz"], ["GET", "#\x00zz"], ["GET", "\x00v*"],
            ["GET", "v*", "GET", "#", "LIMIT", "1", "1"], ["GET", "*", "ALPHA"])],
    "by-constant-pattern": [*WEIGHTS, *sort_all(["BY", "nosort"], ["BY", "w_a"], ["BY", "w_\x00*"],
        ["BY", "nosort", "BY", "w_*"], ["BY", "w_*", "BY", "nosort"], ["BY", "nosort", "ALPHA"],
        ["BY", "", "DESC"])],
    "by-limit-partial-sort": [["RPUSH", "l", *(f"e{i}" for i in range(120))],
        *(["SET", f"w_e{i}", str(_rng.randrange(10))] for i in range(0, 120, 3)),
        *sort_all(["BY", "w_*", "LIMIT", "10", "20"], ["BY", "w_*", "LIMIT", "0", "7", "DESC"],
            ["BY", "w_*", "ALPHA", "LIMIT", "5", "30"], ["BY", "w_*", "ALPHA", "LIMIT", "100", "30", "DESC"],
            ["BY", "nosuch_*", "ALPHA", "LIMIT", "3", "9"], ["BY", "nosuch_*", "ALPHA", "LIMIT", "0", "6"],
            ["BY", "nosuch_*", "LIMIT", "50", "6", "DESC"], ["BY", "w_*", "ALPHA"], ["BY", "w_*"])],
    "by-limit-small-vectors": [["RPUSH", "l", *"gfedcba"], ["MSET", "w_a", "1", "w_c", "1", "w_e", "0"],
        *sort_all(*(["BY", "w_*", "ALPHA", "LIMIT", str(s), str(n)] for s in range(0, 7, 2) for n in (1, 3)),
            ["BY", "w_*", "LIMIT", "1", "3", "DESC"])],
    "by-expired-weight": [*WEIGHTS, ["PEXPIRE", "w_a", "50"], ["SLEEP", "100"], ["SORT", "l", "BY", "w_*"],
        ["EXISTS", "w_a"]],
    # -- sets and sorted sets --------------------------------------------------------------
    "set-intset": [["SADD", "s", "5", "-3", "10", "0", "7"], ["SORT", "s"], ["SORT", "s", "DESC"],
        ["SORT", "s", "BY", "nosort"], ["SORT", "s", "BY", "nosort", "DESC"], ["SORT", "s", "ALPHA"],
        ["SORT", "s", "BY", "nosort", "LIMIT", "1", "2"], ["SORT", "s", "BY", "nosort", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT_RO", "s", "LIMIT", "1", "2"]],
    "set-hashtable": [["SADD", "s", *WORDS[:60]], ["SORT", "s", "ALPHA"], ["SORT", "s", "ALPHA", "DESC"],
        ["~SORT", "s", "BY", "nosort"], ["SORT", "s", "BY", "nosort", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "s", "BY", "nosort", "DESC", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "s", "BY", "nosort", "LIMIT", "5", "5", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "s"]],
    "set-numbers-hashtable": [["SADD", "s", *FLOATS[:80], "x"], ["SREM", "s", "x"], ["SORT", "s"],
        ["SORT", "s", "DESC", "LIMIT", "3", "4"], ["~SORT", "s", "BY", "nosort", "GET", "#"],
        ["SORT", "s", "STORE", "d"], ["LRANGE", "d", "0", "5"]],
    "zset": [["ZADD", "z", "3", "a", "1", "b", "2", "c", "2", "d", "-1", "e"], ["SORT", "z", "BY", "nosort"],
        ["SORT", "z", "BY", "nosort", "DESC"], ["SORT", "z", "BY", "nosort", "LIMIT", "1", "3"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "1", "3", "DESC"], ["SORT", "z", "BY", "nosort", "LIMIT", "4", "9"],
        ["SORT", "z", "BY", "nosort", "LIMIT", "0", "0"], ["SORT", "z", "ALPHA"], ["SORT", "z", "ALPHA", "DESC"],
        ["SORT", "z"], ["SORT", "z", "BY", "nosort", "STORE", "d"], ["LRANGE", "d", "0", "-1"],
        ["SORT_RO", "z", "BY", "nosort", "DESC", "LIMIT", "2", "2"]],
    "zset-numeric-members": [["ZADD", "z", "1", "30", "2", "-5", "3", "12", "4", "7"], ["SORT", "z"],
        ["SORT", "z", "DESC"], ["SORT", "z", "BY", "nosort"], ["MSET", "w_30", "1", "w_12", "3"],
        ["SORT", "z", "BY", "w_*"], ["SORT", "z", "BY", "w_*", "GET", "w_*", "GET", "#"]],
    "zset-becomes-skiplist": [["ZADD", "z", "1", "a"], ["OBJECT", "ENCODING", "z"], ["SORT_RO", "z", "ALPHA"],
        ["OBJECT", "ENCODING", "z"], ["ZADD", "y", "1", "a"], ["SORT", "y", "LIMIT", "0", "x"],
        ["OBJECT", "ENCODING", "y"], ["SORT", "y", "BY", "nosort"], ["OBJECT", "ENCODING", "y"]],
    "zset-large": [["ZADD", "z", *(x for i, w in enumerate(WORDS[:150]) for x in (str(i % 17), f"{w}{i}"))],
        ["SORT", "z", "BY", "nosort"], ["SORT", "z", "BY", "nosort", "LIMIT", "40", "25", "DESC"],
        ["SORT", "z", "ALPHA", "LIMIT", "10", "10"]],
    "set-by-weights": [["SADD", "s", *"qwertyuiopasdfghjklz"], *(["SET", f"w_{c}", str(i % 4)] for i, c in
        enumerate("qwertyuiopasdfghjklz")), ["SORT", "s", "BY", "w_*"], ["SORT", "s", "BY", "w_*", "DESC"],
        ["SORT", "s", "BY", "w_*", "LIMIT", "3", "6", "GET", "w_*", "GET", "#"], ["SORT", "s", "BY", "w_*",
        "STORE", "d"], ["LRANGE", "d", "0", "-1"]],
    "zset-by-hash-field": [["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], *HASHES[:4],
        ["SORT", "z", "BY", "h_*->f", "GET", "#", "GET", "h_*->g"], ["SORT", "z", "BY", "h_*->f", "DESC"],
        ["SORT", "z", "BY", "h_*->f", "LIMIT", "1", "2"], ["SORT", "z", "BY", "h_*->g", "ALPHA", "GET", "h_*->g"]],
    # -- STORE ---------------------------------------------------------------------------
    "store": [LIST, ["SORT", "l", "STORE", "d"], ["TYPE", "d"], ["LRANGE", "d", "0", "-1"],
        ["OBJECT", "ENCODING", "d"], ["SET", "s", "x", "EX", "100"], ["SORT", "l", "DESC", "STORE", "s"],
        ["TTL", "s"], ["LRANGE", "s", "0", "-1"], ["SORT", "l", "STORE", "l"], ["LRANGE", "l", "0", "-1"],
        ["SORT", "l", "LIMIT", "0", "0", "STORE", "d"], ["EXISTS", "d"], ["SORT", "l", "LIMIT", "0", "0", "STORE", "d"],
        ["SORT", "nokey", "STORE", "l"], ["EXISTS", "l"], ["SORT", "l", "STORE"]],
    "store-overwrites-other-types": [LIST, ["SADD", "s", "x"], ["HSET", "h", "f", "v"], ["ZADD", "z", "1", "m"],
        ["SORT", "l", "STORE", "s"], ["SORT", "l", "LIMIT", "0", "2", "STORE", "h"], ["SORT", "l", "STORE", "z"],
        ["TYPE", "s"], ["TYPE", "h"], ["TYPE", "z"], ["LRANGE", "h", "0", "-1"], ["SORT", "nokey", "STORE", "s"],
        ["EXISTS", "s"], ["SORT", "l", "LIMIT", "5", "0", "STORE", "z"], ["EXISTS", "z"]],
    "store-get": [*HASHES, ["SORT", "l", "BY", "h_*->f", "GET", "#", "GET", "h_*->g", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "l", "GET", "nosuch*", "ALPHA", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "l", "GET", "nosuch*", "GET", "#", "ALPHA", "LIMIT", "1", "2",
        "STORE", "d"], ["LRANGE", "d", "0", "-1"], ["SORT", "l", "BY", "h_*->f", "STORE", "d", "STORE", "e"],
        ["EXISTS", "d"], ["LRANGE", "e", "0", "-1"]],
    "store-alpha-by-binary": [["RPUSH", "l", "a", "b", "c", "d"], ["SET", "w_a", "x\x00b"], ["SET", "w_b", "x\x00a"],
        ["SET", "w_c", "x"], ["SORT", "l", "BY", "w_*", "ALPHA"], ["SORT", "l", "BY", "w_*", "ALPHA", "STORE", "d"],
        ["LRANGE", "d", "0", "-1"], ["SORT", "l", "BY", "w_*", "ALPHA", "DESC"],
        ["SORT", "l", "BY", "w_*", "ALPHA", "DESC", "STORE", "d"], ["LRANGE", "d", "0", "-1"]],
    "sort-ro": [LIST, ["SORT_RO", "l", "STORE", "d"], ["SORT_RO", "l", "LIMIT", "1", "2", "STORE", "d"],
        ["SORT_RO", "l", "GET", "#", "ALPHA"], ["SORT_RO", "l", "BY", "nosort", "DESC"], ["SORT_RO"],
        ["SORT_RO", "nokey"], ["SORT_RO", "l", "BAD"], ["EXISTS", "d"]],
    # -- errors and oddities ----------------------------------------------------------------
    "syntax-errors": [LIST, *sort_all(["FOO"], ["BY"], ["GET"], ["STORE"], ["ALPHA", "FOO"], ["BY", "w_*", "x"],
        ["DESC", "LIMIT", "1"]), ["SORT"], ["SORT", "nokey", "FOO"], ["SET", "str", "x"], ["SORT", "str", "FOO"]],
    "wrongtype": [["SET", "str", "x"], ["HSET", "h", "f", "v"], ["SORT", "str"], ["SORT", "h", "ALPHA"],
        ["SORT_RO", "str"], ["SORT", "str", "STORE", "d"], ["SORT", "str", "LIMIT", "x", "1"],
        ["PFADD", "hll", "a"], ["SORT", "hll"], ["EXISTS", "d"]],
    "missing-key": [["SORT", "nokey"], ["SORT", "nokey", "ALPHA", "DESC", "LIMIT", "0", "10", "GET", "#"],
        ["SORT", "nokey", "BY", "nosort"], ["RPUSH", "d", "x"], ["SORT", "nokey", "STORE", "d"], ["EXISTS", "d"],
        ["SORT", "nokey", "GET", "a*", "GET", "#", "STORE", "d"]],
    "options-case-and-nul": [LIST, *sort_all(["desc"], ["Alpha", "Desc"], ["limit", "1", "2"],
        ["desc\x00junk"], ["by", "nosort"], ["DESC\x00", "ALPHA\x00x"], ["get", "#"]),
        ["SORT", "l", "store\x00x", "d"], ["LRANGE", "d", "0", "-1"]],
    "integers-list": [["RPUSH", "l", "100", "-3", "20", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "007", "1e3"], *sort_all([], ["DESC"], ["ALPHA"], ["ALPHA", "DESC"])],
    "multi-exec": [LIST, ["MULTI"], ["SORT", "l", "STORE", "d"], ["SORT", "d", "DESC"], ["SORT", "l", "FOO"],
        ["EXEC"], ["LRANGE", "d", "0", "-1"]],
    "many-elements": [["RPUSH", "l", *(str(_rng.randrange(10**6)) for _ in range(3000))],
        *sort_all(["LIMIT", "1000", "20"], ["DESC", "LIMIT", "0", "15"], ["ALPHA", "LIMIT", "2990", "20"]),
        ["SORT", "l", "STORE", "d"], ["LRANGE", "d", "1500", "1510"], ["LLEN", "d"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


def test_store_notifications_match_redis(yizhan_server, reference_redis):
    """SORT ... STORE fires "sortstore" (list class) and, when the result is empty and the
    destination existed, "del" (generic class), as Redis does."""
    import redis

    seen = []
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port)
        client.flushall()
        client.config_set("notify-keyspace-events", "KEA")
        pubsub = client.pubsub()
        try:
            pubsub.psubscribe("__key*__:*")
            assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
            client.rpush("l", "2", "1")
            client.sort("l", store="d")
            client.sort("nokey", store="d")
            client.sort("nokey", store="d")
            client.sort("l", store="d", start=5, num=1)
            events = []
            while (message := pubsub.get_message(timeout=0.5)) is not None:
                events.append((message["channel"], message["data"]))
            seen.append(events)
        finally:
            pubsub.close()
            client.config_set("notify-keyspace-events", "")
            client.close()
    assert seen[0] == seen[1]
    assert (b"__keyevent@0__:sortstore", b"d") in seen[1] and (b"__keyevent@0__:del", b"d") in seen[1]

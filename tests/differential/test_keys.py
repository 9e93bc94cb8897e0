"""Differential cases for the generic key commands and expiry: replies must equal redis-server
7.0's, byte for byte, in RESP2 and RESP3.

KEYS and SCAN list keys in hash order, which differs between the two servers: cases either make
the answer hold at most one key, or compare it unordered ("~"), and SCAN cases only use calls that
finish in one step (cursor 0), whose reply is then deterministic. Absolute expiry times are far
in the future (or the past), so EXPIRETIME and TTL replies do not depend on the clock.
"""

import random

import pytest

FUTURE_S = "32503680000"          # year 3000
FUTURE_MS = FUTURE_S + "000"
LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
BINARY = b"k\x00\xff\r\n*?[]\\"
GLOB_KEYS = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h-llo", "h]llo", "h^llo", "h\\llo",
             "H*llo", "h*llo", "h?llo", "h[llo"]
LFU_OFF = ["CONFIG", "SET", "maxmemory-policy", "noeviction"]
OTHER_TYPES = [["RPUSH", "l", "a", "b", "c"], ["HSET", "h", "f", "v", "g", "w"], ["SADD", "s", "1", "2", "3"],
               ["SADD", "s2", "x", "y"], ["ZADD", "z", "1", "a", "2", "b"]]


def _set_all(keys) -> list:
    return [["SET", key, "v"] for key in keys]


def _glob_scenarios() -> dict:
    """One case per pattern feature: the db holds GLOB_KEYS, KEYS answers unordered."""
    patterns = {
        "star": ["*", "h*", "*llo", "h*llo", "*e*", "**", "h**o", "*x*"],
        "question": ["h?llo", "h??llo", "?", "?????", "h?l?o"],
        "class": ["h[ae]llo", "h[a]llo", "h[ea-c]llo", "h[]llo", "h[]]llo"],
        "negated-class": ["h[^e]llo", "h[^a-z]llo", "h[^]llo", "[^h]*"],
        "range": ["h[a-e]llo", "h[e-a]llo", "h[x-x]llo", "h[a-]llo", "h[-a]llo", "h[\\]-a]llo"],
        "escape": ["h\\*llo", "h\\?llo", "h\\[llo", "h\\\\llo", "h[\\^]llo", "h\\ello", "\\h*"],
        "unterminated": ["h[", "h[a", "h[^", "h[a-", "h*[", "h\\", "[", "h[ae"],
        "case": ["H*", "HELLO", "h[A-Z]llo", "*LLO"],
    }
    return {f"keys-glob-{name}": _set_all(GLOB_KEYS) + [["~KEYS", p] for p in pats]
            for name, pats in patterns.items()}


def _random_glob_cases(seed: int, rounds: int) -> list:
    """Random patterns over the glob alphabet against one random key each (KEYS then answers
    [] or [key], in the same order on both servers)."""
    rng = random.Random(seed)
    alphabet = "ab*?[]^-\\"
    out = []
    for _ in range(rounds):
        key = "".join(rng.choice("ab[]^-\\*?") for _ in range(rng.randint(0, 6)))
        out.append(["FLUSHDB"])
        out.append(["SET", key, "v"])
        for _ in range(6):
            out.append(["KEYS", "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))])
    return out


CASES = {
    # -- DEL, UNLINK, EXISTS, TOUCH, TYPE ----------------------------------------------------
    "del": [["SET", "a", "1"], ["SET", "b", "2"], ["DEL", "a", "b", "c"], ["EXISTS", "a", "b"],
            ["DEL", "a"], ["DEL"], ["DBSIZE"]],
    "del-duplicates": [["SET", "a", "1"], ["DEL", "a", "a", "a"], ["DEL", "a", "a"]],
    "del-expired": [["SET", "a", "1", "PX", "10"], ["SLEEP", 40], ["DEL", "a"], ["DBSIZE"]],
    "unlink": [["SET", "a", "1"], ["SET", "b", "2"], ["UNLINK", "a", "b", "a", "zz"],
               ["EXISTS", "a", "b"], ["UNLINK"], ["UNLINK", "nokey"]],
    "exists": [["SET", "a", "1"], ["EXISTS", "a"], ["EXISTS", "a", "a", "a", "b"], ["EXISTS", "b"],
               ["EXISTS"], ["SET", "", "empty"], ["EXISTS", ""], ["EXISTS", BINARY],
               ["SET", BINARY, "x"], ["EXISTS", BINARY, BINARY]],
    "exists-expired": [["SET", "a", "1", "PX", "10"], ["SET", "b", "1", "EX", "100"], ["SLEEP", 40],
                       ["EXISTS", "a", "b"]],
    "touch": [["ALIGN_SECOND"], ["SET", "a", "1"], ["SET", "b", "1"], ["TOUCH", "a", "b", "c", "a"], ["TOUCH", "c"],
              ["TOUCH"], ["OBJECT", "IDLETIME", "a"]],
    "touch-expired": [["SET", "a", "1", "PX", "10"], ["SLEEP", 40], ["TOUCH", "a"]],
    "type": [["SET", "s", "v"], ["TYPE", "s"], ["TYPE", "nokey"], ["TYPE"], ["TYPE", "a", "b"],
             ["APPEND", "raw", "x"], ["SETRANGE", "raw", "5", "y"], ["TYPE", "raw"],
             ["SETBIT", "bits", "7", "1"], ["TYPE", "bits"], ["DEL", "s"], ["TYPE", "s"],
             ["SET", BINARY, "x"], ["TYPE", BINARY]],
    "type-expired": [["SET", "a", "1", "PX", "10"], ["SLEEP", 40], ["TYPE", "a"]],

    # -- KEYS ----------------------------------------------------------------------------
    "keys-empty-db": [["KEYS", "*"], ["KEYS", ""], ["KEYS", "a*"]],
    "keys-arity": [["KEYS"], ["KEYS", "a", "b"]],
    "keys-single": [["SET", "key", "v"], ["KEYS", "*"], ["KEYS", "k*"], ["KEYS", "key"],
                    ["KEYS", "ke"], ["KEYS", "*y"], ["KEYS", "*z"]],
    "keys-empty-key": [["SET", "", "v"], ["KEYS", ""], ["KEYS", "*"], ["KEYS", "**"], ["KEYS", "?"],
                       ["SET", "a", "v"], ["~KEYS", "*"], ["KEYS", "?"]],
    "keys-binary": [["SET", BINARY, "v"], ["SET", b"\x00", "v"], ["SET", b"\xff\xfe", "v"],
                    ["KEYS", b"k\x00*"], ["KEYS", b"?"], ["KEYS", b"\xff?"], ["KEYS", b"[\x00-\x01]"],
                    ["KEYS", b"*\\\\"], ["KEYS", b"k?\xff*"], ["~KEYS", "*"]],
    "keys-expired": [["SET", "a", "1", "PX", "10"], ["SET", "b", "1"], ["SLEEP", 40], ["KEYS", "*"],
                     ["KEYS", "a"]],
    "keys-pathological": [["SET", "a" * 3000, "v"], ["KEYS", "*a*a*a*a*a*a*a*a*a*a*a*b"],
                          ["KEYS", "a*" * 200 + "b"], ["KEYS", "*" * 500 + "a"],
                          ["KEYS", "*?" * 300]],
    **_glob_scenarios(),
    "keys-glob-random-1": _random_glob_cases(1, 40),
    "keys-glob-random-2": _random_glob_cases(2, 40),

    # -- SCAN ----------------------------------------------------------------------------
    "scan-arity-and-syntax": [["SCAN"], ["SCAN", "0", "COUNT"], ["SCAN", "0", "MATCH"],
                              ["SCAN", "0", "TYPE"], ["SCAN", "0", "FOO", "bar"], ["SCAN", "0", "FOO"],
                              ["SCAN", "0", "COUNT", "10", "MATCH"]],
    "scan-invalid-cursor": [["SCAN", "x"], ["SCAN", " 0"], ["SCAN", "0 "], ["SCAN", "1x"],
                            ["SCAN", "18446744073709551616"], ["SCAN", "99999999999999999999999"],
                            ["SCAN", "+"], ["SCAN", "-"], ["SCAN", "0x10"], ["SCAN", "1.5"],
                            ["SCAN", "x", "COUNT", "0"], ["SCAN", "\t1"]],
    "scan-cursor-forms": [["SCAN", ""], ["SCAN", "+0"], ["SCAN", "-0"], ["SCAN", "00"], ["SCAN", "-1"],
                          ["SCAN", "18446744073709551615"], ["SCAN", b"5\x00abc"], ["SCAN", b"\x00"],
                          ["SCAN", "+7"], ["SCAN", "-18446744073709551615"]],
    "scan-count": [["SCAN", "0", "COUNT", "0"], ["SCAN", "0", "COUNT", "-1"], ["SCAN", "0", "COUNT", "x"],
                   ["SCAN", "0", "COUNT", LLONG_MAX], ["SCAN", "0", "COUNT", "9223372036854775808"],
                   ["SCAN", "0", "COUNT", "1", "COUNT", "2"], ["SCAN", "0", "count", "01"]],
    "scan-single-key": [["SET", "k", "v"], ["SCAN", "0"], ["SCAN", "0", "MATCH", "k*"],
                        ["SCAN", "0", "MATCH", "x*"], ["SCAN", "0", "TYPE", "string"],
                        ["SCAN", "0", "TYPE", "STRING"], ["SCAN", "0", "TYPE", "list"],
                        ["SCAN", "0", "TYPE", "none"], ["SCAN", "0", "match", "*", "count", "5", "type", "string"]],
    "scan-small-db": _set_all(f"key:{i}" for i in range(7)) + [
        ["~SCAN", "0"], ["~SCAN", "0", "MATCH", "key:[0-3]"], ["~SCAN", "0", "COUNT", "1000"],
        ["~SCAN", "0", "TYPE", "string", "MATCH", "*5"]],
    "scan-medium-db-one-call": _set_all(f"k{i}" for i in range(40)) + [
        ["~SCAN", "0", "COUNT", "1000"], ["~SCAN", "0", "COUNT", "1000", "MATCH", "k1*"],
        ["~SCAN", "0", "COUNT", "1000", "TYPE", "hash"]],
    "scan-expired": [["SET", "a", "1", "PX", "10"], ["SET", "b", "1"], ["SLEEP", 40], ["SCAN", "0"],
                     ["SCAN", "0", "TYPE", "string"], ["DBSIZE"]],
    "nul-terminated-option-words": [["SET", "k", "v"], ["EXPIRE", "k", "100", b"nx\x00abc"],
                                    ["SCAN", "0", b"count\x00zz", "5"], ["COPY", "k", "k2", b"replace\x00"],
                                    ["COPY", "k", "k3", b"db\x00x", "1"], ["~SCAN", "0", "TYPE", b"string\x00x"],
                                    ["SCAN", "0", "MATCH", b"k\x00"], ["EXPIRE", "k", "1", b"\x00"]],
    "scan-binary": [["SET", BINARY, "v"], ["SCAN", "0", "MATCH", b"k\x00*"], ["SCAN", "0"]],

    # -- RANDOMKEY -----------------------------------------------------------------------
    "randomkey": [["RANDOMKEY"], ["SET", "only", "v"], ["RANDOMKEY"], ["RANDOMKEY", "x"],
                  ["DEL", "only"], ["RANDOMKEY"], ["SET", BINARY, "v"], ["RANDOMKEY"]],
    "randomkey-expired": [["SET", "a", "1", "PX", "10"], ["SET", "b", "1", "PX", "10"], ["SLEEP", 40],
                          ["RANDOMKEY"], ["SET", "c", "1"], ["SET", "d", "1", "PX", "10"],
                          ["SLEEP", 40], ["RANDOMKEY"], ["RANDOMKEY"]],

    # -- RENAME, RENAMENX ------------------------------------------------------------------
    "rename": [["RENAME", "a", "b"], ["SET", "a", "1"], ["RENAME", "a", "b"], ["GET", "a"], ["GET", "b"],
               ["SET", "c", "3"], ["RENAME", "b", "c"], ["GET", "c"], ["EXISTS", "b"], ["RENAME", "a"],
               ["RENAME", "a", "b", "c"]],
    "rename-same-key": [["RENAME", "nokey", "nokey"], ["SET", "a", "1", "EX", "100"], ["RENAME", "a", "a"],
                        ["TTL", "a"], ["RENAMENX", "a", "a"], ["RENAMENX", "nokey", "nokey"]],
    "rename-ttl": [["SET", "a", "1"], ["PEXPIREAT", "a", FUTURE_MS], ["RENAME", "a", "b"],
                   ["PEXPIRETIME", "b"], ["PEXPIRETIME", "a"], ["SET", "c", "x", "EX", "1000"],
                   ["RENAME", "b", "c"], ["PEXPIRETIME", "c"], ["SET", "d", "y"], ["SET", "e", "z", "EX", "1000"],
                   ["RENAME", "d", "e"], ["TTL", "e"]],
    "rename-expired": [["SET", "a", "1", "PX", "10"], ["SET", "b", "2", "PX", "10"], ["SLEEP", 40],
                       ["RENAME", "a", "c"], ["SET", "x", "1"], ["RENAME", "x", "b"], ["GET", "b"],
                       ["TTL", "b"]],
    "rename-binary": [["SET", BINARY, "v"], ["RENAME", BINARY, b"\x00"], ["GET", b"\x00"],
                      ["EXISTS", BINARY], ["RENAMENX", b"\x00", BINARY], ["GET", BINARY]],
    "renamenx": [["RENAMENX", "a", "b"], ["SET", "a", "1"], ["SET", "b", "2"], ["RENAMENX", "a", "b"],
                 ["GET", "b"], ["RENAMENX", "a", "c"], ["GET", "c"], ["EXISTS", "a"], ["RENAMENX", "a"],
                 ["RENAMENX", "c", "d", "e"]],
    "renamenx-ttl": [["SET", "a", "1"], ["EXPIREAT", "a", FUTURE_S], ["RENAMENX", "a", "b"],
                     ["EXPIRETIME", "b"], ["TTL", "a"]],
    "rename-keeps-object": [["SET", "a", "100"], ["RENAME", "a", "b"], ["OBJECT", "REFCOUNT", "b"],
                            ["OBJECT", "ENCODING", "b"], ["SETRANGE", "c", "0", "x"], ["RENAME", "c", "d"],
                            ["OBJECT", "ENCODING", "d"]],

    # -- MOVE ----------------------------------------------------------------------------
    "move": [["SET", "k", "v"], ["MOVE", "k", "1"], ["EXISTS", "k"], ["SELECT", "1"], ["GET", "k"],
             ["MOVE", "k", "0"], ["SELECT", "0"], ["GET", "k"], ["MOVE", "nokey", "1"]],
    "move-errors": [["SET", "k", "v"], ["MOVE", "k"], ["MOVE", "k", "0"], ["MOVE", "k", "16"],
                    ["MOVE", "k", "-1"], ["MOVE", "k", "x"], ["MOVE", "k", " 1"], ["MOVE", "k", "01"],
                    ["MOVE", "k", "2147483647"], ["MOVE", "k", "2147483648"], ["MOVE", "k", "-2147483649"],
                    ["MOVE", "k", LLONG_MAX], ["MOVE", "k", "9223372036854775808"], ["MOVE", "nokey", "0"],
                    ["MOVE", "nokey", "16"], ["MOVE", "k", "1", "2"]],
    "move-target-exists": [["SELECT", "2"], ["SET", "k", "there"], ["SELECT", "0"], ["SET", "k", "here"],
                           ["MOVE", "k", "2"], ["GET", "k"], ["SELECT", "2"], ["GET", "k"]],
    "move-ttl": [["SET", "k", "v"], ["PEXPIREAT", "k", FUTURE_MS], ["MOVE", "k", "3"], ["SELECT", "3"],
                 ["PEXPIRETIME", "k"], ["SET", "p", "v"], ["MOVE", "p", "0"], ["SELECT", "0"], ["TTL", "p"]],
    "move-expired": [["SELECT", "1"], ["SET", "k", "old", "PX", "10"], ["SELECT", "0"], ["SET", "k", "new"],
                     ["SLEEP", 40], ["MOVE", "k", "1"], ["SELECT", "1"], ["GET", "k"], ["SELECT", "0"],
                     ["SET", "e", "1", "PX", "10"], ["SLEEP", 40], ["MOVE", "e", "1"]],

    # -- COPY ----------------------------------------------------------------------------
    "copy": [["SET", "x", "1"], ["COPY", "x", "y"], ["GET", "y"], ["COPY", "x", "y"],
             ["SET", "x", "2"], ["COPY", "x", "y", "REPLACE"], ["GET", "y"], ["COPY", "nokey", "y"],
             ["COPY", "nokey", "y", "REPLACE"], ["GET", "y"]],
    "copy-errors": [["SET", "x", "1"], ["COPY", "x"], ["COPY", "x", "x"], ["COPY", "nokey", "nokey"],
                    ["COPY", "x", "y", "DB", "16"], ["COPY", "x", "y", "DB", "-1"], ["COPY", "x", "y", "DB", "x"],
                    ["COPY", "x", "y", "DB"], ["COPY", "x", "y", "FOO"], ["COPY", "x", "x", "DB", "0"],
                    ["COPY", "x", "y", "DB", "2147483648"], ["COPY", "nokey", "y", "DB", "99"],
                    ["COPY", "x", "x", "DB", "99"], ["COPY", "x", "x", "DB", "x"], ["COPY", "x", "y", "REPLACE", "FOO"],
                    ["COPY", "x", "y", "DB", "1", "DB"], ["EXISTS", "y"]],
    "copy-db": [["SET", "x", "v"], ["COPY", "x", "x", "DB", "1"], ["COPY", "x", "x", "DB", "1"],
                ["SET", "x", "w"], ["COPY", "x", "x", "db", "1", "replace"], ["SELECT", "1"], ["GET", "x"],
                ["SELECT", "0"], ["COPY", "x", "z", "DB", "1", "DB", "2"], ["SELECT", "2"], ["GET", "z"],
                ["SELECT", "1"], ["EXISTS", "z"], ["COPY", "x", "x", "DB", "0"], ["COPY", "x", "q", "DB", "0"]],
    "copy-ttl": [["SET", "x", "v"], ["PEXPIREAT", "x", FUTURE_MS], ["COPY", "x", "y"], ["PEXPIRETIME", "y"],
                 ["SET", "z", "persistent-source"], ["SET", "w", "old", "EX", "1000"], ["COPY", "z", "w", "REPLACE"],
                 ["TTL", "w"], ["COPY", "x", "x2", "DB", "4"], ["SELECT", "4"], ["PEXPIRETIME", "x2"]],
    "copy-is-deep": [["SET", "x", "abc"], ["COPY", "x", "y"], ["APPEND", "y", "def"], ["GET", "x"],
                     ["GET", "y"], ["SETRANGE", "x", "0", "Z"], ["COPY", "x", "z"], ["SETRANGE", "z", "1", "Q"],
                     ["GET", "x"], ["GET", "z"], ["OBJECT", "ENCODING", "z"]],
    "copy-expired": [["SET", "x", "v", "PX", "10"], ["SET", "y", "old", "PX", "10"], ["SET", "s", "src"],
                     ["SLEEP", 40], ["COPY", "x", "q"], ["COPY", "s", "y"], ["GET", "y"], ["TTL", "y"]],
    "copy-object": [["SET", "i", "123"], ["COPY", "i", "j"], ["OBJECT", "REFCOUNT", "i"],
                    ["OBJECT", "REFCOUNT", "j"], ["OBJECT", "ENCODING", "j"], ["SET", "e", "hello"],
                    ["COPY", "e", "f"], ["OBJECT", "ENCODING", "f"], ["SET", "r", "x" * 50], ["COPY", "r", "s"],
                    ["OBJECT", "ENCODING", "s"], ["SET", "big", "99999"], ["COPY", "big", "big2"],
                    ["OBJECT", "REFCOUNT", "big2"], ["INCR", "j"], ["OBJECT", "REFCOUNT", "j"]],

    # -- OBJECT --------------------------------------------------------------------------
    "object-help-and-errors": [["OBJECT", "HELP"], ["OBJECT", "help"], ["OBJECT"], ["OBJECT", "foo"],
                               ["OBJECT", "foo", "bar"], ["OBJECT", "ENCODING"], ["OBJECT", "ENCODING", "a", "b"],
                               ["OBJECT", "HELP", "x"], ["OBJECT", "FREQ"], ["OBJECT", "IDLETIME"],
                               ["OBJECT", "REFCOUNT", "a", "b"]],
    "object-missing-key": [["OBJECT", "ENCODING", "nokey"], ["OBJECT", "REFCOUNT", "nokey"],
                           ["OBJECT", "IDLETIME", "nokey"], ["OBJECT", "FREQ", "nokey"]],
    "object-encoding-strings": [
        ["SET", "e", ""], ["OBJECT", "ENCODING", "e"], ["SET", "e", "x" * 44], ["OBJECT", "ENCODING", "e"],
        ["SET", "e", "x" * 45], ["OBJECT", "ENCODING", "e"], ["SET", "e", LLONG_MAX], ["OBJECT", "ENCODING", "e"],
        ["SET", "e", LLONG_MIN], ["OBJECT", "ENCODING", "e"], ["SET", "e", "9223372036854775808"],
        ["OBJECT", "ENCODING", "e"], ["SET", "e", "-0"], ["OBJECT", "ENCODING", "e"], ["SET", "e", "01"],
        ["OBJECT", "ENCODING", "e"], ["SET", "e", "+1"], ["OBJECT", "ENCODING", "e"], ["SET", "e", " 1"],
        ["OBJECT", "ENCODING", "e"], ["SET", "e", "-1"], ["OBJECT", "ENCODING", "e"], ["SET", "e", "0"],
        ["OBJECT", "ENCODING", "e"], ["SET", "e", "1" * 21], ["OBJECT", "ENCODING", "e"],
        ["SET", "e", "1.5"], ["OBJECT", "ENCODING", "e"], ["SET", "e", BINARY], ["OBJECT", "ENCODING", "e"]],
    "object-encoding-modified": [
        ["SET", "k", "12"], ["APPEND", "k", "3"], ["OBJECT", "ENCODING", "k"], ["APPEND", "n", "3"],
        ["OBJECT", "ENCODING", "n"], ["APPEND", "m", "hello"], ["OBJECT", "ENCODING", "m"],
        ["SETRANGE", "r", "0", "5"], ["OBJECT", "ENCODING", "r"], ["SETBIT", "b", "1", "1"],
        ["OBJECT", "ENCODING", "b"], ["SET", "s", "100"], ["SETRANGE", "s", "0", "2"], ["OBJECT", "ENCODING", "s"],
        ["INCR", "s"], ["OBJECT", "ENCODING", "s"], ["SET", "g", "old"], ["GETSET", "g", "7"],
        ["OBJECT", "ENCODING", "g"], ["MSET", "m1", "7", "m2", "x"], ["OBJECT", "ENCODING", "m1"],
        ["OBJECT", "ENCODING", "m2"]],
    "object-refcount": [
        ["SET", "e", "0"], ["OBJECT", "REFCOUNT", "e"], ["SET", "e", "9999"], ["OBJECT", "REFCOUNT", "e"],
        ["SET", "e", "10000"], ["OBJECT", "REFCOUNT", "e"], ["SET", "e", "-1"], ["OBJECT", "REFCOUNT", "e"],
        ["SET", "e", "abc"], ["OBJECT", "REFCOUNT", "e"], ["INCR", "c"], ["OBJECT", "REFCOUNT", "c"],
        ["APPEND", "a", "5"], ["OBJECT", "REFCOUNT", "a"], ["APPEND", "a", "5"], ["OBJECT", "REFCOUNT", "a"],
        ["SET", "e", "01"], ["OBJECT", "REFCOUNT", "e"]],
    "object-idletime-and-freq": [["ALIGN_SECOND"], ["SET", "k", "v"], ["OBJECT", "IDLETIME", "k"], ["GET", "k"],
                                 ["OBJECT", "IDLETIME", "k"], ["OBJECT", "FREQ", "k"]],
    "object-lfu": [["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"], ["SET", "n", "v"],
                   ["OBJECT", "FREQ", "n"], ["OBJECT", "FREQ", "n"], ["GET", "n"], ["OBJECT", "FREQ", "n"],
                   ["SET", "m", "a"], ["SET", "m", "b"], ["OBJECT", "FREQ", "m"], ["OBJECT", "IDLETIME", "n"],
                   ["TYPE", "n"], ["EXISTS", "n"], ["TTL", "n"], ["OBJECT", "FREQ", "m"],
                   ["SET", "r", "v"], ["RENAME", "r", "r2"], ["OBJECT", "FREQ", "r2"],
                   ["SET", "c", "v"], ["COPY", "c", "c2"], ["OBJECT", "FREQ", "c2"], ["OBJECT", "FREQ", "c"],
                   ["OBJECT", "FREQ", "nokey"], ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
                   ["SET", "v", "x"], ["OBJECT", "FREQ", "v"], ["OBJECT", "IDLETIME", "v"], LFU_OFF,
                   ["OBJECT", "FREQ", "n"]],
    "object-lru-policy": [["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"], ["SET", "k", "5"],
                          ["OBJECT", "REFCOUNT", "k"], ["?OBJECT", "IDLETIME", "k"], ["OBJECT", "FREQ", "k"],
                          LFU_OFF],

    # -- the generic commands on every type ---------------------------------------------
    "other-types-type-and-scan": OTHER_TYPES + [
        ["TYPE", "l"], ["TYPE", "h"], ["TYPE", "s"], ["TYPE", "s2"], ["TYPE", "z"],
        ["SCAN", "0", "TYPE", "list"], ["SCAN", "0", "TYPE", "hash"], ["SCAN", "0", "TYPE", "zset"],
        ["SCAN", "0", "TYPE", "SET", "MATCH", "s2"], ["~SCAN", "0", "TYPE", "set"],
        ["~KEYS", "*"], ["EXISTS", "l", "h", "s", "z", "nokey"], ["TOUCH", "l", "h"]],
    "other-types-object": OTHER_TYPES + [
        ["OBJECT", "ENCODING", "l"], ["OBJECT", "ENCODING", "h"], ["OBJECT", "ENCODING", "s"],
        ["OBJECT", "ENCODING", "s2"], ["OBJECT", "ENCODING", "z"], ["OBJECT", "REFCOUNT", "l"],
        ["OBJECT", "REFCOUNT", "s"], ["?OBJECT", "IDLETIME", "h"], ["OBJECT", "FREQ", "z"]],
    "other-types-copy-is-deep": OTHER_TYPES + [
        ["COPY", "l", "l2"], ["RPUSH", "l2", "d"], ["LRANGE", "l", "0", "-1"], ["LRANGE", "l2", "0", "-1"],
        ["COPY", "h", "h2"], ["HSET", "h2", "f", "changed"], ["HGET", "h", "f"], ["HGET", "h2", "f"],
        ["COPY", "s", "s3"], ["SADD", "s3", "4"], ["SCARD", "s"], ["OBJECT", "ENCODING", "s3"],
        ["COPY", "s2", "s4"], ["SREM", "s4", "x"], ["SCARD", "s2"], ["COPY", "z", "z2"],
        ["ZADD", "z2", "5", "a"], ["ZSCORE", "z", "a"], ["ZSCORE", "z2", "a"],
        ["OBJECT", "ENCODING", "z2"], ["OBJECT", "ENCODING", "h2"]],
    "other-types-rename-move-expire": OTHER_TYPES + [
        ["RENAME", "l", "L"], ["LRANGE", "L", "0", "-1"], ["MOVE", "h", "3"], ["SELECT", "3"],
        ["HGETALL", "h"], ["TYPE", "h"], ["SELECT", "0"], ["EXPIRE", "z", "100"], ["TTL", "z"],
        ["PERSIST", "z"], ["TTL", "z"], ["PEXPIRE", "s", "10"], ["SLEEP", 40], ["EXISTS", "s"],
        ["TYPE", "s"], ["DEL", "L", "s2", "z", "nokey"], ["DBSIZE"]],
    "other-types-replace-across-types": OTHER_TYPES + [
        ["SET", "str", "v"], ["COPY", "l", "str"], ["COPY", "l", "str", "REPLACE"], ["TYPE", "str"],
        ["LRANGE", "str", "0", "-1"], ["RENAME", "s2", "str"], ["TYPE", "str"], ["RENAMENX", "h", "z"],
        ["TYPE", "z"], ["COPY", "z", "h", "DB", "5"], ["SELECT", "5"], ["TYPE", "h"]],

    # -- EXPIRE family --------------------------------------------------------------------
    "expire-basic": [["SET", "k", "v"], ["EXPIRE", "k", "100"], ["TTL", "k"], ["?PTTL", "k"],
                     ["PEXPIRE", "k", "200000"], ["TTL", "k"], ["EXPIRE", "nokey", "100"], ["GET", "k"]],
    "expire-arity": [["EXPIRE"], ["EXPIRE", "k"], ["PEXPIRE", "k"], ["EXPIREAT", "k"], ["PEXPIREAT", "k"],
                     ["TTL"], ["PTTL", "a", "b"], ["EXPIRETIME"], ["PEXPIRETIME", "a", "b"], ["PERSIST"],
                     ["PERSIST", "a", "b"]],
    "expire-not-integer": [["SET", "k", "v"], ["EXPIRE", "k", "x"], ["EXPIRE", "k", "1.5"], ["EXPIRE", "k", ""],
                           ["PEXPIRE", "k", " 1"], ["EXPIREAT", "k", "9223372036854775808"],
                           ["PEXPIREAT", "k", "-9223372036854775809"], ["TTL", "k"]],
    "expire-options": [["SET", "k", "v"], ["EXPIRE", "k", "100", "XX"], ["EXPIRE", "k", "100", "GT"],
                       ["TTL", "k"], ["EXPIRE", "k", "100", "LT"], ["TTL", "k"], ["EXPIRE", "k", "100", "NX"],
                       ["EXPIRE", "k", "200", "NX"], ["EXPIRE", "k", "50", "GT"], ["EXPIRE", "k", "200", "GT"],
                       ["TTL", "k"], ["EXPIRE", "k", "300", "LT"], ["EXPIRE", "k", "100", "LT"], ["TTL", "k"],
                       ["EXPIRE", "k", "150", "XX", "GT"], ["EXPIRE", "k", "120", "XX", "LT"], ["TTL", "k"],
                       ["EXPIRE", "k", "500", "xx"], ["EXPIRE", "k", "600", "gT"], ["TTL", "k"],
                       ["EXPIRE", "k", "10", "nx", "nx"], ["EXPIRE", "k", "10", "GT", "GT"], ["TTL", "k"]],
    "expire-options-no-ttl": [["SET", "k", "v"], ["PEXPIRE", "k", "100000", "NX"], ["PERSIST", "k"],
                              ["EXPIREAT", "k", FUTURE_S, "XX"], ["PEXPIREAT", "k", FUTURE_MS, "GT"],
                              ["EXPIREAT", "k", FUTURE_S, "LT"], ["EXPIRETIME", "k"],
                              ["EXPIRE", "nokey", "10", "NX"], ["EXPIRE", "nokey", "10", "XX"]],
    "expire-option-errors": [["SET", "k", "v"], ["EXPIRE", "k", "10", "NX", "XX"],
                             ["EXPIRE", "k", "10", "GT", "LT"], ["EXPIRE", "k", "10", "NX", "GT"],
                             ["EXPIRE", "k", "10", "LT", "NX"], ["EXPIRE", "k", "10", "XX", "GT", "LT"],
                             ["EXPIRE", "k", "10", "FOO"], ["EXPIRE", "nokey", "10", "FOO"],
                             ["EXPIRE", "k", "x", "FOO"], ["EXPIRE", "k", "x", "NX", "XX"],
                             ["PEXPIRE", "k", "10", "NX", "BAR"], ["EXPIREAT", "k", "1", "nx", "gt"],
                             ["PEXPIREAT", "k", "1", "lt", "gt"], ["EXPIRE", "k", "1", b"foo\x00bar"],
                             ["EXPIRE", "k", "1", "f\r\nx"], ["EXPIRE", "k", "1", ""], ["TTL", "k"]],
    "expire-overflow": [["SET", "k", "v"], ["EXPIRE", "k", LLONG_MAX], ["EXPIRE", "k", "9223372036854775"],
                        ["EXPIRE", "k", "9223372036854776"], ["EXPIRE", "k", LLONG_MIN],
                        ["EXPIRE", "k", "-9223372036854776"], ["PEXPIRE", "k", LLONG_MAX],
                        ["PEXPIRE", "k", "9223372036854775000"], ["EXPIREAT", "k", LLONG_MAX],
                        ["EXPIREAT", "k", "9223372036854776"], ["EXPIREAT", "nokey", LLONG_MAX],
                        ["PEXPIRE", "nokey", LLONG_MAX], ["TTL", "k"], ["EXPIRE", "k", "9223372036854"],
                        ["?TTL", "k"], ["PEXPIREAT", "k", LLONG_MAX], ["PEXPIRETIME", "k"],
                        ["EXPIRETIME", "k"], ["EXPIREAT", "k", "9223372036854775"], ["PEXPIRETIME", "k"],
                        ["EXPIRETIME", "k"]],
    "expire-negative-min": [["SET", "k", "v"], ["EXPIRE", "k", "-9223372036854775"], ["EXISTS", "k"],
                            ["SET", "k", "v"], ["PEXPIRE", "k", LLONG_MIN], ["EXISTS", "k"], ["SET", "k", "v"],
                            ["PEXPIREAT", "k", LLONG_MIN], ["EXISTS", "k"]],
    "expire-in-the-past-deletes": [["SET", "k", "v"], ["EXPIRE", "k", "-1"], ["EXISTS", "k"],
                                   ["SET", "k", "v"], ["EXPIRE", "k", "0"], ["EXISTS", "k"],
                                   ["SET", "k", "v"], ["PEXPIRE", "k", "0"], ["EXISTS", "k"],
                                   ["SET", "k", "v"], ["EXPIREAT", "k", "1"], ["EXISTS", "k"],
                                   ["SET", "k", "v"], ["PEXPIREAT", "k", "0"], ["EXISTS", "k"],
                                   ["SET", "k", "v"], ["EXPIREAT", "k", "-5"], ["DBSIZE"]],
    "expire-past-with-options": [["SET", "k", "v"], ["EXPIRE", "k", "-5", "GT"], ["EXISTS", "k"],
                                 ["EXPIRE", "k", "-5", "XX"], ["EXPIRE", "k", "-5", "LT"], ["EXISTS", "k"],
                                 ["EXPIRE", "k", "-5", "NX"], ["EXISTS", "k"], ["SET", "k", "v", "EX", "100"],
                                 ["EXPIRE", "k", "-5", "GT"], ["EXPIRE", "k", "-5", "LT"], ["EXISTS", "k"]],
    "expire-absolute": [["SET", "k", "v"], ["EXPIREAT", "k", FUTURE_S], ["EXPIRETIME", "k"],
                        ["PEXPIRETIME", "k"], ["TTL", "nokey"], ["PEXPIREAT", "k", "4000000000123"],
                        ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"], ["PEXPIREAT", "k", "4000000000499"],
                        ["EXPIRETIME", "k"], ["PEXPIREAT", "k", "4000000000500"], ["EXPIRETIME", "k"]],
    "expire-lazy": [["SET", "k", "v"], ["PEXPIRE", "k", "20"], ["SLEEP", 50], ["GET", "k"], ["EXISTS", "k"],
                    ["TTL", "k"], ["PTTL", "k"], ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"], ["PERSIST", "k"],
                    ["EXPIRE", "k", "10"]],
    "expire-set-clears-ttl": [["SET", "k", "v", "EX", "100"], ["SET", "k", "w"], ["TTL", "k"],
                              ["SET", "k", "x", "EX", "100"], ["SET", "k", "y", "KEEPTTL"], ["TTL", "k"],
                              ["DEL", "k"], ["SET", "k", "z"], ["TTL", "k"]],
    "ttl-rounding": [["SET", "k", "v"], ["PEXPIRE", "k", "400"], ["TTL", "k"], ["PEXPIRE", "k", "1400"],
                     ["TTL", "k"], ["PEXPIRE", "k", "2600"], ["TTL", "k"], ["PEXPIRE", "k", "100000"],
                     ["TTL", "k"]],
    "ttl-family": [["SET", "k", "v"], ["TTL", "k"], ["PTTL", "k"], ["EXPIRETIME", "k"], ["PEXPIRETIME", "k"],
                   ["TTL", "nokey"], ["PTTL", "nokey"], ["EXPIRETIME", "nokey"], ["PEXPIRETIME", "nokey"],
                   ["SET", BINARY, "v"], ["EXPIREAT", BINARY, FUTURE_S], ["EXPIRETIME", BINARY]],
    "persist": [["SET", "k", "v", "EX", "100"], ["PERSIST", "k"], ["PERSIST", "k"], ["TTL", "k"],
                ["PERSIST", "nokey"], ["SET", "e", "v", "PX", "10"], ["SLEEP", 40], ["PERSIST", "e"],
                ["EXISTS", "e"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)

"""Differential cases for the string commands: replies must equal redis-server 7.0's, byte for byte,
in RESP2 and RESP3. Expiry is observed through time (SLEEP) and absolute times in the past or far
future; which commands count as a change shows through WATCH, and which keyspace events they
send through a second, subscribed connection. WRONGTYPE needs a second data type (lists)."""

import random

import pytest

import yizhan.redis.commands  # noqa: F401  (fills the command table)
from yizhan.testing.raw import RawClient

FUTURE_S = "32503680000"          # year 3000
FUTURE_MS = FUTURE_S + "000"
LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
BINARY = b"a\r\nb\x00c\r\n\x00"
ONE_MB = "1048576"
DEFAULT_MAX_BULK = "536870912"


def _random_floats(seed: int, count: int) -> list[bytes]:
    """A deterministic mix of float spellings: plain decimals, exponents, long digit strings,
    hex floats, integers beyond 2**64."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        kind = rng.randrange(7)
        if kind == 0:
            out.append(repr(rng.uniform(-1e6, 1e6)).encode())
        elif kind == 1:
            out.append(b"%.*e" % (rng.randint(0, 25), rng.uniform(-10, 10) * 10.0 ** rng.randint(-25, 25)))
        elif kind == 2:
            out.append(b"%de%d" % (rng.randint(-999, 999), rng.randint(-4950, 4930)))
        elif kind == 3:
            out.append(b"0x%xp%d" % (rng.getrandbits(rng.randint(1, 80)), rng.randint(-200, 200)))
        elif kind == 4:
            out.append(b"%d.%0*d" % (rng.randint(-100, 100), rng.randint(1, 30), rng.getrandbits(64)))
        elif kind == 5:
            out.append(b"%d" % rng.randint(-(10 ** 25), 10 ** 25))
        else:
            out.append(b"0.%s" % b"".join(b"%d" % rng.randint(0, 9) for _ in range(rng.randint(1, 60))))
    return out


def _incrbyfloat_chain(seed: int, count: int) -> list:
    """Accumulate random increments on one key, and also add each to a fresh key."""
    steps = []
    for i, value in enumerate(_random_floats(seed, count)):
        steps.append(["INCRBYFLOAT", "acc", value])
        steps.append(["INCRBYFLOAT", f"fresh{i}", value])
        steps.append(["SET", "base", value])
        steps.append(["INCRBYFLOAT", "base", "0.1"])
    return steps


def _lcs_pairs(seed: int, count: int) -> list:
    rng = random.Random(seed)
    steps = []
    for _ in range(count):
        alphabet = rng.choice([b"ab", b"abc", b"acgt", bytes(range(256))])
        a = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        b = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        minlen = str(rng.randint(0, 4))
        steps += [["MSET", "a", a, "b", b], ["LCS", "a", "b"], ["LCS", "b", "a", "LEN"],
                  ["LCS", "a", "b", "IDX", "WITHMATCHLEN"], ["LCS", "a", "b", "IDX", "MINMATCHLEN", minlen]]
    return steps


CASES = {
    # -- SET and GET ---------------------------------------------------------------------------
    "set-get-basic": [["SET", "k", "v"], ["GET", "k"], ["GET", "missing"], ["SET", "k", ""], ["GET", "k"],
                      ["SET", "k", "12345"], ["GET", "k"], ["SET", "", "empty-key"], ["GET", ""]],
    "set-get-binary": [["SET", BINARY, BINARY], ["GET", BINARY], ["STRLEN", BINARY],
                       ["SET", "k", b"\x00"], ["GET", "k"], ["SET", "k", bytes(range(256))], ["GET", "k"]],
    "set-get-arity": [["SET"], ["SET", "k"], ["GET"], ["GET", "a", "b"]],
    "set-nx-xx": [["SET", "k", "v", "XX"], ["GET", "k"], ["SET", "k", "v", "NX"], ["SET", "k", "w", "NX"],
                  ["GET", "k"], ["SET", "k", "w", "XX"], ["GET", "k"], ["SET", "k", "x", "xx"],
                  ["SET", "k", "y", "nx"], ["GET", "k"]],
    "set-option-conflicts": [["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "XX", "NX"],
                             ["SET", "k", "v", "NX", "NX"], ["SET", "k", "v", "XX", "XX"],
                             ["SET", "k", "v", "EX", "10", "PX", "10"], ["SET", "k", "v", "EX", "10", "KEEPTTL"],
                             ["SET", "k", "v", "KEEPTTL", "EX", "10"], ["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
                             ["SET", "k", "v", "EXAT", "10", "PXAT", "10"], ["SET", "k", "v", "PX", "10", "EXAT", "10"],
                             ["SET", "k", "v", "EX", "100", "EX", "200"], ["SET", "k", "v", "PERSIST"],
                             ["SET", "k", "v", "BOGUS"], ["SET", "k", "v", "EX"], ["SET", "k", "v", "PXAT"],
                             ["SET", "k", "v", "EX", "abc", "BOGUS"], ["SET", "k", "v", "EX", "0", "NX", "XX"],
                             ["SET", "k", "v", "GET", "GET"], ["SET", "k", "v", "NXX"], ["GET", "k"]],
    "set-get-option": [["SET", "k", "v", "GET"], ["SET", "k", "w", "GET"], ["SET", "k", "x", "NX", "GET"],
                       ["GET", "k"], ["SET", "k2", "y", "XX", "GET"], ["GET", "k2"], ["SET", "k", "z", "XX", "GET"],
                       ["SET", "k3", "a", "NX", "GET"], ["GET", "k3"], ["SET", "k", BINARY, "get"],
                       ["SET", "k", "q", "GET", "EX", "100"], ["GET", "k"]],
    "set-expiry-values": [["SET", "k", "v", "EX", "100"], ["SET", "k", "v", "PX", "100000"],
                          ["SET", "k", "v", "EXAT", FUTURE_S], ["SET", "k", "v", "PXAT", FUTURE_MS],
                          ["GET", "k"], ["SET", "k", "v", "ex", "100", "nx"], ["SET", "k", "v", "px", "100", "xx", "get"],
                          ["SET", "k", "v", "EX", "0"], ["SET", "k", "v", "EX", "-1"], ["SET", "k", "v", "PX", "0"],
                          ["SET", "k", "v", "PXAT", "-5"], ["SET", "k", "v", "EXAT", "0"], ["SET", "k", "v", "EX", "1.5"],
                          ["SET", "k", "v", "EX", ""], ["SET", "k", "v", "EX", " 10"], ["SET", "k", "v", "EX", "010"],
                          ["SET", "k", "v", "EX", LLONG_MAX], ["SET", "k", "v", "EX", "9223372036854775"],
                          ["SET", "k", "v", "EX", "9223372036854776"], ["SET", "k", "v", "PX", LLONG_MAX],
                          ["SET", "k", "v", "PX", "9223372036854775808"], ["SET", "k", "v", "PXAT", LLONG_MAX],
                          ["GET", "k"], ["SET", "k", "v", "EXAT", "9223372036854775"], ["GET", "k"],
                          ["SET", "k", "v", "EXAT", "9223372036854776"], ["SET", "k", "v", "GET", "EX", "0"]],
    "set-expiry-in-the-past": [["SET", "k", "v", "EXAT", "1"], ["GET", "k"], ["SET", "k", "v", "PXAT", "1"],
                               ["GET", "k"], ["SET", "k", "v"], ["SET", "k", "w", "PXAT", "1", "GET"], ["GET", "k"],
                               ["SET", "k", "v"], ["SET", "k", "w", "EXAT", "1", "XX"], ["SET", "k", "x", "NX"],
                               ["GET", "k"]],
    "set-expiry-passes": [["SET", "plain", "v", "PX", "100"], ["SET", "kept", "v", "PX", "100"],
                          ["SET", "kept", "w", "KEEPTTL"], ["SET", "reset", "v", "PX", "100"], ["SET", "reset", "w"],
                          ["PSETEX", "ps", "100", "v"], ["SET", "nx", "v", "PX", "100"], ["SET", "nx", "w", "NX", "PX", "100000"],
                          ["GETSET", "gs", "v"], ["SET", "gs", "v", "PX", "100"], ["GETSET", "gs", "w"],
                          ["SET", "ms", "v", "PX", "100"], ["MSET", "ms", "w"],
                          ["SET", "ap", "v", "PX", "100"], ["APPEND", "ap", "x"],
                          ["SET", "sr", "v", "PX", "100"], ["SETRANGE", "sr", "0", "x"],
                          ["SET", "in", "1", "PX", "100"], ["INCR", "in"], ["INCRBY", "in", "5"], ["DECR", "in"],
                          ["SET", "fl", "1", "PX", "100"], ["INCRBYFLOAT", "fl", "1.5"],
                          ["SET", "ka", "v", "PX", "100"], ["SET", "ka", "v2", "KEEPTTL", "GET"],
                          ["SLEEP", 300],
                          ["GET", "plain"], ["GET", "kept"], ["GET", "reset"], ["GET", "ps"], ["GET", "nx"],
                          ["GET", "gs"], ["GET", "ms"], ["GET", "ap"], ["GET", "sr"], ["GET", "in"], ["GET", "fl"],
                          ["GET", "ka"], ["MGET", "plain", "kept", "reset", "gs", "ms"]],
    "set-nul-in-option": [["SET", "k", "v", b"NX\x00junk"], ["SET", "k", "w", b"nx\x00"], ["GET", "k"],
                          ["SET", "k", "w", b"GET\x00x"], ["SET", "k", "x", b"KEEPTTL\x00"], ["SET", "k", "v", b"\x00"],
                          ["GET", "k"]],
    # -- SETNX, SETEX, PSETEX, GETSET, GETDEL -------------------------------------------------
    "setnx": [["SETNX", "k", "v"], ["SETNX", "k", "w"], ["GET", "k"], ["SETNX", "e", ""], ["GET", "e"],
              ["SETNX", "k"], ["SETNX", "k", "v", "x"], ["SETNX"]],
    "setex": [["SETEX", "k", "100", "v"], ["GET", "k"], ["SETEX", "k", "0", "v"], ["SETEX", "k", "-5", "v"],
              ["SETEX", "k", "abc", "v"], ["SETEX", "k", "1.5", "v"], ["SETEX", "k", LLONG_MAX, "v"],
              ["SETEX", "k", "9223372036854775", "v"], ["SETEX", "k", "9223372036854775808", "v"],
              ["SETEX", "k", "100", BINARY], ["GET", "k"], ["SETEX", "k", "v"], ["SETEX", "k", "1", "v", "x"],
              ["SETEX"]],
    "psetex": [["PSETEX", "k", "100000", "v"], ["GET", "k"], ["PSETEX", "k", "0", "v"], ["PSETEX", "k", "-1", "v"],
               ["PSETEX", "k", "x", "v"], ["PSETEX", "k", LLONG_MAX, "v"], ["PSETEX", "k", "9223372036854775000", "v"],
               ["GET", "k"], ["PSETEX", "k", "v"], ["PSETEX", "k", "1", "v", "x"]],
    "getset": [["GETSET", "k", "v"], ["GETSET", "k", "w"], ["GET", "k"], ["GETSET", "k", ""], ["GETSET", "k", BINARY],
               ["GET", "k"], ["GETSET", "k"], ["GETSET", "k", "v", "x"], ["GETSET"]],
    "getdel": [["GETDEL", "k"], ["SET", "k", "v"], ["GETDEL", "k"], ["GET", "k"], ["GETDEL", "k"],
               ["SET", "k", ""], ["GETDEL", "k"], ["SET", "k", "v", "EXAT", "1"], ["GETDEL", "k"],
               ["GETDEL"], ["GETDEL", "k", "x"]],
    # -- GETEX -----------------------------------------------------------------------------------
    "getex-options": [["GETEX", "missing"], ["GETEX", "missing", "EX", "0"], ["GETEX", "missing", "EX", "abc"],
                      ["SET", "k", "v"], ["GETEX", "k"], ["GETEX", "k", "EX", "100"], ["GETEX", "k", "PX", "100000"],
                      ["GETEX", "k", "EXAT", FUTURE_S], ["GETEX", "k", "PXAT", FUTURE_MS], ["GETEX", "k", "PERSIST"],
                      ["GETEX", "k", "persist"], ["GETEX", "k", "ex", "10", "EX", "20"], ["GETEX", "k", "PERSIST", "PERSIST"],
                      ["GETEX", "k", "PXAT", LLONG_MAX], ["GET", "k"]],
    "getex-errors": [["SET", "k", "v"], ["GETEX", "k", "EX", "0"], ["GETEX", "k", "EX", "-1"], ["GETEX", "k", "PX", "0"],
                     ["GETEX", "k", "EXAT", "0"], ["GETEX", "k", "EX", "abc"], ["GETEX", "k", "EX", LLONG_MAX],
                     ["GETEX", "k", "PX", LLONG_MAX], ["GETEX", "k", "EX"], ["GETEX", "k", "NX"], ["GETEX", "k", "XX"],
                     ["GETEX", "k", "GET"], ["GETEX", "k", "KEEPTTL"], ["GETEX", "k", "EX", "10", "PERSIST"],
                     ["GETEX", "k", "PERSIST", "EX", "10"], ["GETEX", "k", "EX", "10", "PX", "10"],
                     ["GETEX", "k", "EXAT", "10", "PXAT", "10"], ["GETEX", "missing", "BOGUS"],
                     ["GETEX", "missing", "PERSIST", "EX", "1"], ["GETEX", "k", "EX", "abc", "BOGUS"],
                     ["GETEX"], ["GET", "k"]],
    "getex-expiry-passes": [["SET", "px", "v"], ["GETEX", "px", "PX", "100"], ["SET", "persist", "v", "PX", "100"],
                            ["GETEX", "persist", "PERSIST"], ["SET", "plain", "v", "PX", "100"], ["GETEX", "plain"],
                            ["SLEEP", 300], ["GET", "px"], ["GET", "persist"], ["GET", "plain"], ["GETEX", "plain"]],
    "getex-absolute-past": [["SET", "k", "v"], ["GETEX", "k", "EXAT", "1"], ["GET", "k"], ["SET", "k", BINARY],
                            ["GETEX", "k", "PXAT", "1"], ["GETEX", "k"], ["SETNX", "k", "again"], ["GET", "k"]],
    # -- MGET, MSET, MSETNX -----------------------------------------------------------------------
    "mget": [["MSET", "a", "1", "b", "", "c", BINARY], ["MGET", "a", "b", "c", "d"], ["MGET", "d"], ["MGET", "a", "a"],
             ["MGET"]],
    "mset": [["MSET", "a", "1", "b", "2"], ["MGET", "a", "b"], ["MSET", "a", "x", "a", "y"], ["GET", "a"],
             ["MSET", "a"], ["MSET", "a", "1", "b"], ["MSET", "a", "1", "b", "2", "c"], ["MSET"], ["GET", "a"],
             ["MSET", BINARY, BINARY], ["GET", BINARY]],
    "msetnx": [["MSETNX", "a", "1", "b", "2"], ["MGET", "a", "b"], ["MSETNX", "b", "3", "c", "4"], ["MGET", "b", "c"],
               ["MSETNX", "c", "5"], ["GET", "c"], ["MSETNX", "x", "1", "y"], ["MSETNX", "x"], ["MSETNX"],
               ["MSETNX", "d", "1", "d", "2"], ["GET", "d"], ["SET", "gone", "v", "PXAT", "1"],
               ["MSETNX", "gone", "back"], ["GET", "gone"]],
    # -- APPEND, STRLEN ---------------------------------------------------------------------------
    "append": [["APPEND", "k", ""], ["GET", "k"], ["APPEND", "k", "abc"], ["APPEND", "k", b"\r\n\x00"], ["GET", "k"],
               ["STRLEN", "k"], ["SET", "n", "10"], ["APPEND", "n", "5"], ["GET", "n"], ["INCR", "n"],
               ["APPEND", "n", "x"], ["INCR", "n"], ["APPEND", "k", ""], ["APPEND", "k"], ["APPEND", "k", "a", "b"],
               ["APPEND"]],
    "append-repeated": [["APPEND", "k", "x"]] * 20 + [["GET", "k"], ["SETRANGE", "k", "3", "yy"], ["APPEND", "k", "z"],
                                                    ["GET", "k"], ["GETRANGE", "k", "2", "5"]],
    "append-max-size": [["CONFIG", "SET", "proto-max-bulk-len", ONE_MB], ["SET", "k", "x" * 1048000],
                        ["APPEND", "k", "y" * 577], ["APPEND", "k", "y" * 576], ["APPEND", "k", "z"],
                        ["APPEND", "k", ""], ["STRLEN", "k"], ["GETRANGE", "k", "-3", "-1"],
                        ["CONFIG", "SET", "proto-max-bulk-len", DEFAULT_MAX_BULK]],
    "strlen": [["STRLEN", "missing"], ["SET", "k", ""], ["STRLEN", "k"], ["SET", "k", "12345"], ["STRLEN", "k"],
               ["SET", "k", "-1"], ["STRLEN", "k"], ["SET", "k", BINARY], ["STRLEN", "k"], ["STRLEN"],
               ["STRLEN", "k", "x"]],
    # -- GETRANGE, SUBSTR, SETRANGE ---------------------------------------------------------------
    "getrange": [["SET", "k", "This is a string"], ["GETRANGE", "k", "0", "3"], ["GETRANGE", "k", "-3", "-1"],
                 ["GETRANGE", "k", "0", "-1"], ["GETRANGE", "k", "10", "100"], ["GETRANGE", "k", "5", "3"],
                 ["GETRANGE", "k", "-1", "-5"], ["GETRANGE", "k", "0", "-100"], ["GETRANGE", "k", "-100", "-50"],
                 ["GETRANGE", "k", "-100", "2"], ["GETRANGE", "k", "100", "200"], ["GETRANGE", "k", "15", "15"],
                 ["GETRANGE", "k", "16", "16"], ["GETRANGE", "k", "-1", "-1"], ["GETRANGE", "k", "3", "-14"],
                 ["GETRANGE", "k", LLONG_MAX, LLONG_MIN], ["GETRANGE", "k", LLONG_MIN, LLONG_MAX],
                 ["GETRANGE", "k", "0", "9223372036854775808"], ["GETRANGE", "k", "a", "1"], ["GETRANGE", "k", "0", "b"],
                 ["GETRANGE", "k", "1.5", "2"], ["GETRANGE", "missing", "0", "-1"], ["GETRANGE", "missing", "x", "1"]],
    "getrange-empty-and-int": [["SET", "e", ""], ["GETRANGE", "e", "0", "-1"], ["GETRANGE", "e", "0", "0"],
                               ["GETRANGE", "e", "-1", "0"], ["SET", "n", "-12345"], ["GETRANGE", "n", "0", "2"],
                               ["GETRANGE", "n", "-2", "-1"], ["SET", "b", BINARY], ["GETRANGE", "b", "1", "4"]],
    "getrange-arity": [["GETRANGE", "k", "0"], ["GETRANGE", "k", "0", "1", "2"], ["GETRANGE"]],
    "substr": [["SET", "k", "Hello World"], ["SUBSTR", "k", "0", "4"], ["SUBSTR", "k", "-5", "-1"],
               ["SUBSTR", "k", "6", "3"], ["SUBSTR", "k", "0", "-100"], ["SUBSTR", "missing", "0", "1"],
               ["SUBSTR", "k", "x", "1"], ["SUBSTR", "k", "0"], ["SUBSTR", "k", "0", "1", "2"]],
    "setrange": [["SETRANGE", "k", "5", "abc"], ["GET", "k"], ["SETRANGE", "k", "0", "XY"], ["GET", "k"],
                 ["SETRANGE", "k", "8", "Z"], ["GET", "k"], ["SETRANGE", "k", "20", ""], ["GET", "k"],
                 ["SETRANGE", "k", "12", b"\r\n\x00"], ["GET", "k"], ["STRLEN", "k"],
                 ["SETRANGE", "missing", "5", ""], ["GET", "missing"], ["SETRANGE", "new", "0", "hello"], ["GET", "new"],
                 ["SET", "n", "12345"], ["SETRANGE", "n", "1", "X"], ["GET", "n"], ["SET", "n", "12345"],
                 ["SETRANGE", "n", "4", "9"], ["INCR", "n"]],
    "setrange-errors": [["SET", "k", "hello"], ["SETRANGE", "k", "-1", "x"], ["SETRANGE", "missing", "-1", ""],
                        ["SETRANGE", "k", "abc", "x"], ["SETRANGE", "k", "1.5", "x"], ["SETRANGE", "k", "", "x"],
                        ["SETRANGE", "k", "536870912", "x"], ["SETRANGE", "k", "536870911", "ab"],
                        ["SETRANGE", "missing", "536870912", "x"], ["SETRANGE", "k", "536870912", ""],
                        ["SETRANGE", "k", LLONG_MAX, "x"], ["SETRANGE", "k", "9223372036854775808", "x"],
                        ["SETRANGE", "missing", LLONG_MAX, ""], ["GET", "k"], ["GET", "missing"],
                        ["SETRANGE", "k", "0"], ["SETRANGE", "k", "0", "x", "y"], ["SETRANGE"]],
    "setrange-max-size": [["CONFIG", "SET", "proto-max-bulk-len", ONE_MB],
                          ["SETRANGE", "k", "1048575", "x"], ["STRLEN", "k"], ["SETRANGE", "k", "1048576", "x"],
                          ["SETRANGE", "k", "1048575", "xy"], ["SETRANGE", "k", "0", "abc"], ["GETRANGE", "k", "0", "5"],
                          ["SETRANGE", "k2", "1048576", "x"], ["GET", "k2"],
                          ["CONFIG", "SET", "proto-max-bulk-len", DEFAULT_MAX_BULK]],
    # -- INCR family ------------------------------------------------------------------------------
    "incr-decr": [["INCR", "k"], ["INCR", "k"], ["GET", "k"], ["DECR", "k"], ["INCRBY", "k", "10"],
                  ["DECRBY", "k", "5"], ["INCRBY", "k", "-6"], ["DECRBY", "k", "-3"], ["DECR", "neg"],
                  ["DECRBY", "neg", "10"], ["GET", "neg"], ["INCRBY", "zero", "0"], ["GET", "zero"], ["SET", "s", "0"],
                  ["INCR", "s"], ["SET", "s", "-1"], ["INCR", "s"], ["GET", "s"], ["SET", "s", "007"], ["INCR", "s"]],
    "incr-overflow": [["SET", "k", LLONG_MAX], ["INCR", "k"], ["INCRBY", "k", "0"], ["INCRBY", "k", "1"], ["DECR", "k"],
                      ["INCRBY", "k", "2"], ["SET", "k", LLONG_MIN], ["DECR", "k"], ["DECRBY", "k", "1"],
                      ["INCRBY", "k", "-1"], ["INCR", "k"], ["INCRBY", "k", LLONG_MAX], ["INCRBY", "k", LLONG_MAX],
                      ["DECRBY", "x", LLONG_MIN], ["INCRBY", "x", LLONG_MIN], ["DECRBY", "x", LLONG_MAX],
                      ["INCRBY", "x", "9223372036854775808"], ["DECRBY", "x", "-9223372036854775809"], ["GET", "x"],
                      ["SET", "m", "1"], ["DECRBY", "m", LLONG_MIN], ["GET", "m"]],
    "incr-not-integer": [["SET", "k", "abc"], ["INCR", "k"], ["SET", "k", " 1"], ["INCR", "k"], ["SET", "k", "1 "],
                         ["DECR", "k"], ["SET", "k", "+1"], ["INCR", "k"], ["SET", "k", "01"], ["INCR", "k"],
                         ["SET", "k", "-0"], ["INCR", "k"], ["SET", "k", "1.5"], ["INCRBY", "k", "1"], ["SET", "k", ""],
                         ["INCR", "k"], ["SET", "k", "9223372036854775808"], ["INCR", "k"], ["SET", "k", b"1\x00"],
                         ["INCR", "k"], ["SET", "k", "1e3"], ["INCR", "k"], ["SET", "k", "5"], ["INCRBY", "k", "abc"],
                         ["INCRBY", "k", "1.5"], ["INCRBY", "k", ""], ["DECRBY", "k", " 1"], ["INCRBY", "k", "+1"],
                         ["DECRBY", "k", "0x10"], ["GET", "k"], ["INCRBY", "missing", "x"], ["GET", "missing"]],
    "incr-arity": [["INCR"], ["INCR", "a", "b"], ["DECR"], ["DECR", "a", "b"], ["INCRBY", "k"],
                   ["INCRBY", "k", "1", "2"], ["DECRBY", "k"], ["DECRBY", "k", "1", "2"], ["INCRBYFLOAT", "k"],
                   ["INCRBYFLOAT", "k", "1", "2"], ["INCRBYFLOAT"]],
    # -- INCRBYFLOAT ------------------------------------------------------------------------------
    "incrbyfloat-basic": [["INCRBYFLOAT", "k", "10.5"], ["INCRBYFLOAT", "k", "0.1"], ["GET", "k"],
                          ["INCRBYFLOAT", "k", "-5"], ["SET", "k", "5.0e3"], ["INCRBYFLOAT", "k", "2.0e2"],
                          ["INCRBYFLOAT", "k", "-1.5"], ["SET", "k", "3.0e3"], ["INCRBYFLOAT", "k", "2.0e-3"],
                          ["GET", "k"], ["INCRBYFLOAT", "i", "5.0"], ["INCR", "i"], ["INCRBYFLOAT", "i", "1.5"],
                          ["INCR", "i"], ["SET", "n", "17"], ["INCRBYFLOAT", "n", "0.25"], ["INCRBYFLOAT", "n", "-17.25"],
                          ["GET", "n"], ["INCRBYFLOAT", "z", "0"], ["INCRBYFLOAT", "z", "-0"], ["SET", "z", "-0"],
                          ["INCRBYFLOAT", "z", "-0"]],
    "incrbyfloat-errors": [["SET", "k", "abc"], ["INCRBYFLOAT", "k", "1"], ["SET", "k", "1"],
                           ["INCRBYFLOAT", "k", "abc"], ["INCRBYFLOAT", "k", "1.5.5"], ["INCRBYFLOAT", "k", " 1"],
                           ["INCRBYFLOAT", "k", "1 "], ["INCRBYFLOAT", "k", ""], ["INCRBYFLOAT", "k", "nan"],
                           ["INCRBYFLOAT", "k", "NaN"], ["INCRBYFLOAT", "k", "inf"], ["INCRBYFLOAT", "k", "-inf"],
                           ["INCRBYFLOAT", "k", "+Infinity"], ["INCRBYFLOAT", "k", "infinit"], ["INCRBYFLOAT", "k", "1e"],
                           ["INCRBYFLOAT", "k", "0x"], ["INCRBYFLOAT", "k", "1_0"], ["INCRBYFLOAT", "k", "."],
                           ["INCRBYFLOAT", "k", "-"], ["INCRBYFLOAT", "k", b"1\x00"], ["INCRBYFLOAT", "k", b"\x00"],
                           ["INCRBYFLOAT", "k", "\t1"], ["INCRBYFLOAT", "k", "1e5000"], ["INCRBYFLOAT", "k", "-1e5000"],
                           ["INCRBYFLOAT", "k", "1e-5000"], ["INCRBYFLOAT", "k", "1e99999999999999999999"],
                           ["INCRBYFLOAT", "k", "1" * 5120], ["INCRBYFLOAT", "k", "1" * 5119], ["GET", "k"],
                           ["SET", "k", "inf"], ["INCRBYFLOAT", "k", "1"], ["SET", "k", "1e4932"],
                           ["INCRBYFLOAT", "k", "1e4932"], ["INCRBYFLOAT", "k", "-1e4932"], ["GET", "k"],
                           ["SET", "k", " 1"], ["INCRBYFLOAT", "k", "1"], ["SET", "k", "1.5.5"], ["INCRBYFLOAT", "k", "1"],
                           ["SET", "k", "nan"], ["INCRBYFLOAT", "k", "1"], ["INCRBYFLOAT", "missing", "x"],
                           ["GET", "missing"]],
    "incrbyfloat-formatting": [["INCRBYFLOAT", "a", "0.1"], ["INCRBYFLOAT", "a", "0.2"], ["INCRBYFLOAT", "b", "1e-20"],
                               ["INCRBYFLOAT", "c", "-1e-20"], ["INCRBYFLOAT", "d", "0.000003814697265625"],
                               ["INCRBYFLOAT", "d2", "0.000003814697265625"], ["INCRBYFLOAT", "d2", "0.000003814697265625"],
                               ["INCRBYFLOAT", "e", "123456789012345678901234567890"],
                               ["INCRBYFLOAT", "f", "1.23456789012345678901"], ["INCRBYFLOAT", "g", "3.14159265358979323846"],
                               ["INCRBYFLOAT", "h", "1e30"], ["INCRBYFLOAT", "i", "1e4000"], ["INCRBYFLOAT", "i", "1"],
                               ["INCRBYFLOAT", "j", "0x1p-3"], ["INCRBYFLOAT", "j", "0X1.8P1"], ["INCRBYFLOAT", "j", "0x.8"],
                               ["INCRBYFLOAT", "l", "5."], ["INCRBYFLOAT", "l", ".5"], ["INCRBYFLOAT", "l", "1E3"],
                               ["INCRBYFLOAT", "l", "+2.5"], ["INCRBYFLOAT", "m", "0e999999"], ["INCRBYFLOAT", "m", "1e-4940"],
                               ["INCRBYFLOAT", "n", "0x1p16383"], ["INCRBYFLOAT", "n", "0x1p16383"],
                               ["SET", "o", LLONG_MAX], ["INCRBYFLOAT", "o", "1"], ["SET", "p", "18446744073709551615"],
                               ["INCRBYFLOAT", "p", "1"], ["SET", "q", "18446744073709551617"], ["INCRBYFLOAT", "q", "0"],
                               ["SET", "r", "18446744073709551619"], ["INCRBYFLOAT", "r", "0"],
                               ["INCRBYFLOAT", "s", "0.1"], ["INCRBYFLOAT", "s", "-0.1"], ["INCRBYFLOAT", "t", "-7.5"],
                               ["INCRBYFLOAT", "u", "99999999999999999.5"], ["INCRBYFLOAT", "v", "0.99999999999999999999"],
                               ["INCRBYFLOAT", "w", "-0.000000000000000005"], ["INCRBYFLOAT", "w2", "0.000000000000000015"],
                               ["INCRBYFLOAT", "x", "0x1.fffffffffffffffep16383"], ["INCRBYFLOAT", "y", "0x1p-16445"],
                               ["INCRBYFLOAT", "y", "0x1p-16446"], ["INCRBYFLOAT", "y2", "0x1.8p-16446"]],
    "incrbyfloat-random-a": _incrbyfloat_chain(1, 40),
    "incrbyfloat-random-b": _incrbyfloat_chain(2, 40),
    # -- LCS -----------------------------------------------------------------------------------
    "lcs-basic": [["MSET", "key1", "ohmytext", "key2", "mynewtext"], ["LCS", "key1", "key2"],
                  ["LCS", "key1", "key2", "LEN"], ["LCS", "key1", "key2", "IDX"],
                  ["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
                  ["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"], ["LCS", "key1", "key2", "idx", "minmatchlen", "0"],
                  ["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"], ["LCS", "key1", "key2", "WITHMATCHLEN"],
                  ["LCS", "key1", "key2", "MINMATCHLEN", "3"], ["LCS", "key1", "key2", "LEN", "WITHMATCHLEN"],
                  ["LCS", "key1", "key2", "IDX", "IDX", "MINMATCHLEN", "9", "MINMATCHLEN", "2"],
                  ["LCS", "key2", "key1", "IDX", "WITHMATCHLEN"], ["LCS", "key1", "key1", "IDX", "WITHMATCHLEN"]],
    "lcs-missing-and-empty": [["LCS", "a", "b"], ["LCS", "a", "b", "LEN"], ["LCS", "a", "b", "IDX"],
                              ["LCS", "a", "b", "IDX", "WITHMATCHLEN"], ["SET", "a", "xyz"], ["LCS", "a", "b"],
                              ["LCS", "b", "a", "IDX"], ["SET", "b", ""], ["LCS", "a", "b", "LEN"],
                              ["SET", "b", "abc"], ["LCS", "a", "b", "IDX"]],
    "lcs-errors": [["MSET", "a", "abc", "b", "abd"], ["LCS", "a", "b", "LEN", "IDX"], ["LCS", "a", "b", "IDX", "LEN"],
                   ["LCS", "a", "b", "MINMATCHLEN"], ["LCS", "a", "b", "MINMATCHLEN", "x"],
                   ["LCS", "a", "b", "MINMATCHLEN", "1.5"], ["LCS", "a", "b", "BOGUS"],
                   ["LCS", "a", "b", "LEN", "BOGUS", "IDX"], ["LCS", "a", "b", "MINMATCHLEN", "x", "LEN", "IDX"],
                   ["LCS", "a", "b", b"len\x00junk"], ["LCS", "a"], ["LCS"]],
    "lcs-binary": [["MSET", "a", BINARY + b"hello\r\n", "b", b"\x00\r\nhel\x00lo"], ["LCS", "a", "b"],
                   ["LCS", "a", "b", "IDX", "WITHMATCHLEN"], ["LCS", "b", "a", "LEN"],
                   ["MSET", "c", bytes(range(256)), "d", bytes(range(255, -1, -1))], ["LCS", "c", "d"],
                   ["LCS", "c", "d", "IDX"], ["APPEND", "c", "tail"], ["APPEND", "d", "tail"],
                   ["LCS", "c", "d", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"]],
    "lcs-memory-limit": [["CONFIG", "SET", "proto-max-bulk-len", ONE_MB], ["MSET", "a", "x" * 600, "b", "x" * 600],
                         ["LCS", "a", "b", "LEN"], ["LCS", "a", "b"], ["SET", "b", "x" * 435], ["LCS", "a", "b", "LEN"],
                         ["SET", "b", "x" * 436], ["LCS", "a", "b", "LEN"], ["LCS", "a", "b", "IDX", "LEN"],
                         ["CONFIG", "SET", "proto-max-bulk-len", DEFAULT_MAX_BULK]],
    "lcs-long": [["MSET", "a", ("abcde" * 400)[:1999], "b", ("aebdc" * 400)[:1998]], ["LCS", "a", "b", "LEN"],
                 ["LCS", "a", "b", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"], ["LCS", "b", "a"]],
    "lcs-random": _lcs_pairs(7, 30),
    "lcs-random-long": _lcs_pairs(8, 6) + [["APPEND", "a", "x" * 300], ["APPEND", "b", "yx" * 150],
                                           ["LCS", "a", "b", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"]],
    # -- more edge cases ---------------------------------------------------------------------
    "set-overwrites-any-value": [["INCRBYFLOAT", "k", "1.5"], ["SET", "k", "plain"], ["GET", "k"],
                                 ["APPEND", "k", "x"], ["SET", "k", "10", "XX", "GET"], ["INCR", "k"],
                                 ["SETRANGE", "k", "0", "9"], ["SET", "k", "v", "GET"]],
    "set-expiry-options-case": [["SET", "k", "v", "exat", FUTURE_S], ["SET", "k", "v", "pXaT", FUTURE_MS, "Get"],
                                ["SET", "k", "v", "Ex", "5", "kEePtTl"], ["SET", "k", "v", "keepttl", "XX"],
                                ["GET", "k"], ["SET", "k", "v", "EXATT", "5"], ["SET", "k", "v", "E", "5"]],
    "setnx-after-expiry": [["SET", "k", "v", "PXAT", "1"], ["SETNX", "k", "w"], ["GET", "k"],
                           ["SET", "j", "v", "EXAT", "1"], ["SET", "j", "w", "XX"], ["GET", "j"],
                           ["SET", "j", "w", "NX", "GET"], ["GET", "j"]],
    "getex-case-and-int": [["SET", "n", "42"], ["GETEX", "n", "ex", "100"], ["GETEX", "n", "Px", "100000"],
                           ["GETEX", "n", "eXaT", FUTURE_S], ["GETEX", "n", "pxat", FUTURE_MS], ["GETEX", "n", "PeRsIsT"],
                           ["INCR", "n"], ["GETEX", "n", b"PERSIST\x00"]],
    "mget-after-expiry-and-edits": [["MSET", "a", "1", "b", "2"], ["SET", "c", "3", "PXAT", "1"], ["APPEND", "a", "0"],
                                    ["SETRANGE", "b", "3", "x"], ["MGET", "a", "b", "c", "a"], ["INCRBYFLOAT", "a", "0.5"],
                                    ["MGET", "c", "b", "a"]],
    "setrange-binary-patch": [["SET", "k", BINARY], ["SETRANGE", "k", "2", b"\x00\x00"], ["GET", "k"],
                              ["SETRANGE", "k", "30", BINARY], ["GET", "k"], ["STRLEN", "k"],
                              ["GETRANGE", "k", "-9", "-1"], ["SETRANGE", "k", "0", "x" * 100], ["STRLEN", "k"]],
    "append-then-incr-family": [["APPEND", "n", "1"], ["APPEND", "n", "2"], ["INCR", "n"], ["APPEND", "n", "0"],
                                ["INCRBY", "n", "5"], ["APPEND", "n", ".5"], ["INCRBYFLOAT", "n", "1"],
                                ["APPEND", "n", "e2"], ["INCRBYFLOAT", "n", "1"], ["INCR", "n"], ["GET", "n"]],
    "decrby-forms": [["DECRBY", "k", "0"], ["DECRBY", "k", "-0"], ["DECRBY", "k", "1"], ["DECRBY", "k", LLONG_MAX],
                     ["DECRBY", "k", "1"], ["DECRBY", "k", "-1"], ["GET", "k"], ["SET", "k", LLONG_MAX],
                     ["DECRBY", "k", "-1"], ["DECRBY", "k", "9223372036854775808"]],
    "incrbyfloat-hex-and-exponents": [["INCRBYFLOAT", "a", "0x10"], ["INCRBYFLOAT", "a", "0xA.8"],
                                      ["INCRBYFLOAT", "a", "-0x1p-1"], ["INCRBYFLOAT", "a", "0x1P+2"],
                                      ["INCRBYFLOAT", "a", "0x1p"], ["INCRBYFLOAT", "a", "0x1.p1"],
                                      ["INCRBYFLOAT", "a", "0xg"], ["INCRBYFLOAT", "a", "0x1p-99999999999"],
                                      ["INCRBYFLOAT", "a", "0x0p99999999999"], ["INCRBYFLOAT", "a", "1e+2"],
                                      ["INCRBYFLOAT", "a", "1e-2"], ["INCRBYFLOAT", "a", "1.e1"], ["INCRBYFLOAT", "a", "1e1.5"],
                                      ["INCRBYFLOAT", "a", "0000000000000000000000000001.5"], ["INCRBYFLOAT", "a", "1e0000000000000000002"],
                                      ["INCRBYFLOAT", "a", "-1e-0000000000000000002"], ["GET", "a"]],
    "incrbyfloat-large-magnitudes": [["INCRBYFLOAT", "a", "1e4931"], ["INCRBYFLOAT", "a", "-1e4931"], ["GET", "a"],
                                     ["INCRBYFLOAT", "b", "1e308"], ["INCRBYFLOAT", "b", "1e308"], ["GET", "b"],
                                     ["SET", "c", "1e308"], ["INCRBYFLOAT", "c", "1e309"],
                                     ["INCRBYFLOAT", "d", "1.18973149535723176502e+4932"],
                                     ["INCRBYFLOAT", "d", "1e4913"], ["INCRBYFLOAT", "d", "1e4912"],
                                     ["INCRBYFLOAT", "e", "1.18973149535723176508e+4932"],
                                     ["INCRBYFLOAT", "f", "-1e-4950"], ["INCRBYFLOAT", "f", "1e-4952"]],
    "incrbyfloat-random-c": _incrbyfloat_chain(3, 40),
    "strlen-after-edits": [["SETRANGE", "k", "10", "x"], ["STRLEN", "k"], ["APPEND", "k", "yz"], ["STRLEN", "k"],
                           ["INCRBYFLOAT", "f", "0.125"], ["STRLEN", "f"], ["INCRBY", "i", "-123"], ["STRLEN", "i"],
                           ["GETDEL", "k"], ["STRLEN", "k"]],
}


def _watch(setup: list, command: list) -> list:
    """Whether `command` (run by the watching client itself) counts as a change to WATCHed k:
    EXEC answers a null array if it does."""
    return [*setup, ["WATCH", "k"], command, ["MULTI"], ["PING"], ["EXEC"]]


WATCH_CASES = {
    "watch-set-family": (_watch([["SET", "k", "v"]], ["SET", "k", "w"])
                         + _watch([["SET", "k", "v"]], ["SET", "k", "w", "NX"])
                         + _watch([], ["SET", "k", "w", "XX"])
                         + _watch([], ["SETNX", "k", "w"])
                         + _watch([], ["SETNX", "k", "w"])
                         + _watch([], ["SETEX", "k", "100", "w"])
                         + _watch([], ["PSETEX", "k", "0", "w"])
                         + _watch([], ["GETSET", "k", "x"])
                         + _watch([], ["MSET", "a", "1", "k", "2"])
                         + _watch([], ["MSETNX", "a", "1", "k", "2"])
                         + _watch([["GETDEL", "a"]], ["MSETNX", "b", "1", "k", "2"])),
    "watch-get-family": (_watch([["SET", "k", "v"]], ["GETEX", "k"])
                         + _watch([], ["GETEX", "k", "PERSIST"])
                         + _watch([], ["GETEX", "k", "PX", "100000"])
                         + _watch([], ["GETEX", "k", "PERSIST"])
                         + _watch([], ["GETEX", "k", "PXAT", "1"])
                         + _watch([], ["GETDEL", "k"])
                         + _watch([["SET", "k", "v"]], ["GETDEL", "k"])
                         + _watch([], ["GET", "k"]) + _watch([], ["MGET", "k"]) + _watch([], ["STRLEN", "k"])),
    "watch-edits-and-counters": (_watch([["SET", "k", "v"]], ["APPEND", "k", ""])
                                 + _watch([], ["APPEND", "k", "x"])
                                 + _watch([], ["SETRANGE", "k", "0", ""])
                                 + _watch([], ["SETRANGE", "k", "5", "y"])
                                 + _watch([], ["SETRANGE", "k", "-1", "y"])
                                 + _watch([], ["INCR", "k"])
                                 + _watch([["SET", "k", "1"]], ["INCRBY", "k", "0"])
                                 + _watch([], ["DECRBY", "k", LLONG_MIN])
                                 + _watch([], ["INCRBYFLOAT", "k", "0"])
                                 + _watch([], ["INCRBYFLOAT", "k", "x"])
                                 + _watch([], ["GETRANGE", "k", "0", "-1"])
                                 + _watch([], ["LCS", "k", "k"])),
    "multi-replies-are-snapshots": [["MULTI"], ["SET", "k", "abc"], ["APPEND", "k", "d"], ["GET", "k"],
                                    ["APPEND", "k", "e"], ["GET", "k"], ["SETRANGE", "k", "0", "X"],
                                    ["MGET", "k", "k"], ["GETEX", "k"], ["APPEND", "k", "f"],
                                    ["SET", "k", "new", "GET"],
                                    ["GETRANGE", "k", "0", "-1"], ["EXEC"]],
}
CASES.update(WATCH_CASES)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


# A key holding another type: every string command answers WRONGTYPE (after the argument errors
# Redis checks first), MGET answers nil, and the commands that overwrite replace the value.
WRONGTYPE_CASE = [
    ["LPUSH", "l", "a"], ["GET", "l"], ["SET", "l", "v", "GET"], ["SET", "l", "v", "NX", "GET"],
    ["SET", "l", "v", "GET", "EX", "0"], ["GETSET", "l", "v"], ["GETDEL", "l"], ["GETEX", "l"], ["GETEX", "l", "EX", "0"],
    ["GETEX", "l", "BAD"], ["MGET", "l", "k", "l"], ["MSETNX", "l", "x", "k", "y"], ["GET", "k"], ["APPEND", "l", "x"],
    ["STRLEN", "l"], ["GETRANGE", "l", "0", "1"], ["GETRANGE", "l", "x", "1"], ["SUBSTR", "l", "0", "1"],
    ["SETRANGE", "l", "0", "x"], ["SETRANGE", "l", "-1", "x"], ["SETRANGE", "l", "0", ""], ["SETRANGE", "l", "x", "y"],
    ["INCR", "l"], ["DECR", "l"], ["INCRBY", "l", "x"], ["INCRBY", "l", "1"], ["DECRBY", "l", LLONG_MIN],
    ["DECRBY", "l", "1"], ["INCRBYFLOAT", "l", "1"], ["INCRBYFLOAT", "l", "x"], ["SET", "k", "v"], ["LCS", "l", "k"],
    ["LCS", "k", "l", "LEN"], ["LCS", "k", "l", "BAD"], ["LCS", "k", "missing"], ["SETNX", "l", "v"], ["LLEN", "l"],
    ["SETEX", "l", "100", "v"], ["GET", "l"], ["LPUSH", "l2", "a"], ["SET", "l2", "v", "XX"], ["GET", "l2"],
    ["LPUSH", "l3", "a"], ["MSET", "l3", "v"], ["GET", "l3"], ["LPUSH", "l4", "a"], ["GETSET", "l4", "v"], ["GET", "l4"],
    ["LPUSH", "l5", "a"], ["PSETEX", "l5", "0", "v"], ["LLEN", "l5"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_wrongtype_matches_redis(differential, proto):
    differential.check(WRONGTYPE_CASE, proto=proto)


EVENT_CASES = {
    "set-family": [["SET", "k", "v"], ["SET", "k", "w", "NX"], ["SET", "k", "w", "XX", "EX", "100"],
                   ["SET", "k", "x", "KEEPTTL", "GET"], ["SET", "k", "y", "NX", "GET"], ["SETNX", "n", "1"],
                   ["SETNX", "n", "2"], ["SETEX", "e", "100", "v"], ["PSETEX", "e", "100000", "v"],
                   ["SETEX", "e", "0", "v"], ["GETSET", "k", "y"], ["MSET", "a", "1", "b", "2"],
                   ["MSETNX", "a", "1", "c", "2"], ["MSETNX", "c", "1", "d", "2"]],
    "get-family": [["SET", "k", "v"], ["GETEX", "k"], ["GETEX", "k", "PERSIST"], ["GETEX", "k", "EX", "100"],
                   ["GETEX", "k", "PERSIST"], ["GETEX", "k", "PXAT", FUTURE_MS], ["GETEX", "k", "PXAT", "1"],
                   ["SET", "k", "v"], ["GETDEL", "k"], ["GETDEL", "k"], ["GETEX", "missing", "EX", "10"],
                   ["GET", "k"], ["MGET", "k", "x"], ["STRLEN", "k"]],
    "edits-and-counters": [["APPEND", "s", "a"], ["APPEND", "s", "b"], ["APPEND", "s", ""], ["SETRANGE", "s", "0", ""],
                           ["SETRANGE", "s", "3", "x"], ["SETRANGE", "new", "2", "y"], ["SETRANGE", "s", "-1", "x"],
                           ["SETRANGE", "empty", "0", ""], ["INCR", "i"], ["DECR", "i"], ["INCRBY", "i", "5"],
                           ["DECRBY", "i", "2"], ["INCR", "s"], ["INCRBYFLOAT", "f", "1.5"], ["INCRBYFLOAT", "f", "x"],
                           ["GETRANGE", "s", "0", "1"], ["LCS", "s", "new"]],
}


def keyspace_events(port: int, commands: list) -> tuple[list, list]:
    """Run `commands` on one connection while another, subscribed to every keyspace event,
    records what arrives (up to a marker published at the end): (replies, events)."""
    with RawClient("127.0.0.1", port) as client, RawClient("127.0.0.1", port) as subscriber:
        client.call("FLUSHALL")
        client.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        try:
            subscriber.call("PSUBSCRIBE", "__key*__:*")
            subscriber.call("SUBSCRIBE", "end-of-events")
            replies = [client.call(*command) for command in commands]
            client.call("PUBLISH", "end-of-events", "x")
            events = []
            while True:
                message = subscriber.read_reply()
                if b"end-of-events" in message:
                    return replies, events
                events.append(message)
        finally:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.mark.parametrize("name", sorted(EVENT_CASES))
def test_keyspace_events_match_redis(differential, name):
    ours = keyspace_events(differential.ours_port, EVENT_CASES[name])
    theirs = keyspace_events(differential.theirs_port, EVENT_CASES[name])
    assert ours == theirs

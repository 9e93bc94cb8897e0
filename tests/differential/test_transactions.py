"""Differential cases for MULTI/EXEC/DISCARD/WATCH on one connection."""

import pytest

CASES = {
    "multi-exec": [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["GET", "a"], ["EXEC"], ["GET", "a"]],
    "exec-empty": [["MULTI"], ["EXEC"]],
    "exec-without-multi": [["EXEC"], ["DISCARD"]],
    "nested-multi": [["MULTI"], ["MULTI"], ["SET", "a", "1"], ["EXEC"]],
    "discard": [["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["GET", "a"], ["DISCARD"]],
    "queue-error-aborts": [["MULTI"], ["SET", "a", "1"], ["NOSUCH"], ["GET", "a"], ["EXEC"], ["GET", "a"]],
    "arity-error-aborts": [["MULTI"], ["SET", "a"], ["SET", "b", "2"], ["EXEC"], ["GET", "b"]],
    "runtime-error-only-that-command": [["SET", "s", "abc"], ["MULTI"], ["INCR", "s"], ["SET", "t", "1"],
                                        ["INCR", "t"], ["EXEC"], ["GET", "t"]],
    "watch-inside-multi": [["MULTI"], ["WATCH", "a"], ["SET", "a", "1"], ["EXEC"]],
    "watch-own-change-aborts": [["WATCH", "a"], ["SET", "a", "1"], ["MULTI"], ["GET", "a"], ["EXEC"]],
    "watch-untouched-runs": [["SET", "a", "1"], ["WATCH", "a"], ["MULTI"], ["INCR", "a"], ["EXEC"]],
    "unwatch": [["WATCH", "a"], ["SET", "a", "1"], ["UNWATCH"], ["MULTI"], ["GET", "a"], ["EXEC"]],
    "watch-flushdb-aborts": [["SET", "a", "1"], ["WATCH", "a"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"]],
    "watch-missing-key-then-created": [["WATCH", "nokey"], ["SET", "nokey", "x"], ["MULTI"], ["PING"],
                                       ["EXEC"]],
    "watch-expired-aborts": [["SET", "a", "1", "PX", "30"], ["WATCH", "a"], ["SLEEP", "60"], ["MULTI"],
                             ["PING"], ["EXEC"]],
    "watch-swapdb-aborts": [["SET", "a", "1"], ["WATCH", "a"], ["SWAPDB", "0", "1"], ["MULTI"], ["PING"],
                            ["EXEC"]],
    "multi-select": [["MULTI"], ["SELECT", "2"], ["SET", "k", "v"], ["EXEC"], ["GET", "k"], ["SELECT", "0"],
                     ["GET", "k"]],
    "multi-arity": [["MULTI", "x"], ["EXEC", "x"], ["DISCARD", "x"], ["WATCH"], ["UNWATCH", "x"]],
    "reset-clears-multi": [["MULTI"], ["SET", "a", "1"], ["RESET"], ["EXEC"]],
    "multi-ping-echo": [["MULTI"], ["PING"], ["ECHO", "x"], ["EXEC"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)

"""Differential cases for connection and server commands: replies must equal redis-server's."""

import pytest

CASES = {
    "ping": [["PING"], ["PING", "hello"], ["PING", "a", "b"]],
    "echo": [["ECHO", "x"], ["ECHO"], ["ECHO", "a", "b"], ["ECHO", ""]],
    "select": [["SELECT", "1"], ["SET", "k", "1"], ["SELECT", "0"], ["GET", "k"], ["SELECT", "16"],
               ["SELECT", "-1"], ["SELECT", "x"], ["SELECT", "1"], ["GET", "k"], ["SELECT"]],
    "unknown-command": [["NOSUCHCMD"], ["NOSUCHCMD", "a", "b c"], ["nosuch", "x" * 200, "y"]],
    "unknown-subcommand": [["CLIENT", "NOPE"], ["CONFIG", "NOPE", "x"], ["CLIENT"], ["CONFIG"]],
    "auth-without-password": [["AUTH", "x"], ["AUTH", "default", "x"], ["AUTH", "bob", "x"],
                              ["AUTH", "a", "b", "c"]],
    "hello-errors": [["HELLO", "4"], ["HELLO", "x"], ["HELLO", "2", "FOO"], ["HELLO", "2", "AUTH", "a"],
                     ["HELLO", "2", "SETNAME", "a b"]],
    "client-name": [["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "worker-1"], ["CLIENT", "GETNAME"],
                    ["CLIENT", "SETNAME", "bad name"], ["CLIENT", "SETNAME", ""], ["CLIENT", "GETNAME"],
                    ["CLIENT", "SETNAME"]],
    "client-kill-errors": [["CLIENT", "KILL", "1.2.3.4:5"], ["CLIENT", "KILL", "ID", "x"],
                           ["CLIENT", "KILL", "ID", "999999"], ["CLIENT", "KILL", "TYPE", "bogus"],
                           ["CLIENT", "KILL", "SKIPME", "maybe"], ["CLIENT", "KILL", "ID"]],
    "dbsize-flush": [["DBSIZE"], ["SET", "a", "1"], ["SET", "b", "2"], ["DBSIZE"], ["FLUSHDB", "ASYNC"],
                     ["DBSIZE"], ["SET", "a", "1"], ["FLUSHALL", "SYNC"], ["DBSIZE"], ["FLUSHDB", "BAD"],
                     ["FLUSHALL", "ASYNC", "SYNC"], ["DBSIZE", "x"]],
    "swapdb": [["SET", "a", "in0"], ["SWAPDB", "0", "1"], ["GET", "a"], ["SELECT", "1"], ["GET", "a"],
               ["SWAPDB", "0", "16"], ["SWAPDB", "x", "1"], ["SWAPDB", "1", "y"], ["SWAPDB", "1", "1"],
               ["SWAPDB", "0"]],
    "config": [["CONFIG", "GET", "maxmemory"], ["CONFIG", "GET", "appendonly"],
               ["CONFIG", "GET", "databases"], ["CONFIG", "SET", "nosuch", "1"],
               ["CONFIG", "SET", "maxmemory", "notanumber"], ["CONFIG", "SET", "databases", "4"],
               ["CONFIG", "SET", "appendfsync", "sometimes"], ["CONFIG", "SET", "maxmemory"],
               ["CONFIG", "GET", "nosuch*"], ["CONFIG", "SET", "maxmemory-policy", "bogus"],
               ["CONFIG", "SET", "hz", "abc"], ["CONFIG", "GET"]],
    "config-set-get": [["CONFIG", "SET", "maxmemory", "100mb"], ["CONFIG", "GET", "maxmemory"],
                       ["CONFIG", "SET", "maxmemory", "0"], ["CONFIG", "SET", "timeout", "0"],
                       ["CONFIG", "GET", "timeout"]],
    "time-shape": [["?TIME"], ["TIME", "x"]],
    "client-unblock": [["CLIENT", "UNBLOCK", "999999"], ["CLIENT", "UNBLOCK", "1", "foo"],
                       ["CLIENT", "UNBLOCK", "x"], ["CLIENT", "UNBLOCK", "1", "timeout", "extra"],
                       ["CLIENT", "UNBLOCK", "1", "ERROR"]],
    "info-keyspace": [["INFO", "keyspace"], ["SET", "a", "1"], ["SET", "b", "2"], ["SELECT", "2"],
                      ["SET", "c", "3"], ["INFO", "keyspace"], ["INFO", "KEYSPACE", "nosuchsection"],
                      ["INFO", "nosuchsection"], ["?INFO"], ["?INFO", "all"], ["?INFO", "server", "clients"]],
    "command-info": [["COMMAND", "INFO", "get"], ["COMMAND", "INFO", "echo", "dbsize", "nosuchcmd"],
                     ["COMMAND", "DOCS", "get"], ["COMMAND", "DOCS", "echo", "nosuchcmd"],
                     ["COMMAND", "NOPE"], ["COMMAND", "COUNT", "x"], ["COMMAND", "GETKEYS", "get", "k"],
                     ["COMMAND", "GETKEYS", "nosuch"], ["COMMAND", "GETKEYS", "ping"],
                     ["COMMAND", "GETKEYS", "get"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


# Parameters whose values differ by how the test servers were started, not by default.
STARTUP_SPECIFIC = {"bind", "port", "dir", "save", "appendonly", "logfile", "daemonize", "maxclients"}


def test_config_defaults_match_redis(differential):
    from yizhan.redis.params import PARAMS

    names = [p.name for p in PARAMS if p.name not in STARTUP_SPECIFIC]
    differential.check([["CONFIG", "GET", name] for name in names])

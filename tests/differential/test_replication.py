"""Differential cases for the replication commands' replies that do not depend on a live link:
REPLICAOF / PSYNC / REPLCONF / WAIT errors, WAIT without replicas, min-replicas-to-write
refusing writes (also inside MULTI), COMMAND INFO, the field names of INFO replication and the
shape of ROLE; and, on a pair of servers made replicas of a master that is not there, the
READONLY refusal, NOMASTERLINK, WAIT's refusal and the replica's INFO fields."""

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.differential import Differential
from yizhan.testing.reference import RedisReference, free_port

CASES = {
    "replicaof-errors": [["REPLICAOF", "127.0.0.1", "abc"], ["REPLICAOF", "127.0.0.1", "70000"],
                         ["REPLICAOF", "127.0.0.1", "-1"], ["REPLICAOF", "a"], ["SLAVEOF", "x", "y"],
                         ["REPLICAOF", "NO", "ONE"], ["REPLICAOF", "no", "one"]],
    "psync-replconf-errors": [["PSYNC", "a", "b"], ["PSYNC", "a"], ["REPLCONF", "foo", "bar"],
                              ["REPLCONF", "listening-port"], ["REPLCONF", "listening-port", "7777"],
                              ["REPLCONF", "capa", "eof", "capa", "psync2"], ["REPLCONF"]],
    "wait": [["WAIT", "0", "0"], ["WAIT", "1", "10"], ["WAIT", "-1", "0"], ["WAIT", "1", "-1"],
             ["WAIT", "x", "0"], ["WAIT", "1", "x"], ["MULTI"], ["WAIT", "1", "0"], ["EXEC"]],
    "min-replicas": [["CONFIG", "SET", "min-replicas-to-write", "1"], ["SET", "a", "b"], ["GET", "a"],
                     ["MULTI"], ["SET", "a", "b"], ["GET", "a"], ["EXEC"], ["MULTI"], ["GET", "a"], ["EXEC"],
                     ["CONFIG", "GET", "min-replicas-to-write"],
                     ["CONFIG", "GET", "min-slaves-max-lag"], ["CONFIG", "SET", "min-slaves-to-write", "0"], ["SET", "a", "b"]],
    "command-info": [["COMMAND", "INFO", "psync", "replicaof", "slaveof", "role", "replconf", "sync", "wait"]],
    "config": [["~CONFIG", "GET", "repl-b*"], ["~CONFIG", "GET", "repl-d*"], ["~CONFIG", "GET", "replica*"],
               ["~CONFIG", "GET", "master*"], ["CONFIG", "GET", "repl-ping-replica-period"],
               ["CONFIG", "GET", "slave-read-only"], ["CONFIG", "SET", "repl-backlog-size", "2mb"],
               ["CONFIG", "GET", "repl-backlog-size"], ["CONFIG", "SET", "repl-backlog-size", "1mb"],
               ["CONFIG", "SET", "replicaof", "127.0.0.1 1"], ["CONFIG", "GET", "slaveof"]],
    "config-aliases": [["~CONFIG", "GET", "repl-*"], ["~CONFIG", "GET", "min-*"], ["~CONFIG", "GET", "slave*"],
                       ["~CONFIG", "GET", "*slave-period"], ["CONFIG", "GET", "slave-announced"], ["~CONFIG", "GET", "replica-*"]],
    "role": [["?ROLE"]],
    "failover-errors": [["FAILOVER"], ["FAILOVER", "ABORT"], ["failover", "abort"], ["FAILOVER", "TIMEOUT", "0"],
                        ["FAILOVER", "TIMEOUT", "-5"], ["FAILOVER", "TIMEOUT", "x"], ["FAILOVER", "TIMEOUT"],
                        ["FAILOVER", "TO", "h"], ["FAILOVER", "TO", "h", "x"], ["FAILOVER", "TO", "h", "1"],
                        ["FAILOVER", "FORCE"], ["FAILOVER", "FORCE", "FORCE"], ["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "6"],
                        ["FAILOVER", "ABORT", "x"], ["FAILOVER", "x"], ["FAILOVER", "TO", "h", "1", "TO", "h", "2"],
                        ["FAILOVER", "TO", "h", "1", "FORCE"], ["FAILOVER", "TIMEOUT", "10", "FORCE"],
                        ["FAILOVER", "TO", "h", "99999999999999999999"], ["MULTI"], ["FAILOVER"], ["EXEC"],
                        ["EVAL", "return redis.pcall('failover')", "0"],
                        ["PSYNC", "x", "1", "FAILOVER"], ["PSYNC", "x", "y", "failover"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    try:
        differential.check(CASES[name], proto=proto)
    finally:
        for port in (differential.ours_port, differential.theirs_port):
            redis.Redis(port=port).config_set("min-replicas-to-write", 0)


def _fields(port: int) -> list[str]:
    return list(redis.Redis(port=port).info("replication"))


def test_info_replication_fields_as_master(yizhan_server, reference_redis):
    assert _fields(yizhan_server.port) == _fields(reference_redis.port)
    ours, theirs = (redis.Redis(port=p).execute_command("ROLE") for p in (yizhan_server.port, reference_redis.port))
    assert ours[0] == theirs[0] == b"master" and ours[2] == theirs[2] == []


REPLICA_CASES = [
    ["SET", "k", "v"], ["GET", "k"], ["MULTI"], ["SET", "k", "v"], ["EXEC"], ["EVAL", "return 1", "0"],
    ["PSYNC", "?", "-1"], ["SYNC"], ["WAIT", "0", "0"], ["CONFIG", "GET", "replicaof"],
    ["CONFIG", "SET", "replica-read-only", "no"], ["SET", "k", "v"], ["GET", "k"],
    ["CONFIG", "SET", "replica-read-only", "yes"], ["DEL", "k"],
    ["FAILOVER"], ["FAILOVER", "TO", "h", "1"], ["FAILOVER", "ABORT"], ["FAILOVER", "TIMEOUT", "0"],
    ["PSYNC", "0000000000000000000000000000000000000000", "1", "FAILOVER"], ["PSYNC", "x", "y", "FAILOVER"],
]


def test_as_replica_of_an_absent_master():
    absent = free_port()
    with Server(save="") as ours, RedisReference() as theirs:
        for port in (ours.port, theirs.port):
            assert redis.Redis(port=port).replicaof("127.0.0.1", absent)
        differential = Differential(ours.port, theirs.port)
        mismatches = differential.run(REPLICA_CASES)
        # FLUSHALL, which the runner sends first, is refused on both (read-only): a no-op here
        assert not mismatches, "\n".join(map(str, mismatches))
        assert _fields(ours.port) == _fields(theirs.port)
        for port in (ours.port, theirs.port):
            role = redis.Redis(port=port).execute_command("ROLE")
            assert role[:3] == [b"slave", b"127.0.0.1", absent] and role[4] == -1
            assert redis.Redis(port=port).execute_command("REPLICAOF", "127.0.0.1", absent) == b"OK Already connected to specified master"
            assert redis.Redis(port=port).replicaof("NO", "ONE")
            assert redis.Redis(port=port).execute_command("ROLE")[0] == b"master"

"""The append-only file without a network: what each write propagates (effects, absolute expiry,
MULTI/EXEC, SELECT), replaying a file, recovering a truncated tail, refusing a corrupt middle,
and the in-process rewrite."""

import logging
import os

import pytest

from yizhan.clock import ManualClock
from yizhan.config import Config
from yizhan.redis import commands  # noqa: F401  (registers the commands)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.persistence.aof import AOFLoadError, aof_state, encode_command, parse_commands
from yizhan.redis.session import Client, RedisConnection
from yizhan.testing.core import exchange, request

NOW = 1_700_000_000_000


def make(tmp_path, fsync="always"):
    clock = ManualClock(NOW)
    srv = RedisInstance(Config(data_dir=str(tmp_path), redis_params={"appendfsync": fsync}), clock)
    aof = aof_state(srv)
    aof.open()
    return srv, aof, Client(srv)


def run(client, *argv):
    reply = client.execute([a if isinstance(a, bytes) else str(a).encode() for a in argv])
    client.server.aof.flush()
    return reply


def logged(aof) -> list[list[bytes]]:
    return [argv for argv, _, _ in parse_commands(aof.path().read_bytes(), aof.path())]


def test_only_effective_writes_are_logged(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "SET", "k", "v")
    run(c, "GET", "k")
    run(c, "SET", "k", "w", "NX")  # did nothing
    run(c, "DEL", "missing")
    run(c, "SADD", "s", "a")
    run(c, "SADD", "s", "a")
    assert logged(aof) == [[b"SELECT", b"0"], [b"SET", b"k", b"v"], [b"SADD", b"s", b"a"]]


def test_relative_expiry_becomes_absolute(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "SET", "a", "1", "EX", "100")
    run(c, "SETEX", "b", "10", "2")
    run(c, "PSETEX", "c", "500", "3")
    run(c, "EXPIRE", "a", "50")
    run(c, "GETEX", "b", "PERSIST")
    run(c, "EXPIRE", "c", "-1")  # in the past: the key is deleted
    assert logged(aof)[1:] == [
        [b"SET", b"a", b"1", b"PXAT", str(NOW + 100_000).encode()],
        [b"SET", b"b", b"2", b"PXAT", str(NOW + 10_000).encode()],
        [b"SET", b"c", b"3", b"PXAT", str(NOW + 500).encode()],
        [b"PEXPIREAT", b"a", str(NOW + 50_000).encode()],
        [b"PERSIST", b"b"],
        [b"DEL", b"c"],
    ]


def test_random_and_blocking_pops_are_logged_as_their_effect(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "SADD", "s", "x")
    run(c, "SPOP", "s")
    run(c, "RPUSH", "l", "a", "b")
    run(c, "BLPOP", "l", "0")
    run(c, "BRPOP", "l", "0")
    run(c, "INCRBYFLOAT", "f", "1.5")
    assert logged(aof)[1:] == [
        [b"SADD", b"s", b"x"], [b"SREM", b"s", b"x"], [b"RPUSH", b"l", b"a", b"b"],
        [b"LPOP", b"l"], [b"RPOP", b"l"], [b"SET", b"f", b"1.5", b"KEEPTTL"],
    ]


def test_transactions_are_wrapped_and_select_follows_the_client(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "MULTI")
    run(c, "SET", "a", "1")
    run(c, "GET", "a")
    run(c, "SELECT", "3")
    run(c, "INCR", "n")
    run(c, "EXEC")
    run(c, "MULTI")
    run(c, "GET", "a")
    run(c, "EXEC")  # read-only: nothing logged
    run(c, "SET", "b", "2")
    assert logged(aof) == [
        [b"SELECT", b"0"], [b"MULTI"], [b"SET", b"a", b"1"], [b"SELECT", b"3"], [b"INCR", b"n"],
        [b"EXEC"], [b"SET", b"b", b"2"],
    ]


def test_flushall_is_logged_even_on_an_empty_dataset(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "FLUSHALL")
    assert logged(aof) == [[b"SELECT", b"0"], [b"FLUSHALL"]]


def test_replay_restores_the_dataset(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "RPUSH", "l", "a", "b", "c")
    run(c, "SET", "k", "v", "PX", "60000")
    run(c, "SELECT", "2")
    run(c, "HSET", "h", "f", "1")
    run(c, "HINCRBYFLOAT", "h", "f", "0.5")
    aof.stop()
    fresh = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW + 1000))
    assert aof_state(fresh).load() == 6  # SELECT RPUSH SET SELECT HSET HSET
    assert fresh.dbs[0].data[b"l"] is not None and fresh.dbs[0].expires[b"k"] == NOW + 60_000
    reader = Client(fresh)
    reader.execute([b"SELECT", b"2"])
    assert reader.execute([b"HGET", b"h", b"f"]) == b"1.5"
    assert reader.execute([b"SELECT", b"0"]) is not None
    assert reader.execute([b"LRANGE", b"l", b"0", b"-1"]) == [b"a", b"b", b"c"]


def test_truncated_last_command_is_dropped_and_the_file_cut(tmp_path, caplog):
    path = tmp_path / "appendonly.aof"
    whole = encode_command([b"SET", b"a", b"1"]) + encode_command([b"SET", b"b", b"2"])
    for cut in range(len(encode_command([b"SET", b"a", b"1"])) + 1, len(whole)):
        path.write_bytes(whole[:cut])
        srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW))
        with caplog.at_level(logging.WARNING, logger="yizhan"):
            assert aof_state(srv).load() == 1
        assert b"a" in srv.dbs[0].data and b"b" not in srv.dbs[0].data
        assert path.read_bytes() == encode_command([b"SET", b"a", b"1"])
        assert "short read while loading the AOF file" in caplog.text


def test_unfinished_transaction_at_the_end_is_reverted(tmp_path):
    path = tmp_path / "appendonly.aof"
    head = encode_command([b"SET", b"a", b"1"])
    path.write_bytes(head + encode_command([b"MULTI"]) + encode_command([b"SET", b"b", b"2"]))
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW))
    aof_state(srv).load()
    assert b"b" not in srv.dbs[0].data
    assert path.read_bytes() == head


def test_corruption_in_the_middle_names_the_file(tmp_path):
    path = tmp_path / "appendonly.aof"
    path.write_bytes(encode_command([b"SET", b"a", b"1"]) + b"garbage\r\n" + encode_command([b"SET", b"b", b"2"]))
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW))
    with pytest.raises(AOFLoadError, match=r"Bad file format reading the append only file .*appendonly\.aof"):
        aof_state(srv).load()
    path.write_bytes(encode_command([b"NOSUCHCOMMAND", b"a"]))
    with pytest.raises(AOFLoadError, match=r"Unknown command 'NOSUCHCOMMAND'.*appendonly\.aof"):
        aof_state(srv).load()


def test_in_process_rewrite_compacts(tmp_path, monkeypatch):
    srv, aof, c = make(tmp_path)
    for i in range(50):
        run(c, "INCR", "n")
    run(c, "SET", "t", "x", "EX", "100")
    monkeypatch.delattr("os.fork")
    assert aof.rewrite() is True
    run(c, "SET", "after", "1")
    assert logged(aof) == [
        [b"SELECT", b"0"], [b"SET", b"n", b"50"], [b"SET", b"t", b"x"],
        [b"PEXPIREAT", b"t", str(NOW + 100_000).encode()], [b"SELECT", b"0"], [b"SET", b"after", b"1"],
    ]


def test_a_read_that_expires_a_key_logs_nothing(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "SET", "k", "v", "PX", "10")
    srv.clock.advance(20)
    assert run(c, "GET", "k") is None
    assert logged(aof) == [[b"SELECT", b"0"], [b"SET", b"k", b"v", b"PXAT", str(NOW + 10).encode()]]


def counting_fsync(monkeypatch) -> list:
    calls = []
    real = os.fsync

    def fsync(fd):
        calls.append(fd)
        real(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_always_fsyncs_once_per_pipelined_batch_before_the_replies(tmp_path, monkeypatch):
    srv, aof, c = make(tmp_path, "always")
    conn = RedisConnection(c)
    calls = counting_fsync(monkeypatch)
    out = exchange(conn, b"".join(encode_command([b"INCR", b"n"]) for _ in range(100)))
    assert out == b"".join(b":%d\r\n" % i for i in range(1, 101))
    assert len(calls) == 1
    assert len(logged(aof)) == 101  # all on disk by the time the replies are returned
    conn.receive(encode_command([b"GET", b"n"]))
    assert len(calls) == 1  # nothing written, nothing synced


def test_everysec_fsyncs_from_the_tick_once_a_second(tmp_path, monkeypatch):
    srv, aof, c = make(tmp_path, "everysec")
    conn = RedisConnection(c)
    calls = counting_fsync(monkeypatch)
    conn.receive(encode_command([b"SET", b"a", b"1"]))
    assert calls == [] and len(logged(aof)) == 2  # written to the file, not yet synced
    aof.cron()
    assert calls == []
    srv.clock.advance(999)
    aof.cron()
    assert calls == []
    srv.clock.advance(1)  # a second on the server's clock since the AOF was opened
    aof.cron()
    assert len(calls) == 1
    aof.cron()
    assert len(calls) == 1  # nothing new since


def test_no_fsync_policy_never_fsyncs(tmp_path, monkeypatch):
    srv, aof, c = make(tmp_path, "no")
    conn = RedisConnection(c)
    calls = counting_fsync(monkeypatch)
    conn.receive(encode_command([b"SET", b"a", b"1"]))
    aof.last_fsync -= 5
    aof.cron()
    assert calls == [] and len(logged(aof)) == 2


def test_a_blocked_pop_served_later_is_logged_after_the_push(tmp_path):
    srv, aof, c = make(tmp_path)
    waiter = RedisConnection(Client(srv))
    srv.register(waiter.client)
    assert request(waiter, [b"BLMOVE", b"src", b"dst", b"RIGHT", b"LEFT", b"0"]) == b""
    assert request(waiter, [b"BRPOP", b"other", b"0"]) == b""  # buffered meanwhile
    pusher = RedisConnection(c)
    assert request(pusher, [b"RPUSH", b"src", b"a", b"b"]) == b":2\r\n"
    assert logged(aof) == [
        [b"SELECT", b"0"], [b"RPUSH", b"src", b"a", b"b"], [b"LMOVE", b"src", b"dst", b"RIGHT", b"LEFT"],
    ]
    assert waiter.data_to_send() == b"$1\r\nb\r\n"  # served
    srv.scheduler.run_soon()  # the buffered BRPOP parks in its turn
    assert waiter.data_to_send() == b""
    assert list(aof.parked) == [waiter.client.id]
    srv.unregister(waiter.client)  # a blocked client that leaves leaves nothing behind
    assert aof.parked == {}


def test_a_transaction_of_unconditional_commands_is_closed(tmp_path):
    srv, aof, c = make(tmp_path)
    run(c, "MULTI")
    run(c, "FLUSHDB")
    run(c, "EXEC")
    run(c, "SET", "a", "1")
    assert logged(aof) == [[b"SELECT", b"0"], [b"MULTI"], [b"FLUSHDB"], [b"EXEC"], [b"SET", b"a", b"1"]]


def test_nothing_expires_while_loading(tmp_path):
    """Live: a set gets a 500 ms TTL and, before it expires, more members; replayed after the
    TTL passed, the later SADD must not create a fresh set without TTL (as Redis, which does not
    expire keys while loading): the key is simply gone."""
    srv, aof, c = make(tmp_path)
    run(c, "SADD", "s", "a")
    run(c, "PEXPIRE", "s", "500")
    srv.clock.advance(100)
    run(c, "SADD", "s", "b")
    run(c, "SET", "keep", "1")
    aof.stop()
    fresh = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW + 10_000))
    aof_state(fresh).load()
    reader = Client(fresh)
    assert reader.execute([b"EXISTS", b"s"]) == 0
    assert reader.execute([b"SMEMBERS", b"s"]) == []
    assert reader.execute([b"GET", b"keep"]) == b"1"
    assert fresh.clock.ms() == NOW + 10_000 and fresh.dbs[0].clock is fresh.clock
    assert fresh.dbs[0].access[b"keep"] == NOW + 10_000


def test_a_pop_blocked_before_the_aof_was_switched_on_is_logged(tmp_path, monkeypatch):
    monkeypatch.delattr("os.fork")  # the rewrite that switching on starts runs in-process
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW))
    waiters = []
    for blocking in ([b"BLPOP", b"l", b"0"], [b"BLMPOP", b"0", b"1", b"m", b"RIGHT", b"COUNT", b"2"]):
        waiter = RedisConnection(Client(srv))
        srv.register(waiter.client)
        assert exchange(waiter, encode_command(blocking)) == b""
        waiters.append(waiter)
    c = Client(srv)
    c.execute([b"CONFIG", b"SET", b"appendonly", b"yes"])
    aof = srv.aof
    assert aof is not None and aof.fd is not None
    pusher = RedisConnection(c)
    pusher.receive(encode_command([b"RPUSH", b"l", b"a", b"b"])
                   + encode_command([b"RPUSH", b"m", b"1", b"2", b"3"]))
    commands = logged(aof)
    assert commands[-4:-1] == [
        [b"RPUSH", b"l", b"a", b"b"], [b"LPOP", b"l"], [b"RPUSH", b"m", b"1", b"2", b"3"]]
    assert commands[-1][:2] == [b"RESTORE", b"m"]  # BLMPOP's direction was not kept: the state
    aof.stop()
    fresh = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(NOW))
    aof_state(fresh).load()
    reader = Client(fresh)
    assert reader.execute([b"LRANGE", b"l", b"0", b"-1"]) == [b"b"]
    assert reader.execute([b"LRANGE", b"m", b"0", b"-1"]) == [b"1"]

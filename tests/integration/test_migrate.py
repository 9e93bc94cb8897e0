"""MIGRATE between yizhan and redis-server 7.0, both ways and yizhan to yizhan: each scenario
runs the same commands with a yizhan source and with a redis-server source, against a fresh
target of each kind, and compares every reply, the source's and the target's keys afterwards
(DEBUG DIGEST, values, TTLs) and what a replica of the source received. Covers one key and
KEYS, COPY, REPLACE, AUTH and AUTH2, the destination database (SELECT sent only when it
changes on the cached connection), TTLs, every value type, NOKEY, BUSYKEY and the target's
other errors, the IOERR cases (nothing listening, a name that does not resolve, a target that
never answers), argument errors and COMMAND GETKEYS. The cached connection and its closing
after 10 idle seconds are checked on yizhan alone, on its controlled clock."""

import contextlib
import socket
import threading

import pytest
import redis

from yizhan.embedded import Server
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference, free_port
from tests.integration.test_replication_master import link_up, wait_for


@contextlib.contextmanager
def instance(kind: str, *extra: str):
    if kind == "yizhan":
        options = dict(zip(extra[::2], extra[1::2]))
        with Server(save="", enable_debug_command="local", **options) as ours:
            yield ours
    else:
        with RedisReference("redis-server", "--enable-debug-command", "local") as ref:
            for name, value in zip(extra[::2], extra[1::2]):  # (after start: the fixture PINGs)
                redis.Redis(port=ref.port).config_set(name, value)
            yield ref


def state(port: int, password: str | None = None) -> dict:
    r = redis.Redis(port=port, password=password)
    found = {}
    for db in range(4):
        r.execute_command("SELECT", db)
        for key in sorted(r.keys("*")):
            ttl, kind = r.pttl(key), r.type(key)
            if kind == b"set":  # a hash table's order is the process's own: the members
                value = sorted(r.smembers(key))
            else:
                value = r.xrange(key) if kind == b"stream" else r.dump(key)
            found[(db, key)] = (kind, value, ttl > 0 if ttl != -1 else -1)
    r.execute_command("SELECT", 0)
    return {"keys": found, "digest": r.execute_command("DEBUG", "DIGEST")}


def run(source_kind: str, target_kind: str, scenario, target_options=()) -> dict:
    with instance(source_kind) as source, instance(target_kind, *target_options) as target:
        password = dict(zip(target_options[::2], target_options[1::2])).get("requirepass")
        with RawClient("127.0.0.1", source.port) as c:
            replies = scenario(c, target.port)
        return {"replies": replies, "source": state(source.port), "target": state(target.port, password)}


def compare(scenario, target_options=()):
    for target_kind in ("redis", "yizhan"):
        theirs = run("redis", target_kind, scenario, target_options)
        ours = run("yizhan", target_kind, scenario, target_options)
        assert ours == theirs, f"target {target_kind}"


def populate(c) -> None:
    c.call("SET", "s", "v")
    c.call("SET", "n", "12345")
    c.call("RPUSH", "list", *range(50))
    c.call("HSET", "hash", *[f"f{i % 20}" for i in range(40)])
    c.call("SADD", "set", *range(30))
    c.call("SADD", "words", "a", "b", "c")
    c.call("ZADD", "zset", *[x for i in range(20) for x in (str(i / 4), f"m{i}")])
    c.call("XADD", "stream", "1-1", "a", "1")
    c.call("PFADD", "hll", *range(10))
    c.call("SET", "big", "x" * 200_000)  # more than one 64 KB write
    c.call("SET", "ttl", "v", "PX", "100000")


def _one_key(c, port):
    return [c.call("SET", "k", "v"), c.call("MIGRATE", "127.0.0.1", port, "k", "0", "5000"), c.call("EXISTS", "k"),
            c.call("MIGRATE", "127.0.0.1", port, "k", "0", "5000")]


def _every_type(c, port):
    populate(c)
    keys = ["s", "n", "list", "hash", "set", "words", "zset", "stream", "hll", "big", "ttl"]
    return [c.call("MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", *keys[:5]),
            c.call("MIGRATE", "127.0.0.1", port, "", "1", "5000", "COPY", "KEYS", *keys[5:])]


def _copy_replace_busykey(c, port):
    return [c.call("SET", "k", "v1"), c.call("MIGRATE", "127.0.0.1", port, "k", "0", "5000", "COPY"),
            c.call("SET", "k", "v2"), c.call("MIGRATE", "127.0.0.1", port, "k", "0", "5000"),
            c.call("EXISTS", "k"), c.call("MIGRATE", "127.0.0.1", port, "k", "0", "5000", "COPY", "REPLACE"),
            c.call("MSET", "a", "1", "b", "2", "k", "3"),
            c.call("MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "a", "k", "b"),  # k busy: a moved, b too
            c.call("EXISTS", "a", "b", "k"),
            c.call("MIGRATE", "127.0.0.1", port, "", "0", "5000", "REPLACE", "KEYS", "k", "nokey"),
            c.call("MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "nokey", "nokey2")]


def _databases(c, port):
    return [c.call("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
            c.call("MIGRATE", "127.0.0.1", port, "a", "3", "5000"),
            c.call("MIGRATE", "127.0.0.1", port, "b", "3", "5000"),  # the same database: no SELECT
            c.call("MIGRATE", "127.0.0.1", port, "c", "99", "5000"),  # refused by the target's SELECT
            c.call("MIGRATE", "127.0.0.1", port, "c", "-1", "5000"),  # no SELECT after a failure: database 0
            c.call("MIGRATE", "127.0.0.1", port, "d", "2", "5000"),
            c.call("SELECT", "2"), c.call("SET", "e", "5"),
            c.call("MIGRATE", "127.0.0.1", port, "e", "0", "5000"), c.call("SELECT", "0")]


def _auth(c, port):
    return [c.call("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
            c.call("MIGRATE", "127.0.0.1", port, "a", "0", "5000"),
            c.call("MIGRATE", "127.0.0.1", port, "a", "0", "5000", "AUTH", "wrong"),
            c.call("MIGRATE", "127.0.0.1", port, "a", "0", "5000", "AUTH", "s3cret"),
            c.call("MIGRATE", "127.0.0.1", port, "b", "1", "5000", "AUTH2", "default", "wrong"),
            c.call("MIGRATE", "127.0.0.1", port, "b", "1", "5000", "AUTH2", "default", "s3cret"),
            c.call("MIGRATE", "127.0.0.1", port, "", "2", "5000", "AUTH", "s3cret", "COPY", "KEYS", "c", "d")]


def _argument_errors(c, port):
    calls = [["MIGRATE", "127.0.0.1", port, "k", "0"], ["MIGRATE", "127.0.0.1", port, "k", "x", "10"],
             ["MIGRATE", "127.0.0.1", port, "k", "0", "x"], ["MIGRATE", "127.0.0.1", port, "k", "0", "10", "AUTH"],
             ["MIGRATE", "127.0.0.1", port, "k", "0", "10", "AUTH2", "u"],
             ["MIGRATE", "127.0.0.1", port, "k", "0", "10", "KEYS", "a"],
             ["MIGRATE", "127.0.0.1", port, "k", "0", "10", "FOO"], ["MIGRATE", "127.0.0.1", port, "k", "0", "10", "COPY", "x"],
             ["MIGRATE", "127.0.0.1", port, "", "0", "10", "KEYS"], ["MIGRATE", "127.0.0.1", port, "nokey", "x", "10"],
             ["MIGRATE", "127.0.0.1", port, "nokey", "0", "10"], ["MIGRATE", "127.0.0.1", port, "", "0", "10"],
             ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10"],
             ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH", "keys", "KEYS", "a", "b"],
             ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH2", "u", "keys", "KEYS", "a"],
             ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"],
             ["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "REPLACE", "keys", "x"],
             ["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "10"],
             ["MULTI"], ["SET", "k", "v"], ["MIGRATE", "127.0.0.1", port, "k", "0", "5000"], ["EXISTS", "k"], ["EXEC"],
             ["EVAL", "redis.call('set', 'j', 'w') return redis.call('migrate', ARGV[1], ARGV[2], 'j', '0', '1000')",
              "0", "127.0.0.1", port], ["EXISTS", "j"]]
    return [c.call(*args) for args in calls]


@pytest.mark.parametrize("scenario", [_one_key, _every_type, _copy_replace_busykey, _databases, _argument_errors])
def test_migrate_matches_redis_server(scenario):
    compare(scenario)


def test_migrate_with_auth_matches_redis_server():
    compare(_auth, target_options=("requirepass", "s3cret"))


@contextlib.contextmanager
def silent_listener():
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        sock.close()


def _io_errors(c, port):
    closed = free_port()
    with silent_listener() as silent:
        return [c.call("SET", "k", "v"), c.call("MIGRATE", "127.0.0.1", closed, "k", "0", "200"),
                c.call("MIGRATE", "no-such-host.invalid", port, "k", "0", "200"),
                c.call("MIGRATE", "127.0.0.1", "x", "k", "0", "200"),
                *[c.call("MIGRATE", host, weird, "k", "0", "200") for host, weird in (
                    ("127.0.0.1", "-1"), ("127.0.0.1", "65536"), ("127.0.0.1", "99999999999999999999"), ("", "1"),
                    ("127.0.0.1\0x", "1"), ("::1", "1"), ("[::1]", "1"))],
                c.call("MIGRATE", "127.0.0.1", silent, "k", "0", "300"),
                c.call("MIGRATE", "127.0.0.1", silent, "k", "0", "300", "COPY"),
                c.call("EXISTS", "k"), c.call("MIGRATE", "127.0.0.1", port, "k", "0", "1000"), c.call("EXISTS", "k")]


def test_migrate_io_errors_match_redis_server():
    with instance("redis") as target:
        replies = {}
        for kind in ("redis", "yizhan"):
            with instance(kind) as source, RawClient("127.0.0.1", source.port) as c:
                replies[kind] = _io_errors(c, target.port)
            redis.Redis(port=target.port).flushall()
        assert replies["yizhan"] == replies["redis"]
        assert replies["yizhan"][-1] == b":0\r\n"


def _replica_sees(source_kind: str) -> list:
    """What the source's replica (a redis-server) holds after MIGRATE, MIGRATE COPY and a
    MIGRATE that failed on its second key."""
    with instance(source_kind) as source, instance("redis") as target, instance("redis") as replica:
        r, t = redis.Redis(port=replica.port), redis.Redis(port=target.port)
        assert r.replicaof("127.0.0.1", source.port)
        wait_for(lambda: link_up(r), what="the replica to sync")
        s = redis.Redis(port=source.port)
        s.mset({"a": 1, "b": 2, "c": 3, "d": 4})
        t.set("d", "busy")
        replies = [s.execute_command("MIGRATE", "127.0.0.1", target.port, "a", 0, 5000),
                   s.execute_command("MIGRATE", "127.0.0.1", target.port, "b", 0, 5000, "COPY")]
        with pytest.raises(redis.ResponseError) as busy:
            s.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", "c", "d")
        replies.append(str(busy.value))
        s.set("marker", 1)
        wait_for(lambda: r.get("marker") == b"1", what="the stream to reach the replica")
        return replies + [sorted(r.keys("*")), r.info("replication")["master_repl_offset"]
                          == s.info("replication")["master_repl_offset"]]


def test_migrate_reaches_replicas_as_redis_propagates_it():
    ours, theirs = _replica_sees("yizhan"), _replica_sees("redis")
    assert ours == theirs
    assert ours[3] == [b"b", b"d", b"marker"]


def _migrate_connections(port: int) -> int:
    return sum(1 for c in redis.Redis(port=port).client_list() if c["cmd"] in ("restore", "select", "auth"))


def test_connection_is_cached_and_closed_after_ten_idle_seconds():
    with Server(save="", enable_debug_command="local") as ours, instance("redis") as target:
        s = redis.Redis(port=ours.port)
        s.mset({"a": 1, "b": 2})
        assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "a", 0, 5000) == b"OK"
        assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "b", 0, 5000) == b"OK"
        assert _migrate_connections(target.port) == 1
        ours.advance(5)
        assert _migrate_connections(target.port) == 1
        ours.advance(7)
        wait_for(lambda: _migrate_connections(target.port) == 0, what="the cached connection to close")
        s.set("c", 3)
        assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "c", 0, 5000) == b"OK"
        assert redis.Redis(port=target.port).mget("a", "b", "c") == [b"1", b"2", b"3"]


def _slowlog_of_migrate(kind: str, target_port: int) -> list:
    with instance(kind) as source:
        s = redis.Redis(port=source.port)
        s.mset({"a": 1, "b": 2})
        s.config_set("slowlog-log-slower-than", 0)
        s.execute_command("MIGRATE", "127.0.0.1", target_port, "a", 0, 5000, "COPY", "REPLACE", "AUTH", "s3cret")
        s.execute_command("MIGRATE", "127.0.0.1", target_port, "", 0, 5000, "REPLACE", "AUTH2", "default", "s3cret",
                          "KEYS", "a", "b")
        return [entry["command"] for entry in s.slowlog_get(3)[:2]]


def test_migrate_credentials_are_redacted_in_the_slow_log_as_by_redis_server():
    with instance("redis", "requirepass", "s3cret") as target:
        ours, theirs = _slowlog_of_migrate("yizhan", target.port), _slowlog_of_migrate("redis", target.port)
    assert ours == theirs
    assert b"s3cret" not in b" ".join(ours)

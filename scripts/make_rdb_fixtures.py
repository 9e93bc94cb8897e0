"""Regenerate tests/data/rdb/: RDB files written by real Redis 7.2 and 7.4 servers (RDB versions 11
and 12), which yizhan, a Redis 7.0, loads (tests/unit/test_rdb_newer.py).

How the committed fixtures were made (the Redis sources are not part of yizhan; build them
outside the tree, from github.com/redis/redis's tags):

    git archive 7.2.6 | tar -x -C /tmp/redis-7.2.6 && make -C /tmp/redis-7.2.6 -j2 BUILD_TLS=no MALLOC=libc
    git archive 7.4.1 | tar -x -C /tmp/redis-7.4.1 && make -C /tmp/redis-7.4.1 -j2 BUILD_TLS=no MALLOC=libc
    python3 scripts/make_rdb_fixtures.py /tmp/redis-7.2.6/src/redis-server /tmp/redis-7.4.1/src/redis-server

For each server: start it on a free port in a temporary directory (no persistence but the one
SAVE), run `dataset()` (every type yizhan has, in small and large encodings, expiries, a second
database, a function library), record DEBUG DIGEST and the facts the digest does not cover
(consumer groups, pending entries, absolute expiry times, the library list, a DUMP payload of
the server's own version), SAVE, and copy dump.rdb to redis-<version>.rdb with the facts in
redis-<version>.json. The same commands are run against the Debian redis-server 7.0 on the PATH,
its facts are recorded beside the newer server's (key "redis_7_0": what yizhan, a 7.0, must
show after loading), and its digest must equal the newer server's (zset scores are chosen so that 7.0's "%.17g" and
7.2+'s shortest round-trip formatting print them alike). For a server that has hash-field
expiration (7.4), two more files hold one hash with per-field TTLs each, one listpack-encoded
(RDB_TYPE_HASH_LISTPACK_EX) and one hashtable-encoded (RDB_TYPE_HASH_METADATA): yizhan must
refuse them whole.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rdb"
FAR = 4102444800000  # 2100-01-01 in ms: expiries that stay in the future when the tests load

LIBRARY = ("#!lua name=fixturelib\n"
           "redis.register_function('fixture_echo', function(keys, args) return args[1] end)")


def dataset() -> list[tuple[int, list]]:
    """(db, command) pairs: every value type in each encoding Redis 7.2/7.4 gives it."""
    cmds: list[tuple[int, list]] = []

    def add(*args, db=0):
        cmds.append((db, [str(a) if not isinstance(a, bytes) else a for a in args]))

    add("SET", "str:plain", "hello")
    add("SET", "str:int", "12345")
    add("SET", "str:long", "x" * 300)  # LZF-compressed in the file
    add("SET", "str:binary", bytes(range(256)))
    add("SET", "str:ttl", "expires-in-2100")
    add("PEXPIREAT", "str:ttl", FAR)
    add("RPUSH", "list:small", "a", "b", "c", 1, 2, 3)  # listpack in 7.2+
    add("RPUSH", "list:big", *[f"element-{i}-" + "y" * 40 for i in range(1000)])  # quicklist, several nodes
    add("RPUSH", "list:ttl", "one", "two")
    add("PEXPIREAT", "list:ttl", FAR + 1000)
    add("SADD", "set:intset", *range(1, 50))
    add("SADD", "set:listpack", "apple", "banana", "cherry", 42)  # RDB_TYPE_SET_LISTPACK (7.2+)
    add("SADD", "set:hashtable", *[f"member-{i}" for i in range(300)])
    add("SADD", "set:bigints", *range(0, 2000, 3))  # more than set-max-intset-entries
    add("SADD", "set:longmember", "z" * 100, "short")
    add("ZADD", "zset:listpack", 1, "one", 2.5, "two-and-half", -3, "minus-three", 0, "zero")
    add("ZADD", "zset:skiplist", *[x for i in range(200) for x in (i * 0.5, f"m{i}")])
    add("ZADD", "zset:longmember", 1, "w" * 100)
    add("HSET", "hash:listpack", "f1", "v1", "f2", 2, "f3", "v" * 30)
    add("HSET", "hash:hashtable", *[x for i in range(600) for x in (f"field-{i}", f"value-{i}")])
    add("HSET", "hash:longvalue", "f", "q" * 100)
    add("HSET", "hash:ttl", "a", "1")
    add("PEXPIREAT", "hash:ttl", FAR + 2000)
    for i in range(1, 251):
        add("XADD", "stream:groups", f"{1700000000000 + i}-{i % 3}", "field", f"value-{i}", "n", i)
    add("XADD", "stream:groups", "1700000001000-0", "other", "shape")  # not the master fields
    add("XDEL", "stream:groups", "1700000000005-2", "1700000000006-0")
    add("XGROUP", "CREATE", "stream:groups", "g1", "0")
    add("XGROUP", "CREATE", "stream:groups", "g2", "$")
    add("XGROUP", "CREATECONSUMER", "stream:groups", "g2", "idle-consumer")
    add("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 5, "STREAMS", "stream:groups", ">")
    add("XREADGROUP", "GROUP", "g1", "bob", "COUNT", 3, "STREAMS", "stream:groups", ">")
    add("XACK", "stream:groups", "g1", "1700000000002-2")
    add("XADD", "stream:small", "1-1", "a", "b")
    add("XADD", "stream:empty", "5-5", "k", "v")
    add("XDEL", "stream:empty", "5-5")
    add("SET", "db1:str", "in-db-1", db=1)
    add("RPUSH", "db1:list", "x", "y", db=1)
    return cmds


class Server:
    """A throwaway redis-server on a free port in its own directory."""

    def __init__(self, binary: str):
        self.dir = Path(tempfile.mkdtemp(prefix="rdb-fixture-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(client: redis.Redis, commands) -> None:
    for db, argv in commands:
        client.execute_command("SELECT", db)
        client.execute_command(*argv)
    client.execute_command("SELECT", 0)


def facts(client: redis.Redis) -> dict:
    """What DEBUG DIGEST does not cover, as the tests compare it."""
    text = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731
    groups = [{text(k): text(v) for k, v in g.items()} for g in client.xinfo_groups("stream:groups")]
    pending = client.xpending_range("stream:groups", "g1", "-", "+", 100)
    dump = client.dump("str:plain").hex()
    sizes = [client.execute_command("SELECT", db) and client.dbsize() for db in (0, 1)]
    client.execute_command("SELECT", 0)
    return {
        "digest": text(client.execute_command("DEBUG", "DIGEST")),
        "dbsize": sizes,
        "pexpiretime": {k: client.pexpiretime(k) for k in ("str:ttl", "list:ttl", "hash:ttl")},
        "xinfo_groups": groups,
        "xpending_g1": [[text(e["message_id"]), text(e["consumer"]), e["times_delivered"]] for e in pending],
        "xlen": {k: client.xlen(k) for k in ("stream:groups", "stream:small", "stream:empty")},
        "libraries": [text(dict(zip(lib[::2], lib[1::2]))[b"library_name"]) for lib in client.function_list()],
        "dump_str_plain_hex": dump,
    }


def make(binary: str, reference: dict) -> None:
    server = Server(binary)
    try:
        c = server.client
        version = c.info("server")["redis_version"]
        c.execute_command("FUNCTION", "LOAD", LIBRARY)
        run(c, dataset())
        c.execute_command("SELECT", 0)
        meta = facts(c)
        c.execute_command("SELECT", 0)
        if meta["digest"] != reference["digest"]:
            raise SystemExit(f"{version}: digest {meta['digest']} differs from redis-server 7.0's {reference['digest']}")
        c.save()
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.dir / "dump.rdb", OUT / f"redis-{version}.rdb")
        meta.update(redis_version=version, rdb_version=int((server.dir / "dump.rdb").read_bytes()[5:9]),
                    redis_7_0=reference)
        (OUT / f"redis-{version}.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        if int(version.split(".")[1]) >= 4 and version.startswith("7."):
            make_field_ttl_files(server, version)
    finally:
        server.close()


def make_field_ttl_files(server: Server, version: str) -> None:
    """One hash with a field TTL per file: listpack (type 25) and hashtable (type 24)."""
    c = server.client
    for name, fields in (("listpack", 3), ("hashtable", 600)):
        c.flushall()
        c.set("plain", "before")
        c.hset(f"hash:fieldttl:{name}", mapping={f"f{i}": f"v{i}" for i in range(fields)})
        c.execute_command("HPEXPIREAT", f"hash:fieldttl:{name}", FAR, "FIELDS", 1, "f1")
        c.save()
        shutil.copy(server.dir / "dump.rdb", OUT / f"redis-{version}-hash-field-ttl-{name}.rdb")


def reference_facts() -> dict:
    """The facts of the same dataset in Debian's redis-server 7.0: what yizhan must show."""
    server = Server("redis-server")  # Debian's 7.0 on the PATH
    try:
        assert server.client.info("server")["redis_version"].startswith("7.0.")
        server.client.execute_command("FUNCTION", "LOAD", LIBRARY)
        run(server.client, dataset())
        meta = facts(server.client)
        del meta["dump_str_plain_hex"]
        return meta
    finally:
        server.close()


if __name__ == "__main__":
    facts_7_0 = reference_facts()
    for path in sys.argv[1:]:
        make(path, facts_7_0)

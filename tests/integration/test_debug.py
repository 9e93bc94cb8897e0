"""DEBUG and WAIT through redis-py, each test once against yizhan and once against redis-server
7.0, both with `enable-debug-command local`: the fields of DEBUG OBJECT (its address and clock
values vary), SET-ACTIVE-EXPIRE stopping the expiry cycle, CHANGE-REPL-ID, DEBUG RELOAD keeping
the digest, and a blocked WAIT released by its timeout or by CLIENT UNBLOCK."""

import time

import pytest
import redis

from yizhan.testing.blocking import wait_blocked


@pytest.fixture(params=["yizhan", "redis-server"])
def r(request, debug_servers):
    client = redis.Redis(port=debug_servers[request.param])
    client.flushall()
    yield client
    client.close()


def debug_object(r, key: str) -> dict:
    line = r.execute_command("DEBUG", "OBJECT", key).decode()
    assert line.startswith("Value at:0x")
    return dict(part.split(":", 1) for part in line[len("Value "):].split(" "))


def fill_for_debug_object(r) -> None:
    r.set("small", "hello")
    r.set("number", "123")
    r.set("bignumber", "12345")
    r.set("big", "x" * 100)
    r.append("appended", "abc")
    r.rpush("list", *[f"element-{i}" for i in range(1000)])
    r.rpush("short", "a", "b")
    r.zadd("zset", {"a": 1, "b": 2})
    r.zadd("bigzset", {f"m{i}": i for i in range(200)})
    r.hset("hash", mapping={f"f{i}": "v" * i for i in range(200)})
    r.hset("smallhash", "f", "v")
    r.sadd("intset", 1, 2, 3)
    r.sadd("set", "a", "b")


KEYS = ["small", "number", "bignumber", "big", "appended", "list", "short", "zset", "bigzset", "hash", "smallhash",
        "intset", "set"]


def test_debug_object_fields_match_redis(debug_servers):
    """Everything but the address and the LRU clock: refcount, encoding, serializedlength and
    the quicklist fields."""
    seen = {}
    for name, port in debug_servers.items():
        client = redis.Redis(port=port)
        client.flushall()
        fill_for_debug_object(client)
        fields = {key: debug_object(client, key) for key in KEYS}
        for key in KEYS:
            idle = int(fields[key].pop("lru_seconds_idle"))
            # a shared integer keeps the LRU time of its last lookup, whichever key it was under
            assert idle <= 2 or fields[key]["refcount"] == "2147483647"
            del fields[key]["at"], fields[key]["lru"]
        seen[name] = fields
        with pytest.raises(redis.ResponseError, match="no such key"):
            client.execute_command("DEBUG", "OBJECT", "nokey")
        assert client.debug_object("small")["encoding"] == "embstr"  # redis-py's own parser
        client.close()
    for key in KEYS:
        assert seen["yizhan"][key] == seen["redis-server"][key], key


def test_set_active_expire_stops_the_expiry_cycle(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("k", "v", px=20)
        time.sleep(0.3)
        assert r.dbsize() == 1           # expired but not reclaimed
        assert r.exists("k") == 0        # a lookup reclaims it
        r.set("k", "v", px=20)
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.monotonic() + 5
        while r.dbsize() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_change_repl_id(r):
    before = r.info("replication")["master_replid"]
    assert r.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    after = r.info("replication")["master_replid"]
    assert after != before and len(after) == 40 and int(after, 16) >= 0


def test_reload_keeps_the_digest(r):
    r.set("s", "v")
    r.rpush("l", "a", "b")
    r.zadd("z", {"m": 1.5})
    r.hset("h", "f", "v")
    r.sadd("set", "1", "2", "x")
    r.expire("s", 1000)
    r.execute_command("DEBUG", "POPULATE", "100")
    digest = r.execute_command("DEBUG", "DIGEST")
    assert digest != b"0" * 40
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert r.execute_command("DEBUG", "DIGEST") == digest
    r.delete("l")
    assert r.execute_command("DEBUG", "DIGEST") != digest


def test_wait_blocks_until_its_timeout(r, pool):
    """WAIT for a replica that never comes blocks the client (counted in blocked_clients)
    until its timeout ends it with 0; no elapsed time is asserted."""
    waiter = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    future = pool.submit(waiter.wait, 1, 1000)
    wait_blocked(r)
    assert future.result(timeout=10) == 0
    assert r.info("clients")["blocked_clients"] == 0
    assert r.wait(0, 0) == 0
    waiter.close()


def test_wait_without_timeout_is_released_by_client_unblock(r, pool):
    waiter = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
    waiter_id = waiter.client_id()
    future = pool.submit(waiter.wait, 1, 0)
    wait_blocked(r)
    assert r.client_unblock(waiter_id) is True
    assert future.result(timeout=5) == 0
    waiter.close()


def test_protocol_attrib_is_an_attribute_then_a_reply(debug_servers):
    """RESP3 attributes ("|") are beyond the test client's parser: the bytes are compared."""
    import socket
    seen = []
    for port in debug_servers.values():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            out = b""
            for proto in (b"2", b"3"):
                sock.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n%s\r\n" % proto)
                time.sleep(0.1)
                sock.recv(65536)
                sock.sendall(b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nattrib\r\n")
                expected_end = b"Some real reply following the attribute\r\n"
                data = b""
                while not data.endswith(expected_end):
                    data += sock.recv(65536)
                out += data
            seen.append(out)
    assert seen[0] == seen[1]
    assert b"|1\r\n$14\r\nkey-popularity\r\n" in seen[0]

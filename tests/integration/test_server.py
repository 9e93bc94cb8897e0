"""The server driven by real clients: redis-py (sync and asyncio) and raw sockets."""

import asyncio
import socket
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio

import yizhan
from yizhan.testing.raw import RawClient, encode_command


def test_redis_py_round_trip(yizhan_redis):
    assert yizhan_redis.ping() is True
    assert yizhan_redis.set("greeting", "你好") is True
    assert yizhan_redis.get("greeting").decode() == "你好"
    assert yizhan_redis.echo("x") == b"x"


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_both_protocols(yizhan_redis_url, protocol):
    client = redis.Redis.from_url(yizhan_redis_url, protocol=protocol, decode_responses=True)
    client.set("p", "v")
    assert client.get("p") == "v"
    assert client.config_get("maxmemory") == {"maxmemory": "0"}
    info = client.info()
    assert info["redis_version"].startswith("7.0.")
    assert client.client_id() == client.client_info()["id"]
    client.close()


async def test_redis_py_asyncio(yizhan_redis_url):
    client = redis.asyncio.Redis.from_url(yizhan_redis_url)
    await client.flushdb()
    results = await asyncio.gather(*(client.set(f"k{i}", i) for i in range(50)))
    assert all(results)
    assert await client.dbsize() == 50
    assert await client.get("k7") == b"7"
    await client.aclose()


def test_connection_pool_select(yizhan_redis_url):
    pool = redis.ConnectionPool.from_url(yizhan_redis_url.rsplit("/", 1)[0] + "/3")
    client = redis.Redis(connection_pool=pool)
    client.set("in3", "yes")
    assert int(client.client_info()["db"]) == 3
    assert redis.Redis.from_url(yizhan_redis_url).get("in3") is None
    client.flushdb()
    pool.disconnect()


def test_pipelined_requests_answered_in_order_in_one_write(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        batch = b"".join(encode_command(["SET", f"n{i}", str(i)]) for i in range(100))
        batch += b"".join(encode_command(["GET", f"n{i}"]) for i in range(100))
        raw.send_raw(batch)
        replies = [raw.read_reply() for _ in range(200)]
    assert replies[:100] == [b"+OK\r\n"] * 100
    assert replies[100:] == [b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(100)]


def test_one_read_is_answered_by_one_write(yizhan_server):
    """All replies to one pipelined read leave in a single segment when they fit."""
    with socket.create_connection(("127.0.0.1", yizhan_server.port)) as sock:
        sock.sendall(encode_command(["PING"]) * 20)
        time.sleep(0.2)
        data = sock.recv(65536)
    assert data == b"+PONG\r\n" * 20


def test_inline_commands_like_telnet(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        raw.send_raw(b"PING\r\n")
        assert raw.read_reply() == b"+PONG\r\n"
        raw.send_raw(b'SET "two words" \'x y\'\n')
        assert raw.read_reply() == b"+OK\r\n"
        raw.send_raw(b"GET \"two words\"\r\n")
        assert raw.read_reply() == b"$3\r\nx y\r\n"


def test_protocol_error_answers_then_closes(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        raw.send_raw(b'SET "unbalanced\r\n')
        assert raw.read_until_closed() == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        raw.send_raw(b"*1\r\n:5\r\n")
        assert raw.read_until_closed() == b"-ERR Protocol error: expected '$', got ':'\r\n"


def test_quit_replies_ok_and_closes(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        raw.send_raw(encode_command(["QUIT"]) + encode_command(["PING"]))
        assert raw.read_until_closed() == b"+OK\r\n"


def test_hello_3_switches_to_resp3_and_reset_back(yizhan_server):
    with RawClient("127.0.0.1", yizhan_server.port) as raw:
        hello = raw.call("HELLO", "3")
        assert hello.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
        assert raw.call("GET", "missing-key") == b"_\r\n"
        assert raw.call("RESET") == b"+RESET\r\n"
        assert raw.call("GET", "missing-key") == b"$-1\r\n"


def test_client_list_and_kill(yizhan_redis_url):
    victim = redis.Redis.from_url(yizhan_redis_url)
    victim.client_setname("victim")
    killer = redis.Redis.from_url(yizhan_redis_url)
    names = {c["name"]: c for c in killer.client_list()}
    assert "victim" in names
    assert killer.client_kill_filter(_id=int(names["victim"]["id"])) == 1
    assert "victim" not in {c["name"] for c in killer.client_list()}
    victim.close()
    killer.close()


def test_command_introspection(yizhan_redis, raw):
    count = yizhan_redis.command_count()
    assert count == len(yizhan_redis.command())
    assert yizhan_redis.command()["get"]["arity"] == 2
    info = raw.call("COMMAND", "INFO", "set", "nosuch")
    assert info.startswith(b"*2\r\n*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n")
    assert info.endswith(b"$-1\r\n")
    docs = raw.call("COMMAND", "DOCS", "set")
    assert docs.startswith(b"*2\r\n$3\r\nset\r\n") and b"$9\r\narguments\r\n" in docs


def test_auth_with_requirepass():
    with yizhan.Server(requirepass="s3cret") as srv:
        with RawClient("127.0.0.1", srv.port) as raw:
            assert raw.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
            assert raw.call("AUTH", "wrong") == (
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
            assert raw.call("AUTH", "s3cret") == b"+OK\r\n"
            assert raw.call("GET", "x") == b"$-1\r\n"
        client = redis.Redis(port=srv.port, password="s3cret", protocol=3)
        assert client.ping() is True
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=srv.port, password="nope").ping()


def test_taken_port_is_a_clear_error(yizhan_server):
    from yizhan.server import PortInUse

    with pytest.raises(PortInUse, match=f"127.0.0.1:{yizhan_server.port} for Redis"):
        yizhan.Server(port=yizhan_server.port).start()


def test_many_concurrent_clients(yizhan_server):
    socks = [socket.create_connection(("127.0.0.1", yizhan_server.port)) for _ in range(200)]
    try:
        for i, sock in enumerate(socks):
            sock.sendall(encode_command(["ECHO", str(i)]))
        for i, sock in enumerate(socks):
            expected = b"$%d\r\n%d\r\n" % (len(str(i)), i)
            data = b""
            while len(data) < len(expected):
                data += sock.recv(100)
            assert data == expected
    finally:
        for sock in socks:
            sock.close()


def test_embedded_server_without_data_dir_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with yizhan.Server() as srv:
        data_dir = Path(srv.config.data_dir)
        client = redis.Redis(port=srv.port)
        client.set("k", "v")
        client.save()
        assert (data_dir / "dump.rdb").exists()
    assert list(tmp_path.iterdir()) == []
    assert not data_dir.exists()

"""The fast request path (issue 6) against real clients: replies written once per event-loop
iteration keep each connection's order, a closing connection gets its replies first, and
commands found by their exact request bytes still pass every check the slow path makes."""

import socket
import threading

import redis

from yizhan.testing.raw import RawClient, encode_command


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    return host, int(port)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def test_many_pipelining_clients_get_their_own_replies_in_order(yizhan_redis, yizhan_redis_url):
    host, port = _address(yizhan_redis_url)
    failures: list[str] = []

    def client(n: int) -> None:
        with socket.create_connection((host, port), timeout=10) as sock:
            for round_ in range(20):
                keys = [b"c%d:%d:%d" % (n, round_, i) for i in range(16)]
                request = b"".join(encode_command(["SET", k, k]) + encode_command(["GET", k]) for k in keys)
                sock.sendall(request)
                expected = b"".join(b"+OK\r\n$%d\r\n%b\r\n" % (len(k), k) for k in keys)
                got = _read_exactly(sock, len(expected))
                if got != expected:
                    failures.append(f"client {n} round {round_}: {got[:80]!r}")
                    return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert yizhan_redis.dbsize() == 12 * 20 * 16


def test_quit_sends_the_pipelined_replies_before_closing(yizhan_redis, yizhan_redis_url):
    with RawClient(*_address(yizhan_redis_url)) as raw:
        raw.send_raw(b"SET a 1\r\nGET a\r\nINCR a\r\nQUIT\r\nGET a\r\n")
        assert raw.read_until_closed() == b"+OK\r\n$1\r\n1\r\n:2\r\n+OK\r\n"


def test_published_messages_and_replies_keep_their_order(yizhan_redis, yizhan_redis_url):
    """A RESP3 subscriber's replies and the messages another client publishes meanwhile share
    one ordered output: each stream arrives whole and in order, however they interleave."""
    host, port = _address(yizhan_redis_url)
    with RawClient(host, port) as sub, RawClient(host, port) as pub:
        sub.call("HELLO", "3")
        assert sub.call("SUBSCRIBE", "ch").startswith(b">3\r\n$9\r\nsubscribe\r\n")
        for round_ in range(5):
            # both requests are on the wire before either is answered: the server reads them
            # in one loop iteration as often as not
            pub.send_raw(b"".join(encode_command(["PUBLISH", "ch", f"m{i}"]) for i in range(100)))
            sub.send_raw(b"".join(encode_command(["PING", str(i)]) for i in range(100)))
            assert [pub.read_reply() for _ in range(100)] == [b":1\r\n"] * 100
            replies = [sub.read_reply() for _ in range(200)]
            pings = [r for r in replies if r.startswith(b"$")]
            messages = [r for r in replies if r.startswith(b">3")]
            assert pings == [b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(100)], round_
            assert messages == [b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$%d\r\nm%d\r\n" % (len(str(i)) + 1, i)
                                for i in range(100)], round_


def test_exact_name_dispatch_keeps_the_checks(yizhan_redis, yizhan_redis_url):
    """Commands in upper, lower and mixed case; wrong arity, MULTI queueing and RESP2
    subscribed mode are enforced for a command found by its request bytes too."""
    with RawClient(*_address(yizhan_redis_url)) as raw:
        assert raw.call("SET", "k", "v") == b"+OK\r\n"
        assert raw.call("set", "k", "w") == b"+OK\r\n"
        assert raw.call("SeT", "k", "x") == b"+OK\r\n"
        assert raw.call("get", "k") == b"$1\r\nx\r\n"
        assert raw.call("GET", "k", "extra") == b"-ERR wrong number of arguments for 'get' command\r\n"
        assert raw.call("MULTI") == b"+OK\r\n"
        assert raw.call("SET", "k", "y") == b"+QUEUED\r\n"
        assert raw.call("GET", "k") == b"+QUEUED\r\n"
        assert raw.call("EXEC") == b"*2\r\n+OK\r\n$1\r\ny\r\n"
        assert raw.call("COMMAND", "GETKEYS", "GET", "k") == b"*1\r\n$1\r\nk\r\n"
        raw.call("SUBSCRIBE", "ch")
        assert raw.call("GET", "k") == (b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                                        b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")


def test_exact_name_dispatch_requires_auth(yizhan_redis, yizhan_redis_url):
    yizhan_redis.config_set("requirepass", "secret")
    try:
        with RawClient(*_address(yizhan_redis_url)) as raw:
            assert raw.call("GET", "k").startswith(b"-NOAUTH")
            assert raw.call("AUTH", "secret") == b"+OK\r\n"
            assert raw.call("GET", "k") == b"$-1\r\n"
    finally:
        admin = redis.Redis.from_url(yizhan_redis_url, password="secret")
        admin.config_set("requirepass", "")
        admin.close()

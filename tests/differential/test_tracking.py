"""CLIENT TRACKING against redis-server 7.0: what a tracking client (RESP3, or RESP2 with
REDIRECT to a subscribed client) receives when keys it read are changed by itself or others,
flushed, or broadcast under BCAST/PREFIX/NOLOOP; OPTIN/OPTOUT with CLIENT CACHING; a broken
redirect; CLIENT GETREDIR/TRACKINGINFO/LIST; every refusal; INFO's tracking fields. Client ids
are masked (they differ between the servers)."""

from __future__ import annotations

import time

import pytest

from yizhan.testing.raw import RawClient, encode_command


_PONGS = (b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")


def _drain(client: RawClient) -> list[bytes]:
    """Everything the client received without asking: what arrives before the answer to a
    PING (both servers write a push before they read the next request)."""
    client.send_raw(encode_command(["PING"]))
    out = []
    while (reply := client.read_reply()) not in _PONGS:
        out.append(reply)
    return out


class Transcript:
    def __init__(self, port: int):
        self.port = port
        self.lines: list = []
        self.ids: dict[bytes, bytes] = {}
        self.in_multi = False

    def connect(self, proto: int = 2) -> RawClient:
        client = RawClient("127.0.0.1", self.port)
        if proto == 3:
            client.call("HELLO", "3")
        return client

    def client_id(self, client: RawClient) -> str:
        raw = client.call("CLIENT", "ID")
        number = raw[1:-2]
        self.ids.setdefault(number, b"ID%d" % len(self.ids))
        return number.decode()

    def masked(self, raw: bytes) -> bytes:
        for number, name in self.ids.items():
            raw = raw.replace(b":" + number + b"\r\n", b":" + name + b"\r\n")
        return raw

    def call(self, client: RawClient, *args) -> None:
        reply = client.call(*args)
        if args[0] == "CLIENT" and args[1] in ("GETREDIR", "TRACKINGINFO"):
            reply = self.masked(reply)
        shown = tuple("ID" if i and args[i - 1] == "REDIRECT" else a for i, a in enumerate(args))
        # no PING inside MULTI (it would be queued) nor after CLIENT CACHING (it would use it)
        if args[0] == "MULTI" or (args[0] == "CLIENT" and args[1] == "CACHING") or self.in_multi:
            self.in_multi = args[0] != "EXEC" and (self.in_multi or args[0] == "MULTI")
            self.lines.append((shown, reply))
        else:
            self.lines.append((shown, reply, self.pushes(client)))

    def pushes(self, client: RawClient) -> list[bytes]:
        return [self.masked(m) if b"tracking-redir-broken" in m else m for m in _drain(client)]

    def received(self, label: str, client: RawClient) -> None:
        self.lines.append((label, self.pushes(client)))


def _default_mode(port: int, proto: int) -> list:
    t = Transcript(port)
    a, b = t.connect(proto), t.connect()
    with a, b:
        t.call(b, "FLUSHALL")
        redirect = []
        if proto == 2:  # RESP2 needs a subscribed client to redirect to
            r = t.connect()
            redirect = ["REDIRECT", t.client_id(r)]
            t.call(r, "SUBSCRIBE", "__redis__:invalidate")
        else:
            r = a
        t.client_id(a)
        for args in [("CLIENT", "GETREDIR"), ("CLIENT", "TRACKING", "ON", *redirect), ("CLIENT", "GETREDIR"),
                     ("CLIENT", "TRACKINGINFO"), ("GET", "k"), ("SET", "k", "1"), ("MGET", "k", "k2", "k3"),
                     ("HGET", "h", "f"), ("EVAL", "return redis.call('get', KEYS[1])", "1", "s"),
                     ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "ro"), ("SET", "k3", "x")]:
            t.call(a, *args)
        t.received("redirect target", r)
        for args in [("SET", "k2", "x"), ("HSET", "h", "f", "v"), ("SET", "s", "1"), ("SET", "ro", "1"),
                     ("SET", "k2", "y"), ("DEL", "k3")]:
            t.call(b, *args)
        t.received("after other writes", r)
        t.call(a, "GET", "k")
        t.call(b, "FLUSHDB")
        t.received("after flush", r)
        t.call(a, "GET", "k")
        t.call(a, "SET", "e", "1", "PX", "1")
        t.call(a, "MULTI")
        t.call(a, "GET", "m")
        t.call(a, "SET", "m", "1")
        t.call(a, "EXEC")
        t.call(b, "INFO", "clients")
        t.call(a, "CLIENT", "TRACKING", "OFF")
        t.call(a, "CLIENT", "TRACKINGINFO")
        t.call(b, "SET", "k", "2")
        t.received("after off", r)
        if proto == 2:
            r.close()
            time.sleep(0.2)  # both servers notice the closed connection
            t.call(a, "CLIENT", "TRACKING", "ON", *redirect)
            t.call(a, "GET", "k")
            t.call(b, "SET", "k", "3")
            t.call(a, "CLIENT", "TRACKINGINFO")
            t.call(a, "CLIENT", "TRACKING", "OFF")
    return t.lines


def _opt_modes(port: int, proto: int) -> list:
    t = Transcript(port)
    a, b = t.connect(3), t.connect()
    with a, b:
        t.call(b, "FLUSHALL")
        steps = [("CLIENT", "TRACKING", "ON", "OPTIN"), ("GET", "a"), ("CLIENT", "CACHING", "YES"),
                 ("CLIENT", "TRACKINGINFO"), ("GET", "b"), ("GET", "c"), ("CLIENT", "CACHING", "YES"),
                 ("CLIENT", "GETNAME"), ("GET", "d"), ("CLIENT", "CACHING", "YES"), ("MULTI",), ("GET", "e"),
                 ("EXEC",), ("CLIENT", "CACHING", "NO"), ("CLIENT", "TRACKING", "ON", "OPTOUT"),
                 ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "TRACKING", "ON", "OPTOUT", "NOLOOP"),
                 ("GET", "f"), ("CLIENT", "CACHING", "NO"), ("GET", "g"), ("GET", "h"), ("SET", "h", "1"),
                 ("CLIENT", "TRACKINGINFO")]
        for args in steps:
            t.call(a, *args)
        for key in "abcdefgh":
            t.call(b, "SET", key, "1")
        t.received("invalidated", a)
    return t.lines


def _broadcast(port: int, proto: int) -> list:
    t = Transcript(port)
    a, b = t.connect(3), t.connect()
    with a, b:
        t.call(b, "FLUSHALL")
        for args in [("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "user:", "NOLOOP"),
                     ("CLIENT", "TRACKINGINFO"), ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "z"),
                     ("CLIENT", "TRACKINGINFO"), ("SET", "xa", "1")]:
            t.call(a, *args)
        for args in [("SET", "xc", "1"), ("MSET", "xyz", "1", "xz", "2", "ya", "3", "user:1", "4"),
                     ("DEL", "xc", "zz"), ("EVAL", "redis.call('set','xq','1') redis.call('set','xb','1')", "0")]:
            t.call(b, *args)
        t.received("broadcast", a)
        t.call(b, "INFO", "stats")
        c = t.connect(3)
        with c:
            t.call(c, "CLIENT", "TRACKING", "ON", "BCAST")
            t.call(b, "SET", "any", "1")
            t.received("no prefix", c)
            t.call(b, "FLUSHALL")
            t.received("flush bcast", c)
    return t.lines


def _write_paths(port: int, proto: int) -> list:
    """Reads of every kind remembered; writes of every kind (RENAME, MOVE, expiry, list/set/zset
    changes) invalidate; SWAPDB and SORT ... STORE into another key do not touch them."""
    t = Transcript(port)
    a, b = t.connect(3), t.connect()
    with a, b:
        t.call(b, "FLUSHALL")
        for args in [("SET", "r1", "v"), ("SET", "m1", "v"), ("SET", "e1", "v"), ("RPUSH", "l1", "a"),
                     ("SADD", "s1", "a"), ("ZADD", "z1", "1", "a"), ("SET", "sw", "v"), ("RPUSH", "sort", "3", "1")]:
            t.call(b, *args)
        t.call(a, "CLIENT", "TRACKING", "ON")
        for args in [("GET", "r1"), ("GET", "m1"), ("GET", "e1"), ("LRANGE", "l1", "0", "-1"), ("SMEMBERS", "s1"),
                     ("ZSCORE", "z1", "a"), ("GET", "sw"), ("SORT_RO", "sort"), ("STRLEN", "r1"), ("EXISTS", "x1"),
                     ("TYPE", "z1"), ("OBJECT", "ENCODING", "l1"), ("GETRANGE", "m1", "0", "1"),
                     ("ZUNION", "2", "z1", "s1")]:
            t.call(a, *args)
        for args in [("RENAME", "r1", "r2"), ("MOVE", "m1", "1"), ("PEXPIRE", "e1", "1"), ("LPUSH", "l1", "b"),
                     ("SREM", "s1", "a"), ("ZINCRBY", "z1", "1", "a"), ("SWAPDB", "0", "1"), ("SET", "x1", "1"),
                     ("SWAPDB", "0", "1"), ("SORT", "sort", "STORE", "dst"), ("RPUSH", "sort", "9")]:
            t.call(b, *args)
            t.received(args, a)
    return t.lines


REFUSALS = [
    ["CLIENT", "TRACKING", "ON", "PREFIX", "a"], ["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"],
    ["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"], ["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"],
    ["CLIENT", "TRACKING", "ON", "REDIRECT", "x"], ["CLIENT", "TRACKING", "ON", "NOPE"],
    ["CLIENT", "TRACKING", "MAYBE"], ["CLIENT", "TRACKING", "ON", "PREFIX"], ["CLIENT", "TRACKING"],
    ["CLIENT", "CACHING", "YES"], ["CLIENT", "CACHING"], ["CLIENT", "GETREDIR", "x"],
    ["CLIENT", "TRACKINGINFO", "x"], ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "abc"],
    ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x"], ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "xy"],
    ["CLIENT", "TRACKING", "ON"], ["CLIENT", "TRACKING", "ON", "BCAST", "OPTOUT"],
    ["CLIENT", "CACHING", "YES"], ["CLIENT", "TRACKINGINFO"], ["CLIENT", "TRACKING", "OFF"],
    ["CLIENT", "TRACKING", "ON", "OPTIN"], ["CLIENT", "CACHING", "NO"], ["CLIENT", "CACHING", "MAYBE"],
    ["CLIENT", "TRACKING", "ON", "OPTOUT"], ["CLIENT", "TRACKING", "OFF"], ["CLIENT", "GETREDIR"],
    ["COMMAND", "INFO", "client|tracking", "client|caching", "client|getredir", "client|trackinginfo"],
]


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("scenario", [_default_mode, _opt_modes, _broadcast, _write_paths])
def test_tracking_matches_redis(yizhan_server, reference_redis, scenario, proto):
    ours = scenario(yizhan_server.port, proto)
    theirs = scenario(reference_redis.port, proto)
    for mine, reference in zip(ours, theirs):
        if mine[0] == ("INFO", "clients") or mine[0] == ("INFO", "stats"):
            fields = [b"tracking_clients", b"tracking_total_keys", b"tracking_total_items", b"tracking_total_prefixes"]
            assert [line for line in mine[1].split(b"\r\n") if line.split(b":")[0] in fields] == \
                   [line for line in reference[1].split(b"\r\n") if line.split(b":")[0] in fields]
        else:
            assert mine == reference
    assert len(ours) == len(theirs)
    assert any(b"invalidate" in raw for line in ours if isinstance(line[-1], list) for raw in line[-1])


@pytest.mark.parametrize("proto", [2, 3])
def test_refusals_match_redis(differential, proto):
    differential.check(REFUSALS, proto=proto)

"""CLIENT PAUSE/UNPAUSE, CLIENT REPLY and CLIENT NO-EVICT against redis-server 7.0: what each
client receives, in order (a postponed command answers only after UNPAUSE or the pause's
end; reads go on under WRITE), the replies CLIENT REPLY OFF/SKIP leave out, the refusals."""

from __future__ import annotations

import pytest

from yizhan.testing.raw import RawClient, encode_command

REFUSALS = [
    ["CLIENT", "PAUSE"], ["CLIENT", "PAUSE", "x"], ["CLIENT", "PAUSE", "-1"], ["CLIENT", "PAUSE", "100", "NOPE"],
    ["CLIENT", "PAUSE", "100", "write", "x"], ["CLIENT", "UNPAUSE", "x"], ["CLIENT", "UNPAUSE"],
    ["CLIENT", "REPLY"], ["CLIENT", "REPLY", "MAYBE"], ["CLIENT", "REPLY", "ON", "x"],
    ["CLIENT", "NO-EVICT", "maybe"], ["CLIENT", "NO-EVICT", "on"], ["CLIENT", "NO-EVICT", "off"],
    ["CLIENT", "NO-EVICT"], ["CLIENT", "REPLY", "ON"],
    ["COMMAND", "INFO", "client|pause", "client|unpause", "client|reply", "client|no-evict"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_refusals_match_redis(differential, proto):
    differential.check(REFUSALS, proto=proto)


def _pipeline(client: RawClient, *commands) -> None:
    client.send_raw(b"".join(encode_command(list(cmd)) for cmd in commands))


def _reply_transcript(port: int, proto: int) -> list:
    with RawClient("127.0.0.1", port) as a, RawClient("127.0.0.1", port) as b:
        if proto == 3:
            a.call("HELLO", "3")
        a.call("DEL", "k", "nok")
        seen = []
        _pipeline(a, ["CLIENT", "REPLY", "SKIP"], ["PING"], ["ECHO", "after-skip"])
        seen.append(a.read_reply())
        _pipeline(a, ["CLIENT", "REPLY", "OFF"], ["PING"], ["GET", "nok"], ["SET", "k", "v"], ["NOSUCH"],
                  ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["ECHO", "after-off"])
        seen += [a.read_reply(), a.read_reply()]
        _pipeline(a, ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["GET", "k"])
        seen += [a.read_reply(), a.read_reply()]
        if proto == 3:  # pushes are not replies: they still come
            _pipeline(a, ["CLIENT", "REPLY", "OFF"], ["SUBSCRIBE", "ch"])
            b.call("PUBLISH", "ch", "m")
            _pipeline(a, ["CLIENT", "REPLY", "ON"])
            seen += [a.read_reply(), a.read_reply(), a.read_reply()]
        return seen


@pytest.mark.parametrize("proto", [2, 3])
def test_client_reply_matches_redis(yizhan_server, reference_redis, proto):
    assert _reply_transcript(yizhan_server.port, proto) == _reply_transcript(reference_redis.port, proto)


def _pause_transcript(port: int) -> list:
    with RawClient("127.0.0.1", port) as a, RawClient("127.0.0.1", port) as b, \
            RawClient("127.0.0.1", port) as c:
        seen = [a.call("SET", "k", "old"), a.call("CLIENT", "PAUSE", "100000", "WRITE")]
        _pipeline(b, ["SET", "k", "new"], ["PING"], ["GET", "k"])
        _pipeline(c, ["MULTI"], ["INCR", "n"], ["EXEC"], ["GET", "n"])
        seen += [a.call("GET", "k"), a.call("PING"), c.read_reply()]  # reads go on; queued INCR waits
        seen.append(a.call("CLIENT", "PAUSE", "10", "WRITE"))  # shorter: the longer end holds
        seen += [a.call("GET", "k"), a.call("CLIENT", "UNPAUSE")]
        seen += [b.read_reply(), b.read_reply(), b.read_reply(), c.read_reply(), c.read_reply(), c.read_reply()]
        seen.append(a.call("CLIENT", "PAUSE", "200", "ALL"))
        _pipeline(b, ["PING"], ["GET", "k"])
        _pipeline(a, ["CLIENT", "UNPAUSE"], ["ECHO", "unpaused"])  # paused too: waits for the end
        seen += [b.read_reply(), b.read_reply(), a.read_reply(), a.read_reply()]
        seen.append(a.call("CLIENT", "PAUSE", "100000", "WRITE"))
        _pipeline(b, ["BLPOP", "list", "0"])
        _pipeline(c, ["CLIENT", "ID"])
        seen.append(c.read_reply()[:1])
        seen.append(a.call("CLIENT", "UNPAUSE"))
        seen.append(a.call("RPUSH", "list", "x"))
        seen.append(b.read_reply())
        a.call("DEL", "k", "n", "list")
        return seen


def test_client_pause_matches_redis(yizhan_server, reference_redis):
    assert _pause_transcript(yizhan_server.port) == _pause_transcript(reference_redis.port)

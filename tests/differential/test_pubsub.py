"""Differential cases for pub/sub on one connection: confirmations, subscribed-mode rules in
RESP2 (only (P|S)SUBSCRIBE/(P|S)UNSUBSCRIBE/PING/QUIT/RESET) and RESP3 (anything goes), and
the messages a connection receives from its own PUBLISH in RESP3."""

import pytest

CASES = {
    "subscribe-unsubscribe": [["SUBSCRIBE", "a", "b", "a"], ["UNSUBSCRIBE", "a"], ["UNSUBSCRIBE"],
                              ["UNSUBSCRIBE"]],
    "psubscribe": [["PSUBSCRIBE", "news.*", "h?llo"], ["PUNSUBSCRIBE", "nope"], ["PUNSUBSCRIBE"]],
    "subscribed-mode-rules": [["SUBSCRIBE", "a"], ["GET", "x"], ["PING"], ["PING", "hi"], ["SET", "k", "v"],
                              ["PSUBSCRIBE", "p*"], ["UNSUBSCRIBE"], ["PUNSUBSCRIBE"], ["GET", "k"]],
    "ssubscribe": [["SSUBSCRIBE", "s1", "s2"], ["SUNSUBSCRIBE", "s1"], ["SUNSUBSCRIBE"]],
    "publish-no-receivers": [["PUBLISH", "ch", "msg"], ["SPUBLISH", "ch", "msg"]],
    "pubsub-introspection": [["PUBSUB", "CHANNELS"], ["PUBSUB", "NUMSUB", "a", "b"], ["PUBSUB", "NUMPAT"],
                             ["PUBSUB", "SHARDCHANNELS"], ["PUBSUB", "SHARDNUMSUB", "x"],
                             ["PUBSUB", "NOPE"], ["PUBSUB", "CHANNELS", "a", "b"]],
    "arity": [["SUBSCRIBE"], ["PSUBSCRIBE"], ["PUBLISH", "a"], ["SSUBSCRIBE"], ["SPUBLISH", "a"]],
    "reset-leaves-subscribed-mode": [["SUBSCRIBE", "a"], ["RESET"], ["GET", "x"]],
}

RESP3_CASES = {
    "resp3-commands-while-subscribed": [["SUBSCRIBE", "a"], ["SET", "k", "v"], ["GET", "k"], ["PING"],
                                        ["PUBSUB", "NUMSUB", "a"], ["PUBSUB", "CHANNELS"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


@pytest.mark.parametrize("name", sorted(RESP3_CASES))
def test_resp3_matches_redis(differential, name):
    differential.check(RESP3_CASES[name], proto=3)

"""COMMAND's key introspection against redis-server 7.0: the key specs, key positions and arity
that COMMAND INFO reports for every command both servers have (generated from each command's
declaration in the table), COMMAND GETKEYS / GETKEYSANDFLAGS for fixed and movable keys
(keywords, numkeys, SORT's STORE, SET's and BITFIELD's flags), and COMMAND LIST with FILTERBY
(on the command families yizhan has whole: it lacks some of Redis's commands, CLUSTER and ACL).
"""

import hiredis
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from yizhan.testing.raw import RawClient


def decode(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def command_names(port: int) -> set:
    with RawClient("127.0.0.1", port) as client:
        return set(decode(client.call("COMMAND", "LIST")))


def test_every_shared_command_declares_redis_key_specs(yizhan_server, reference_redis):
    """COMMAND INFO's arity, first/last/step and key specs (fields 2, 4-6 and 9) for each
    command and subcommand that both servers have."""
    shared = sorted(command_names(yizhan_server.port) & command_names(reference_redis.port))
    assert len(shared) > 250
    differences = []
    with RawClient("127.0.0.1", yizhan_server.port) as ours, RawClient("127.0.0.1", reference_redis.port) as theirs:
        for proto in (2, 3):
            for client in (ours, theirs):
                client.call("HELLO", str(proto))
            for name in shared:
                mine = decode(ours.call("COMMAND", "INFO", name))[0]
                real = decode(theirs.call("COMMAND", "INFO", name))[0]
                for field in (1, 3, 4, 5, 8):
                    if mine[field] != real[field]:
                        differences.append((proto, name, field, mine[field], real[field]))
    assert not differences, "\n".join(map(repr, differences[:20]))


GETKEYS = [
    ["GET", "k"], ["SET", "k", "v"], ["SET", "k", "v", "GET"], ["SET", "k", "v", "EX", "10", "get"],
    ["MSET", "a", "1", "b", "2"], ["MSET", "a", "1", "b"], ["DEL", "a", "b", "c"], ["LMOVE", "a", "b", "LEFT", "RIGHT"],
    ["BLPOP", "a", "b", "0"], ["RENAME", "a", "b"], ["COPY", "a", "b", "DB", "1"], ["OBJECT", "ENCODING", "k"],
    ["OBJECT", "HELP"], ["MEMORY", "USAGE", "k"], ["BITOP", "AND", "dst", "a", "b"], ["PFMERGE", "d", "a", "b"],
    ["EVAL", "return 1", "2", "a", "b", "c"], ["EVAL", "return 1", "0"], ["EVAL", "return 1", "0", "x"],
    ["EVAL", "return 1", "3", "a"], ["EVAL", "return 1", "-1", "a"], ["EVAL", "return 1", "x", "a"],
    ["EVAL", "return 1", "1abc", "a"], ["EVAL", "return 1", " 1", "a"], ["EVALSHA_RO", "abc", "1", "a", "b"],
    ["FCALL", "f", "2", "a", "b", "c"], ["FCALL_RO", "f", "1", "a"],
    ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"], ["ZUNIONSTORE", "d", "3", "a", "b"],
    ["ZUNIONSTORE", "d", "x", "a", "b"], ["ZINTER", "2", "a", "b", "WITHSCORES"], ["ZDIFF", "1", "a"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"], ["SINTERCARD", "1", "a"], ["SINTERCARD", "0", "a"],
    ["LMPOP", "2", "a", "b", "LEFT"], ["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2"],
    ["ZMPOP", "1", "a", "MIN"], ["BZMPOP", "1.5", "2", "a", "b", "MAX"], ["LMPOP", "5", "a", "LEFT"],
    ["SORT", "k"], ["SORT", "k", "STORE", "d"], ["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d1", "STORE", "d2"],
    ["SORT", "k", "LIMIT", "0", "1", "GET", "store", "ALPHA"], ["SORT", "k", "STORE"], ["SORT_RO", "k", "BY", "x"],
    ["GEORADIUS", "g", "0", "0", "1", "km"], ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
    ["GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST", "d", "STORE", "e"],
    ["GEORADIUSBYMEMBER", "g", "m", "1", "km", "store", "d"], ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["BITFIELD", "k", "GET", "u8", "0"], ["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"], ["BITFIELD", "k", "INCRBY", "u8", "0", "1"],
    ["BITFIELD", "k", "BOGUS"], ["BITFIELD_RO", "k", "GET", "u8", "0"],
    ["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"], ["XREAD", "STREAMS", "a", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"], ["XADD", "s", "*", "f", "v"],
    ["XGROUP", "CREATE", "s", "g", "$"], ["XINFO", "STREAM", "s"],
    ["WATCH", "a", "b"], ["SPUBLISH", "ch", "m"], ["SSUBSCRIBE", "a", "b"], ["PFCOUNT", "a", "b"],
    ["PING"], ["GET"], ["NOSUCH", "x"], ["DEBUG", "DIGEST"], ["OBJECT", "NOSUCH", "k"], ["GEOADD", "g", "1", "2"],
    ["CONFIG", "GET", "x"], ["EXISTS"], ["WAIT", "0", "0"], ["SET", "k"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_getkeys_and_flags_match_redis(differential, proto):
    steps = []
    for command in GETKEYS:
        steps += [["COMMAND", "GETKEYS", *command], ["COMMAND", "GETKEYSANDFLAGS", *command]]
    steps += [["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYS", "GET"], ["COMMAND", "GETKEYSANDFLAGS", "get"]]
    differential.check(steps, proto=proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_command_list_filters_match_redis(differential, proto):
    differential.check([
        ["~COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo"], ["~COMMAND", "LIST", "FILTERBY", "aclcat", "HyperLogLog"],
        ["~COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"], ["~COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"],
        ["~COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG|G*"], ["~COMMAND", "LIST", "FILTERBY", "PATTERN", "object|*"],
        ["~COMMAND", "LIST", "FILTERBY", "pattern", "z*store"], ["~COMMAND", "LIST", "FILTERBY", "PATTERN", "*pop"],
        ["~COMMAND", "LIST", "FILTERBY", "PATTERN", "geo[rs]*"], ["~COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        ["COMMAND", "LIST", "FILTERBY", "BOGUS", "x"], ["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        ["COMMAND", "LIST", "x"], ["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "FILTERBY", "ACLCAT", "geo"],
    ], proto=proto)


WHOLE_INFO = ["command", "command|count", "command|info", "command|docs", "command|list", "command|getkeys",
              "command|getkeysandflags", "command|help", "debug", "debug|digest", "wait", "geoadd", "geodist",
              "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro",
              "geosearch", "geosearchstore"]


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_of_command_debug_wait_and_geo_matches_redis(differential, proto):
    """Whole COMMAND INFO replies (flags, ACL categories, tips, subcommands) for these."""
    differential.check([["COMMAND", "INFO", name] for name in WHOLE_INFO if name != "command"]
                       + [["COMMAND", "COUNT", "x"], ["COMMAND", "GETKEYS"]], proto=proto)


# -- property-based: random argument lists for commands whose keys move ---------------------
MOVABLE = st.sampled_from(["EVAL", "EVALSHA", "EVAL_RO", "FCALL", "FCALL_RO", "ZUNIONSTORE", "ZINTER", "ZDIFFSTORE",
                           "ZINTERCARD", "SINTERCARD", "LMPOP", "BLMPOP", "ZMPOP", "BZMPOP", "SORT", "SORT_RO",
                           "GEORADIUS", "GEORADIUSBYMEMBER", "XREAD", "XREADGROUP", "SET", "BITFIELD", "MSET",
                           "BLPOP", "DEL", "BITOP", "GEOSEARCHSTORE", "OBJECT", "MIGRATE"])
WORDS = st.sampled_from(["0", "1", "2", "3", "-1", "x", "k1", "k2", "STORE", "store", "STOREDIST", "STREAMS", "GET",
                         "BY", "LIMIT", "KEYS", "SET", "INCRBY", "OVERFLOW", "u8", "GROUP", "COUNT", "ENCODING",
                         "1abc", " 2", "", "AUTH", "AUTH2", "COPY"])


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(name="MIGRATE", args=["KEYS", "0", "0", "0", "0", "KEYS"])  # a backward keyword search skips argument 1
@given(name=MOVABLE, args=st.lists(WORDS, max_size=9))
def test_getkeys_of_random_arguments_match_redis(differential, proto, name, args):
    differential.check([["COMMAND", "GETKEYS", name, *args], ["COMMAND", "GETKEYSANDFLAGS", name, *args]],
                       proto=proto)

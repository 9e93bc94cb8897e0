"""The key-spec notation of the command table and the key search it drives (Redis's
getKeysUsingKeySpecs), on declarations no yizhan command has yet: a keyword searched backwards
from the end (MIGRATE's KEYS), an incomplete spec, a range with a limit."""

from yizhan.redis.table import Command, KeySpec, command_keys, has_keys, key_specs_reply, parse_key_specs
from yizhan.resp import encode


def make(specs: str, arity: int = -2, getkeys=None) -> Command:
    return Command("x", arity, ("write",), (0, 0, 0), None, "generic", "1.0.0", "", "X",
                   key_specs=parse_key_specs(specs), getkeys=getkeys)


def test_notation_orders_flags_as_redis_prints_them_and_defaults_to_one_key():
    spec, = parse_key_specs("delete access RW index:3 -- some notes, with commas")
    assert spec == KeySpec(("RW", "access", "delete"), ("index", 3), ("range", 0, 1, 0), "some notes, with commas")
    first, second = parse_key_specs("RO keyword:STREAMS:1 range:-1:1:2; not_key unknown")
    assert first.begin == ("keyword", "STREAMS", 1) and first.find == ("range", -1, 1, 2)
    assert second.begin == second.find == ("unknown",)


def test_reply_shape():
    reply = key_specs_reply(make("RO access keyword:KEYS:-2 range:-1:1:0 -- n"))
    assert encode(reply, 2) == (
        b"*1\r\n*8\r\n$5\r\nnotes\r\n$1\r\nn\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
        b"*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$4\r\nKEYS\r\n$9\r\nstartfrom\r\n"
        b":-2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n"
        b"$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n")


def test_keyword_searched_backwards_from_the_end():
    migrate = make("RW access delete index:3; RW access delete incomplete keyword:KEYS:-2 range:-1:1:0",
                   getkeys=lambda argv: [(99, ())])
    # without KEYS that spec finds nothing and the search is complete; with it, the incomplete
    # spec makes the search give up and the command's own getkeys answers
    assert command_keys(migrate, [b"MIGRATE", b"h", b"p", b"k", b"0", b"5"]) == [(3, ("RW", "access", "delete"))]
    assert command_keys(migrate, [b"MIGRATE", b"h", b"p", b"", b"0", b"5", b"KEYS", b"a"]) == [(99, ())]
    complete = make("RW index:3; RO keyword:KEYS:-2 range:-1:1:0")
    argv = [b"MIGRATE", b"h", b"p", b"", b"0", b"5", b"KEYS", b"a", b"b"]
    assert command_keys(complete, argv) == [(3, ("RW",)), (7, ("RO",)), (8, ("RO",))]
    assert command_keys(complete, argv[:6]) == [(3, ("RW",))]  # no KEYS: that spec finds nothing


def test_range_with_a_limit_takes_the_first_share_of_the_rest():
    xread = make("RO access keyword:STREAMS:1 range:-1:1:2")
    argv = [b"XREAD", b"COUNT", b"1", b"STREAMS", b"a", b"b", b"c", b"0", b"0", b"0"]
    assert [position for position, _ in command_keys(xread, argv)] == [4, 5, 6]


def test_not_key_specs_count_as_no_keys():
    assert not has_keys(make("not_key index:1"))
    assert has_keys(make("not_key index:1", getkeys=lambda argv: []))
    assert has_keys(make("RO index:1"))

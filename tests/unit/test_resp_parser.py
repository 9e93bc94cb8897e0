"""The request parser, fed bytes split at every offset, and the reply encoder, byte for byte."""

import pytest
from hypothesis import given, settings, strategies as st

from yizhan.resp import NULL_ARRAY, OK, ErrorReply, ProtocolError, Push, RequestParser, Simple, Verbatim, encode
from yizhan.resp.parser import split_args
from yizhan.testing.raw import encode_command

PIPELINE = (
    b"*1\r\n$4\r\nPING\r\n"
    b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$5\r\nv\x00\r\nx\r\n"
    b"*0\r\n"
    b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
)
EXPECTED = [[b"PING"], [b"SET", b"k\r\n", b"v\x00\r\nx"], [b"GET", b""]]


def parse_all(parser: RequestParser) -> list:
    commands = []
    while (command := parser.next_command()) is not None:
        commands.append(command)
    return commands


def test_pipeline_in_one_chunk():
    parser = RequestParser()
    parser.feed(PIPELINE)
    assert parse_all(parser) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(PIPELINE)))
def test_pipeline_split_at_every_offset(cut):
    parser = RequestParser()
    parser.feed(PIPELINE[:cut])
    commands = parse_all(parser)
    parser.feed(PIPELINE[cut:])
    commands += parse_all(parser)
    assert commands == EXPECTED


def test_pipeline_fed_byte_by_byte():
    parser = RequestParser()
    commands = []
    for i in range(len(PIPELINE)):
        parser.feed(PIPELINE[i : i + 1])
        commands += parse_all(parser)
    assert commands == EXPECTED


INLINE = b"PING\r\nSET k \"a b\\x41\\n\" 'it\\'s'\n\r\n  ECHO   x  \r\n"


@pytest.mark.parametrize("cut", range(0, len(INLINE) + 1))
def test_inline_split_at_every_offset(cut):
    parser = RequestParser()
    parser.feed(INLINE[:cut])
    commands = parse_all(parser)
    parser.feed(INLINE[cut:])
    commands += parse_all(parser)
    assert commands == [[b"PING"], [b"SET", b"k", b"a bA\n", b"it's"], [b"ECHO", b"x"]]


def test_inline_then_multibulk_in_separate_reads():
    parser = RequestParser()
    parser.feed(b"PING\r\n")
    assert parse_all(parser) == [[b"PING"]]
    parser.feed(b"*1\r\n$4\r\nPING\r\n")
    assert parse_all(parser) == [[b"PING"]]
    parser.feed(b"ECHO hi\r\n")
    assert parse_all(parser) == [[b"ECHO", b"hi"]]


@pytest.mark.parametrize("line", [b'SET "abc', b"SET 'abc", b'SET "a"b', b"SET 'a'b"])
def test_unbalanced_quotes_are_a_protocol_error(line):
    parser = RequestParser()
    parser.feed(line + b"\r\n")
    with pytest.raises(ProtocolError, match="unbalanced quotes"):
        parser.next_command()


def test_split_args_matches_sdssplitargs():
    assert split_args(b'  a  "b\\tc"  \'d e\'  ') == [b"a", b"b\tc", b"d e"]
    assert split_args(b'"\\x4g"') == [b"x4g"]
    assert split_args(b"") == []


def test_non_bulk_element_is_a_protocol_error():
    parser = RequestParser()
    parser.feed(b"*2\r\n$3\r\nGET\r\n:1\r\n")
    with pytest.raises(ProtocolError, match="expected '\\$', got ':'"):
        parser.next_command()


@pytest.mark.parametrize("element, error", [
    (b"+OK\r\n", "expected '$', got '+'"), (b"=5\r\ntxt:x\r\n", "expected '$', got '='"),
    (b"(12\r\n", "expected '$', got '('"), (b"~1\r\n$1\r\nx\r\n", "expected '$', got '~'"),
    (b">1\r\n$1\r\nx\r\n", "expected '$', got '>'")])
@pytest.mark.parametrize("before", [b"$1\r\n>\r\n", b"$3\r\na$1\r\n", b"$2\r\n\n+\r\n"])
def test_other_types_after_bulks_that_look_like_them(before, element, error):
    """A bulk such as XREADGROUP's ">" (a line starting with a RESP type byte) lets hiredis
    parse the read, and its result is checked against the bytes: an element of another type
    after it is still Redis's protocol error, wherever it stands."""
    parser = RequestParser()
    parser.feed(encode_command([b"PING"]) + b"*3\r\n$4\r\nECHO\r\n" + before + element)
    assert parser.next_command() == [b"PING"]
    with pytest.raises(ProtocolError) as raised:
        parser.next_command()
    assert str(raised.value) == "Protocol error: " + error


@pytest.mark.parametrize("cut", range(0, 64, 7))
def test_bulks_that_look_like_other_types_are_plain_arguments(cut):
    stream = (encode_command([b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"s", b">"])
              + encode_command([b"SET", b"+k", b"=v", b"(x", b"~", b"%", b"|"]) + encode_command([b"PING"]))
    parser = RequestParser()
    parser.feed(stream[:cut])
    got = parse_all(parser)
    parser.feed(stream[cut:])
    got += parse_all(parser)
    assert got == [[b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"s", b">"],
                   [b"SET", b"+k", b"=v", b"(x", b"~", b"%", b"|"], [b"PING"]]


def test_too_big_inline_request():
    parser = RequestParser()
    parser.feed(b"x" * (64 * 1024 + 1))
    with pytest.raises(ProtocolError, match="too big inline request"):
        parser.next_command()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.binary(max_size=40), min_size=1, max_size=5), min_size=1, max_size=6),
       st.data())
def test_any_commands_survive_any_split(commands, data):
    stream = b"".join(encode_command(c) for c in commands)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    parser = RequestParser()
    got, last = [], 0
    for cut in cuts + [len(stream)]:
        parser.feed(stream[last:cut])
        last = cut
        got += parse_all(parser)
    assert got == commands


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_protocol_error(data):
    parser = RequestParser()
    parser.feed(data)
    try:
        for command in iter(parser.next_command, None):
            assert command and all(type(arg) is bytes for arg in command)
    except ProtocolError:
        pass


# -- encoder -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, resp2, resp3", [
    (b"hi", b"$2\r\nhi\r\n", b"$2\r\nhi\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (42, b":42\r\n", b":42\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
    ({b"a"}, b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (Verbatim("x"), b"$1\r\nx\r\n", b"=5\r\ntxt:x\r\n"),
    (Push([b"message"]), b"*1\r\n$7\r\nmessage\r\n", b">1\r\n$7\r\nmessage\r\n"),
    (ErrorReply("ERR bad\r\nthing"), b"-ERR bad  thing\r\n", b"-ERR bad  thing\r\n"),
    (Simple("QUEUED"), b"+QUEUED\r\n", b"+QUEUED\r\n"),
])
def test_encoding(value, resp2, resp3):
    assert encode(value, 2) == resp2
    assert encode(value, 3) == resp3

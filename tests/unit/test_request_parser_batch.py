"""Requests of many arguments are checked with a C loop (issue 6): the result, and the error
for an element that is not a bulk string, must be those of checking element by element."""

import pytest
from hypothesis import given, settings, strategies as st

from yizhan.resp import ProtocolError, RequestParser
from yizhan.resp.parser import CLEAN, PYTHON, VERIFY, _suspect

BULK = st.binary(max_size=30).map(lambda b: b"$%d\r\n%b\r\n" % (len(b), b))
OTHER = st.sampled_from([(b":12\r\n", ":"), (b"*1\r\n$1\r\na\r\n", "*"), (b"_\r\n", "_"),
                         (b"-ERR x\r\n", "-")])


@given(st.lists(st.binary(max_size=30), min_size=1, max_size=30))
def test_bulk_arrays_parse_to_their_elements(args):
    parser = RequestParser()
    parser.feed(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args))
    assert parser.next_command() == args
    assert parser.next_command() is None


@given(st.lists(BULK, min_size=1, max_size=12), OTHER, st.data())
def test_a_non_bulk_element_is_the_same_protocol_error(bulks, other, data):
    raw, type_byte = other
    at = data.draw(st.integers(0, len(bulks)))
    elements = bulks[:at] + [raw] + bulks[at:]
    parser = RequestParser()
    parser.feed(b"*%d\r\n" % len(elements) + b"".join(elements))
    with pytest.raises(ProtocolError) as raised:
        parser.next_command()
    assert str(raised.value) == f"Protocol error: expected '$', got '{type_byte}'"


def encoded(args: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


@given(st.lists(st.lists(st.binary(max_size=10), min_size=1, max_size=5), min_size=1, max_size=20),
       st.data())
def test_next_commands_takes_every_complete_request_of_any_split(requests, data):
    """One batch per read, whatever the cut points: the requests come out whole and in order,
    a half-read request stays buffered, and `unread` gives requests back first."""
    stream = b"".join(encoded(r) for r in requests)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    parser = RequestParser()
    taken: list = []
    for start, end in zip([0] + cuts, cuts + [len(stream)]):
        if end > start:
            parser.feed(stream[start:end])
        batch = parser.next_commands()
        if len(batch) > 1:
            parser.unread(batch[1:])
            assert parser.next_commands() == batch[1:]
        taken += batch
    assert taken == requests
    assert parser.next_commands() == []


def test_a_protocol_error_comes_after_the_requests_before_it():
    parser = RequestParser()
    parser.feed(encoded([b"PING"]) + encoded([b"GET", b"k"]) + b"*2\r\n$3\r\nGET\r\n:1\r\n")
    assert parser.next_commands() == [[b"PING"], [b"GET", b"k"]]
    with pytest.raises(ProtocolError) as raised:
        parser.next_commands()
    assert str(raised.value) == "Protocol error: expected '$', got ':'"


def test_empty_and_null_arrays_are_ignored_in_a_batch():
    parser = RequestParser()
    parser.feed(b"*0\r\n" + encoded([b"PING"]) + b"*-1\r\n" + encoded([b"ECHO", b"x"]))
    assert parser.next_commands() == [[b"PING"], [b"ECHO", b"x"]]
    parser.feed(b"PING\r\n")  # an inline request in a later read
    assert parser.next_commands() == [[b"PING"]]


FRAGMENTS = st.sampled_from([b"\n*12345\r\n", b"\r\n$1234567\r\n", b"\n+OK\r\n", b"*0\r\n", b"\n=5\r\ntxt:x",
                             b"\n>1000\r\n", b"*2147483647", b"\x00", b"\r", b"\n"])
ARG = st.one_of(st.binary(max_size=12), st.lists(FRAGMENTS, min_size=1, max_size=3).map(b"".join))
INLINE = st.lists(st.sampled_from([b"PING", b"ECHO", b"x", b"\"a b\""]), min_size=1, max_size=3)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.lists(ARG, min_size=1, max_size=5).map(lambda a: ("multi", a)),
                          INLINE.map(lambda words: ("inline", words)),
                          st.just(("ignored", b"*0\r\n")), st.just(("ignored", b"*-7\r\n"))),
                min_size=1, max_size=15),
       st.data())
def test_hiredis_and_the_python_parser_hand_over_at_request_boundaries(requests, data):
    """Requests whose values look like headers, inline requests between multibulk ones and
    ignored counts, cut anywhere: each comes out once, whole, in order, whichever parser
    takes which part."""
    stream, expected = b"", []
    for kind, value in requests:
        if kind == "multi":
            stream += encoded(value)
            expected.append(value)
        elif kind == "inline":
            stream += b" ".join(value) + b"\r\n"
            expected.append([b"a b" if word == b'"a b"' else word for word in value])
        else:
            stream += value
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    parser = RequestParser()
    taken: list = []
    for start, end in zip([0] + cuts, cuts + [len(stream)]):
        if end > start:
            parser.feed(stream[start:end])
        taken += parser.next_commands()
    taken += parser.next_commands()
    assert taken == expected
    assert parser.buffered == 0


@pytest.mark.parametrize("prefix", [b"", b"*1\r\n$3\r\nxxx\r\n" * 30])  # short and long reads
@pytest.mark.parametrize("rare", list(b"+=(~>%|"))
def test_rare_bytes_are_seen_in_short_and_long_reads(prefix, rare):
    """The rare-byte test takes one pass below 256 bytes and memchr calls above: both see a
    RESP3 header (Python parser) or a one-byte type (hiredis checked)."""
    data = prefix + b"*1\r\n" + bytes([rare]) + b"1234\r\n"
    assert _suspect(data) == (PYTHON if rare in b"~>%|" else VERIFY)
    assert _suspect(prefix + b"*1\r\n$1\r\nx\r\n") == CLEAN

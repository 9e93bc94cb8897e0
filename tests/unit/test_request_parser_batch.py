"""Requests of many arguments are checked with a C loop (issue 6): the result, and the error
for an element that is not a bulk string, must be those of checking element by element."""

import pytest
from hypothesis import given, strategies as st

from yizhan.resp import ProtocolError, RequestParser

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

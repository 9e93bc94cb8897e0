"""Arrays of bulk strings take the encoder's C-level path (issue 6); its bytes must be exactly
those of encoding each item on its own, whatever the items are."""

from hypothesis import given, strategies as st

from yizhan.resp import NULL_ARRAY, ErrorReply, Simple
from yizhan.resp.encoder import BulkStrings, SameSizeBulkStrings, encode

ITEM = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=1020, max_size=1030),   # around the cached-head limit
    st.integers(-10**6, 10**6),
    st.none(),
    st.just(Simple("OK")),
    st.builds(bytearray, st.binary(max_size=5)),
)


def _one_by_one(items, proto: int) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(encode(item, proto) for item in items)


@given(st.lists(ITEM, max_size=40), st.sampled_from([2, 3]))
def test_array_is_its_items_encoded_one_by_one(items, proto):
    assert encode(items, proto) == _one_by_one(items, proto)
    assert encode(tuple(items), proto) == _one_by_one(items, proto)


@given(st.lists(st.binary(max_size=20), min_size=8, max_size=200))
def test_array_of_bulk_strings(items):
    expected = b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%b\r\n" % (len(i), i) for i in items)
    assert encode(items) == expected


def test_nested_and_marker_items_still_encode_as_before():
    items = [b"a"] * 8 + [[b"x", 1], NULL_ARRAY, ErrorReply("ERR e")]
    assert encode(items, 2) == (b"*11\r\n" + b"$1\r\na\r\n" * 8 + b"*2\r\n$1\r\nx\r\n:1\r\n*-1\r\n-ERR e\r\n")


@given(st.lists(st.one_of(st.binary(max_size=20), st.binary(min_size=1020, max_size=1030)), max_size=40),
       st.sampled_from([2, 3]))
def test_bulk_strings_marker_encodes_as_a_plain_array(items, proto):
    assert encode(BulkStrings(items), proto) == _one_by_one(items, proto)


@given(st.integers(0, 1030), st.lists(st.integers(0, 255), max_size=40), st.sampled_from([2, 3]))
def test_bulk_strings_of_one_length_encode_as_a_plain_array(size, fills, proto):
    """Items all of one length take the one-separator join; the bytes are the same."""
    items = [bytes([fill]) * size for fill in fills]
    assert encode(BulkStrings(items), proto) == _one_by_one(items, proto)


@given(st.integers(0, 1030), st.lists(st.integers(0, 255), max_size=40), st.sampled_from([2, 3]))
def test_same_size_bulk_strings_encode_as_a_plain_array(size, fills, proto):
    """Items proved all of one length (LRANGE in one node) take one join; the bytes are the
    same, up to and beyond the ready-made heads."""
    items = [bytes([fill]) * size for fill in fills]
    assert encode(SameSizeBulkStrings(items, size), proto) == _one_by_one(items, proto)

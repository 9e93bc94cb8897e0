"""The sorted set value type and its parsing helpers, without a server: `strtod` against the C
library's own strtod (through ctypes), the ZSet structure against a naive sorted-list model, and
score/lex ranges against a literal transcription of Redis's listpack walk."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.redis.commands import zsets
from yizhan.redis.commands.zsets import LexRange, ScoreRange
from yizhan.redis.floats import parse_double, strtod
from yizhan.redis.types.zsets import ZSet
from yizhan.resp import ErrorReply

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.strtod.restype = ctypes.c_double
_libc.strtod.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
ERANGE = 34


def c_strtod(text: bytes) -> tuple[float, int, bool]:
    """The C library's answer: (value, characters consumed, errno == ERANGE)."""
    buffer = ctypes.create_string_buffer(text)
    end = ctypes.c_char_p()
    ctypes.set_errno(0)
    value = _libc.strtod(buffer, ctypes.byref(end))
    erange = ctypes.get_errno() == ERANGE
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buffer)
    return value, consumed, erange


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


NUMBERISH = st.text(alphabet="0123456789+-.eEpPxXaAfFinINtyY() \t_", max_size=14).map(str.encode)
SAMPLES = [b"", b" ", b"1", b" 1", b"1 ", b"-0", b"+.5", b"5.", b".", b"1e", b"1e+", b"1e-400", b"1e400",
           b"-1e400", b"1e-310", b"0x", b"0x1p-2", b"0x.8", b"0X1P3", b"0x1p-1080", b"0x1p99999", b"inf",
           b"-Infinity", b"infinit", b"nan", b"NaN(123)", b"nan(", b"1_0", b"0x1A", b"1A", b"00012",
           b"123456789012345678", b"4.9e-324", b"2.4e-324", b"1.7976931348623157e308", b"1.8e308",
           b"0x1p-1074", b"0x1.8p-1074", b"0x3p-1075", b"0x1p-1075", b"0x1p-1022", b"0x1.000001p-1050",
           b"1e-99999999999", b"0x1p-99999999999", b"0x1p+99999999999", b"1e+99999999999",
           b"2.2250738585072014e-308", b"2.2250738585072011e-308", b"9.8813129168249309e-324"]


@pytest.mark.parametrize("text", SAMPLES)
def test_strtod_matches_the_c_library(text):
    value, consumed, erange = strtod(text)
    c_value, c_consumed, c_erange = c_strtod(text)
    assert consumed == c_consumed
    assert same_float(value, c_value)
    assert erange == c_erange


@settings(max_examples=400, deadline=None)
@given(NUMBERISH)
def test_strtod_matches_the_c_library_on_random_text(text):
    value, consumed, erange = strtod(text)
    c_value, c_consumed, c_erange = c_strtod(text)
    assert consumed == c_consumed
    assert same_float(value, c_value)
    assert erange == c_erange


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.0, max_value=1e-300), st.integers(0, 25), st.booleans())
def test_strtod_erange_matches_the_c_library_near_underflow(x, digits, hexadecimal):
    """Inexact subnormals, exact ones and zeros: the ERANGE cases SORT tells apart."""
    text = (x.hex() if hexadecimal else "%.*e" % (digits, x)).encode()
    value, consumed, erange = strtod(text)
    c_value, c_consumed, c_erange = c_strtod(text)
    assert (consumed, erange) == (c_consumed, c_erange) and same_float(value, c_value)


def string2d(text: bytes) -> float | None:
    """Redis's string2d, literally, on top of the C library."""
    value, consumed, erange = c_strtod(text)
    if (not text or text[:1].isspace() or consumed != len(text)
            or (erange and (math.isinf(value) or value == 0)) or math.isnan(value)):
        return None
    return value


@settings(max_examples=300, deadline=None)
@given(st.one_of(NUMBERISH, st.sampled_from(SAMPLES)))
def test_parse_double_is_string2d(text):
    expected = string2d(text)
    if expected is None:
        with pytest.raises(ErrorReply, match="not a valid float"):
            parse_double(text)
    else:
        assert same_float(parse_double(text), expected)


def test_parse_double_rejects_nul_and_uses_the_given_message():
    with pytest.raises(ErrorReply, match="value is not a valid float"):
        parse_double(b"1\x00")
    with pytest.raises(ErrorReply, match="^weight"):
        parse_double(b"x", "weight value is not a float")


# -- the ZSet structure -------------------------------------------------------------------
OPS = st.lists(st.tuples(st.sampled_from(["add", "rem", "rescore"]),
                         st.sampled_from([b"", b"a", b"b", b"ab", b"B", b"\xff", b"a\x00"]),
                         st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.0, math.inf, -math.inf])), max_size=40)


@settings(max_examples=200, deadline=None)
@given(OPS, st.booleans())
def test_zset_agrees_with_a_sorted_model(ops, listpack):
    zs, model = ZSet(listpack), {}
    for op, member, score in ops:
        if op == "add" and member not in model:
            zs.insert(member, score)
            model[member] = score
        elif op == "rem":
            assert zs.remove(member) == (member in model)
            model.pop(member, None)
        elif op == "rescore" and member in model:
            zs.rescore(member, model[member], score)
            model[member] = score
    expected = sorted((s, m) for m, s in model.items())
    assert list(zs.order) == expected and len(zs) == len(model)
    for rank, (score, member) in enumerate(expected):
        assert zs.rank(member) == rank
        assert zs.scores[member] == score
        if listpack and score == 0:
            assert math.copysign(1, zs.scores[member]) == 1  # stored as the integer 0
    assert zs.rank(b"absent") is None


def test_negative_zero_survives_only_in_a_skiplist():
    lp, sl = ZSet(listpack=True), ZSet(listpack=False)
    for zs in (lp, sl):
        zs.insert(b"m", -0.0)
    assert math.copysign(1, lp.scores[b"m"]) == 1
    assert math.copysign(1, sl.scores[b"m"]) == -1


def test_copy_is_independent_and_keeps_the_encoding():
    zs = ZSet(listpack=False)
    for i in range(5):
        zs.insert(b"m%d" % i, float(i))
    other = zs.copy()
    other.insert(b"x", 0.5)
    other.remove(b"m0")
    assert len(zs) == 5 and b"x" not in zs.scores and zs.rank(b"m0") == 0
    assert other.encoding() == "skiplist" and ZSet().encoding() == "listpack"


def test_scan_table_follows_changes_once_built():
    zs = ZSet(listpack=False)
    zs.insert(b"a", 1.0)
    table = zs.scan_table()
    zs.insert(b"b", 2.0)
    zs.remove(b"a")
    zs.insert(b"c", 3.0)
    zs.remove_slice(0, 1)  # b
    assert sorted(table) == [b"c"]


# -- ranges against Redis's listpack walk ---------------------------------------------------
def redis_walk(items, gte_min, lte_max, reverse, offset, limit, empty):
    """genericZrangebyscoreCommand/-bylex over a listpack, transcribed: find the first (last)
    element in range by a linear scan, skip `offset` without checking, then emit while in range."""
    if empty or not items or not gte_min(items[-1]) or not lte_max(items[0]):
        return []
    if offset > 0 and offset >= len(items):
        return []
    seq = list(reversed(items)) if reverse else list(items)
    start = None
    for i, item in enumerate(seq):
        if (lte_max(item) if reverse else gte_min(item)):
            start = i if (gte_min(item) if reverse else lte_max(item)) else None
            break
    if start is None or offset < 0:
        return []
    out = []
    for item in seq[start + offset:]:
        if limit == 0:
            break
        if not (gte_min(item) if reverse else lte_max(item)):
            break
        out.append(item)
        limit -= 1
    return out


BOUNDS = st.sampled_from([b"-inf", b"+inf", b"0", b"(0", b"1", b"(1", b"1.5", b"(1.5", b"-2", b"(-2", b"(inf",
                          b"(-inf", b"3", b"(3"])
LEX_BOUNDS = st.sampled_from([b"-", b"+", b"[", b"(", b"[a", b"(a", b"[ab", b"(ab", b"[b", b"(b", b"[\xff", b"(B"])
MEMBERS = st.sampled_from([b"", b"a", b"ab", b"b", b"B", b"\xff", b"a\x00", b"c"])


def build(entries, listpack):
    zs = ZSet(listpack)
    for member, score in entries.items():
        zs.insert(member, score)
    return zs


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(MEMBERS, st.sampled_from([0.0, 1.0, 1.5, -2.0, 3.0, math.inf, -math.inf])),
       BOUNDS, BOUNDS, st.booleans(), st.integers(-2, 9), st.integers(-2, 9))
def test_score_ranges_match_the_listpack_walk(entries, lo, hi, reverse, offset, limit):
    zs = build(entries, listpack=True)
    rng = ScoreRange(lo, hi)
    start, stop = zsets._walk(zs, rng, reverse, offset, limit)
    got = list(zs.order)[start:stop]
    if reverse:
        got.reverse()
    empty = rng.lo > rng.hi or (rng.lo == rng.hi and (rng.loex or rng.hiex))
    assert got == redis_walk(list(zs.order), rng.gte_min, rng.lte_max, reverse, offset, limit, empty)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(MEMBERS, st.sampled_from([0.0, 1.0])), st.booleans(),
       LEX_BOUNDS, LEX_BOUNDS, st.booleans(), st.integers(-2, 9), st.integers(-2, 9))
def test_lex_ranges_match_the_listpack_walk(entries, uniform, lo, hi, reverse, offset, limit):
    if uniform:
        entries = {member: 0.0 for member in entries}
    zs = build(entries, listpack=True)
    rng = LexRange(lo, hi)
    start, stop = zsets._walk(zs, rng, reverse, offset, limit)
    got = list(zs.order)[start:stop]
    if reverse:
        got.reverse()
    assert got == redis_walk(list(zs.order), rng.gte_min, rng.lte_max, reverse, offset, limit, rng.empty)


@pytest.mark.parametrize("bound", [b"", b"a", b"+a", b"-a", b"x"])
def test_invalid_lex_bounds(bound):
    with pytest.raises(ErrorReply, match="min or max not valid string range item"):
        LexRange(bound, b"+")


@pytest.mark.parametrize("lo, hi", [(b"x", b"1"), (b"1", b"nan"), (b"((1", b"2"), (b"1 ", b"2"), (b" ", b"2")])
def test_invalid_score_bounds(lo, hi):
    with pytest.raises(ErrorReply, match="min or max is not a float"):
        ScoreRange(lo, hi)


def test_lax_score_bounds_as_zslparserange():
    rng = ScoreRange(b"", b"(")  # "" is 0; "(" is 0, exclusive
    assert (rng.lo, rng.loex, rng.hi, rng.hiex) == (0.0, False, 0.0, True)
    rng = ScoreRange(b" 1", b"2\x00junk")
    assert (rng.lo, rng.hi) == (1.0, 2.0)


@pytest.mark.parametrize("score, text", [(3.0, b"3"), (-0.0, b"0"), (1e17, b"100000000000000000"),
                                         (2.0 ** 62, b"4611686018427387904"), (2.0 ** 63, b"9.2233720368547758e+18"),
                                         (1.1, b"1.1000000000000001"), (math.inf, b"inf"), (-math.inf, b"-inf")])
def test_listpack_score_text(score, text):
    assert zsets._listpack_score(score) == text


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), size=st.sampled_from([0, 1, 5, 100, 128, 2500, 7000]),
       distinct=st.sampled_from([3, 400, 100000]),
       bounds=st.lists(st.tuples(st.integers(-5, 100005), st.integers(-5, 100005)), min_size=1, max_size=8))
def test_between_is_the_half_open_score_range(seed, size, distinct, bounds):
    """ZSet.between(low, high): the (score, member) pairs with low <= score < high in order, in
    both encodings (a skiplist of thousands spans several SortedList sublists)."""
    rng = random.Random(seed)
    scores = [rng.randrange(distinct) for _ in range(size)]
    zs = ZSet(listpack=size <= 128)
    for i, score in enumerate(scores):
        zs.insert(b"m%d" % i, float(score))
    model = sorted((float(score), b"m%d" % i) for i, score in enumerate(scores))
    bounds = bounds + [(rng.randrange(distinct), rng.randrange(distinct)) for _ in range(4)]
    for low, high in bounds:
        expected = [pair for pair in model if low <= pair[0] < high]
        assert zs.between(float(low), float(high)) == expected

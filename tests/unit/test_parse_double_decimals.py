"""parse_double's shortcut for plain decimals ([-]digits[.digits], up to 20 bytes) must give
what its general path (an emulation of glibc's strtod) gives, bit for bit, and refuse what it
refuses."""

import math
import random

import pytest

from yizhan.redis.floats import parse_double, strtod
from yizhan.resp import ErrorReply


def _general(raw: bytes) -> float:
    value, end, _ = strtod(raw)
    assert end == len(raw)
    return value


def _decimals(rng: random.Random, count: int):
    for _ in range(count):
        whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 10)))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 18 - len(whole))))
        if not whole and not frac:
            continue
        text = whole + ("." + frac if frac or rng.random() < 0.3 else "")
        yield (("-" if rng.random() < 0.5 else "") + text).encode()


def test_plain_decimals_equal_strtod():
    rng = random.Random(15)
    cases = list(_decimals(rng, 20000)) + [b"2.3522", b"48.8566", b"-0", b"-0.0", b"0.", b".5", b"-.5", b"5.",
                                             b"0.1", b"9007199254740993", b"0.30000000000000004441",
                                             b"179.99999999999999999"]
    for raw in cases:
        ours, theirs = parse_double(raw), _general(raw)
        assert ours == theirs and math.copysign(1, ours) == math.copysign(1, theirs), raw


@pytest.mark.parametrize("raw", [b".", b"-", b"-.", b"1.2.3", b"1.-2", b"--1", b" 1.5", b"1.5 ", b"1,5", b""])
def test_not_decimals_still_refused(raw):
    with pytest.raises(ErrorReply):
        parse_double(raw)

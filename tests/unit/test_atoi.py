"""args.atoi as glibc's atoi, (int) strtol: a value beyond a long is clamped to it before the
cast to int (so 99999999999999999999 is -1, as MIGRATE's port and numkeys read it)."""

import pytest

from yizhan.redis.args import atoi


@pytest.mark.parametrize("raw,value", [
    (b"12", 12), (b"  -7x", -7), (b"+3", 3), (b"x", 0), (b"", 0), (b"4294967297", 1), (b"2147483648", -2147483648),
    (b"99999999999999999999", -1), (b"-99999999999999999999", 0), (b"9223372036854775807", -1),
])
def test_atoi_as_glibc(raw, value):
    assert atoi(raw) == value

"""MEMORY: error replies match redis-server; usage figures are estimates (shape only)."""

import pytest

CASES = {
    "usage": [["SET", "k", "hello"], ["?MEMORY", "USAGE", "k"], ["MEMORY", "USAGE", "nokey"],
              ["MEMORY", "USAGE", "k", "SAMPLES", "x"], ["MEMORY", "USAGE", "k", "foo", "1"],
              ["?MEMORY", "USAGE", "k", "SAMPLES", "0"], ["MEMORY", "USAGE"], ["MEMORY", "NOPE"],
              ["MEMORY", "HELP"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)


def test_usage_grows_with_the_value(yizhan_redis):
    yizhan_redis.set("small", "x")
    yizhan_redis.set("big", "x" * 100_000)
    assert yizhan_redis.memory_usage("big") > yizhan_redis.memory_usage("small") + 90_000

"""Differential cases for LOLWUT against redis-server 7.0, and redis-py's lolwut().

What is byte-identical: LOLWUT without VERSION (or with a VERSION other than 5 and 6, including
one that wraps to 5 as a C unsigned int) answers the version line only; the argument errors;
the limits (columns, squares and rows clamped to 1..1000 / 1..200); every Schotter drawing whose
squares all sit in the first two rows (Redis turns and shifts squares with rand() only from the
third row on), in RESP2 and RESP3 (a verbatim "txt" string).

What cannot be byte-identical: Schotter's squares from the third row down and the whole
VERSION 6 skyline are drawn from C's rand(), which redis-server seeds from the time and its
pid. For those the tests compare what the randomness does not touch: the number of lines, the
characters per line (Braille cells for 5, colour cells for 6), the palette, and the trailing
text with the version.
"""

import re

import pytest
import redis

from yizhan.redis.instance import REDIS_VERSION

DETERMINISTIC = [
    ["LOLWUT"], ["lolwut", "version"], ["LOLWUT", "7"], ["LOLWUT", "VERSION", "7"], ["LOLWUT", "VERSION", "4"],
    ["LOLWUT", "VERSION", "-1"], ["LOLWUT", "VERSION", "4294967301", "1", "1", "1"], ["LOLWUT", "VERSION", "x"],
    ["LOLWUT", "VERSION", "5", "x"], ["LOLWUT", "VERSION", "5", "3", "y"], ["LOLWUT", "VERSION", "5", "3", "1", "z"],
    ["LOLWUT", "VERSION", "6", "a"], ["LOLWUT", "VERSION", "6", "3", "b"], ["LOLWUT", "VERSION", "1", "x"],
    ["LOLWUT", "VERSION", "5", "1", "1", "1"], ["LOLWUT", "VERSION", "5", "2", "1", "1"],
    ["LOLWUT", "VERSION", "5", "3", "1", "1"], ["LOLWUT", "VERSION", "5", "0", "0", "0"],
    ["LOLWUT", "VERSION", "5", "-5", "-5", "-5"], ["LOLWUT", "version", "5", "40", "7", "2"],
    ["LOLWUT", "VERSION", "5", "66", "8", "2"], ["LOLWUT", "VERSION", "5", "5000", "1", "1"],
    ["LOLWUT", "VERSION", "5", "33", "3", "1"], ["LOLWUT", "VERSION", "5", "10", "500", "2"],
    ["LOLWUT", "VERSION", "5", "17", "13", "2", "extra"], ["LOLWUT", "VERSION", "6", "1", "1"],
    ["LOLWUT", "VERSION", "6", "0", "-3"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_deterministic_forms_match_redis(differential, proto):
    differential.check([list(cmd) for cmd in DETERMINISTIC], proto=proto)


def _both(yizhan_server, reference_redis):
    return [redis.Redis(port=port) for port in (yizhan_server.port, reference_redis.port)]


SCHOTTER = [(), (20,), (40, 7), (66, 8, 12), (1, 1, 200), (7, 200, 3), (1000, 3, 3)]


@pytest.mark.parametrize("params", SCHOTTER)
def test_schotter_shape_matches_redis(yizhan_server, reference_redis, params):
    ours, theirs = (r.execute_command("LOLWUT", "VERSION", 5, *params).decode() for r in
                    _both(yizhan_server, reference_redis))
    assert ours.endswith("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. %s\n" % REDIS_VERSION)
    assert [len(line) for line in ours.split("\n")] == [len(line) for line in theirs.split("\n")]
    art = ours.rsplit("\n\n", 1)[0]
    assert set(art) <= {chr(c) for c in range(0x2800, 0x2900)} | {"\n"}
    assert any(ch != "\u2800" for ch in art)  # squares were drawn


@pytest.mark.parametrize("params", [(), (1,), (30, 9), (120, 40), (1000, 3), (5, 1000)])
def test_skyline_shape_matches_redis(yizhan_server, reference_redis, params):
    ours, theirs = (r.execute_command("LOLWUT", "VERSION", 6, *params).decode() for r in
                    _both(yizhan_server, reference_redis))
    tail = ("\nDedicated to the 8 bit game developers of past and present.\n"
            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. %s\n" % REDIS_VERSION)
    assert ours.endswith(tail) and theirs.endswith(tail)
    cell = re.compile("\033\\[0;(30;40|90;100|37;47|97;107)m \033\\[0m")
    ours_lines, theirs_lines = ours[:-len(tail)].split("\n"), theirs[:-len(tail)].split("\n")
    assert [len(cell.findall(line)) for line in ours_lines] == [len(cell.findall(line)) for line in theirs_lines]
    assert all(cell.sub("", line) == "" for line in ours_lines)


def test_redis_py_lolwut(yizhan_server, reference_redis):
    """redis-py's own test_lolwut: the version words and the Schotter text."""
    for r in _both(yizhan_server, reference_redis):
        assert "Redis ver." in r.lolwut().decode()
        lolwut = r.lolwut(5, 6, 7, 8).decode("utf-8")
        assert "Redis ver." in lolwut


@pytest.mark.parametrize("proto", [2, 3])
def test_command_entry_matches_redis(differential, proto):
    differential.check([["COMMAND", "INFO", "lolwut"], ["COMMAND", "DOCS", "lolwut"],
                        ["ACL", "DRYRUN", "default", "LOLWUT"]], proto=proto)

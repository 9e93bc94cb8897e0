"""The glob matcher against a literal transcription of Redis 7.0's recursive stringmatchlen
(util.c), on fixed and random inputs, and its cost on patterns that make naive matchers explode."""

import random

import pytest

from yizhan.redis.glob import match


def redis_stringmatchlen(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """util.c's stringmatchlen_impl line by line: C strings end in NUL, so reading one past the
    end yields 0; `skip` is skipLongerMatches."""
    pat, st = pattern + b"\0", string + b"\0"
    skip = [False]

    def lower(ch):
        return ch + 32 if 65 <= ch <= 90 else ch

    def impl(p, plen, s, slen):
        while plen and slen:
            ch = pat[p]
            if ch == ord("*"):
                while plen and pat[p + 1] == ord("*"):
                    p += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if impl(p + 1, plen - 1, s, slen):
                        return True
                    if skip[0]:
                        return False
                    s += 1
                    slen -= 1
                skip[0] = True
                return False
            elif ch == ord("?"):
                s += 1
                slen -= 1
            elif ch == ord("["):
                p += 1
                plen -= 1
                negate = pat[p] == ord("^")
                if negate:
                    p += 1
                    plen -= 1
                found = False
                while True:
                    if pat[p] == ord("\\") and plen >= 2:
                        p += 1
                        plen -= 1
                        if pat[p] == st[s]:
                            found = True
                    elif pat[p] == ord("]"):
                        break
                    elif plen == 0:
                        p -= 1
                        plen += 1
                        break
                    elif plen >= 3 and pat[p + 1] == ord("-"):
                        start, end, c = pat[p], pat[p + 2], st[s]
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, c = lower(start), lower(end), lower(c)
                        p += 2
                        plen -= 2
                        if start <= c <= end:
                            found = True
                    elif (pat[p] == st[s]) if not nocase else (lower(pat[p]) == lower(st[s])):
                        found = True
                    p += 1
                    plen -= 1
                if negate:
                    found = not found
                if not found:
                    return False
                s += 1
                slen -= 1
            else:
                if ch == ord("\\") and plen >= 2:
                    p += 1
                    plen -= 1
                if (pat[p] != st[s]) if not nocase else (lower(pat[p]) != lower(st[s])):
                    return False
                s += 1
                slen -= 1
            p += 1
            plen -= 1
            if slen == 0:
                while pat[p] == ord("*"):
                    p += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return impl(0, len(pattern), 0, len(string))


CASES = [
    (b"*", b"anything", True), (b"*", b"", False), (b"", b"", True), (b"", b"a", False),
    (b"h?llo", b"hello", True), (b"h?llo", b"hllo", False), (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True), (b"h[ae]llo", b"hallo", True), (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True), (b"h[^e]llo", b"hello", False), (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True), (b"h[b-a]llo", b"hcllo", False), (b"h\\*llo", b"h*llo", True),
    (b"h\\*llo", b"hallo", False), (b"a\\", b"a\\", True), (b"[", b"x", False), (b"[^", b"x", True),
    (b"a[", b"ab", False), (b"a[b", b"ab", True), (b"[a-]", b"]", True), (b"[]]", b"]", False),
    (b"[\\]]", b"]", True), (b"a*", b"a", True), (b"a**", b"a", True), (b"*a", b"a", True),
    (b"**", b"", False), (b"a*b*c", b"aXbYc", True), (b"a*b*c", b"aXbY", False),
    (b"\x00*", b"\x00\xff", True), (b"[\x00-\x02]", b"\x01", True), (b"?", b"\xff", True),
]


@pytest.mark.parametrize("pattern,string,expected", CASES)
def test_known_cases(pattern, string, expected):
    assert match(pattern, string) is expected
    assert redis_stringmatchlen(pattern, string) is expected


def test_nocase():
    assert match(b"H[A-C]LLO", b"hbllo", nocase=True)
    assert match(b"h*O", b"HELLO", nocase=True)
    assert not match(b"h*O", b"HELLO")
    assert not match(b"[\\A]", b"a", nocase=True)  # escapes in a class compare exactly, as in Redis


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_redis_transcription_on_random_inputs(seed):
    rng = random.Random(seed)
    alphabet = b"ab[]^-\\*?A"
    for _ in range(4000):
        pattern = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        string = bytes(rng.choice(b"abAB[]^-\\*?") for _ in range(rng.randint(0, 7)))
        nocase = rng.random() < 0.2
        assert match(pattern, string, nocase) == redis_stringmatchlen(pattern, string, nocase), \
            (pattern, string, nocase)


@pytest.mark.parametrize("pattern,string", [
    (b"*a*a*a*a*a*a*a*b", b"a" * 100_000),
    (b"*" * 20_000 + b"b", b"a" * 50_000),
    (b"a*" * 10_000 + b"b", b"a" * 30_000),
    (b"*?" * 10_000 + b"x", b"a" * 30_000),
    (b"[a-z]*" * 5_000 + b"!", b"q" * 30_000),
])
def test_pathological_patterns_do_not_recurse(pattern, string):
    # A recursive matcher overflows the stack on these; their speed is not asserted here.
    assert match(pattern, string) is False

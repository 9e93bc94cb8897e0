"""Glob-style matching exactly as Redis 7.0's `stringmatchlen` does it (KEYS, SCAN MATCH, and
later PSUBSCRIBE, CONFIG GET, ...): `*`, `?`, `[abc]`, `[^a]`, `[a-z]` (a reversed range such as
`[z-a]` is the same range), backslash escapes, and Redis's quirks with unterminated brackets.

Redis matches recursively at each `*`, but once the rest of the pattern has failed at every
position after a `*`, no earlier `*` can succeed either (its `skipLongerMatches` cut). So only
the most recent `*` ever needs to be retried, and this module does exactly that in a loop:
no recursion, and O(len(pattern) * len(string)) in the worst case, whatever the pattern.
"""

from __future__ import annotations

_STAR, _QUESTION, _OPEN, _CLOSE, _CARET, _DASH, _BACKSLASH = b"*?[]^-\\"


def _lower(ch: int) -> int:
    return ch + 32 if 65 <= ch <= 90 else ch


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Whether `string` matches the glob `pattern`, with Redis's exact semantics."""
    plen, slen = len(pattern), len(string)
    p = s = 0
    star_p = star_s = -1  # the most recent '*' and where its current attempt starts
    while True:
        matched = _match_from(pattern, plen, string, slen, p, s, nocase)
        if matched is True:
            return True
        if matched is not False:  # reached a '*': it becomes the one to retry from
            star_p, star_s = matched
            if star_p == plen - 1:
                return True  # a trailing '*' matches whatever is left
        elif star_p < 0:
            return False
        else:
            star_s += 1
            if star_s >= slen:  # the rest failed from every position: no match at all
                return False
        p, s = star_p + 1, star_s


def _match_from(pattern: bytes, plen: int, string: bytes, slen: int, p: int, s: int, nocase: bool):
    """Match without backtracking from pattern[p:] / string[s:]. Returns True or False, or, on
    reaching a '*' (with string left), the pair (index of the last '*' of that run, s)."""
    while p < plen and s < slen:
        ch = pattern[p]
        if ch == _STAR:
            while p + 1 < plen and pattern[p + 1] == _STAR:
                p += 1
            return (p, s)
        if ch == _QUESTION:
            s += 1
        elif ch == _OPEN:
            p, ok = _bracket(pattern, plen, p + 1, string[s], nocase)
            if not ok:
                return False
            s += 1
        else:
            if ch == _BACKSLASH and plen - p >= 2:
                p += 1
                ch = pattern[p]
            c = string[s]
            if (ch != c) if not nocase else (_lower(ch) != _lower(c)):
                return False
            s += 1
        p += 1
        if s == slen:
            while p < plen and pattern[p] == _STAR:
                p += 1
            break
    return p == plen and s == slen


def _bracket(pattern: bytes, plen: int, p: int, c: int, nocase: bool) -> tuple[int, bool]:
    """Match one character against the class starting after '['; returns (index of the class's
    last pattern byte, matched). An unterminated class ends with the pattern."""
    negate = p < plen and pattern[p] == _CARET
    if negate:
        p += 1
    found = False
    while True:
        if p < plen and pattern[p] == _BACKSLASH and plen - p >= 2:
            p += 1
            if pattern[p] == c:
                found = True
        elif p < plen and pattern[p] == _CLOSE:
            break
        elif p >= plen:
            p -= 1  # Redis steps back onto the last byte so the caller's step ends the pattern
            break
        elif plen - p >= 3 and pattern[p + 1] == _DASH:
            start, end = pattern[p], pattern[p + 2]
            if start > end:
                start, end = end, start
            ch = c
            if nocase:
                start, end, ch = _lower(start), _lower(end), _lower(c)
            p += 2
            if start <= ch <= end:
                found = True
        elif (pattern[p] == c) if not nocase else (_lower(pattern[p]) == _lower(c)):
            found = True
        p += 1
    return p, found != negate

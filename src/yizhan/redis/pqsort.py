"""Redis's partial quicksort (pqsort.c): Bentley-McIlroy quicksort with three-way partitioning
that only recurses into the parts overlapping the wanted positions. SORT ... LIMIT and the geo
searches with COUNT use it, so that equal elements come out in the order redis-server gives
them."""

from __future__ import annotations


def pqsort(v: list, cmp, lrange: int, rrange: int) -> None:
    """Sort enough of `v` in place that positions lrange..rrange hold what a full sort would
    put there, exactly as Redis's Bentley-McIlroy based pqsort orders them (ties included)."""
    _pqsort(v, 0, len(v), cmp, lrange, rrange)


def _med3(v, a: int, b: int, c: int, cmp) -> int:
    if cmp(v[a], v[b]) < 0:
        return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
    return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)


def _vecswap(v, a: int, b: int, n: int) -> None:
    for i in range(n):
        v[a + i], v[b + i] = v[b + i], v[a + i]


def _outside(lrange: int, rrange: int, left: int, right: int) -> bool:
    return (lrange < left and rrange < left) or (lrange > right and rrange > right)


def _pqsort(v: list, a: int, n: int, cmp, lrange: int, rrange: int) -> None:
    while True:
        if n < 7:
            for pm in range(a + 1, a + n):
                pl = pm
                while pl > a and cmp(v[pl - 1], v[pl]) > 0:
                    v[pl], v[pl - 1] = v[pl - 1], v[pl]
                    pl -= 1
            return
        pm = a + n // 2
        if n > 7:
            pl, pn = a, a + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(v, pm - d, pm, pm + d, cmp)
                pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(v, pl, pm, pn, cmp)
        v[a], v[pm] = v[pm], v[a]
        pa = pb = a + 1
        pc = pd = a + n - 1
        pivot = v[a]
        while True:
            while pb <= pc:
                result = cmp(v[pb], pivot)
                if result > 0:
                    break
                if result == 0:
                    v[pa], v[pb] = v[pb], v[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                result = cmp(v[pc], pivot)
                if result < 0:
                    break
                if result == 0:
                    v[pc], v[pd] = v[pd], v[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            v[pb], v[pc] = v[pc], v[pb]
            pb += 1
            pc -= 1
        pn = a + n
        r = min(pa - a, pb - pa)
        _vecswap(v, a, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(v, pb, pn - r, r)
        r = pb - pa
        if r > 1 and not _outside(lrange, rrange, a, a + r - 1):
            _pqsort(v, a, r, cmp, lrange, rrange)
        r = pd - pc
        if r > 1:
            a, n = pn - r, r
            if not _outside(lrange, rrange, a, a + r - 1):
                continue
        return

"""The Set value type's intset blob (types/sets.py): widths, order, conversion, size."""

import random
import sys

from yizhan.redis.types.sets import Set


def test_intset_keeps_numbers_ascending_in_the_narrowest_width_then_upgrades():
    s = Set.build([b"5", b"-3", b"100"], 512)
    assert s.is_intset and list(s.ints) == [-3, 5, 100] and s.ints.itemsize == 2
    assert s.add(b"70000", 512) and s.ints.itemsize == 4
    assert s.add(b"-9000000000", 512) and s.ints.itemsize == 8
    assert list(s) == [b"-9000000000", b"-3", b"5", b"100", b"70000"]
    assert not s.add(b"5", 512)
    assert s.discard(b"-9000000000") and s.ints.itemsize == 8  # no downgrade, as Redis's intset
    assert not s.discard(b"-9000000000") and not s.discard(b"x") and not s.discard(b"05")
    assert len(s) == 4 and b"70000" in s and b"070000" not in s and s.has_int(100)


def test_non_integer_or_too_many_members_make_a_hashtable():
    s = Set.build([b"1", b"2"], 512)
    s.add(b"a", 512)
    assert not s.is_intset and s.ints is None and set(s) == {b"1", b"2", b"a"}
    t = Set.build([b"%d" % i for i in range(4)], 3)
    assert not t.is_intset and len(t) == 4 and t.hashed is not None


def test_random_pops_empty_the_set_and_copies_are_independent():
    rng = random.Random(7)
    s = Set.build([b"%d" % i for i in range(-50, 50)], 512)
    c = s.copy()
    seen = {s.pop_random(rng) for _ in range(100)}
    assert seen == {b"%d" % i for i in range(-50, 50)} and len(s) == 0
    assert len(c) == 100 and c.random_member(rng) in c


def test_a_small_intset_is_one_blob_of_its_numbers():
    s = Set.build([b"%d" % i for i in range(20)], 512)
    assert len(s.body) == 2 + 20 * 2  # a header item and the numbers
    assert sys.getsizeof(s.body) <= 33 + 42

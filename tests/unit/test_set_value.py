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


def test_add_all_equals_adding_one_by_one():
    rng = random.Random(3)
    for _ in range(300):
        start = [b"%d" % rng.randint(-40000, 40000) for _ in range(rng.randint(0, 6))]
        batch = [b"%d" % rng.choice([rng.randint(-9, 9), rng.randint(-(1 << 40), 1 << 40)])
                 for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.2:
            batch.append(rng.choice([b"x", b"07", b"-0", b""]))
        limit = rng.randint(1, 12)
        one, many = Set.build(start, 64), Set.build(start, 64)
        added = sum(one.add(m, limit) for m in batch)
        assert many.add_all(batch, limit) == added
        assert many.encoding() == one.encoding() and list(many) == list(one)
        if one.is_intset:
            assert many.ints.itemsize == one.ints.itemsize and many.body == one.body

"""PackedMap (the listpack hash's representation) behaves as an insertion-ordered dict, whatever
bytes its fields and values hold, including the marker and escape bytes."""

import random

from yizhan.redis.types.packed import PackedMap

ALPHABET = [b"", b"\x00", b"\x01", b"\x02", b"\x02\x10", b"\x02\x12", b"a", b"ab", b"\x00\x01", b"b\x02"]


def test_random_operations_match_a_dict():
    rng = random.Random(14)
    for _ in range(200):
        packed, model = PackedMap(), {}
        for _ in range(40):
            field = b"".join(rng.choice(ALPHABET) for _ in range(rng.randrange(3)))
            value = b"".join(rng.choice(ALPHABET) for _ in range(rng.randrange(3)))
            if rng.random() < 0.7:
                assert packed.set(field, value) == (field not in model)
                model[field] = value
            else:
                assert packed.delete(field) == (model.pop(field, None) is not None)
            probe = rng.choice(list(model) or [b"x"])
            assert packed.get(probe) == model.get(probe)
            assert (probe in packed) == (probe in model)
        assert list(packed.items()) == list(model.items())
        assert list(packed) == list(model) and packed.values() == list(model.values())
        assert len(packed) == len(model) and bool(packed) == bool(model)
        assert packed == model and PackedMap(model.items()) == packed


def test_a_field_set_again_keeps_its_place_and_copies_are_independent():
    packed = PackedMap([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    assert not packed.set(b"b", b"value")
    twin = packed.copy()
    assert packed.delete(b"a") and packed.get(b"a") is None
    assert packed.keys() == [b"b", b"c"] and twin.keys() == [b"a", b"b", b"c"]
    assert twin[b"b"] == b"value"

"""RedisList (a quicklist of packed nodes) behaves as the deque it replaced, element for
element, whatever bytes the elements hold and however the nodes split."""

import random
from collections import deque

import pytest

from yizhan.redis.types import lists
from yizhan.redis.types.lists import RedisList

PIECES = [b"", b"\x00", b"\x02", b"\x02\x10", b"a", b"bb", b"x" * 20, b"\x01\x02\x00"]


@pytest.mark.parametrize("node_bytes", [16, 64, lists.NODE_BYTES])
def test_random_operations_match_a_deque(monkeypatch, node_bytes):
    monkeypatch.setattr(lists, "NODE_BYTES", node_bytes)
    rng = random.Random(node_bytes)
    for _ in range(150):
        packed, model = RedisList(), deque()
        for _ in range(60):
            op = rng.randrange(9)
            element = rng.choice(PIECES) + bytes([rng.randrange(256)])
            if op == 0:
                packed.append(element), model.append(element)
            elif op == 1:
                packed.appendleft(element), model.appendleft(element)
            elif op == 2 and model:
                assert packed.pop() == model.pop()
            elif op == 3 and model:
                assert packed.popleft() == model.popleft()
            elif op == 4 and model:
                i = rng.randrange(-len(model), len(model))
                assert packed[i] == model[i]
                packed[i] = model[i] = element
            elif op == 5:
                i = rng.randrange(0, len(model) + 1)
                packed.insert(i, element), model.insert(i, element)
            elif op == 6:
                packed.extend([element, b"1"]), model.extend([element, b"1"])
            elif op == 7:
                packed.extendleft([element, b"2"]), model.extendleft([element, b"2"])
            elif op == 8 and model:
                probe = rng.choice(list(model))
                assert packed.index(probe) == model.index(probe)
            assert len(packed) == len(model) and bool(packed) == bool(model)
            assert all(packed.nodes)  # no empty node is ever kept
        assert list(packed) == list(model) and list(reversed(packed)) == list(reversed(model))


def test_errors_copy_and_clear():
    lst = RedisList([b"a", b"b"])
    twin = lst.copy()
    lst.clear()
    assert not lst and twin == RedisList([b"a", b"b"])
    with pytest.raises(IndexError):
        lst.pop()
    with pytest.raises(IndexError):
        twin[2]
    with pytest.raises(ValueError):
        twin.index(b"c")


@pytest.mark.parametrize("node_bytes", [16, 64, lists.NODE_BYTES])
def test_range_matches_a_slice_from_either_end(monkeypatch, node_bytes):
    monkeypatch.setattr(lists, "NODE_BYTES", node_bytes)
    rng = random.Random(node_bytes)
    for _ in range(200):
        packed, model = RedisList(), []
        for _ in range(rng.randrange(1, 400)):
            element = rng.choice(PIECES) + bytes([rng.randrange(256)]) * rng.randrange(3)
            if rng.randrange(2):
                packed.append(element), model.append(element)
            else:
                packed.appendleft(element), model.insert(0, element)
        for _ in range(8):
            start = rng.randrange(len(model))
            stop = rng.randrange(start, len(model))
            items, size = packed.range(start, stop)
            assert items == model[start:stop + 1]
            assert size == -1 or {len(item) for item in items} == {size}


@pytest.mark.parametrize("elements, size", [
    ([b"xxx"] * 100, 3),
    ([b"abc", b"ab", b"abcd"], -1),  # the same span as three of 3 bytes, not the same sizes
    ([b"abcd", b"ab", b"abc", b"abc"], -1),
    ([b""] * 5, 0),
    ([b"a\x00c", b"xyz"], -1),  # escaped: not proved
    ([b"xxx"] * 600, 3),  # over three nodes
    ([b"xxx"] * 300 + [b"yyyy"] * 300, -1),  # nodes of different sizes
    ([b"xxx"] * 300 + [b"y\x00y"] + [b"xxx"] * 300, -1),  # one escaped node
])
def test_range_proves_one_size_only_when_every_element_has_it(elements, size):
    packed = RedisList(elements)
    items, proved = packed.range(0, len(elements) - 1)
    assert items == elements
    assert proved == size
    assert packed.range(1, len(elements) - 1) == (elements[1:], -1)  # not from a node's start

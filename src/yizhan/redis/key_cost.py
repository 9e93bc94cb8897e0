"""What a key and its value cost in Python objects, sampling `samples` elements of a
container (0: all), as MEMORY USAGE and maxmemory (eviction.py) count it."""

from __future__ import annotations

import sys
from itertools import islice


def _elements(value):
    """The elements of a container value, for sampling (pairs count as two objects)."""
    if isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, dict):
        return ((k, v) for k, v in value.items())
    members = getattr(value, "members", None)  # sorted sets keep a member -> score dict
    if isinstance(members, dict):
        return ((k, v) for k, v in members.items())
    try:
        return iter(value)
    except TypeError:
        return None


def estimate(key: bytes, value, samples: int) -> int:
    size = sys.getsizeof(key) + sys.getsizeof(value) + 48  # plus the keyspace's dict entry
    elements = _elements(value)
    if elements is None:
        return size
    length = len(value) if hasattr(value, "__len__") else 0
    picked = list(elements) if samples == 0 else list(islice(elements, samples))
    if not picked:
        return size
    per_element = sum(
        sum(sys.getsizeof(part) for part in item) if isinstance(item, tuple) else sys.getsizeof(item)
        for item in picked) / len(picked)
    return int(size + per_element * length)

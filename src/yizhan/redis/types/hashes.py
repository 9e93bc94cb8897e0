"""The hash value type (t_hash.c): `Hash`.

Like Redis 7.0, a hash starts "listpack" and becomes "hashtable" for good once it holds more
than hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value
bytes. The two encodings are two representations here too:
- listpack: a `PackedMap` (types/packed.py), every field and value in one bytes object in
  insertion order (a field set again keeps its place), about 20 bytes a short field where a
  dict costs about 140;
- hashtable: a dict field -> value, plus, from its first HSCAN or random pick on, a `Pool` of
  its fields, which gives uniform O(1) random picks (Redis's "fair" random key) and cursors with
  Redis's SCAN guarantees while the hash changes.
Either way `Hash.fields` answers the read-only dict API (get, in, len, iteration, items, ...).
"""

from __future__ import annotations

import random

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.packed import PackedMap
from yizhan.redis.types.pool import Pool


class Hash:
    """A Redis hash: `fields` maps field -> value (bytes), a `PackedMap` while listpack, a dict
    once hashtable (which it stays); `pool` holds a hashtable hash's fields for HSCAN cursors
    and uniform random picks, from when they are first needed."""

    __slots__ = ("fields", "pool", "mem_units")

    def __init__(self, fields: dict | None = None, hashtable: bool = False):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        if hashtable:
            self.fields: dict[bytes, bytes] | PackedMap = fields if fields is not None else {}
        else:
            self.fields = PackedMap(fields.items()) if fields else PackedMap()
        self.pool: Pool | None = None

    @property
    def hashtable(self) -> bool:
        return type(self.fields) is dict

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, field: bytes) -> bool:
        return field in self.fields

    def __iter__(self):
        return iter(self.fields)

    def get(self, field: bytes):
        return self.fields.get(field)

    def items(self):
        return self.fields.items()

    def set(self, field: bytes, value: bytes, params) -> bool:
        """Set a field; True if it is new. Converts to hashtable as Redis's hashTypeSet does."""
        fields = self.fields
        if type(fields) is dict:
            new = field not in fields
            fields[field] = value
            if new and self.pool is not None:
                self.pool.add(field)
            return new
        new = fields.set(field, value)
        limit = params.int("hash-max-listpack-value")
        if (len(field) > limit or len(value) > limit
                or new and len(fields) > params.int("hash-max-listpack-entries")):
            self.fields = dict(fields.items())
        return new

    def delete(self, field: bytes) -> bool:
        fields = self.fields
        if type(fields) is not dict:
            return fields.delete(field)
        if field not in fields:
            return False
        del fields[field]
        if self.pool is not None:
            self.pool.discard(field)
        return True

    def field_pool(self) -> Pool:
        if self.pool is None:
            self.pool = Pool(self.fields)
        return self.pool

    def random_field(self, rng=random) -> bytes:
        """One field picked uniformly at random (the hash is not empty)."""
        if self.hashtable:
            return self.field_pool().random(rng)
        names = self.fields.keys()
        return names[rng.randrange(len(names))]

    def copy(self) -> "Hash":
        twin = Hash()
        twin.fields = dict(self.fields) if self.hashtable else self.fields.copy()
        return twin

    def encoding(self, params=None) -> str:
        return "hashtable" if self.hashtable else "listpack"


register_type(Hash, "hash", copy=Hash.copy, encoding=Hash.encoding)

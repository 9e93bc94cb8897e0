"""The hash value type (t_hash.c): `Hash`.

A hash keeps its fields in a dict, which is also the order Redis's listpack encoding keeps:
insertion order, a field set again keeps its place. Like Redis 7.0, a hash starts "listpack"
and becomes "hashtable" for good once it holds more than hash-max-listpack-entries fields or a
field or value longer than hash-max-listpack-value bytes. A hashtable hash keeps, from its first
HSCAN or random pick on, a `Pool` of its fields, which gives uniform O(1) random picks (Redis's
"fair" random key) and cursors with Redis's SCAN guarantees while the hash changes.
"""

from __future__ import annotations

import random
from itertools import islice

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.pool import Pool


class Hash:
    """A Redis hash: `fields` maps field -> value (bytes), in listpack (insertion) order.
    `hashtable` records the encoding (never reverts); `pool` holds a hashtable hash's fields
    for HSCAN cursors and uniform random picks, from when they are first needed."""

    __slots__ = ("fields", "hashtable", "pool")

    def __init__(self, fields: dict | None = None, hashtable: bool = False):
        self.fields: dict[bytes, bytes] = fields if fields is not None else {}
        self.hashtable = hashtable
        self.pool: Pool | None = None

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
        new = field not in fields
        fields[field] = value
        if new and self.pool is not None:
            self.pool.add(field)
        if not self.hashtable:
            limit = params.int("hash-max-listpack-value")
            if (len(field) > limit or len(value) > limit
                    or len(fields) > params.int("hash-max-listpack-entries")):
                self.hashtable = True
        return new

    def delete(self, field: bytes) -> bool:
        fields = self.fields
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
        return next(islice(self.fields, rng.randrange(len(self.fields)), None))

    def copy(self) -> "Hash":
        return Hash(dict(self.fields), self.hashtable)

    def encoding(self, params=None) -> str:
        return "hashtable" if self.hashtable else "listpack"


register_type(Hash, "hash", copy=Hash.copy, encoding=Hash.encoding)

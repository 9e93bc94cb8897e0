"""`PackedMap`: a small string -> string map held in ONE bytes object, the Python counterpart of
Redis's listpack for small hashes.

Why: a dict of N short fields costs N dict entries plus 2N bytes objects (33 bytes of header
each, rounded up to 16), about 140 bytes a field for `field:N` -> `value:N`; one packed bytes
costs the field and value text plus 2 marker bytes (about 20 bytes a field here; Redis's
listpack about 20 too). Every operation is a handful of C-level bytes operations (find, slice,
join, split), so lookups stay fast without a per-field Python loop.

Layout: for each field in insertion order, FIELD_MARK + field + VALUE_MARK + value. Field and
value text is escaped so that it never holds a marker byte: ESC (0x02) becomes ESC 0x12, 0x00
becomes ESC 0x10, 0x01 becomes ESC 0x11. Then `FIELD_MARK + escaped(field) + VALUE_MARK` occurs
in the blob exactly where that field is, and a value runs to the next FIELD_MARK or the end.
"""

from __future__ import annotations

FIELD_MARK, VALUE_MARK = b"\x00", b"\x01"
_ESC = b"\x02"
_TO_FIELD_MARK = bytes.maketrans(VALUE_MARK, FIELD_MARK)


def escape(text: bytes) -> bytes:
    if 0 in text or 1 in text or 2 in text:  # int membership: a memchr, the cheapest test
        return text.replace(_ESC, b"\x02\x12").replace(b"\x00", b"\x02\x10").replace(b"\x01", b"\x02\x11")
    return text


def unescape(text: bytes) -> bytes:
    return text.replace(b"\x02\x10", b"\x00").replace(b"\x02\x11", b"\x01").replace(b"\x02\x12", _ESC)


def value_span(blob: bytes, field: bytes) -> tuple[int, int, int]:
    """(start of `field`'s mark, start of its value, end of its value) in a packed blob;
    (-1, -1, -1) when the field is absent."""
    if 0 in field or 1 in field or 2 in field:
        field = escape(field)
    at = blob.find(b"\x00%b\x01" % field)
    if at < 0:
        return -1, -1, -1
    start = at + len(field) + 2
    end = blob.find(FIELD_MARK, start)
    return at, start, len(blob) if end < 0 else end


def split_raw(blob: bytes) -> list[bytes]:
    """field1, value1, field2, value2, ... of a packed blob, still escaped."""
    return blob.translate(_TO_FIELD_MARK).split(FIELD_MARK)[1:]


def split(blob: bytes) -> list[bytes]:
    """field1, value1, field2, value2, ... of a packed blob."""
    parts = split_raw(blob)
    if 2 in blob:
        parts = [unescape(p) if 2 in p else p for p in parts]
    return parts


def entry(field: bytes, value: bytes) -> bytes:
    return FIELD_MARK + escape(field) + VALUE_MARK + escape(value)


class PackedMap:
    """A read-mostly mapping over a packed blob (see the module docstring), with the dict API
    the hash commands read through (`get`, `in`, `len`, iteration, `keys`/`values`/`items`,
    `[]`) plus `set` and `delete`. Iteration is insertion order; setting a field again keeps
    its place, as a listpack does."""

    __slots__ = ("blob",)

    def __init__(self, pairs=()):
        self.blob = b"".join(entry(f, v) for f, v in pairs)

    # -- reading ------------------------------------------------------------------------------
    def get(self, field: bytes, default=None):
        """`value_span` inlined: this is HGET."""
        if 0 in field or 1 in field or 2 in field:
            field = escape(field)
        blob = self.blob
        at = blob.find(b"\x00%b\x01" % field)
        if at < 0:
            return default
        end = blob.find(FIELD_MARK, at + len(field) + 2)
        value = blob[at + len(field) + 2:] if end < 0 else blob[at + len(field) + 2:end]
        return unescape(value) if 2 in value else value

    def __getitem__(self, field: bytes) -> bytes:
        value = self.get(field)
        if value is None:
            raise KeyError(field)
        return value

    def __contains__(self, field: bytes) -> bool:
        return b"\x00%b\x01" % escape(field) in self.blob

    def __len__(self) -> int:
        return self.blob.count(FIELD_MARK)

    def __bool__(self) -> bool:
        return bool(self.blob)

    def __eq__(self, other) -> bool:
        if type(other) is PackedMap:
            return self.blob == other.blob
        return dict(self.items()) == other

    __hash__ = None

    def flat(self) -> list[bytes]:
        """field1, value1, field2, value2, ... in order."""
        return split(self.blob)

    def keys(self) -> list[bytes]:
        return self.flat()[0::2]

    def __iter__(self):
        return iter(self.keys())

    def values(self) -> list[bytes]:
        return self.flat()[1::2]

    def items(self):
        parts = self.flat()
        return zip(parts[0::2], parts[1::2])

    # -- writing ------------------------------------------------------------------------------
    def set(self, field: bytes, value: bytes) -> bool:
        """Set a field; True when it is new (appended at the end)."""
        blob = self.blob
        if 0 in field or 1 in field or 2 in field:  # value_span, inlined (HSET's path)
            field = escape(field)
        at = blob.find(b"\x00%b\x01" % field)
        if at < 0:
            self.blob = blob + FIELD_MARK + field + VALUE_MARK + escape(value)
            return True
        start = at + len(field) + 2
        end = blob.find(FIELD_MARK, start)
        if end < 0:
            end = len(blob)
        value = escape(value)
        if end - start != len(value) or not blob.startswith(value, start):  # unchanged: no copy
            self.blob = blob[:start] + value + blob[end:]
        return False

    def delete(self, field: bytes) -> bool:
        blob = self.blob
        at, _, end = value_span(blob, field)
        if at < 0:
            return False
        self.blob = blob[:at] + blob[end:]
        return True

    def copy(self) -> "PackedMap":
        twin = PackedMap()
        twin.blob = self.blob
        return twin

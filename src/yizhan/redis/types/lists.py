"""The list value type (t_list.c): `RedisList`, a quicklist of packed nodes.

Why packed: a deque of bytes objects costs about 56 bytes an element (a 33-byte header rounded
up to 48, plus the deque slot); Redis's quicklist of listpacks costs the element plus 2 or 3.
Here a list is a Python list of nodes (a list, not a deque: a deque costs 600 bytes however
short; moving the pointers of a list on a node's birth or death at the head is a memmove of
length/200 pointers), each ONE bytes object holding up to NODE_BYTES of elements,
each element escaped as types/packed.py escapes (so it holds no NUL) and preceded by a NUL:
about the element's length plus one, plus 41 bytes a node. Pushing or popping at either end
rebuilds only the end node (a C-level copy of at most NODE_BYTES), so both stay O(1); reading
a range splits the nodes it covers with C-level split; an index walks the nodes from the
nearer end, counting NULs. An empty list is never stored: the command that empties it deletes
the key.

`RedisList` answers the deque API the commands use (append/appendleft, pop/popleft,
extend/extendleft, insert, index, clear, len, iteration both ways, integer indexing and
assignment) and OBJECT ENCODING "quicklist", which Redis 7.0 answers for every list whatever its
size and list-max-listpack-size.
"""

from __future__ import annotations

from itertools import chain

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.packed import escape, unescape

SEP = b"\x00"
NODE_BYTES = 1024  # a node takes elements up to this size (Redis: 8 kB, -2; smaller here, as a
                   # read splits whole nodes)


def _elements(node: bytes) -> list[bytes]:
    parts = node.split(SEP)[1:]
    return [unescape(p) if 2 in p else p for p in parts] if 2 in node else parts


def _elements_reversed(node: bytes) -> list[bytes]:
    elements = _elements(node)
    elements.reverse()
    return elements


def _same_size(node: bytes, parts: list[bytes], skip: int, want: int) -> int:
    """The length of every one of the `want` first elements of `node` (`parts` is its split
    with a maxsplit of want + 1) when they all have one, else -1 (also when `skip`). Proof,
    by C-level operations: the elements hold no NUL, the span they fill is want * (L + 1)
    bytes and every (L + 1)-th byte of it is a NUL, so each one is exactly L long."""
    if skip:
        return -1
    end = len(node) if len(parts) == want + 1 else len(node) - len(parts[-1]) - 1
    size = len(parts[1])
    return size if end == want * (size + 1) and not node[:end:size + 1].strip(SEP) else -1


def _pack(elements) -> bytes:
    return SEP + SEP.join(map(escape, elements))


class RedisList:
    """A Redis list: `nodes` (a list of packed nodes, none empty) and `length`."""

    __slots__ = ("nodes", "length", "mem_units")

    def __init__(self, elements=()):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        self.nodes: list[bytes] = []
        self.length = 0
        if elements:
            self.extend(elements)

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def __iter__(self):
        return chain.from_iterable(map(_elements, self.nodes))  # C-level but for one split a node

    def __reversed__(self):
        return chain.from_iterable(map(_elements_reversed, reversed(self.nodes)))

    def __eq__(self, other) -> bool:
        if type(other) is RedisList:
            return self.length == other.length and list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"RedisList({list(self)!r})"

    # -- the ends ---------------------------------------------------------------------------
    def append(self, element: bytes) -> None:
        item = SEP + escape(element)
        nodes = self.nodes
        if nodes and len(nodes[-1]) + len(item) <= NODE_BYTES:
            nodes[-1] += item
        else:
            nodes.append(item)
        self.length += 1

    def appendleft(self, element: bytes) -> None:
        item = SEP + escape(element)
        nodes = self.nodes
        if nodes and len(nodes[0]) + len(item) <= NODE_BYTES:
            nodes[0] = item + nodes[0]
        else:
            nodes.insert(0, item)
        self.length += 1

    def extend(self, elements) -> None:
        append = self.append
        for element in elements:
            append(element)

    def extendleft(self, elements) -> None:
        appendleft = self.appendleft
        for element in elements:
            appendleft(element)

    def popleft(self) -> bytes:
        nodes = self.nodes
        if not nodes:
            raise IndexError("pop from an empty list")
        head = nodes[0]
        end = head.find(SEP, 1)
        if end < 0:
            value = head[1:]
            del nodes[0]
        else:
            value = head[1:end]
            nodes[0] = head[end:]
        self.length -= 1
        return unescape(value) if 2 in value else value

    def pop(self) -> bytes:
        nodes = self.nodes
        if not nodes:
            raise IndexError("pop from an empty list")
        tail = nodes[-1]
        start = tail.rfind(SEP)
        value = tail[start + 1:]
        if start == 0:
            nodes.pop()
        else:
            nodes[-1] = tail[:start]
        self.length -= 1
        return unescape(value) if 2 in value else value

    def clear(self) -> None:
        self.nodes.clear()
        self.length = 0

    # -- by position ------------------------------------------------------------------------
    def _locate(self, index: int) -> tuple[int, int]:
        """(node number, position in that node) of element `index` (0 <= index < length),
        walking from the nearer end."""
        nodes = self.nodes
        if index < self.length // 2:
            for i, node in enumerate(nodes):
                count = node.count(SEP)
                if index < count:
                    return i, index
                index -= count
        else:
            back = self.length - 1 - index
            for i in range(len(nodes) - 1, -1, -1):
                count = nodes[i].count(SEP)
                if back < count:
                    return i, count - 1 - back
                back -= count
        raise IndexError("list index out of range")

    def range(self, start: int, stop: int) -> tuple[list[bytes], int]:
        """Elements start..stop (inclusive, 0 <= start <= stop < length) in order, walking
        from the nearer end: whole nodes skipped by a C-level count, the covered ones split
        with a maxsplit so that only the elements wanted (and those before them in their
        node) become objects. Second: the length every element has when C-level checks prove
        it (a range from the start of a node, node by node; see `_same_size`), else -1."""
        want = stop - start + 1
        if start <= self.length - 1 - stop:
            return self._range_from_head(start, want)
        return self._range_from_tail(self.length - 1 - stop, want), -1

    def _range_from_head(self, skip: int, want: int) -> tuple[list[bytes], int]:
        out: list[bytes] = []
        escaped = False
        size = None  # the length of every element so far, proved node by node; -1: none
        for node in self.nodes:
            if skip:
                count = node.count(SEP)
                if skip >= count:
                    skip -= count
                    continue
            parts = node.split(SEP, skip + want + 1)
            taken = min(want, len(parts) - 1 - skip)  # all the rest, or what the node holds
            chosen = parts[skip + 1:skip + taken + 1]
            if 2 in node:
                escaped, size = True, -1
            elif size != -1:
                proved = _same_size(node, parts, skip, taken)
                size = proved if size is None or size == proved else -1
            if not out and taken == want and not escaped:  # all in one node (LRANGE 0 99)
                return chosen, size
            out += chosen
            want -= taken
            if not want:
                break
            skip = 0
        return [unescape(p) if 2 in p else p for p in out] if escaped else out, size

    def _range_from_tail(self, skip: int, want: int) -> list[bytes]:
        """Elements in order, the last of them `skip` elements before the tail."""
        pieces: list[list[bytes]] = []
        escaped = False
        for node in reversed(self.nodes):
            if skip:
                count = node.count(SEP)
                if skip >= count:
                    skip -= count
                    continue
            parts = node.rsplit(SEP, skip + want)  # [what is left, the last elements ...]
            got = len(parts) - 1
            chosen = parts[max(1, got + 1 - skip - want):got + 1 - skip]
            pieces.append(chosen)
            want -= len(chosen)
            escaped = escaped or 2 in node
            if not want:
                break
            skip = 0
        pieces.reverse()
        out = list(chain.from_iterable(pieces)) if len(pieces) != 1 else pieces[0]
        return [unescape(p) if 2 in p else p for p in out] if escaped else out

    def _index(self, index: int) -> int:
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError("list index out of range")
        return index

    def __getitem__(self, index: int) -> bytes:
        node, at = self._locate(self._index(index))
        return _elements(self.nodes[node])[at]

    def __setitem__(self, index: int, element: bytes) -> None:
        node, at = self._locate(self._index(index))
        elements = _elements(self.nodes[node])
        elements[at] = element
        self.nodes[node] = _pack(elements)

    def insert(self, index: int, element: bytes) -> None:
        """Insert before position `index` (0 <= index <= length), as deque.insert."""
        if index >= self.length:
            self.append(element)
            return
        if index <= 0:
            self.appendleft(element)
            return
        node, at = self._locate(index)
        elements = _elements(self.nodes[node])
        elements.insert(at, element)
        packed = _pack(elements)
        if len(packed) <= NODE_BYTES or len(elements) < 2:
            self.nodes[node] = packed
        else:  # split a full node in two
            half = len(elements) // 2
            self.nodes[node] = _pack(elements[half:])
            self.nodes.insert(node, _pack(elements[:half]))
        self.length += 1

    def index(self, element: bytes) -> int:
        for i, item in enumerate(self):
            if item == element:
                return i
        raise ValueError(f"{element!r} is not in list")

    def copy(self) -> "RedisList":
        twin = RedisList()
        twin.nodes = list(self.nodes)
        twin.length = self.length
        return twin

    def encoding(self, params=None) -> str:
        """OBJECT ENCODING: Redis 7.0 stores every list as a quicklist, whatever its size and
        list-max-listpack-size."""
        return "quicklist"


register_type(RedisList, "list", copy=RedisList.copy, encoding=RedisList.encoding)

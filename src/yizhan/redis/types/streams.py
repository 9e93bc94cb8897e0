"""The stream value type (t_stream.c's data side): `Stream`, its consumer groups, consumers and
pending entries, and Redis 7.0's bookkeeping around them (entries_added, max_deleted_entry_id,
the recorded first ID, a group's entries_read and lag).

An ID is an `(ms, seq)` pair of ints; pairs order as Redis's 128-bit big-endian IDs do.

Entries live in `Node`s laid out as Redis's radix tree of listpacks: an entry goes to the tail
node unless that node already holds stream-node-max-entries entries (live and deleted) or its
listpack bytes plus the new entry's field and value lengths reach stream-node-max-bytes. A node
keeps Redis's master fields, deletion flags and the byte size of its listpack, so `~` trimming
(which drops whole nodes only), XINFO's radix-tree-keys and the RDB's listpacks come out as
redis-server's. `ids` holds the live IDs in order and `index` finds a live entry by ID.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from yizhan.redis.keyspace import register_type
from yizhan.redis.types.strings import canonical_int

MAX_ID = (1 << 64) - 1
ZERO = (0, 0)
MAX = (MAX_ID, MAX_ID)
LISTPACK_MAX_SIZE = (1 << 30)  # STREAM_LISTPACK_MAX_SIZE
INVALID_ENTRIES_READ = -1  # SCG_INVALID_ENTRIES_READ

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2


def format_id(sid: tuple[int, int]) -> bytes:
    return b"%d-%d" % sid


def incr_id(sid: tuple[int, int]) -> tuple[int, int] | None:
    """streamIncrID: the next ID, or None past the last possible one."""
    ms, seq = sid
    if seq == MAX_ID:
        return None if ms == MAX_ID else (ms + 1, 0)
    return ms, seq + 1


def decr_id(sid: tuple[int, int]) -> tuple[int, int] | None:
    """streamDecrID: the previous ID, or None before 0-0."""
    ms, seq = sid
    if seq == 0:
        return None if ms == 0 else (ms - 1, MAX_ID)
    return ms, seq - 1


# -- listpack sizes (listpack.c), for node boundaries -----------------------------------------
def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def int_size(number: int) -> int:
    """Bytes of a listpack entry holding an integer (encoding, data, backlen)."""
    if 0 <= number <= 127:
        return 2
    if -4096 <= number <= 4095:
        return 3
    if -32768 <= number <= 32767:
        return 4
    if -8388608 <= number <= 8388607:
        return 5
    if -(1 << 31) <= number < 1 << 31:
        return 6
    return 10


def element_size(value: bytes) -> int:
    """Bytes of a listpack entry holding `value` (integer-encoded when it is one)."""
    n = len(value)
    if n and n <= 20 and (48 <= value[0] <= 57 or value[0] == 45):
        number = canonical_int(value)
        if number is not None:
            return int_size(number)
    if n < 64:
        head = 1 + n
    elif n < 4096:
        head = 2 + n
    else:
        head = 5 + n
    return head + _backlen_size(head)


def _signed64(value: int) -> int:
    """A uint64 difference as lpAppendInteger stores it (int64)."""
    value &= MAX_ID
    return value - (1 << 64) if value >= 1 << 63 else value


class Item:
    """One entry of a node: its ID, its fields and values (alternating), its flags."""

    __slots__ = ("id", "fields", "flags", "node")

    def __init__(self, sid, fields, flags, node):
        self.id = sid
        self.fields = fields
        self.flags = flags
        self.node = node


class Node:
    """One listpack of the radix tree: master ID and fields, its entries (deleted ones stay,
    flagged, as in Redis), live and deleted counts, and the listpack's size in bytes without
    the two count elements (`body`)."""

    __slots__ = ("master", "master_fields", "items", "count", "deleted", "body")

    def __init__(self, master, master_fields):
        self.master = master
        self.master_fields = master_fields
        self.items: list[Item] = []
        self.count = 0
        self.deleted = 0
        # header (6) + num-fields + master fields + the master terminator 0 + end byte (1)
        self.body = 6 + int_size(len(master_fields)) + sum(map(element_size, master_fields)) + 2 + 1

    def nbytes(self) -> int:
        return self.body + int_size(self.count) + int_size(self.deleted)

    def entry_size(self, sid, fields, same: bool) -> int:
        size = 2 + int_size(_signed64(sid[0] - self.master[0])) + int_size(_signed64(sid[1] - self.master[1]))
        numfields = len(fields) // 2
        if same:
            size += sum(map(element_size, fields[1::2]))
            lp_count = numfields + 3
        else:
            size += int_size(numfields) + sum(map(element_size, fields))
            lp_count = numfields * 2 + 4
        return size + int_size(lp_count)


class Pel:
    """A pending entries list: ID -> Nack, read in ID order. A dict, with its sorted IDs kept
    while entries arrive in increasing order (XREADGROUP delivers them so) and rebuilt by one
    sort after anything else; deliveries and acks cost a dict operation, ordered reads (XPENDING,
    XAUTOCLAIM, history, XINFO FULL, RDB) a sort at most once per change of order."""

    __slots__ = ("_nacks", "_order")

    def __init__(self):
        self._nacks: dict = {}
        self._order: list | None = []

    def __len__(self) -> int:
        return len(self._nacks)

    def __contains__(self, sid) -> bool:
        return sid in self._nacks

    def __getitem__(self, sid):
        return self._nacks[sid]

    def get(self, sid, default=None):
        return self._nacks.get(sid, default)

    def __setitem__(self, sid, nack) -> None:
        nacks = self._nacks
        if sid not in nacks:
            order = self._order
            if order is not None:
                if not order or sid > order[-1]:
                    order.append(sid)
                else:
                    self._order = None
        nacks[sid] = nack

    def pop(self, sid, default=None):
        nack = self._nacks.pop(sid, None)
        if nack is None:
            return default
        order = self._order
        if order is not None:
            if order[-1] == sid:
                order.pop()
            elif order[0] == sid and len(order) < 64:
                del order[0]
            else:
                self._order = None
        return nack

    def __delitem__(self, sid) -> None:
        if self.pop(sid) is None:
            raise KeyError(sid)

    def keys(self) -> list:
        """The IDs in order (a list the caller must not change)."""
        if self._order is None:
            self._order = sorted(self._nacks)
        return self._order

    def __iter__(self):
        return iter(self.keys())

    def items(self) -> list:
        nacks = self._nacks
        return [(sid, nacks[sid]) for sid in self.keys()]

    def irange(self, minimum=None, maximum=None) -> list:
        """IDs from `minimum` to `maximum` (inclusive), in order."""
        order = self.keys()
        lo = 0 if minimum is None else bisect_left(order, minimum)
        hi = len(order) if maximum is None else bisect_right(order, maximum)
        return order[lo:hi]


class Nack:
    """A pending entry: when it was last delivered, how often, to which consumer."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, delivery_time: int, consumer: "Consumer | None", delivery_count: int = 1):
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time: int):
        self.name = name
        self.seen_time = seen_time
        self.pel = Pel()


class Group:
    __slots__ = ("last_id", "entries_read", "pel", "consumers", "next_at")

    def __init__(self, last_id, entries_read: int):
        self.last_id = last_id
        self.entries_read = entries_read
        self.next_at = 0  # where `Stream.unread` expects the next entry (a hint it checks)
        self.pel = Pel()  # id -> Nack
        self.consumers: dict[bytes, Consumer] = {}

    def sorted_consumers(self) -> list[Consumer]:
        """Consumers in Redis's radix-tree order (bytewise)."""
        return [self.consumers[name] for name in sorted(self.consumers)]

    def consumer(self, name: bytes, now_ms: int, refresh: bool = True) -> Consumer | None:
        """streamLookupConsumer: the consumer (its seen-time refreshed unless told not to)."""
        found = self.consumers.get(name)
        if found is not None and refresh:
            found.seen_time = now_ms
        return found

    def add_consumer(self, name: bytes, now_ms: int) -> Consumer | None:
        if name in self.consumers:
            return None
        created = self.consumers[name] = Consumer(name, now_ms)
        return created

    def delete_consumer(self, consumer: Consumer) -> int:
        pending = len(consumer.pel)
        for sid in list(consumer.pel):
            del self.pel[sid]
        del self.consumers[consumer.name]
        return pending

    def ack(self, sid) -> bool:
        nack = self.pel.pop(sid, None)
        if nack is None:
            return False
        if nack.consumer is not None:
            nack.consumer.pel.pop(sid, None)
        return True

    def assign(self, sid, nack: Nack, consumer: Consumer) -> None:
        """Move a pending entry to `consumer`'s list."""
        if nack.consumer is not consumer:
            if nack.consumer is not None:
                nack.consumer.pel.pop(sid, None)
            consumer.pel[sid] = nack
            nack.consumer = consumer


class Stream:
    """A Redis stream. `length` is the number of live entries."""

    __slots__ = ("nodes", "ids", "index", "last_id", "first_id", "max_deleted", "entries_added", "groups",
                 "mem_units")

    def __init__(self):
        self.mem_units = 0  # what used_memory counts for it while in a keyspace (key_cost.settle)
        self.nodes: list[Node] = []
        self.ids: list[tuple[int, int]] = []
        self.index: dict[tuple[int, int], Item] = {}
        self.last_id = ZERO
        self.first_id = ZERO
        self.max_deleted = ZERO
        self.entries_added = 0
        self.groups: dict[bytes, Group] = {}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def length(self) -> int:
        return len(self.ids)

    # -- adding ----------------------------------------------------------------------------
    def next_id(self, now_ms: int) -> tuple[int, int]:
        """streamNextID: the current time, or the last ID's successor when time lags."""
        if now_ms > self.last_id[0]:
            return now_ms, 0
        return incr_id(self.last_id)

    def append(self, sid, fields: list[bytes], max_bytes: int, max_entries: int) -> None:
        """streamAppendItem after the ID checks: add an entry at `sid` (greater than last_id)."""
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            if node.nbytes() + sum(map(len, fields)) >= max_bytes:
                node = None
            elif max_entries and node.count + node.deleted >= max_entries:
                node = None
        if node is None:
            node = Node(sid, tuple(fields[0::2]))
            self.nodes.append(node)
            same = True
        else:
            mf = node.master_fields
            same = len(mf) * 2 == len(fields) and all(mf[i] == fields[2 * i] for i in range(len(mf)))
        node.body += node.entry_size(sid, fields, same)
        item = Item(sid, fields, FLAG_SAMEFIELDS if same else 0, node)
        node.items.append(item)
        node.count += 1
        self.ids.append(sid)
        self.index[sid] = item
        self.entries_added += 1
        self.last_id = sid
        if len(self.ids) == 1:
            self.first_id = sid

    # -- reading ---------------------------------------------------------------------------
    def last_valid_id(self) -> tuple[int, int]:
        """streamLastValidID: the last live entry's ID (0-0 when empty)."""
        return self.ids[-1] if self.ids else ZERO

    def range(self, start, end, rev: bool = False, count: int = 0) -> list[Item]:
        """Live entries with start <= ID <= end, in order (reversed with `rev`), at most `count`
        (0: all)."""
        ids = self.ids
        lo = bisect_left(ids, start)
        hi = bisect_right(ids, end)
        if lo >= hi:
            return []
        if rev:
            stop = hi - count if count and hi - count > lo else lo
            return [self.index[ids[i]] for i in range(hi - 1, stop - 1, -1)]
        if count and lo + count < hi:
            hi = lo + count
        index = self.index
        return [index[sid] for sid in ids[lo:hi]]

    def after(self, sid, count: int = 0) -> list[Item]:
        """Live entries with an ID greater than `sid`, at most `count` (0: all)."""
        ids = self.ids
        lo = bisect_right(ids, sid)
        hi = lo + count if count and lo + count < len(ids) else len(ids)
        index = self.index
        return [index[i] for i in ids[lo:hi]]

    def unread(self, group: "Group", count: int) -> list[Item]:
        """`after(group.last_id, count)` for a group's `>` read, where the group's last read
        usually left off: `group.next_at` is the position in `ids` just past its last delivery
        when `ids` still holds its last_id right before it (entries added since only append;
        anything else, a deletion, a trim or a moved last_id, is caught by the same check)."""
        ids = self.ids
        at = group.next_at
        if not (0 < at <= len(ids) and ids[at - 1] == group.last_id):
            at = bisect_right(ids, group.last_id)
        hi = at + count if count and at + count < len(ids) else len(ids)
        group.next_at = hi
        index = self.index
        return [index[i] for i in ids[at:hi]]

    # -- deleting --------------------------------------------------------------------------
    def delete(self, sid) -> bool:
        """XDEL of one ID (streamDeleteItem): flag it; a node left without live entries goes."""
        item = self.index.pop(sid, None)
        if item is None:
            return False
        del self.ids[bisect_left(self.ids, sid)]
        node = item.node
        if node.count == 1:
            self.nodes.remove(node)
        else:
            item.flags |= FLAG_DELETED
            node.count -= 1
            node.deleted += 1
        return True

    def _drop_node(self, node: Node) -> None:
        self.nodes.remove(node)
        live = [item.id for item in node.items if not item.flags & FLAG_DELETED]
        for sid in live:
            del self.index[sid]
        if live:
            lo = bisect_left(self.ids, live[0])
            del self.ids[lo:lo + len(live)]

    def trim(self, maxlen: int | None, minid, approx: bool, limit: int) -> int:
        """streamTrim by MAXLEN (`maxlen` set) or MINID: whole nodes first; unless `approx`,
        entries of the next node are flagged deleted until the goal is met. Returns how many
        entries went."""
        deleted = 0
        while self.nodes:
            if maxlen is not None and len(self.ids) <= maxlen:
                break
            node = self.nodes[0]
            entries = node.count
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                remove = len(self.ids) - entries >= maxlen
            else:
                remove = node.items[-1].id < minid
            if remove:
                self._drop_node(node)
                deleted += entries
                continue
            if approx:
                break
            gone = []
            for item in node.items:
                if maxlen is not None:
                    if len(self.ids) - len(gone) <= maxlen:
                        break
                elif item.id >= minid:
                    break
                if not item.flags & FLAG_DELETED:
                    item.flags |= FLAG_DELETED
                    gone.append(item.id)
            for sid in gone:
                del self.index[sid]
            if gone:
                lo = bisect_left(self.ids, gone[0])
                del self.ids[lo:lo + len(gone)]
            node.count -= len(gone)
            node.deleted += len(gone)
            deleted += len(gone)
            break
        if not self.ids:
            self.first_id = ZERO
        elif deleted:
            self.first_id = self.ids[0]
        return deleted

    # -- consumer-group bookkeeping (7.0's lag) ------------------------------------------------
    def has_tombstones(self, start) -> bool:
        """streamRangeHasTombstones(start, +inf)."""
        if not self.ids or self.max_deleted == ZERO:
            return False
        if self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted

    def estimate_distance(self, sid) -> int:
        """streamEstimateDistanceFromFirstEverEntry: entries_read for a group at `sid`, or
        INVALID_ENTRIES_READ when it cannot be known."""
        if not self.entries_added:
            return 0
        if not self.ids and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        if self.max_deleted == ZERO or self.max_deleted < self.first_id:
            if sid < self.first_id:
                return self.entries_added - len(self.ids)
            if sid == self.first_id:
                return self.entries_added - len(self.ids) + 1
        return INVALID_ENTRIES_READ

    def lag(self, group: Group) -> int | None:
        """streamReplyWithCGLag: entries not yet read by the group, None when unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_distance(group.last_id)
        return None if read == INVALID_ENTRIES_READ else self.entries_added - read

    def delivered(self, group: Group, sid) -> None:
        """A group read `sid` past its last_id: advance last_id and entries_read."""
        if group.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(sid):
            group.entries_read += 1
        elif self.entries_added:
            group.entries_read = self.estimate_distance(sid)
        group.last_id = sid

    def sorted_groups(self) -> list[tuple[bytes, Group]]:
        return [(name, self.groups[name]) for name in sorted(self.groups)]

    # -- the radix tree, as XINFO reports it ---------------------------------------------------
    def rax_keys(self) -> list[bytes]:
        return [master_key(node.master) for node in self.nodes]

    def rax_nodes(self) -> int:
        """rax numnodes of the node keys in their compressed form (a key set that Redis reached
        only by inserting keys in order, as XADD does)."""
        return 1 + _subtree_nodes(self.rax_keys(), 0) if self.nodes else 1


def master_key(sid) -> bytes:
    """A node's radix-tree key: the master ID as 128-bit big endian."""
    return sid[0].to_bytes(8, "big") + sid[1].to_bytes(8, "big")


def _subtree_nodes(keys: list[bytes], depth: int) -> int:
    """Nodes below the node at `depth` holding `keys` (sorted, equal length, distinct)."""
    length = len(keys[0])
    if depth == length:
        return 0
    first, last = keys[0], keys[-1]
    common = depth
    while common < length and first[common] == last[common]:
        common += 1
    if common > depth:  # a compressed node, then what follows its characters
        return 1 + _subtree_nodes(keys, common)
    total = 0
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i][depth] != keys[start][depth]:
            total += 1 + _subtree_nodes(keys[start:i], depth + 1)
            start = i
    return total


def copy_stream(stream: Stream) -> Stream:
    """A deep copy (COPY): entries, nodes, groups, consumers and pending entries."""
    dup = Stream()
    for node in stream.nodes:
        twin = Node(node.master, node.master_fields)
        twin.count, twin.deleted, twin.body = node.count, node.deleted, node.body
        for item in node.items:
            copy = Item(item.id, item.fields, item.flags, twin)
            twin.items.append(copy)
            if not item.flags & FLAG_DELETED:
                dup.index[item.id] = copy
        dup.nodes.append(twin)
    dup.ids = list(stream.ids)
    dup.last_id, dup.first_id, dup.max_deleted = stream.last_id, stream.first_id, stream.max_deleted
    dup.entries_added = stream.entries_added
    for name, group in stream.groups.items():
        twin_group = dup.groups[name] = Group(group.last_id, group.entries_read)
        for cname, consumer in group.consumers.items():
            twin_group.consumers[cname] = Consumer(cname, consumer.seen_time)
        for sid, nack in group.pel.items():
            owner = twin_group.consumers[nack.consumer.name] if nack.consumer is not None else None
            copy = twin_group.pel[sid] = Nack(nack.delivery_time, owner, nack.delivery_count)
            if owner is not None:
                owner.pel[sid] = copy
    return dup


register_type(Stream, "stream", copy=copy_stream, encoding=lambda value, params: "stream")

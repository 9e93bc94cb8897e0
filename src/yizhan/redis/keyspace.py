"""The keyspace: numbered databases of typed values, with expiry that is lazy on access and
reclaimed by an active cycle, one lookup for reads and one for writes, and one commit path
(`Database.commit`) that every write ends with.

Values are plain Python objects; a string is `bytes` (or `bytearray` once modified in place,
which is also Redis's "raw" encoding). Later data types register their Python class, name, deep
copy (for COPY) and OBJECT ENCODING with `register_type`.

Besides the values, a database keeps what Redis keeps in each object header: the last access
time (OBJECT IDLETIME), the LFU counter (OBJECT FREQ), encoding overrides for strings Redis did
not run through its integer sharing (see `Database.encodings`), and, from its first SCAN or
RANDOMKEY on, a `ScanTable` of its keys for them to walk. `Database.data` keeps that table in
step with itself, so code that writes `db.data[key]` directly still leaves SCAN correct.
"""

from __future__ import annotations

import copy as _copy
import heapq
import math
import random
from typing import Callable, NamedTuple

from yizhan.clock import Clock
from yizhan.redis import errors
from yizhan.redis.access_archive import AccessArchive
from yizhan.redis.types.strings import key_string_bytes
from yizhan.resp import ErrorReply

TYPE_NAMES: dict[type, str] = {bytes: "string", bytearray: "string"}
COPIERS: dict[type, Callable] = {bytes: lambda value: value, bytearray: bytearray}
ENCODINGS: dict[type, Callable] = {}

# Keyspace event classes: the letters of notify-keyspace-events (Redis's NOTIFY_* flags).
GENERIC, STRING, LIST, SET, HASH, ZSET, STREAM = "g", "$", "l", "s", "h", "z", "t"


def register_type(cls: type, name: str, copy: Callable | None = None,
                  encoding: Callable | None = None) -> None:
    """Declare a value type: its TYPE name, a deep copy for COPY (default `copy.deepcopy`) and
    a function answering OBJECT ENCODING for a value."""
    TYPE_NAMES[cls] = name
    COPIERS[cls] = copy or _copy.deepcopy
    if encoding is not None:
        ENCODINGS[cls] = encoding


def type_name(value) -> str:
    return TYPE_NAMES[type(value)]


def copy_value(value):
    """An independent copy of a stored value (COPY), by its type's registered copier."""
    return COPIERS.get(type(value), _copy.deepcopy)(value)


# -- LRU and LFU, as Redis's evict.c ----------------------------------------------------------
LRU_CLOCK_MAX = (1 << 24) - 1  # the LRU clock counts seconds in 24 bits
LFU_INIT_VAL = 5


def lfu_minutes(ms: int) -> int:
    return (ms // 60000) & 65535


def lfu_decay(counter: int, ldt: int, now_minutes: int, decay_time: int) -> int:
    """LFUDecrAndReturn: the counter after the minutes since `ldt` have decayed it."""
    if not decay_time:
        return counter
    elapsed = now_minutes - ldt if now_minutes >= ldt else 65535 - ldt + now_minutes
    periods = elapsed // decay_time
    return 0 if periods > counter else counter - periods


def lfu_increment(counter: int, hits: int, log_factor: int, rng=random) -> int:
    """LFULogIncr applied `hits` times (each hit increments with p = 1/((counter-5)*factor+1)),
    sampling the gaps between increments so that a million hits cost a few steps."""
    while hits > 0 and counter < 255:
        base = max(counter - LFU_INIT_VAL, 0)
        p = 1.0 / (base * log_factor + 1)
        if p >= 1.0:
            gap = 1
        else:
            u = 1.0 - rng.random()  # in (0, 1]
            gap = int(math.log(u) / math.log1p(-p)) + 1 if p > 0 else hits + 1
        if gap > hits:
            break
        hits -= gap
        counter += 1
    return counter


# -- the scan table ---------------------------------------------------------------------------
_MASK64 = (1 << 64) - 1
REHASH_BATCH = 16  # buckets moved per add/discard while rehashing: bounded work, few calls


def _next_cursor(v: int, mask: int) -> int:
    """Redis's `v |= ~mask; v = rev(v); v++; v = rev(v)` on 64-bit cursors: increment the
    reversed masked bits. The highest clear bit of v under the mask gets set, every bit above it
    cleared; when the masked bits are all set the cursor wraps to 0."""
    free = ~(v | (_MASK64 ^ mask)) & _MASK64
    if not free:
        return 0
    bit = free.bit_length() - 1
    return (v & ((1 << bit) - 1)) | (1 << bit)


class ScanTable:
    """A set of hashable elements in power-of-two bucket arrays, walked by Redis's dictScan:
    a reverse-binary cursor that returns every element present for the whole iteration at
    least once, however the table grows or shrinks in between (an element may come twice).

    Elements go to bucket `hash(e) & mask` (Python's hash: stable for the process). The table
    doubles when it holds as many elements as buckets and halves when under 10% full, and,
    like Redis, rehashes incrementally: while two tables exist, each add/discard moves a few
    buckets (REHASH_BATCH), and `scan` visits both. A bucket slot is None, one element, or a list of them.
    """

    __slots__ = ("_t0", "_t1", "_rehash", "_used")

    INITIAL_SIZE = 4

    def __init__(self, elements=()):
        self._t0: list = []
        self._t1: list | None = None
        self._rehash = -1
        self._used = 0
        if hasattr(elements, "__len__") and len(elements):
            self._t0 = [None] * _power_of_two(len(elements))
        for element in elements:
            self.add(element)

    def __len__(self) -> int:
        return self._used

    def __contains__(self, element) -> bool:
        h = hash(element)
        for table in self._tables():
            slot = table[h & (len(table) - 1)]
            if slot is not None and (element in slot if type(slot) is list else slot == element):
                return True
        return False

    def __iter__(self):
        for table in self._tables():
            for slot in table:
                if type(slot) is list:
                    yield from slot
                elif slot is not None:
                    yield slot

    def _tables(self) -> list[list]:
        if self._t1 is not None:
            return [self._t0, self._t1]
        return [self._t0] if self._t0 else []

    @property
    def size(self) -> int:
        """Buckets in use (both tables while rehashing); for tests and diagnostics."""
        return len(self._t0) + (len(self._t1) if self._t1 is not None else 0)

    def add(self, element) -> None:
        """Insert an element that is not present (the caller guarantees it)."""
        table = self._t0
        if self._t1 is not None:
            self._rehash_step()
            table = self._t1 if self._t1 is not None else self._t0
        elif self._used >= len(table):
            if not table:
                table = self._t0 = [None] * self.INITIAL_SIZE
            else:
                self._start_rehash(len(table) * 2)
                self._rehash_step()
                table = self._t1 if self._t1 is not None else self._t0
        index = hash(element) & (len(table) - 1)
        slot = table[index]
        if slot is None:
            table[index] = element
        elif type(slot) is list:
            slot.append(element)
        else:
            table[index] = [slot, element]
        self._used += 1

    def discard(self, element) -> bool:
        h = hash(element)
        if self._t1 is None:
            if not self._removed_from(self._t0, h, element):
                return False
        else:
            self._rehash_step()
            if not (self._removed_from(self._t0, h, element)
                    or (self._t1 is not None and self._removed_from(self._t1, h, element))):
                return False
        self._used -= 1
        if self._t1 is None and self._used * 10 < len(self._t0) > self.INITIAL_SIZE:
            self._start_rehash(_power_of_two(max(self._used, self.INITIAL_SIZE)))
        return True

    @staticmethod
    def _removed_from(table: list, h: int, element) -> bool:
        if not table:
            return False
        index = h & (len(table) - 1)
        slot = table[index]
        if slot is None:
            return False
        if type(slot) is list:
            if element not in slot:
                return False
            slot.remove(element)
            if len(slot) == 1:
                table[index] = slot[0]
            return True
        if slot == element:
            table[index] = None
            return True
        return False

    def clear(self) -> None:
        self._t0, self._t1, self._rehash, self._used = [], None, -1, 0

    # -- rehashing ------------------------------------------------------------------------
    def _start_rehash(self, size: int) -> None:
        self._t1 = [None] * size
        self._rehash = 0

    def _rehash_step(self, buckets: int = REHASH_BATCH) -> None:
        """Move `buckets` non-empty buckets to the new table, looking at most 10x as many."""
        t0, t1 = self._t0, self._t1
        mask = len(t1) - 1
        end = len(t0)
        empty_visits = buckets * 10
        i = self._rehash
        while buckets and i < end:
            slot = t0[i]
            i += 1
            if slot is None:
                empty_visits -= 1
                if not empty_visits:
                    break
                continue
            t0[i - 1] = None
            buckets -= 1
            for element in (slot if type(slot) is list else (slot,)):
                index = hash(element) & mask
                there = t1[index]
                if there is None:
                    t1[index] = element
                elif type(there) is list:
                    there.append(element)
                else:
                    t1[index] = [there, element]
        self._rehash = i
        if i >= end:
            self._t0, self._t1, self._rehash = t1, None, -1

    # -- iteration ------------------------------------------------------------------------
    def scan(self, cursor: int, emit: Callable) -> int:
        """Emit the elements of the bucket(s) at `cursor`; return the next cursor (0: done)."""
        if not self._used:
            return 0
        v = cursor & _MASK64
        if self._t1 is None:
            t0 = self._t0
            m0 = len(t0) - 1
            _emit(t0[v & m0], emit)
            return _next_cursor(v, m0)
        small, large = self._t0, self._t1
        if len(small) > len(large):
            small, large = large, small
        m0, m1 = len(small) - 1, len(large) - 1
        _emit(small[v & m0], emit)
        while True:
            _emit(large[v & m1], emit)
            v = _next_cursor(v, m1)
            if not v & (m0 ^ m1):
                break
        return v

    def random_element(self, rng=random):
        """An element chosen at random (a random non-empty bucket, then a random element in it),
        or None when empty. O(1) expected: the table is kept at least 10% full."""
        if not self._used:
            return None
        if self._t1 is not None:
            self._rehash_step()
            if self._t1 is not None:
                t0, t1, start = self._t0, self._t1, self._rehash
                while True:
                    i = rng.randrange(start, len(t0) + len(t1))
                    slot = t0[i] if i < len(t0) else t1[i - len(t0)]
                    if slot is not None:
                        return rng.choice(slot) if type(slot) is list else slot
        table = self._t0
        while True:
            slot = table[rng.randrange(len(table))]
            if slot is not None:
                return rng.choice(slot) if type(slot) is list else slot


def _emit(slot, emit: Callable) -> None:
    if slot is None:
        return
    if type(slot) is list:
        for element in slot:
            emit(element)
    else:
        emit(slot)


def _power_of_two(n: int) -> int:
    size = 4
    while size < n:
        size *= 2
    return size


_dict_setitem = dict.__setitem__


class KeyDict(dict):
    """The key -> value dict of a database. Once SCAN or RANDOMKEY has asked for `scan_table()`,
    it keeps that ScanTable of its keys in step with itself, however it is written to; until
    then it is a plain dict whose writes cost nothing extra (no Python-level `__setitem__`):
    building the table turns it into a `_TrackedKeyDict`, and `clear()` turns it back."""

    __slots__ = ("table",)

    def __init__(self):
        super().__init__()
        self.table: ScanTable | None = None

    def scan_table(self) -> ScanTable:
        if self.table is None:
            self.table = ScanTable(self)
            self.__class__ = _TrackedKeyDict
        return self.table


class _TrackedKeyDict(KeyDict):
    """A KeyDict with its scan table: every way of writing keeps the table in step."""

    __slots__ = ()

    def __setitem__(self, key, value) -> None:
        table = self.table
        if table is None or key in self:
            _dict_setitem(self, key, value)
        else:
            _dict_setitem(self, key, value)
            table.add(key)

    def __delitem__(self, key) -> None:
        dict.__delitem__(self, key)
        if self.table is not None:
            self.table.discard(key)

    _MISSING = object()

    def pop(self, key, default=_MISSING):
        if key in self:
            if self.table is not None:
                self.table.discard(key)
            return dict.pop(self, key)
        if default is _TrackedKeyDict._MISSING:
            raise KeyError(key)
        return default

    def popitem(self):
        key, value = dict.popitem(self)
        if self.table is not None:
            self.table.discard(key)
        return key, value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def clear(self) -> None:
        dict.clear(self)
        self.table = None
        self.__class__ = KeyDict


class Entry(NamedTuple):
    """A key's value with everything that travels with it on RENAME and MOVE."""

    value: object
    expire_ms: int | None
    access_ms: int | None
    hits: int
    lfu: tuple[int, int] | None
    encoding: str | None


class Database:
    """One numbered database: `data` holds values, `expires` absolute expiry times in ms.

    Per-key object state: `access` (ms of last access, OBJECT IDLETIME; keys not touched since
    the cron last moved a large `access` into `archive` have their second there instead, see
    access_archive.py, so read it with `last_access_ms`), `hits` (accesses not
    yet folded into the LFU counter; counted while `count_hits`, which the instance keeps on
    only under an LFU maxmemory-policy, the only time OBJECT FREQ answers) and `lfu` ((counter, minutes) once
    folded), `encodings`
    (an OBJECT ENCODING that differs from the one `string_encoding` derives: "embstr" for a
    number Redis stored as text, "int-private" for an integer Redis does not share).

    Memory, as redis-server would count it (INFO used_memory, maxmemory; key_cost.py):
    `dataset` is the bytes of the keys and values, kept as they change. A string key's bytes
    are added and subtracted where it is stored and removed (`key_string_bytes`, a table
    lookup); any other key is added to `touched` when stored or committed, and
    `key_cost.settle` costs it again later. What was counted for a collection travels in the
    value (`mem_units`: no per-key bookkeeping here), and leaves with it (`forget`); a
    bytearray's (APPEND, SETBIT ...) is kept in `sized`."""

    __slots__ = ("index", "clock", "data", "expires", "_heap", "access", "archive", "hits", "count_hits", "lfu",
                 "encodings", "on_change", "on_event", "on_expired", "on_keymiss", "on_new", "stats",
                 "dataset", "sized", "touched", "follower", "on_lazy_expire", "on_lazy_overwrite")

    def __init__(self, index: int, clock: Clock, stats=None):
        self.index = index
        self.clock = clock
        self.data: KeyDict = KeyDict()
        self.expires: dict[bytes, int] = {}
        self._heap: list[tuple[int, bytes]] = []
        self.access: dict[bytes, int] = {}
        self.archive = AccessArchive()
        self.hits: dict[bytes, int] = {}
        self.count_hits = True  # the owning instance turns it off outside an LFU policy
        self.lfu: dict[bytes, tuple[int, int]] = {}
        self.encodings: dict[bytes, str] = {}
        self.on_change: Callable[[Database, bytes], None] | None = None
        # Called with (db, class, event, key) for each keyspace event while
        # notify-keyspace-events is not empty: the owner publishes it.
        self.on_event: Callable[[Database, str, str, bytes], None] | None = None
        # Called after a key is reclaimed because its time passed (lazily or by the active
        # cycle): the owner hangs Redis's "expired" keyspace event here.
        self.on_expired: Callable[[Database, bytes], None] | None = None
        # Called with the value of a key about to expire while lazyfree-lazy-expire is on
        # (the owner counts INFO's lazyfreed_objects, lazyfree.py).
        self.on_lazy_expire: Callable[[object], None] | None = None
        # Called with an aggregate value `store` overwrites while lazyfree-lazy-server-del is on.
        self.on_lazy_overwrite: Callable[[object], None] | None = None
        # Called with a key about to be created (the "new" keyspace event), while class n is on.
        self.on_new: Callable[[Database, bytes], None] | None = None
        # Called when a read lookup misses: the owner hangs Redis's "keymiss" event here.
        self.on_keymiss: Callable[[Database, bytes], None] | None = None
        # While this instance is a replica: its link to the master (replication.replica).
        # Expired keys then stay until the master's DEL (`_lapsed`).
        self.follower = None
        self.stats = stats
        self.dataset = 0
        self.sized: dict[bytes, int] = {}
        self.touched: set[bytes] = set()

    def __len__(self) -> int:
        return len(self.data)

    # -- reading: Redis's lookupKeyRead / lookupKeyWrite --------------------------------
    def lookup_read(self, key: bytes, touch: bool = True, keymiss: bool = True):
        """Redis's lookupKeyRead: the live value at `key`, or None; an expired key is deleted
        on the way. `touch` records an access (LRU time and LFU hit; Redis's NOTOUCH is
        touch=False). Counts keyspace_hits / keyspace_misses, as every read lookup in Redis
        does (NOTOUCH ones too), and fires "keymiss" on a miss unless `keymiss` is False
        (Redis's NONOTIFY, which only OBJECT uses)."""
        value = self.data.get(key)
        if value is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.clock.ms() and self._lapsed(key, False):
                value = None
        if value is None:
            if self.stats is not None:
                self.stats.keyspace_misses += 1
            if keymiss and self.on_keymiss is not None:
                self.on_keymiss(self, key)
            return None
        if touch:
            self.access[key] = self.clock.tick_ms
            if self.count_hits:
                hits = self.hits
                hits[key] = hits.get(key, 0) + 1
        if self.stats is not None:
            self.stats.keyspace_hits += 1
        return value

    def lookup_write(self, key: bytes, touch: bool = True):
        """Redis's lookupKeyWrite: as `lookup_read`, without the hit/miss statistics and the
        keymiss event."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.clock.ms() and self._lapsed(key, True):
                return None
        if touch:
            self.access[key] = self.clock.tick_ms
            if self.count_hits:
                hits = self.hits
                hits[key] = hits.get(key, 0) + 1
        return value

    def read_string(self, key: bytes):
        """`lookup_read` of a string: WRONGTYPE for any other type."""
        value = self.lookup_read(key)
        if value is None or type(value) is bytes or type(value) is bytearray:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def write_string(self, key: bytes):
        """`lookup_write` of a string: WRONGTYPE for any other type."""
        value = self.lookup_write(key)
        if value is None or type(value) is bytes or type(value) is bytearray:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def read_typed(self, key: bytes, cls: type):
        """`lookup_read`, WRONGTYPE unless the value is a `cls`."""
        value = self.lookup_read(key)
        if value is None or type(value) is cls:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def write_typed(self, key: bytes, cls: type):
        """`lookup_write`, WRONGTYPE unless the value is a `cls`."""
        value = self.lookup_write(key)
        if value is None or type(value) is cls:
            return value
        raise ErrorReply(errors.WRONGTYPE)

    def contains(self, key: bytes) -> bool:
        """Whether `key` is live, as Redis's expireIfNeeded + dictFind: no access, no stats."""
        return self.lookup_write(key, touch=False) is not None

    def is_expired(self, key: bytes, now_ms: int | None = None) -> bool:
        """Whether `key` is present but past its expiry (without reclaiming it)."""
        when = self.expires.get(key)
        return when is not None and when <= (self.clock.ms() if now_ms is None else now_ms)

    # -- the commit path: Redis's signalModifiedKey + notifyKeyspaceEvent + server.dirty ------
    def commit(self, key: bytes, klass: str, event: str | None, dirty: int = 1,
               container=None) -> None:
        """End a write to `key`: the one way a command reports what it changed.

        A command changes the keyspace through the storage primitives below (`store`,
        `remove`, `expire_at`, `clear_expire`) or in place through its value type's API, then
        calls `commit` once for each keyspace event Redis fires, in Redis's order. `commit`
        - deletes the key when `container` (the collection the command took elements from)
          is empty now: Redis never stores an empty list, set, hash or sorted set;
        - adds `dirty` to the dirty counter (Redis's server.dirty, which drives save points,
          rdb_changes_since_last_save and AOF propagation): one per element pushed, popped,
          added or removed, 1 for a whole-value write, 0 for a second event of one change
          (SET EX's "expire" after its "set");
        - signals the modified key (`on_change`: WATCH makes EXEC fail, blocked clients get the
          key offered after the command);
        - fires the keyspace event `event` of class `klass` (one of GENERIC, STRING, LIST, SET,
          HASH, ZSET, STREAM; None: no event, as PFCOUNT caching its count), then "del"
          (GENERIC) if the key was deleted as empty.

        Cheap when nobody watches, waits or listens: two attribute tests and an addition.
        Example (LPOP): `value = lst.popleft(); db.commit(key, LIST, "lpop", 1, lst)`.
        """
        emptied = container is not None and not container
        if emptied:
            self._remove(key)
        self.touched.add(key)
        if self.stats is not None:
            self.stats.dirty += dirty
        if self.on_change is not None:
            self.on_change(self, key)
        if self.on_event is not None:
            if event is not None:
                self.on_event(self, klass, event, key)
            if emptied:
                self.on_event(self, GENERIC, "del", key)

    # -- storage primitives: they change state and report nothing (see `commit`) ---------
    def store(self, key: bytes, value, keep_ttl: bool = False) -> None:
        """Redis's setKey without the signal: store `value`, dropping an existing TTL unless
        `keep_ttl`. Overwriting keeps the LFU counter (as dbSetValue) and drops the encoding
        override; the access time is now."""
        data = self.data
        old = data.get(key)
        if old is None:
            if self.on_new is not None:
                self.on_new(self, key)
        elif type(old) is bytes:
            self.dataset -= key_string_bytes(key, old)
        else:
            self.forget(key, old)
            if self.on_lazy_overwrite is not None:
                self.on_lazy_overwrite(old)
        data[key] = value
        if type(value) is bytes:
            self.dataset += key_string_bytes(key, value)
        else:
            self.touched.add(key)
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.encodings:
            self.encodings.pop(key, None)
        self.access[key] = self.clock.tick_ms

    def remove(self, key: bytes) -> bool:
        """Redis's dbDelete after expireIfNeeded: delete a live key with its TTL and object
        state; False when there is none (an expired one is reclaimed on the way)."""
        if self.lookup_write(key, touch=False) is None:
            return False
        self._remove(key)
        return True

    def expire_at(self, key: bytes, when_ms: int) -> None:
        """Redis's setExpire: give the live `key` an absolute expiry time in ms."""
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self.expires):
            self._heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self._heap)

    def clear_expire(self, key: bytes) -> bool:
        """Redis's removeExpire: drop the TTL of `key`; False when it had none."""
        return self.expires.pop(key, None) is not None

    def set_encoding(self, key: bytes, encoding: str) -> None:
        """Record that the string at `key` is not encoded the way `string_encoding` would guess:
        "embstr" (INCRBYFLOAT's result is never an integer object), "int-private" (an integer
        that is not the shared object, e.g. COPY's duplicate). Cleared by the next `store`."""
        self.encodings[key] = encoding

    def clear(self) -> int:
        """FLUSHDB: drop every key; counts one change per key, as Redis's emptyData."""
        removed = len(self.data)
        if self.stats is not None:
            self.stats.dirty += removed
        keys = list(self.data) if self.on_change is not None else ()
        self.data = KeyDict()
        self.expires = {}
        self._heap = []
        self.access = {}
        self.archive = AccessArchive()
        self.hits = {}
        self.lfu = {}
        self.encodings = {}
        self.dataset, self.sized, self.touched = 0, {}, set()
        for key in keys:
            self.on_change(self, key)
        return removed

    def swap_with(self, other: "Database") -> None:
        for name in ("data", "expires", "_heap", "access", "archive", "hits", "lfu", "encodings", "dataset", "sized",
                     "touched"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs)
            setattr(other, name, mine)

    # -- moving keys: RENAME, MOVE ---------------------------------------------------------
    def take(self, key: bytes) -> Entry:
        """Remove a live key and return it with its TTL and object state (reports nothing)."""
        entry = Entry(self.data[key], self.expires.get(key), self.last_access_ms(key),
                      self.hits.get(key, 0), self.lfu.get(key), self.encodings.get(key))
        self._remove(key)
        return entry

    def put(self, key: bytes, entry: Entry) -> None:
        """Store a taken entry at `key` (which must not exist), state and TTL included
        (reports nothing but the "new" event)."""
        if self.on_new is not None:
            self.on_new(self, key)
        self.data[key] = entry.value
        self.added(key, entry.value)
        self.access[key] = self.clock.tick_ms if entry.access_ms is None else entry.access_ms
        if entry.hits:
            self.hits[key] = entry.hits
        if entry.lfu is not None:
            self.lfu[key] = entry.lfu
        if entry.encoding is not None:
            self.encodings[key] = entry.encoding
        if entry.expire_ms is not None:
            self.expire_at(key, entry.expire_ms)

    def forget(self, key: bytes, value) -> None:
        """Take a value that leaves `key` (replaced or removed) out of `dataset`: a collection
        carries what was counted for it (`mem_units`, 8-byte units); a bytearray's count is in
        `sized`, settled later."""
        units = getattr(value, "mem_units", None)
        if units is None:
            self.touched.add(key)
        else:
            self.dataset -= units * 8
            value.mem_units = 0

    def added(self, key: bytes, value) -> None:
        """Count a value just written to `data[key]` where no value was (a taken entry put
        back, a key loaded from a file) in `dataset`."""
        if type(value) is bytes:
            self.dataset += key_string_bytes(key, value)
        else:
            self.touched.add(key)

    # -- object state: OBJECT IDLETIME / FREQ ---------------------------------------------
    ARCHIVE_MIN = 16_384  # `archive_access` leaves a smaller `access` dict alone

    def last_access_ms(self, key: bytes) -> int | None:
        """When `key` was last accessed (ms; whole seconds once archived), or None."""
        when = self.access.get(key)
        if when is None and self.archive.entries:
            second = self.archive.seconds_of(key)
            if second is not None:
                return second * 1000
        return when

    def archive_access(self, min_entries: int | None = None) -> None:
        """The cron's step: move the `access` dict into the packed archive once it holds
        `min_entries` keys (ARCHIVE_MIN), and drop dead archive entries once they outnumber
        the live keys."""
        if len(self.access) < (self.ARCHIVE_MIN if min_entries is None else min_entries):
            return
        self.archive.add(self.access)
        self.access = {}
        if self.archive.entries > 2 * len(self.data) + 1000:
            self.archive.compact(self.data, self.access)

    def unarchive_access(self) -> None:
        """Every archived access time back into the `access` dict (of live keys only)."""
        stamps = self.archive.stamps()
        stamps.update(self.access)
        data = self.data
        self.access = {key: ms for key, ms in stamps.items() if key in data}
        self.archive = AccessArchive()

    def access_stamps(self) -> dict[bytes, int]:
        """Every key's last access in ms, in one pass (for a whole-dataset writer)."""
        stamps = self.archive.stamps() if self.archive.entries else {}
        stamps.update(self.access)
        return stamps

    def touch_all(self, when_ms: int) -> None:
        """Every key accessed at `when_ms` (the end of loading an AOF)."""
        self.access = dict.fromkeys(self.data, when_ms)
        self.archive = AccessArchive()

    def idle_seconds(self, key: bytes, last_ms: int | None = None) -> int:
        """Seconds since the last access (or `last_ms`, when the caller has it), on Redis's
        24-bit seconds LRU clock."""
        now = (self.clock.ms() // 1000) & LRU_CLOCK_MAX
        if last_ms is None:
            last_ms = self.last_access_ms(key)
        last = ((self.clock.ms() if last_ms is None else last_ms) // 1000) & LRU_CLOCK_MAX
        return now - last if now >= last else now + (LRU_CLOCK_MAX - last)

    def lfu_counter(self, key: bytes, log_factor: int, decay_time: int, rng=random) -> int:
        """The LFU counter as OBJECT FREQ reports it: pending hits are folded in (as if they
        happened at the last access), then the minutes since then decay it."""
        now_ms = self.clock.ms()
        last = self.last_access_ms(key)
        last_minutes = lfu_minutes(now_ms if last is None else last)
        counter, ldt = self.lfu.get(key, (LFU_INIT_VAL, last_minutes))
        hits = self.hits.pop(key, 0)
        if hits:
            counter = lfu_decay(counter, ldt, last_minutes, decay_time)
            counter = lfu_increment(counter, hits, log_factor, rng)
            ldt = last_minutes
            self.lfu[key] = (counter, ldt)
        return lfu_decay(counter, ldt, lfu_minutes(now_ms), decay_time)

    # -- iteration: SCAN, RANDOMKEY, KEYS --------------------------------------------------
    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SCAN step as Redis's scanGenericCommand walks the dict: buckets until `count`
        keys are collected, at most 10*count + 1 buckets, or the end (cursor 0). Expired and
        filtered keys are the caller's business."""
        keys: list[bytes] = []
        table = self.data.scan_table()
        budget = count * 10
        while True:
            cursor = table.scan(cursor, keys.append)
            if not cursor or not budget:
                break
            budget -= 1
            if len(keys) >= count:
                break
        return cursor, keys

    def random_key(self, rng=random) -> bytes | None:
        """A random live key (expired ones met on the way are reclaimed), or None."""
        table = self.data.scan_table()
        while True:
            key = table.random_element(rng)
            if key is None:
                return None
            if not self.expires or self.contains(key):
                return key

    def random_volatile_key(self, rng=random) -> bytes | None:
        """A random key with a time to live, or None: drawn from the expiry heap (at least half
        of its entries are current, see `expire_at`), else the first of `expires`."""
        heap, expires = self._heap, self.expires
        if not expires:
            return None
        for _ in range(16 if heap else 0):
            when, key = heap[rng.randrange(len(heap))]
            if expires.get(key) == when:
                return key
        return next(iter(expires))

    # -- expiry --------------------------------------------------------------------------
    def _remove(self, key: bytes) -> None:
        value = self.data.pop(key)
        if type(value) is bytes:
            self.dataset -= key_string_bytes(key, value)
        else:
            self.forget(key, value)
        self.access.pop(key, None)
        if self.hits:
            self.hits.pop(key, None)
        if self.lfu:
            self.lfu.pop(key, None)
        if self.encodings:
            self.encodings.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)

    def _lapsed(self, key: bytes, write: bool) -> bool:
        """A lookup met `key` past its expiry: whether it reads as missing. A master reclaims
        it. A replica does as Redis 7.0's expireIfNeeded: the master's own commands still see
        it, other clients do not, and it stays until the master's DEL; a write lookup on a
        writable replica (replica-read-only no) reclaims it."""
        follower = self.follower
        if follower is None or (write and not follower.applying and not follower.read_only()):
            self._expire(key)
            return True
        return not follower.applying

    def _expire(self, key: bytes) -> None:
        if self.on_lazy_expire is not None:
            self.on_lazy_expire(self.data[key])
        self._remove(key)
        if self.stats is not None:
            self.stats.expired_keys += 1
        if self.on_expired is not None:
            self.on_expired(self, key)
        self.commit(key, GENERIC, None, 0)  # no change counted; "expired" came from on_expired

    def active_expire(self, limit: int = 200) -> int:
        """Delete up to `limit` keys whose time has passed; returns how many were deleted."""
        now = self.clock.ms()
        heap, expires = self._heap, self.expires
        removed = 0
        while heap and heap[0][0] <= now and removed < limit:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self._expire(key)
                removed += 1
        return removed


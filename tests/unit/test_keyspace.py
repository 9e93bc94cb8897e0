"""The keyspace without a network: the SCAN table's guarantee under concurrent change, expiry
(lazy and active) on a manual clock, moving keys with their state, LRU/LFU bookkeeping and the
string encodings OBJECT reports."""

import random

import pytest

from yizhan.clock import ManualClock
from yizhan.redis.keyspace import Database, ScanTable, _next_cursor, copy_value, lfu_decay, lfu_increment
from yizhan.redis.types.strings import canonical_int, string_encoding

MASK64 = (1 << 64) - 1


def rev64(v: int) -> int:
    return int(f"{v:064b}"[::-1], 2)


def redis_next_cursor(v: int, mask: int) -> int:
    """dict.c, literally: v |= ~m0; v = rev(v); v++; v = rev(v)."""
    v = (v | (~mask & MASK64)) & MASK64
    return rev64((rev64(v) + 1) & MASK64)


def test_next_cursor_is_redis_reverse_binary_increment():
    rng = random.Random(7)
    for _ in range(5000):
        mask = (1 << rng.randint(0, 40)) - 1
        v = rng.getrandbits(64) if rng.random() < 0.3 else rng.getrandbits(41)
        assert _next_cursor(v, mask) == redis_next_cursor(v, mask), (v, mask)


def full_scan(table: ScanTable, step=None, count: int = 10):
    """Iterate a ScanTable like a client drives SCAN, calling `step()` between calls."""
    seen, cursor, calls = [], 0, 0
    while True:
        batch = []
        budget = count * 10
        while True:
            cursor = table.scan(cursor, batch.append)
            if not cursor or not budget:
                break
            budget -= 1
            if len(batch) >= count:
                break
        seen.extend(batch)
        calls += 1
        if not cursor:
            return seen, calls
        if step is not None:
            step()
        assert calls < 1_000_000


def test_scan_table_full_iteration_returns_each_element_once_when_nothing_changes():
    table = ScanTable(range(1000))
    seen, _ = full_scan(table)
    assert sorted(seen) == list(range(1000))


class SlowRehashTable(ScanTable):
    """Moves one bucket per operation, so scans meet the two-table state far more often."""

    __slots__ = ()

    def _rehash_step(self, buckets: int = 1) -> None:
        super()._rehash_step(1)


@pytest.mark.parametrize("cls", [ScanTable, SlowRehashTable])
@pytest.mark.parametrize("initial,phase", [(0, "grow"), (40, "grow"), (1000, "grow"), (40, "churn"),
                                           (2000, "churn"), (3000, "shrink"), (300, "shrink")])
@pytest.mark.parametrize("count", [1, 10])
def test_scan_never_misses_an_element_present_for_the_whole_scan(cls, initial, phase, count):
    """Random inserts and deletes between SCAN calls, growing the table (rehashing up) and
    shrinking it (rehashing down): every element present from start to end comes back."""
    rng = random.Random(f"{initial}{phase}{count}")
    table = cls()
    for i in range(initial):
        table.add(i)
    stable = set(rng.sample(range(initial), initial // 4))
    volatile = [i for i in range(initial) if i not in stable]
    ever = set(range(initial))
    next_id = initial
    grow = {"grow": 0.8, "shrink": 0.03, "churn": 0.5}[phase]
    changes = 0
    rehashing_calls = 0

    def step():
        nonlocal next_id, changes, rehashing_calls
        changes += 1
        rehashing_calls += table._t1 is not None
        if changes > 400:  # then let the scan finish (an ever-growing table never does)
            return
        for _ in range(rng.randint(1, 30)):
            if rng.random() < grow or not volatile:
                table.add(next_id)
                volatile.append(next_id)
                ever.add(next_id)
                next_id += 1
            else:
                index = rng.randrange(len(volatile))
                volatile[index], volatile[-1] = volatile[-1], volatile[index]
                assert table.discard(volatile.pop())
        assert len(table) == len(stable) + len(volatile)

    seen, _ = full_scan(table, step, count=count)
    assert stable <= set(seen)
    assert set(seen) <= ever
    assert set(table) == stable | set(volatile)
    if cls is SlowRehashTable and initial >= 300:
        assert rehashing_calls > 0  # the case this test is about did happen


def test_scan_table_grows_and_shrinks_incrementally():
    table = ScanTable()
    for i in range(10_000):
        table.add(i)
    assert 10_000 <= table.size <= 2 * 16384 + 16384
    for i in range(9_990):
        assert table.discard(i)
    for i in range(9_990, 10_000):
        assert i in table
    assert not table.discard(5)
    for _ in range(2000):  # discards and adds drive a pending rehash to its end
        table.add(-1)
        table.discard(-1)
    assert table.size <= 64
    assert sorted(table) == list(range(9_990, 10_000))


def test_random_element():
    table = ScanTable()
    assert table.random_element() is None
    for i in range(50):
        table.add(i)
    rng = random.Random(3)
    assert {table.random_element(rng) for _ in range(3000)} == set(range(50))


# -- the database --------------------------------------------------------------------------
@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def db(clock):
    return Database(0, clock)


def db_scan_all(db: Database, count: int = 10) -> list:
    keys, cursor = [], 0
    while True:
        cursor, batch = db.scan(cursor, count)
        keys.extend(batch)
        if not cursor:
            return keys


def test_scan_costs_about_count_per_call(db):
    for i in range(50_000):
        db.store(b"k%d" % i, b"v")
    cursor, batch = db.scan(0, 10)
    assert cursor != 0 and 10 <= len(batch) < 40
    cursor, batch = db.scan(cursor, 100)
    assert 100 <= len(batch) < 200
    assert sorted(db_scan_all(db, 500)) == sorted(db.data)


def test_scan_sees_keys_written_directly_into_data(db):
    db.store(b"a", b"1")
    assert db_scan_all(db) == [b"a"]  # builds the table
    db.data[b"b"] = bytearray(b"2")   # as a command writing in place would
    db.data.setdefault(b"c", b"3")
    db.data.update({b"d": b"4"})
    del db.data[b"a"]
    assert db.data.pop(b"zz", None) is None
    assert sorted(db_scan_all(db)) == [b"b", b"c", b"d"]
    db.data.clear()
    assert db_scan_all(db) == []
    db.data[b"e"] = b"5"
    assert db_scan_all(db) == [b"e"]


def test_scan_follows_swap_and_clear(clock):
    a, b = Database(0, clock), Database(1, clock)
    a.store(b"in-a", b"1")
    b.store(b"in-b", b"1")
    assert db_scan_all(a) == [b"in-a"]
    a.swap_with(b)
    assert db_scan_all(a) == [b"in-b"] and db_scan_all(b) == [b"in-a"]
    a.clear()
    assert db_scan_all(a) == [] and a.random_key() is None


def test_lazy_expiry_on_access(db, clock):
    db.store(b"k", b"v")
    db.expire_at(b"k", clock.ms() + 100)
    clock.advance(99)
    assert db.lookup_read(b"k") == b"v"
    clock.advance(1)
    assert b"k" in db.data          # not reclaimed until looked at...
    assert db.lookup_read(b"k") is None     # ...and then it is
    assert b"k" not in db.data and b"k" not in db.expires


def test_active_expiry_reclaims_keys_nobody_reads(clock):
    class Stats:
        dirty = 0
        expired_keys = 0

    db = Database(0, clock, Stats())
    for i in range(300):
        db.store(b"short%d" % i, b"v")
        db.expire_at(b"short%d" % i, clock.ms() + 1000)
    db.store(b"long", b"v")
    db.expire_at(b"long", clock.ms() + 60_000)
    db.store(b"forever", b"v")
    clock.advance(999)
    assert db.active_expire() == 0
    clock.advance(1)
    assert db.active_expire(limit=200) == 200       # bounded work per cycle
    assert db.active_expire(limit=200) == 100
    assert sorted(db.data) == [b"forever", b"long"]  # without any access to the keys
    assert db.stats.expired_keys == 300
    assert len(db.expires) == 1


def test_active_expiry_ignores_stale_schedule_entries(db, clock):
    db.store(b"k", b"v")
    db.expire_at(b"k", clock.ms() + 10)
    db.expire_at(b"k", clock.ms() + 1000)  # pushed back
    clock.advance(20)
    assert db.active_expire() == 0 and b"k" in db.data
    db.clear_expire(b"k")
    clock.advance(2000)
    assert db.active_expire() == 0 and b"k" in db.data


def test_random_key_skips_and_reclaims_expired_keys(db, clock):
    assert db.random_key() is None
    for i in range(20):
        db.store(b"e%d" % i, b"v")
        db.expire_at(b"e%d" % i, clock.ms() + 5)
    db.store(b"live", b"v")
    clock.advance(10)
    assert {db.random_key() for _ in range(50)} == {b"live"}
    db.remove(b"live")
    assert db.random_key() is None
    assert len(db.data) == 0


def test_take_and_put_carry_ttl_and_object_state(clock):
    src, dst = Database(0, clock), Database(1, clock)
    src.store(b"k", b"123")
    src.expire_at(b"k", clock.ms() + 5000)
    src.set_encoding(b"k", "embstr")
    src.lookup_read(b"k")
    entry = src.take(b"k")
    assert b"k" not in src.data and b"k" not in src.expires and b"k" not in src.hits
    dst.put(b"k", entry)
    assert dst.data[b"k"] == b"123"
    assert dst.expires[b"k"] == clock.ms() + 5000
    assert dst.encodings[b"k"] == "embstr" and dst.hits[b"k"] == 1


def test_set_overwrite_keeps_lfu_but_resets_encoding(db):
    db.store(b"k", b"1")
    db.lookup_read(b"k")
    db.set_encoding(b"k", "int-private")
    db.store(b"k", b"2")
    assert db.hits[b"k"] == 1 and b"k" not in db.encodings


def test_idle_seconds_follow_accesses(db, clock):
    db.store(b"k", b"v")
    assert db.idle_seconds(b"k") == 0
    clock.advance(5_000)
    assert db.idle_seconds(b"k") == 5
    db.lookup_read(b"k", touch=False)
    assert db.idle_seconds(b"k") == 5
    db.lookup_read(b"k")
    assert db.idle_seconds(b"k") == 0


def test_lfu_counter_starts_at_5_increments_and_decays(db, clock):
    db.store(b"k", b"v")
    assert db.lfu_counter(b"k", 10, 1) == 5
    db.lookup_read(b"k")
    assert db.lfu_counter(b"k", 10, 1) == 6  # p = 1 below the initial value + 1
    assert db.lfu_counter(b"k", 10, 1) == 6  # stable without accesses
    clock.advance(3 * 60_000)
    assert db.lfu_counter(b"k", 10, 1) == 3  # one step per minute (lfu-decay-time 1)
    assert db.lfu_counter(b"k", 10, 0) == 6  # decay disabled
    db.store(b"fresh", b"v")
    clock.advance(10 * 60_000)
    assert db.lfu_counter(b"fresh", 10, 1) == 0


def test_lfu_increment_is_logarithmic():
    rng = random.Random(11)
    assert lfu_increment(5, 1, 10, rng) == 6
    assert lfu_increment(0, 3, 10, rng) == 3        # below the initial value every hit counts
    assert lfu_increment(250, 10**12, 0, rng) == 255
    # With factor 10, a hundred hits take the counter from 5 to about 9-11 (Redis's table).
    samples = [lfu_increment(5, 100, 10, random.Random(i)) for i in range(200)]
    assert 8.5 <= sum(samples) / len(samples) <= 11.5
    samples = [lfu_increment(5, 1_000_000, 10, random.Random(i)) for i in range(20)]
    assert all(150 <= s <= 255 for s in samples)
    assert lfu_decay(10, 100, 103, 1) == 7 and lfu_decay(10, 65530, 2, 1) == 3
    assert lfu_decay(2, 0, 60, 1) == 0 and lfu_decay(9, 0, 60, 0) == 9


@pytest.mark.parametrize("value,encoding", [
    (b"", "embstr"), (b"x" * 44, "embstr"), (b"x" * 45, "raw"), (b"0", "int"), (b"-1", "int"),
    (b"9223372036854775807", "int"), (b"-9223372036854775808", "int"),
    (b"9223372036854775808", "embstr"), (b"-0", "embstr"), (b"01", "embstr"), (b"+1", "embstr"),
    (b" 1", "embstr"), (b"1" * 45, "raw"), (bytearray(b"12"), "raw"), (bytearray(b""), "raw"),
])
def test_string_encoding(value, encoding):
    assert string_encoding(value) == encoding


def test_canonical_int():
    assert canonical_int(b"123") == 123 and canonical_int(b"-5") == -5
    for text in (b"", b"-", b"1.0", b"1e3", b"0x1", b"--1", b"-01", b"00", b"\xff"):
        assert canonical_int(text) is None


def test_copy_value_is_deep_for_mutable_strings():
    raw = bytearray(b"abc")
    dup = copy_value(raw)
    dup[0] = ord("z")
    assert raw == b"abc" and type(dup) is bytearray
    assert copy_value(b"abc") == b"abc"


def test_on_expired_hook_fires_for_reclaimed_keys_only(db, clock):
    reclaimed = []
    db.on_expired = lambda database, key: reclaimed.append(key)
    for key in (b"lazy", b"active", b"deleted"):
        db.store(key, b"v")
        db.expire_at(key, clock.ms() + 10)
    db.remove(b"deleted")
    clock.advance(10)
    assert db.lookup_read(b"lazy") is None
    db.active_expire()
    assert reclaimed == [b"lazy", b"active"]


# -- the access-time archive --------------------------------------------------------------------
def test_archived_access_times_answer_idletime_and_freq_as_the_dict_did():
    clock = ManualClock()
    db = Database(0, clock)
    db.store(b"old", b"1")
    clock.advance(3_500)
    db.store(b"new\x00\x02", b"2")
    db.store(b"gone", b"3")
    before = {k: db.idle_seconds(k) for k in (b"old", b"new\x00\x02", b"gone")}
    db.archive_access(min_entries=1)
    assert db.access == {} and len(db.archive) == 3
    assert {k: db.idle_seconds(k) for k in before} == before
    clock.advance(2_000)
    assert db.idle_seconds(b"old") == before[b"old"] + 2
    db.lookup_read(b"old")  # touched again: the dict shadows the archive
    assert db.idle_seconds(b"old") == 0
    db.remove(b"gone")
    db.archive_access(min_entries=1)
    db.store(b"gone", b"again")  # a new key is never given a dead entry's time
    clock.advance(1_000)
    assert db.idle_seconds(b"gone") == 1 and db.idle_seconds(b"new\x00\x02") == before[b"new\x00\x02"] + 3


def test_a_renamed_key_keeps_its_archived_time_and_compaction_drops_dead_entries():
    clock = ManualClock()
    db = Database(0, clock)
    for i in range(10):
        db.store(b"k%d" % i, b"v")
    clock.advance(5_000)
    db.archive_access(min_entries=1)
    db.put(b"renamed", db.take(b"k0"))
    assert db.idle_seconds(b"renamed") == 5
    for i in range(1, 10):
        db.remove(b"k%d" % i)
    for round_ in range(3):  # each archive pass re-adds the renamed key's stamp
        db.access[b"renamed"] = clock.tick_ms - 5_000
        db.archive_access(min_entries=1)
    assert db.archive.entries <= 2 * len(db.data) + 1000 and db.idle_seconds(b"renamed") == 5
    db.archive.compact(db.data, db.access)
    assert db.archive.entries == 1 and db.access_stamps() == {b"renamed": (clock.tick_ms - 5_000) // 1000 * 1000}


def test_unarchived_access_times_are_the_archived_ones_for_live_keys():
    clock = ManualClock()
    db = Database(0, clock)
    for name in (b"a", b"b", b"c"):
        db.store(name, b"v")
    clock.advance(4_000)
    db.archive_access(min_entries=1)
    db.remove(b"c")
    db.lookup_read(b"b")
    db.unarchive_access()
    assert db.archive.entries == 0 and set(db.access) == {b"a", b"b"}
    assert db.idle_seconds(b"a") == 4 and db.idle_seconds(b"b") == 0

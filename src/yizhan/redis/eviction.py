"""maxmemory and maxmemory-policy, as Redis 7.0's evict.c approximates them (issue 17).

Before each command, while `maxmemory` is set, `perform_evictions` compares the dataset's
memory with the limit and evicts keys the policy allows until it is under (Redis's
performEvictions, called from processCommand); when it cannot, commands flagged deny-oom (and
anything queued in MULTI) are refused with OOM by the session.

The memory compared with the limit is used_memory as INFO reports it (used_memory.py: the
data as redis-server would hold it, kept up to date as keys are written, plus clients and
the other overheads), not the process's RSS, which Python's allocator does not give back.
An evicted key takes its cost (key_cost.py) off the figure at once.

Choosing keys: allkeys-random / volatile-random take a random key of the next database in
turn; the LRU, LFU and volatile-ttl policies sample `maxmemory-samples` keys of every
database into the eviction pool (16 best candidates kept across calls, ordered by idle
time, 255 - LFU counter, or nearness of expiry) and evict the best one still there. Among
equally good candidates the one sampled first goes first, as in Redis's pool (a new entry goes
to the left of its equals); ordering them by key name instead evicted, among keys written in the
same second, the greatest names first: for key:0..key:7999 the most recent ones. Each
eviction counts in evicted_keys, fires the `evicted` keyspace event (class e), signals the key
as modified and is logged to the AOF as a DEL.
"""

from __future__ import annotations

import logging
from bisect import insort

from yizhan.redis import lazyfree
from yizhan.redis.key_cost import DICT_ENTRY, key_bytes
from yizhan.redis.keyspace import GENERIC
from yizhan.redis.used_memory import for_eviction

log = logging.getLogger("yizhan.redis")
EVPOOL_SIZE = 16


class Evictor:
    """One instance's eviction state: the pool and the next database for random policies."""

    def __init__(self, srv):
        self.srv = srv
        self.pool: list[tuple[float, int, int, bytes]] = []  # (score, -sampled, db, key), ascending
        self.sampled = 0  # entries ever put in the pool: orders equal scores, first sampled last
        self.next_db = 0
        # Redis's pre_command_oom_state: the last check found the server over maxmemory
        # (scripts refuse deny-oom commands then, scripting/lua_state.py)
        self.oom = False
        self.exceeded_since: float | None = None  # monotonic seconds: over maxmemory, unable to evict

    def exceeded_rows(self) -> tuple:
        """INFO's total_eviction_exceeded_time and current_eviction_exceeded_time (ms): how long
        used memory has stayed above maxmemory with nothing more to evict, as Redis's
        performEvictions times it (a spell opens on a failed check and closes on a good one)."""
        current = self._current_us()
        return (("total_eviction_exceeded_time", (self.srv.stats.total_eviction_exceeded_us + current) // 1000),
                ("current_eviction_exceeded_time", current // 1000))

    def _current_us(self) -> int:
        if self.exceeded_since is None:
            return 0
        return int((self.srv.clock.monotonic() - self.exceeded_since) * 1_000_000)

    def _time_spell(self) -> None:
        if self.oom and self.exceeded_since is None:
            self.exceeded_since = self.srv.clock.monotonic()
        elif not self.oom and self.exceeded_since is not None:
            self.srv.stats.total_eviction_exceeded_us += self._current_us()
            self.exceeded_since = None

    def limit_changed(self) -> None:
        """CONFIG SET maxmemory: Redis's warning when the data is already over it, then the
        evictions at once."""
        limit = self.srv.int_params.int("maxmemory")
        used = for_eviction(self.srv)
        if limit and limit < used:
            log.warning("WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the current "
                        "memory usage (%d). This will result in key eviction and/or the inability to accept "
                        "new write commands depending on the maxmemory-policy.", limit, used)
        self.perform()

    def perform(self) -> bool:
        """Evict until under maxmemory; False when over it and nothing more may go (OOM)."""
        self.oom = not self._perform()
        if self.srv.int_params.int("maxmemory"):  # Redis runs performEvictions only then
            self._time_spell()
        return not self.oom

    def _perform(self) -> bool:
        srv = self.srv
        limit = srv.int_params.int("maxmemory")
        if not limit:
            return True
        used = for_eviction(srv)
        if used <= limit:
            return True
        policy = srv.params.get("maxmemory-policy")
        if policy == "noeviction":
            return False
        while used > limit:
            picked = self._pick(policy)
            if picked is None:
                return False
            db, key = picked
            used -= key_bytes(key, db.data[key], exact=False) + DICT_ENTRY
            self._evict(db, key)
        return True

    # -- choosing ------------------------------------------------------------------------
    def _pick(self, policy: str):
        volatile = policy.startswith("volatile")
        if policy.endswith("random"):
            return self._random_key(volatile)
        self._fill_pool(policy, volatile)
        while self.pool:
            _, _, index, key = self.pool.pop()
            db = self.srv.dbs[index]
            if key in (db.expires if volatile else db.data):
                return db, key
        return None

    def _random_key(self, volatile: bool):
        dbs = self.srv.dbs
        for _ in range(len(dbs)):
            db = dbs[self.next_db % len(dbs)]
            self.next_db += 1
            key = _volatile_sample(db, 1) if volatile else ([db.random_key()] if db.data else [])
            if key and key[0] is not None:
                return db, key[0]
        return None

    def _fill_pool(self, policy: str, volatile: bool) -> None:
        samples = max(1, self.srv.int_params.int("maxmemory-samples"))
        params = self.srv.int_params
        pool = self.pool
        for db in self.srv.dbs:
            if not (db.expires if volatile else db.data):
                continue
            keys = _volatile_sample(db, samples) if volatile else [db.random_key() for _ in range(samples)]
            for key in dict.fromkeys(k for k in keys if k is not None):
                if "lru" in policy:
                    score = db.idle_seconds(key)
                elif "lfu" in policy:
                    score = 255 - db.lfu_counter(key, params.int("lfu-log-factor"), params.int("lfu-decay-time"))
                else:  # volatile-ttl: the sooner it expires, the better a candidate
                    score = -db.expires[key]
                self.sampled += 1
                entry = (score, -self.sampled, db.index, key)
                if len(pool) >= EVPOOL_SIZE and entry <= pool[0]:
                    continue
                pool[:] = [e for e in pool if e[2:] != entry[2:]]
                insort(pool, entry)
                if len(pool) > EVPOOL_SIZE:
                    del pool[0]

    # -- evicting ------------------------------------------------------------------------
    def _evict(self, db, key: bytes) -> None:
        srv = self.srv
        if srv.aof is not None:
            srv.aof.evicted(db.index, key)
        if lazyfree.deleting_lazily(srv.params, "eviction"):
            lazyfree.freed(srv.stats, db.data[key])
        db.remove(key)
        srv.stats.evicted_keys += 1
        db.commit(key, GENERIC, None, 0)  # the key is signalled as modified (WATCH)
        srv.notify(db, "e", "evicted", key)


def _volatile_sample(db, count: int) -> list[bytes]:
    """Up to `count` random keys with a time to live."""
    keys = (db.random_volatile_key() for _ in range(count))
    return [key for key in keys if key is not None]

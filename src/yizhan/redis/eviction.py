"""maxmemory and maxmemory-policy, as Redis 7.0's evict.c approximates them (issue 17).

Before each command, while `maxmemory` is set, `perform_evictions` compares the dataset's
memory with the limit and evicts keys the policy allows until it is under (Redis's
performEvictions, called from processCommand); when it cannot, commands flagged deny-oom (and
anything queued in MULTI) are refused with OOM by the session.

The dataset's memory (`DatasetMemory`): per database, its key count times the mean cost of
`SAMPLED_KEYS` random keys (each costed as MEMORY USAGE costs it, its container elements
sampled), resampled every `RESAMPLE_MS` or when the key count moved by an eighth, plus `BASE_BYTES` for the server's own structures.
It follows the data as keys come and go (an evicted key takes its database's mean with it),
not the process's RSS, which Python's allocator does not give back.

Choosing keys: allkeys-random / volatile-random take a random key of the next database in
turn; the LRU, LFU and volatile-ttl policies sample `maxmemory-samples` keys of every
database into the eviction pool (16 best candidates kept across calls, ordered by idle
time, 255 - LFU counter, or nearness of expiry) and evict the best one still there. Each
eviction counts in evicted_keys, fires the `evicted` keyspace event (class e), signals the key
as modified and is logged to the AOF as a DEL.
"""

from __future__ import annotations

import logging
from bisect import insort

from yizhan.redis.key_cost import estimate
from yizhan.redis.keyspace import GENERIC

log = logging.getLogger("yizhan.redis")
EVPOOL_SIZE = 16
SAMPLED_KEYS = 32
RESAMPLE_MS = 100
BASE_BYTES = 900_000  # what an empty redis-server reports as used_memory, about


class DatasetMemory:
    """used_memory as maxmemory sees it: an estimate of what the data costs."""

    def __init__(self, srv):
        self.srv = srv
        # db index -> (mean key cost, when sampled, key count then)
        self.means: dict[int, tuple[float, int, int]] = {}

    def used(self) -> int:
        total = BASE_BYTES
        for db in self.srv.dbs:
            if db.data:
                total += int(len(db.data) * self.mean(db))
        return total

    def mean(self, db) -> float:
        now = self.srv.clock.ms()
        cached = self.means.get(db.index)
        size = len(db.data)
        if cached is not None and now - cached[1] < RESAMPLE_MS and abs(size - cached[2]) * 8 <= max(cached[2], 64):
            return cached[0]
        costs = []
        for _ in range(min(SAMPLED_KEYS, len(db.data))):
            key = db.random_key()
            if key is None:
                break
            costs.append(estimate(key, db.data[key], 5))
        mean = sum(costs) / len(costs) if costs else 0.0
        self.means[db.index] = (mean, now, size)
        return mean


class Evictor:
    """One instance's eviction state: the pool and the next database for random policies."""

    def __init__(self, srv):
        self.srv = srv
        self.memory = DatasetMemory(srv)
        self.pool: list[tuple[float, int, bytes]] = []  # (score, db index, key), ascending
        self.next_db = 0
        # Redis's pre_command_oom_state: the last check found the server over maxmemory
        # (scripts refuse deny-oom commands then, scripting/lua_state.py)
        self.oom = False

    def limit_changed(self) -> None:
        """CONFIG SET maxmemory: Redis's warning when the data is already over it, then the
        evictions at once."""
        limit = self.srv.int_params.int("maxmemory")
        used = self.memory.used()
        if limit and limit < used:
            log.warning("WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the current "
                        "memory usage (%d). This will result in key eviction and/or the inability to accept "
                        "new write commands depending on the maxmemory-policy.", limit, used)
        self.perform()

    def perform(self) -> bool:
        """Evict until under maxmemory; False when over it and nothing more may go (OOM)."""
        self.oom = not self._perform()
        return not self.oom

    def _perform(self) -> bool:
        srv = self.srv
        limit = srv.int_params.int("maxmemory")
        if not limit:
            return True
        used = self.memory.used()
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
            used -= self.memory.mean(db)
            self._evict(db, key)
        return True

    # -- choosing ------------------------------------------------------------------------
    def _pick(self, policy: str):
        volatile = policy.startswith("volatile")
        if policy.endswith("random"):
            return self._random_key(volatile)
        self._fill_pool(policy, volatile)
        while self.pool:
            _, index, key = self.pool.pop()
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
                entry = (score, db.index, key)
                if len(pool) >= EVPOOL_SIZE and entry <= pool[0]:
                    continue
                pool[:] = [e for e in pool if e[1:] != entry[1:]]
                insort(pool, entry)
                if len(pool) > EVPOOL_SIZE:
                    del pool[0]

    # -- evicting ------------------------------------------------------------------------
    def _evict(self, db, key: bytes) -> None:
        srv = self.srv
        if srv.aof is not None:
            srv.aof.evicted(db.index, key)
        db.remove(key)
        srv.stats.evicted_keys += 1
        db.commit(key, GENERIC, None, 0)  # the key is signalled as modified (WATCH)
        srv.notify(db, "e", "evicted", key)


def _volatile_sample(db, count: int) -> list[bytes]:
    """Up to `count` random keys with a time to live."""
    keys = (db.random_volatile_key() for _ in range(count))
    return [key for key in keys if key is not None]

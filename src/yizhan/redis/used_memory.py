"""used_memory and its parts, as redis-server 7.0 counts them (zmalloc_used_memory and
getMemoryOverheadData): what INFO memory, MEMORY STATS, maxmemory and maxmemory-clients read.

yizhan's process size says little about the data (Python's allocator keeps what it once
used, the interpreter itself is tens of MB), so used_memory is what redis-server would have
allocated for the same state, and moves with the data as Redis's does:

- `STARTUP_BYTES`: what redis-server 7.0 reports as used_memory_startup (its shared objects,
  16 empty databases, the command table); yizhan has no allocator figure of its own to put
  there;
- the databases: each key's sds and value object (key_cost.py, kept up to date as keys are
  written) plus the main and expires dicts' entries and bucket arrays (overhead);
- clients: per client what CLIENT LIST shows as tot-mem (`client_memory`): the client
  struct, its reply buffer, its query buffer, the arguments of its queued MULTI commands and its
  pending output (replicas apart, as mem_clients_slaves); the replication backlog;
- the script and function caches.

RSS stays what it is (used_memory_rss), and the fragmentation ratio is RSS / used_memory, as
Redis computes it: on yizhan it says how much more than redis-server the process holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from yizhan.redis.key_cost import dataset_bytes, db_overhead

STARTUP_BYTES = 876_376  # used_memory_startup of Debian's redis-server 7.0 (jemalloc 5.3)
CLIENT_STRUCT = 776  # sizeof(client) and the lists it starts with, as tot-mem shows an idle one
REPLY_BUFFER = 1024  # rbs of a client idle for a while (Redis shrinks it to 1 kB)
ARGV_SLOT = 8  # a pointer per argument, beside the argument's own bytes
ALLOCATOR = "pymalloc"  # mem_allocator


@dataclass
class ClientMemory:
    """The memory fields of a CLIENT LIST line."""

    qbuf: int
    argv_mem: int
    multi_mem: int
    rbs: int
    omem: int

    @property
    def total(self) -> int:
        """tot-mem: everything the client holds."""
        return CLIENT_STRUCT + self.rbs + self.qbuf + self.argv_mem + self.multi_mem + self.omem


def client_memory(c) -> ClientMemory:
    conn = c.conn
    qbuf = conn.parser.buffered if conn is not None else 0
    omem = conn.output_size() if conn is not None else 0
    multi_mem = 0
    if c.multi:
        multi_mem = sum(sum(map(len, argv)) + ARGV_SLOT * len(argv) for _, argv in c.multi)
    return ClientMemory(qbuf, 0, multi_mem, REPLY_BUFFER, omem)


def replica_clients(srv) -> set[int]:
    """id() of the clients that are replicas of this instance (redis/replication)."""
    state = getattr(srv, "_replication", None)
    return {id(peer.client) for peer in state.master.peers} if state is not None else set()


def clients_memory(srv) -> tuple[int, int]:
    """(mem_clients_normal, mem_clients_slaves): the clients' tot-mem, replicas apart."""
    replicas = replica_clients(srv)
    normal = slaves = 0
    for c in srv.clients.values():
        if id(c) in replicas:
            slaves += client_memory(c).total
        else:
            normal += client_memory(c).total
    return normal, slaves


def replication_backlog(srv) -> int:
    state = getattr(srv, "_replication", None)
    backlog = state.master.backlog if state is not None else None
    return backlog.histlen() if backlog is not None else 0


def script_caches(srv) -> tuple[int, int]:
    """lua.caches and functions.caches, without creating the engines to ask."""
    scripts = getattr(srv, "_eval_engine", None)
    functions = getattr(srv, "_functions", None)
    return (scripts.memory if scripts is not None else 0,
            functions.memory_overhead() if functions is not None else 0)


def cached_scripts(srv) -> int:
    scripts = getattr(srv, "_eval_engine", None)
    return len(scripts.scripts) if scripts is not None else 0


@dataclass
class Overhead:
    """getMemoryOverheadData's parts."""

    clients_normal: int
    clients_slaves: int
    replication_backlog: int
    lua_caches: int
    functions_caches: int
    per_db: list[tuple[int, int, int]]  # (db index, overhead.hashtable.main, .expires)
    dataset_keys: int  # what the keys and values themselves take (not overhead)

    @property
    def total(self) -> int:
        return (STARTUP_BYTES + self.clients_normal + self.clients_slaves + self.replication_backlog
                + self.lua_caches + self.functions_caches
                + sum(main + expires for _, main, expires in self.per_db))

    @property
    def used(self) -> int:
        return self.total + self.dataset_keys


def overhead(srv, clients: tuple[int, int] | None = None) -> Overhead:
    lua, functions = script_caches(srv)
    if clients is None:
        clients = clients_memory(srv)
    per_db = [(db.index, *db_overhead(db)) for db in srv.dbs if db.data or db.expires]
    return Overhead(*clients, replication_backlog(srv), lua, functions, per_db, dataset_bytes(srv.dbs))


def used_memory(srv) -> int:
    """used_memory, and the peak follows it (as Redis's cron and INFO update it)."""
    used = overhead(srv).used
    note_peak(srv, used)
    return used


def note_peak(srv, used: int) -> int:
    if used > srv.memory_peak:
        srv.memory_peak = used
    return srv.memory_peak


def for_eviction(srv) -> int:
    """What maxmemory compares with the limit: used_memory less what Redis leaves out
    (mem_not_counted_for_evict: the replicas' output buffers; yizhan has no AOF buffer). It
    runs before every command while maxmemory is set: the clients' memory, a walk over every
    client, is taken once per batch of requests (the clock's tick), not per command."""
    cached = srv.clients_memory_cache
    tick = srv.clock.tick_ms
    if cached is None or cached[0] != tick:
        cached = srv.clients_memory_cache = (tick, clients_memory(srv))
    parts = overhead(srv, cached[1])
    note_peak(srv, parts.used)
    return parts.used - parts.clients_slaves


def rss_bytes() -> int:
    """The process's resident set size (used_memory_rss)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


@dataclass
class Report:
    """Everything INFO memory and MEMORY STATS derive their figures from, read at once."""

    overhead: Overhead
    peak: int
    rss: int

    @property
    def used(self) -> int:
        return self.overhead.used

    @property
    def dataset(self) -> int:
        return self.overhead.dataset_keys

    @property
    def net(self) -> int:
        """What the server allocated since it started (never 0, Redis divides by it)."""
        return max(self.used - STARTUP_BYTES, 1)

    @property
    def dataset_percent(self) -> float:
        return self.dataset * 100 / self.net

    @property
    def peak_percent(self) -> float:
        return self.used * 100 / self.peak

    @property
    def fragmentation(self) -> float:
        return self.rss / self.used

    def keys_bytes_per_key(self, keys: int) -> int:
        return self.net // keys if keys else 0


def report(srv) -> Report:
    parts = overhead(srv)
    return Report(parts, note_peak(srv, parts.used), rss_bytes())

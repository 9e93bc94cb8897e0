"""One Redis instance: its databases, runtime parameters, connected clients and statistics.

Everything a command can reach beyond its own client lives here; the network layer creates
one instance per server and hands each new connection to `connect`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from yizhan.clock import Clock
from yizhan.config import Config
from yizhan.redis.acl import Acl
from yizhan.redis.blocking import BlockingRegistry
from yizhan.redis import client_eviction
from yizhan.redis.eviction import Evictor
from yizhan.redis import lazyfree
from yizhan.redis.instantaneous import InstantaneousMetrics
from yizhan.redis.used_memory import used_memory
from yizhan.redis.keyspace import Database
from yizhan.redis.observer import Observer
from yizhan.redis.params import Params
from yizhan.redis.persistence.aof import aof_state
from yizhan.redis.persistence.snapshot import snapshotter
from yizhan.redis.pubsub import PubSub, parse_notify_flags
from yizhan.redis.replication.state import REPLICATION_PARAMS, replication
from yizhan.redis.tracking import Tracking

REDIS_VERSION = "7.0.15"


@dataclass
class Stats:
    total_connections_received: int = 0
    total_commands_processed: int = 0
    total_error_replies: int = 0
    rejected_connections: int = 0
    expired_keys: int = 0
    evicted_keys: int = 0
    evicted_clients: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    total_net_input_bytes: int = 0
    total_net_output_bytes: int = 0
    unexpected_error_replies: int = 0
    # from a master (replication/replica.py) and to replicas (session.py): INFO's totals add
    # them to the two above, which leave them out
    total_net_repl_input_bytes: int = 0
    total_net_repl_output_bytes: int = 0
    expire_cycle_cpu_us: int = 0            # CPU time of the active expiry cycle
    total_eviction_exceeded_us: int = 0     # closed spells of used memory above maxmemory (eviction.py)
    dump_payload_sanitizations: int = 0     # RESTORE payloads deep-checked (sanitize-dump-payload)
    lazyfreed_objects: int = 0              # what Redis's lazy-free thread would have freed (lazyfree.py)
    dirty: int = 0
    total_forks: int = 0
    latest_fork_usec: int = 0


class IntParams(dict):
    """`Params.int` for the command hot paths (encoding limits read on every write), each value
    parsed once and kept until a parameter changes (`RedisInstance.on_param_changed` clears
    it). `int` is the dict's own C-level lookup; a miss parses the parameter (`__missing__`)."""

    __slots__ = ("params",)

    def __init__(self, params: Params):
        super().__init__()
        self.params = params

    def __missing__(self, name: str) -> int:
        value = self[name] = self.params.int(name)
        return value

    int = dict.__getitem__


class ManualScheduler:
    """The scheduler used without an event loop (unit tests): callbacks run when told to.
    A running server uses its asyncio loop, which has the same call_soon/call_later."""

    def __init__(self):
        self.soon: list = []
        self.timers: list = []

    def call_soon(self, callback, *args):
        self.soon.append((callback, args))

    def call_later(self, delay: float, callback, *args):
        timer = _Timer(delay, callback, args)
        self.timers.append(timer)
        return timer

    def run_soon(self) -> None:
        while self.soon:
            callback, args = self.soon.pop(0)
            callback(*args)


class _Timer:
    def __init__(self, delay, callback, args):
        self.delay, self.callback, self.args, self.cancelled = delay, callback, args, False

    def cancel(self) -> None:
        self.cancelled = True


class RedisInstance:
    def __init__(self, config: Config | None = None, clock: Clock | None = None):
        self.config = config or Config()
        self.clock = clock or Clock()
        self.params = Params(self.config.redis_params)
        self.int_params = IntParams(self.params)
        self.stats = Stats()
        self.instantaneous = InstantaneousMetrics(self.stats, self.clock.ms())
        self.dbs = [Database(i, self.clock, self.stats) for i in range(self.params.int("databases"))]
        for db in self.dbs:
            db.on_expired = self._key_expired
        self._update_hit_counting()
        self._update_lazy_expire()
        self.clients: dict[int, "Client"] = {}
        self.acl = Acl(self)  # users, permissions, the ACL log (redis/acl)
        self.acl.load_startup(self.params.get("requirepass"), self.config.redis_users, self.params.get("aclfile"))
        self.scheduler = ManualScheduler()
        # The test controls' command hook (yizhan.testing.control.redis_faults): None unless a
        # test installs a fault or records commands; clients then leave the direct path.
        self.control = None
        self.on_connection = None  # the test controls' look at each accepted client (None: off)
        self.blocking = BlockingRegistry(self)
        self.pubsub = PubSub()
        self.observer = Observer(self)
        self.tracking = Tracking(self)
        self.current_client = None  # the client whose requests are being answered (NOLOOP)
        self.pause = None  # the CLIENT PAUSE in force (pause.Pause)
        # (function, args...) to run once the current command's reply is out: output a client
        # makes for itself during its command (its own invalidations, its MONITOR line)
        self.after_reply: list[tuple] = []
        self.set_notify_flags(parse_notify_flags(self.params.get("notify-keyspace-events")) or "")
        self.watchers: dict[tuple[int, bytes], dict] = {}
        self._next_client_id = 1
        self.started_monotonic = self.clock.monotonic()
        self.run_id = os.urandom(20).hex()
        self.repl_id = os.urandom(20).hex()  # master_replid; DEBUG CHANGE-REPL-ID draws a new one
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE
        self.tcp_port = self.config.port
        self.last_save_time = self.clock.ms() // 1000
        self.evictor = Evictor(self)  # maxmemory (eviction.py)
        self.memory_peak = 0  # used_memory_peak (used_memory.py)
        self.clients_memory_cache = None  # (clock tick, (normal, replicas)): used_memory.for_eviction
        self.client_eviction = bool(client_eviction.limit(self))  # maxmemory-clients is in force
        # the propagation point (persistence.aof.AOF) while appendonly is on or replicas follow
        self.aof = None
        # set by redis.replication while writes may be refused (a read-only replica,
        # min-replicas-to-write): (client, command) -> the error message, or None
        self.write_refusal = None
        self.script_running = None  # the ScriptRun of the EVAL/FCALL in progress (scripting.busy)
        self.poll_while_busy = None  # set by the network layer: accept connections during a long script
        self.after_busy = None  # set by the network layer: a long script ended
        # set by the runtime: CONFIG SET of tls-* parameters, given every parameter's new
        # value; answers None once applied, else the reason CONFIG SET fails with
        self.reconfigure_tls = None
        self.shutdown_hook = None  # set by the runtime: SHUTDOWN succeeded, stop the server
        self.shut_down = False  # SHUTDOWN did its persistence work: the runtime's stop skips it

    def finish_shutdown(self) -> None:
        """SHUTDOWN succeeded: the AOF is closed, every client is dropped unanswered (as
        redis-server exits before writing), a running script stops at its next hook, and
        the runtime stops (`shutdown_hook`)."""
        self.shut_down = True
        if self.aof is not None:
            self.aof.stop()  # nothing after SHUTDOWN reaches it (a busy script's writes)
        run = self.script_running
        if run is not None:
            run.killed = True
        for client in list(self.clients.values()):
            client.kill()
        if self.shutdown_hook is not None:
            self.shutdown_hook()

    def run_after_reply(self) -> None:
        pending = self.after_reply[:]
        self.after_reply.clear()  # the same list: connections hold it
        for function, *args in pending:
            function(*args)

    def next_client_id(self) -> int:
        client_id = self._next_client_id
        self._next_client_id += 1
        return client_id

    def register(self, client) -> None:
        self.clients[client.id] = client
        self.stats.total_connections_received += 1

    def unregister(self, client) -> None:
        self.clients.pop(client.id, None)
        if client.blocked is not None:
            self.blocking.unpark(client.blocked)
            client.blocked = None
        self.pubsub.drop_client(client)
        self.tracking.disable(client)
        self.observer.drop_client(client)
        self.unwatch(client)
        if self.aof is not None:
            self.aof.parked.pop(client.id, None)

    # -- change hooks: WATCH and blocked clients -----------------------------------------
    def call_soon(self, callback, *args):
        return self.scheduler.call_soon(callback, *args)

    def call_later(self, delay: float, callback, *args):
        return self.scheduler.call_later(delay, callback, *args)

    def key_changed(self, db: Database, key: bytes) -> None:
        watchers = self.watchers.get((db.index, key))
        if watchers:
            for client in watchers:
                client.dirty_cas = True
        self.blocking.key_changed(db.index, key)
        if self.tracking.active:
            self.tracking.key_changed(key)

    def update_change_hooks(self) -> None:
        """Databases report changes only while someone watches, waits or tracks keys: writes
        stay cheap."""
        hook = self.key_changed if (self.watchers or self.blocking.waiting or self.tracking.active) else None
        for db in self.dbs:
            db.on_change = hook

    def swap_databases(self, first: int, second: int) -> None:
        """SWAPDB: clients see the other database's keys; WATCHers of a key that exists in
        either database are dirty afterwards, as in Redis."""
        a, b = self.dbs[first], self.dbs[second]
        a.swap_with(b)
        for (index, key), watchers in self.watchers.items():
            if index in (first, second) and (key in a.data or key in b.data):
                for client in watchers:
                    client.dirty_cas = True
        for db in (a, b):
            for key in list(db.data):
                self.blocking.key_changed(db.index, key)

    def watch(self, client, key: bytes) -> None:
        db = client.db
        db_key = (db.index, key)
        if db_key in client.watched:
            return
        when = db.expires.get(key)
        client.watched[db_key] = when is not None and when <= self.clock.ms()  # expired already
        self.watchers.setdefault(db_key, {})[client] = None
        self.update_change_hooks()

    def unwatch(self, client) -> None:
        for db_key in client.watched:
            watchers = self.watchers.get(db_key)
            if watchers is not None:
                watchers.pop(client, None)
                if not watchers:
                    del self.watchers[db_key]
        client.watched = {}
        client.dirty_cas = False
        self.update_change_hooks()

    def watched_key_expired(self, client) -> bool:
        """Redis 7.0 aborts EXEC when a watched key expired after WATCH, even unaccessed."""
        now = self.clock.ms()
        for (index, key), expired_at_watch in client.watched.items():
            when = self.dbs[index].expires.get(key)
            if not expired_at_watch and when is not None and when <= now:
                return True
        return False

    # -- pub/sub and keyspace notifications ----------------------------------------------
    def _key_expired(self, db: Database, key: bytes) -> None:
        self.notify(db, "x", "expired", key)
        if self.aof is not None:  # replicas get the deletion, as Redis propagates it
            self.aof.expired(db.index, key)

    def _key_created(self, db: Database, key: bytes) -> None:
        self.notify(db, "n", "new", key)

    def _key_missed(self, db: Database, key: bytes) -> None:
        self.notify(db, "m", "keymiss", key)

    def _key_event(self, db: Database, klass: str, event: str, key: bytes) -> None:
        self.pubsub.notify(klass, event, key, db.index)

    def notify(self, db: Database, klass: str, event: str, key: bytes) -> None:
        """A keyspace event: klass is one of Redis's class letters (g $ l s h z x e ...)."""
        if self.pubsub.notify_flags:
            self.pubsub.notify(klass, event, key, db.index)

    def pubsub_buffer_limits(self) -> tuple[int, int, int]:
        words = self.params.get("client-output-buffer-limit").split()
        for i in range(0, len(words) - 3, 4):
            if words[i] == "pubsub":
                return int(words[i + 1]), int(words[i + 2]), int(words[i + 3])
        return 0, 0, 0

    def active_expire_cycle(self, limit_per_db: int = 500) -> int:
        """One tick's expiry of keys whose time has passed: up to `limit_per_db` keys per
        database at active-expire-effort 1, more at higher efforts in the proportion Redis
        raises its keys per loop (20 + 5 per step of effort); the time it takes is INFO's
        expire_cycle_cpu_milliseconds (Redis times its cycle by the clock too)."""
        if not self.active_expire_enabled or self.pause is not None:  # no deletion while paused
            return 0
        started = self.clock.monotonic()
        limit = limit_per_db * (3 + self.int_params.int("active-expire-effort")) // 4
        # a replica's keys wait for the master's DEL, as Redis's (keyspace.Database._lapsed)
        removed = sum(db.active_expire(limit) for db in self.dbs if db.expires and db.follower is None)
        self.stats.expire_cycle_cpu_us += int((self.clock.monotonic() - started) * 1_000_000)
        return removed

    def archive_access(self) -> None:
        """The cron's memory step: large access-time dicts move into their packed archives,
        except under an LRU or LFU maxmemory-policy, whose eviction reads a sampled key's access
        time on every eviction (an archived one costs a search of the archive): then archives
        are read back into the dicts."""
        used_memory(self)  # the keys written since the last tick costed (key_cost.settle), the peak noted
        policy = self.params.get("maxmemory-policy")
        evicting_by_access = "lru" in policy or "lfu" in policy
        for db in self.dbs:
            if evicting_by_access:
                if db.archive.entries:
                    db.unarchive_access()
            elif len(db.access) >= db.ARCHIVE_MIN:
                db.archive_access()

    def uptime_seconds(self) -> int:
        return int(self.clock.monotonic() - self.started_monotonic)

    def set_notify_flags(self, flags: str) -> None:
        """notify-keyspace-events, canonical; read misses call `_key_missed` only while the
        key-miss class is on, so a miss costs nothing otherwise; `Database.commit` fires events
        only while some class is on."""
        self.pubsub.notify_flags = flags
        hook = self._key_missed if "m" in flags else None
        event_hook = self._key_event if flags else None
        new_hook = self._key_created if "n" in flags else None
        for db in self.dbs:
            db.on_keymiss = hook
            db.on_event = event_hook
            db.on_new = new_hook

    def _update_lazy_expire(self) -> None:
        """The Database hooks of lazyfree-lazy-expire and lazyfree-lazy-server-del."""
        on_expire = self._lazily_freed if lazyfree.deleting_lazily(self.params, "expire") else None
        on_overwrite = self._lazily_freed if lazyfree.deleting_lazily(self.params, "server-del") else None
        for db in self.dbs:
            db.on_lazy_expire, db.on_lazy_overwrite = on_expire, on_overwrite

    def _lazily_freed(self, value) -> None:
        lazyfree.freed(self.stats, value)

    def _update_hit_counting(self) -> None:
        """Accesses feed the LFU counter only under an LFU policy (where OBJECT FREQ answers)."""
        lfu = "lfu" in self.params.get("maxmemory-policy")
        for db in self.dbs:
            db.count_hits = lfu

    def on_param_changed(self, name: str) -> None:
        self.int_params.clear()
        self.observer.configure()
        if name in ("lazyfree-lazy-expire", "lazyfree-lazy-server-del"):
            self._update_lazy_expire()
        if name in ("maxmemory", "maxmemory-clients"):
            self.client_eviction = bool(client_eviction.limit(self))
        if name == "maxmemory":  # clients leave the direct path while it is set; evict now
            for client in self.clients.values():
                client.update_direct()
            self.evictor.limit_changed()
        elif name == "maxmemory-policy":
            self._update_hit_counting()
        elif name == "notify-keyspace-events":
            self.set_notify_flags(self.params.get(name))
        elif name in REPLICATION_PARAMS:
            replication(self).configure()
        elif name == "requirepass":
            self.acl.set_default_password(self.params.get(name))
        elif name == "appendonly":
            if self.params.flag("appendonly"):
                aof_state(self).start()
            elif self.aof is not None:
                self.aof.stop()

    def reset_stats(self) -> None:
        dirty = self.stats.dirty
        self.stats = Stats(dirty=dirty)
        self.evictor.exceeded_since = None  # Redis's resetServerStats forgets the open spell too
        # and the counters kept by persistence and replication
        snapshotter(self).saves = 0
        aof = aof_state(self)
        aof.rewrites = aof.failures = 0
        master = replication(self).master
        master.sync_full = master.sync_partial_ok = master.sync_partial_err = 0
        self.instantaneous.reset(self.stats, self.clock.ms())
        self.observer.reset_stats()
        for db in self.dbs:
            db.stats = self.stats

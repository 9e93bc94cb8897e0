"""RDB snapshots of a running instance: SAVE (in the foreground), BGSAVE (a forked child writes
the file while the server keeps answering; without fork, a consistent in-process snapshot),
`save` points, and loading dump.rdb at start-up.

The file lives at <data-dir>/<dbfilename>. It is written to a temporary file, fsynced and
renamed over the old one, as Redis does, so a crash never leaves a half-written dump.rdb.

As in Redis 7.0, one child at a time: a BGSAVE while a BGREWRITEAOF child runs is refused, or
with SCHEDULE (or inside MULTI) recorded and started by the cron once that child is gone; save
points wait for it too. FLUSHALL kills a running BGSAVE and, when save points are configured,
saves the now empty dataset at once (`flushall_save`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from yizhan.redis.keyspace import lfu_minutes
from yizhan.redis.persistence import child, rdb
from yizhan.redis.persistence.codec import RDBError, RDBUnsupported

log = logging.getLogger("yizhan")

CRON_INTERVAL = 0.1  # seconds between checks of a child's exit and of the save points
WAIT_STEP = 0.01  # seconds between checks while waiting for a child to end


def kill_child(pid: int) -> None:
    """Kill a forked persistence child (BGSAVE, BGREWRITEAOF) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def key_save_delay(params) -> float:
    """Seconds to pause after each key written (the hidden `rdb-key-save-delay`, microseconds,
    which Redis's tests use to make a save or rewrite last; negative values round to none)."""
    return max(params.int("rdb-key-save-delay"), 0) / 1e6


class RDBLoadError(Exception):
    """dump.rdb exists but cannot be loaded; the message names the file and what to do."""


def snapshotter(srv) -> "Snapshotter":
    saver = getattr(srv, "_snapshotter", None)
    if saver is None:
        saver = srv._snapshotter = Snapshotter(srv)
    return saver


class Snapshotter:
    def __init__(self, srv):
        self.srv = srv
        self.child_pid: int | None = None
        self.child_started = 0.0
        self.dirty_at_fork = 0
        self.last_status_ok = True
        self.last_bgsave_seconds = -1
        self.last_attempt = 0.0
        self.saves = 0  # successful saves since start (INFO's rdb_saves)
        self.last_load_loaded = 0
        self.last_load_expired = 0
        self.scheduled = False  # BGSAVE SCHEDULE during an AOF rewrite: started when it ends
        self.when_saved: list = []  # called with whether the running BGSAVE succeeded (a replica's sync)
        self.sync_child = None  # replication.fullsync.FullSyncs: its diskless child is an RDB child too

    # -- where and what -------------------------------------------------------------------
    def path(self) -> Path:
        return Path(self.srv.config.data_dir) / self.srv.params.get("dbfilename")

    def in_progress(self) -> bool:
        """Whether a BGSAVE child (or a diskless sync's, as Redis's RDB child type) is still
        running (reaping a BGSAVE child, and recording how it ended, if it has finished: even
        without an event loop no child is left a zombie)."""
        if self.child_pid is not None:
            self._reap()
        return self.child_pid is not None or (self.sync_child is not None and self.sync_child.pid is not None)

    def current_seconds(self) -> int:
        return int(self.srv.clock.monotonic() - self.child_started)

    def chunks(self, aux=()):
        """The whole dataset as RDB file chunks; keys already expired are left out; `aux`: more
        aux fields (rdb.iter_file)."""
        now = self.srv.clock.ms()
        policy = self.srv.params.get("maxmemory-policy")
        lru, lfu = "lru" in policy, "lfu" in policy  # rdbSaveKeyValuePair's savelru / savelfu
        delay = key_save_delay(self.srv.params)

        def live(db):
            expires = db.expires
            stamps = db.access_stamps() if lru else None
            for key, value in db.data.items():
                when = expires.get(key)
                if when is not None and when <= now:
                    continue
                if delay:
                    time.sleep(delay)
                if lru:
                    yield key, value, when, (db.idle_seconds(key, stamps.get(key)), None)
                elif lfu:
                    yield key, value, when, (None, self._lfu(db, key))
                else:
                    yield key, value, when

        dbs = ((db.index, live(db), (len(db.data), len(db.expires))) for db in self.srv.dbs if db.data)
        return rdb.iter_file(dbs, now_s=self.srv.clock.ms() // 1000, compress=self.srv.params.flag("rdbcompression"),
                             functions=library_codes(self.srv), aux=aux)

    def _lfu(self, db, key: bytes) -> int:
        params = self.srv.params
        return db.lfu_counter(key, params.int("lfu-log-factor"), params.int("lfu-decay-time"))

    def encode(self, aux=()) -> bytes:
        return b"".join(self.chunks(aux))

    def write(self, chunks, tag: int) -> None:
        """Write the chunks to a temporary file, fsync it, rename it over the dump file."""
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"temp-{tag}.rdb")
        try:
            with open(temp, "wb", buffering=1 << 20) as f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)

    # -- SAVE -----------------------------------------------------------------------------
    def save(self, counted: bool = True) -> bool:
        try:
            self.write(self.chunks(), os.getpid())
        except OSError as exc:
            log.warning("Failed saving the DB to %s: %s", self.path(), exc.strerror)
            self.last_status_ok = False
            return False
        self.srv.stats.dirty = 0
        self.srv.last_save_time = self.srv.clock.ms() // 1000
        self.last_status_ok = True
        self.saves += counted
        log.info("DB saved on disk")
        return True

    # -- BGSAVE ---------------------------------------------------------------------------
    def bgsave(self, aux=()) -> bool:
        """Fork a child that writes the file; `aux`: more aux fields (a replica's full sync)."""
        self.last_attempt = self.srv.clock.ms() / 1000
        if not hasattr(os, "fork") or sys.platform == "win32":
            return self.save()  # no fork (Windows): a consistent snapshot, in the foreground
        self.dirty_at_fork = self.srv.stats.dirty
        self.child_started = self.srv.clock.monotonic()
        pid = child.fork(self.srv)
        if pid == 0:  # the child: write and leave without running anything of the parent
            code = 1
            try:
                self.write(self.chunks(aux), os.getpid())
                code = 0
            except BaseException:  # noqa: BLE001  (the exit code reports it)
                pass
            os._exit(code)
        self.child_pid = pid
        log.info("Background saving started by pid %d", pid)
        self.srv.call_later(CRON_INTERVAL, self._poll)
        return True

    def _poll(self) -> None:
        if self.child_pid is not None and not self._reap():
            self.srv.call_later(CRON_INTERVAL, self._poll)

    def _reap(self) -> bool:
        """Collect a finished child and record how it ended; False while it still runs."""
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: its exit code is lost
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return False
        self.child_pid = None
        self.last_bgsave_seconds = int(self.srv.clock.monotonic() - self.child_started)
        ok = os.waitstatus_to_exitcode(status) == 0
        self.last_status_ok = ok
        if ok:
            self.saves += 1
            self.srv.stats.dirty -= self.dirty_at_fork
            self.srv.last_save_time = self.srv.clock.ms() // 1000
            log.info("Background saving terminated with success")
        else:
            log.warning("Background saving error")
        callbacks, self.when_saved = self.when_saved, []
        for callback in callbacks:
            callback(ok)
        return True

    def abort(self) -> None:
        """Stop a running BGSAVE child and remove its temporary file (shutdown)."""
        pid = self.child_pid
        if pid is None:
            return
        kill_child(pid)
        self.child_pid = None
        self.path().with_name(f"temp-{pid}.rdb").unlink(missing_ok=True)
        callbacks, self.when_saved = self.when_saved, []
        for callback in callbacks:
            callback(False)

    def wait(self, timeout: float = 30.0) -> None:
        """Block until a running BGSAVE child has finished (shutdown, tests)."""
        for _ in range(int(timeout / WAIT_STEP)):  # real time: a ManualClock must not stall it
            if self.child_pid is None:
                return
            self._poll()
            if self.child_pid is not None:
                time.sleep(WAIT_STEP)

    # -- save points ----------------------------------------------------------------------
    def save_points(self) -> list[tuple[int, int]]:
        words = self.srv.params.get("save").split()
        return [(int(words[i]), int(words[i + 1])) for i in range(0, len(words) - 1, 2)]

    def other_child_running(self) -> bool:
        """Whether a BGREWRITEAOF child is running (Redis allows one child at a time)."""
        aof = getattr(self.srv, "_aof_state", None)
        return aof is not None and aof.rewrite_in_progress()

    def cron(self) -> None:
        """serverCron's checks: a scheduled BGSAVE once no child runs; BGSAVE when some
        `save <seconds> <changes>` point is reached (after a failed attempt, retry no sooner
        than 5 seconds later)."""
        if self.in_progress() or self.other_child_running():
            return
        now = self.srv.clock.ms() / 1000
        if self.scheduled and (self.last_status_ok or now - self.last_attempt > 5):
            if self.bgsave():
                self.scheduled = False
            return
        dirty = self.srv.stats.dirty
        for seconds, changes in self.save_points():
            if (dirty >= changes and now - self.srv.last_save_time > seconds
                    and (self.last_status_ok or now - self.last_attempt > 5)):
                log.info("%d changes in %d seconds. Saving...", changes, seconds)
                self.bgsave()
                return

    # -- FLUSHALL ---------------------------------------------------------------------------
    def flushall_save(self) -> None:
        """flushAllDataAndResetRDB: kill a BGSAVE child; with save points, write the (empty)
        dataset now. As redis-server 7.0.15 does, that save resets the change count and
        LASTSAVE but is not counted in rdb_saves (FLUSHALL still reaches the AOF: it always
        does)."""
        self.abort()
        if self.save_points():
            self.save(counted=False)

    # -- loading --------------------------------------------------------------------------
    def load(self, replace_functions: bool = False) -> int:
        """Load <data-dir>/<dbfilename> if it exists; returns the number of keys loaded.
        `replace_functions`: a library already loaded is replaced (DEBUG RELOAD MERGE)."""
        path = self.path()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise RDBLoadError(f"cannot read {path}: {exc.strerror}") from None
        srv = self.srv
        try:
            snap = rdb.decode_file(data, rdb.Limits.from_params(srv.params),
                                   check_crc=srv.params.flag("rdbchecksum"))
        except RDBUnsupported as exc:
            raise RDBLoadError(f"cannot load {path}: {exc}; remove those keys in the Redis that "
                               f"wrote it (or move the file away) and start again") from None
        except RDBError as exc:
            raise RDBLoadError(
                f"{path} is not a valid RDB file ({exc}); move it away (or repair it with "
                f"redis-check-rdb) and start again") from None
        return self.install(snap, replace_functions)

    def install(self, snap: rdb.Snapshot, replace_functions: bool = False) -> int:
        srv = self.srv
        self._install_functions(snap.functions, replace_functions)
        now = srv.clock.ms()
        loaded = expired = 0
        lfu = "lfu" in srv.params.get("maxmemory-policy")
        for record in snap.records:
            if record.db >= len(srv.dbs):
                raise RDBLoadError(f"{self.path()} uses database {record.db}, but 'databases' is "
                                   f"{len(srv.dbs)}: raise it and start again")
            if record.expire_ms is not None and record.expire_ms <= now:
                expired += 1  # a master drops keys that expired while it was down
                continue
            db = srv.dbs[record.db]
            db.data[record.key] = record.value
            db.added(record.key, record.value)
            db.access[record.key] = now
            if lfu and record.freq is not None:  # objectSetLRUOrLFU, as rdbLoad applies it
                db.lfu[record.key] = (record.freq, lfu_minutes(now))
            elif not lfu and record.idle is not None:
                db.access[record.key] = max(now - record.idle * 1000, 0)
            if record.expire_ms is not None:
                db.expire_at(record.key, record.expire_ms)
            loaded += 1
        srv.stats.dirty = 0
        self.last_load_loaded, self.last_load_expired = loaded, expired
        return loaded


    def _install_functions(self, codes: list[bytes], replace: bool = False) -> None:
        """The file's function libraries, before its keys, as rdbLoad creates them (no time
        limit; a library that cannot be created stops the load)."""
        if not codes:
            return
        from yizhan.redis.scripting.function_lua import registry  # the engine imports the commands
        from yizhan.redis.scripting.functions import FunctionError
        libraries = registry(self.srv)
        for code in codes:
            try:
                libraries.create(code, replace, 0)
            except FunctionError as exc:
                raise RDBLoadError(f"{self.path()}: failed loading library, {exc.message}") from None


def library_codes(srv) -> list[bytes]:
    """The code of every loaded function library (what an RDB file or an AOF rewrite saves)."""
    libraries = getattr(srv, "_functions", None)
    return [lib.code for lib in libraries.libraries.values()] if libraries is not None else []


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""The append-only file: every effective write, in RESP, in <data-dir>/<appendfilename>.

Propagation follows Redis: only commands that changed the dataset are logged; relative expiry
becomes absolute (PEXPIREAT, SET ... PXAT, RESTORE ... ABSTTL), random or blocking pops become
their effect (SREM, LPOP, LMOVE, ZREM), INCRBYFLOAT becomes SET ... KEEPTTL, XADD * gets its
real ID, a transaction is wrapped in MULTI/EXEC and SELECT is emitted when the db changes.

Writes gather in a buffer that `flush` writes (and, with `appendfsync always`, fsyncs) before
the replies of a batch leave; with `everysec` the periodic tick fsyncs once a second.
BGREWRITEAOF forks a child that writes the dataset as commands while the parent keeps a copy
of the writes made meanwhile and appends them to the new file before renaming it into place
(without fork, the rewrite happens in-process). The file is a plain single-file AOF, which
redis-server 7.0 also loads (it migrates it into appendonlydir/ as the base file of its
multi-part AOF); the other way, Redis's appendonlydir/ (RDB or RESP base, incr files) is
loaded when there is no single file, and converted into one.

At start-up a truncated last command (or an unfinished MULTI) is cut off with a warning under
`aof-load-truncated yes` (the default) and is Redis's "Unexpected end of file" AOFLoadError under
`no`; anything malformed before the end is an AOFLoadError naming the file. Redis's multi-part
AOF is looked for in <data-dir>/<appenddirname>.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from yizhan.clock import ManualClock
from yizhan.redis.persistence import child, rdb, streams
from yizhan.redis.persistence.snapshot import (WAIT_STEP, RDBLoadError, key_save_delay, kill_child, library_codes,
                                               snapshotter)
from yizhan.redis.session import Client
from yizhan.resp import ErrorReply

log = logging.getLogger("yizhan")

EVERYSEC = 1.0


_LOADING_CLOCK = ManualClock(0)


class AOFLoadError(RDBLoadError):
    """The AOF cannot be loaded; the message names the file and what to do (a kind of
    RDBLoadError, "a data file that cannot load", which the CLI reports without a traceback)."""


def encode_command(argv) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        if isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


# -- rewriting commands to their effect ------------------------------------------------------
def _lower(arg) -> bytes:
    return bytes(arg).lower()


def _expire_state(db, key: bytes) -> list:
    """The key's expiry as an absolute command: gone -> DEL, expiring -> PEXPIREAT, else PERSIST."""
    if key not in db.data:
        return [[b"DEL", key]]
    when = db.expires.get(key)
    if when is None:
        return [[b"PERSIST", key]]
    return [[b"PEXPIREAT", key, when]]


def _rw_expire(c, argv, reply):
    return _expire_state(c.db, argv[1])


def _rw_set(c, argv, reply):
    opts = {_lower(a) for a in argv[3:]}
    if b"ex" in opts or b"px" in opts:
        when = c.db.expires.get(argv[1])
        if when is None:
            return [[b"DEL", argv[1]]] if argv[1] not in c.db.data else [argv]
        return [[b"SET", argv[1], argv[2], b"PXAT", when]]
    return [argv]


def _rw_setex(c, argv, reply):
    when = c.db.expires.get(argv[1])
    if when is None:
        return [[b"DEL", argv[1]]]
    return [[b"SET", argv[1], argv[3], b"PXAT", when]]


def _rw_restore(c, argv, reply):
    key = argv[1]
    if key not in c.db.data:
        return [[b"DEL", key]]
    when = c.db.expires.get(key)
    rest = [a for a in argv[4:] if _lower(a) != b"absttl"]
    if when is None:
        return [[b"RESTORE", key, b"0", argv[3]] + rest]
    return [[b"RESTORE", key, when, argv[3]] + rest + [b"ABSTTL"]]


def _rw_incrbyfloat(c, argv, reply):
    return [[b"SET", argv[1], reply, b"KEEPTTL"]]


def _rw_hincrbyfloat(c, argv, reply):
    return [[b"HSET", argv[1], argv[2], reply]]


def _rw_spop(c, argv, reply):
    members = reply if isinstance(reply, list) else [reply]
    members = [m for m in members if m is not None]
    return [[b"SREM", argv[1], *members]] if members else []


def _rw_bpop(direction: bytes):
    def rewrite(c, argv, reply):
        return [[direction, reply[0]]] if isinstance(reply, list) else []
    return rewrite


def _rw_blmove(c, argv, reply):
    return [[b"LMOVE", argv[1], argv[2], argv[3], argv[4]]] if reply is not None else []


def _rw_brpoplpush(c, argv, reply):
    return [[b"RPOPLPUSH", argv[1], argv[2]]] if reply is not None else []


def _rw_blmpop(c, argv, reply):
    if not isinstance(reply, list):
        return []
    numkeys = int(argv[2])
    where = _lower(argv[3 + numkeys])
    return [[b"LPOP" if where == b"left" else b"RPOP", reply[0], len(reply[1])]]


def _rw_bzpop(c, argv, reply):
    return [[b"ZREM", reply[0], reply[1]]] if isinstance(reply, list) else []


def _rw_bzmpop(c, argv, reply):
    if not isinstance(reply, list):
        return []
    return [[b"ZREM", reply[0], *(pair[0] for pair in reply[1])]]


# blocking commands whose effect can be logged from their reply alone
_REPLY_ONLY = frozenset(("blpop", "brpop", "bzpopmin", "bzpopmax", "bzmpop"))

REWRITES = {
    "expire": _rw_expire, "pexpire": _rw_expire, "expireat": _rw_expire, "pexpireat": _rw_expire,
    "getex": _rw_expire, "set": _rw_set, "setex": _rw_setex, "psetex": _rw_setex,
    "restore": _rw_restore, "incrbyfloat": _rw_incrbyfloat, "hincrbyfloat": _rw_hincrbyfloat,
    "spop": _rw_spop, "xadd": streams.rewrite_xadd, "xtrim": streams.rewrite_xtrim,
    "xreadgroup": streams.rewrite_xreadgroup, "xclaim": streams.rewrite_xclaim,
    "xautoclaim": streams.rewrite_xclaim, "blpop": _rw_bpop(b"LPOP"), "brpop": _rw_bpop(b"RPOP"),
    "blmove": _rw_blmove, "brpoplpush": _rw_brpoplpush, "blmpop": _rw_blmpop,
    "bzpopmin": _rw_bzpop, "bzpopmax": _rw_bzpop, "bzmpop": _rw_bzmpop,
}


# -- the dataset as commands -------------------------------------------------------------------
def dataset_commands(srv):
    """Yield the whole dataset as RESP chunks: FUNCTION LOAD for each function library (first,
    as Redis 7 writes them), then SELECT, SET for strings and RESTORE (Redis's serialization)
    for every other type, PEXPIREAT for keys with a time to live."""
    for code in library_codes(srv):
        yield encode_command([b"FUNCTION", b"LOAD", code])
    now = srv.clock.ms()
    compress = srv.params.flag("rdbcompression")
    delay = key_save_delay(srv.params)
    for db in srv.dbs:
        if not db.data:
            continue
        yield encode_command([b"SELECT", db.index])
        expires = db.expires
        for key, value in list(db.data.items()):
            when = expires.get(key)
            if when is not None and when <= now:
                continue
            if delay:
                time.sleep(delay)
            if isinstance(value, (bytes, bytearray)):
                yield encode_command([b"SET", key, bytes(value)])
            else:
                yield encode_command([b"RESTORE", key, b"0", rdb.dump_payload(value, compress)])
            if when is not None:
                yield encode_command([b"PEXPIREAT", key, when])


# -- reading ---------------------------------------------------------------------------------
class _Truncated(Exception):
    pass


def parse_commands(data: bytes, path):
    """Yield (argv, end_offset) for each command; raises _Truncated at a short last command and
    AOFLoadError for anything that is not RESP arrays of bulk strings."""
    pos, size = 0, len(data)

    def line(at: int) -> tuple[bytes, int]:
        end = data.find(b"\r\n", at)
        if end < 0:
            raise _Truncated(at)
        return data[at:end], end + 2

    while pos < size:
        start = pos
        header, pos = _guard(line, pos, start)
        if header[:1] != b"*" or not header[1:].isdigit():
            raise AOFLoadError(_bad_format(path, start))
        argv = []
        for _ in range(int(header[1:])):
            if pos >= size:
                raise _Truncated(start)
            head, pos = _guard(line, pos, start)
            if head[:1] != b"$" or not head[1:].isdigit():
                raise AOFLoadError(_bad_format(path, pos))
            length = int(head[1:])
            if pos + length + 2 > size:
                raise _Truncated(start)
            if data[pos + length:pos + length + 2] != b"\r\n":
                raise AOFLoadError(_bad_format(path, pos))
            argv.append(data[pos:pos + length])
            pos += length + 2
        yield argv, start, pos


def _guard(line, at, start):
    try:
        return line(at)
    except _Truncated:
        raise _Truncated(start) from None


def _unexpected_end(path) -> str:
    """Redis's message for a truncated AOF under `aof-load-truncated no`."""
    return (f"Unexpected end of file reading the append only file {path}. You can: 1) Make a "
            f"backup of your AOF file, then use ./redis-check-aof --fix {path}. 2) Alternatively "
            f"you can set the 'aof-load-truncated' configuration option to yes and restart the "
            f"server.")


def _bad_format(path, offset: int) -> str:
    return (f"Bad file format reading the append only file {path} (at byte {offset}): make a "
            f"backup of it, then run `redis-check-aof --fix {path}` (or move it away) and start again")


# -- the running AOF -------------------------------------------------------------------------
def aof_state(srv) -> "AOF":
    state = getattr(srv, "_aof_state", None)
    if state is None:
        state = srv._aof_state = AOF(srv)
    return state


class AOF:
    # fed even when nothing changed: FLUSHALL/FLUSHDB/SWAPDB are always propagated, and EXEC
    # must close a MULTI opened for a command of that kind
    ALWAYS = frozenset(("flushall", "flushdb", "swapdb", "exec"))

    def __init__(self, srv):
        self.srv = srv
        self.fd: int | None = None
        self.buf = bytearray()
        self.rewrite_buf: bytearray | None = None
        self.selected_db = -1  # the file's: the database its last SELECT named
        self.command_db = 0  # the database of the command being propagated
        self.file_enabled = False  # appendonly is on (the file is written, or about to be)
        self.stream = None  # the replication stream (replication.master.MasterRole) once it has a backlog
        self.multi_client = None
        self.script_caller = None  # while a script runs: the client whose EVAL/FCALL it is
        self.script_ops: list | None = None  # the script's writes, (db index, argv), until it ends
        self.parked: dict = {}
        self.child_pid: int | None = None
        self.child_started = 0.0
        self.last_fsync = self.srv.clock.monotonic()
        self.unsynced = False
        self.last_rewrite_seconds = -1
        self.last_rewrite_ok = True
        self.last_write_ok = True
        self.rewrites = 0
        self.failures = 0
        self.size = 0
        self.base_size = 0
        self.enable_when_rewritten = False
        self.scheduled = False  # BGREWRITEAOF during a BGSAVE: started when that one ends

    def path(self) -> Path:
        return Path(self.srv.config.data_dir) / self.srv.params.get("appendfilename")

    # -- switching on and off ----------------------------------------------------------------
    def open(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        self.size = os.fstat(self.fd).st_size
        self.selected_db = -1
        self.file_enabled = True
        self.srv.aof = self

    def start(self) -> None:
        """CONFIG SET appendonly yes: write the current dataset first (a rewrite), then log."""
        if self.file_enabled:
            return
        self.abort_rewrite()  # a BGREWRITEAOF of its own (appendonly was off): start afresh
        if self.srv.aof is None:  # (else the replication stream kept it on: parked ones are known)
            for client in self.srv.clients.values():  # blocked before: served after, logged then
                if client.blocked is not None:
                    self.parked[client.id] = (client.last_command, None)
        self.srv.aof = self  # writes are kept for the rewrite from now on
        self.file_enabled = True
        self.enable_when_rewritten = True
        if not self.rewrite():
            self._file_off()
            self.enable_when_rewritten = False

    def stop(self) -> None:
        """CONFIG SET appendonly no."""
        self.flush()
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
        self.fd = None
        self.abort_rewrite()
        self.enable_when_rewritten = False
        self._file_off()
        self.buf.clear()

    def _file_off(self) -> None:
        """The file is no longer written; propagation goes on while replicas need it."""
        self.file_enabled = False
        self.srv.aof = self if self.stream is not None else None

    def detach_stream(self) -> None:
        """The replication backlog was freed: propagation only for the file, if it is on."""
        self.stream = None
        self.srv.aof = self if self.file_enabled else None

    def attach_stream(self, stream) -> None:
        """Replication needs the stream of effects: commands are propagated from now on, with
        or without the file (Redis's propagate() feeds both)."""
        self.stream = stream
        self.srv.aof = self

    # -- propagation -------------------------------------------------------------------------
    def feed(self, client, cmd, argv, reply) -> None:
        """A command that changed the dataset (or EXEC ending a transaction)."""
        name = cmd.name
        if name != "exec" and not cmd.is_write:
            return  # a read that expired a key: the logged absolute expiry already says so
        if name == "exec":
            if self.multi_client is client:
                self.multi_client = None
                self._append([b"EXEC"])
            return
        rewrite = REWRITES.get(name)
        commands = rewrite(client, argv, reply) if rewrite is not None else [argv]
        if not commands:
            return
        if self.script_ops is not None:
            self.script_ops.extend((client.db.index, command) for command in commands)
            return
        if client.in_exec and self.multi_client is not client:
            self.multi_client = client
            self._select(client)
            self._append([b"MULTI"])
        for command in commands:
            self._select(client)
            self._append(command)
        if self.stream is not None:
            self.stream.wrote(client)

    def expired(self, index: int, key: bytes) -> None:
        """A key reclaimed because its time passed: a DEL for the replicas, which do not expire
        keys themselves (Redis's propagateDeletion); the file needs none, its absolute expiry
        says the same on replay."""
        if self.stream is not None:
            self.stream.feed(index, encode_command([b"DEL", key]))

    def evicted(self, index: int, key: bytes) -> None:
        """A key evicted for maxmemory: a DEL in its database (Redis's propagateDeletion)."""
        self._select_index(index)
        self._append([b"DEL", key])

    def begin_script(self, caller) -> None:
        """A script starts: its writes are kept until it ends (`end_script`)."""
        self.script_caller = caller
        self.script_ops = []

    def end_script(self) -> None:
        """A script ended: its writes are logged as Redis 7.0 propagates them, one alone as it
        is, several wrapped in MULTI/EXEC, inside the caller's transaction when it is one."""
        caller, ops = self.script_caller, self.script_ops
        self.script_caller = self.script_ops = None
        if not ops:
            return
        if caller.in_exec:
            if self.multi_client is not caller:
                self.multi_client = caller
                self._select_index(ops[0][0])
                self._append([b"MULTI"])
        elif len(ops) > 1:
            self._select_index(ops[0][0])
            self._append([b"MULTI"])
        for index, command in ops:
            self._select_index(index)
            self._append(command)
        if len(ops) > 1 and not caller.in_exec:
            self._append([b"EXEC"])
        if self.stream is not None:
            self.stream.wrote(caller)

    def park(self, client, cmd, argv) -> None:
        self.parked[client.id] = (cmd, argv)

    def served(self, client, reply) -> None:
        """A blocked command was answered: log its effect (nothing for a timeout or error)."""
        entry = self.parked.pop(client.id, None)
        if entry is None or reply is None or isinstance(reply, ErrorReply):
            return
        cmd, argv = entry
        name = cmd if argv is None else cmd.name
        if argv is None and name not in _REPLY_ONLY:  # parked before the AOF was on
            commands = self._served_unknown(client, name, reply)
        else:
            rewrite = REWRITES.get(name)
            if rewrite is None:
                return
            commands = rewrite(client, argv, reply)
        for command in commands:
            self._select(client)
            self._append(command)
        if self.stream is not None and commands:
            self.stream.wrote(client)

    def _served_unknown(self, client, name: str, reply) -> list:
        """A blocked command whose arguments were not kept: BLMPOP's effect is the popped key's
        new state; BLMOVE's destination is unknown, so its pop is not logged (a warning)."""
        if name == "blmpop" and isinstance(reply, list):
            key = reply[0]
            value = client.db.data.get(key)
            if value is None:
                return [[b"DEL", key]]
            return [[b"RESTORE", key, b"0", rdb.dump_payload(value, False), b"REPLACE"]]
        log.warning("A %s blocked before appendonly was switched on was served: its effect is not "
                    "in the AOF until the next BGREWRITEAOF", name.upper())
        return []

    def _select(self, client) -> None:
        self._select_index(client.db.index)

    def _select_index(self, index: int) -> None:
        self.command_db = index
        if index != self.selected_db and (self.file_enabled or self.rewrite_buf is not None):
            self.selected_db = index
            self._append_raw(encode_command([b"SELECT", index]))

    def _append(self, argv) -> None:
        data = encode_command(argv)
        self._append_raw(data)
        if self.stream is not None:  # the replicas' copy says its own SELECTs
            self.stream.feed(self.command_db, data)

    def _append_raw(self, data: bytes) -> None:
        if self.file_enabled:
            self.buf += data
        if self.rewrite_buf is not None:
            self.rewrite_buf += data

    def flush(self) -> None:
        """Write the buffered commands; fsync them now under `appendfsync always`."""
        if not self.buf or self.fd is None:
            if self.fd is None and self.enable_when_rewritten:
                self.buf.clear()  # kept in rewrite_buf until the file exists
            return
        data = bytes(self.buf)
        self.buf.clear()
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            self.size += len(data)
            self.last_write_ok = True
        except OSError as exc:
            self.last_write_ok = False
            log.error("Error writing to the AOF file %s: %s", self.path(), exc.strerror)
            raise SystemExit(1) from None  # as Redis: a write that cannot be logged must not be acked
        policy = self.srv.params.get("appendfsync")
        if policy == "always":
            os.fsync(self.fd)
            self.last_fsync = self.srv.clock.monotonic()
        else:
            self.unsynced = True

    def sync(self) -> None:
        """Write the buffered commands and fsync the file (SHUTDOWN)."""
        self.flush()
        if self.fd is not None:
            os.fsync(self.fd)
            self.last_fsync = self.srv.clock.monotonic()
            self.unsynced = False

    def cron(self) -> None:
        """The periodic tick: `everysec` fsync, a finished rewrite child, the automatic rewrite."""
        if self.child_pid is not None:
            self._reap()
        if self.scheduled and self.child_pid is None:
            if not snapshotter(self.srv).in_progress():
                self.scheduled = False
                self.rewrite()
        if self.fd is None:
            return
        self.flush()
        self._auto_rewrite()
        now = self.srv.clock.monotonic()
        if self.unsynced and now - self.last_fsync >= EVERYSEC and self.srv.params.get("appendfsync") == "everysec":
            os.fsync(self.fd)
            self.unsynced = False
            self.last_fsync = now

    def _auto_rewrite(self) -> None:
        """Redis's serverCron trigger: with no child running, a rewrite once the file is above
        auto-aof-rewrite-min-size and has grown auto-aof-rewrite-percentage percent over its
        size after the last rewrite (or load); a percentage of 0 turns it off."""
        percent = self.srv.int_params.int("auto-aof-rewrite-percentage")
        if not percent or self.child_pid is not None or snapshotter(self.srv).in_progress():
            return
        if self.size <= self.srv.int_params.int("auto-aof-rewrite-min-size"):
            return
        growth = self.size * 100 // (self.base_size or 1) - 100
        if growth >= percent:
            log.info("Starting automatic rewriting of AOF on %d%% growth", growth)
            self.rewrite()

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> int | None:
        """Replay the AOF; None when there is none. Returns the number of commands. Without a
        single-file AOF, a Redis 7.0 multi-part one (appendonlydir/ and its manifest) is loaded
        and converted into the single file."""
        path = self.path()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self._load_multipart()
        except OSError as exc:
            raise AOFLoadError(f"cannot read the append only file {path}: {exc.strerror}") from None
        count, valid_end = self._replay(path, data)
        self.srv.stats.dirty = 0
        self.base_size = valid_end
        return count

    def _replay(self, path: Path, data: bytes) -> tuple[int, int]:
        """Run the file's commands with time stopped at the epoch, so that, as in Redis, nothing
        expires while loading (a key whose absolute TTL passed while the server was down
        still takes the later writes logged for it, then expires); a truncated tail (or an
        unfinished MULTI) is cut off with a warning, as `aof-load-truncated yes`. Returns
        (commands, valid length)."""
        with self._time_stopped():
            return self._replay_commands(path, data)

    @contextlib.contextmanager
    def _time_stopped(self):
        srv = self.srv
        real = srv.clock
        srv.clock = _LOADING_CLOCK
        for db in srv.dbs:
            db.clock = _LOADING_CLOCK
        try:
            yield
        finally:
            srv.clock = real
            now = real.ms()
            for db in srv.dbs:
                db.clock = real
                db.touch_all(now)

    def _replay_commands(self, path: Path, data: bytes) -> tuple[int, int]:
        client = Client(self.srv, "aof:0")
        self.srv.acl.make_internal(client)  # no NOAUTH or ACL for replayed commands
        count = valid_end = 0
        multi_start = None
        truncated = False
        self.srv.observer.loading = True  # replayed commands enter no statistics
        try:
            for argv, start, end in parse_commands(data, path):
                name = argv[0].lower() if argv else b""
                if name == b"multi":
                    multi_start = start
                reply = client.execute(argv)
                if isinstance(reply, ErrorReply) and reply.message.startswith("ERR unknown command"):
                    raise AOFLoadError(f"Unknown command '{argv[0].decode(errors='replace')}' reading "
                                       f"the append only file {path}")
                if name == b"exec":
                    multi_start = None
                count += 1
                valid_end = end
        except _Truncated:
            truncated = True
        finally:
            self.srv.observer.loading = False
        if multi_start is not None:
            log.warning("Revert incomplete MULTI/EXEC transaction in AOF file %s", path)
            client.multi = None
            valid_end = multi_start
            truncated = True
        if truncated and not self.srv.params.flag("aof-load-truncated"):
            raise AOFLoadError(_unexpected_end(path))
        if truncated:
            log.warning("!!! Warning: short read while loading the AOF file %s!!! AOF loaded anyway "
                        "because aof-load-truncated is enabled; truncating it to %d bytes (was %d)",
                        path, valid_end, len(data))
            with open(path, "r+b") as f:
                f.truncate(valid_end)
                f.flush()
                os.fsync(f.fileno())
        return count, valid_end

    def _load_multipart(self) -> int | None:
        """Redis 7.0's <appenddirname>/<appendfilename>.manifest: the base file (RDB or RESP),
        then the incr files in order; the result is written as the single-file AOF."""
        directory = self.path().parent / self.srv.params.get("appenddirname")
        manifest = directory / (self.path().name + ".manifest")
        try:
            lines = manifest.read_text().splitlines()
        except FileNotFoundError:
            return None
        files = []
        for line in lines:
            words = line.split()
            fields = dict(zip(words[::2], words[1::2]))
            if "file" not in fields or fields.get("type") not in ("b", "i"):
                continue
            files.append((fields["type"] != "b", int(fields.get("seq", 0)), fields["file"]))
        count = 0
        for _, _, name in sorted(files):
            part = directory / name
            try:
                data = part.read_bytes()
            except OSError as exc:
                raise AOFLoadError(f"cannot read {part}, listed in {manifest}: {exc.strerror}") from None
            if data[:5] == b"REDIS":  # an RDB preamble base file
                params = self.srv.params
                try:
                    snap = rdb.decode_file(data, rdb.Limits.from_params(params), params.flag("rdbchecksum"))
                except rdb.RDBError as exc:
                    raise AOFLoadError(f"{part} is not a valid RDB base file ({exc}): move "
                                       f"{directory} away and start again") from None
                with self._time_stopped():  # as Redis: a preamble keeps its expired keys
                    count += snapshotter(self.srv).install(snap)
            else:
                count += self._replay(part, data)[0]
        log.info("Loaded Redis's multi-part AOF %s; converting it into %s", manifest, self.path())
        self.rewrite_now()
        self.srv.stats.dirty = 0
        self.base_size = self.path().stat().st_size
        return count

    # -- rewriting ---------------------------------------------------------------------------
    def rewrite_in_progress(self) -> bool:
        if self.child_pid is not None:
            self._reap()
        return self.child_pid is not None

    def _temp(self, pid: int) -> Path:
        return self.path().with_name(f"temp-rewriteaof-bg-{pid}.aof")

    def _write_dataset(self, temp: Path) -> None:
        temp.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb", buffering=1 << 20) as f:
            for chunk in dataset_commands(self.srv):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())

    def rewrite(self) -> bool:
        """BGREWRITEAOF: a forked child writes the dataset; False when it could not start."""
        self.flush()
        self.child_started = self.srv.clock.monotonic()
        if not hasattr(os, "fork") or sys.platform == "win32":
            return self._rewrite_in_process()
        self.rewrite_buf = bytearray()
        self.selected_db = -1  # the new file's next command must say its db
        pid = child.fork(self.srv)
        if pid == 0:
            code = 1
            try:
                self._write_dataset(self._temp(os.getpid()))
                code = 0
            except BaseException:  # noqa: BLE001  (the exit code reports it)
                pass
            os._exit(code)
        self.child_pid = pid
        log.info("Background append only file rewriting started by pid %d", pid)
        return True

    def rewrite_now(self) -> None:
        """Write the dataset as the AOF, in the foreground (start-up without an AOF)."""
        temp = self._temp(os.getpid())
        self._write_dataset(temp)
        os.replace(temp, self.path())
        _fsync_directory(self.path().parent)

    def _rewrite_in_process(self) -> bool:
        temp = self._temp(os.getpid())
        try:
            self._write_dataset(temp)
        except OSError as exc:
            log.warning("AOF rewrite failed: %s", exc.strerror)
            temp.unlink(missing_ok=True)
            self._finished(False)
            return False
        self.rewrite_buf = bytearray()
        self._install(temp)
        return True

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.child_pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.child_pid, 1 << 8
        if pid == 0:
            return
        self.child_pid = None
        temp = self._temp(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            temp.unlink(missing_ok=True)
            self.rewrite_buf = None
            log.warning("Background AOF rewrite terminated with error")
            self._finished(False)
            if self.enable_when_rewritten:
                self.enable_when_rewritten = False
                self._file_off()
            return
        self._install(temp)

    def _install(self, temp: Path) -> None:
        """Append the writes made during the rewrite to the new file, rename it into place."""
        self.flush()
        with open(temp, "ab") as f:
            f.write(self.rewrite_buf or b"")
            f.flush()
            os.fsync(f.fileno())
        self.rewrite_buf = None
        self.buf.clear()
        os.replace(temp, self.path())
        _fsync_directory(self.path().parent)
        keep_open = self.fd is not None or self.enable_when_rewritten
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.enable_when_rewritten = False
        if keep_open:
            self.open()
            self.selected_db = -1
            self.base_size = self.size
        log.info("Background AOF rewrite finished successfully")
        self._finished(True)

    def _finished(self, ok: bool) -> None:
        self.last_rewrite_seconds = int(self.srv.clock.monotonic() - self.child_started)
        self.last_rewrite_ok = ok
        if ok:
            self.rewrites += 1
            self.failures = 0
        else:
            self.failures += 1

    def abort_rewrite(self) -> None:
        pid = self.child_pid
        if pid is None:
            return
        kill_child(pid)
        self.child_pid = None
        self.rewrite_buf = None
        self._temp(pid).unlink(missing_ok=True)

    def wait_rewrite(self, timeout: float = 30.0) -> None:
        for _ in range(int(timeout / WAIT_STEP)):  # real time: a ManualClock must not stall it
            if self.child_pid is None:
                return
            self._reap()
            if self.child_pid is not None:
                time.sleep(WAIT_STEP)

    def info(self) -> list:
        running = self.child_pid is not None
        return [
            ("aof_enabled", int(self.file_enabled)),
            ("aof_rewrite_in_progress", int(running)), ("aof_rewrite_scheduled", int(self.scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_seconds),
            ("aof_current_rewrite_time_sec", int(self.srv.clock.monotonic() - self.child_started) if running else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.rewrites), ("aof_rewrites_consecutive_failures", self.failures),
            ("aof_last_write_status", "ok" if self.last_write_ok else "err"), ("aof_last_cow_size", 0),
        ]

    def info_enabled(self) -> list:
        return [
            ("aof_current_size", self.size), ("aof_base_size", self.base_size),
            ("aof_pending_rewrite", 0), ("aof_buffer_length", len(self.buf)),
            ("aof_pending_bio_fsync", 0), ("aof_delayed_fsync", 0),
        ]


def _fsync_directory(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

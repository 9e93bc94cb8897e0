"""Full synchronisations: the RDB a replica loads, produced by a forked child while this server
goes on answering its clients, as Redis forks for it.

A replica whose PSYNC cannot continue waits here (Redis's WAIT_BGSAVE_START) until a sync
starts: at once for a disk-based one, after repl-diskless-sync-delay seconds (or once
repl-diskless-sync-max-replicas are waiting) for a diskless one, and never while another
persistence child runs. Every replica waiting then shares that one sync. Starting it is the
fork point: each replica gets +FULLRESYNC <replid> <offset> now, and from now on the stream
of effects is held in its peer (`ReplicaPeer.held`) until the RDB has gone.

- Diskless (every waiting replica said `capa eof` and repl-diskless-sync is yes): the
  child writes the RDB into a pipe; the event loop forwards what it reads to every replica
  between `$EOF:<mark>\r\n` and the mark, pausing while a replica's output is over
  PIPE_PAUSE_BYTES (Redis's rdbPipeReadHandler). The stream then waits for the replica's
  first ACK, as before.
- Disk-based: a BGSAVE with the replication aux fields (dump.rdb is written, counted as a
  save, as Redis's); when it ends the file goes to each replica as `$<length>\r\n` and the
  held stream follows it.

Without an event loop or fork (unit tests driving the core, Windows) the RDB is encoded in
the process at the PSYNC, which is the same dataset at the same offset, only not in the
background."""

from __future__ import annotations

import asyncio
import logging
import os

from yizhan.redis.persistence import child
from yizhan.redis.persistence.snapshot import kill_child, snapshotter

log = logging.getLogger("yizhan")

PIPE_READ_BYTES = 1 << 20  # what one read of the child's pipe takes
PIPE_PAUSE_BYTES = 8 << 20  # a replica's unsent output above which the pipe is not read
PIPE_RESUME_DELAY = 0.01  # seconds before looking again at a paused pipe


class Target:
    """One client waiting for, or receiving, a full sync."""

    __slots__ = ("client", "eof", "peer", "head", "since")

    def __init__(self, client, eof: bool, peer, head: bool, since: float):
        self.client = client
        self.eof = eof  # it said `capa eof`
        self.peer = peer  # its ReplicaPeer (None for `REPLCONF rdb-only 1`: the file alone)
        self.head = head  # PSYNC (+FULLRESYNC first), not SYNC
        self.since = since

    def alive(self) -> bool:
        client = self.client
        return not client.close_after_reply and client.id in client.server.clients


class FullSyncs:
    """The replicas waiting for a full sync, and the sync in progress (at most one)."""

    def __init__(self, role):
        self.role = role
        self.srv = role.srv
        self.waiting: list[Target] = []
        self.targets: list[Target] = []  # of the sync in progress
        self.pid: int | None = None  # its diskless child
        self.fd: int | None = None  # the pipe from that child
        self.mark = b""
        self.loop = None
        self.disk = False  # a disk-based sync (BGSAVE) in progress

    def in_progress(self) -> bool:
        return self.pid is not None or self.disk

    # -- asking for one ---------------------------------------------------------------------
    def request(self, target: Target) -> bytes:
        """What PSYNC answers now: nothing (the sync starts in the background), or, without
        a loop to serve it from, the whole answer."""
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        if self.loop is None or not hasattr(os, "fork"):
            return self._in_process(target)
        self.waiting.append(target)
        if not self._diskless(self.waiting) or self.srv.params.int("repl-diskless-sync-delay") <= 0:
            self.start()
        return b""

    def cron(self) -> None:
        """Start the waiting replicas' sync once the delay has passed (or enough wait)."""
        self.waiting = [t for t in self.waiting if t.alive()]
        if not self.waiting or self.in_progress():
            return
        if self._diskless(self.waiting):
            params = self.srv.params
            idle = self.srv.clock.monotonic() - min(t.since for t in self.waiting)
            most = params.int("repl-diskless-sync-max-replicas")
            if idle < params.int("repl-diskless-sync-delay") and not (most and len(self.waiting) >= most):
                return
        self.start()

    def _diskless(self, targets) -> bool:
        return self.srv.params.flag("repl-diskless-sync") and all(t.eof for t in targets)

    def _in_process(self, target: Target) -> bytes:
        rdb = snapshotter(self.srv).encode(aux=self.role.rdb_aux())
        diskless = self._diskless([target])
        if diskless:
            mark = os.urandom(20).hex().encode()
            body = b"$EOF:" + mark + b"\r\n" + rdb + mark
        else:
            body = b"$%d\r\n" % len(rdb) + rdb
        if target.peer is not None:
            target.peer.online(release=not diskless)
        return self.role.fullresync_head(target) + body

    # -- the fork point -------------------------------------------------------------------
    def start(self) -> None:
        saver = snapshotter(self.srv)
        if self.in_progress() or saver.in_progress() or saver.other_child_running():
            return  # the cron tries again once that child is gone
        targets, self.waiting = [t for t in self.waiting if t.alive()], []
        if not targets:
            return
        diskless = self._diskless(targets)
        aux = self.role.rdb_aux()
        heads = [self.role.fullresync_head(t) for t in targets]
        for target in targets:
            if target.peer is not None:
                target.peer.held = []  # the stream before the fork point is in the RDB
        self.targets = targets
        if diskless:
            self._fork_to_pipe(aux)
            for target, head in zip(targets, heads):
                send(target.client, head + b"$EOF:" + self.mark + b"\r\n")
        else:
            self.disk = True
            saver.when_saved.append(self._saved)
            for target, head in zip(targets, heads):
                send(target.client, head)
            saver.bgsave(aux=aux)
        log.info("Starting BGSAVE for SYNC with target: %s", "replicas sockets" if diskless else "disk")

    # -- diskless: the child's pipe -----------------------------------------------------------
    def _fork_to_pipe(self, aux) -> None:
        read_end, write_end = os.pipe()
        chunks = snapshotter(self.srv).chunks(aux)
        pid = child.fork(self.srv)
        if pid == 0:  # the child: the RDB into the pipe, then leave
            code = 1
            try:
                os.close(read_end)
                with os.fdopen(write_end, "wb", buffering=PIPE_READ_BYTES) as pipe:
                    for chunk in chunks:
                        pipe.write(chunk)
                code = 0
            except BaseException:  # noqa: BLE001  (the exit code and the missing mark report it)
                pass
            os._exit(code)
        os.close(write_end)
        os.set_blocking(read_end, False)
        self.pid, self.fd = pid, read_end
        saver = snapshotter(self.srv)  # SAVE/BGSAVE refused, a rewrite scheduled, INFO shows it
        saver.sync_child, saver.child_started = self, self.srv.clock.monotonic()
        self.mark = os.urandom(20).hex().encode()
        self.loop.add_reader(read_end, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, PIPE_READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = None
        if not data:
            self._pipe_ended(data is not None)
            return
        self.targets = [t for t in self.targets if t.alive()]
        if not self.targets:
            log.warning("Diskless rdb transfer, last replica dropped, killing fork child.")
            self._end_child()
            return
        for target in self.targets:
            send(target.client, data)
        if any(_unsent(t.client) > PIPE_PAUSE_BYTES for t in self.targets):
            self.loop.remove_reader(self.fd)
            self.loop.call_later(PIPE_RESUME_DELAY, self._resume)

    def _resume(self) -> None:
        if self.fd is None:
            return
        if any(_unsent(t.client) > PIPE_PAUSE_BYTES for t in self.targets if t.alive()):
            self.loop.call_later(PIPE_RESUME_DELAY, self._resume)
        else:
            self.loop.add_reader(self.fd, self._readable)

    def _pipe_ended(self, eof: bool) -> None:
        pid = self.pid
        self._close_pipe()
        try:
            _, status = os.waitpid(pid, 0)
            ok = eof and os.waitstatus_to_exitcode(status) == 0
        except ChildProcessError:
            ok = False
        self.pid = None
        targets, self.targets = self.targets, []
        for target in targets:
            if not ok:
                target.client.kill()  # the replica retries with a new PSYNC
                continue
            send(target.client, self.mark)
            if target.peer is not None:
                target.peer.online(release=False)  # the stream follows its first ACK
        if ok:
            log.info("Diskless rdb transfer to %d replicas done", len(targets))
        else:
            log.warning("Diskless rdb transfer failed: the replicas will retry")
        self.start_next()

    def _close_pipe(self) -> None:
        if self.fd is not None:
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = None

    def _end_child(self) -> None:
        self._close_pipe()
        if self.pid is not None:
            kill_child(self.pid)
            self.pid = None
        self.targets = []
        self.start_next()

    def abort(self) -> None:
        """Stop a sync in progress (shutdown, REPLICAOF): its replicas resync later."""
        for target in self.targets + self.waiting:
            target.client.kill()
        self.waiting = []
        self._end_child()

    # -- disk-based: the BGSAVE's file ----------------------------------------------------------
    def _saved(self, ok: bool) -> None:
        self.disk = False
        targets, self.targets = [t for t in self.targets if t.alive()], []
        data = snapshotter(self.srv).path().read_bytes() if ok and targets else b""
        for target in targets:
            if not ok:
                target.client.kill()
                continue
            send(target.client, b"$%d\r\n" % len(data) + data)
            if target.peer is not None:
                target.peer.online(release=True)
        self.start_next()

    def start_next(self) -> None:
        if self.waiting and self.loop is not None:
            self.loop.call_soon(self.cron)


def _unsent(client) -> int:
    conn = client.conn
    return conn.output_size() if conn is not None else 0


def send(client, data: bytes) -> None:
    """Raw bytes to a client's connection, behind its earlier output."""
    conn = client.conn
    if conn is None or client.close_after_reply:
        return
    first = not conn.out
    conn.out.append(data)
    if first and conn.on_wakeup is not None:
        conn.on_wakeup()

"""The replica side of a link to a master (redis-server or yizhan), sans-IO: bytes in from the
master (`receive`), bytes out (`data_to_send`), `connection_made` / `connection_lost` from
the transport (net/replica_transport.py), which connects when `wants_connection` says so.

The handshake is Redis's: PING (+PONG, or an error that only says AUTH is needed), then AUTH
with masteruser/masterauth when set, REPLCONF listening-port, REPLCONF capa eof capa psync2
and PSYNC <replid> <offset> (the master's replid and our offset + 1 after a sync, `? -1`
before any). +FULLRESYNC is followed by the RDB (`$<length>` or `$EOF:<mark>`), which
replaces the dataset; +CONTINUE keeps it and only the missing stream follows. The stream's
commands run on the master's client (which read-only does not refuse); each one's bytes
count in the offset once it has run, and pass to this instance's own replicas as they are.
REPLCONF GETACK from the master, and the cron every second, send REPLCONF ACK <offset>."""

from __future__ import annotations

import logging

from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.aof import AOFLoadError, _Truncated, encode_command, parse_commands
from yizhan.redis.persistence.codec import RDBError
from yizhan.redis.persistence.snapshot import snapshotter
from yizhan.redis.session import NOT_QUEUED, Client
from yizhan.resp import ErrorReply

log = logging.getLogger("yizhan")

MARK_SIZE = 40


class LinkError(Exception):
    """The master said something this link cannot go on from: the link is dropped (and
    tried again a second later, as Redis does)."""


class ReplicaLink:
    # states, as ROLE names them
    CONNECT, CONNECTING, HANDSHAKE, SYNC, CONNECTED = "connect", "connecting", "handshake", "sync", "connected"

    def __init__(self, srv, role, host: str, port: int):
        self.srv = srv
        self.role = role  # the instance's MasterRole: offsets, backlog, replids
        self.host, self.port = host, port
        self.state = self.CONNECT
        self.out: list[bytes] = []
        self.buf = bytearray()
        self.expect: list[str] = []  # the handshake replies still to come, in order
        self.full_replid = ""  # what +FULLRESYNC named
        self.full_offset = 0
        self.flush_dataset = None  # set by the owner: empty every database and library
        self.master_client: Client | None = None
        self.transfer_size: int | None = None  # bytes of a `$<length>` RDB
        self.mark: bytes | None = None  # the end mark of a `$EOF:` RDB
        self.scanned = 0  # how far the RDB buffer was searched for the mark
        self.close_now = False
        self.on_wakeup = None  # set by the transport: output waits outside `receive`
        self.last_io = srv.clock.monotonic()
        self.down_since: float | None = None  # since when the link is down (None: never up)
        self.last_ack = 0.0
        self.last_attempt = -1e9
        self.synced = False  # our replid and offset are a history to continue (PSYNC), not `? -1`
        self.applying = False  # running the master's command: expired keys are still there for it
        self.laddr = "?:0"  # our end of the link
        self.psync_failover = False  # PSYNC ... FAILOVER (this server failing over to that master)
        self.on_psync = None  # then told whether the master took the PSYNC (failover.Failover)

    # -- the transport's side ---------------------------------------------------------------
    def wants_connection(self) -> bool:
        """Not connected, and the last attempt (if any) a second ago or more, as Redis retries."""
        return self.state == self.CONNECT and self.srv.clock.monotonic() - self.last_attempt >= 1

    def connecting(self) -> None:
        self.state = self.CONNECTING
        self.last_attempt = self.srv.clock.monotonic()

    def connection_made(self) -> None:
        self.state = self.HANDSHAKE
        self.buf.clear()
        self.close_now = False
        self.last_io = self.srv.clock.monotonic()
        self.expect = ["ping"]
        self._command([b"PING"])

    def connection_failed(self) -> None:
        self.state = self.CONNECT

    def connection_lost(self) -> None:
        if self.state == self.CONNECTED:
            log.info("Connection with master lost.")
            self.down_since = self.srv.clock.monotonic()
        self.state = self.CONNECT
        self.buf.clear()
        self.out.clear()
        if self.master_client is not None:
            self.srv.unregister(self.master_client)
        self.master_client = None
        self.mark = self.transfer_size = None

    def data_to_send(self) -> bytes:
        data = b"".join(self.out)
        self.out.clear()
        return data

    def receive(self, data: bytes) -> None:
        self.last_io = self.srv.clock.monotonic()
        self.buf += data
        try:
            if self.state == self.HANDSHAKE:
                self._handshake()
                # what follows the master's last handshake reply is the RDB (and stream)
                self._count_input(len(self.buf) if self.state != self.HANDSHAKE else 0)
            else:
                self._count_input(len(data))
            if self.state == self.SYNC:
                self._transfer()
            if self.state == self.CONNECTED:
                self._stream()
        except LinkError as exc:
            log.warning("Replication link to %s:%d dropped: %s", self.host, self.port, exc)
            self.close_now = True

    def _count_input(self, n: int) -> None:
        """INFO's total_net_repl_input_bytes: the RDB and the stream read from the master
        (Redis counts neither the handshake replies nor these in total_net_input_bytes)."""
        self.srv.stats.total_net_repl_input_bytes += n

    # -- handshake ----------------------------------------------------------------------------
    def _command(self, argv) -> None:
        self.out.append(encode_command(argv))

    def _line(self) -> bytes | None:
        end = self.buf.find(b"\r\n")
        if end < 0:
            return None
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _handshake(self) -> None:
        while self.expect and self.state == self.HANDSHAKE:
            while self.buf[:1] == b"\n":  # a master's keepalive newlines
                del self.buf[:1]
            line = self._line()
            if line is None:
                return
            step = self.expect.pop(0)
            getattr(self, "_on_" + step)(line)

    def _on_ping(self, line: bytes) -> None:
        if line[:1] == b"-" and not line.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted")):
            raise LinkError(f"Error reply to PING from master: '{line[1:].decode(errors='replace')}'")
        params = self.srv.params
        password = params.get("masterauth")
        if password:
            user = params.get("masteruser")
            self._command([b"AUTH", user.encode(), password.encode()] if user else [b"AUTH", password.encode()])
            self.expect.append("auth")
        port = params.int("replica-announce-port") or self.srv.tcp_port
        self._command([b"REPLCONF", b"listening-port", str(port).encode()])
        self.expect.append("replconf")
        announce_ip = params.get("replica-announce-ip")
        if announce_ip:
            self._command([b"REPLCONF", b"ip-address", announce_ip.encode()])
            self.expect.append("replconf")
        self._command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        self.expect.append("last_replconf")

    def _on_last_replconf(self, line: bytes) -> None:
        """PSYNC goes once every earlier reply is read (Redis refuses it with output pending)."""
        self._on_replconf(line)
        if self.synced:
            argv = [b"PSYNC", self.srv.repl_id.encode(), b"%d" % (self.role.offset + 1)]
        else:
            argv = [b"PSYNC", b"?", b"-1"]
        self._command(argv + [b"FAILOVER"] if self.psync_failover else argv)
        self.expect.append("psync")
        if self.on_wakeup is not None:
            self.on_wakeup()

    def _on_auth(self, line: bytes) -> None:
        if line[:1] == b"-":
            raise LinkError(f"Unable to AUTH to MASTER: {line[1:].decode(errors='replace')}")

    def _on_replconf(self, line: bytes) -> None:
        if line[:1] == b"-":
            log.warning("Master does not understand REPLCONF: %s", line[1:].decode(errors="replace"))

    def _on_psync(self, line: bytes) -> None:
        accepted = line.startswith((b"+FULLRESYNC", b"+CONTINUE"))
        if self.on_psync is not None:  # a failover: the target's answer ends it (or aborts it)
            on_psync, self.on_psync, self.psync_failover = self.on_psync, None, False
            on_psync(accepted)
            if not accepted or self.close_now:
                raise LinkError(f"the failover target refused PSYNC: {line.decode(errors='replace')}")
        words = line.split()
        if line.startswith(b"+FULLRESYNC") and len(words) == 3:
            self.full_replid = words[1].decode()
            self.full_offset = int(words[2])
            log.info("Full resync from master: %s:%d", self.full_replid, self.full_offset)
            self.state = self.SYNC
            return
        if line.startswith(b"+CONTINUE"):
            if len(words) > 1 and words[1].decode() != self.srv.repl_id:
                self.role.new_history(words[1].decode())  # the master's history changed: ours too
            log.info("Successful partial resynchronization with master.")
            self._online()
            return
        raise LinkError(f"Unexpected reply to PSYNC from master: {line.decode(errors='replace')}")

    # -- the RDB ------------------------------------------------------------------------------
    def _transfer(self) -> None:
        if self.transfer_size is None and self.mark is None:
            while self.buf[:1] == b"\n":
                del self.buf[:1]
            line = self._line()
            if line is None:
                return
            if line.startswith(b"$EOF:") and len(line) == 5 + MARK_SIZE:
                self.mark = line[5:]
                self.scanned = 0
            elif line[:1] == b"$" and line[1:].isdigit():
                self.transfer_size = int(line[1:])
            else:
                raise LinkError(f"Bad protocol from MASTER, the first byte is not '$' (we received "
                                f"'{line[:64].decode(errors='replace')}'), are you sure the host and port are right?")
        if self.mark is not None:
            found = self.buf.find(self.mark, max(0, self.scanned - MARK_SIZE))
            if found < 0:
                self.scanned = len(self.buf)
                return
            payload, rest = bytes(self.buf[:found]), self.buf[found + MARK_SIZE:]
        else:
            if len(self.buf) < self.transfer_size:
                return
            payload, rest = bytes(self.buf[:self.transfer_size]), self.buf[self.transfer_size:]
        self.buf = bytearray(rest)
        self.mark = self.transfer_size = None
        stream_db = self._load(payload)
        self.role.synced_from(self.full_replid, self.full_offset)
        self._online()
        if 0 <= stream_db < len(self.srv.dbs):  # the database the master's stream is in
            self.master_client.select(stream_db)
        self._ack()  # the first ACK: a master waiting for it (after `$EOF:`) starts the stream

    def _load(self, payload: bytes) -> int:
        """Replace the dataset with the RDB's; returns its repl-stream-db (-1: none)."""
        params = self.srv.params
        try:
            snap = rdb.decode_file(payload, rdb.Limits.from_params(params), params.flag("rdbchecksum"))
        except RDBError as exc:
            raise LinkError(f"the RDB from the master cannot be loaded ({exc})") from None
        self.flush_dataset()
        loaded = snapshotter(self.srv).install(snap, replace_functions=True)
        log.info("MASTER <-> REPLICA sync: Finished with success (%d keys, %d bytes)", loaded, len(payload))
        text = snap.aux.get(b"repl-stream-db", b"-1")
        return int(text) if text.lstrip(b"-").isdigit() else -1

    def stream_db(self) -> int:
        """The database our master's stream is in now (a sub-replica's RDB says it)."""
        client = self.master_client
        return client.db.index if client is not None else -1
    def _online(self) -> None:
        self.state = self.CONNECTED
        self.synced = True
        client = Client(self.srv, f"{self.host}:{self.port}", self.laddr)
        self.srv.acl.make_internal(client)  # the master's commands are not checked (Redis: no user)
        client.repl_flag = "M"
        self.srv.clients[client.id] = client  # CLIENT LIST shows it (not an accepted connection)
        self.master_client = client
        self.last_ack = 0.0

    # -- the stream ---------------------------------------------------------------------------
    def _stream(self) -> None:
        data = bytes(self.buf)
        consumed = 0
        try:
            for argv, start, end in parse_commands(data, f"the master {self.host}:{self.port}"):
                if argv:
                    self._apply(argv)
                self.role.proxy(data[start:end])
                consumed = end
                if self.state != self.CONNECTED:  # REPLICAOF NO ONE / another master meanwhile
                    break
        except _Truncated:
            pass
        except AOFLoadError as exc:
            del self.buf[:consumed]
            raise LinkError(f"bad protocol in the replication stream: {exc}") from None
        del self.buf[:consumed]

    def _apply(self, argv) -> None:
        """Run one command of the master's stream as Redis runs its master client's: with no
        permission, memory, pause or read-only check (the master decided; a replica that
        refused would diverge), queued inside MULTI until EXEC."""
        client = self.master_client
        try:
            cmd = Client.lookup(argv)
        except ErrorReply as exc:
            log.warning("The master sent a command this server cannot run: %s", exc.message)
            return
        if client.multi is not None and cmd.name.split("|")[0] not in NOT_QUEUED:
            client.multi.append((cmd, argv))
            return
        self.applying = True
        try:
            client.call(cmd, argv)
        finally:
            self.applying = False

    def read_only(self) -> bool:
        return self.srv.params.flag("replica-read-only")

    def ack_requested(self) -> None:
        """REPLCONF GETACK from the master: our offset, before the GETACK itself counts."""
        self._ack()
        if self.on_wakeup is not None:
            self.on_wakeup()

    def _ack(self) -> None:
        self.last_ack = self.srv.clock.monotonic()
        self._command([b"REPLCONF", b"ACK", b"%d" % self.role.offset])

    def cron(self) -> None:
        """Every second an ACK; a master silent for repl-timeout seconds is dropped."""
        if self.state not in (self.HANDSHAKE, self.SYNC, self.CONNECTED):
            return
        now = self.srv.clock.monotonic()
        if self.master_client is not None and self.master_client.close_after_reply:
            log.info("Connection with master lost (CLIENT KILL).")
            self.close_now = True
        elif now - self.last_io > self.srv.params.int("repl-timeout"):
            log.warning("MASTER timeout: no data nor PING received...")
            self.close_now = True
        elif self.state == self.CONNECTED and now - self.last_ack >= 1:
            self._ack()
        if (self.out or self.close_now) and self.on_wakeup is not None:
            self.on_wakeup()

    def is_master(self, client) -> bool:
        return client is self.master_client and client is not None

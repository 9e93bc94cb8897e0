"""The master role: replicas attached to this instance and the stream they follow.

A replica (redis-server or yizhan) connects as a client and says REPLCONF listening-port /
ip-address / capa, then PSYNC. `psync` answers +CONTINUE with the missing part of the backlog
when the replica's (replid, offset) is in this history, else +FULLRESYNC and the dataset as
an RDB: framed `$<length>` (a disk transfer) or, when the replica said `capa eof` and
repl-diskless-sync is yes, `$EOF:<40-byte mark>` ... mark (a diskless one). The RDB is encoded
in-process, in one go, so it is the dataset exactly at the offset +FULLRESYNC names, and
every write after it follows it on the same connection.

The stream is fed from the one propagation point (persistence.aof.AOF, which rewrites each
command into its effect): `feed(db, command)` adds SELECT when the database changes,
appends to the backlog and sends to every replica. The cron pings replicas every
repl-ping-replica-period seconds; replicas answer REPLCONF ACK <offset> (every second, and
to a REPLCONF GETACK), which WAIT counts and min-replicas-to-write / min-replicas-max-lag
check."""

from __future__ import annotations

import logging
import os
import weakref

from yizhan.redis.persistence.aof import aof_state, encode_command
from yizhan.redis.replication.backlog import Backlog
from yizhan.redis.replication.fullsync import FullSyncs, Target, send

log = logging.getLogger("yizhan")

PING = encode_command([b"PING"])
GETACK = encode_command([b"REPLCONF", b"GETACK", b"*"])


class ReplicaPeer:
    """One replica attached to this master (Redis's slave client)."""

    __slots__ = ("client", "ip", "port", "capa", "ack_offset", "ack_time", "state", "held", "soft_since")

    def __init__(self, client, ip: str, port: int, capa: set, now: float):
        self.client = client
        self.ip = ip
        self.port = port
        self.capa = capa
        self.ack_offset = 0
        self.ack_time = now
        self.state = "online"
        # the stream from the fork point on, held until the RDB has gone; after a diskless
        # ($EOF:) transfer until the replica's first ACK, as Redis's does: a replica reading
        # up to the end mark must not find stream bytes after it
        self.held: list[bytes] | None = None
        self.soft_since: float | None = None  # over the soft output limit since then

    def unsent(self) -> int:
        """Stream bytes not yet sent to the replica (held, queued, in the transport)."""
        conn = self.client.conn
        held = sum(map(len, self.held)) if self.held else 0
        return held + (conn.output_size() if conn is not None else 0)

    def send(self, data: bytes) -> None:
        if self.held is not None:
            self.held.append(data)
        else:
            send(self.client, data)

    def online(self, release: bool) -> None:
        """Its RDB has gone: the held stream follows now, or (`release` False) at its first ACK."""
        self.state = "online"
        if release:
            self.acked_first()

    def acked_first(self) -> None:
        held, self.held = self.held, None
        if held:
            send(self.client, b"".join(held))

    def alive(self) -> bool:
        client = self.client
        return not client.close_after_reply and client.id in client.server.clients


class MasterRole:
    def __init__(self, srv):
        self.srv = srv
        self.backlog: Backlog | None = None
        self.offset = 0  # master_repl_offset
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.selected_db = -1  # the database the stream's last SELECT named
        self.peers: list[ReplicaPeer] = []
        self.handshakes: dict[int, dict] = {}  # client id -> what REPLCONF said before PSYNC
        self.waiters: list = []  # Blocked WAIT clients: (blocked, wanted, offset)
        self.write_offsets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> offset after its last write
        self.last_ping = srv.clock.monotonic()
        self.getack_pending = False
        self.proxying = False  # a replica itself: the master's stream is fed verbatim (`proxy`)
        self.upstream = None  # then: the link (replica.ReplicaLink) whose stream that is
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0  # INFO stats
        self.alone_since = srv.clock.monotonic()  # no replica attached since then
        self.syncs = FullSyncs(self)
        self.failover = None  # the instance's failover.Failover (set by state.Replication)

    # -- the stream ------------------------------------------------------------------------
    def active(self) -> bool:
        return self.backlog is not None

    def feed(self, db_index: int, data: bytes) -> None:
        """A command of the stream (already in RESP), run in database `db_index`."""
        if self.backlog is None or self.proxying:
            return
        if db_index != self.selected_db:
            self.selected_db = db_index
            self._write(encode_command([b"SELECT", db_index]))
        self._write(data)

    def wrote(self, client) -> None:
        """`client`'s write was fed: WAIT from it waits for this offset (Redis's c->woff)."""
        if self.backlog is not None:
            self.write_offsets[client] = self.offset

    def write_offset(self, client) -> int:
        return self.write_offsets.get(client, 0)

    def proxy(self, data: bytes) -> None:
        """Bytes of our own master's stream, applied here: kept and passed on as they are."""
        if self.backlog is not None:
            self._write(data)
        else:
            self.offset += len(data)

    def _write(self, data: bytes) -> None:
        self.backlog.append(data)
        self.offset += len(data)
        for peer in self.peers:
            peer.send(data)

    def free_backlog(self) -> None:
        """repl-backlog-ttl seconds without a replica: the backlog goes, and with it the cost of
        propagating every write (Redis frees it too; a later replica needs a full sync)."""
        log.info("Replication backlog freed after %d seconds without connected replicas.",
                 self.srv.params.int("repl-backlog-ttl"))
        self.backlog = None
        self.srv.repl_id = os.urandom(20).hex()
        self.replid2, self.second_offset = "0" * 40, -1
        aof_state(self.srv).detach_stream()

    def create_backlog(self) -> None:
        self.backlog = Backlog(self.srv.params.int("repl-backlog-size"), self.offset)
        self.alone_since = self.srv.clock.monotonic()
        aof_state(self.srv).attach_stream(self)

    # -- following a master (replica.ReplicaLink) -------------------------------------------
    def synced_from(self, replid: str, offset: int) -> None:
        """A full sync from a master loaded: its history is ours from its offset on."""
        self.srv.repl_id = replid
        self.replid2, self.second_offset = "0" * 40, -1
        self.offset = offset
        self.create_backlog()

    def new_history(self, replid: str) -> None:
        """+CONTINUE with another replid (the master was promoted): ours changes with it."""
        self.replid2, self.second_offset = self.srv.repl_id, self.offset + 1
        self.srv.repl_id = replid

    # -- handshake ------------------------------------------------------------------------
    def replconf(self, client, option: bytes, value: bytes) -> None:
        info = self.handshakes.setdefault(client.id, {"capa": set()})
        if option == b"listening-port":
            info["port"] = int(value)
        elif option == b"ip-address":
            info["ip"] = value.decode(errors="replace")
        elif option == b"capa":
            info["capa"].add(value.lower().decode(errors="replace"))
        elif option == b"rdb-only":
            info["rdb_only"] = value == b"1"

    def ack(self, client, offset: int) -> None:
        for peer in self.peers:
            if peer.client is client:
                if peer.held is not None and peer.state == "online":
                    peer.acked_first()
                if offset > peer.ack_offset:
                    peer.ack_offset = offset
                peer.ack_time = self.srv.clock.monotonic()
        self.serve_waiters()
        if self.failover is not None:
            self.failover.update()

    def psync(self, client, replid: str, offset: int) -> bytes:
        """The answer to PSYNC (or SYNC, replid None): +CONTINUE and the missing stream, or
        +FULLRESYNC and the RDB; from then on the client is a replica."""
        info = self.handshakes.pop(client.id, {"capa": set()})
        capa = info["capa"]
        if replid is not None and self._can_continue(replid, offset):
            head = b"+CONTINUE %s\r\n" % self.srv.repl_id.encode() if "psync2" in capa else b"+CONTINUE\r\n"
            missing = self.backlog.since(offset)
            self._attach(client, info, capa)
            self.sync_partial_ok += 1
            log.info("Partial resynchronization request from %s accepted. Sending %d bytes of backlog "
                     "starting from offset %d.", client.addr, len(missing), offset)
            return head + missing
        if replid is not None and replid != "?":
            self.sync_partial_err += 1
        self.sync_full += 1
        if self.backlog is None:
            self.srv.repl_id = os.urandom(20).hex()
            self.replid2, self.second_offset = "0" * 40, -1
            self.create_backlog()
        rdb_only = info.get("rdb_only", False)  # redis-cli --rdb: the dataset alone
        peer = None
        if not rdb_only:
            peer = self._attach(client, info, capa)
            peer.state, peer.held = "wait_bgsave", []
        now = self.srv.clock.monotonic()
        return self.syncs.request(Target(client, "eof" in capa, peer, replid is not None, now))

    def rdb_aux(self) -> tuple:
        """The fork point: the RDB's replication aux fields; the stream after it starts with
        a SELECT (or, passing our master's on, names the database that stream is in)."""
        self.selected_db = -1
        stream_db = self.upstream.stream_db() if self.proxying and self.upstream is not None else -1
        return ((b"repl-stream-db", b"%d" % stream_db), (b"repl-id", self.srv.repl_id.encode()),
                (b"repl-offset", b"%d" % self.offset))

    def fullresync_head(self, target) -> bytes:
        log.info("Full resync requested by replica %s", target.client.addr)
        return b"+FULLRESYNC %s %d\r\n" % (self.srv.repl_id.encode(), self.offset) if target.head else b""

    def _can_continue(self, replid: str, offset: int) -> bool:
        if replid != self.srv.repl_id and (replid != self.replid2 or offset > self.second_offset):
            return False
        return self.backlog is not None and self.backlog.covers(offset)

    def live_peers(self) -> list:
        return [peer for peer in self.peers if peer.alive()]

    def find_peer(self, host: str, port: int):
        """Redis's findReplica: the replica announcing (or connected from) that address and
        listening port."""
        return next((peer for peer in self.live_peers()
                     if peer.ip.lower() == host.lower() and peer.port == port), None)

    def _attach(self, client, info: dict, capa: set) -> ReplicaPeer:
        ip = info.get("ip") or client.addr.rsplit(":", 1)[0].strip("[]")
        peer = ReplicaPeer(client, ip, info.get("port", 0), capa, self.srv.clock.monotonic())
        client.repl_flag = "S"
        self.peers = [p for p in self.peers if p.client is not client and p.alive()] + [peer]
        return peer

    # -- periodic work --------------------------------------------------------------------
    def cron(self) -> None:
        """Drop gone replicas and those over their output limits; PING them every
        repl-ping-replica-period seconds."""
        self.enforce_output_limits()
        self.prune()
        self.syncs.cron()
        if self.backlog is None or self.proxying:
            return
        now = self.srv.clock.monotonic()
        if self.peers:
            self.alone_since = now
        elif now - self.alone_since > self.srv.params.int("repl-backlog-ttl") > 0:
            self.free_backlog()
            return
        if self.peers and now - self.last_ping >= self.srv.params.int("repl-ping-replica-period") \
                and not (self.failover is not None and self.failover.pings_held()):
            self.last_ping = now
            self._write(PING)
        if self.getack_pending:
            self.request_acks()

    def prune(self) -> None:
        if any(not peer.alive() for peer in self.peers):
            self.peers = [peer for peer in self.peers if peer.alive()]
            self.serve_waiters()
        if self.handshakes:
            clients = self.srv.clients
            self.handshakes = {cid: info for cid, info in self.handshakes.items() if cid in clients}

    def enforce_output_limits(self) -> None:
        """`client-output-buffer-limit slave <hard> <soft> <seconds>`: a replica that does not
        read is disconnected (it resyncs later), so the stream never grows without bound."""
        if not self.peers:
            return
        hard, soft, seconds = _slave_limits(self.srv.params.get("client-output-buffer-limit"))
        now = self.srv.clock.monotonic()
        for peer in self.peers:
            used = peer.unsent()
            if soft and used > soft:
                peer.soft_since = now if peer.soft_since is None else peer.soft_since
            else:
                peer.soft_since = None
            over_soft = peer.soft_since is not None and now - peer.soft_since > seconds
            if (hard and used > hard) or over_soft:
                log.warning("Client %s scheduled to be closed ASAP for overcoming of output buffer "
                            "limits.", peer.client.addr)
                peer.client.kill()

    def request_acks(self) -> None:
        """REPLCONF GETACK * to every replica (for WAIT); once per batch of WAITs."""
        self.getack_pending = False
        if self.backlog is not None and self.peers and not self.proxying:
            self._write(GETACK)

    # -- WAIT and min-replicas-to-write ----------------------------------------------------
    def acked(self, offset: int) -> int:
        return sum(1 for peer in self.peers if peer.alive() and peer.ack_offset >= offset)

    def add_waiter(self, blocked, wanted: int, offset: int) -> None:
        self.waiters.append((blocked, wanted, offset))
        if not self.getack_pending:
            self.getack_pending = True
            self.srv.call_soon(self.request_acks)

    def serve_waiters(self) -> None:
        if not self.waiters:
            return
        kept = []
        for blocked, wanted, offset in self.waiters:
            if blocked.client.blocked is not blocked:
                continue  # timed out, unblocked or gone
            count = self.acked(offset)
            blocked.timeout_reply = count
            if count >= wanted:
                self.srv.blocking.unpark(blocked)
                blocked.client.unblock(count)
            else:
                kept.append((blocked, wanted, offset))
        self.waiters = kept

    def good_replicas(self) -> int:
        """Replicas whose last ACK is at most min-replicas-max-lag seconds old."""
        now = self.srv.clock.monotonic()
        max_lag = self.srv.params.int("min-replicas-max-lag")
        return sum(1 for peer in self.peers
                   if peer.alive() and peer.state == "online" and int(now - peer.ack_time) <= max_lag)

    # -- INFO ------------------------------------------------------------------------------
    def stats_rows(self) -> list:
        return [("sync_full", self.sync_full), ("sync_partial_ok", self.sync_partial_ok),
                ("sync_partial_err", self.sync_partial_err)]

    def info_rows(self) -> list:
        now = self.srv.clock.monotonic()
        peers = [peer for peer in self.peers if peer.alive()]
        rows = [("connected_slaves", len(peers))]
        if self.srv.params.int("min-replicas-to-write"):
            rows.append(("min_slaves_good_slaves", self.good_replicas()))
        for n, peer in enumerate(peers):
            rows.append((f"slave{n}", f"ip={peer.ip},port={peer.port},state={peer.state},"
                                      f"offset={peer.ack_offset},lag={int(now - peer.ack_time)}"))
        return rows

    def offset_rows(self) -> list:
        backlog = self.backlog
        return [
            ("master_failover_state", self.failover.phase if self.failover is not None else "no-failover"), ("master_replid", self.srv.repl_id),
            ("master_replid2", self.replid2), ("master_repl_offset", self.offset),
            ("second_repl_offset", self.second_offset), ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", self.srv.params.int("repl-backlog-size")),
            ("repl_backlog_first_byte_offset", backlog.first_offset() if backlog is not None else 0),
            ("repl_backlog_histlen", backlog.histlen() if backlog is not None else 0),
        ]


def _slave_limits(setting: str) -> tuple[int, int, int]:
    words = setting.split()
    for i in range(0, len(words) - 3, 4):
        if words[i] == "slave":
            return int(words[i + 1]), int(words[i + 2]), int(words[i + 3])
    return 0, 0, 0


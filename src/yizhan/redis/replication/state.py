"""The replication state of one instance: its master role (always: a replica keeps the
history it follows, to serve its own replicas and to be promoted), and the link to a master
while it is a replica; role changes (REPLICAOF), the write refusals (read-only replica,
min-replicas-to-write), INFO replication and ROLE."""

from __future__ import annotations

import logging
import os

from yizhan.redis import errors
from yizhan.redis.replication.failover import IN_PROGRESS, Failover
from yizhan.redis.replication.master import MasterRole
from yizhan.redis.replication.replica import ReplicaLink
from yizhan.resp import ErrorReply

log = logging.getLogger("yizhan")


# the parameters whose change `Replication.configure` applies
REPLICATION_PARAMS = frozenset(("replica-read-only", "min-replicas-to-write", "repl-backlog-size"))


def replication(srv) -> "Replication":
    state = getattr(srv, "_replication", None)
    if state is None:
        state = srv._replication = Replication(srv)
    return state


class Replication:
    def __init__(self, srv):
        self.srv = srv
        self.master = MasterRole(srv)
        self.link: ReplicaLink | None = None
        self.connector = None  # set by the runtime: start connecting a link's socket
        self.failover = self.master.failover = Failover(self)

    # -- role changes -----------------------------------------------------------------------
    def replicate(self, host: str, port: int, at_start: bool = False) -> None:
        """REPLICAOF host port (or replicaof at start-up): follow that master. Our own history
        is what we offer it in PSYNC, so a master that has it (our former replica, promoted)
        continues it."""
        if self.link is not None:
            self.link.close_now = True
        link = self.link = ReplicaLink(self.srv, self.master, host, port)
        for db in self.srv.dbs:  # expired keys wait for the master's DEL (keyspace.Database._lapsed)
            db.follower = link
        link.flush_dataset = self.flush_for_sync
        link.synced = not at_start  # our own history: PSYNC <our replid> <our offset + 1>
        if self.failover.phase == IN_PROGRESS:  # PSYNC ... FAILOVER: the target promotes itself
            link.psync_failover = True
            link.on_psync = self.failover.psync_answered
        self.master.proxying = True
        self.master.upstream = link
        self.srv.params.values["replicaof"] = f"{host} {port}"  # CONFIG GET replicaof
        for client in self.master.peers:  # our replicas reconnect and follow the new history
            client.client.kill()
        self.disconnect_blocked()
        self.update_write_refusal()
        log.info("Connecting to MASTER %s:%d", host, port)
        self.connect()

    def disconnect_blocked(self) -> None:
        """Redis's disconnectAllBlockedClients: a master turning replica answers its blocked
        clients (BLPOP, WAIT, ...) with an error and closes them; those a pause postponed
        run later (and a write is then refused as on any replica)."""
        for client in list(self.srv.clients.values()):
            blocked = client.blocked
            if blocked is None or blocked.attempt is None:
                continue
            self.srv.blocking.unpark(blocked)
            client.unblock(ErrorReply(errors.UNBLOCKED_ROLE_CHANGE))
            client.close_after_reply = True

    def connect(self) -> None:
        link = self.link
        if link is not None and link.wants_connection() and self.connector is not None:
            link.connecting()
            self.connector(link)

    def promote(self, why: str = "user request from REPLICAOF NO ONE") -> None:
        """REPLICAOF NO ONE (or PSYNC FAILOVER, or a failover aborted): a master from now on, with a new replid; the master's history
        stays valid up to our offset as replid2 (PSYNC from its other replicas continues)."""
        link, self.link = self.link, None
        if link is None:
            return
        self.srv.params.values["replicaof"] = ""
        for db in self.srv.dbs:
            db.follower = None
        link.close_now = True
        link.state = link.CONNECT
        if link.on_wakeup is not None:
            link.on_wakeup()
        role = self.master
        role.proxying = False
        role.replid2, role.second_offset = self.srv.repl_id, role.offset + 1
        self.srv.repl_id = os.urandom(20).hex()
        role.selected_db = -1
        role.alone_since = self.srv.clock.monotonic()  # the backlog's TTL counts from now
        for peer in role.peers:  # they learn the new replid by a (partial) resync, as Redis's disconnectSlaves
            peer.client.kill()
        if role.backlog is None:
            role.create_backlog()
        self.update_write_refusal()
        log.info("MASTER MODE enabled (%s)", why)

    def psync_failover(self, replid: str, peer: str) -> None:
        """PSYNC <replid> <offset> FAILOVER from our master, failing over to us: promoted
        when the replid is ours (the PSYNC then continues the history), else refused."""
        log.warning("Failover request received for replid %s.", replid)
        if self.link is None:
            raise ErrorReply(errors.PSYNC_FAILOVER_TO_MASTER)
        if replid.lower() != self.srv.repl_id.lower():
            raise ErrorReply(errors.PSYNC_FAILOVER_REPLID)
        self.promote(f"failover request from '{peer}'")

    # -- what a link does to the master role ---------------------------------------------------
    def cron(self) -> None:
        self.failover.update()
        self.master.cron()
        if self.link is not None:
            self.link.cron()
            self.connect()

    def configure(self) -> None:
        """CONFIG SET of a parameter in REPLICATION_PARAMS."""
        if self.master.backlog is not None:
            self.master.backlog.resize(self.srv.params.int("repl-backlog-size"))
        self.update_write_refusal()

    # -- refusing writes ------------------------------------------------------------------------
    def update_write_refusal(self) -> None:
        srv = self.srv
        needed = (self.link is not None and srv.params.flag("replica-read-only")) or (
            srv.params.int("min-replicas-to-write") > 0 and self.link is None)
        srv.write_refusal = self.write_refusal if needed else None
        for client in srv.clients.values():
            client.update_direct()

    def write_refusal(self, client, cmd) -> str | None:
        """The error a write gets here, or None (Redis's processCommand checks)."""
        writes = cmd.is_write or (cmd.name == "exec" and client.multi and any(q.is_write for q, _ in client.multi))
        if not writes:
            return None
        link = self.link
        if link is not None:
            if link.is_master(client) or not self.srv.params.flag("replica-read-only"):
                return None
            return errors.READONLY_REPLICA
        wanted = self.srv.params.int("min-replicas-to-write")
        if wanted and self.master.good_replicas() < wanted:
            return errors.NOREPLICAS
        return None

    # -- INFO replication and ROLE ---------------------------------------------------------------
    def info(self) -> list:
        link = self.link
        if link is None:
            return [("role", "master"), *self.master.info_rows(), *self.master.offset_rows()]
        now = self.srv.clock.monotonic()
        up = link.state == link.CONNECTED
        rows = [("role", "slave"), ("master_host", link.host), ("master_port", link.port),
                ("master_link_status", "up" if up else "down"),
                ("master_last_io_seconds_ago", int(now - link.last_io) if up else -1),
                ("master_sync_in_progress", int(link.state == link.SYNC))]
        offset = self.master.offset
        rows += [("slave_read_repl_offset", offset), ("slave_repl_offset", offset)]
        if not up:
            down = link.down_since
            rows.append(("master_link_down_since_seconds", int(now - down) if down is not None else -1))
        params = self.srv.params
        rows += [("slave_priority", params.int("replica-priority")),
                 ("slave_read_only", int(params.flag("replica-read-only"))),
                 ("replica_announced", int(params.flag("replica-announced")))]
        return rows + self.master.info_rows() + self.master.offset_rows()

    def role_reply(self) -> list:
        link = self.link
        if link is None:
            now_peers = [p for p in self.master.peers if p.alive()]
            return [b"master", self.master.offset,
                    [[p.ip.encode(), str(p.port).encode(), str(p.ack_offset).encode()] for p in now_peers]]
        offset = self.master.offset if link.state == link.CONNECTED else -1
        return [b"slave", link.host.encode(), link.port, link.state.encode(), offset]

    # -- loading a master's dataset ---------------------------------------------------------------
    def flush_for_sync(self) -> None:
        """A full sync replaces everything: keys of every database and function libraries."""
        for db in self.srv.dbs:
            db.clear()
        libraries = getattr(self.srv, "_functions", None)  # (scripting.function_lua's registry, once made)
        if libraries is not None:
            libraries.clear()

"""FAILOVER: the coordinated failover of Redis 6.2+ (replication.c's failoverCommand and
updateFailoverStatus), from this master to one of its replicas.

States, as INFO replication's master_failover_state names them: no-failover;
waiting-for-sync (writes held as under CLIENT PAUSE WRITE, until a replica, the named one or
any, has acknowledged the whole stream: REPLCONF ACK equal to master_repl_offset);
failover-in-progress (this server has become a replica of the target and sends it
`PSYNC <replid> <offset> FAILOVER`, which makes a replica whose replid is ours promote
itself). The target's +CONTINUE or +FULLRESYNC ends the failover (writes resume, and are
refused as a replica refuses them); any other answer aborts it: this server is a master again.
A TIMEOUT that passes while waiting for the sync aborts, or with FORCE fails over anyway.
FAILOVER ABORT ends either state. The PSYNC FAILOVER side (a replica promoting itself) is
`Replication.psync_failover`."""

from __future__ import annotations

import logging

from yizhan.redis import pause

log = logging.getLogger("yizhan")

NO_FAILOVER, WAIT_FOR_SYNC, IN_PROGRESS = "no-failover", "waiting-for-sync", "failover-in-progress"


class Failover:
    def __init__(self, state):
        self.state = state  # the instance's Replication
        self.srv = state.srv
        self.phase = NO_FAILOVER
        self.end_ms = 0  # the TIMEOUT's end (0: none)
        self.force = False
        self.host: str | None = None  # the target (None: the first replica in sync)
        self.port = 0

    def running(self) -> bool:
        return self.phase != NO_FAILOVER

    def start(self, host: str | None, port: int, timeout_ms: int, force: bool) -> None:
        """FAILOVER's arguments checked: wait for a replica to catch up, writes held."""
        self.host, self.port, self.force = host, port, force
        self.end_ms = self.srv.clock.ms() + timeout_ms if timeout_ms else 0
        if host is not None:
            log.info("FAILOVER requested to %s:%d.", host, port)
        else:
            log.info("FAILOVER requested to any replica.")
        self.phase = WAIT_FOR_SYNC
        pause.hold_writes(self.srv)

    def update(self) -> None:
        """updateFailoverStatus: run from the replication cron and at each replica ACK."""
        if self.phase != WAIT_FOR_SYNC:
            return
        master = self.state.master
        if self.end_ms and self.end_ms <= self.srv.clock.ms():
            if self.force:
                log.info("FAILOVER to %s:%d time out exceeded, failing over.", self.host, self.port)
                self._fail_over()
            else:
                self.abort("Replica never caught up before timeout")
            return
        if self.host is not None:
            peer = master.find_peer(self.host, self.port)
        else:  # any replica: the first that has the whole stream becomes the target
            peer = next((p for p in master.live_peers() if p.ack_offset == master.offset), None)
            if peer is not None:
                self.host, self.port = peer.ip, peer.port
        if peer is not None and peer.ack_offset == master.offset:
            log.info("Failover target %s:%d is synced, failing over.", self.host, self.port)
            self._fail_over()

    def _fail_over(self) -> None:
        self.phase = IN_PROGRESS
        self.state.replicate(self.host, self.port)

    def psync_answered(self, accepted: bool) -> None:
        """The target answered our PSYNC ... FAILOVER."""
        if self.phase != IN_PROGRESS:
            return
        if accepted:
            self.clear()
        else:
            self.abort("Failover target rejected psync request")

    def abort(self, reason: str) -> None:
        if self.phase == NO_FAILOVER:
            return
        if self.host is not None:
            log.info("FAILOVER to %s:%d aborted: %s", self.host, self.port, reason)
        else:
            log.info("FAILOVER to any replica aborted: %s", reason)
        if self.phase == IN_PROGRESS:
            self.state.promote("failover aborted")
        self.clear()

    def clear(self) -> None:
        self.phase, self.end_ms, self.force, self.host, self.port = NO_FAILOVER, 0, False, None, 0
        pause.release_writes(self.srv)

    def pings_held(self) -> bool:
        """Redis sends no PING while a failover with a TIMEOUT holds writes."""
        return bool(self.end_ms) and self.srv.pause is not None

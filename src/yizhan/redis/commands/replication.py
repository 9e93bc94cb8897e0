"""Replication commands: REPLCONF, PSYNC and SYNC (what a replica says to this master; PSYNC
... FAILOVER from our master promotes us), REPLICAOF / SLAVEOF (follow a master, or NO ONE),
FAILOVER (hand the master role to a replica), ROLE, and WAIT counting the replicas that
acknowledged this client's writes. The protocol lives in yizhan.redis.replication."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.replication.state import replication
from yizhan.redis.session import NO_REPLY
from yizhan.redis.table import command
from yizhan.resp import OK, ErrorReply, Raw, Simple

_REPLCONF_OPTIONS = {b"listening-port", b"ip-address", b"capa", b"rdb-only", b"ack", b"getack"}


@command("REPLCONF", arity=-1, flags="admin noscript loading stale allow_busy", group="server",
         since="3.0.0", summary="An internal command for configuring the replication stream")
def replconf(c, argv):
    """The replica's handshake (listening-port, ip-address, capa, rdb-only: +OK), its ACKs
    and the master's GETACK (no reply)."""
    if len(argv) % 2 == 0:
        raise ErrorReply(errors.SYNTAX)
    state = replication(c.server)
    for j in range(1, len(argv), 2):
        option = argv[j].lower()
        if option not in _REPLCONF_OPTIONS:
            raise ErrorReply(f"ERR Unrecognized REPLCONF option: {errors.text(argv[j])}")
        if option == b"ack":
            state.master.ack(c, parse_int(argv[j + 1]))
            return NO_REPLY
        if option == b"getack":
            if state.link is not None and state.link.is_master(c):
                state.link.ack_requested()
            return NO_REPLY
        state.master.replconf(c, option, argv[j + 1])
    return OK


@command("PSYNC replicationid offset", arity=-3, flags="admin noscript no_async_loading no_multi",
         group="server", since="2.8.0", summary="Internal command used for replication")
def psync(c, argv):
    """+CONTINUE and the stream the replica missed, or +FULLRESYNC and the dataset (RDB)."""
    state = replication(c.server)
    if len(argv) > 3 and option_word(argv[3]) == b"FAILOVER" and c.repl_flag != "S":
        state.psync_failover(argv[1].decode(errors="replace"), c.addr)
    _check_can_sync(state)
    offset = parse_int(argv[2])
    return Raw(state.master.psync(c, argv[1].decode(errors="replace"), offset))


@command("SYNC", arity=1, flags="admin noscript no_async_loading no_multi", group="server",
         since="1.0.0", summary="Internal command used for replication")
def sync(c, argv):
    """The old full resynchronization: the dataset as an RDB bulk transfer ("$<length>\\r\\n"
    and the file, no trailing CRLF; what `redis-cli --rdb` saves), then the stream, unless the
    handshake said `REPLCONF rdb-only 1`."""
    state = replication(c.server)
    _check_can_sync(state)
    return Raw(state.master.psync(c, None, 0))


def _check_can_sync(state) -> None:
    if state.failover.running():
        raise ErrorReply(errors.NOMASTERLINK_FAILING_OVER)
    link = state.link
    if link is not None and link.state != link.CONNECTED:
        raise ErrorReply(errors.NOMASTERLINK)


@command("REPLICAOF host port", arity=3, flags="admin noscript stale no_async_loading", group="server",
         since="5.0.0", summary="Make the server a replica of another instance, or promote it as master.")
def replicaof(c, argv):
    """REPLICAOF host port: follow that master; REPLICAOF NO ONE: be a master."""
    state = replication(c.server)
    if state.failover.running():
        raise ErrorReply(errors.REPLICAOF_FAILING_OVER)
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        state.promote()
        return OK
    try:
        port = parse_int(argv[2])
    except ErrorReply:
        raise ErrorReply(errors.INVALID_MASTER_PORT) from None
    if not 0 <= port <= 65535:
        raise ErrorReply(errors.INVALID_MASTER_PORT)
    host = argv[1].decode(errors="replace")
    link = state.link
    if link is not None and link.host == host and link.port == port:
        return Simple("OK Already connected to specified master")
    state.replicate(host, port)
    return OK


@command("SLAVEOF host port", arity=3, flags="admin noscript stale no_async_loading", group="server",
         since="1.0.0", summary="Make the server a replica of another instance, or promote it as master.")
def slaveof(c, argv):
    return replicaof(c, argv)


@command("FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]", arity=-1, flags="admin noscript stale",
         group="server", since="6.2.0",
         summary="Start a coordinated failover between this server and one of its replicas.")
def failover(c, argv):
    """Hand the master role to a replica (see replication.failover), or ABORT the failover."""
    state = replication(c.server)
    if len(argv) == 2 and option_word(argv[1]) == b"ABORT":
        if not state.failover.running():
            raise ErrorReply(errors.FAILOVER_NONE)
        state.failover.abort("Failover manually aborted")
        return OK
    host, port, timeout_ms, force = _failover_options(argv)
    _check_can_fail_over(state, host, port, timeout_ms, force)
    state.failover.start(host, port, timeout_ms, force)
    return OK


def _failover_options(argv) -> tuple:
    """failoverCommand's parse: each option once, TO with its host and (integer) port."""
    host, port, timeout_ms, force = None, 0, 0, False
    j = 1
    while j < len(argv):
        word = option_word(argv[j])
        if word == b"TIMEOUT" and j + 1 < len(argv) and timeout_ms == 0:
            timeout_ms = parse_int(argv[j + 1])
            if timeout_ms <= 0:
                raise ErrorReply(errors.FAILOVER_TIMEOUT)
            j += 1
        elif word == b"TO" and j + 2 < len(argv) and host is None:
            port = parse_int(argv[j + 2])
            host = argv[j + 1].split(b"\0", 1)[0].decode(errors="replace")
            j += 2
        elif word == b"FORCE" and not force:
            force = True
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    return host, port, timeout_ms, force


def _check_can_fail_over(state, host, port: int, timeout_ms: int, force: bool) -> None:
    if state.failover.running():
        raise ErrorReply(errors.FAILOVER_IN_PROGRESS)
    if state.link is not None:
        raise ErrorReply(errors.FAILOVER_ON_REPLICA)
    if not state.master.live_peers():
        raise ErrorReply(errors.FAILOVER_NO_REPLICAS)
    if force and (not timeout_ms or host is None):
        raise ErrorReply(errors.FAILOVER_FORCE)
    if host is not None:
        peer = state.master.find_peer(host, port)
        if peer is None:
            raise ErrorReply(errors.FAILOVER_NOT_A_REPLICA)
        if peer.state != "online":
            raise ErrorReply(errors.FAILOVER_NOT_ONLINE)


@command("ROLE", arity=1, flags="noscript loading stale fast", group="server", since="2.8.12",
         acl="admin dangerous", summary="Return the role of the instance in the context of replication")
def role(c, argv):
    return replication(c.server).role_reply()


@command("WAIT numreplicas timeout", arity=3, flags="noscript", group="generic", since="3.0.0", acl="connection",
         tips="request_policy:all_shards response_policy:agg_min",
         summary="Wait for the synchronous replication of all the write commands sent in the context of the "
                 "current connection")
def wait(c, argv):
    """The number of replicas that acknowledged this client's last write, once it reaches
    `numreplicas` or the timeout (ms; 0: for ever) passes; at once inside MULTI."""
    state = replication(c.server)
    if state.link is not None:
        raise ErrorReply(errors.WAIT_ON_REPLICA)
    wanted = parse_int(argv[1])
    timeout_ms = parse_int(argv[2], errors.TIMEOUT_NOT_INTEGER)
    if timeout_ms < 0:
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
    master = state.master
    offset = master.write_offset(c)
    acked = master.acked(offset)
    if acked >= wanted or c.in_exec:
        return acked
    blocked = c.block([], timeout_ms, _no_key, acked)
    if blocked is not acked:
        master.add_waiter(blocked, wanted, offset)
    return blocked


def _no_key(key=None):
    """WAIT is served by replica ACKs (MasterRole.serve_waiters), never by a key."""
    return None

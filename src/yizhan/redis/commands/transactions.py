"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

The session queues commands after MULTI (see `Client.execute`); a queuing error (unknown
command, wrong arity) makes EXEC answer EXECABORT. WATCH marks the client dirty when any
watched key changes, is deleted, or expires (`RedisInstance.key_changed`).
"""

from __future__ import annotations

from yizhan.redis.table import command
from yizhan.resp import NULL_ARRAY, OK, ErrorReply


def discard_transaction(c) -> None:
    c.multi = None
    c.multi_error = False
    c.server.unwatch(c)


@command("MULTI", arity=1, flags="noscript loading stale fast allow_busy", group="transactions",
         since="1.2.0", summary="Mark the start of a transaction block")
def multi(c, argv):
    if c.multi is not None:
        raise ErrorReply("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    return OK


@command("EXEC", arity=1, flags="noscript loading stale skip_slowlog", group="transactions",
         since="1.2.0", summary="Execute all commands issued after MULTI")
def exec_(c, argv):
    if c.multi is None:
        raise ErrorReply("ERR EXEC without MULTI")
    if c.multi_error:
        discard_transaction(c)
        raise ErrorReply("EXECABORT Transaction discarded because of previous errors.")
    if c.dirty_cas or c.server.watched_key_expired(c):
        discard_transaction(c)
        return NULL_ARRAY
    queued = c.multi
    c.multi = None
    c.server.unwatch(c)
    c.in_exec = True
    try:
        return [_run_queued(c, cmd, args) for cmd, args in queued]
    finally:
        c.in_exec = False


def _run_queued(c, cmd, args):
    """A queued command, unless the ACL rules changed since it was queued and refuse it now."""
    if not c.user.unrestricted:
        refusal = c.server.acl.refuse(c, cmd, args, "multi", in_exec=True)
        if refusal is not None:
            return refusal
    return c.call(cmd, args)


@command("DISCARD", arity=1, flags="noscript loading stale fast allow_busy", group="transactions",
         since="2.0.0", summary="Discard all commands issued after MULTI")
def discard(c, argv):
    if c.multi is None:
        raise ErrorReply("ERR DISCARD without MULTI")
    discard_transaction(c)
    return OK


@command("WATCH key [key ...]", arity=-2, flags="noscript loading stale fast allow_busy", keys=(1, -1, 1),
         group="transactions", since="2.2.0", summary="Watch the given keys to determine execution of the MULTI/EXEC block",
         key_specs="RO index:1 range:-1:1:0")
def watch(c, argv):
    if c.multi is not None:
        raise ErrorReply("ERR WATCH inside MULTI is not allowed")
    for key in argv[1:]:
        c.server.watch(c, key)
    return OK


@command("UNWATCH", arity=1, flags="noscript loading stale fast allow_busy", group="transactions",
         since="2.2.0", summary="Forget about all watched keys")
def unwatch(c, argv):
    c.server.unwatch(c)
    return OK

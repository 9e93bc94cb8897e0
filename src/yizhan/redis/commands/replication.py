"""Replication commands that mean something without replicas: WAIT, as a Redis 7.0 master with
no replica attached answers it (no replica ever acknowledges, so the count is 0)."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import parse_int
from yizhan.redis.table import command
from yizhan.resp import ErrorReply


@command("WAIT numreplicas timeout", arity=3, flags="noscript", group="generic", since="3.0.0", acl="connection",
         tips="request_policy:all_shards response_policy:agg_min",
         summary="Wait for the synchronous replication of all the write commands sent in the context of the "
                 "current connection")
def wait(c, argv):
    """0 at once when no replica is asked for (or inside MULTI); otherwise the client blocks
    until the timeout in ms (0: for ever, until CLIENT UNBLOCK) and then gets 0."""
    wanted = parse_int(argv[1])
    timeout_ms = parse_int(argv[2], errors.TIMEOUT_NOT_INTEGER)
    if timeout_ms < 0:
        raise ErrorReply(errors.TIMEOUT_NEGATIVE)
    if wanted <= 0 or c.in_exec:
        return 0
    return c.block([], timeout_ms, _no_acknowledgement, 0)


def _no_acknowledgement(key=None):
    """No replica ever acknowledges: nothing to serve before the timeout."""
    return None

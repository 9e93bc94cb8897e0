"""INFO memory's lazyfree_pending_objects and lazyfreed_objects, as Redis 7.0's lazyfree.c
counts them.

yizhan frees a value at once (Python's reference counting), so nothing is ever pending; what
redis-server would have handed to its lazy-free thread is counted in `Stats.lazyfreed_objects`
when it would have been: a value whose free effort (lazyfreeGetFreeEffort: quicklist nodes,
hashtable or skiplist entries, a stream's nodes and groups; 1 for everything compact) is above
64, deleted by UNLINK, by DEL under lazyfree-lazy-user-del, by expiry under
lazyfree-lazy-expire, by eviction under lazyfree-lazy-eviction, or overwritten (Database.store)
or deleted as a command's side effect (`server_deleted`) under lazyfree-lazy-server-del; and
every key of a database emptied by FLUSHALL/FLUSHDB ASYNC (or under lazyfree-lazy-user-flush)."""

from __future__ import annotations

from yizhan.redis.persistence.rdb import list_nodes
from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.sets import Set
from yizhan.redis.types.streams import Stream
from yizhan.redis.types.zsets import ZSet

THRESHOLD = 64  # LAZYFREE_THRESHOLD


def free_effort(value) -> int:
    kind = type(value)
    if kind is RedisList:
        return len(list_nodes(value))
    if kind in (Set, Hash) and value.encoding() == "hashtable":
        return len(value)
    if kind is ZSet and value.encoding() == "skiplist":
        return len(value)
    if kind is Stream:
        # Redis counts its radix tree's nodes, about one per listpack node here
        effort = len(value.nodes)
        if value.groups:
            first = next(iter(value.groups.values()))
            effort += len(value.groups) * (1 + len(first.pel))
        return effort
    return 1


def freed(stats, value) -> None:
    """A deleted value that Redis would have freed in its lazy-free thread."""
    if free_effort(value) > THRESHOLD:
        stats.lazyfreed_objects += 1


def server_deleted(srv, db, key: bytes) -> None:
    """A key a command deletes as a side effect (RENAME's, COPY REPLACE's, RESTORE REPLACE's
    target), under lazyfree-lazy-server-del; call it before removing the live key."""
    if srv.params.flag("lazyfree-lazy-server-del"):
        freed(srv.stats, db.data[key])


def deleting_lazily(params, reason: str) -> bool:
    """Whether a deletion for `reason` ("user-del", "expire", "eviction", "user-flush") is lazy."""
    return params.flag(f"lazyfree-lazy-{reason}")

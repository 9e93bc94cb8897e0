"""Persistence commands: DUMP and RESTORE (Redis's serialization, so values move to and from a
real Redis), SAVE, BGSAVE and LASTSAVE (snapshots in Redis's RDB format, see
yizhan.redis.persistence), BGREWRITEAOF (compaction of the append-only file, persistence.aof)."""

from __future__ import annotations

from yizhan.redis import errors, lazyfree
from yizhan.redis.args import option_word, parse_int
from yizhan.redis.keyspace import GENERIC, lfu_minutes
from yizhan.redis.persistence import rdb, snapshot
from yizhan.redis.persistence.aof import aof_state
from yizhan.redis.persistence.codec import RDBError
from yizhan.redis.table import command
from yizhan.resp import OK, ErrorReply, Simple


@command("DUMP key", arity=2, flags="readonly", keys=(1, 1, 1), group="generic", since="2.6.0",
         tips="nondeterministic_output",
         summary="Return a serialized version of the value stored at the specified key.",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is "
                    "the number of Redis objects composing the value and M their average size.")
def dump(c, argv):
    value = c.db.lookup_read(argv[1])
    if value is None:
        return None
    return rdb.dump_payload(value, c.server.params.flag("rdbcompression"))


def _restore_options(argv) -> tuple[bool, bool, int, int]:
    replace = absttl = False
    idle = freq = -1
    j = 4
    while j < len(argv):
        option, more = option_word(argv[j]), len(argv) - j - 1
        if option == b"REPLACE":
            replace = True
        elif option == b"ABSTTL":
            absttl = True
        elif option == b"IDLETIME" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise ErrorReply(errors.INVALID_IDLETIME)
            j += 1
        elif option == b"FREQ" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if not 0 <= freq <= 255:
                raise ErrorReply(errors.INVALID_FREQ)
            j += 1
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    return replace, absttl, idle, freq


_RESTORE_COMPLEXITY = (
    "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the "
    "number of Redis objects composing the value and M their average size. For small string values the time "
    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "
    "complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).")


@command("RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
         arity=-4, flags="write denyoom", keys=(1, 1, 1), group="generic", since="2.6.0",
         acl="keyspace dangerous",
         summary="Create a key using the provided serialized value, previously obtained using DUMP.",
         complexity=_RESTORE_COMPLEXITY, key_specs="OW update index:1")
def restore(c, argv):
    replace, absttl, idle, freq = _restore_options(argv)
    db, key, payload = c.db, argv[1], bytes(argv[3])
    if not replace and db.lookup_write(key, touch=False) is not None:
        raise ErrorReply(errors.BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise ErrorReply(errors.INVALID_TTL)
    if not rdb.verify_payload(payload):
        raise ErrorReply(errors.DUMP_PAYLOAD)
    try:
        if _sanitizes(c):
            c.server.stats.dump_payload_sanitizations += rdb.deep_checked_blobs(payload)
        value = rdb.restore_payload(payload, rdb.Limits.from_params(c.server.params))
    except RDBError:
        raise ErrorReply(errors.BAD_DATA_FORMAT) from None
    if replace and db.lookup_write(key, touch=False) is not None:
        lazyfree.server_deleted(c.server, db, key)
    deleted = db.remove(key) if replace else False
    now = c.server.clock.ms()
    if ttl and not absttl:
        ttl += now
    if ttl and ttl <= now:
        if deleted:
            db.commit(key, GENERIC, "del")
        return OK
    db.store(key, value)
    if ttl:
        db.expire_at(key, ttl)
    _set_lru_or_lfu(c, db, key, idle, freq, now)
    db.commit(key, GENERIC, "restore")  # RESTORE counts one change in all
    return OK


def _sanitizes(c) -> bool:
    """sanitize-dump-payload: yes for every RESTORE; clients for all but the master's link and
    users with the skip-sanitize-payload ACL rule (Redis's rdbLoadObject)."""
    mode = c.server.params.get("sanitize-dump-payload")
    if mode == "clients":
        return c.repl_flag != "M" and c.user.sanitize != "skip-sanitize-payload"
    return mode == "yes"


command("RESTORE-ASKING key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        arity=-4, flags="write denyoom asking", keys=(1, 1, 1), group="server", since="3.0.0",
        acl="keyspace dangerous", summary="An internal command for migrating keys in a cluster",
        complexity=_RESTORE_COMPLEXITY, key_specs="OW update index:1")(restore)  # RESTORE itself, as Redis


def _set_lru_or_lfu(c, db, key: bytes, idle: int, freq: int, now: int) -> None:
    """objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under any other."""
    if "lfu" in c.server.params.get("maxmemory-policy"):
        if freq >= 0:
            db.hits.pop(key, None)
            db.lfu[key] = (freq, lfu_minutes(now))
    elif idle >= 0:
        db.access[key] = max(now - idle * 1000, 0)


# -- snapshots ---------------------------------------------------------------------------
@command("SAVE", arity=1, flags="admin noscript no_async_loading no_multi", group="server",
         since="1.0.0", summary="Synchronously save the dataset to disk",
         complexity="O(N) where N is the total number of keys in all databases")
def save(c, argv):
    saver = snapshot.snapshotter(c.server)
    if saver.in_progress():
        raise ErrorReply(errors.BGSAVE_IN_PROGRESS)
    if not saver.save():
        raise ErrorReply("ERR")
    return OK


@command("BGSAVE [SCHEDULE]", arity=-1, flags="admin noscript no_async_loading", group="server",
         since="1.0.0", summary="Asynchronously save the dataset to disk",
         complexity="O(N) where N is the total number of keys in all databases")
def bgsave(c, argv):
    if len(argv) > 1 and not (len(argv) == 2 and option_word(argv[1]) == b"SCHEDULE"):
        raise ErrorReply(errors.SYNTAX)
    saver = snapshot.snapshotter(c.server)
    if saver.in_progress():  # SCHEDULE only waits for an AOF rewrite, never for another save
        raise ErrorReply(errors.BGSAVE_IN_PROGRESS)
    if saver.other_child_running() or c.in_exec:
        if len(argv) == 1 and not c.in_exec:
            raise ErrorReply(errors.BGSAVE_OTHER_CHILD)
        saver.scheduled = True
        return Simple("Background saving scheduled")
    if not saver.bgsave():
        raise ErrorReply("ERR")
    return Simple("Background saving started")


@command("LASTSAVE", arity=1, flags="loading stale fast", group="server", since="1.0.0",
         summary="Get the UNIX time stamp of the last successful save to disk", acl="admin dangerous",
         tips="nondeterministic_output")
def lastsave(c, argv):
    return c.server.last_save_time


@command("BGREWRITEAOF", arity=1, flags="admin noscript no_async_loading", group="server",
         since="1.0.0", summary="Asynchronously rewrite the append-only file",
         complexity="O(1)")
def bgrewriteaof(c, argv):
    state = aof_state(c.server)
    if state.rewrite_in_progress():
        raise ErrorReply(errors.AOF_REWRITE_IN_PROGRESS)
    if snapshot.snapshotter(c.server).in_progress():
        state.scheduled = True
        return Simple("Background append only file rewriting scheduled")
    if not state.rewrite():
        raise ErrorReply(errors.AOF_REWRITE_FAILED)
    return Simple("Background append only file rewriting started")


@command("DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]", arity=-2, flags="admin noscript loading stale",
         group="server", summary="Save the RDB file, empty the dataset and load the file back")
def debug_reload(c, argv):
    """DEBUG RELOAD: what Redis's tests use to check that data survives a save and a load
    (function libraries included: emptyData clears them too)."""
    flush = save = True
    merge = False
    for option in argv[2:]:
        option = option_word(option)
        if option == b"MERGE":
            merge = True
        elif option == b"NOFLUSH":
            flush = False
        elif option == b"NOSAVE":
            save = False
        else:
            raise ErrorReply("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    saver = snapshot.snapshotter(c.server)
    if save and not saver.save(counted=False):
        raise ErrorReply("ERR")
    if flush:
        for db in c.server.dbs:
            db.clear()
        from yizhan.redis.scripting.function_lua import registry  # the engine imports this module's table
        registry(c.server).clear()
    try:
        saver.load(replace_functions=merge)
    except snapshot.RDBLoadError:
        raise ErrorReply("ERR Error trying to load the RDB dump") from None
    return OK

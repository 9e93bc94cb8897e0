"""DEBUG subcommands that clients and test suites use (debug.c), as Redis 7.0: HELP, OBJECT,
SET-ACTIVE-EXPIRE, POPULATE, CHANGE-REPL-ID, DIGEST, DIGEST-VALUE, PROTOCOL, ERROR, LOG, LISTPACK
and QUICKLIST (SLEEP is in server.py, RELOAD in persistence.py).

DEBUG DIGEST is computed exactly as Redis computes it, so that yizhan and redis-server holding
the same data print the same digest: per key, SHA1 "mixing" (digest = SHA1(digest xor
SHA1(data))) of the key, the type code and the elements where order matters (strings, lists,
stream entries),
and "xoring" of per-element digests where it does not (sets, hashes, sorted sets, the keys of a
database), with "!!expire!!" xored in for a key with a TTL.
"""

from __future__ import annotations

import hashlib
import logging
import os

from yizhan.redis import errors
from yizhan.redis.args import atoi, parse_int
from yizhan.redis.commands.keys import _is_shared_integer
from yizhan.redis.keyspace import ENCODINGS, GENERIC, LRU_CLOCK_MAX
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.codec import listpack
from yizhan.redis.table import command, help_reply
from yizhan.redis.types.hashes import Hash
from yizhan.redis.types.lists import RedisList
from yizhan.redis.types.sets import Set
from yizhan.redis.types.streams import MAX, ZERO, Stream
from yizhan.redis.types.strings import SHARED_REFCOUNT, string_encoding
from yizhan.redis.types.zsets import ZSet
from yizhan.resp import OK, ErrorReply, Many, Push, Raw, ReplySet, Simple, Verbatim

_FLAGS = "admin noscript loading stale"
log = logging.getLogger("yizhan.redis")
_ZERO = bytes(20)
_OBJ_TYPE = {bytes: 0, bytearray: 0, RedisList: 1, Set: 2, ZSet: 3, Hash: 4, Stream: 6}  # Redis's OBJ_* codes

_HELP = (
    "AOF-FLUSH-SLEEP <microsec>", "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT", "    Crash by assertion failed.",
    "CHANGE-REPL-ID", "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL", "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]", "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST", "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>", "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>", "    Create a memory leak of the input string.",
    "LOG <message>", "    Write <message> to the server log.",
    "HTSTATS <dbid>", "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>", "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>", "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]", "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]", "    Get or set a malloc tuning string.",
    "OBJECT <key>", "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM", "    Crash the server simulating an out-of-memory error.",
    "PANIC", "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>", "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,", "    true, false.",
    "RELOAD [option ...]", "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.", "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload", "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB", "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>", "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT", "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the", "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>", "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST", "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE", "    Return the size of different Redis core C structures.",
    "LISTPACK <key>", "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]", "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION", "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>", "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>", "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>", "    Kills the link based on the direction to/from (both) with the provided node.",
)


@command("DEBUG HELP", arity=2, flags=_FLAGS, group="server", summary="Show helpful text about the different subcommands")
def debug_help(c, argv):
    return help_reply(argv, _HELP)


# -- DIGEST ------------------------------------------------------------------------------------
def xor_digest(digest: bytes, data: bytes) -> bytes:
    """xorDigest: digest xor SHA1(data); order-independent accumulation."""
    hashed = hashlib.sha1(data).digest()
    return (int.from_bytes(digest, "big") ^ int.from_bytes(hashed, "big")).to_bytes(20, "big")


def mix_digest(digest: bytes, data: bytes) -> bytes:
    """mixDigest: SHA1(digest xor SHA1(data)); order-dependent accumulation."""
    return hashlib.sha1(xor_digest(digest, data)).digest()


def _text(element) -> bytes:
    return element if type(element) is bytes else b"%d" % element if type(element) is int else bytes(element)


def _value_digest(digest: bytes, value) -> bytes:
    """xorObjectDigest's part for the value, by type."""
    kind = type(value)
    digest = mix_digest(digest, _OBJ_TYPE.get(kind, 0).to_bytes(4, "big"))
    if kind is bytes or kind is bytearray:
        return mix_digest(digest, bytes(value))
    if kind is RedisList:
        for element in value:
            digest = mix_digest(digest, _text(element))
    elif kind is Set:
        for member in value:
            digest = xor_digest(digest, _text(member))
    elif kind is ZSet:
        for member, score in value.scores.items():
            digest = xor_digest(digest, mix_digest(mix_digest(_ZERO, member), b"%.17g" % score))
    elif kind is Hash:
        for field, item in value.items():
            digest = xor_digest(digest, mix_digest(mix_digest(_ZERO, _text(field)), _text(item)))
    elif kind is Stream:  # entries in order; consumer groups do not count
        for entry in value.range(ZERO, MAX):
            digest = mix_digest(digest, b"%d.%d" % entry.id)
            for part in entry.fields:
                digest = mix_digest(digest, _text(part))
    return digest


def key_digest(db, key: bytes, value, digest: bytes = _ZERO) -> bytes:
    """xorObjectDigest: the value's digest continued from `digest`, "!!expire!!" for a TTL."""
    digest = _value_digest(digest, value)
    if key in db.expires:
        digest = xor_digest(digest, b"!!expire!!")
    return digest


def dataset_digest(dbs) -> bytes:
    """computeDatasetDigest: every database's index mixed in, its keys' digests xored."""
    final = _ZERO
    for db in dbs:
        if not db.data:
            continue
        final = mix_digest(final, db.index.to_bytes(4, "big"))
        for key, value in list(db.data.items()):
            final = xor_digest(final, key_digest(db, key, value, mix_digest(_ZERO, key)))
    return final


@command("DEBUG DIGEST", arity=2, flags=_FLAGS, group="server",
         summary="Output a hex signature representing the current DB content")
def debug_digest(c, argv):
    return Simple(dataset_digest(c.server.dbs).hex())


@command("DEBUG DIGEST-VALUE [key ...]", arity=-2, flags=_FLAGS, group="server",
         summary="Output a hex signature of the values of the given keys")
def debug_digest_value(c, argv):
    db = c.db
    replies = []
    for key in argv[2:]:
        value = db.data.get(key)  # no lookup: logically expired keys count too, as in Redis
        replies.append(Simple((_ZERO if value is None else key_digest(db, key, value)).hex()))
    return replies


# -- OBJECT --------------------------------------------------------------------------------
@command("DEBUG OBJECT key", arity=3, flags=_FLAGS, group="server",
         summary="Show low level info about a key and its value")
def debug_object(c, argv):
    """Redis's status line; the address is the Python object's id, `serializedlength` the
    value's RDB serialization, `lru` the 24-bit seconds clock at the last access."""
    db, key = c.db, argv[2]
    value = db.data.get(key)
    if value is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    params = c.server.params
    encoding = _encoding(db, key, value, params)
    refcount = SHARED_REFCOUNT if _is_shared_integer(c, db, key, value) else 1
    serialized = len(rdb.encode_value(value, params.flag("rdbcompression"))[1])
    lru = (db.access.get(key, db.clock.ms()) // 1000) & LRU_CLOCK_MAX
    extra = _quicklist_fields(value, params) if encoding == "quicklist" else ""
    return Simple(f"Value at:0x{id(value):x} refcount:{refcount} encoding:{encoding} "
                  f"serializedlength:{serialized} lru:{lru} lru_seconds_idle:{db.idle_seconds(key)}{extra}")


def _encoding(db, key: bytes, value, params) -> str:
    """OBJECT ENCODING's answer for a value already found."""
    if type(value) is bytes or type(value) is bytearray:
        override = db.encodings.get(key)
        return ("int" if override == "int-private" else override) or string_encoding(value)
    describe = ENCODINGS.get(type(value))
    return describe(value, params) if describe is not None else "unknown"


def _quicklist_fields(value, params) -> str:
    nodes = rdb.list_nodes(value)
    size = sum(len(listpack(node)) for node in nodes)
    return (f" ql_nodes:{len(nodes)} ql_avg_node:{len(value) / len(nodes):.2f}"
            f" ql_listpack_max:{params.int('list-max-listpack-size')}"
            f" ql_compressed:{int(params.int('list-compress-depth') != 0)} ql_uncompressed_size:{size}")


# -- the rest ------------------------------------------------------------------------------
@command("DEBUG SET-ACTIVE-EXPIRE flag", arity=3, flags=_FLAGS, group="server",
         summary="Turn the active expiry of keys off (0) or on")
def debug_set_active_expire(c, argv):
    c.server.active_expire_enabled = atoi(argv[2]) != 0
    return OK


@command("DEBUG POPULATE count [prefix] [size]", arity=-3, flags=_FLAGS, group="server",
         summary="Create string keys named <prefix>:<num> holding value:<num>")
def debug_populate(c, argv):
    """Keys that exist are left alone; new ones are signalled (WATCH) but neither counted as
    changes nor notified, as Redis's dbAdd + signalModifiedKey."""
    if len(argv) > 5:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "debug"))
    count = _positive(argv[2])
    size = _positive(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    for j in range(count):
        key = b"%s:%d" % (prefix.split(b"\0", 1)[0], j)
        if db.lookup_write(key) is not None:
            continue
        value = b"value:%d" % j
        if size:
            value = value[:size].ljust(size, b"\0")
        db.store(key, value)
        db.commit(key, GENERIC, None, dirty=0)
    return OK


@command("DEBUG CHANGE-REPL-ID", arity=2, flags=_FLAGS, group="server",
         summary="Change the replication IDs of the instance")
def debug_change_repl_id(c, argv):
    c.server.repl_id = os.urandom(20).hex()
    return OK


def _positive(raw: bytes) -> int:
    """getPositiveLongFromObjectOrReply: one message for "not a number" and "negative"."""
    value = parse_int(raw, errors.MUST_BE_POSITIVE)
    if value < 0:
        raise ErrorReply(errors.MUST_BE_POSITIVE)
    return value



# -- replies for client test suites ------------------------------------------------------------
_PROTOCOL_TYPES = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
_BIGNUM = b"1234567999999999999999999999999999999"
_ATTRIBUTE = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"


@command("DEBUG PROTOCOL type", arity=3, flags=_FLAGS, group="server",
         summary="Reply with a test value of the given RESP type")
def debug_protocol(c, argv):
    kind = argv[2].split(b"\0", 1)[0].lower()
    resp3 = c.proto == 3
    replies = {
        b"string": lambda: b"Hello World", b"integer": lambda: 12345, b"double": lambda: 3.141,
        b"bignum": lambda: Raw(b"(%s\r\n" % _BIGNUM) if resp3 else _BIGNUM, b"null": lambda: None,
        b"array": lambda: [0, 1, 2], b"set": lambda: ReplySet([0, 1, 2]),
        b"map": lambda: {0: False, 1: True, 2: False},
        b"attrib": lambda: Many([Raw(_ATTRIBUTE), b"Some real reply following the attribute"]) if resp3
        else b"Some real reply following the attribute",
        b"push": _protocol_push if resp3 else _protocol_push_resp2,
        b"verbatim": lambda: Verbatim("This is a verbatim\nstring"), b"true": lambda: True, b"false": lambda: False,
    }
    reply = replies.get(kind)
    if reply is None:
        raise ErrorReply("ERR Wrong protocol type name. Please use one of the following: " + _PROTOCOL_TYPES)
    return reply()


def _protocol_push():
    return Many([Push([b"server-cpu-usage", 42]), b"Some real reply following the push reply"])


def _protocol_push_resp2():
    raise ErrorReply("ERR RESP2 is not supported by this command")


@command("DEBUG ERROR message", arity=3, flags=_FLAGS, group="server",
         summary="Reply with the given error (its first word is the error code)")
def debug_error(c, argv):
    raise ErrorReply(errors.text(argv[2]).replace("\r", " ").replace("\n", " "))


@command("DEBUG LOG message", arity=3, flags=_FLAGS, group="server", summary="Write a message to the server log")
def debug_log(c, argv):
    log.warning("DEBUG LOG: %s", errors.text(argv[2].split(b"\0", 1)[0]))
    return OK


@command("DEBUG LISTPACK key", arity=3, flags=_FLAGS, group="server",
         summary="Show low level info about the listpack encoding of a key")
def debug_listpack(c, argv):
    _require_encoding(c, argv[2], "listpack", "ERR Not a listpack encoded object.")
    return Simple("Listpack structure printed on stdout")


@command("DEBUG QUICKLIST key [full]", arity=-3, flags=_FLAGS, group="server",
         summary="Show low level info about the quicklist encoding of a key")
def debug_quicklist(c, argv):
    if len(argv) > 4:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "debug"))
    _require_encoding(c, argv[2], "quicklist", "ERR Not a quicklist encoded object.")
    return Simple("Quicklist structure printed on stdout")


def _require_encoding(c, key: bytes, encoding: str, message: str) -> None:
    """objectCommandLookupOrReply, then the encoding check (the structure itself goes nowhere:
    redis-server prints it on its stdout)."""
    db = c.db
    value = db.lookup_read(key, touch=False, keymiss=False)
    if value is None:
        raise ErrorReply(errors.NO_SUCH_KEY)
    if _encoding(db, key, value, c.server.params) != encoding:
        raise ErrorReply(message)

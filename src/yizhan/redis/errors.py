"""Every Redis error string yizhan sends, in one place, worded exactly as redis-server 7.0 words it.

Handlers raise `ErrorReply(errors.X)` or call the helper that formats one.
"""

from __future__ import annotations

from yizhan.resp import ErrorReply

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_FLOAT_NAN = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
OUT_OF_RANGE_DB = "ERR DB index is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
MAX_CLIENTS = "ERR max number of clients reached"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
LOADING = "LOADING Redis is loading the dataset in memory"
READONLY_REPLICA = "READONLY You can't write against a read only replica."
TRYAGAIN = "TRYAGAIN Multiple keys request during rehashing of slot"
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
BUSY_SCRIPT = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
PROTECTED_MODE = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no password "
    "is set for the default user. In this mode connections are only accepted from the loopback "
    "interface. If you want to connect from external computers to Redis you may adopt one of the "
    "following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    "protected-mode no' from the loopback interface by connecting to Redis from the same host the "
    "server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    "so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable "
    "the protected mode by editing the Redis configuration file, and setting the protected mode "
    "option to 'no', and then restarting the server. 3) If you started the server manually just "
    "for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    "password for the default user. NOTE: You only need to do one of the above things in order for "
    "the server to start accepting connections from the outside."
)
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
INVALID_CURSOR = "ERR invalid cursor"
NX_XX_GT_LT = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_LT = "ERR GT and LT options at the same time are not compatible"
PROTO_UNSUPPORTED = "NOPROTO unsupported protocol version"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
DECREMENT_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace"
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
LCS_TOO_MUCH_MEMORY = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"


def wrong_arity(fullname: str) -> str:
    return f"ERR wrong number of arguments for '{fullname}' command"


def unknown_command(name: bytes, args: list[bytes]) -> str:
    shown = ""
    for arg in args:
        if len(shown) >= 128:
            break
        shown += "'%s' " % text(arg)[: 128 - len(shown)]
    return "ERR unknown command '%s', with args beginning with: %s" % (text(name)[:128], shown)


def unknown_subcommand(sub: bytes, command: str) -> str:
    return "ERR unknown subcommand '%s'. Try %s HELP." % (text(sub)[:128], command.upper())


def subcommand_syntax(sub: bytes, command: str) -> str:
    return "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP." % (
        text(sub)[:128], command.upper())


def invalid_expire(command: str) -> str:
    return f"ERR invalid expire time in '{command}' command"


def text(raw: bytes) -> str:
    """Client bytes as text for an error message, losslessly."""
    return raw.decode("utf-8", "surrogateescape")


def fail(message: str) -> ErrorReply:
    return ErrorReply(message)


# -- bitmaps ------------------------------------------------------------------------------
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_SOURCES = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = ("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                 "supported but i64 is.")
BITFIELD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"


# -- generic key commands (keys.py) ---------------------------------------------------------
INT32_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)


def unsupported_option(option: bytes) -> str:
    """EXPIRE's error for an unknown flag (printed as a C string: it ends at a NUL byte)."""
    return "ERR Unsupported option %s" % text(option.split(b"\0", 1)[0])


# -- lists (lists.py) -----------------------------------------------------------------------
LIST_POSITIVE = "ERR value is out of range, must be positive"
INDEX_OUT_OF_RANGE = "ERR index out of range"
LPOS_RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                  "or use negative to start from the end of the list")
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"


# -- hashes and sets (hashes.py, sets.py) ------------------------------------------------------
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
INCR_NAN_OR_INFINITY = "ERR value is NaN or Infinity"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
LONG_RANGE = ("ERR value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"


# -- hyperloglog (hyperloglog.py) ------------------------------------------------------------
HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected"
PFDEBUG_NO_KEY = "ERR The specified key does not exist"
PFDEBUG_NOT_SPARSE = "ERR HLL encoding is not sparse"


def pfdebug_unknown(sub: bytes) -> str:
    return "ERR Unknown PFDEBUG subcommand '%s'" % text(sub.split(b"\0", 1)[0])


# -- sorted sets (zsets.py) -------------------------------------------------------------------
ZADD_XX_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIRS = "ERR INCR option supports a single increment-element pair"
ZSET_NAN = "ERR resulting score is not a number (NaN)"
ZSET_MINMAX_NOT_FLOAT = "ERR min or max is not a float"
ZSET_MINMAX_NOT_LEX = "ERR min or max not valid string range item"
ZRANGE_LIMIT_NEEDS_BY = ("ERR syntax error, LIMIT is only supported in combination with either "
                         "BYSCORE or BYLEX")
ZRANGE_WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
ZSET_WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
ZSET_COUNT_POSITIVE = "ERR count should be greater than 0"


def zset_needs_a_key(command: str) -> str:
    return f"ERR at least 1 input key is needed for '{command}' command"


# -- SORT (sort.py) ---------------------------------------------------------------------------
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"


# -- DUMP / RESTORE and persistence (commands/persistence.py) ---------------------------------
DUMP_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"
BUSYKEY = "BUSYKEY Target key name already exists."
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
BGSAVE_OTHER_CHILD = ("ERR Another child process is active (AOF?): can't BGSAVE right now. Use "
                      "BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
AOF_REWRITE_IN_PROGRESS = "ERR Background append only file rewriting already in progress"
AOF_REWRITE_FAILED = ("ERR Can't execute an AOF background rewriting. "
                      "Please check the server logs for more information.")


# -- functions (FUNCTION *, FCALL, FCALL_RO) ----------------------------------------------------
FUNCTION_MISSING_METADATA = "ERR Missing library metadata"
FUNCTION_INVALID_METADATA = "ERR Invalid library metadata"
FUNCTION_NAME_TWICE = "ERR Invalid metadata value, name argument was given multiple times"
FUNCTION_NO_LIBRARY_NAME = "ERR Library name was not given"
FUNCTION_NAME_RULES = ("ERR Library names can only contain letters, numbers, or underscores(_) and must be "
                       "at least one character long")
FUNCTION_NONE_REGISTERED = "ERR No functions registered"
FUNCTION_LIBRARY_NOT_FOUND = "ERR Library not found"
FUNCTION_NOT_FOUND = "ERR Function not found"
FUNCTION_LIBRARY_NAME_MISSING = "ERR library name argument was not given"
FUNCTION_FLUSH_MODE = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
FUNCTION_RESTORE_POLICY = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
FUNCTION_BAD_NUMKEYS = "ERR Bad number of keys provided"
FUNCTION_NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
FUNCTION_NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
FUNCTION_WRITE_FLAG_RO = "ERR Can not execute a script with write flag using *_ro command."


def function_bad_metadata(part: bytes) -> str:
    return "ERR Invalid metadata value given: " + text(part)


def function_no_engine(engine: bytes) -> str:
    return "ERR Engine '%s' not found" % text(engine)


def function_library_exists(name: bytes) -> str:
    return "ERR Library '%s' already exists" % text(name)


def function_library_exists_restore(name: bytes) -> str:
    return "ERR Library %s already exists" % text(name)


def function_exists(name: bytes) -> str:
    return "ERR Function %s already exists" % text(name)


def function_unknown_option(option: bytes) -> str:
    return "ERR Unknown option given: " + text(option)


def function_list_unknown_argument(argument: bytes) -> str:
    return "ERR Unknown argument " + text(argument)
NO_SHUTDOWN = "ERR No shutdown in progress."
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"


# -- streams (t_stream.c) ---------------------------------------------------------------------
STREAM_INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_ID_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
XADD_TOO_LARGE = "ERR Elements are too large to be stored"
TRIM_MAXLEN_AND_MINID = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
TRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
TRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
TRIM_LIMIT_WITHOUT_STRATEGY = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
XTRIM_WITHOUT_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
TRIM_LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
STREAM_INVALID_START = "ERR invalid start ID for the interval"
STREAM_INVALID_END = "ERR invalid end ID for the interval"
XREAD_UNBALANCED = ("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                    "specified.")
XREAD_GROUP_OPTION = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
XREAD_NOACK_OPTION = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
XREADGROUP_MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR = ("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                     "history of this consumer by specifying a proper ID, or use the > ID to get new "
                     "messages. The $ ID would just return an empty result set.")
XREAD_GREATER = ("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                 "<consumer> option.")
XREAD_TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
XGROUP_ENTRIESREAD = "ERR value for ENTRIESREAD must be positive or -1"
XGROUP_NEEDS_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                    "want to use the MKSTREAM option to create an empty stream automatically.")
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_BELOW_MAX_DELETED = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
XSETID_SMALL = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_ADDED_SMALL = ("ERR The entries_added specified in XSETID is smaller than the target "
                              "stream length")
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"
XAUTOCLAIM_COUNT_TOO_HIGH = "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
NOGROUP_BLOCKED = "NOGROUP the consumer group this client was blocked on no longer exists"
UNBLOCKED_STREAM_GONE = "UNBLOCKED the stream key no longer exists"


def _c_text(raw: bytes) -> str:
    """An argument as C's %s prints it: up to the first NUL."""
    return text(raw.split(b"\0", 1)[0])


def nogroup(key: bytes, group: bytes, suffix: str = "") -> str:
    return f"NOGROUP No such key '{_c_text(key)}' or consumer group '{_c_text(group)}'{suffix}"


def nogroup_for_key(group: bytes, key: bytes) -> str:
    return f"NOGROUP No such consumer group '{_c_text(group)}' for key name '{_c_text(key)}'"


def xclaim_unrecognized(option: bytes) -> str:
    return f"ERR Unrecognized XCLAIM option '{_c_text(option)}'"


def block_in_script(name: bytes) -> str:
    return f"ERR {_c_text(name)} command is not allowed with BLOCK option from scripts"


# -- geo (geo.py) ----------------------------------------------------------------------------
GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_RADIUS_NOT_NUMERIC = "ERR need numeric radius"
GEO_RADIUS_NEGATIVE = "ERR radius cannot be negative"
GEO_WIDTH_NOT_NUMERIC = "ERR need numeric width"
GEO_HEIGHT_NOT_NUMERIC = "ERR need numeric height"
GEO_BOX_NEGATIVE = "ERR height or width cannot be negative"
GEO_NO_MEMBER = "ERR could not decode requested zset member"
GEO_COUNT_POSITIVE = "ERR COUNT must be > 0"
GEO_ANY_WITHOUT_COUNT = "ERR the ANY argument requires COUNT argument"


def geo_position(longitude: float, latitude: float) -> str:
    return "ERR invalid longitude,latitude pair %f,%f" % (longitude, latitude)


def geo_store_with(command: str) -> str:
    return f"ERR {command} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"


def geo_exactly_one(what: str, name: bytes) -> str:
    return "ERR exactly one of %s can be specified for %s" % (what, text(name))


# -- protected commands: DEBUG (debug.py), MODULE (modules.py) ---------------------------------
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"


def not_allowed(family: str, param: str) -> str:
    """A protected command refused by its enable-*-command parameter (DEBUG, MODULE)."""
    return (f"ERR {family} command not allowed. If the {param} option is set to \"local\", you can run it "
            "from a local connection, otherwise you need to set this option in the configuration file, "
            "and then restart the server.")


# replication (redis/replication/)
READONLY_REPLICA = "READONLY You can't write against a read only replica."
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
NOMASTERLINK = "NOMASTERLINK Can't SYNC while not connected with my master"
INVALID_MASTER_PORT = "ERR Invalid master port"
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                   "replica is configured to be writable (which is not the default) writes to replicas are just "
                   "local and are not propagated.")
NOMASTERLINK_FAILING_OVER = "NOMASTERLINK Can't SYNC while failing over"
FAILOVER_NONE = "ERR No failover in progress."
FAILOVER_TIMEOUT = "ERR FAILOVER timeout must be greater than 0"
FAILOVER_IN_PROGRESS = "ERR FAILOVER already in progress."
FAILOVER_ON_REPLICA = "ERR FAILOVER is not valid when server is a replica."
FAILOVER_NO_REPLICAS = "ERR FAILOVER requires connected replicas."
FAILOVER_FORCE = "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
FAILOVER_NOT_A_REPLICA = "ERR FAILOVER target HOST and PORT is not a replica."
FAILOVER_NOT_ONLINE = "ERR FAILOVER target replica is not online."
REPLICAOF_FAILING_OVER = "ERR REPLICAOF not allowed while failing over."
PSYNC_FAILOVER_TO_MASTER = "ERR PSYNC FAILOVER can't be sent to a master."
PSYNC_FAILOVER_REPLID = "ERR PSYNC FAILOVER replid must match my replid."
UNBLOCKED_ROLE_CHANGE = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"

# MIGRATE (commands/migrate.py)
MIGRATE_CONNECT = "IOERR error or timeout connecting to the client"
MIGRATE_KEYS_WITH_KEY = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"


def migrate_io(what: str) -> str:
    """A socket error or timeout `what` ("writing", "reading") talking to MIGRATE's target."""
    return f"IOERR error or timeout {what} to target instance"


def migrate_target_error(line: bytes) -> str:
    """The target's first error line (without its "-"), as addReplyErrorFormat shows it."""
    return "ERR Target instance replied with error: " + text(line).replace("\r", " ").replace("\n", " ")

# -- ACL (redis/acl) ---------------------------------------------------------------------------
_ACL_RULE_REASONS = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
               "have any effect. Try 'resetkeys' to start with an empty list of patterns"),
    "EISDIR": ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
               "not have any effect. Try 'resetchannels' to start with an empty list of channels"),
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    "EALREADY": "Duplicate user found. A user can only be defined once in config files",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}
ACL_NO_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the "
    "ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) "
    "in order to store users in the Redis configuration.")
SORT_BY_ACL = "ERR BY option of SORT denied due to insufficient ACL permissions."
SORT_GET_ACL = "ERR GET option of SORT denied due to insufficient ACL permissions."
ACL_USERNAME_SPACES = "ERR Usernames can't contain spaces or null characters"
ACL_GENPASS_BITS = ("ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                    "number up to 4096")


def acl_rule_reason(reason: str) -> str:
    """ACLSetUserStringError for one of the errno names of acl/selectors.py."""
    return _ACL_RULE_REASONS.get(reason, "Wrong format")


def acl_rule_error(rule: bytes, reason: str) -> str:
    return f"ERR Error in ACL SETUSER modifier '{text(rule)}': {acl_rule_reason(reason)}"


def noperm(denial: int, command: str) -> str:
    """processCommand's NOPERM reply: denial 1 command, 2 key, 4 channel."""
    if denial == 1:
        return f"NOPERM this user has no permissions to run the '{command}' command"
    if denial == 2:
        return "NOPERM this user has no permissions to access one of the keys used as arguments"
    return "NOPERM this user has no permissions to access one of the channels used as arguments"


def noperm_in_exec(denial: int) -> str:
    """EXEC's reply for a queued command the ACL no longer allows."""
    reason = {1: "no permission to execute the command or subcommand",
              2: "no permission to touch the specified keys",
              4: "no permission to access one of the channels used as arguments"}.get(denial, "no permission")
    return ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. "
            f"This command is no longer allowed for the following reason: {reason}")


def noperm_in_script(denial: int) -> str:
    """scriptVerifyACL's error (getAclErrorMessage)."""
    reason = {1: "can't run this command or subcommand",
              2: "can't access at least one of the keys mentioned in the command arguments",
              4: "can't publish to the channel mentioned in the command"}.get(denial, "lacking the permissions for the command")
    return f"ERR The user executing the script {reason}"

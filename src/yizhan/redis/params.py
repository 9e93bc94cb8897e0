"""Runtime configuration parameters (CONFIG GET/SET), declared in one table with Redis 7.0's
names, defaults, types and error wording."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from yizhan.redis.floats import parse_double
from yizhan.redis.pubsub import parse_notify_flags
from yizhan.resp import ErrorReply

_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
                 "g": 1000**3, "gb": 1024**3}
INT_MAX, UINT_MAX = (1 << 31) - 1, (1 << 32) - 1
LLONG_MAX, ULLONG_MAX = (1 << 63) - 1, (1 << 64) - 1


@dataclass(frozen=True)
class Param:
    name: str
    default: str
    kind: str = "string"          # string | bool | int | memory | octal | enum | flags | save | special
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = (1 << 63) - 1
    immutable: bool = False
    aliases: tuple[str, ...] = ()
    hidden: bool = False          # Redis's HIDDEN_CONFIG: CONFIG GET by exact name only
    unsigned: bool = False        # an unsigned C type: bounds compare the value as unsigned
    protected: bool = False       # Redis's PROTECTED_CONFIG: CONFIG SET needs enable-protected-configs


PARAMS: list[Param] = [
    Param("bind", "127.0.0.1", immutable=True),
    Param("port", "6379", "int", maximum=65535, immutable=True),
    Param("databases", "16", "int", minimum=1, maximum=INT_MAX, immutable=True),
    Param("requirepass", ""),
    Param("aclfile", "", immutable=True),
    Param("acl-pubsub-default", "resetchannels", "enum", ("allchannels", "resetchannels")),
    Param("acllog-max-len", "128", "int"),
    Param("dir", ".", immutable=True, protected=True),
    Param("dbfilename", "dump.rdb", protected=True),
    Param("appendonly", "no", "bool"),
    Param("appendfilename", "appendonly.aof", immutable=True),
    Param("appendfsync", "everysec", "enum", ("everysec", "always", "no")),
    Param("appenddirname", "appendonlydir", immutable=True),
    Param("aof-load-truncated", "yes", "bool"),
    Param("rdb-key-save-delay", "0", "int", minimum=-(1 << 31), maximum=(1 << 31) - 1, hidden=True),
    Param("save", "3600 1 300 100 60 10000", "save"),
    Param("maxmemory", "0", "memory", maximum=ULLONG_MAX, unsigned=True),
    Param("maxmemory-policy", "noeviction", "enum",
          ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
           "allkeys-lfu", "allkeys-random", "noeviction")),
    Param("maxmemory-samples", "5", "int", minimum=1, maximum=INT_MAX),
    Param("maxmemory-clients", "0", "special"),
    Param("maxclients", "10000", "int", minimum=1, maximum=UINT_MAX, unsigned=True),
    Param("timeout", "0", "int", maximum=INT_MAX),
    Param("tcp-keepalive", "300", "int", maximum=INT_MAX),
    Param("tcp-backlog", "511", "int", maximum=INT_MAX, immutable=True),
    Param("hz", "10", "int", maximum=INT_MAX),
    Param("loglevel", "notice", "enum", ("debug", "verbose", "notice", "warning")),
    Param("logfile", "", immutable=True),
    Param("daemonize", "no", "bool", immutable=True),
    Param("protected-mode", "yes", "bool"),
    Param("enable-debug-command", "no", "enum", ("no", "yes", "local"), immutable=True),
    Param("enable-module-command", "no", "enum", ("no", "yes", "local"), immutable=True),
    Param("io-threads", "1", "int", minimum=1, maximum=128, immutable=True),
    Param("notify-keyspace-events", "", "special"),
    Param("proto-max-bulk-len", "536870912", "memory", minimum=1024 * 1024),
    Param("client-query-buffer-limit", "1073741824", "memory", minimum=1024 * 1024, unsigned=True),
    Param("client-output-buffer-limit",
          "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", "special"),
    Param("lfu-log-factor", "10", "int", maximum=INT_MAX),
    Param("lfu-decay-time", "1", "int", maximum=INT_MAX),
    Param("slowlog-log-slower-than", "10000", "int", minimum=-1),
    Param("slowlog-max-len", "128", "int"),
    Param("latency-tracking", "yes", "bool"),
    Param("latency-tracking-info-percentiles", "50 99 99.9", "special"),
    Param("latency-monitor-threshold", "0", "int"),
    Param("tracking-table-max-keys", "1000000", "int", unsigned=True),
    Param("lazyfree-lazy-user-flush", "no", "bool"),
    Param("lazyfree-lazy-user-del", "no", "bool"),
    Param("lazyfree-lazy-expire", "no", "bool"),
    Param("activerehashing", "yes", "bool"),
    Param("stop-writes-on-bgsave-error", "yes", "bool"),
    Param("rdbcompression", "yes", "bool"),
    Param("rdbchecksum", "yes", "bool", immutable=True),
    Param("replica-read-only", "yes", "bool", aliases=("slave-read-only",)),
    # replication (redis/replication/)
    Param("replicaof", "", "special", immutable=True, aliases=("slaveof",)),
    Param("masterauth", ""),
    Param("masteruser", ""),
    Param("repl-backlog-size", "1048576", "memory", minimum=1),
    Param("repl-backlog-ttl", "3600", "int"),
    Param("repl-ping-replica-period", "10", "int", minimum=1, maximum=INT_MAX, aliases=("repl-ping-slave-period",)),
    Param("repl-timeout", "60", "int", minimum=1, maximum=INT_MAX),
    Param("repl-diskless-sync", "yes", "bool"),
    Param("repl-diskless-sync-delay", "5", "int", maximum=INT_MAX),
    Param("repl-diskless-sync-max-replicas", "0", "int", maximum=INT_MAX),
    Param("repl-diskless-load", "disabled", "enum", ("disabled", "on-empty-db", "swapdb")),
    Param("repl-disable-tcp-nodelay", "no", "bool"),
    Param("replica-serve-stale-data", "yes", "bool", aliases=("slave-serve-stale-data",)),
    Param("replica-priority", "100", "int", maximum=INT_MAX, aliases=("slave-priority",)),
    Param("replica-announced", "yes", "bool"),  # no slave- alias in Redis 7.0
    Param("replica-announce-ip", "", aliases=("slave-announce-ip",)),
    Param("replica-announce-port", "0", "int", maximum=65535, aliases=("slave-announce-port",)),
    Param("replica-lazy-flush", "no", "bool", aliases=("slave-lazy-flush",)),
    Param("replica-ignore-maxmemory", "yes", "bool", aliases=("slave-ignore-maxmemory",)),
    Param("replica-ignore-disk-write-errors", "no", "bool"),
    Param("min-replicas-to-write", "0", "int", maximum=INT_MAX, aliases=("min-slaves-to-write",)),
    Param("min-replicas-max-lag", "10", "int", maximum=INT_MAX, aliases=("min-slaves-max-lag",)),
    Param("cluster-enabled", "no", "bool", immutable=True),
    Param("list-max-listpack-size", "-2", "int", minimum=-(1 << 31), maximum=INT_MAX, aliases=("list-max-ziplist-size",)),
    Param("list-compress-depth", "0", "int", maximum=INT_MAX),
    Param("hash-max-listpack-entries", "512", "int", unsigned=True, aliases=("hash-max-ziplist-entries",)),
    Param("hash-max-listpack-value", "64", "memory", unsigned=True, aliases=("hash-max-ziplist-value",)),
    Param("set-max-intset-entries", "512", "int", unsigned=True),
    Param("zset-max-listpack-entries", "128", "int", unsigned=True, aliases=("zset-max-ziplist-entries",)),
    Param("zset-max-listpack-value", "64", "memory", unsigned=True, aliases=("zset-max-ziplist-value",)),
    Param("busy-reply-threshold", "5000", "int", aliases=("lua-time-limit",)),
    Param("hll-sparse-max-bytes", "3000", "memory", unsigned=True),
    Param("stream-node-max-bytes", "4096", "memory", unsigned=True),
    Param("stream-node-max-entries", "100", "int"),
    # TLS (net/tls.py); CONFIG SET remakes the context and listener (server.py)
    Param("tls-port", "0", "int", maximum=65535),
    Param("tls-cert-file", ""),
    Param("tls-key-file", ""),
    Param("tls-ca-cert-file", ""),
    Param("tls-auth-clients", "yes", "enum", ("no", "yes", "optional")),
    Param("tls-protocols", ""),
    Param("tls-ca-cert-dir", ""),
    Param("tls-ciphers", ""),
    Param("tls-ciphersuites", ""),
    Param("tls-client-cert-file", ""),
    Param("tls-client-key-file", ""),
    Param("tls-client-key-file-pass", ""),
    Param("tls-key-file-pass", ""),
    Param("tls-dh-params-file", ""),
    Param("tls-cluster", "no", "bool"),
    Param("tls-replication", "no", "bool"),
    Param("tls-prefer-server-ciphers", "no", "bool"),
    Param("tls-session-caching", "yes", "bool"),
    Param("tls-session-cache-size", "20480", "int", maximum=INT_MAX),
    Param("tls-session-cache-timeout", "300", "int", maximum=INT_MAX),
    # persistence and its automatic triggers (persistence/)
    Param("auto-aof-rewrite-percentage", "100", "int", maximum=INT_MAX),
    Param("auto-aof-rewrite-min-size", "67108864", "memory"),
    Param("aof-use-rdb-preamble", "yes", "bool"),
    Param("aof-timestamp-enabled", "no", "bool"),
    Param("aof-disable-auto-gc", "no", "bool"),
    Param("aof-rewrite-incremental-fsync", "yes", "bool"),
    Param("rdb-save-incremental-fsync", "yes", "bool"),
    Param("no-appendfsync-on-rewrite", "no", "bool"),
    Param("rdb-del-sync-files", "no", "bool"),
    Param("sanitize-dump-payload", "no", "enum", ("no", "yes", "clients")),
    # process, shutdown and listeners
    Param("pidfile", "", immutable=True),
    Param("unixsocket", "", immutable=True),
    Param("unixsocketperm", "0", "octal", maximum=0o777, immutable=True, unsigned=True),
    Param("shutdown-on-sigint", "default", "flags", ("default", "save", "nosave", "now", "force")),
    Param("shutdown-on-sigterm", "default", "flags", ("default", "save", "nosave", "now", "force")),
    Param("shutdown-timeout", "10", "int", maximum=INT_MAX),
    Param("supervised", "no", "enum", ("upstart", "systemd", "auto", "no"), immutable=True),
    Param("always-show-logo", "no", "bool", immutable=True),
    Param("set-proc-title", "yes", "bool", immutable=True),
    Param("proc-title-template", "{title} {listen-addr} {server-mode}", "special"),
    Param("syslog-enabled", "no", "bool", immutable=True),
    Param("syslog-ident", "redis", immutable=True),
    Param("syslog-facility", "local0", "enum",
          ("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"),
          immutable=True),
    Param("crash-log-enabled", "yes", "bool"),
    Param("crash-memcheck-enabled", "yes", "bool"),
    Param("enable-protected-configs", "no", "enum", ("no", "yes", "local"), immutable=True),
    Param("ignore-warnings", ""),
    Param("bind-source-addr", ""),
    Param("socket-mark-id", "0", "int", maximum=UINT_MAX, immutable=True, unsigned=True),
    Param("propagation-error-behavior", "ignore", "enum", ("ignore", "panic", "panic-on-replicas")),
    Param("io-threads-do-reads", "no", "bool", immutable=True),
    # expiry, eviction, lazy freeing
    Param("active-expire-effort", "1", "int", minimum=1, maximum=10),
    Param("dynamic-hz", "yes", "bool"),
    Param("maxmemory-eviction-tenacity", "10", "int", maximum=100),
    Param("lazyfree-lazy-eviction", "no", "bool"),
    Param("lazyfree-lazy-server-del", "no", "bool"),
    # no meaning in a Python process (README, "Parameter notes"): accepted and reported only
    Param("activedefrag", "no", "bool"),
    Param("active-defrag-cycle-min", "1", "int", minimum=1, maximum=99),
    Param("active-defrag-cycle-max", "25", "int", minimum=1, maximum=99),
    Param("active-defrag-threshold-lower", "10", "int", maximum=1000),
    Param("active-defrag-threshold-upper", "100", "int", maximum=1000),
    Param("active-defrag-ignore-bytes", "104857600", "memory", minimum=1, unsigned=True),
    Param("active-defrag-max-scan-fields", "1000", "int", minimum=1),
    Param("jemalloc-bg-thread", "yes", "bool"),
    Param("disable-thp", "yes", "bool", immutable=True),
    Param("oom-score-adj", "no", "enum", ("no", "yes", "relative", "absolute")),
    Param("oom-score-adj-values", "0 200 800", "special"),
    Param("server_cpulist", "", immutable=True),
    Param("bio_cpulist", "", immutable=True),
    Param("aof_rewrite_cpulist", "", immutable=True),
    Param("bgsave_cpulist", "", immutable=True),
    # cluster mode does not exist here (cluster-enabled stays no)
    Param("cluster-config-file", "nodes.conf", immutable=True),
    Param("cluster-port", "0", "int", maximum=65535, immutable=True),
    Param("cluster-node-timeout", "15000", "int"),
    Param("cluster-announce-ip", ""),
    Param("cluster-announce-hostname", "", "special"),
    Param("cluster-announce-port", "0", "int", maximum=65535),
    Param("cluster-announce-bus-port", "0", "int", maximum=65535),
    Param("cluster-announce-tls-port", "0", "int", maximum=65535),
    Param("cluster-preferred-endpoint-type", "ip", "enum", ("ip", "hostname", "unknown-endpoint")),
    Param("cluster-require-full-coverage", "yes", "bool"),
    Param("cluster-allow-reads-when-down", "no", "bool"),
    Param("cluster-allow-pubsubshard-when-down", "yes", "bool"),
    Param("cluster-allow-replica-migration", "yes", "bool"),
    Param("cluster-replica-no-failover", "no", "bool", aliases=("cluster-slave-no-failover",)),
    Param("cluster-replica-validity-factor", "10", "int", maximum=INT_MAX,
          aliases=("cluster-slave-validity-factor",)),
    Param("cluster-migration-barrier", "1", "int", maximum=INT_MAX),
    Param("cluster-link-sendbuf-limit", "0", "memory", maximum=ULLONG_MAX, unsigned=True),
]
BY_NAME: dict[str, Param] = {}
for _p in PARAMS:
    BY_NAME[_p.name] = _p
    for _alias in _p.aliases:
        BY_NAME[_alias] = _p


def set_failed(name: str, reason: str) -> ErrorReply:
    return ErrorReply(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")


def parse_memory(text: str) -> int | None:
    """A memory value as Redis's memtoull reads it: digits and a unit, no sign; the number
    saturates at 2**64-1 and the product wraps as C's unsigned arithmetic does."""
    match = re.fullmatch(r"(\d*)([a-zA-Z]*)", text)
    if not match or match.group(2).lower() not in _MEMORY_UNITS or len(match.group(1)) >= 128:
        return None  # (memtoull copies the digits into a 128-byte buffer)
    number = min(int(match.group(1) or 0), ULLONG_MAX)
    return number * _MEMORY_UNITS[match.group(2).lower()] & ULLONG_MAX


class Params:
    """Current parameter values as strings in canonical form, plus typed accessors."""

    def __init__(self, overrides: dict[str, str] | None = None):
        self.values: dict[str, str] = {p.name: p.default for p in PARAMS}
        for name, value in (overrides or {}).items():
            param = BY_NAME.get(name.lower())
            if param is not None:
                self.values[param.name] = self.normalize(param, value)

    def get(self, name: str) -> str:
        return self.values[name]

    def int(self, name: str) -> int:
        return int(self.values[name])

    def flag(self, name: str) -> bool:
        return self.values[name] == "yes"

    def matching(self, pattern: str) -> dict[str, str]:
        """CONFIG GET: a name without glob characters answers under the name as given."""
        if not any(ch in pattern for ch in "[*?"):
            param = BY_NAME.get(pattern.lower())
            return {pattern: self.values[param.name]} if param is not None else {}
        pattern = pattern.lower()
        # as Redis 7.0's CONFIG GET, a pattern matches alias names too (repl-ping-slave-period)
        return {name: self.values[p.name] for p in PARAMS if not p.hidden
                for name in (p.name, *p.aliases) if fnmatch.fnmatchcase(name, pattern)}

    def normalize(self, param: Param, value: str, label: str | None = None) -> str:
        """The canonical form of `value`, or ErrorReply with Redis's reason, naming `label`
        (the alias CONFIG SET was given, as Redis registers each alias as a config of its own)."""
        label = label or param.name
        if param.kind == "bool":
            if value.lower() not in ("yes", "no"):
                raise set_failed(label, "argument must be 'yes' or 'no'")
            if param.name == "activedefrag" and value.lower() == "yes":
                raise set_failed(param.name, _NO_DEFRAG)
            return value.lower()
        if param.kind in ("int", "memory", "octal"):
            number = _normalize_number(param, value, label)
            # Redis's updateHZ keeps hz within its reasonable range, CONFIG GET shows it capped
            if param.name == "hz":
                return str(min(max(int(number), 1), 500))
            # and resizeReplicationBacklog keeps the backlog at least 16 kB
            return str(max(int(number), 16384)) if param.name == "repl-backlog-size" else number
        if param.kind == "enum":
            if value.lower() not in param.choices:
                raise set_failed(param.name, "argument(s) must be one of the following: " + ", ".join(param.choices))
            return _ENUM_SYNONYMS.get(value.lower(), value.lower()) if param.name == "oom-score-adj" else value.lower()
        if param.kind == "flags":
            return _normalize_flags(param, value)
        if param.name == "proc-title-template":
            return _checked_proc_title(param.name, value)
        if param.name == "cluster-announce-hostname":
            return _checked_hostname(param.name, value)
        if param.name == "oom-score-adj-values":
            return _normalize_oom_values(param.name, value)
        if param.name == "notify-keyspace-events":
            flags = parse_notify_flags(value)
            if flags is None:
                raise set_failed(param.name, "Invalid event class character. Use 'Ag$lshzxeKEtmd'.")
            return flags
        if param.name == "client-output-buffer-limit":
            return _normalize_buffer_limits(param.name, value, self.values.get(param.name, param.default))
        if param.name == "latency-tracking-info-percentiles":
            return _normalize_percentiles(param.name, value)
        if param.name == "maxmemory-clients":
            return _normalize_memory_or_percent(param.name, value)
        if param.name == "appenddirname" and ("/" in value or "\\" in value):
            raise set_failed(param.name, "appenddirname can't be a path, just a dirname")
        if param.kind == "save":
            words = value.split()
            if len(words) % 2 or not all(w.isdigit() for w in words):
                raise set_failed(param.name, "Invalid save parameters")
            return " ".join(words)
        return value


def _normalize_percentiles(name: str, value: str) -> str:
    """Numbers between 0 and 100, written as Redis writes them back (50 99 99.9)."""
    try:  # each word as Redis's string2d reads it
        numbers = [parse_double(word.encode("utf-8", "surrogateescape")) for word in _multi_args(value)]
    except ErrorReply:
        raise set_failed(name, "Invalid latency-tracking-info-percentiles parameters") from None
    if not all(0 <= n <= 100 for n in numbers):
        raise set_failed(name, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
    return " ".join(f"{n:f}".rstrip("0").rstrip(".") for n in numbers)


def _normalize_memory_or_percent(name: str, value: str) -> str:
    """A memory value (bytes, written back as a number) or a percentage of maxmemory ("10%",
    kept as written), as Redis 7.0's PERCENT_CONFIG memory parameters take them."""
    if value.endswith("%"):
        number = _parse_plain_int(value[:-1])
        if number is None or number < 0:
            raise set_failed(name, "argument must be a memory or percent value")
        if number > 100:
            raise set_failed(name, "percentage argument must be less or equal to 100")
        return f"{number}%"
    number = parse_memory(value)
    if number is None or number < 0:
        raise set_failed(name, "argument must be a memory or percent value")
    return str(number)


def _parse_plain_int(text: str) -> int | None:
    """An integer as Redis's string2ll reads it (no sign '+', no leading zeros, 64-bit)."""
    if len(text) > 20 or not re.fullmatch(r"0|-?[1-9]\d*", text):
        return None
    number = int(text)
    return number if -LLONG_MAX - 1 <= number <= LLONG_MAX else None


_NO_DEFRAG = ("Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
              "modified Jemalloc like the one shipped by default with the Redis source distribution")
_ENUM_SYNONYMS = {"relative": "yes"}    # oom-score-adj: Redis reports the first name of a value
_SHUTDOWN_FLAGS = {"save": 1, "nosave": 2, "now": 4, "force": 8}
_PROC_TITLE_VARIABLES = {"title": "", "listen-addr": "*:0", "server-mode": "", "config-file": "-",
                         "port": "0", "tls-port": "0", "unixsocket": ""}


def _normalize_number(param: Param, value: str, label: str) -> str:
    """An integer, memory or octal parameter checked as Redis's numeric configs check it (the
    parse error of the kind, then the bounds, compared as unsigned for unsigned C types) and
    written back as CONFIG GET shows it."""
    if param.kind == "memory":
        number = parse_memory(value)
        if number is not None and not param.unsigned and number > LLONG_MAX:
            number -= 1 << 64
        reason = "argument must be a memory value"
    elif param.kind == "octal":
        number = int(value or "0", 8) if re.fullmatch(r"[+-]?[0-7]*", value) else None
        reason = "argument couldn't be parsed as an octal number"
    else:
        number = _parse_plain_int(value)
        reason = "argument couldn't be parsed into an integer"
    if number is None:
        raise set_failed(label, reason)
    compared = number % (1 << 64) if param.unsigned else number
    if not param.minimum <= compared <= param.maximum:
        low, high = (f"{param.minimum:o}", f"{param.maximum:o}") if param.kind == "octal" else (param.minimum, param.maximum)
        raise set_failed(label, f"argument must be between {low} and {high} inclusive")
    return f"{compared:o}" if param.kind == "octal" else str(compared)


def _multi_args(value: str) -> list[str]:
    """The words of a MULTI_ARG parameter's CONFIG SET value: Redis splits it at each single
    space, so doubled or edge spaces make empty words."""
    return value.split(" ") if value else []


def _normalize_flags(param: Param, value: str) -> str:
    """shutdown-on-sigint/sigterm: words of the enum OR-ed together (Redis's MULTI_ARG enum),
    written back as the set flags in the enum's order, or "default"."""
    words = _multi_args(value.lower())
    if not words or any(w not in param.choices for w in words):
        raise set_failed(param.name, "argument(s) must be one of the following: " + ", ".join(param.choices))
    flags = {w for w in words if w != "default"}
    if {"save", "nosave"} <= flags:
        raise set_failed(param.name, "shutdown options SAVE and NOSAVE can't be used simultaneously")
    return " ".join(w for w in _SHUTDOWN_FLAGS if w in flags) or "default"


def _checked_proc_title(name: str, value: str) -> str:
    """A template Redis can expand ({{ quotes a brace, {name} must be a known variable) into
    something other than spaces."""
    expanded, rest = [], value
    while "{" in rest:
        before, _, rest = rest.partition("{")
        expanded.append(before)
        if rest.startswith("{"):
            expanded.append("{")
            rest = rest[1:]
            continue
        variable, closed, rest = rest.partition("}")
        if not closed or variable not in _PROC_TITLE_VARIABLES:
            raise set_failed(name, "template format is invalid or contains unknown variables")
        expanded.append(_PROC_TITLE_VARIABLES[variable])
    if not ("".join(expanded) + rest).strip(" "):
        raise set_failed(name, "template format is invalid or contains unknown variables")
    return value


def _checked_hostname(name: str, value: str) -> str:
    if len(value.encode()) >= 256:
        raise set_failed(name, "Hostnames must be less than 256 characters")
    if not re.fullmatch(r"[A-Za-z0-9.-]*", value):
        raise set_failed(name, "Hostnames may only contain alphanumeric characters, hyphens or dots")
    return value


def _normalize_oom_values(name: str, value: str) -> str:
    words = _multi_args(value)
    if len(words) != 3:
        raise set_failed(name, "wrong number of arguments")
    if not all(re.fullmatch(r"[+-]?\d{1,5}", w) and -2000 <= int(w) <= 2000 for w in words):
        raise set_failed(name, "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    return " ".join(str(int(w)) for w in words)


def _normalize_buffer_limits(name: str, value: str, current: str) -> str:
    """"class hard soft seconds" groups (memory units allowed) merged into the current value."""
    words = value.split()
    if not words or len(words) % 4:
        raise set_failed(name, "Wrong number of arguments in buffer limit configuration.")
    limits = {}
    old = current.split()
    for i in range(0, len(old), 4):
        limits[old[i]] = old[i + 1 : i + 4]
    for i in range(0, len(words), 4):
        klass = words[i].lower()
        if klass == "replica":
            klass = "slave"
        hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
        seconds = _parse_plain_int(words[i + 3])
        if klass not in ("normal", "slave", "pubsub") or None in (hard, soft, seconds) or min(hard, soft, seconds) < 0:
            raise set_failed(name, "Invalid client class specified in buffer limit configuration.")
        limits[klass] = [str(hard), str(soft), str(seconds)]
    return " ".join(f"{k} {' '.join(limits[k])}" for k in ("normal", "slave", "pubsub"))

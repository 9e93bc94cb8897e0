"""Runtime configuration parameters (CONFIG GET/SET), declared in one table with Redis 7.0's
names, defaults, types and error wording."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from yizhan.redis.pubsub import parse_notify_flags
from yizhan.resp import ErrorReply

_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
                 "g": 1000**3, "gb": 1024**3}


@dataclass(frozen=True)
class Param:
    name: str
    default: str
    kind: str = "string"          # string | bool | int | memory | enum | save | special
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = (1 << 63) - 1
    immutable: bool = False
    aliases: tuple[str, ...] = ()
    hidden: bool = False          # Redis's HIDDEN_CONFIG: CONFIG GET by exact name only


PARAMS: list[Param] = [
    Param("bind", "127.0.0.1", immutable=True),
    Param("port", "6379", "int", maximum=65535, immutable=True),
    Param("databases", "16", "int", minimum=1, immutable=True),
    Param("requirepass", ""),
    Param("aclfile", "", immutable=True),
    Param("acl-pubsub-default", "resetchannels", "enum", ("allchannels", "resetchannels")),
    Param("acllog-max-len", "128", "int"),
    Param("dir", ".", immutable=True),
    Param("dbfilename", "dump.rdb"),
    Param("appendonly", "no", "bool"),
    Param("appendfilename", "appendonly.aof", immutable=True),
    Param("appendfsync", "everysec", "enum", ("everysec", "always", "no")),
    Param("appenddirname", "appendonlydir", immutable=True),
    Param("aof-load-truncated", "yes", "bool"),
    Param("rdb-key-save-delay", "0", "int", minimum=-(1 << 31), maximum=(1 << 31) - 1, hidden=True),
    Param("save", "3600 1 300 100 60 10000", "save"),
    Param("maxmemory", "0", "memory"),
    Param("maxmemory-policy", "noeviction", "enum",
          ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
           "allkeys-lfu", "allkeys-random", "noeviction")),
    Param("maxmemory-samples", "5", "int", minimum=1, maximum=64),
    Param("maxmemory-clients", "0", "special"),
    Param("maxclients", "10000", "int", minimum=1),
    Param("timeout", "0", "int"),
    Param("tcp-keepalive", "300", "int"),
    Param("tcp-backlog", "511", "int", immutable=True),
    Param("hz", "10", "int", minimum=0),
    Param("loglevel", "notice", "enum", ("debug", "verbose", "notice", "warning")),
    Param("logfile", "", immutable=True),
    Param("daemonize", "no", "bool", immutable=True),
    Param("protected-mode", "yes", "bool"),
    Param("enable-debug-command", "no", "enum", ("no", "yes", "local"), immutable=True),
    Param("enable-module-command", "no", "enum", ("no", "yes", "local"), immutable=True),
    Param("io-threads", "1", "int", minimum=1, maximum=128, immutable=True),
    Param("notify-keyspace-events", "", "special"),
    Param("proto-max-bulk-len", "536870912", "memory", minimum=1024 * 1024),
    Param("client-query-buffer-limit", "1073741824", "memory", minimum=1024 * 1024),
    Param("client-output-buffer-limit",
          "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", "special"),
    Param("lfu-log-factor", "10", "int"),
    Param("lfu-decay-time", "1", "int"),
    Param("slowlog-log-slower-than", "10000", "int", minimum=-1),
    Param("slowlog-max-len", "128", "int"),
    Param("latency-tracking", "yes", "bool"),
    Param("latency-tracking-info-percentiles", "50 99 99.9", "special"),
    Param("latency-monitor-threshold", "0", "int"),
    Param("tracking-table-max-keys", "1000000", "int"),
    Param("lazyfree-lazy-user-flush", "no", "bool"),
    Param("lazyfree-lazy-user-del", "no", "bool"),
    Param("lazyfree-lazy-expire", "no", "bool"),
    Param("activerehashing", "yes", "bool"),
    Param("stop-writes-on-bgsave-error", "yes", "bool"),
    Param("rdbcompression", "yes", "bool"),
    Param("rdbchecksum", "yes", "bool"),
    Param("replica-read-only", "yes", "bool", aliases=("slave-read-only",)),
    # replication (redis/replication/)
    Param("replicaof", "", "special", immutable=True, aliases=("slaveof",)),
    Param("masterauth", ""),
    Param("masteruser", ""),
    Param("repl-backlog-size", "1048576", "memory", minimum=1),
    Param("repl-backlog-ttl", "3600", "int"),
    Param("repl-ping-replica-period", "10", "int", minimum=1, aliases=("repl-ping-slave-period",)),
    Param("repl-timeout", "60", "int", minimum=1),
    Param("repl-diskless-sync", "yes", "bool"),
    Param("repl-diskless-sync-delay", "5", "int"),
    Param("repl-diskless-sync-max-replicas", "0", "int"),
    Param("repl-diskless-load", "disabled", "enum", ("disabled", "on-empty-db", "swapdb")),
    Param("repl-disable-tcp-nodelay", "no", "bool"),
    Param("replica-serve-stale-data", "yes", "bool", aliases=("slave-serve-stale-data",)),
    Param("replica-priority", "100", "int", aliases=("slave-priority",)),
    Param("replica-announced", "yes", "bool"),  # no slave- alias in Redis 7.0
    Param("replica-announce-ip", "", aliases=("slave-announce-ip",)),
    Param("replica-announce-port", "0", "int", maximum=65535, aliases=("slave-announce-port",)),
    Param("replica-lazy-flush", "no", "bool", aliases=("slave-lazy-flush",)),
    Param("replica-ignore-maxmemory", "yes", "bool", aliases=("slave-ignore-maxmemory",)),
    Param("replica-ignore-disk-write-errors", "no", "bool"),
    Param("min-replicas-to-write", "0", "int", aliases=("min-slaves-to-write",)),
    Param("min-replicas-max-lag", "10", "int", aliases=("min-slaves-max-lag",)),
    Param("cluster-enabled", "no", "bool", immutable=True),
    Param("list-max-listpack-size", "-2", "int", minimum=-5, aliases=("list-max-ziplist-size",)),
    Param("list-compress-depth", "0", "int"),
    Param("hash-max-listpack-entries", "512", "memory", aliases=("hash-max-ziplist-entries",)),
    Param("hash-max-listpack-value", "64", "memory", aliases=("hash-max-ziplist-value",)),
    Param("set-max-intset-entries", "512", "memory"),
    Param("zset-max-listpack-entries", "128", "memory", aliases=("zset-max-ziplist-entries",)),
    Param("zset-max-listpack-value", "64", "memory", aliases=("zset-max-ziplist-value",)),
    Param("busy-reply-threshold", "5000", "int", aliases=("lua-time-limit",)),
    Param("hll-sparse-max-bytes", "3000", "memory"),
    Param("stream-node-max-bytes", "4096", "memory"),
    Param("stream-node-max-entries", "100", "int"),
    # TLS (net/tls.py); CONFIG SET remakes the context and listener (server.py)
    Param("tls-port", "0", "int", maximum=65535),
    Param("tls-cert-file", ""),
    Param("tls-key-file", ""),
    Param("tls-ca-cert-file", ""),
    Param("tls-auth-clients", "yes", "enum", ("no", "yes", "optional")),
    Param("tls-protocols", ""),
]
BY_NAME: dict[str, Param] = {}
for _p in PARAMS:
    BY_NAME[_p.name] = _p
    for _alias in _p.aliases:
        BY_NAME[_alias] = _p


def set_failed(name: str, reason: str) -> ErrorReply:
    return ErrorReply(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")


def parse_memory(text: str) -> int | None:
    match = re.fullmatch(r"(-?\d+)([a-zA-Z]*)", text)
    if not match or match.group(2).lower() not in _MEMORY_UNITS:
        return None
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()]


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
        pattern = pattern.lower()
        if pattern in BY_NAME:
            return {pattern: self.values[BY_NAME[pattern].name]}
        # as Redis 7.0's CONFIG GET, a pattern matches alias names too (repl-ping-slave-period)
        return {name: self.values[p.name] for p in PARAMS if not p.hidden
                for name in (p.name, *p.aliases) if fnmatch.fnmatchcase(name, pattern)}

    def normalize(self, param: Param, value: str) -> str:
        """The canonical form of `value`, or ErrorReply with Redis's reason."""
        if param.kind == "bool":
            if value.lower() not in ("yes", "no"):
                raise set_failed(param.name, "argument must be 'yes' or 'no'")
            return value.lower()
        if param.kind in ("int", "memory"):
            number = parse_memory(value) if param.kind == "memory" else _parse_plain_int(value)
            if number is None:
                reason = "argument must be a memory value" if param.kind == "memory" else "argument couldn't be parsed into an integer"
                raise set_failed(param.name, reason)
            if not param.minimum <= number <= param.maximum:
                raise set_failed(param.name, f"argument must be between {param.minimum} and {param.maximum} inclusive")
            return str(number)
        if param.kind == "enum":
            if value.lower() not in param.choices:
                raise set_failed(param.name, "argument(s) must be one of the following: " + ", ".join(param.choices))
            return value.lower()
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
    try:
        numbers = [float(word) for word in value.split()]
    except ValueError:
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
    return int(text) if re.fullmatch(r"-?\d+", text) else None


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

"""CONFIG and INFO against redis-server 7.0: CONFIG GET * names the same parameters with the
same values, CONFIG SET takes and refuses the same values (valid, invalid, immutable) for every
parameter of the table, and INFO everything has the same sections and fields in the same order."""

import pytest
import redis

from yizhan.testing.raw import RawClient
from yizhan.redis.params import INT_MAX, LLONG_MAX, PARAMS, UINT_MAX, ULLONG_MAX

# values set by how the test servers were started, not by default
STARTUP_SPECIFIC = {"bind", "port", "dir", "save", "appendonly", "logfile", "daemonize", "maxclients"}
# CONFIG SET on these changes listeners, passwords, replication, persistence or eviction of the
# shared test servers: they are covered by their own tests
NOT_SET_HERE = {"bind", "port", "dir", "requirepass", "masterauth", "masteruser", "replicaof",
                "appendonly", "save", "maxmemory", "maxmemory-clients", "timeout", "maxclients",
                "tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-ca-cert-dir",
                "tls-auth-clients", "tls-protocols", "tls-ciphers", "tls-ciphersuites",
                "tls-client-cert-file", "tls-client-key-file", "tls-client-key-file-pass",
                "tls-key-file-pass", "tls-dh-params-file", "tls-cluster", "tls-replication",
                "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
                "tls-session-cache-timeout", "client-output-buffer-limit", "dbfilename",
                "notify-keyspace-events", "slowlog-log-slower-than", "latency-tracking",
                "latency-monitor-threshold", "oom-score-adj", "oom-score-adj-values",
                "proto-max-bulk-len", "client-query-buffer-limit", "protected-mode",
                "busy-reply-threshold", "aclfile", "acl-pubsub-default"}

_COMMON = ["", " ", "abc", "-1", "0", "1", "+1", "007", "1k", "3KB", "2mb", "1g", "1.5",
           str(INT_MAX), str(INT_MAX + 1), str(UINT_MAX), str(UINT_MAX + 1), str(LLONG_MAX),
           str(LLONG_MAX + 1), str(ULLONG_MAX), "-9223372036854775808", "777", "0777", "1000",
           "9" * 25, "9" * 127 + "kb", "9" * 128, "9" * 5000]
_WORDS = ["yes", "no", "YES", "maybe", "default", "save", "NOW save", "save nosave", "force now",
          "relative", "absolute", "clients", "local", "hostname", "panic-on-replicas", "auto",
          "local7", "{title} {port}", "{title}", "{nope}", "{{x", "{title", "bad_host",
          "host-1.example", "/tmp/somewhere"]


def _values(param) -> list[str]:
    return [*_COMMON, *param.choices, *_WORDS]


def _set_cases(param) -> list:
    """CONFIG SET of every candidate value, each followed by CONFIG GET; the default back last."""
    steps = []
    for value in _values(param):
        steps += [["CONFIG", "SET", param.name, value], ["CONFIG", "GET", param.name]]
    for alias in param.aliases:
        steps += [["CONFIG", "SET", alias, param.default], ["CONFIG", "GET", alias]]
    return steps + [["CONFIG", "SET", param.name, param.default], ["CONFIG", "GET", param.name]]


SETTABLE = [p for p in PARAMS if p.name not in NOT_SET_HERE and not p.hidden]


@pytest.mark.parametrize("param", SETTABLE, ids=[p.name for p in SETTABLE])
def test_config_set_accepts_and_refuses_as_redis(differential, param):
    differential.check(_set_cases(param))


def test_config_set_refusals_of_the_listeners_and_files(differential):
    """The parameters left out above: only refusals (nothing changes on the shared servers)."""
    steps = []
    for name in ("dir", "replicaof", "appendonly", "save", "maxmemory", "maxclients",
                 "timeout", "tls-port", "tls-session-cache-size", "tls-cluster", "oom-score-adj",
                 "oom-score-adj-values", "proto-max-bulk-len", "client-query-buffer-limit",
                 "dbfilename", "aclfile", "unixsocket", "pidfile"):
        steps += [["CONFIG", "SET", name, value] for value in ("abc", "-1", "1 2", "maybe", "/a/b")
                  if not (name in ("dir", "dbfilename") and value != "/a/b")]
    steps += [["CONFIG", "SET", "oom-score-adj-values", "1 2"],
              ["CONFIG", "SET", "oom-score-adj-values", "0 200 3000"],
              ["CONFIG", "SET", "oom-score-adj-values", "0 200 x"],
              ["CONFIG", "SET", "oom-score-adj-values", "0 200 " + "9" * 5000],
              ["CONFIG", "SET", "oom-score-adj", "sometimes"]]
    differential.check(steps)


def test_names_in_replies_are_redis_s(differential):
    """Refusals name the argument as given, value errors the (alias) entry; CONFIG GET of an
    exact name answers under the name as given; an alias is a parameter of its own."""
    differential.check([
        ["CONFIG", "SET", "NOSUCH", "1"], ["CONFIG", "SET", "Slave-Read-Only", "maybe"],
        ["CONFIG", "SET", "slave-read-only", "yes", "slave-read-only", "no"],
        ["CONFIG", "SET", "slave-read-only", "yes", "replica-read-only", "yes"],
        ["CONFIG", "SET", "SOCKET-mark-id", "1"], ["CONFIG", "SET", "DIR", "/x"],
        ["CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2"], ["CONFIG", "SET", "Lua-Time-Limit", "x"],
        ["CONFIG", "SET", "Hash-Max-Ziplist-Entries", "-1"], ["CONFIG", "GET", "MAXMEMORY"],
        ["CONFIG", "GET", "SLAVE-READ-ONLY"], ["CONFIG", "GET", "MAXMEMORY", "maxmemory"],
        ["CONFIG", "GET", "maxmem?ry", "MaxMemory"], ["~CONFIG", "GET", "*-read-only"],
        ["CONFIG", "GET", "nosuch", "NoSuch*"]])


def _config_everything(port: int) -> dict:
    client = redis.Redis(port=port, decode_responses=True)
    try:
        return client.config_get("*")
    finally:
        client.close()


def test_config_get_star_names_and_values(yizhan_server, reference_redis):
    ours, theirs = _config_everything(yizhan_server.port), _config_everything(reference_redis.port)
    assert sorted(ours) == sorted(theirs)
    differ = {name: (ours[name], theirs[name]) for name in theirs
              if name not in STARTUP_SPECIFIC and ours[name] != theirs[name]}
    assert differ == {}


def _info_layout(port: int, *sections: str) -> list:
    """INFO `sections` as (section, [field names]), the fields of the sections that list
    commands, errors or databases left out (they follow what ran before)."""
    with RawClient("127.0.0.1", port) as client:
        reply = client.call("INFO", *sections)
    text = reply.split(b"\r\n", 1)[1].decode()
    layout = []
    for block in text.strip().split("\r\n\r\n"):
        header, *lines = block.split("\r\n")
        names = [line.split(":", 1)[0] for line in lines]
        if header in ("# Commandstats", "# Errorstats", "# Latencystats", "# Keyspace"):
            names = []
        layout.append((header, names))
    return layout


@pytest.mark.parametrize("sections", [("everything",), ("all",), (), ("default",), ("keyspace", "server"),
                                      ("CPU", "commandstats", "Stats"), ("default", "latencystats"),
                                      ("module_list",), ("nosuch",)])
def test_info_everything_has_redis_fields_in_order(yizhan_server, reference_redis, sections):
    ours = dict(_info_layout(yizhan_server.port, *sections))
    theirs = _info_layout(reference_redis.port, *sections)
    assert list(ours) == [section for section, _ in theirs]
    for section, names in theirs:
        mine = [n for n in ours[section] if n not in ("yizhan_version", "python_version")]
        assert mine == names, section

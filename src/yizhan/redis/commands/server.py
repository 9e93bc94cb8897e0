"""Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, DEBUG, SHUTDOWN."""

from __future__ import annotations

import logging
import os
import platform
import resource
import sys
import time

from yizhan.redis import errors, lazyfree, used_memory
from yizhan.redis.args import parse_int
from yizhan.redis.instance import REDIS_VERSION
from yizhan.redis.params import BY_NAME, set_failed
from yizhan.redis.persistence.aof import aof_state
from yizhan.redis.replication.state import replication
from yizhan.redis.persistence.snapshot import snapshotter
from yizhan.redis.scripting import busy
from yizhan.redis.scripting import eval as scripting_eval
from yizhan.redis.glob import match
from yizhan.redis.table import (COMMANDS, command, command_keys, container, docs_reply, has_keys, help_reply, info_reply,
                                  set_of_status)
from yizhan.resp import OK, ErrorReply, Verbatim

log = logging.getLogger("yizhan.redis")


@command("DBSIZE", arity=1, flags="readonly fast", group="server", acl="keyspace",
         tips="request_policy:all_shards response_policy:agg_sum", summary="Return the number of keys in the selected database")
def dbsize(c, argv):
    return len(c.db)


def _flush_mode(c, argv, dbs) -> None:
    """FLUSHDB / FLUSHALL's option; an asynchronous flush (ASYNC, or neither word under
    lazyfree-lazy-user-flush) counts the keys of `dbs` in lazyfreed_objects, as Redis's
    emptyDbAsync does."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() not in (b"ASYNC", b"SYNC")):
        raise ErrorReply(errors.SYNTAX)
    lazy = argv[1].upper() == b"ASYNC" if len(argv) == 2 else lazyfree.deleting_lazily(c.server.params, "user-flush")
    if lazy:
        c.server.stats.lazyfreed_objects += sum(len(db) for db in dbs)


@command("FLUSHDB [ASYNC | SYNC]", arity=-1, flags="write", group="server", acl="keyspace dangerous",
         tips="request_policy:all_shards response_policy:all_succeeded",
         summary="Remove all keys from the current database")
def flushdb(c, argv):
    _flush_mode(c, argv, [c.db])
    c.server.tracking.flush(c.db.clear)
    return OK


@command("FLUSHALL [ASYNC | SYNC]", arity=-1, flags="write", group="server", acl="keyspace dangerous",
         tips="request_policy:all_shards response_policy:all_succeeded",
         summary="Remove all keys from all databases")
def flushall(c, argv):
    _flush_mode(c, argv, c.server.dbs)
    c.server.tracking.flush(lambda: [db.clear() for db in c.server.dbs])
    snapshotter(c.server).flushall_save()  # kills a BGSAVE; saves at once if save points are set
    return OK


@command("SWAPDB index1 index2", arity=3, flags="write fast", group="server", since="4.0.0", acl="keyspace dangerous",
         summary="Swaps two Redis databases")
def swapdb(c, argv):
    first = parse_int(argv[1], "ERR invalid first DB index")
    second = parse_int(argv[2], "ERR invalid second DB index")
    dbs = c.server.dbs
    if not (0 <= first < len(dbs) and 0 <= second < len(dbs)):
        raise ErrorReply(errors.OUT_OF_RANGE_DB)
    if first != second:
        c.server.swap_databases(first, second)
        c.server.blocking.serve_ready()
    return OK


@command("TIME", arity=1, flags="loading stale fast", group="server", since="2.6.0", tips="nondeterministic_output",
         summary="Return the current server time")
def time_(c, argv):
    now = c.server.clock.us()
    return [str(now // 1_000_000).encode(), str(now % 1_000_000).encode()]


_SHUTDOWN_OPTIONS = (b"nosave", b"save", b"now", b"force", b"abort")


@command("SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]", arity=-1,
         flags="admin noscript loading stale no_multi allow_busy", group="server",
         summary="Synchronously save the dataset to disk and then shut down the server",
         complexity="O(N) when saving, where N is the total number of keys in all databases when "
                    "saving data, otherwise O(1)")
def shutdown(c, argv):
    """Redis's shutdownCommand. With no replicas NOW changes nothing and no shutdown is ever
    left in progress, so ABORT always finds none. On success nothing is sent: every client is
    dropped and the runtime stops."""
    options = {arg.lower() for arg in argv[1:]}
    if not options <= set(_SHUTDOWN_OPTIONS) or (b"abort" in options and len(options) > 1) \
            or {b"nosave", b"save"} <= options:
        raise ErrorReply(errors.SYNTAX)
    if b"abort" in options:
        raise ErrorReply(errors.NO_SHUTDOWN)
    run = busy.running(c.server)
    if b"nosave" not in options and run is not None and run.busy:
        raise busy.busy_reply(run)
    if not _persist_for_shutdown(c.server, b"save" in options, b"nosave" in options, b"force" in options):
        raise ErrorReply(errors.SHUTDOWN_FAILED)
    log.warning("User requested shutdown...")
    c.server.finish_shutdown()
    return OK  # never sent: the connection is already dropped


def _persist_for_shutdown(srv, save: bool, nosave: bool, force: bool) -> bool:
    """finishShutdown's persistence: children killed, the AOF written and fsynced, the RDB
    saved when save points are set (or SAVE), unless NOSAVE. False when the save failed
    without FORCE (the server then keeps running)."""
    saver = snapshotter(srv)
    saver.abort()
    aof_state(srv).abort_rewrite()
    if srv.aof is not None:
        srv.aof.sync()
    if (save or saver.save_points()) and not nosave and not saver.save():
        if not force:
            log.warning("Error trying to save the DB, can't exit.")
            log.warning("Errors trying to shut down the server. Check the logs for more information.")
            return False
        log.warning("Error trying to save the DB. Exit anyway.")
    return True


def replicas_lagging(srv) -> bool:
    """Redis's !isReadyToShutdown: a replica has not acknowledged the whole stream yet."""
    master = replication(srv).master
    return any(peer.alive() and peer.ack_offset != master.offset for peer in master.peers)


def shutdown_by_signal(srv, name: str) -> bool:
    """SIGTERM / SIGINT as Redis 7.0 takes them: SHUTDOWN's persistence with the flags of
    shutdown-on-sigterm / shutdown-on-sigint (save, nosave, force; "default": save when save
    points are set). False when the save failed without force: the server keeps running."""
    flags = srv.params.get(f"shutdown-on-{name}").split()
    log.warning("Received %s scheduling shutdown...", name.upper())
    if not _persist_for_shutdown(srv, "save" in flags, "nosave" in flags, "force" in flags):
        log.warning("%s received but errors trying to shut down the server, check the logs for more "
                    "information", name.upper())
        return False
    srv.shut_down = True
    if srv.aof is not None:
        srv.aof.stop()
    return True


def _debug_subcommand_syntax(c, argv):
    raise ErrorReply(errors.subcommand_syntax(argv[1], "debug"))


# DEBUG's other subcommands are in debug.py (and DEBUG RELOAD in persistence.py).
container("DEBUG", group="server", since="1.0.0", summary="A container for debugging commands",
          flags="admin noscript loading stale", handler=_debug_subcommand_syntax)


@command("DEBUG SLEEP seconds", arity=3, flags="admin noscript loading stale", group="server",
         summary="Stop the server for the given number of seconds")
def debug_sleep(c, argv):
    try:
        seconds = min(max(0.0, float(argv[2])), 86400.0)  # strtod: garbage counts as 0, as in Redis
    except ValueError:
        seconds = 0.0
    time.sleep(seconds)  # Redis blocks the whole server too; that is what this command is for
    return OK


# -- CONFIG ----------------------------------------------------------------------------------
container("CONFIG", group="server", since="2.0.0", summary="A container for server configuration commands")


@command("CONFIG HELP", arity=2, flags="loading stale", group="server", since="5.0.0",
         summary="Show helpful text about the different subcommands")
def config_help(c, argv):
    return help_reply(argv, [
        "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "REWRITE", "    Rewrite the configuration file."])


@command("CONFIG GET parameter [parameter ...]", arity=-3, flags="admin noscript loading stale",
         group="server", since="2.0.0", summary="Get the values of configuration parameters")
def config_get(c, argv):
    found: dict[bytes, bytes] = {}
    seen: set[str] = set()  # Redis's matches dict compares names without case: the first stays
    for pattern in argv[2:]:
        for name, value in c.server.params.matching(errors.text(pattern)).items():
            if name.lower() not in seen:
                seen.add(name.lower())
                found[name.encode()] = value.encode()
    return found


@command("CONFIG SET parameter value [parameter value ...]", arity=-4, flags="admin noscript loading stale",
         group="server", since="2.0.0", summary="Set configuration parameters to the given values",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def config_set(c, argv):
    if len(argv) % 2:
        raise ErrorReply(errors.wrong_arity("config|set"))
    params = c.server.params
    staged: dict[str, str] = {}
    entries: set[str] = set()  # as Redis, an alias is an entry of its own (no duplicate of its name)
    for i in range(2, len(argv), 2):
        given = errors.text(argv[i])  # refusals name the argument as given, value errors the entry
        name = given.lower()
        param = BY_NAME.get(name)
        if param is None:
            raise ErrorReply(f"ERR Unknown option or number of arguments for CONFIG SET - '{given}'")
        if name in entries:
            raise set_failed(given, "duplicate parameter")
        entries.add(name)
        if param.protected and not c.permitted_by("enable-protected-configs"):
            raise set_failed(given, "can't set protected config")  # before immutable: yizhan's dir is both
        if param.immutable:
            raise set_failed(given, "can't set immutable config")
        staged[param.name] = params.normalize(param, errors.text(argv[i + 1]), name)
    tls_names = [name for name in staged if name.startswith("tls-")]
    if tls_names and c.server.reconfigure_tls is not None:
        reason = c.server.reconfigure_tls(dict(params.values, **staged))
        if reason is not None:
            raise set_failed(tls_names[0], reason)
    params.values.update(staged)
    for name in staged:
        c.server.on_param_changed(name)
    return OK


@command("CONFIG RESETSTAT", arity=2, flags="admin noscript loading stale", group="server",
         since="2.0.0", summary="Reset the stats returned by INFO")
def config_resetstat(c, argv):
    c.server.reset_stats()
    return OK


@command("CONFIG REWRITE", arity=2, flags="admin noscript loading stale", group="server",
         since="2.8.0", summary="Rewrite the configuration file with the in memory configuration")
def config_rewrite(c, argv):
    raise ErrorReply("ERR The server is running without a config file")


# -- COMMAND ---------------------------------------------------------------------------------
@command("COMMAND", arity=-1, flags="loading stale", group="server", acl="connection",
         tips="nondeterministic_output_order", since="2.8.13",
         summary="Get array of Redis command details")
def command_(c, argv):
    if len(argv) > 1:
        raise ErrorReply(errors.unknown_subcommand(argv[1], "command"))
    return [info_reply(cmd) for cmd in COMMANDS.values()]


@command("COMMAND COUNT", arity=2, flags="loading stale", group="server", acl="connection", since="2.8.13",
         summary="Get total number of Redis commands")
def command_count(c, argv):
    return len(COMMANDS)


@command("COMMAND INFO [command-name ...]", arity=-2, flags="loading stale", group="server", acl="connection",
         tips="nondeterministic_output_order",
         since="2.8.13", summary="Get array of specific Redis command details, or all when no argument is given")
def command_info(c, argv):
    if len(argv) == 2:
        return [info_reply(cmd) for cmd in COMMANDS.values()]
    return [_info_of(name.lower()) for name in argv[2:]]


def _info_of(name: bytes):
    """COMMAND INFO of a command or of a subcommand named "container|sub"; nil if none."""
    container, _, sub = name.partition(b"|")
    cmd = COMMANDS.get(container)
    if cmd is not None and sub:
        cmd = cmd.subcommands.get(sub) if cmd.lists_subcommands else None
    return info_reply(cmd) if cmd is not None else None


@command("COMMAND DOCS [command-name ...]", arity=-2, flags="loading stale", group="server", acl="connection",
         tips="nondeterministic_output_order",
         since="7.0.0", summary="Get array of specific Redis command documentation")
def command_docs(c, argv):
    names = [n.lower() for n in argv[2:]] or list(COMMANDS)
    return {COMMANDS[n].name.encode(): docs_reply(COMMANDS[n]) for n in names if n in COMMANDS}


@command("COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]", arity=-2,
         flags="loading stale", group="server", acl="connection", tips="nondeterministic_output_order",
         since="7.0.0", summary="Get an array of Redis command names")
def command_list(c, argv):
    """Every command and subcommand name ("config|get"), optionally filtered: by ACL category
    (case-insensitive; an unknown one matches nothing), by glob pattern over the full name
    (case-insensitive), by module (there are none)."""
    keep = None
    i = 2
    while i < len(argv):
        if argv[i].lower() != b"filterby" or len(argv) - 1 - i != 2:
            raise ErrorReply(errors.SYNTAX)
        kind, value = argv[i + 1].lower(), argv[i + 2]
        if kind == b"module":
            keep = _nothing
        elif kind == b"aclcat":
            keep = _in_category("@" + errors.text(value).lower())
        elif kind == b"pattern":
            keep = _matching(value)
        else:
            raise ErrorReply(errors.SYNTAX)
        i += 3
    return [cmd.name.encode() for cmd in _all_commands() if keep is None or keep(cmd)]


def _all_commands():
    for cmd in COMMANDS.values():
        yield cmd
        if cmd.lists_subcommands:
            yield from cmd.subcommands.values()


def _nothing(cmd) -> bool:
    return False


def _in_category(category: str):
    return lambda cmd: category in cmd.acl_categories()


def _matching(pattern: bytes):
    return lambda cmd: match(pattern, cmd.name.encode(), nocase=True)


@command("COMMAND GETKEYS command [arg ...]", arity=-4, flags="loading stale", group="server", acl="connection",
         since="2.8.13", summary="Extract keys given a full Redis command")
def command_getkeys(c, argv):
    return [argv[2 + position] for position, _ in _keys_of(argv[2:])]


@command("COMMAND GETKEYSANDFLAGS command [arg ...]", arity=-4, flags="loading stale", group="server", acl="connection",
         since="7.0.0", summary="Extract keys and access flags given a full Redis command")
def command_getkeysandflags(c, argv):
    return [[argv[2 + position], set_of_status(flags)] for position, flags in _keys_of(argv[2:])]


def _keys_of(inner: list[bytes]) -> list:
    """getKeysSubcommandImpl: the keys of the command `inner` (its arity checked), or the
    error Redis gives."""
    cmd = COMMANDS.get(inner[0].lower())
    if cmd is not None and cmd.subcommands and cmd.lists_subcommands and len(inner) > 1:
        cmd = cmd.subcommands.get(inner[1].lower())
    if cmd is None:
        raise ErrorReply("ERR Invalid command specified")
    if not has_keys(cmd):
        raise ErrorReply("ERR The command has no key arguments")
    if not cmd.arity_fits(len(inner)):
        raise ErrorReply("ERR Invalid number of arguments specified for command")
    keys = command_keys(cmd, inner)
    if not keys and "no_mandatory_keys" not in cmd.flags:
        raise ErrorReply("ERR Invalid arguments specified for command")
    return keys


@command("COMMAND HELP", arity=2, flags="loading stale", group="server", acl="connection", since="5.0.0",
         summary="Show helpful text about the different subcommands")
def command_help(c, argv):
    return help_reply(argv, [
        "(no subcommand)", "    Return details about all Redis commands.",
        "COUNT", "    Return the total number of commands in this Redis server.",
        "LIST", "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all", "    commands are returned.",
        "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all", "    commands are returned.",
        "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full Redis command."])


# -- INFO ------------------------------------------------------------------------------------
DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "modules", "errorstats", "cluster", "keyspace")
# Redis writes the sections in this order whatever order they were asked in
INFO_ORDER = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
              "commandstats", "errorstats", "latencystats", "cluster", "keyspace")


@command("INFO [section ...]", arity=-1, flags="loading stale", group="server", acl="dangerous",
         tips="nondeterministic_output request_policy:all_shards response_policy:special",
         summary="Get information and statistics about the server")
def info(c, argv):
    wanted = {a.decode("latin-1").lower() for a in argv[1:]} or {"default"}
    every = bool(wanted & {"all", "everything"})
    if "default" in wanted:
        wanted.update(DEFAULT_SECTIONS)
    if "module_list" in wanted:
        wanted.add("modules")
    parts = []
    for name in INFO_ORDER:
        if every or name in wanted:
            fields = _SECTIONS[name](c.server)
            body = "".join(f"{key}:{value}\r\n" for key, value in fields)
            parts.append(f"# {name.capitalize() if name != 'cpu' else 'CPU'}\r\n{body}")
    return Verbatim("\r\n".join(parts))


def _info_server(srv):
    uptime = srv.uptime_seconds()
    return [
        ("redis_version", REDIS_VERSION), ("redis_git_sha1", "00000000"), ("redis_git_dirty", 0),
        ("redis_build_id", "yizhan"), ("redis_mode", "standalone"),
        ("os", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("arch_bits", 64), ("monotonic_clock", "POSIX clock_gettime"), ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"), ("gcc_version", "0.0.0"), ("process_id", os.getpid()),
        ("process_supervised", "no"), ("run_id", srv.run_id), ("tcp_port", srv.tcp_port),
        ("server_time_usec", srv.clock.us()), ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400), ("hz", srv.params.int("hz")),
        ("configured_hz", srv.params.int("hz")), ("lru_clock", (srv.clock.ms() // 1000) & ((1 << 24) - 1)),
        ("executable", sys.argv[0] if sys.argv else ""), ("config_file", ""), ("io_threads_active", 0),
        ("yizhan_version", "0.1.0"), ("python_version", platform.python_version()),
    ]


def _info_clients(srv):
    return [
        ("connected_clients", sum(1 for c in srv.clients.values() if c.repl_flag != "S")),  # replicas apart
        ("cluster_connections", 0),
        ("maxclients", srv.params.int("maxclients")), ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", sum(1 for c in srv.clients.values() if c.blocked is not None)), ("tracking_clients", srv.tracking.clients),
        ("clients_in_timeout_table", 0),
    ]


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def _human(n: int) -> str:
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"


def _info_memory(srv):
    """INFO memory in Redis 7.0's fields and order, from used_memory.py's figures: the data and
    overheads as redis-server would hold them; RSS is the process's. yizhan has no allocator of
    its own to report: the allocator_* rows repeat used_memory (ratios 1), and what the process
    holds beyond it (the interpreter, Python's objects) is the RSS overhead."""
    memory = used_memory.report(srv)
    used, rss, peak = memory.used, memory.rss, memory.peak
    parts = memory.overhead
    maxmemory = srv.params.int("maxmemory")
    return [
        ("used_memory", used), ("used_memory_human", _human(used)), ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)), ("used_memory_peak", peak),
        ("used_memory_peak_human", _human(peak)), ("used_memory_peak_perc", f"{memory.peak_percent:.2f}%"),
        ("used_memory_overhead", parts.total), ("used_memory_startup", used_memory.STARTUP_BYTES),
        ("used_memory_dataset", memory.dataset), ("used_memory_dataset_perc", f"{memory.dataset_percent:.2f}%"),
        ("allocator_allocated", used), ("allocator_active", used), ("allocator_resident", used),
        ("total_system_memory", _total_memory()), ("total_system_memory_human", _human(_total_memory())),
        *scripting_eval.info_memory(srv), ("maxmemory", maxmemory),
        ("maxmemory_human", _human(maxmemory)), ("maxmemory_policy", srv.params.get("maxmemory-policy")),
        ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"), ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", f"{memory.fragmentation:.2f}"), ("rss_overhead_bytes", rss - used),
        ("mem_fragmentation_ratio", f"{memory.fragmentation:.2f}"), ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", parts.clients_slaves), ("mem_replication_backlog", parts.replication_backlog),
        ("mem_total_replication_buffers", parts.replication_backlog + parts.clients_slaves),
        ("mem_clients_slaves", parts.clients_slaves), ("mem_clients_normal", parts.clients_normal),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0), ("mem_allocator", used_memory.ALLOCATOR), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0), ("lazyfreed_objects", srv.stats.lazyfreed_objects),
    ]


def _info_persistence(srv):
    saver = snapshotter(srv)
    aof = aof_state(srv)
    aof.rewrite_in_progress()  # reap a finished rewrite child first
    running = saver.in_progress()
    return [
        ("loading", 0), ("async_loading", 0), ("current_cow_peak", 0), ("current_cow_size", 0),
        ("current_cow_size_age", 0), ("current_fork_perc", "0.00"), ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0), ("rdb_changes_since_last_save", srv.stats.dirty),
        ("rdb_bgsave_in_progress", int(running)), ("rdb_last_save_time", srv.last_save_time),
        ("rdb_last_bgsave_status", "ok" if saver.last_status_ok else "err"),
        ("rdb_last_bgsave_time_sec", saver.last_bgsave_seconds),
        ("rdb_current_bgsave_time_sec", saver.current_seconds() if running else -1),
        ("rdb_saves", saver.saves), ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", saver.last_load_expired), ("rdb_last_load_keys_loaded", saver.last_load_loaded),
        *aof.info(), ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
        *(aof.info_enabled() if aof.file_enabled else ()),
    ]


def _info_stats(srv):
    s = srv.stats
    return [
        ("total_connections_received", s.total_connections_received),
        ("total_commands_processed", s.total_commands_processed), *srv.instantaneous.info_rows(),
        # the totals include replication's traffic, also shown apart (Redis counts them apart)
        ("total_net_input_bytes", s.total_net_input_bytes + s.total_net_repl_input_bytes),
        ("total_net_output_bytes", s.total_net_output_bytes + s.total_net_repl_output_bytes),
        ("total_net_repl_input_bytes", s.total_net_repl_input_bytes),
        ("total_net_repl_output_bytes", s.total_net_repl_output_bytes), *srv.instantaneous.kbps_rows(),
        ("rejected_connections", s.rejected_connections), *replication(srv).master.stats_rows(),
        ("expired_keys", s.expired_keys), ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0), ("expire_cycle_cpu_milliseconds", s.expire_cycle_cpu_us // 1000),
        ("evicted_keys", s.evicted_keys), ("evicted_clients", s.evicted_clients),
        *srv.evictor.exceeded_rows(),
        ("keyspace_hits", s.keyspace_hits), ("keyspace_misses", s.keyspace_misses),
        ("pubsub_channels", len(srv.pubsub.channels)), ("pubsub_patterns", len(srv.pubsub.patterns)),
        ("pubsubshard_channels", len(srv.pubsub.shard_channels)),
        ("latest_fork_usec", s.latest_fork_usec), ("total_forks", s.total_forks), ("migrate_cached_sockets", 0),
        # writable replicas' expiring keys (yizhan's replicas are read-only) and jemalloc's
        # defragmentation (none in a Python process): nothing to count
        ("slave_expires_tracked_keys", 0), ("active_defrag_hits", 0), ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0), ("active_defrag_key_misses", 0), ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0), *srv.tracking.info_stats(),
        ("unexpected_error_replies", s.unexpected_error_replies), ("total_error_replies", s.total_error_replies),
        ("dump_payload_sanitizations", s.dump_payload_sanitizations),
        ("total_reads_processed", 0), ("total_writes_processed", 0),
        # one thread does all I/O, and replies are not kept in resizable per-client buffers
        ("io_threaded_reads_processed", 0), ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0), ("reply_buffer_expands", 0),
    ]


def _info_replication(srv):
    return replication(srv).info()


def _info_cpu(srv):
    times = os.times()
    thread = resource.getrusage(resource.RUSAGE_THREAD)  # INFO runs on the event loop's thread
    return [("used_cpu_sys", f"{times.system:.6f}"), ("used_cpu_user", f"{times.user:.6f}"),
            ("used_cpu_sys_children", "0.000000"), ("used_cpu_user_children", "0.000000"),
            ("used_cpu_sys_main_thread", f"{thread.ru_stime:.6f}"),
            ("used_cpu_user_main_thread", f"{thread.ru_utime:.6f}")]


def _info_keyspace(srv):
    rows = []
    now = srv.clock.ms()
    for db in srv.dbs:
        if len(db):
            ttls = [when - now for when in db.expires.values() if when > now]
            avg = sum(ttls) // len(ttls) if ttls else 0
            rows.append((f"db{db.index}", f"keys={len(db)},expires={len(db.expires)},avg_ttl={avg}"))
    return rows


_SECTIONS = {
    "server": _info_server, "clients": _info_clients, "memory": _info_memory,
    "persistence": _info_persistence, "stats": _info_stats, "replication": _info_replication,
    "cpu": _info_cpu, "modules": lambda srv: [], "errorstats": lambda srv: srv.observer.info_errorstats(),
    "cluster": lambda srv: [("cluster_enabled", 0)], "keyspace": _info_keyspace,
    "commandstats": lambda srv: srv.observer.info_commandstats(),
    "latencystats": lambda srv: srv.observer.info_latencystats(),
}


def info_fields(srv, section: str) -> list:
    """One INFO section's (field, value) pairs (the management port's /metrics reads them)."""
    return _SECTIONS[section](srv)

"""MEMORY USAGE/DOCTOR/PURGE/STATS/MALLOC-STATS/HELP, in redis-server 7.0's terms.

MEMORY USAGE answers what redis-server would have allocated for the key and its value in the
encoding it would use (key_cost.py), sampling `SAMPLES` elements of large containers
(default 5, 0 = all) as Redis does; MEMORY STATS gives 7.0's fields from the same figures as
INFO memory (used_memory.py). MEMORY DOCTOR runs Redis's checks on those figures.
"""

from __future__ import annotations

import gc

from yizhan.redis import errors
from yizhan.redis.args import Args
from yizhan.redis import used_memory
from yizhan.redis.key_cost import usage
from yizhan.redis.table import command, container, help_reply
from yizhan.resp import OK, ErrorReply, Verbatim

container("MEMORY", group="server", since="4.0.0", summary="A container for memory diagnostics commands")


_ALL_SHARDS_SPECIAL = "nondeterministic_output request_policy:all_shards response_policy:special"


@command("MEMORY USAGE key [SAMPLES count]", arity=-3, flags="readonly", keys=(2, 2, 1), group="server",
         since="4.0.0", summary="Estimate the memory usage of a key", complexity="O(N) where N is the number of samples.",
         key_specs="RO index:2")
def memory_usage(c, argv):
    args = Args(argv, 3)
    samples = 5
    while args:
        if args.next_option() == b"SAMPLES" and args:
            samples = args.next_int()
            if samples < 0:
                raise ErrorReply(errors.SYNTAX)
        else:
            raise ErrorReply(errors.SYNTAX)
    value = c.db.lookup_write(argv[2], touch=False)
    if value is None:
        return None
    return usage(argv[2], value, samples)


@command("MEMORY DOCTOR", arity=2, group="server", since="4.0.0", summary="Outputs memory problems report",
         tips=_ALL_SHARDS_SPECIAL)
def memory_doctor(c, argv):
    return Verbatim(doctor_report(c.server))


MB = 1 << 20
_DOCTOR_EMPTY = ("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in "
                 "these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam "
                 "and I will be back to our programming as soon as I finished rebooting.\n")
_DOCTOR_FINE = ("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on "
                "this base.\n")
_DOCTOR_PEAK = (" * Peak memory: In the past this instance used more than 150% the memory that is currently using. "
                "The allocator is normally not able to release memory after a peak, so you can expect to see a big "
                "fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if "
                "the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be "
                "used as soon as you fill the Redis instance with more data. If the memory peak was only occasional "
                "and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only "
                "other option is to shutdown and restart the instance.\n\n")
_DOCTOR_FRAG = (" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this "
                "means that the Resident Set Size of the Redis process is much larger than the sum of the logical "
                "allocations Redis performed). This problem is usually due either to a large peak memory (check if "
                "there is a peak memory entry above in the report) or may result from a workload that causes the "
                "allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. "
                "Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: "
                "The currently used allocator is \"%s\".\n\n")
_DOCTOR_PROC_RSS = (" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater "
                    "than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS "
                    "the allocator holds). This problem may be due to Lua scripts or Modules.\n\n")
_DOCTOR_CLIENTS = (" * Big client buffers: The clients output buffers in this instance are greater than 200K per "
                   "client (on average). This may result from different causes, like Pub/Sub clients subscribed to "
                   "channels bot not receiving data fast enough, so that data piles on the Redis instance output "
                   "buffer, or clients sending commands with large replies or very large sequences of commands in "
                   "the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it "
                   "causes problems in your instance, or to understand better why certain clients are using a big "
                   "amount of memory.\n\n")
_DOCTOR_SCRIPTS = (" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This "
                   "may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and "
                   "ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the "
                   "scripts' caches may end up consuming most of your memory.\n\n")


def doctor_report(srv) -> str:
    """Redis's getMemoryDoctorReport on used_memory.py's figures (yizhan's allocator
    fragmentation and allocator RSS ratios are 1, so those two findings never come)."""
    memory = used_memory.report(srv)
    used = memory.used
    if used < 5 * MB:
        return _DOCTOR_EMPTY
    findings = []
    if memory.peak / used > 1.5:
        findings.append(_DOCTOR_PEAK)
    if memory.fragmentation > 1.4 and memory.rss - used > 10 * MB:
        findings.append(_DOCTOR_FRAG % used_memory.ALLOCATOR)
    if memory.fragmentation > 1.1 and memory.rss - used > 10 * MB:
        findings.append(_DOCTOR_PROC_RSS)
    if srv.clients and memory.overhead.clients_normal // len(srv.clients) > 200 * 1024:
        findings.append(_DOCTOR_CLIENTS)
    if used_memory.cached_scripts(srv) > 1000:
        findings.append(_DOCTOR_SCRIPTS)
    if not findings:
        return _DOCTOR_FINE
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + "".join(findings)
            + "I'm here to keep you safe, Sam. I want to help you.\n")


@command("MEMORY PURGE", arity=2, group="server", since="4.0.0", summary="Ask the allocator to release memory",
         tips="request_policy:all_shards response_policy:all_succeeded")
def memory_purge(c, argv):
    gc.collect()
    return OK


@command("MEMORY MALLOC-STATS", arity=2, group="server", since="4.0.0", summary="Show allocator internal stats",
         tips=_ALL_SHARDS_SPECIAL)
def memory_malloc_stats(c, argv):
    return Verbatim("Stats not supported for the current allocator")


@command("MEMORY STATS", arity=2, group="server", since="4.0.0", summary="Show memory usage details",
         tips=_ALL_SHARDS_SPECIAL)
def memory_stats(c, argv):
    """Redis 7.0's memoryCommand STATS: the overheads, one map per non-empty database, then
    the dataset and the ratios (doubles)."""
    srv = c.server
    memory = used_memory.report(srv)
    parts = memory.overhead
    used, rss = memory.used, memory.rss
    keys = sum(len(db) for db in srv.dbs)
    stats = {b"peak.allocated": memory.peak, b"total.allocated": used, b"startup.allocated": used_memory.STARTUP_BYTES,
             b"replication.backlog": parts.replication_backlog, b"clients.slaves": parts.clients_slaves,
             b"clients.normal": parts.clients_normal,
             b"cluster.links": 0, b"aof.buffer": 0, b"lua.caches": parts.lua_caches,
             b"functions.caches": parts.functions_caches}
    for index, main, expires in parts.per_db:
        stats[b"db.%d" % index] = {b"overhead.hashtable.main": main, b"overhead.hashtable.expires": expires,
                                   b"overhead.hashtable.slot-to-keys": 0}
    stats.update({
        b"overhead.total": parts.total, b"keys.count": keys, b"keys.bytes-per-key": memory.keys_bytes_per_key(keys),
        b"dataset.bytes": memory.dataset, b"dataset.percentage": memory.dataset_percent,
        b"peak.percentage": memory.peak_percent, b"allocator.allocated": used, b"allocator.active": used,
        b"allocator.resident": used, b"allocator-fragmentation.ratio": 1.0, b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": 1.0, b"allocator-rss.bytes": 0,
        b"rss-overhead.ratio": memory.fragmentation, b"rss-overhead.bytes": rss - used, b"fragmentation": memory.fragmentation,
        b"fragmentation.bytes": rss - used})
    return stats


@command("MEMORY HELP", arity=2, flags="loading stale", group="server", since="4.0.0",
         summary="Show helpful text about the different subcommands")
def memory_help(c, argv):
    return help_reply(argv, [
             "DOCTOR", "    Return memory problems reports.",
             "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
             "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
             "STATS", "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all)."])

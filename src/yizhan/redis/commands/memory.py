"""MEMORY USAGE/DOCTOR/PURGE/STATS/MALLOC-STATS/HELP: estimates from Python object sizes.

Redis reports its allocator's bytes; yizhan reports what the key and its value cost in
Python objects, sampling `SAMPLES` elements of containers (default 5, 0 = all) as Redis does.
"""

from __future__ import annotations

import gc

from yizhan.redis import errors
from yizhan.redis.args import Args
from yizhan.redis.key_cost import estimate
from yizhan.redis.commands.server import _rss_bytes
from yizhan.redis.table import command, container
from yizhan.resp import OK, ErrorReply, Simple, Verbatim

container("MEMORY", group="server", since="4.0.0", summary="A container for memory diagnostics commands")


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
    return estimate(argv[2], value, samples)


@command("MEMORY DOCTOR", arity=2, group="server", since="4.0.0", summary="Outputs memory problems report")
def memory_doctor(c, argv):
    return Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what "
                    "occurs on this base.")


@command("MEMORY PURGE", arity=2, group="server", since="4.0.0", summary="Ask the allocator to release memory")
def memory_purge(c, argv):
    gc.collect()
    return OK


@command("MEMORY MALLOC-STATS", arity=2, group="server", since="4.0.0", summary="Show allocator internal stats")
def memory_malloc_stats(c, argv):
    return Verbatim("Stats not supported for the current allocator")


@command("MEMORY STATS", arity=2, group="server", since="4.0.0", summary="Show memory usage details")
def memory_stats(c, argv):
    rss = _rss_bytes()
    stats = {b"peak.allocated": rss, b"total.allocated": rss, b"startup.allocated": 0,
             b"keys.count": sum(len(db) for db in c.server.dbs), b"dataset.bytes": rss}
    for db in c.server.dbs:
        if len(db):
            stats[b"db.%d" % db.index] = {b"overhead.hashtable.main": 0, b"overhead.hashtable.expires": 0}
    return stats


@command("MEMORY HELP", arity=2, group="server", since="4.0.0", summary="Show helpful text about the different subcommands")
def memory_help(c, argv):
    lines = ["MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "DOCTOR", "    Return memory problems reports.",
             "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
             "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
             "STATS", "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all).",
             "HELP", "    Prints this help."]
    return [Simple(line) for line in lines]

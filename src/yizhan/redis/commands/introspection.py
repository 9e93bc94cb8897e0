"""Introspection commands: MONITOR, SLOWLOG and LATENCY (what observer.py records)."""

from __future__ import annotations

from yizhan.redis import errors
from yizhan.redis.args import parse_int
from yizhan.redis.table import COMMANDS, command, container, help_reply
from yizhan.resp import OK, ErrorReply, Raw, Verbatim
from yizhan.resp.encoder import encode_into


@command("MONITOR", arity=1, flags="admin noscript loading stale", group="server", since="1.0.0", complexity="",
         summary="Listen for all requests received by the server in real time")
def monitor(c, argv):
    if c.in_exec:
        raise ErrorReply("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if not c.monitoring:
        c.monitoring = True
        c.update_direct()
        c.server.observer.add_monitor(c)
    return OK


# -- SLOWLOG ---------------------------------------------------------------------------------
container("SLOWLOG", group="server", since="2.2.12", summary="A container for slow log commands")

_SLOWLOG_HELP = [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
]


@command("SLOWLOG GET [count]", arity=-2, flags="admin loading stale", group="server", since="2.2.12",
         summary="Get the slow log's entries", complexity="O(N) where N is the number of entries returned",
         history=(("4.0.0", "Added client IP address, port and name to the reply."),),
         tips="request_policy:all_nodes nondeterministic_output")
def slowlog_get(c, argv):
    if len(argv) > 3:
        raise ErrorReply(errors.subcommand_syntax(argv[1], "slowlog"))
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2], errors.SLOWLOG_COUNT)
        if count < -1:
            raise ErrorReply(errors.SLOWLOG_COUNT)
    return c.server.observer.slowlog.latest(count)


@command("SLOWLOG LEN", arity=2, flags="admin loading stale", group="server", since="2.2.12",
         summary="Get the slow log's length",
         tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output")
def slowlog_len(c, argv):
    return len(c.server.observer.slowlog.entries)


@command("SLOWLOG RESET", arity=2, flags="admin loading stale", group="server", since="2.2.12",
         summary="Clear all entries from the slow log", complexity="O(N) where N is the number of entries in the slowlog",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def slowlog_reset(c, argv):
    c.server.observer.slowlog.reset()
    return OK


@command("SLOWLOG HELP", arity=2, flags="loading stale", group="server", since="6.2.0",
         summary="Show helpful text about the different subcommands")
def slowlog_help(c, argv):
    return help_reply(argv, _SLOWLOG_HELP)


# -- LATENCY ---------------------------------------------------------------------------------
container("LATENCY", group="server", since="2.8.13", summary="A container for latency diagnostics commands")

_LATENCY_HELP = [
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
]

_DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may "
    'use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t '
    "in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
_DOCTOR_QUIET = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
    "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")


@command("LATENCY LATEST", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         summary="Return the latest latency samples for all events.",
         tips="nondeterministic_output request_policy:all_nodes response_policy:special")
def latency_latest(c, argv):
    return c.server.observer.latency.latest()


@command("LATENCY HISTORY event", arity=3, flags="admin noscript loading stale", group="server",
         since="2.8.13", summary="Return timestamp-latency samples for the event.",
         tips="nondeterministic_output request_policy:all_nodes response_policy:special")
def latency_history(c, argv):
    return c.server.observer.latency.history(argv[2])


@command("LATENCY RESET [event ...]", arity=-2, flags="admin noscript loading stale", group="server",
         since="2.8.13", summary="Reset latency data for one or more events.",
         tips="request_policy:all_nodes response_policy:all_succeeded")
def latency_reset(c, argv):
    return c.server.observer.latency.reset(argv[2:])


@command("LATENCY GRAPH event", arity=3, flags="admin noscript loading stale", group="server",
         since="2.8.13", summary="Return a latency graph for the event.",
         tips="nondeterministic_output request_policy:all_nodes response_policy:special")
def latency_graph(c, argv):
    history = c.server.observer.latency.history(argv[2])
    if not history:
        raise ErrorReply(f"ERR No samples available for event '{errors.text(argv[2])}'")
    return Verbatim(c.server.observer.latency.graph(argv[2], c.server.clock.ms() // 1000))


@command("LATENCY DOCTOR", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         summary="Return a human readable latency analysis report.",
         tips="nondeterministic_output request_policy:all_nodes response_policy:special")
def latency_doctor(c, argv):
    observer = c.server.observer
    if not observer.latency.events:
        return Verbatim(_DOCTOR_QUIET if observer.latency_threshold_us else _DOCTOR_DISABLED)
    return Verbatim(observer.latency.doctor(observer.latency_threshold_us // 1000, observer.slower_than,
                                            c.server.clock.ms() // 1000))


@command("LATENCY HISTOGRAM [command ...]", arity=-2, flags="admin noscript loading stale", group="server",
         since="7.0.0", summary="Return the cumulative distribution of latencies of a subset of commands or all.",
         complexity="O(N) where N is the number of commands with latency information being retrieved.",
         tips="nondeterministic_output request_policy:all_nodes response_policy:special")
def latency_histogram(c, argv):
    """A map in the order asked, a command as often as asked (as Redis replies it); a container
    stands for its subcommands."""
    stats = c.server.observer.commands
    if len(argv) == 2:
        wanted = list(stats)
    else:
        wanted = []
        for name in argv[2:]:
            cmd = _named_command(name)
            if cmd is not None:
                wanted += cmd.subcommands.values() if cmd.subcommands else [cmd]
    shown = [cmd for cmd in wanted if cmd in stats and stats[cmd].histogram.total]
    out: list[bytes] = [b"%%%d\r\n" % len(shown) if c.proto == 3 else b"*%d\r\n" % (2 * len(shown))]
    for cmd in shown:
        encode_into(cmd.name.encode(), c.proto, out)
        encode_into({b"calls": stats[cmd].calls, b"histogram_usec": stats[cmd].histogram.cumulative_usec()},
                    c.proto, out)
    return Raw(b"".join(out))


def _named_command(name: bytes):
    """A command by its full name ("get", "config|get"), as LATENCY HISTOGRAM names them."""
    container_name, _, sub = name.lower().partition(b"|")
    cmd = COMMANDS.get(container_name)
    if cmd is not None and sub:
        return cmd.subcommands.get(sub)
    return cmd


@command("LATENCY HELP", arity=2, flags="loading stale", group="server", since="2.8.13",
         summary="Show helpful text about the different subcommands.")
def latency_help(c, argv):
    return help_reply(argv, _LATENCY_HELP)

"""Long scripts: busy-reply-threshold, BUSY replies to other clients, SCRIPT KILL.

Scripts run on the event-loop thread. Every `HOOK_INSTRUCTIONS` Lua instructions the Lua
state's count hook calls `on_hook`; once the script has run longer than
`busy-reply-threshold` (alias `lua-time-limit`) milliseconds, the hook does what Redis's
processEventsWhileBlocked does: every other client's connection's `read_now` (set by the
network layer) reads its socket without blocking, the connection answers (BUSY for all but
the `allow_busy` commands: SCRIPT KILL, FUNCTION KILL, MULTI, DISCARD, WATCH ...) and the
network layer sends its `data_to_send()` at once, the loop being stopped; connections
accepted meanwhile are served the same way through `server.poll_while_busy` when the
network layer sets it. A killed script fails at its next hook with Redis's error; one that
wrote cannot be killed (UNKILLABLE).
"""

from __future__ import annotations

import logging

from yizhan.resp import OK, ErrorReply

log = logging.getLogger("yizhan.redis")

KILLED = "ERR Script killed by user with SCRIPT KILL..."  # a killed function says SCRIPT KILL too


def running(server):
    """The ScriptRun in progress (EVAL or FCALL), or None."""
    return getattr(server, "script_running", None)


def kill(server, kind: str):
    """SCRIPT KILL / FUNCTION KILL."""
    run = running(server)
    if run is None or not run.busy:
        raise ErrorReply("NOTBUSY No scripts in execution right now.")
    if run.wrote:  # scriptKill checks this before the kind of script
        raise ErrorReply("UNKILLABLE Sorry the script already executed write commands against the "
                         "dataset. You can either wait the script termination or kill the server in a "
                         "hard way using the SHUTDOWN NOSAVE command.")
    if run.kind != kind:
        raise busy_reply(run)
    run.killed = True
    return OK


def busy_reply(run) -> ErrorReply:
    if run.kind == "function":  # shared.slowscripterr: Redis says "script" here too
        return ErrorReply("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    return ErrorReply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")


def on_hook(state, run):
    """The count hook: None to continue, or the error table that stops the script."""
    server = state.server
    if not run.busy and not run.killed:
        limit = server.params.int("busy-reply-threshold")
        elapsed = (server.clock.monotonic() - run.started) * 1000
        if limit <= 0 or elapsed < limit:
            return None
        run.busy = True
        log.warning("Slow script detected: still in execution after %d milliseconds. You can try "
                    "killing the script using the %s KILL command. Script name is: %s.",
                    elapsed, "SCRIPT" if run.kind == "script" else "FUNCTION", run.name)
    if not run.killed:
        serve_others(server, run)
    if run.killed:
        return state.error_table(KILLED[4:])
    return None


def serve_others(server, run) -> None:
    """processEventsWhileBlocked: answer every other client's input that is there now."""
    for client in list(server.clients.values()):
        conn = client.conn
        if conn is not None and conn.read_now is not None and client is not run.caller:
            conn.read_now()
    poll = server.poll_while_busy
    if poll is not None:
        poll()


def script_ended(server) -> None:
    """A script that went busy ended: connections accepted meanwhile join the event loop."""
    after = server.after_busy
    if after is not None:
        after()

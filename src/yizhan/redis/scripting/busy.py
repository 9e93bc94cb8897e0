"""Long scripts: busy-reply-threshold, BUSY replies to other clients, SCRIPT KILL.

Scripts run on the event-loop thread. Every `HOOK_INSTRUCTIONS` Lua instructions the Lua
state's count hook calls `on_hook`; once the script has run longer than
`busy-reply-threshold` (alias `lua-time-limit`) milliseconds, the hook does what Redis's
processEventsWhileBlocked does: it asks the network layer (the callback it registered as
`server.poll_while_busy`) to read the clients' sockets without blocking; their connections
answer BUSY (see `busy_reply`), except SCRIPT KILL / FUNCTION KILL and SHUTDOWN NOSAVE, which
run. A killed script fails at its next hook with Redis's error.
"""

from __future__ import annotations

import time

from yizhan.resp import ErrorReply

KILLED = "ERR Script killed by user with SCRIPT KILL..."
KILLED_FUNCTION = "ERR Script killed by user with FUNCTION KILL..."


def running(server):
    """The ScriptRun in progress (EVAL or FCALL), or None."""
    return getattr(server, "script_running", None)


def kill(server, kind: str):
    """SCRIPT KILL / FUNCTION KILL."""
    run = running(server)
    if run is None or not run.busy:
        if kind == "script":
            raise ErrorReply("NOTBUSY No scripts in execution right now.")
        raise ErrorReply("NOTBUSY No scripts in execution right now.")
    if run.kind != kind:
        if kind == "script":
            raise ErrorReply("BUSY Redis is busy running a function. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
        raise ErrorReply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    if run.wrote:
        raise ErrorReply("UNKILLABLE Sorry the script already executed write commands against the "
                         "dataset. You can either wait the script termination or kill the server in a "
                         "hard way using the SHUTDOWN NOSAVE command.")
    run.killed = True
    from yizhan.resp import OK  # noqa: PLC0415
    return OK


def busy_reply(run) -> ErrorReply:
    if run.kind == "function":
        return ErrorReply("BUSY Redis is busy running a function. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    return ErrorReply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")


def on_hook(state, run):
    """The count hook: None to continue, or the error table that stops the script."""
    server = state.server
    if run.killed:
        return state.error_table(KILLED[4:] if run.kind == "script" else KILLED_FUNCTION[4:])
    if not run.busy:
        limit = server.params.int("busy-reply-threshold")
        if limit <= 0 or (time.monotonic() - run.started) * 1000 < limit:
            return None
        run.busy = True
    poll = getattr(server, "poll_while_busy", None)
    if poll is not None:
        poll()
    if run.killed:
        return state.error_table(KILLED[4:] if run.kind == "script" else KILLED_FUNCTION[4:])
    return None

"""CLIENT PAUSE / UNPAUSE as Redis 7.0 has them: while paused, a client's next command that
the pause covers (every command under ALL; under WRITE, write commands and those Redis flags
MAY_REPLICATE, EXEC of a transaction holding one) is postponed: the client is parked with its
later requests buffered, and runs it, in arrival order, when the pause ends (its time is up
or CLIENT UNPAUSE). A new pause extends the end time and can turn WRITE into ALL, never back.

FAILOVER pauses writes too, for as long as it runs (Redis's PAUSE_DURING_FAILOVER purpose):
`hold_writes` / `release_writes`. The two purposes combine as Redis's do: CLIENT UNPAUSE ends
only the client's part, and what the other part still covers is postponed again.

The active expire cycle stops during a pause, as in Redis. Differs from Redis: a key read
during a pause past its expiry is deleted (Redis answers as if it were gone but keeps it
until the pause ends).
"""

from __future__ import annotations

from yizhan.redis.blocking import Blocked

# Commands Redis 7.0 declares MAY_REPLICATE (not shown by COMMAND INFO): paused under WRITE.
MAY_REPLICATE = frozenset((
    "eval", "evalsha", "fcall", "publish", "spublish", "pfcount", "script|load", "script|flush",
    "function|delete", "function|flush", "function|load", "function|restore",
))


def pauses_writes(cmd) -> bool:
    return "write" in cmd.flags or cmd.name in MAY_REPLICATE


class Pause:
    def __init__(self, server, everything: bool, end_ms: int, by_client: bool = True):
        self.server = server
        self.everything = everything   # ALL (else WRITE)
        self.end_ms = end_ms
        self.timer = None
        self.by_client = by_client  # a CLIENT PAUSE is in force (its end: end_ms)
        self.by_failover = False  # FAILOVER holds writes until it ends
        self.postponed: list[tuple[object, list[bytes]]] = []

    def covers(self, client, cmd) -> bool:
        if self.everything or pauses_writes(cmd):
            return True
        if cmd.name == "exec" and client.multi:
            return any(pauses_writes(queued) for queued, _ in client.multi)
        return False

    def postpone(self, client, argv: list[bytes]) -> Blocked:
        """Park `client`: it runs `argv` when the pause ends (CLIENT UNBLOCK cannot wake it)."""
        self.postponed.append((client, argv))
        return Blocked(client, [], 0, None, None)


def pause(server, timeout_ms: int, everything: bool) -> None:
    """CLIENT PAUSE: start a pause or extend the current one."""
    end_ms = server.clock.ms() + timeout_ms
    current = server.pause
    if current is None:
        current = server.pause = Pause(server, everything, end_ms)
        for client in server.clients.values():
            client.update_direct()
    elif not current.by_client:  # only FAILOVER's: the client's pause starts now
        current.by_client, current.everything, current.end_ms = True, everything, end_ms
    else:
        current.everything = current.everything or everything
        if end_ms <= current.end_ms:
            return
        current.end_ms = end_ms
        current.timer.cancel()
    current.timer = server.call_later(max(0, current.end_ms - server.clock.ms()) / 1000, unpause, server)


def hold_writes(server) -> None:
    """FAILOVER: writes wait (as under CLIENT PAUSE WRITE) until `release_writes`."""
    current = server.pause
    if current is None:
        current = server.pause = Pause(server, False, 0, by_client=False)
        for client in server.clients.values():
            client.update_direct()
    current.by_failover = True


def release_writes(server) -> None:
    """FAILOVER ended: its part of the pause ends (a CLIENT PAUSE in force goes on)."""
    current = server.pause
    if current is None or not current.by_failover:
        return
    current.by_failover = False
    if not current.by_client:
        unpause(server)


def unpause(server) -> None:
    """The client's pause is over (its time is up, or CLIENT UNPAUSE): the postponed clients
    run their commands, in the order they came; those FAILOVER still holds wait again."""
    current = server.pause
    if current is None:
        return
    if current.timer is not None:
        current.timer.cancel()
        current.timer = None
    postponed, current.postponed = current.postponed, []
    if current.by_failover:
        current.by_client, current.everything = False, False
    else:
        server.pause = None
        for client in server.clients.values():
            client.update_direct()
    for client, argv in postponed:
        blocked = client.blocked
        if blocked is None or blocked.attempt is not None or client.id not in server.clients:
            continue
        server.blocking.unpark(blocked)
        client.blocked = None
        server.current_client = client
        try:
            reply = client.execute(argv)
        finally:
            server.current_client = None
        if type(reply) is Blocked:
            client.blocked = reply
            server.blocking.park(reply)
        else:
            client.blocked = blocked  # unblock answers and resumes the buffered requests
            client.unblock(reply)
        if server.after_reply:
            server.run_after_reply()

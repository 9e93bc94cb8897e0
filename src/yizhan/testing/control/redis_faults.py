"""Redis command faults and the command record: the hook a test installs on the Redis
instance (`RedisInstance.control`, copied to every client, which then leaves the direct path;
`Client.execute` asks `before_command` first). With no fault and no recording the hook is
removed and the request path is what it was.

A fault answers the next matching commands with an error (`-LOADING`, `-READONLY`, `-OOM`,
`-BUSY`, `-TRYAGAIN`, `-MASTERDOWN` or any text) instead of running them, or swallows them
(`timeout`: the command is not run and no reply is sent, so the client's read times out)."""

from __future__ import annotations

from collections import deque

from yizhan.redis import errors
from yizhan.redis.session import NO_REPLY, Client
from yizhan.resp import ErrorReply
from yizhan.testing.control.targets import Target, redis_name

ERRORS = {
    "LOADING": errors.LOADING,
    "READONLY": errors.READONLY_REPLICA,
    "OOM": errors.OOM,
    "BUSY": errors.BUSY_SCRIPT,
    "TRYAGAIN": errors.TRYAGAIN,
    "MASTERDOWN": errors.MASTERDOWN,
}
RECORD_LIMIT = 100_000  # the command record keeps the newest this many


def error_text(error: str) -> str:
    """A known error's full text by its code ("LOADING"), else the text as given ("ERR x")."""
    return ERRORS.get(error.upper(), error) if " " not in error else error


class CommandFault:
    __slots__ = ("target", "reply")

    def __init__(self, target: Target, error: str | None):
        self.target = target
        self.reply = None if error is None else error_text(error)  # None: time out

    def describe(self) -> dict:
        return {"command": self.target.command, "client": self.target.client,
                "remaining": self.target.count, "probability": self.target.probability,
                "error": self.reply, "timeout": self.reply is None}


class CommandHook:
    """Installed while any fault or a recording is active."""

    def __init__(self, instance):
        self.instance = instance
        self.faults: list[CommandFault] = []
        self.recording = False
        self.record: deque = deque(maxlen=RECORD_LIMIT)

    # -- installing ----------------------------------------------------------------------
    def _update(self) -> None:
        self.faults = [fault for fault in self.faults if not fault.target.spent]
        hook = self if (self.faults or self.recording) else None
        instance = self.instance
        if instance.control is hook:
            return
        instance.control = hook
        for client in instance.clients.values():
            client.control = hook
            client.update_direct()

    def add(self, target: Target, error: str | None) -> CommandFault:
        fault = CommandFault(target, error)
        self.faults.append(fault)
        self._update()
        return fault

    def clear(self) -> int:
        count = len(self.faults)
        self.faults = []
        self._update()
        return count

    def start_recording(self) -> None:
        self.recording = True
        self._update()

    def stop_recording(self) -> None:
        self.recording = False
        self._update()

    # -- the hook ------------------------------------------------------------------------
    def before_command(self, client: Client, argv: list[bytes]):
        if self.recording:
            self.record.append((client.id, redis_name(client), client.addr, client.db.index, list(argv)))
        if not self.faults:
            return None
        name = argv[0].lower().decode("utf-8", "replace")
        full = f"{name}|{argv[1].lower().decode('utf-8', 'replace')}" if len(argv) > 1 else name
        struck = None
        for fault in self.faults:
            target = fault.target
            if target.command is not None and target.command not in (name, full):
                continue
            if not target.matches_client(redis_name(client), client.addr):
                continue
            if target.take():
                struck = fault
                break
        if struck is None:
            return None
        if struck.target.spent:
            self.instance.call_soon(self._update)  # not while the client is mid-command
        if struck.reply is None:
            return NO_REPLY
        return ErrorReply(struck.reply)

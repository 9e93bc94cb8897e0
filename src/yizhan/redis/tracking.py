"""Client-side caching support (CLIENT TRACKING), as Redis 7.0's tracking.c does it.

Default mode: after a read-only command (or a script's read-only command, for the script's
caller) a tracking client's keys are remembered in one table, key -> client ids, whatever the
database. When a key is modified (`key_changed`, called where WATCH is signalled) every client
that remembered it gets one invalidation and the key leaves the table. OPTIN remembers only
after CLIENT CACHING YES, OPTOUT unless CLIENT CACHING NO; NOLOOP skips the client's own
writes. BCAST: no table; a modified key matching a prefix is queued for that prefix and the
queue is sent once the event loop is idle (Redis's beforeSleep), sorted, one message per
prefix and client. FLUSHDB/FLUSHALL send a null invalidation to every tracking client.

Delivery (sendTrackingMessage): a RESP3 push `invalidate [keys]`; with REDIRECT to the target,
as a push if it speaks RESP3, else a `__redis__:invalidate` message if it is subscribed to
anything; a RESP2 client without redirect gets nothing. A client's own invalidation during
its command waits until that command's reply has been written (`RedisInstance.after_reply`). A vanished
redirect target marks the client broken_redirect and, in RESP3, tells it with a
`tracking-redir-broken` push. The table holds at most `tracking-table-max-keys` keys: beyond,
the oldest are invalidated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yizhan.redis.table import Command, command_keys
from yizhan.resp import Push, Raw

CHANNEL = b"__redis__:invalidate"
_NULLS = {2: Raw(b"$-1\r\n"), 3: Raw(b"_\r\n")}  # a flush's "keys", in the tracking client's protocol


@dataclass
class TrackingState:
    """A client's CLIENT TRACKING settings (Client.tracking while tracking is on)."""
    redirect: int = 0
    bcast: bool = False
    optin: bool = False
    optout: bool = False
    noloop: bool = False
    caching: bool = False        # CLIENT CACHING YES/NO given for the next command
    broken: bool = False         # the redirect target disappeared
    prefixes: list[bytes] = field(default_factory=list)

    def flags(self) -> list[bytes]:
        flags = [b"on"]
        if self.bcast:
            flags.append(b"bcast")
        if self.optin:
            flags.append(b"optin")
            if self.caching:
                flags.append(b"caching-yes")
        if self.optout:
            flags.append(b"optout")
            if self.caching:
                flags.append(b"caching-no")
        if self.noloop:
            flags.append(b"noloop")
        if self.broken:
            flags.append(b"broken_redirect")
        return flags


_NOT_REMEMBERED = frozenset(("eval_ro", "evalsha_ro", "fcall_ro"))  # their scripts' reads are


class _Prefix:
    __slots__ = ("clients", "keys")

    def __init__(self):
        self.clients: dict = {}              # clients broadcasting this prefix
        self.keys: dict[bytes, object] = {}  # modified keys -> the client that first modified it


class Tracking:
    def __init__(self, server):
        self.server = server
        self.table: dict[bytes, dict[int, None]] = {}
        self.prefixes: dict[bytes, _Prefix] = {}
        self.clients = 0                      # clients with tracking on
        self.flushing = False
        self._broadcast_scheduled = False

    @property
    def active(self) -> bool:
        """Whether writes must report keys (someone tracks or broadcasts)."""
        return bool(self.table or self.prefixes)

    # -- CLIENT TRACKING ------------------------------------------------------------------
    def enable(self, client, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool,
               prefixes: list[bytes]) -> None:
        state = client.tracking
        if state is None:
            state = client.tracking = TrackingState()
            self.clients += 1
            self.server.observer.refresh()
        state.redirect = redirect
        state.bcast, state.optin, state.optout, state.noloop = bcast, optin, optout, noloop
        state.broken = False
        if bcast:
            for prefix in prefixes or [b""]:
                entry = self.prefixes.get(prefix)
                if entry is None:
                    entry = self.prefixes[prefix] = _Prefix()
                entry.clients[client] = None
                if prefix not in state.prefixes:
                    state.prefixes.append(prefix)
        self.server.update_change_hooks()

    def disable(self, client) -> None:
        state = client.tracking
        if state is None:
            return
        for prefix in state.prefixes:
            entry = self.prefixes.get(prefix)
            if entry is not None:
                entry.clients.pop(client, None)
                if not entry.clients:
                    del self.prefixes[prefix]
        client.tracking = None
        self.clients -= 1
        self.server.observer.refresh()
        self.server.update_change_hooks()

    # -- remembering reads -------------------------------------------------------------------
    def after_command(self, client, cmd: Command, argv: list[bytes]) -> None:
        """After each command while someone tracks: remember a read's keys for the client
        (a script's caller for the script's commands); a CLIENT CACHING answer applies to
        the next command only (outside MULTI/EXEC; CLIENT commands keep it)."""
        caller = client
        if client.in_script:
            run = self.server.script_running
            caller = run.caller if run is not None else client
        state = caller.tracking
        if state is None:
            return
        if "readonly" in cmd.flags and not state.bcast and cmd.name not in _NOT_REMEMBERED:
            self.remember(caller, [argv[position] for position, _ in command_keys(cmd, argv)])
        if (state.caching and not client.in_script and not cmd.name.startswith("client|")
                and caller.multi is None and not caller.in_exec):
            state.caching = False

    def remember(self, client, keys: list[bytes]) -> None:
        """A default-mode client read `keys` (trackingRememberKeys)."""
        state = client.tracking
        if (state.optin and not state.caching) or (state.optout and state.caching):
            return
        table = self.table
        was_active = bool(table)
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            ids[client.id] = None
        limit = self.server.int_params.int("tracking-table-max-keys")
        if limit and len(table) > limit:
            for key in list(table)[:len(table) - limit]:
                self.invalidate(key, None)
        if not was_active:
            self.server.update_change_hooks()

    # -- invalidating -------------------------------------------------------------------------
    def key_changed(self, key: bytes) -> None:
        """`key` was modified (by the current client, if any)."""
        if self.flushing:
            return
        current = self.server.current_client
        if self.prefixes:
            self._queue_broadcast(key, current)
        if key in self.table:
            self.invalidate(key, current)
            if not self.active:
                self.server.update_change_hooks()

    def invalidate(self, key: bytes, current) -> None:
        ids = self.table.pop(key)
        clients = self.server.clients
        for client_id in sorted(ids):
            target = clients.get(client_id)
            if target is None or target.tracking is None or target.tracking.bcast:
                continue
            if target is current:
                if not target.tracking.noloop:
                    self.server.after_reply.append((self._send_own, target, key))
            else:
                self.send(target, [key])

    def flush(self, clear) -> None:
        """FLUSHDB/FLUSHALL: `clear()` empties the databases without an invalidation per key
        (nor a broadcast); every tracking client learns that everything is invalid and the
        table is emptied (trackingInvalidateKeysOnFlush)."""
        self.flushing = True
        try:
            clear()
        finally:
            self.flushing = False
        if self.clients:
            self._flushed()

    def _flushed(self) -> None:
        current = self.server.current_client
        for client in list(self.server.clients.values()):
            if client.tracking is not None:
                if client is current:
                    self.server.after_reply.append((self._send_own, client, None))
                else:
                    self.send(client, None)
        self.table.clear()
        self.server.update_change_hooks()

    def _send_own(self, client, key: bytes | None) -> None:
        """The current client's own invalidation, after its command's reply."""
        if client.tracking is not None:
            self.send(client, None if key is None else [key])

    def send(self, client, keys: list[bytes] | None) -> None:
        """sendTrackingMessage: `keys` (None: everything, after a flush) to `client` or its
        redirect target."""
        state = client.tracking
        payload = _NULLS[client.proto] if keys is None else keys
        target = client
        redirected = False
        if state.redirect:
            target = self.server.clients.get(state.redirect)
            if target is None:
                state.broken = True
                if client.proto == 3:
                    client.send(Push([b"tracking-redir-broken", state.redirect]))
                return
            redirected = True
        if target.proto == 3:
            target.send(Push([b"invalidate", payload]))
        elif redirected and target.subscription_count:
            target.send([b"message", CHANNEL, payload])

    # -- BCAST ----------------------------------------------------------------------------------
    def _queue_broadcast(self, key: bytes, current) -> None:
        queued = False
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.keys.setdefault(key, current)
                queued = True
        if queued and not self._broadcast_scheduled:
            self._broadcast_scheduled = True
            self.server.call_soon(self.broadcast)

    def broadcast(self) -> None:
        """trackingBroadcastInvalidationMessages: each prefix's modified keys, sorted, to each
        of its clients (without their own writes under NOLOOP)."""
        self._broadcast_scheduled = False
        for _, entry in sorted(self.prefixes.items()):
            if not entry.keys:
                continue
            keys = sorted(entry.keys.items())
            entry.keys = {}
            for client in list(entry.clients):
                if client.tracking is None:
                    continue
                if client.tracking.noloop:
                    mine = [key for key, by in keys if by is not client]
                    if mine:
                        self.send(client, mine)
                else:
                    self.send(client, [key for key, _ in keys])

    # -- INFO ----------------------------------------------------------------------------------
    def info_stats(self) -> list[tuple[str, int]]:
        return [("tracking_total_keys", len(self.table)),
                ("tracking_total_items", sum(map(len, self.table.values()))),
                ("tracking_total_prefixes", len(self.prefixes))]

"""A client session and its sans-IO connection: bytes in, reply bytes out.

`Client` holds per-connection state (selected db, protocol version, name, auth, MULTI queue,
watched keys, subscriptions, a parked blocking command) and executes commands through the
table. `RedisConnection` parses requests and answers every complete request of one read in one
batch (pipelining); while its client is blocked it only buffers input.

`RedisConnection` has the API shape of every protocol core (AMQP's `AMQPConnection` too):
`receive(data)` takes bytes from the peer, `data_to_send()` hands over the output so far, and
`on_wakeup()` (set by the transport) says output is waiting that no `receive` call produced
(a pub/sub message, the reply of a served blocked command); `connection_lost()` ends it.
"""

from __future__ import annotations

import logging
from typing import Callable

from yizhan.redis import errors
from yizhan.redis.blocking import Blocked
from yizhan.redis.client_eviction import evict_clients
from yizhan.redis.table import BY_REQUEST_NAME, COMMANDS, Command
from yizhan.redis.used_memory import client_memory
from yizhan.resp import OK, QUEUED, ErrorReply, Many, ProtocolError, Push, Raw, RequestParser
from yizhan.resp.encoder import BULK_HEADS, SMALL_INTS, encode_into

log = logging.getLogger("yizhan.redis")

REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3  # CLIENT REPLY ON/OFF/SKIP, the skipped one
# A read longer than this is parsed and answered in slices of it (Redis's PROTO_IOBUF_LEN): the
# request objects of a whole 256 kB read alive at once left RSS megabytes higher after a
# pipelined load (bench/memory_suite.py), as freed small objects' pages stay with pymalloc.
READ_SLICE = 16384
NO_REPLY = Raw(b"")  # what a command answers under CLIENT REPLY OFF/SKIP

# Commands a RESP2 client may send while subscribed, and those MULTI runs instead of queueing.
SUBSCRIBED_MODE_COMMANDS = frozenset(
    "ping subscribe ssubscribe unsubscribe sunsubscribe psubscribe punsubscribe quit reset".split())
NOT_QUEUED = frozenset("exec discard multi watch quit reset".split())


# CMD_PROTECTED commands: the family named in the refusal, and the parameter that allows them.
PROTECTED = {"debug": ("DEBUG", "enable-debug-command"), "module|load": ("MODULE", "enable-module-command"),
             "module|loadex": ("MODULE", "enable-module-command"), "module|unload": ("MODULE", "enable-module-command")}


class Client:
    in_script = False  # True for the client a Lua state runs its scripts' commands on
    __slots__ = (
        "server", "id", "addr", "laddr", "name", "db", "proto", "authenticated", "created",
        "last_interaction", "last_command", "close_after_reply",
        "conn", "multi", "multi_error", "in_exec", "watched", "dirty_cas", "blocked",
        "subscriptions", "patterns", "shard_subscriptions", "soft_limit_since", "direct",
        "monitoring", "tracking", "reply_mode", "no_evict", "user", "logged_in", "control",
        "repl_flag", "unix_socket", "__weakref__",
    )

    def __init__(self, server, addr: str = "?:0", laddr: str = "?:0", unix_socket: bool = False):
        self.server = server
        self.unix_socket = unix_socket  # connected through unixsocket (CLIENT LIST flag U; local)
        self.id = server.next_client_id()
        self.addr = addr
        self.laddr = laddr
        self.name = b""
        self.db = server.dbs[0]
        self.proto = 2
        # ACL: the user, whether this client logged in (Redis's c->authenticated: AUTH, or the
        # default user was open when it connected), and whether it may run commands (that, or
        # the default user is open now: `Acl.refresh_auth` keeps it up to date)
        self.user = server.acl.default
        self.logged_in = self.authenticated = server.acl.default_open()
        self.created = server.clock.ms()  # wall-clock ms, as Redis's ctime and lastinteraction
        self.last_interaction = self.created
        self.last_command = "NULL"
        self.close_after_reply = False
        self.conn: RedisConnection | None = None  # None for clients of no connection (scripts, AOF loading)
        self.multi: list[tuple[Command, list[bytes]]] | None = None
        self.multi_error = False
        self.in_exec = False
        self.watched: dict[tuple[int, bytes], bool] = {}
        self.dirty_cas = False
        self.blocked: Blocked | None = None
        self.subscriptions: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard_subscriptions: dict[bytes, None] = {}
        self.soft_limit_since: float | None = None
        self.monitoring = False  # in MONITOR mode
        self.repl_flag = ""  # "S": a replica attached to us; "M": our master's link (CLIENT LIST)
        self.tracking = None  # a tracking.TrackingState while CLIENT TRACKING is on
        self.reply_mode = REPLY_ON  # CLIENT REPLY
        self.no_evict = False  # CLIENT NO-EVICT
        # Whether the connection's direct path may run this client's commands: nothing about
        # it (MONITOR mode, CLIENT REPLY, a pause, maxmemory, a restricted ACL user, a test
        # control's hook, a write refusal of replication ...) needs the checks of `execute`.
        self.control = server.control  # the test controls' command hook (yizhan.testing.control)
        self.direct = (server.pause is None and not server.int_params.int("maxmemory") and self.user.unrestricted
                       and self.control is None and server.write_refusal is None)

    # -- state ---------------------------------------------------------------------------
    def select(self, index: int) -> None:
        self.db = self.server.dbs[index]

    @property
    def subscription_count(self) -> int:
        return len(self.subscriptions) + len(self.patterns) + len(self.shard_subscriptions)

    @property
    def flags(self) -> str:
        flags = "O" if self.monitoring else self.repl_flag
        if self.subscription_count:
            flags += "P"
        if self.multi is not None:
            flags += "x"
        if self.blocked is not None:
            flags += "b"
        tracking = self.tracking
        if tracking is not None:
            flags += "t" + ("R" if tracking.broken else "") + ("B" if tracking.bcast else "")
        if self.unix_socket:
            flags += "U"
        if self.no_evict:
            flags += "e"
        return flags or "N"

    def update_direct(self) -> None:
        self.direct = (not self.monitoring and self.reply_mode == REPLY_ON and self.server.pause is None
                       and not self.server.int_params.int("maxmemory") and self.user.unrestricted
                       and self.control is None and self.server.write_refusal is None)

    def filtered(self, reply):
        """The reply that leaves under CLIENT REPLY OFF/SKIP: nothing but out-of-band pushes
        (and the OK of CLIENT REPLY ON)."""
        mode = self.reply_mode
        kind = type(reply)
        if mode == REPLY_ON or kind is Blocked or (self.proto == 3 and (kind is Push or kind is Many)):
            return reply
        if mode == REPLY_SKIP_NEXT:  # CLIENT REPLY SKIP itself: the next one is skipped
            self.reply_mode = REPLY_SKIP
        elif mode == REPLY_SKIP:
            self.reply_mode = REPLY_ON
            self.update_direct()
        return NO_REPLY

    def kill(self) -> None:
        """Drop this client now, discarding unsent output (CLIENT KILL, output limits, shutdown)."""
        self.close_after_reply = True
        self.server.unregister(self)
        conn = self.conn
        if conn is not None:
            conn.out = []
            if conn.closer is not None:
                conn.closer()

    # -- executing -----------------------------------------------------------------------
    def execute(self, argv: list[bytes]):
        """Run (or, inside MULTI, queue) one command; returns its reply value, a `Blocked`
        when it parks the client, and never raises."""
        if self.control is not None:  # a test's fault or recording (never set otherwise)
            intercepted = self.control.before_command(self, argv)
            if intercepted is not None:
                return intercepted
        cmd = BY_REQUEST_NAME.get(argv[0])
        if cmd is not None and self.multi is None and self.can_run_directly(cmd, argv):
            return self.call(cmd, argv)
        cmd = None
        try:
            cmd = self.find(argv)
            self.check_arity(cmd, argv)
            name = cmd.name.split("|")[0]
            refusal = self.protected_refusal(cmd)
            if refusal is not None:
                raise ErrorReply(refusal)
            if not self.authenticated and not cmd.no_auth:
                raise ErrorReply(errors.NOAUTH)
            if self.multi is not None and "no_multi" in cmd.flags:
                raise ErrorReply(errors.NOT_IN_MULTI)
            if not self.user.unrestricted:  # ACL: one attribute test for an unrestricted user
                refusal = self.server.acl.refuse(self, cmd, argv, "toplevel" if self.multi is None else "multi")
                if refusal is not None:
                    return self._reject(argv, refusal, cmd)
            if not self.direct and self.server.int_params.int("maxmemory") and self.out_of_memory(cmd):
                return self._reject(argv, ErrorReply(errors.OOM), cmd)  # not raised: no traceback
            refusal = self.server.write_refusal  # a read-only replica, min-replicas-to-write
            if refusal is not None and (message := refusal(self, cmd)) is not None:
                return self._reject(argv, ErrorReply(message), cmd)
            if self.proto == 2 and self.subscription_count and name not in SUBSCRIBED_MODE_COMMANDS:
                raise ErrorReply(
                    f"ERR Can't execute '{cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                    "QUIT / RESET are allowed in this context")
            if self.monitoring and cmd.touches_keyspace:
                raise ErrorReply(errors.REPLICA_KEYSPACE)
        except ErrorReply as err:
            return self._reject(argv, err, cmd)
        pause = self.server.pause
        if pause is not None and pause.covers(self, cmd):
            return pause.postpone(self, argv)
        if self.multi is not None and name not in NOT_QUEUED:
            self.multi.append((cmd, argv))
            return QUEUED
        return self.call(cmd, argv)

    def out_of_memory(self, cmd: Command) -> bool:
        """Redis's maxmemory step of processCommand: evict what the policy allows; whether
        the command must then be refused (deny-oom commands, anything queued in MULTI, an
        EXEC of deny-oom commands)."""
        if self.server.evictor.perform():
            return False
        name = cmd.name
        if self.multi is not None and name not in ("exec", "discard", "quit", "reset"):
            return True
        if name == "exec" and self.multi:
            return any("denyoom" in queued.flags for queued, _ in self.multi)
        return "denyoom" in cmd.flags

    def protected_refusal(self, cmd: Command) -> str | None:
        """Redis's protected commands (DEBUG; MODULE LOAD, LOADEX and UNLOAD): the refusal
        unless their enable-*-command parameter allows this client ("yes", or "local" for one
        on the loopback address or a Unix socket)."""
        guard = PROTECTED.get(cmd.name) or PROTECTED.get(cmd.name.partition("|")[0])
        if guard is None:
            return None
        family, param = guard
        return None if self.permitted_by(param) else errors.not_allowed(family, param)

    def permitted_by(self, param: str) -> bool:
        """Whether an enable-* parameter ("no", "yes", "local") lets this client through:
        "local" takes one on the loopback address or a Unix socket."""
        allowed = self.server.params.get(param)
        if allowed == "local":
            return self.unix_socket or self.addr.startswith(("127.0.0.1:", "::1:", "[::1]:", "/")) \
                or self.addr[:1] == ":"
        return allowed == "yes"

    def execute_while_busy(self, argv: list[bytes], run):
        """A command that arrives while a script is busy (past busy-reply-threshold): refused
        with BUSY unless it may run then (`allow_busy`: SCRIPT KILL, FUNCTION KILL, MULTI ...),
        after the checks that come first in Redis (unknown command, arity, the DEBUG refusal,
        NOAUTH)."""
        try:
            cmd = self.lookup(argv)
            refusal = self.protected_refusal(cmd)
            if refusal is not None:
                raise ErrorReply(refusal)
            if not self.authenticated and not cmd.no_auth:
                raise ErrorReply(errors.NOAUTH)
        except ErrorReply as err:
            return self._reject(argv, err)
        if "allow_busy" not in cmd.flags:
            from yizhan.redis.scripting.busy import busy_reply  # noqa: PLC0415
            return self._reject(argv, busy_reply(run))
        return self.execute(argv)

    def can_run_directly(self, cmd: Command, argv: list[bytes]) -> bool:
        """Whether a command found by its exact name needs none of `execute`'s checks beyond
        this: arity right, client authenticated, not in RESP2 subscribed mode. (MULTI is the
        caller's to check.)"""
        arity = cmd.arity
        return ((len(argv) == arity) if arity > 0 else (len(argv) >= -arity)) and self.authenticated and self.direct and not (
            self.proto == 2 and (self.subscriptions or self.patterns or self.shard_subscriptions))

    def _reject(self, argv: list[bytes], err: ErrorReply, cmd: Command | None = None) -> ErrorReply:
        """A command refused before running: it spoils an open transaction, and a refused EXEC
        ends it (Redis's rejectCommand). `cmd`: the command, if it was found."""
        err.__traceback__ = None  # the reply must not keep the frames (and `argv`) alive
        observer = self.server.observer
        observer.error(err.message)
        if cmd is not None:
            observer.rejected(cmd)
        if self.multi is not None:
            self.multi_error = True
        if argv[0].lower() == b"exec":
            return self._abort_transaction(err)
        return err

    def _abort_transaction(self, err: ErrorReply) -> ErrorReply:
        self.multi = None
        self.multi_error = False
        self.server.unwatch(self)
        reason = err.message.split(" ", 1)[1] if err.message[:1].isupper() else err.message
        return ErrorReply(f"EXECABORT Transaction discarded because of: {reason}")

    def call(self, cmd: Command, argv: list[bytes]):
        """Run a looked-up command now (EXEC runs its queue through here)."""
        self.last_command = cmd.name
        server = self.server
        server.stats.total_commands_processed += 1
        clock = server.clock
        start = clock.monotonic_ns()
        try:
            if server.aof is None:
                reply = cmd.handler(self, argv)
            else:
                reply = self._call_logged(cmd, argv)
        except Exception as exc:  # noqa: BLE001
            reply = self.failed(exc, argv)
        server.observer.ran(self, cmd, argv, reply, clock.monotonic_ns() - start)
        return reply

    def failed(self, exc: Exception, argv: list[bytes]) -> ErrorReply:
        """The reply of a command that raised: its ErrorReply, or for a bug an internal error
        (a bug must cost one reply, never the server)."""
        if isinstance(exc, ErrorReply):
            self.server.observer.error(exc.message)
            exc.__traceback__ = None  # it would keep the frames (and `argv`) alive in a cycle
            return exc
        log.error("command %r failed", argv[:1], exc_info=exc)
        self.server.observer.error("ERR")
        return ErrorReply("ERR internal error while executing the command")

    def _call_logged(self, cmd: Command, argv: list[bytes]):
        """`call` while the AOF is on: a command that changed the dataset is propagated."""
        dirty = self.server.stats.dirty
        reply = cmd.handler(self, argv)
        aof = self.server.aof
        if aof is not None:
            if type(reply) is Blocked:
                aof.park(self, cmd, argv)
            elif self.server.stats.dirty != dirty or cmd.name in aof.ALWAYS:
                aof.feed(self, cmd, argv, reply)
        return reply

    @classmethod
    def lookup(cls, argv: list[bytes]) -> Command:
        """The command (or subcommand) argv names, arity-checked; ErrorReply otherwise."""
        cmd = cls.find(argv)
        cls.check_arity(cmd, argv)
        return cmd

    @staticmethod
    def find(argv: list[bytes]) -> Command:
        """The command (or subcommand) argv names; ErrorReply if there is none."""
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is None:
            raise ErrorReply(errors.unknown_command(argv[0], argv[1:]))
        if cmd.subcommands and len(argv) > 1:
            sub = cmd.subcommands.get(argv[1].lower())
            if not cmd.lists_subcommands:  # DEBUG: the container's handler refuses a bad one
                return sub if sub is not None and sub.arity_fits(len(argv)) else cmd
            if sub is None:
                raise ErrorReply(errors.unknown_subcommand(argv[1], cmd.name))
            cmd = sub
        return cmd

    @staticmethod
    def check_arity(cmd: Command, argv: list[bytes]) -> None:
        if not cmd.arity_fits(len(argv)):
            raise ErrorReply(errors.wrong_arity(cmd.name))

    # -- blocking ------------------------------------------------------------------------
    def block(self, keys: list[bytes], timeout_ms: int, attempt: Callable, timeout_reply):
        """What a blocking handler returns when it has nothing to serve yet."""
        if self.in_exec or self.multi is not None:
            return timeout_reply
        return Blocked(self, keys, timeout_ms, attempt, timeout_reply)

    def unblock(self, reply) -> None:
        """Answer the parked command and continue with requests that arrived meanwhile."""
        self.blocked = None
        aof = self.server.aof
        if aof is not None:  # the served pop is logged (and fsynced) before its reply leaves
            aof.served(self, reply)
            aof.flush()
        self.send(reply)
        self.server.observer.unblocked(self, reply)
        if self.conn is not None:
            self.server.call_soon(self.conn.resume)

    # -- out-of-band output --------------------------------------------------------------
    def send(self, reply) -> None:
        """Out-of-band output: it joins the connection's output in order, so a push made
        while this client's own requests are answered lands after the replies of earlier
        pipelined commands."""
        conn = self.conn
        if conn is not None and not self.close_after_reply:
            conn.push(reply)

    def deliver(self, push) -> None:
        """A pub/sub message; a subscriber that stops reading is disconnected at the
        `client-output-buffer-limit pubsub` limits, as Redis does."""
        self.send(push)
        hard, soft, seconds = self.server.pubsub_buffer_limits()
        used = self.conn.output_size() if self.conn is not None else 0
        if hard and used > hard:
            self.kill()
        elif soft and used > soft:
            now = self.server.clock.monotonic()
            if self.soft_limit_since is None:
                self.soft_limit_since = now
            elif now - self.soft_limit_since > seconds:
                self.kill()
        else:
            self.soft_limit_since = None


class RedisConnection:
    """Sans-IO: `receive(data)`, then `data_to_send()`; `on_wakeup()` when output waits that
    no `receive` made; once `close_after` is set the transport sends the output and closes
    the socket (after that many seconds: always 0 for Redis, which closes at once)."""

    __slots__ = ("client", "parser", "close_after", "out", "on_wakeup", "closer", "unsent", "read_now",
                 "network")

    def __init__(self, client: Client):
        self.client = client
        client.conn = self
        self.parser = RequestParser()
        self.close_after: float | None = None
        self.out: list[bytes] = []  # output not yet handed over by `data_to_send`
        # Set by the transport: output is waiting outside `receive` (call `data_to_send`
        # soon); drop the connection now; how many bytes the transport holds unsent; read and
        # answer what the socket holds now, without waiting (a busy script serves other
        # clients through it while the event loop stands still, see scripting/busy.py).
        self.on_wakeup: Callable[[], None] | None = None
        self.closer: Callable[[], None] | None = None
        self.unsent: Callable[[], int] | None = None
        self.read_now: Callable[[], None] | None = None
        self.network = None  # the transport's protocol object (the test controls shape its output)

    # -- output ------------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        """The output so far (replies, then what came out of band, in order)."""
        out = self.out
        if not out:
            return b""
        self.out = []
        data = out[0] if len(out) == 1 else b"".join(out)
        if self.client.repl_flag == "S":  # a replica's RDB and stream (Redis's CLIENT_SLAVE)
            self.client.server.stats.total_net_repl_output_bytes += len(data)
        else:
            self.client.server.stats.total_net_output_bytes += len(data)
        return data

    def push(self, reply) -> None:
        """Out-of-band output (`Client.send`): wakes the transport when it is the first."""
        out = self.out
        first = not out
        encode_into(reply, self.client.proto, out)
        if first and self.on_wakeup is not None:
            self.on_wakeup()

    def output_size(self) -> int:
        """Output not yet sent: what waits here and in the transport."""
        return sum(map(len, self.out)) + (self.unsent() if self.unsent is not None else 0)

    # -- input -------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        if len(data) > READ_SLICE:  # one big read: answered slice by slice, as Redis reads 16 kB
            for start in range(0, len(data), READ_SLICE):
                self._receive(data[start:start + READ_SLICE])
                if self.close_after is not None:
                    return
            return
        self._receive(data)

    def _receive(self, data: bytes) -> None:
        client = self.client
        server = client.server
        server.stats.total_net_input_bytes += len(data)
        if self.parser.feed(data) > server.int_params.int("client-query-buffer-limit"):
            self._query_buffer_full()
        elif client.blocked is None:
            self.process()
        if server.client_eviction:  # maxmemory-clients (client_eviction.py)
            evict_clients(server, client_line)

    def resume(self) -> None:
        """Go on with requests that arrived while the client was blocked (scheduled when it
        is served), or that a connection adopted from the busy-script path holds."""
        if self.close_after is not None or self.client.blocked is not None:
            return
        self.process()
        if (self.out or self.close_after is not None) and self.on_wakeup is not None:
            self.on_wakeup()

    def connection_lost(self) -> None:
        self.close_after = 0.0
        self.out = []
        self.client.server.unregister(self.client)
        self.on_wakeup = self.closer = self.unsent = self.read_now = None
        self.release()  # its buffers go now, not when a garbage collection finds them

    def _query_buffer_full(self) -> None:
        """client-query-buffer-limit reached: closed unanswered and logged, as Redis does."""
        head = self.parser.head(64)
        log.warning("Closing client that reached max query buffer length: %s (qbuf initial bytes: %s)",
                    client_line(self.client).rstrip("\n"), repr_bytes(head))
        self.release()
        self.close_after = 0.0
        self.client.close_after_reply = True

    def release(self) -> None:
        """The connection is gone: drop its buffers now, not at the next garbage collection."""
        self.parser.release()

    def receive_while_busy(self, data: bytes, run) -> None:
        """Input that arrives while a script is busy: every complete request is answered
        now, BUSY for all but the commands allowed then (`Client.execute_while_busy`)."""
        client = self.client
        client.server.stats.total_net_input_bytes += len(data)
        self.parser.feed(data)
        if self.parser.buffered > client.server.int_params.int("client-query-buffer-limit"):
            self._query_buffer_full()
            return
        if client.blocked is not None:
            return
        self.parser.max_bulk = client.server.int_params.int("proto-max-bulk-len")
        out = self.out
        while not client.close_after_reply:
            self.parser.auth_required = not client.authenticated
            try:
                argv = self.parser.next_command()
            except ProtocolError as exc:
                encode_into(ErrorReply("ERR " + str(exc)), client.proto, out)
                self.close_after = 0.0
                break
            if argv is None:
                break
            encode_into(client.execute_while_busy(argv, run), client.proto, out)
        if client.close_after_reply:
            self.close_after = 0.0

    def process(self) -> None:
        """Answer every buffered request until input runs out, a command blocks, or the
        connection is to close."""
        client = self.client
        server = client.server
        stats = server.stats
        parser = self.parser
        next_commands = parser.next_commands
        blocking = server.blocking
        by_name = BY_REQUEST_NAME.get
        clock = server.clock
        clock.tick()  # the LRU clock of this batch
        client.last_interaction = clock.tick_ms  # as Redis's lastinteraction, set on a read
        now_ns = clock.monotonic_ns
        observer = server.observer
        stats_of = observer.commands.get
        after_reply = server.after_reply
        server.current_client = client
        parser.max_bulk = server.int_params.int("proto-max-bulk-len")
        out = self.out
        append = out.append
        while not client.close_after_reply:
            parser.auth_required = not client.authenticated  # Redis's limits before AUTH
            try:
                commands = next_commands()
            except ProtocolError as exc:
                encode_into(ErrorReply("ERR " + str(exc)), client.proto, out)
                self.close_after = 0.0
                break
            if not commands:
                break
            # Whether the direct path is open to this client (what `can_run_directly` and
            # `execute` check beyond the arity), and the observer's threshold: read once per
            # batch and again after any command that is not `plain` (only such a command can
            # change them), as is the count of commands processed, added up per batch.
            direct = _direct_path_open(client, server)
            quick_us = observer.quick_us
            counted = 0
            # One clock reading per command (they cost): a command's duration runs from the
            # previous one's end, so it includes encoding that one's reply.
            last_ns = now_ns()
            pending = iter(commands)
            for argv in pending:
                # The direct path: what `execute` and `call` do for a command found by its
                # exact name that passes every check, without their function calls.
                cmd = by_name(argv[0])
                if (direct and cmd is not None
                        and ((len(argv) == cmd.arity) if cmd.arity > 0 else (len(argv) >= -cmd.arity))):
                    client.last_command = cmd.name
                    plain = cmd.plain
                    if plain:
                        counted += 1
                    else:
                        stats.total_commands_processed += counted + 1
                        counted = 0
                    try:
                        reply = cmd.handler(client, argv)
                    except Exception as exc:  # noqa: BLE001  (as `call`: an error reply, never a crash)
                        reply = client.failed(exc, argv)
                    end_ns = now_ns()
                    # observer.ran(client, cmd, argv, reply, end_ns - last_ns), its common
                    # case written out
                    us = (end_ns - last_ns) // 1000
                    if us < quick_us and type(reply) is not ErrorReply and (stat := stats_of(cmd)) is not None:
                        by_us = stat.by_us
                        by_us[us] = by_us.get(us, 0) + 1
                    else:
                        observer.ran(client, cmd, argv, reply, end_ns - last_ns)
                    last_ns = end_ns
                    if not plain:
                        direct = _direct_path_open(client, server)
                        quick_us = observer.quick_us
                else:
                    if counted:
                        stats.total_commands_processed += counted
                        counted = 0
                    reply = client.execute(argv)
                    last_ns = now_ns()
                    if client.reply_mode:
                        reply = client.filtered(reply)
                    direct = _direct_path_open(client, server)
                    quick_us = observer.quick_us
                kind = type(reply)
                if kind is bytes:
                    size = len(reply)
                    out += (BULK_HEADS[size] if size < 1024 else b"$%d\r\n" % size, reply, b"\r\n")
                elif reply is OK:
                    append(b"+OK\r\n")
                elif kind is int:
                    append(SMALL_INTS[reply] if 0 <= reply < 10000 else b":%d\r\n" % reply)
                elif reply is None:
                    append(b"$-1\r\n" if client.proto == 2 else b"_\r\n")
                elif kind is Blocked:
                    client.blocked = reply
                    blocking.park(reply)
                    parser.unread(list(pending))
                    break
                else:
                    encode_into(reply, client.proto, out)
                if blocking.ready:
                    blocking.serve_ready()
                if after_reply:  # what goes to the client after its reply (tracking, MONITOR)
                    server.run_after_reply()
                if client.close_after_reply:
                    parser.unread(list(pending))
                    break
            else:
                if counted:
                    stats.total_commands_processed += counted
                continue
            if counted:
                stats.total_commands_processed += counted
            break  # blocked, or closing
        if after_reply:
            server.run_after_reply()
        server.current_client = None
        aof = server.aof
        if aof is not None:  # before the batch's replies leave: write (and fsync) its writes
            aof.flush()
        if client.close_after_reply:
            self.close_after = 0.0


def _direct_path_open(client: Client, server) -> bool:
    """Whether a command found by its exact name, with the right arity, may take the direct
    path of `RedisConnection.process` (the checks of `Client.can_run_directly`, with no
    transaction open and no AOF to log to)."""
    return (client.multi is None and server.aof is None and client.authenticated and client.direct
            and not (client.proto == 2 and (client.subscriptions or client.patterns or client.shard_subscriptions)))


def repr_bytes(data: bytes) -> str:
    """Bytes quoted as Redis's sdscatrepr quotes them in its log lines."""
    out = ['"']
    for byte in data:
        char = chr(byte)
        if char in '\\"':
            out.append("\\" + char)
        elif char in _REPR_ESCAPES:
            out.append(_REPR_ESCAPES[char])
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append("\\x%02x" % byte)
    out.append('"')
    return "".join(out)


_REPR_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}


def client_line(c) -> str:
    """The CLIENT LIST line of a client (also what Redis logs about a client it drops)."""
    now = c.server.clock.ms()
    memory = client_memory(c)
    return (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd=8 name={errors.text(c.name)} "
        f"age={(now - c.created) // 1000} idle={(now - c.last_interaction) // 1000} flags={c.flags} "
        f"db={c.db.index} sub={len(c.subscriptions)} psub={len(c.patterns)} ssub={len(c.shard_subscriptions)} "
        f"multi={len(c.multi) if c.multi is not None else -1} qbuf={memory.qbuf} qbuf-free=0 "
        f"argv-mem={memory.argv_mem} multi-mem={memory.multi_mem} rbs={memory.rbs} rbp=0 obl=0 "
        f"oll={1 if memory.omem else 0} omem={memory.omem} tot-mem={memory.total} events=r cmd={c.last_command} user={errors.text(c.user.name)} "
        f"redir={c.tracking.redirect if c.tracking is not None else -1} resp={c.proto}\n"
    )

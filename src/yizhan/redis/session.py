"""A client session and its sans-IO connection: bytes in, reply bytes out.

`Client` holds per-connection state (selected db, protocol version, name, auth) and executes
commands through the table. `RedisConnection` parses requests, answers every complete request
in one batch (pipelining), and tells the network layer when to close.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from yizhan.redis import errors
from yizhan.redis.table import COMMANDS, Command
from yizhan.resp import ErrorReply, ProtocolError, RequestParser
from yizhan.resp.encoder import encode_into

log = logging.getLogger("yizhan.redis")


class Client:
    __slots__ = (
        "server", "id", "addr", "laddr", "name", "db", "proto", "authenticated", "created",
        "last_interaction", "last_command", "lib_name", "lib_ver", "close_after_reply",
        "closer", "flags", "__weakref__",
    )

    def __init__(self, server, addr: str = "?:0", laddr: str = "?:0"):
        self.server = server
        self.id = server.next_client_id()
        self.addr = addr
        self.laddr = laddr
        self.name = b""
        self.db = server.dbs[0]
        self.proto = 2
        self.authenticated = not server.params.get("requirepass")
        self.created = time.monotonic()
        self.last_interaction = self.created
        self.last_command = "NULL"
        self.lib_name = b""
        self.lib_ver = b""
        self.close_after_reply = False
        self.closer: Callable[[], None] | None = None  # set by the network layer
        self.flags = "N"

    def select(self, index: int) -> None:
        self.db = self.server.dbs[index]

    def kill(self) -> None:
        """Close this client's connection (CLIENT KILL, limits)."""
        self.close_after_reply = True
        if self.closer is not None:
            self.closer()

    def execute(self, argv: list[bytes]):
        """Run one command; returns the reply value (errors come back as ErrorReply)."""
        try:
            cmd = self.lookup(argv)
            if not self.authenticated and "no_auth" not in cmd.flags:
                return ErrorReply(errors.NOAUTH)
            self.last_command = cmd.name
            self.server.stats.total_commands_processed += 1
            return cmd.handler(self, argv)
        except ErrorReply as err:
            self.server.stats.total_error_replies += 1
            return err
        except Exception:  # a bug must cost one reply, never the server
            log.exception("command %r failed", argv[:1])
            self.server.stats.total_error_replies += 1
            return ErrorReply("ERR internal error while executing the command")

    @staticmethod
    def lookup(argv: list[bytes]) -> Command:
        """The command (or subcommand) argv names, arity-checked; ErrorReply otherwise."""
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is None:
            raise ErrorReply(errors.unknown_command(argv[0], argv[1:]))
        if cmd.subcommands and len(argv) > 1:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                raise ErrorReply(errors.unknown_subcommand(argv[1], cmd.name))
            cmd = sub
        arity = cmd.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            raise ErrorReply(errors.wrong_arity(cmd.name))
        return cmd


class RedisConnection:
    """Sans-IO: `receive(data)` returns the bytes to send back; `closing` says to close after."""

    __slots__ = ("client", "parser", "closing")

    def __init__(self, client: Client):
        self.client = client
        self.parser = RequestParser()
        self.closing = False

    def receive(self, data: bytes) -> bytes:
        client = self.client
        parser = self.parser
        parser.feed(data)
        out: list[bytes] = []
        while not client.close_after_reply:
            try:
                argv = parser.next_command()
            except ProtocolError as exc:
                encode_into(ErrorReply("ERR " + str(exc)), client.proto, out)
                self.closing = True
                break
            if argv is None:
                break
            encode_into(client.execute(argv), client.proto, out)
        if client.close_after_reply:
            self.closing = True
        client.last_interaction = time.monotonic()
        return b"".join(out)

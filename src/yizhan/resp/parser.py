"""Request parsing, sans-IO: feed bytes, take commands (lists of bytes) out.

Multibulk requests (what every client library sends) are parsed by hiredis's C reader.
Inline requests (`PING\\r\\n` typed into telnet) are split here with Redis's quoting rules.
The parser never does I/O and never raises on its own input except `ProtocolError`, after
which the connection must be answered with the error and closed, as Redis does.
"""

from __future__ import annotations

from itertools import chain

import hiredis

INLINE_MAX = 64 * 1024
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_TYPE_BYTE = {int: ":", list: "*", type(None): "_"}
_join = b"".join
_chain = chain.from_iterable


class ProtocolError(Exception):
    """Unparseable input; `str(err)` is the message Redis sends before closing."""


class RequestParser:
    """Feed bytes with `feed`; call `next_command` until it returns None (needs more data).

    Limitation: an inline request that follows a multibulk request *in the same read* is a
    protocol error here (Redis accepts it); each kind alone, or in separate reads, is fine.
    """

    __slots__ = ("_reader", "_inline", "_partial", "_ready", "_error")

    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        self._inline = bytearray()
        # True while hiredis holds bytes not yet returned as a command (a partial request).
        # hiredis's has_data() cannot tell: it is False once a type byte has been consumed.
        self._partial = False
        self._ready: list[list[bytes]] = []  # parsed requests handed back by `unread`
        self._error: ProtocolError | None = None  # raised once the requests before it are taken

    def feed(self, data: bytes) -> None:
        if self._partial:
            self._reader.feed(data)  # the rest of a multibulk request
        elif not self._inline and data[:1] == b"*":
            self._reader.feed(data)  # multibulk requests: straight to hiredis
            self._partial = True
        else:
            self._inline += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet parsed into commands (approximate while in hiredis)."""
        return len(self._inline) + (self._reader.len() if self._partial else 0)

    def next_command(self) -> list[bytes] | None:
        """The next complete request, or None when more data is needed."""
        ready = self._ready
        if not ready:
            ready = self._ready = self.next_commands()
            if not ready:
                return None
        return ready.pop(0)

    def unread(self, commands: list[list[bytes]]) -> None:
        """Give back requests taken but not run (their client blocked): they come out first."""
        self._ready = commands + self._ready

    def next_commands(self) -> list[list[bytes]]:
        """Every complete request buffered, in order; an empty list when more data is needed.
        A protocol error is raised by the call after the one that returned the requests
        before it (they are answered first)."""
        if self._ready:
            ready = self._ready
            self._ready = []
            return ready
        if self._error is not None:
            raise self._error
        if not self._partial:
            command = self._next_command_slow()
            return [] if command is None else [command]
        # The common case: multibulk requests, taken from hiredis in one tight loop and
        # checked together (`has_data` after each: the reader holding nothing is the only
        # sure sign that no request is half-read, see `feed`).
        reader = self._reader
        gets = reader.gets
        has_data = reader.has_data
        items: list = []
        append = items.append
        try:
            while True:
                item = gets()
                if item is False:
                    break
                append(item)
                if not has_data():
                    self._partial = False
                    break
        except hiredis.ProtocolError as exc:
            self._error = ProtocolError(_translate_hiredis_error(str(exc)))
        if items:
            try:  # C loops: join refuses anything but bytes(-like) items in lists
                _join(_chain(items))
                if [] not in items:
                    return items
            except TypeError:
                pass
            commands = self._checked(items)
        else:
            commands = items
        if not commands:
            if self._error is not None:
                raise self._error
            if not self._partial:
                return self.next_commands()
        return commands

    def _checked(self, items: list) -> list[list[bytes]]:
        """The requests among hiredis's items up to the first malformed one, which becomes
        the pending error; "*0" and "*-1" are ignored, as Redis does."""
        commands = []
        for item in items:
            if type(item) is list:
                if not item:
                    continue
                for arg in item:
                    if type(arg) is not bytes:
                        self._error = _not_bulk(arg)
                        return commands
                commands.append(item)
            elif item is not None:
                self._error = ProtocolError("Protocol error: expected '*', got something else")
                return commands
        return commands

    def _next_command_slow(self) -> list[bytes] | None:
        while True:
            if self._partial:
                command = self._next_multibulk()
                if command is not None or self._partial:
                    return command
            if not self._inline:
                return None
            if self._inline[0] == 42:  # "*": hand everything to hiredis
                self._reader.feed(self._inline)
                self._inline = bytearray()
                self._partial = True
                continue
            command = self._next_inline()
            if command is None:
                return None
            if command:
                return command
            # an empty line is ignored, as Redis does

    def _next_multibulk(self) -> list[bytes] | None:
        reader = self._reader
        while True:
            try:
                item = reader.gets()
            except hiredis.ProtocolError as exc:
                raise ProtocolError(_translate_hiredis_error(str(exc))) from None
            if item is False:
                return None
            self._partial = reader.has_data()
            if type(item) is list:
                if not item:
                    if self._partial:
                        continue
                    return None  # "*0\r\n" is ignored
                for arg in item:
                    if type(arg) is not bytes:
                        raise _not_bulk(arg)
                return item
            if item is None:
                if self._partial:
                    continue
                return None  # "*-1\r\n" is ignored
            raise ProtocolError("Protocol error: expected '*', got something else")

    def _next_inline(self) -> list[bytes] | None:
        buf = self._inline
        end = buf.find(b"\n")
        if end < 0:
            if len(buf) > INLINE_MAX:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        line = bytes(buf[:end])
        del buf[: end + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        args = split_args(line)
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        return args


def _not_bulk(arg) -> ProtocolError:
    """The error for an array element that is not a bulk string."""
    return ProtocolError(f"Protocol error: expected '$', got '{_TYPE_BYTE.get(type(arg), '-')}'")


def _translate_hiredis_error(message: str) -> str:
    return "Protocol error: " + message.split(":", 1)[-1].strip().lower() if message else "Protocol error"


def split_args(line: bytes) -> list[bytes] | None:
    """Split a line as Redis's sdssplitargs does; None when quotes are unbalanced."""
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \t\n\r\v\f":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        quote = line[i] if line[i] in b"\"'" else 0
        if quote:
            i += 1
        while True:
            if i >= n:
                if quote:
                    return None  # unterminated quotes
                break
            ch = line[i]
            if quote == 34:  # double quotes: backslash escapes, \xHH
                if ch == 92 and i + 3 < n and line[i + 1] == 120 and line[i + 2] in _HEX and line[i + 3] in _HEX:
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 4
                    continue
                if ch == 92 and i + 1 < n:
                    current.append(_ESCAPES.get(line[i + 1], line[i + 1]))
                    i += 2
                    continue
                if ch == 34:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None  # closing quote must be followed by a space
                    i += 1
                    break
            elif quote == 39:  # single quotes: only \' is an escape
                if ch == 92 and i + 1 < n and line[i + 1] == 39:
                    current.append(39)
                    i += 2
                    continue
                if ch == 39:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None
                    i += 1
                    break
            elif ch in b" \t\n\r\v\f":
                break
            elif ch in b"\"'":  # a quote inside a word opens a quoted part, as in sdssplitargs
                quote = ch
                i += 1
                continue
            current.append(ch)
            i += 1
        args.append(bytes(current))

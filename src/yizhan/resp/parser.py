"""Request parsing, sans-IO: feed bytes, take commands (lists of bytes) out.

Two parsers share the stream, switching only at request boundaries:
- hiredis's C reader parses reads that start at a request boundary and hold nothing it could
  read differently from redis-server (the hot path: multibulk requests of ordinary sizes);
- `_PyParser` parses everything else exactly as redis-server 7.0's processMultibulkBuffer and
  processInlineBuffer do, with their limits and error texts in their order: inline requests,
  requests split across reads, unauthenticated clients' requests (10 arguments of 16 KiB at
  most), counts of 1,000 elements or more and bulks of 1,000,000 bytes or more (checked
  against INT_MAX and `proto-max-bulk-len`, nothing allocated for what is only announced),
  malformed headers, and RESP types other than `*` and `$`.
The parser never does I/O and never raises on its own input except `ProtocolError`, after
which the connection must be answered with the error and closed, as Redis does.
"""

from __future__ import annotations

import re
from itertools import chain

import hiredis

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE: an unterminated line or count string
MULTIBULK_MAX = 2**31 - 1  # INT_MAX
UNAUTHENTICATED_MULTIBULK_MAX = 10
UNAUTHENTICATED_BULK_MAX = 16384
PROTO_MAX_BULK_LEN = 512 * 1024 * 1024  # the default of proto-max-bulk-len

# What hiredis must not see: a header announcing an aggregate of 1,000 elements or more
# (hiredis allocates the whole list at once), a bulk length of seven digits or more (at
# least proto-max-bulk-len's minimum, 1 MiB). Bulk data can look like this too; that read
# then just takes the Python parser. The aggregate types other than `*` need a byte that
# ordinary requests seldom hold, so they are searched only when one of those bytes is in the
# read (an `in` test is a memchr; a regex with a character class walks every byte).
_HEADER_SUSPECTS = (re.compile(rb"\*\d{4}").search, re.compile(rb"\$\d{7}").search)
_RARE = b"+=(~>%|"
_RARE_BYTES = tuple(_RARE)  # as ints: `in` on an int is a memchr
# `_suspect`'s marks for reads up to `_MARKED_MAX` bytes: every ASCII digit becomes "0" (so
# "*0000" and "$0000000" stand for `_HEADER_SUSPECTS`), every rare byte becomes NUL, a NUL 1.
_MARKED_MAX = 4096
_MARKS = bytes(0 if byte in _RARE else 48 if 48 <= byte <= 57 else 1 if byte == 0 else byte for byte in range(256))
_RARE_SUSPECTS = tuple(re.compile(pattern).search for pattern in (rb">\d{4}", rb"~\d{4}", rb"%\d{4}", rb"\|\d{4}"))
# What hiredis may parse but reads differently from Redis: a line starting with a RESP type
# other than `*` and `$` (hiredis reads `+`, `=` and `(` as bulk-like strings). A bulk such
# as XREADGROUP's ">" matches too, so such a read is parsed by hiredis and then checked to
# be the exact `*`/`$` encoding of what hiredis returned (`_canonical`).
_OTHER_TYPE = re.compile(rb"\n[+=(~>%|]").search
CLEAN, PYTHON, VERIFY = 0, 1, 2  # `_suspect`'s verdicts
_CANONICAL_INT = re.compile(rb"-?[1-9][0-9]*|0")
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_join = b"".join
_chain = chain.from_iterable


class ProtocolError(Exception):
    """Unparseable input; `str(err)` is the message Redis sends before closing."""


class RequestParser:
    """Feed bytes with `feed`; call `next_commands` (or `next_command`) until it returns
    nothing (more data is needed). Set `auth_required` (the client must still AUTH: Redis's
    unauthenticated limits apply, one request is parsed at a time) and `max_bulk`
    (proto-max-bulk-len) before taking commands."""

    __slots__ = ("_reader", "_fresh", "_py", "_ready", "_error", "auth_required", "max_bulk")

    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        # Reads for hiredis, starting at a request boundary. Invariant: `_fresh` and the
        # Python parser never both hold bytes (the newer ones would otherwise jump the queue).
        self._fresh: list[bytes] = []
        self._py = _PyParser()
        self._ready: list[list[bytes]] = []  # parsed requests handed back by `unread`
        self._error: ProtocolError | None = None  # raised once the requests before it are taken
        self.auth_required = False
        self.max_bulk = PROTO_MAX_BULK_LEN

    def feed(self, data: bytes) -> int:
        """Take bytes from the peer; returns `buffered` (counted without a pass over the
        buffers in the usual case: nothing was left over from earlier reads)."""
        fresh = self._fresh
        if fresh:
            fresh.append(data)
            return self.buffered
        py = self._py
        if not py.buf and not py.argc:
            if data[:1] == b"*":
                fresh.append(data)
                return len(data)
        if data:
            py.buf += data
        return self.buffered

    @property
    def buffered(self) -> int:
        """Bytes received and not yet parsed: Redis's query buffer (arguments already parsed
        out of a request in progress are not counted, as in Redis)."""
        return sum(map(len, self._fresh)) + len(self._py.buf) - self._py.pos

    def head(self, size: int) -> bytes:
        """The first `size` bytes not yet parsed (for log lines)."""
        py = self._py
        return bytes(py.buf[py.pos:py.pos + size]) if py.buf else _join(self._fresh)[:size]

    def release(self) -> None:
        """Drop every buffer now (the client is gone)."""
        self._reader = hiredis.Reader()
        self._fresh = []
        self._py = _PyParser()
        self._ready = []

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
        """Every complete request buffered, in order (one at a time while `auth_required`);
        an empty list when more data is needed. A protocol error is raised by the call after
        the one that returned the requests before it (they are answered first)."""
        if self._ready:
            ready = self._ready
            self._ready = []
            return ready
        if self._error is not None:
            raise self._error
        py = self._py
        commands: list[list[bytes]] = []
        while True:
            if self._fresh:
                if self.auth_required:
                    py.buf += _join(self._fresh)
                    self._fresh = []
                else:
                    parsed = self._hiredis_commands()
                    if not py.buf:
                        return commands + parsed if commands else parsed
                    commands += parsed
            if not py.buf or (commands and self.auth_required):
                return commands
            py.auth_required = self.auth_required
            py.max_bulk = self.max_bulk
            try:
                parsed, rest = py.parse()
            except ProtocolError as exc:
                self._error = ProtocolError(exc.args[0])
                self.release()
                commands += exc.args[1] if exc.args[1:] else []
                if commands:  # the requests parsed before the error are answered first
                    return commands
                raise self._error from None
            commands += parsed
            if not rest:
                return commands
            self._fresh.append(rest)  # back at a boundary with clean input: hiredis again

    def _hiredis_commands(self) -> list[list[bytes]]:
        """The complete requests of the fresh reads, by hiredis. What hiredis must not parse
        (`_suspect`), a request left incomplete and anything that is not a request of bulk
        strings go to the Python parser from the start of that request."""
        fresh = self._fresh
        data = fresh[0] if len(fresh) == 1 else _join(fresh)
        self._fresh = []
        verdict = _suspect(data)
        if verdict == PYTHON:
            self._py.take(data)
            return []
        reader = self._reader
        reader.feed(data)
        items: list = []
        complete = False
        try:
            item = reader.gets()
            if item is not False and not reader.has_data():  # one request (no pipelining)
                if verdict == CLEAN and type(item) is list and item:
                    try:
                        _join(item)  # a C loop that refuses anything but bytes(-like) arguments
                    except TypeError:
                        pass
                    else:
                        return [item]
                items.append(item)
                complete = True
            elif item is not False:
                gets = reader.gets
                has_data = reader.has_data
                append = items.append
                append(item)
                while True:
                    item = gets()
                    if item is False:
                        break
                    append(item)
                    if not has_data():
                        complete = True
                        break
        except hiredis.ProtocolError:
            pass
        if complete:
            # C loops: join refuses anything but bytes(-like) arguments, and any top-level
            # item that is not a list (the scans above leave only `*` arrays at the top).
            try:
                _join(_chain(items))
            except TypeError:
                pass
            else:
                if [] not in items and (verdict == CLEAN or _canonical(items, data)):
                    return items
        else:
            self._reader = hiredis.Reader()  # mid-request or broken: start afresh later
        if verdict == VERIFY:  # what hiredis read is not known to be what Redis would read
            self._reader = hiredis.Reader()
            self._py.take(data)
            return []
        trusted = _trusted_prefix(items)
        self._py.take(data[_encoded_size(trusted):])
        return trusted


def _suspect(data: bytes) -> int:
    """PYTHON when `data` holds what hiredis must not parse (`_HEADER_SUSPECTS`,
    `_RARE_SUSPECTS`), VERIFY when hiredis's result must be checked (`_OTHER_TYPE`), CLEAN."""
    if len(data) <= _MARKED_MAX:
        # The common case by C loops: one pass marks digits and rare bytes (`_MARKS`), then
        # `find` looks for the marked headers and `in` (a memchr) for a rare byte. (A regex
        # search, or `in` with a bytes needle, costs more than the whole pass on short reads.)
        marked = data.translate(_MARKS)
        if marked.find(b"0000") >= 0 and (marked.find(b"*0000") >= 0 or marked.find(b"$0000000") >= 0):
            return PYTHON
        if 0 not in marked:
            return CLEAN
    else:
        for search in _HEADER_SUSPECTS:
            if search(data) is not None:
                return PYTHON
        if not any(map(data.__contains__, _RARE_BYTES)):
            return CLEAN
    for search in _RARE_SUSPECTS:
        if search(data) is not None:
            return PYTHON
    return CLEAN if _OTHER_TYPE(data) is None else VERIFY


def _canonical(commands: list[list[bytes]], data: bytes) -> bool:
    """Whether `data` is exactly these requests as `*N` and `$L` headers encode them (then
    Redis reads them as hiredis did)."""
    parts = []
    append = parts.append
    for args in commands:
        append(b"*%d\r\n" % len(args))
        for arg in args:
            append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return _join(parts) == data


class _PyParser:
    """Redis's own parsing loop over a buffer (processInputBuffer): inline and multibulk
    requests, one argument at a time, every limit checked when its header is read."""

    __slots__ = ("buf", "pos", "argc", "bulk", "args", "until", "auth_required", "max_bulk")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.argc = 0  # elements still to read of the multibulk request in progress
        self.bulk = -1  # the length of the bulk being read; -1 before its header
        self.args: list[bytes] = []
        self.until = 0  # parse at least up to here before handing back to hiredis
        self.auth_required = False
        self.max_bulk = PROTO_MAX_BULK_LEN

    @property
    def idle(self) -> bool:
        return not self.buf and not self.argc

    def take(self, data: bytes) -> None:
        """Parse `data` (which starts at a request boundary) up to its end at least: the
        rest of a suspect read is not searched again, so no read is searched twice."""
        self.buf += data
        self.until = len(self.buf)

    def parse(self) -> tuple[list[list[bytes]], bytes]:
        """The complete requests buffered (one at most while `auth_required`), and the bytes
        after them to hand back to hiredis (b"" to keep them). A ProtocolError carries the
        requests parsed before it as its second argument."""
        commands: list[list[bytes]] = []
        buf = self.buf
        rest = b""
        try:
            while self.pos < len(buf) or self.argc:
                if not self.argc:
                    if commands and self.auth_required:
                        break
                    if self.pos >= self.until and not self.auth_required and buf[self.pos] == 42:
                        rest = bytes(buf[self.pos:])
                        self.pos = len(buf)
                        break
                command = self._multibulk() if self.argc or buf[self.pos] == 42 else self._inline()
                if command is None:
                    break
                if command:
                    commands.append(command)
        except ProtocolError as exc:
            raise ProtocolError(str(exc), commands) if commands else exc
        self.until = max(0, self.until - self.pos)
        del buf[:self.pos]
        self.pos = 0
        return commands, rest

    def _inline(self) -> list[bytes] | None:
        buf, pos = self.buf, self.pos
        end = _find_line_end(buf, pos, 10)
        if end < 0:
            if len(buf) - pos > INLINE_MAX:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        self.pos = end + 1
        if end > pos and buf[end - 1] == 13:
            end -= 1
        args = split_args(bytes(buf[pos:end]))
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        return args  # an empty line is ignored, as Redis does

    def _multibulk(self) -> list[bytes] | None:
        buf = self.buf
        if not self.argc:
            count = self._header_number(b"mbulk count")
            if count is None:
                return None
            if count > MULTIBULK_MAX:
                raise ProtocolError("Protocol error: invalid multibulk length")
            if count > UNAUTHENTICATED_MULTIBULK_MAX and self.auth_required:
                raise ProtocolError("Protocol error: unauthenticated multibulk length")
            if count <= 0:
                return []  # "*0", "*-5": ignored, as Redis does
            self.argc = count
            self.args = []
        args = self.args
        while self.argc:
            if self.bulk < 0:
                length = self._header_number(b"bulk count")
                if length is None:
                    return None
                if length < 0 or length > self.max_bulk:
                    raise ProtocolError("Protocol error: invalid bulk length")
                if length > UNAUTHENTICATED_BULK_MAX and self.auth_required:
                    raise ProtocolError("Protocol error: unauthenticated bulk length")
                self.bulk = length
            start = self.pos
            end = start + self.bulk
            if len(buf) < end + 2:
                return None  # (the trailing CRLF is skipped unchecked, as Redis does)
            args.append(bytes(buf[start:end]))
            self.pos = end + 2
            self.bulk = -1
            self.argc -= 1
        self.args = []
        return args

    def _header_number(self, what: bytes) -> int | None:
        """The number of the `*N` / `$N` line at `pos` (consumed), None while the line is
        incomplete; Redis's errors for a line too long or a number that is not one."""
        buf, pos = self.buf, self.pos
        end = _find_line_end(buf, pos, 13)
        if end < 0:
            if len(buf) - pos > INLINE_MAX:
                raise ProtocolError(f"Protocol error: too big {what.decode()} string")
            return None
        if end + 1 >= len(buf):
            return None  # the LF is not here yet
        kind = buf[pos]
        if kind != (42 if what == b"mbulk count" else 36):
            got = bytes([kind]).decode("utf-8", "surrogateescape")
            raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
        number = _string2ll(buf[pos + 1:end])
        if number is None:
            raise ProtocolError("Protocol error: invalid multibulk length" if kind == 42
                                else "Protocol error: invalid bulk length")
        self.pos = end + 2
        return number


def _find_line_end(buf: bytearray, pos: int, byte: int) -> int:
    """Where `byte` (CR or LF) is after `pos`, as C's strchr on Redis's query buffer finds
    it: -1 when absent or when a NUL comes first."""
    end = buf.find(byte, pos)
    if buf.find(0, pos, end if end >= 0 else len(buf)) >= 0:
        return -1
    return end


def _string2ll(text: bytearray) -> int | None:
    """Redis's string2ll: a canonical decimal integer within a signed 64-bit range."""
    if len(text) > 20 or _CANONICAL_INT.fullmatch(text) is None:
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


def _trusted_prefix(items: list) -> list[list[bytes]]:
    """The leading requests made only of bulk strings (what hiredis reads as Redis does)."""
    for index, item in enumerate(items):
        if type(item) is not list or not item or any(type(arg) is not bytes for arg in item):
            return items[:index]
    return items


def _encoded_size(commands: list[list[bytes]]) -> int:
    """The bytes these requests took on the wire (`*N\\r\\n` then `$L\\r\\n<arg>\\r\\n` each:
    hiredis accepts canonical numbers only), counted by C loops."""
    args = list(_chain(commands))
    return (sum(map(len, args)) + sum(map(len, map(str, map(len, args)))) + 5 * len(args)
            + sum(map(len, map(str, map(len, commands)))) + 3 * len(commands))


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

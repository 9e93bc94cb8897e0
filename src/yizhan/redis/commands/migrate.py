"""MIGRATE: move (or COPY) keys to another instance, synchronously, as Redis 7.0's
migrateCommand (cluster.c) does.

The handler blocks on its socket, with the command's timeout, as Redis's does (it never
awaits): it sends [AUTH], [SELECT db] and one `RESTORE key ttl payload [REPLACE]` per key
(the payload is DUMP's) in one go, then reads the replies in order. A key the target
acknowledged is deleted here unless COPY, and the command reaches the AOF and the replicas as
`DEL` of exactly those keys (nothing under COPY), as Redis rewrites it. Connections are
cached per "host:port" as typed (with the database last selected on them) and closed after
10 seconds unused; a socket error on a cached connection is retried once on a new one,
unless it was a timeout. Errors are Redis's: IOERR for the socket (connecting, writing,
reading), "Target instance replied with error: ..." for the target's first error, NOKEY
(a status reply) when none of the keys exists."""

from __future__ import annotations

import errno
import select
import socket

from yizhan.redis import errors
from yizhan.redis.args import atoi, option_word, parse_int
from yizhan.redis.keyspace import GENERIC
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.aof import REWRITES, encode_command
from yizhan.redis.table import command
from yizhan.resp import OK, ErrorReply, Simple

CACHE_ITEMS = 64  # MIGRATE_SOCKET_CACHE_ITEMS
CACHE_TTL = 10  # MIGRATE_SOCKET_CACHE_TTL: seconds unused before a cached connection closes
CHUNK = 64 * 1024  # what one write sends
LINE_MAX = 1023  # Redis reads each reply line into a 1024-byte buffer

_COMPLEXITY = ("This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target "
               "instance. See the pages of these commands for time complexity. Also an O(N) data transfer "
               "between the two instances is performed.")


class SocketFailure(Exception):
    def __init__(self, timed_out: bool):
        super().__init__("timed out" if timed_out else "socket error")
        self.timed_out = timed_out


class Cached:
    """A connection to a target: its socket, the database last selected, when last used."""

    __slots__ = ("sock", "last_dbid", "last_use", "buf")

    def __init__(self, sock: socket.socket, now: float):
        self.sock, self.last_dbid, self.last_use, self.buf = sock, -1, now, bytearray()

    def write(self, data: bytes, timeout_ms: int) -> None:
        """syncWrite in 64 KB chunks: all of it within the timeout, or SocketFailure."""
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            chunk = view[start:start + CHUNK]
            while chunk:
                ready = select.select([], [self.sock], [], timeout_ms / 1000)[1]
                if not ready:
                    raise SocketFailure(timed_out=True)
                try:
                    sent = self.sock.send(chunk)
                except BlockingIOError:
                    continue
                except OSError:
                    raise SocketFailure(timed_out=False) from None
                chunk = chunk[sent:]

    def read_line(self, timeout_ms: int) -> bytes:
        """syncReadLine: one reply line (without CRLF, cut to Redis's buffer), or SocketFailure."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end]).rstrip(b"\r")
                del self.buf[:end + 1]
                return line[:LINE_MAX]
            ready = select.select([self.sock], [], [], timeout_ms / 1000)[0]
            if not ready:
                raise SocketFailure(timed_out=True)
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                raise SocketFailure(timed_out=False) from None
            if not data:
                raise SocketFailure(timed_out=False)
            self.buf += data

    def close(self) -> None:
        self.sock.close()


class SocketCache:
    """The server's cached MIGRATE connections (Redis's migrate_cached_sockets)."""

    def __init__(self, srv):
        self.srv = srv
        self.sockets: dict[bytes, Cached] = {}
        self.timer = None

    def get(self, host: bytes, port: bytes, timeout_ms: int) -> Cached:
        name = host + b":" + port
        now = self.srv.clock.monotonic()
        cached = self.sockets.get(name)
        if cached is not None:
            cached.last_use = now
            return cached
        if len(self.sockets) >= CACHE_ITEMS:  # Redis drops a random one; the oldest here
            self.close(min(self.sockets, key=lambda n: self.sockets[n].last_use))
        sock = _connect(host.split(b"\0", 1)[0].decode(errors="replace"), atoi(port), timeout_ms)
        if sock is None:
            raise ErrorReply(errors.MIGRATE_CONNECT)
        cached = self.sockets[name] = Cached(sock, now)
        if self.timer is None:
            self.timer = self.srv.call_later(CACHE_TTL + 1, self.sweep)
        return cached

    def close(self, name: bytes) -> None:
        cached = self.sockets.pop(name, None)
        if cached is not None:
            cached.close()

    def sweep(self) -> None:
        """migrateCloseTimedoutSockets: close what was unused for more than CACHE_TTL seconds."""
        self.timer = None
        now = self.srv.clock.monotonic()
        for name in [n for n, cached in self.sockets.items() if now - cached.last_use > CACHE_TTL]:
            self.close(name)
        if self.sockets:
            self.timer = self.srv.call_later(1, self.sweep)


def socket_cache(srv) -> SocketCache:
    cache = getattr(srv, "_migrate_sockets", None)
    if cache is None:
        cache = srv._migrate_sockets = SocketCache(srv)
    return cache


def _connect(host: str, port: int, timeout_ms: int) -> socket.socket | None:
    """connBlockingConnect: a non-blocking connect to the first address that takes one,
    writable within the timeout. A refused connection shows only when written to, as in
    Redis (the socket is writable at once, with its error pending)."""
    try:
        addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OverflowError, ValueError):
        return None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        code = sock.connect_ex(address)
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            continue
        if not select.select([], [sock], [], timeout_ms / 1000)[1]:
            sock.close()
            return None
        if family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        return sock
    return None


# -- the command -------------------------------------------------------------------------------
def migrate_keys(argv) -> list:
    """migrateGetKeys: the key argument, or what follows KEYS (AUTH and AUTH2 skip their
    arguments); none when KEYS comes with a non-empty key argument."""
    first, count = 3, 1
    skips = {b"COPY": 0, b"REPLACE": 0, b"AUTH": 1, b"AUTH2": 2}
    if len(argv) > 6:
        i = 6
        while i < len(argv):
            word = option_word(argv[i])
            if word == b"KEYS":
                if argv[3]:
                    return []
                first, count = i + 1, len(argv) - i - 1
                break
            i += skips.get(word, 0) + 1
    flags = ("RW", "access", "delete")
    return [(first + n, flags) for n in range(count)]


def _options(argv) -> tuple:
    copy = replace = False
    username = password = None
    first, count = 3, 1
    j = 6
    while j < len(argv):
        word, more = option_word(argv[j]), len(argv) - 1 - j
        if word == b"COPY":
            copy = True
        elif word == b"REPLACE":
            replace = True
        elif word == b"AUTH":
            if not more:
                raise ErrorReply(errors.SYNTAX)
            j += 1
            password = argv[j]
        elif word == b"AUTH2":
            if more < 2:
                raise ErrorReply(errors.SYNTAX)
            username, password = argv[j + 1], argv[j + 2]
            j += 2
        elif word == b"KEYS":
            if argv[3]:
                raise ErrorReply(errors.MIGRATE_KEYS_WITH_KEY)
            first, count = j + 1, len(argv) - j - 1
            break
        else:
            raise ErrorReply(errors.SYNTAX)
        j += 1
    return copy, replace, username, password, argv[first:first + count]


@command("MIGRATE host port key|\"\" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username "
         "password] [KEYS key [key ...]]", arity=-6, flags="write movablekeys", keys=(3, 3, 1), group="generic",
         since="2.6.0", acl="keyspace dangerous", tips="nondeterministic_output",
         summary="Atomically transfer a key from a Redis instance to another one.", complexity=_COMPLEXITY,
         history=(("3.0.0", "Added the `COPY` and `REPLACE` options."), ("3.0.6", "Added the `KEYS` option."),
                  ("4.0.7", "Added the `AUTH` option."), ("6.0.0", "Added the `AUTH2` option.")),
         key_specs="RW access delete index:3; RW access delete incomplete keyword:KEYS:-2 range:-1:1:0",
         getkeys=migrate_keys)
def migrate(c, argv):
    copy, replace, username, password, names = _options(argv)
    timeout_ms = parse_int(argv[5])
    dbid = parse_int(argv[4])
    if timeout_ms <= 0:
        timeout_ms = 1000
    db = c.db
    keys = [(key, value) for key in names if (value := db.lookup_read(key)) is not None]
    if not keys:
        return Simple("NOKEY")
    cache = socket_cache(c.server)
    migration = _Migration(c, argv, cache, dbid, timeout_ms, copy, replace, username, password)
    return migration.run(keys)


class _Migration:
    """One MIGRATE's exchange with its target (the try_again loop of migrateCommand)."""

    def __init__(self, c, argv, cache, dbid, timeout_ms, copy, replace, username, password):
        self.c, self.argv, self.cache = c, argv, cache
        self.dbid, self.timeout_ms = dbid, timeout_ms
        self.copy, self.replace, self.username, self.password = copy, replace, username, password
        self.deleted: list[bytes] = []

    def run(self, keys):
        may_retry = True
        while True:
            try:
                return self._attempt(keys)
            except _Retry as retry:
                self.cache.close(self.argv[1] + b":" + self.argv[2])
                if retry.timed_out or not may_retry:
                    return self._reply(self._failed(b"writing" if retry.writing else b"reading"))
                may_retry = False

    def _attempt(self, keys):
        cached = self.cache.get(self.argv[1], self.argv[2], self.timeout_ms)
        select_db = cached.last_dbid != self.dbid
        sent = self._send(cached, keys, select_db)
        try:
            auth_reply = cached.read_line(self.timeout_ms) if self.password is not None else b""
            select_reply = cached.read_line(self.timeout_ms) if select_db else b""
        except SocketFailure as exc:
            raise _Retry(exc.timed_out, writing=False) from None
        error = None
        db = self.c.db
        for n, key in enumerate(sent):
            try:
                reply = cached.read_line(self.timeout_ms)
            except SocketFailure as exc:
                if error is None and n == 0 and not exc.timed_out:
                    raise _Retry(False, writing=False) from None
                self.cache.close(self.argv[1] + b":" + self.argv[2])
                if error is not None:
                    return self._reply(error)
                return self._reply(self._failed(b"reading"))
            first_error = next((r for r in (auth_reply, select_reply, reply) if r[:1] == b"-"), None)
            if first_error is not None:
                if error is None:
                    cached.last_dbid = -1
                    error = ErrorReply(errors.migrate_target_error(first_error[1:]))
            elif not self.copy:
                db.remove(key)
                db.commit(key, GENERIC, "del")
                self.deleted.append(key)
        if error is not None:
            return self._reply(error)
        cached.last_dbid = self.dbid
        return self._reply(OK)

    def _send(self, cached: Cached, keys, select_db: bool) -> list[bytes]:
        """The whole request, written in 64 KB chunks; the keys sent (those still alive)."""
        out = []
        if self.password is not None:
            auth = [b"AUTH", self.username, self.password] if self.username is not None else [b"AUTH", self.password]
            out.append(encode_command(auth))
        if select_db:
            out.append(encode_command([b"SELECT", b"%d" % self.dbid]))
        db, now = self.c.db, self.c.server.clock.ms()
        compress = self.c.server.params.flag("rdbcompression")
        sent = []
        for key, value in keys:
            when = db.expires.get(key)
            ttl = 0
            if when is not None:
                ttl = when - now
                if ttl < 0:
                    continue  # expired since the lookup
                ttl = max(ttl, 1)
            restore = [b"RESTORE", key, b"%d" % ttl, rdb.dump_payload(value, compress)]
            out.append(encode_command(restore + [b"REPLACE"] if self.replace else restore))
            sent.append(key)
        try:
            cached.write(b"".join(out), self.timeout_ms)
        except SocketFailure as exc:
            raise _Retry(exc.timed_out, writing=True) from None
        return sent

    def _failed(self, what: bytes) -> ErrorReply:
        return ErrorReply(errors.migrate_io(what.decode()))

    def _reply(self, reply):
        """The reply; after keys were deleted an error is returned (not raised) so that the
        deletions still reach the AOF and the replicas as DEL."""
        if self.deleted:
            if self.c.server.aof is not None:  # the AOF's feed takes it at once (`_rw_migrate`)
                _PROPAGATE[self.c.id] = self.deleted
            if isinstance(reply, ErrorReply):
                return self.c.failed(reply, self.argv)
            return reply
        if isinstance(reply, ErrorReply):
            raise reply
        return reply


class _Retry(Exception):
    def __init__(self, timed_out: bool, writing: bool):
        super().__init__("socket error")
        self.timed_out, self.writing = timed_out, writing


_PROPAGATE: dict[int, list[bytes]] = {}  # client id -> the keys its MIGRATE just deleted


def _rw_migrate(c, argv, reply):
    """MIGRATE as Redis propagates it: DEL of the keys the target acknowledged."""
    deleted = _PROPAGATE.pop(c.id, None)
    return [[b"DEL", *deleted]] if deleted else []


REWRITES["migrate"] = _rw_migrate

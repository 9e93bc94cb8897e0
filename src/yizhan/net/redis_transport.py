"""asyncio transport for Redis clients: moves bytes between a socket and a sans-IO
`RedisConnection` (`receive`, `data_to_send`, `on_wakeup`: the shape of both protocol cores),
and pauses reading while the peer is not reading.

Output is written once per event-loop iteration, after every connection that had input was
served, as redis-server writes its replies in beforeSleep: a connection that received input or
woke (out-of-band output: pub/sub messages, served blocked commands) joins the iteration's
`WriteBatch`, whose one callback takes each one's `data_to_send()`. A client that pipelines is
woken once per batch of replies rather than once per connection served in between, which on
loopback is where most of the kernel's time per request goes. The core keeps a connection's
output in order: replies and out-of-band output join the same list."""

from __future__ import annotations

import asyncio
import os
import socket
import weakref

from yizhan.redis import admission
from yizhan.redis.session import Client, RedisConnection


def _peer_host(addr) -> str | None:
    """The peer's address as text; None for a Unix socket (its peer name is a path or empty)."""
    return addr[0] if isinstance(addr, tuple) and addr else None


def _format_addr(addr) -> str:
    if isinstance(addr, str) and addr:
        return f"{addr}:0"
    if not addr:
        return "?:0"
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WriteBatch:
    """The connections of one event loop with output pending; flushed by one `call_soon`
    callback, which the loop runs after the I/O callbacks of the current iteration."""

    __slots__ = ("loop", "pending", "__weakref__")

    def __init__(self, loop):
        self.loop = loop
        self.pending: list[RedisProtocol] = []

    def add(self, protocol: "RedisProtocol") -> None:
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append(protocol)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for protocol in pending:
            protocol.flush()


_BATCHES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriteBatch]" = weakref.WeakKeyDictionary()


def write_batch(loop) -> WriteBatch:
    batch = _BATCHES.get(loop)
    if batch is None:
        batch = _BATCHES[loop] = WriteBatch(loop)
    return batch


class RedisProtocol(asyncio.Protocol):
    __slots__ = ("instance", "transport", "conn", "client", "queued", "batch", "fd", "adopted")

    def __init__(self, instance, adopted: "BusyPeer | None" = None):
        self.instance = instance
        self.adopted = adopted  # a connection accepted while a script was busy
        self.transport = None
        self.conn = None
        self.client = None
        self.queued = False  # in the loop iteration's WriteBatch
        self.batch: WriteBatch | None = None
        self.fd = -1

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if sock is not None and transport.get_extra_info("ssl_object") is None:
            self.fd = sock.fileno()  # (a TLS connection's socket carries ciphertext: see _read_now)
        instance = self.instance
        if self.adopted is not None:
            self._adopt(self.adopted)
            return
        refused = admission.refusal(instance, _peer_host(transport.get_extra_info("peername")))
        if refused is not None:
            instance.stats.rejected_connections += 1
            transport.write(refused)
            transport.close()
            return
        self.batch = write_batch(asyncio.get_running_loop())
        peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
        unix = isinstance(local, str)
        if unix:  # a Unix socket: Redis names both ends by unixsocket as set
            peer = local = instance.params.get("unixsocket")
        client = Client(instance, _format_addr(peer), _format_addr(local), unix_socket=unix)
        self.client = client
        self.conn = RedisConnection(client)
        self._attach(self.conn)
        instance.register(client)
        if instance.on_connection is not None:  # a test control's rule for new connections
            instance.on_connection(client)

    def _adopt(self, peer: "BusyPeer") -> None:
        """Take over a connection served by `BusyPeer` while a script was busy: same client,
        same parser (with any partial request it holds)."""
        self.batch = write_batch(asyncio.get_running_loop())
        self.client, self.conn = peer.client, peer.conn
        self._attach(self.conn)
        if self.client.id not in self.instance.clients:  # closed meanwhile
            self.transport.close()
        elif self.conn.parser.buffered:
            self.conn.resume()

    def _attach(self, conn: RedisConnection) -> None:
        conn.on_wakeup = self._queue
        conn.closer = self.transport.abort
        conn.unsent = self.transport.get_write_buffer_size
        conn.read_now = self._read_now
        conn.network = self

    def _queue(self) -> None:
        """Output waits: it leaves with the loop iteration's other output (`flush`)."""
        if not self.queued:
            self.queued = True
            self.batch.add(self)

    def flush(self) -> None:
        self.queued = False
        conn, transport = self.conn, self.transport
        if transport.is_closing():
            return
        data = conn.data_to_send()
        if data:
            transport.write(data)
        if conn.close_after is not None:
            transport.close()

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            return
        conn.receive(data)
        if conn.close_after is not None:
            self.flush()
        elif not self.queued:
            self.queued = True
            self.batch.add(self)

    def _read_now(self) -> None:
        """While a script is busy the event loop is not running: read the socket directly
        (it is non-blocking), answer, and send the connection's output now: also with no new
        input, as replies made earlier in the loop iteration that started the script wait
        (Redis's processEventsWhileBlocked sends those too). A TLS connection is not read or
        written here (its socket carries ciphertext and its SSL state belongs to the transport):
        what it sends while a script is busy waits, and is served once the script ends."""
        conn = self.conn
        run = self.instance.script_running
        if conn is None or run is None or self.fd < 0 or self.transport.is_closing():
            return
        try:
            data = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            data = b""
        except OSError:
            return
        if data:  # (none at end of input: the event loop sees that once the script ends)
            conn.receive_while_busy(data, run)
            if self.transport.is_closing():  # dropped by what it sent (SHUTDOWN NOSAVE): no answer
                return
        pending = conn.data_to_send()
        if pending:
            self._write_now(pending)
        if conn.close_after is not None:
            self.transport.close()

    def _write_now(self, pending: bytes) -> None:
        """Send output while the loop is stopped: straight to the socket when the transport
        holds nothing unsent (its own writes may wait for the loop), else through the
        transport, behind what it holds."""
        if self.transport.get_write_buffer_size() == 0:
            try:
                sent = os.write(self.fd, pending)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                return
            pending = pending[sent:]
        if pending:
            self.transport.write(pending)

    def connection_lost(self, exc) -> None:
        if self.conn is not None:
            self.conn.connection_lost()

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


class BusyPeer:
    """A connection accepted while a script is busy (the event loop is not running): served
    with plain non-blocking socket calls until the script ends, then handed to the loop as
    a `RedisProtocol` that keeps its client and parser."""

    def __init__(self, instance, sock: socket.socket, addr):
        self.instance = instance
        self.sock = sock
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client = Client(instance, _format_addr(addr), _format_addr(sock.getsockname()))
        self.conn = RedisConnection(self.client)
        self.conn.read_now = self.read_now
        self.conn.closer = self.close
        self.closed = False
        instance.register(self.client)

    def read_now(self) -> None:
        run = self.instance.script_running
        if run is None or self.closed:
            return
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.conn.receive_while_busy(data, run)
        reply = self.conn.data_to_send()
        if reply and not self.closed:
            try:
                self.sock.sendall(reply)  # small replies; a full socket buffer waits here
            except OSError:
                self.close()
        if self.conn.close_after is not None:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.instance.unregister(self.client)
            self.conn.release()
            self.sock.close()


class BusyAcceptor:
    """`RedisInstance.poll_while_busy` and `after_busy` for one listening socket: accept the
    connections that arrive while a script is busy (they get BUSY like everyone else), and
    give them to the event loop when it ends."""

    def __init__(self, instance, listener: socket.socket, loop):
        self.instance = instance
        self.listener = listener
        self.loop = loop
        self.peers: list[BusyPeer] = []
        instance.poll_while_busy = self.poll
        instance.after_busy = self.hand_over

    def poll(self) -> None:
        instance = self.instance
        while len(instance.clients) < instance.params.int("maxclients"):
            try:
                sock, addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            refused = admission.refusal(instance, _peer_host(addr))
            if refused is not None:
                instance.stats.rejected_connections += 1
                try:
                    sock.send(refused)
                except OSError:
                    pass
                sock.close()
                continue
            self.peers.append(BusyPeer(instance, sock, addr))
            self.peers[-1].read_now()

    def hand_over(self) -> None:
        peers, self.peers = self.peers, []
        for peer in peers:
            if peer.closed:
                continue
            peer.conn.read_now = peer.conn.closer = None
            self.loop.create_task(self.loop.connect_accepted_socket(
                lambda peer=peer: RedisProtocol(self.instance, adopted=peer), peer.sock))

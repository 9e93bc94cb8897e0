"""asyncio transport for Redis clients: moves bytes between a socket and a sans-IO
`RedisConnection`, and pauses reading while the peer is not reading.

Output is written once per event-loop iteration, after every connection that had input was
served, as redis-server writes its replies in beforeSleep: a client that pipelines is woken
once per batch of replies rather than once per connection served in between, which on
loopback is where most of the kernel's time per request goes. A connection's output keeps its
order: replies and out-of-band output (pub/sub messages, served blocked commands) join the same
pending list."""

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
    if not addr:
        return "?:0"
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _nothing_buffered() -> int:
    return 0


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
    __slots__ = ("instance", "transport", "conn", "client", "out", "batch", "fd", "adopted")

    def __init__(self, instance, adopted: "BusyPeer | None" = None):
        self.instance = instance
        self.adopted = adopted  # a connection accepted while a script was busy
        self.transport = None
        self.conn = None
        self.client = None
        self.out: list[bytes] = []  # output not yet handed to the transport
        self.batch: WriteBatch | None = None
        self.fd = -1

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if sock is not None:
            self.fd = sock.fileno()
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
        client = Client(instance, _format_addr(transport.get_extra_info("peername")),
                        _format_addr(transport.get_extra_info("sockname")))
        self._attach(client)
        instance.register(client)
        self.client = client
        self.conn = RedisConnection(client)

    def _adopt(self, peer: "BusyPeer") -> None:
        """Take over a connection served by `BusyPeer` while a script was busy: same client,
        same parser (with any partial request it holds)."""
        self.batch = write_batch(asyncio.get_running_loop())
        self.client, self.conn = peer.client, peer.conn
        self._attach(self.client)
        if self.client.id not in self.instance.clients:  # closed meanwhile
            self.transport.close()
        elif self.conn.parser.buffered:
            self._resume()

    def _attach(self, client) -> None:
        client.closer = self.transport.abort
        client.writer = self._write
        client.buffer_size = self._buffer_size
        client.resume = self._resume
        client.read_now = self._read_now

    def _write(self, data: bytes) -> None:
        """Queue output; it leaves with the loop iteration's other output (`flush`)."""
        self.instance.stats.total_net_output_bytes += len(data)
        out = self.out
        if not out:
            self.batch.add(self)
        out.append(data)

    def flush(self) -> None:
        out = self.out
        if not out:
            return
        self.out = []
        if not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _buffer_size(self) -> int:
        """Output not yet sent: what waits here and in the transport's buffer."""
        return self.transport.get_write_buffer_size() + sum(map(len, self.out))

    def _close(self) -> None:
        self.flush()
        self.transport.close()

    def _resume(self) -> None:
        """Continue with requests that arrived while the client was blocked."""
        conn = self.conn
        if conn is None or self.transport.is_closing() or conn.client.blocked is not None:
            return
        reply = conn.process()
        if reply:
            self._write(reply)
        if conn.closing:
            self._close()

    def _read_now(self) -> None:
        """While a script is busy the event loop is not running: read the socket directly
        (it is non-blocking), write what was pending for this connection first (also with
        no new input: replies made earlier in the loop iteration that started the script,
        which Redis's processEventsWhileBlocked sends too), then the answers (BUSY for most
        commands)."""
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
        reply = b""
        if data:  # (none at end of input: the event loop sees that once the script ends)
            self.instance.stats.total_net_input_bytes += len(data)
            reply = conn.receive_while_busy(data, run)
            if self.transport.is_closing():  # dropped by what it sent (SHUTDOWN NOSAVE): no answer
                return
            self.instance.stats.total_net_output_bytes += len(reply)
        if reply or self.out:  # a reply made in the loop iteration that started the script
            self._write_now(reply)
        if conn.closing:
            self.transport.close()

    def _write_now(self, reply: bytes) -> None:
        """Send output while the loop is stopped: what was pending first, then `reply`, straight
        to the socket when the transport holds nothing unsent (its own writes may wait for the
        loop), else through the transport, behind what it holds."""
        pending = b"".join(self.out) + reply
        self.out = []
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

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            return
        self.instance.stats.total_net_input_bytes += len(data)
        reply = conn.receive(data)
        if reply:
            self._write(reply)
        if conn.closing:
            self._close()

    def connection_lost(self, exc) -> None:
        self.out = []
        if self.client is not None:
            self.instance.unregister(self.client)
            self.client.closer = None
            self.client.writer = None
            self.client.resume = None
            self.client.read_now = None
            self.client.buffer_size = _nothing_buffered
            self.conn.release()  # its buffers go now, not when a garbage collection finds them

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
        self.client.read_now = self.read_now
        self.client.closer = self.close
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
        self.instance.stats.total_net_input_bytes += len(data)
        reply = self.conn.receive_while_busy(data, run)
        if reply and not self.closed:
            self.instance.stats.total_net_output_bytes += len(reply)
            try:
                self.sock.sendall(reply)  # small replies; a full socket buffer waits here
            except OSError:
                self.close()
        if self.conn.closing:
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
            peer.client.read_now = peer.client.closer = None
            self.loop.create_task(self.loop.connect_accepted_socket(
                lambda peer=peer: RedisProtocol(self.instance, adopted=peer), peer.sock))

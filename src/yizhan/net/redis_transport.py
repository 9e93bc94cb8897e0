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
import socket
import weakref

from yizhan.redis.session import Client, RedisConnection


def _format_addr(addr) -> str:
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
    __slots__ = ("instance", "transport", "conn", "client", "out", "batch")

    def __init__(self, instance):
        self.instance = instance
        self.transport = None
        self.conn = None
        self.client = None
        self.out: list[bytes] = []  # output not yet handed to the transport
        self.batch: WriteBatch | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        instance = self.instance
        if len(instance.clients) >= instance.params.int("maxclients"):
            instance.stats.rejected_connections += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            return
        self.batch = write_batch(asyncio.get_running_loop())
        client = Client(instance, _format_addr(transport.get_extra_info("peername")),
                        _format_addr(transport.get_extra_info("sockname")))
        client.closer = transport.abort
        client.writer = self._write
        client.buffer_size = self._buffer_size
        client.resume = self._resume
        instance.register(client)
        self.client = client
        self.conn = RedisConnection(client)

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

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()

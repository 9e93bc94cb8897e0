"""asyncio transport for Redis clients: moves bytes between a socket and a sans-IO
`RedisConnection`, one write per read, and pauses reading while the peer is not reading."""

from __future__ import annotations

import asyncio
import socket

from yizhan.redis.session import Client, RedisConnection


def _format_addr(addr) -> str:
    if not addr:
        return "?:0"
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class RedisProtocol(asyncio.Protocol):
    __slots__ = ("instance", "transport", "conn", "client")

    def __init__(self, instance):
        self.instance = instance
        self.transport = None
        self.conn = None
        self.client = None

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
        client = Client(instance, _format_addr(transport.get_extra_info("peername")),
                        _format_addr(transport.get_extra_info("sockname")))
        client.closer = transport.abort
        client.writer = self._write
        client.buffer_size = transport.get_write_buffer_size
        client.resume = self._resume
        instance.register(client)
        self.client = client
        self.conn = RedisConnection(client)

    def _write(self, data: bytes) -> None:
        self.instance.stats.total_net_output_bytes += len(data)
        self.transport.write(data)

    def _resume(self) -> None:
        """Continue with requests that arrived while the client was blocked."""
        conn = self.conn
        if conn is None or self.transport.is_closing() or conn.client.blocked is not None:
            return
        reply = conn.process()
        if reply:
            self._write(reply)
        if conn.closing:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            return
        stats = self.instance.stats
        stats.total_net_input_bytes += len(data)
        reply = conn.receive(data)
        if reply:
            self._write(reply)
        if conn.closing:
            self.transport.close()

    def connection_lost(self, exc) -> None:
        if self.client is not None:
            self.instance.unregister(self.client)
            self.client.closer = None
            self.client.writer = None
            self.client.resume = None

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()

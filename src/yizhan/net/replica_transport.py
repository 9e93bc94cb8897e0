"""asyncio transport of the link to a master (redis.replication.replica.ReplicaLink, sans-IO):
connects, moves bytes both ways, closes when the core says so. A failed connection leaves
the core in its "connect" state; the replication cron tries again a second later."""

from __future__ import annotations

import asyncio
import logging
import socket

log = logging.getLogger("yizhan")


class ReplicaLinkProtocol(asyncio.Protocol):
    def __init__(self, link):
        self.link = link
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        local = transport.get_extra_info("sockname")
        if isinstance(local, tuple):
            self.link.laddr = f"{local[0]}:{local[1]}"  # the master client's laddr (CLIENT LIST)
        self.link.on_wakeup = self.flush
        self.link.connection_made()
        self.flush()

    def data_received(self, data: bytes) -> None:
        self.link.receive(data)
        self.flush()

    def flush(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        data = self.link.data_to_send()
        if data:
            transport.write(data)
        if self.link.close_now:
            transport.close()

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.link.on_wakeup = None
        self.link.connection_lost()


def connector(loop):
    """`Replication.connector` for this loop: start connecting a link's socket."""
    def connect(link) -> None:
        loop.create_task(_connect(loop, link))
    return connect


async def _connect(loop, link) -> None:
    try:
        await asyncio.wait_for(loop.create_connection(lambda: ReplicaLinkProtocol(link), link.host, link.port),
                               timeout=link.srv.params.int("repl-timeout"))
    except (OSError, asyncio.TimeoutError) as exc:
        log.warning("Error condition on socket for SYNC: %s", getattr(exc, "strerror", None) or exc)
        link.connection_failed()

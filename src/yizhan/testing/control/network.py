"""Network faults: drop connections now (a clean close or a TCP reset), stop listening and
listen again on the same port ("down"/"up": clients get connection refused, the server keeps
its state), and shape a connection's output (delay, tiny pieces, a bandwidth cap, a stall).

Shaping replaces the protocol object's transport with a `ShapedTransport` for the shaped
connections only; every other connection writes as before. Network time is real time (the
loop's), not the server clock."""

from __future__ import annotations

import asyncio
import socket
import struct

from yizhan.testing.control.targets import Target, amqp_name, redis_name


class ShapedTransport:
    """A transport whose writes leave `delay` seconds late, in pieces of at most `chunk`
    bytes, at most `rate` bytes per second, or not at all while `stalled`; everything else is
    the real transport's. Closing waits for the held output, as a real close does."""

    def __init__(self, transport, loop, delay: float = 0.0, chunk: int | None = None,
                 rate: int | None = None, stalled: bool = False):
        self.real = transport
        self.loop = loop
        self.delay, self.chunk, self.rate, self.stalled = delay, chunk, rate, stalled
        self.queue: list[list] = []   # [due time, bytes]
        self.pump_handle = None
        self.close_pending = False

    def __getattr__(self, name):
        return getattr(self.real, name)

    def write(self, data: bytes) -> None:
        if data:
            self.queue.append([self.loop.time() + self.delay, bytes(data)])
            self._pump()

    def writelines(self, chunks) -> None:
        self.write(b"".join(chunks))

    def get_write_buffer_size(self) -> int:
        return self.real.get_write_buffer_size() + sum(len(item[1]) for item in self.queue)

    def is_closing(self) -> bool:
        return self.close_pending or self.real.is_closing()

    def close(self) -> None:
        self.close_pending = True
        self._pump()

    def _pump(self) -> None:
        if self.pump_handle is not None or self.stalled or self.real.is_closing():
            return
        while self.queue:
            due, data = self.queue[0]
            wait = due - self.loop.time()
            if wait > 0:
                self.pump_handle = self.loop.call_later(wait, self._pumped)
                return
            size = len(data)
            if self.chunk:
                size = min(size, self.chunk)
            if self.rate:
                size = min(size, max(1, self.rate // 100))  # a slice per 10 ms
            self.real.write(data[:size])
            if size < len(data):
                self.queue[0][1] = data[size:]
            else:
                self.queue.pop(0)
            if self.chunk or self.rate:
                pause = 0.01 if self.rate else 0.0
                self.pump_handle = self.loop.call_later(pause, self._pumped)
                return
        if self.close_pending:
            self.real.close()

    def _pumped(self) -> None:
        self.pump_handle = None
        self._pump()

    def release(self) -> None:
        """Back to plain writes: what is held goes out now."""
        self.stalled = False
        if self.pump_handle is not None:
            self.pump_handle.cancel()
            self.pump_handle = None
        if not self.real.is_closing():
            for _, data in self.queue:
                self.real.write(data)
        self.queue.clear()
        if self.close_pending:
            self.real.close()


class Network:
    def __init__(self, runtime):
        self.runtime = runtime
        self.down_ports: dict[str, int] = {}   # protocol -> the port it listened on

    # -- which connections ---------------------------------------------------------------
    def redis_clients(self, target: Target):
        if not target.wants("redis"):
            return []
        return [client for client in list(self.runtime.redis.clients.values())
                if client.conn is not None and client.conn.network is not None
                and target.matches_client(redis_name(client), client.addr)]

    def amqp_connections(self, target: Target):
        if not target.wants("amqp"):
            return []
        return [conn for conn in list(self.runtime.broker.connections)
                if getattr(conn, "network", None) is not None
                and target.matches_client(amqp_name(conn), conn.peer)]

    def protocols(self, target: Target) -> list:
        found = [client.conn.network for client in self.redis_clients(target)]
        found += [conn.network for conn in self.amqp_connections(target)]
        if target.count is not None:
            found = found[:target.count]
        return found

    # -- drop ----------------------------------------------------------------------------
    def drop(self, target: Target, reset: bool = False) -> int:
        """Close the matching connections now (`reset`: with a TCP RST, as a crashed peer or a
        middlebox does; else a plain FIN); unsent output is discarded."""
        dropped = 0
        for protocol in self.protocols(target):
            transport = protocol.transport
            transport = getattr(transport, "real", transport)
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            dropped += 1
        return dropped

    # -- down / up -----------------------------------------------------------------------
    def down(self, protocol: str | None = None, drop: bool = True, seconds: float | None = None) -> list[str]:
        """Stop listening (new connections are refused) and, with `drop`, close the open
        ones; the data stays. `up` listens again on the same port; with `seconds`, that
        happens by itself after so much real time."""
        names = [name for name in ("redis", "amqp") if protocol in (None, name)]
        done = []
        for name in names:
            if name in self.down_ports:
                continue
            port = self.runtime.stop_listening(name)
            if port is None:
                continue
            self.down_ports[name] = port
            done.append(name)
            if drop:
                self.drop(Target(protocol=name))
        if seconds is not None and done:
            asyncio.get_running_loop().call_later(float(seconds), lambda: [self.up(name) for name in done])
        return done

    def up(self, protocol: str | None = None) -> list[str]:
        done = []
        for name in [name for name in ("redis", "amqp") if protocol in (None, name)]:
            port = self.down_ports.pop(name, None)
            if port is None:
                continue
            self.runtime.listen_again(name, port)
            done.append(name)
        return done

    # -- shaping -------------------------------------------------------------------------
    def shape(self, target: Target, delay: float = 0.0, chunk: int | None = None,
              rate: int | None = None, stall: bool = False) -> int:
        """Shape the output of the matching open connections (see ShapedTransport)."""
        loop = asyncio.get_running_loop()
        shaped = 0
        for protocol in self.protocols(target):
            current = protocol.transport
            if isinstance(current, ShapedTransport):
                current.release()
                current = current.real
            protocol.transport = ShapedTransport(current, loop, delay, chunk, rate, stall)
            shaped += 1
        return shaped

    def unshape(self, target: Target | None = None) -> int:
        released = 0
        for protocol in self.protocols(target or Target()):
            current = protocol.transport
            if isinstance(current, ShapedTransport):
                current.release()
                protocol.transport = current.real
                released += 1
        return released

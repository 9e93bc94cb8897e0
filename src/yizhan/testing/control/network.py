"""Network faults: drop connections now (a clean close or a TCP reset), stop listening and
listen again on the same port ("down"/"up": clients get connection refused, the server keeps
its state), refuse the connections of chosen client addresses (each is reset as it is
accepted), and shape a connection's output (delay, tiny pieces, a bandwidth cap, a stall).

Refusals and shapes are rules: they stay until removed and reach the connections accepted
after they were installed (through `AcceptHooks`, by protocol and client address: a client's
name is not known yet when it connects) as well as the matching open ones. Shaping replaces
the protocol object's transport with a `ShapedTransport` for the shaped connections only;
every other connection writes as before. Network time is real time (the loop's), not the
server clock."""

from __future__ import annotations

import asyncio
import socket
import struct

from yizhan.testing.control.connections import AcceptHooks
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
    def __init__(self, runtime, hooks: AcceptHooks):
        self.runtime = runtime
        self.hooks = hooks
        self.down_ports: dict[str, int] = {}   # protocol -> the port it listened on
        self.refusals: list[Target] = []       # client addresses whose connections are reset
        self.shapes: list[tuple] = []          # (Target, delay, chunk, rate, stall)

    # -- rules for accepted connections -------------------------------------------------
    def _update_hooks(self) -> None:
        self.hooks.set("refuse", self._refuse_new if self.refusals else None)
        self.hooks.set("shape", self._shape_new if self.shapes else None)

    @staticmethod
    def _identity(protocol: str, connection) -> tuple:
        """(client name, address, protocol object) of an accepted connection."""
        if protocol == "redis":
            return redis_name(connection), connection.addr, connection.conn.network
        return amqp_name(connection), connection.peer, connection.network

    def _refuse_new(self, protocol: str, connection) -> bool:
        name, addr, network = self._identity(protocol, connection)
        for target in self.refusals:
            if target.wants(protocol) and target.matches_client(name, addr) and target.take():
                _reset(network.transport)
                return True
        return False

    def _shape_new(self, protocol: str, connection) -> bool:
        name, addr, network = self._identity(protocol, connection)
        for target, delay, chunk, rate, stall in reversed(self.shapes):  # the newest rule wins
            if target.wants(protocol) and target.matches_client(name, addr):
                network.transport = ShapedTransport(network.transport, asyncio.get_running_loop(),
                                                    delay, chunk, rate, stall)
                return False
        return False

    def refuse(self, target: Target, seconds: float | None = None) -> int:
        """Reset every connection from the matching client addresses as it is accepted (the
        listener stays open for everyone else), and drop the open ones; until `up` names
        the same client (or after `seconds` of real time)."""
        self.refusals.append(target)
        self._update_hooks()
        if seconds is not None:
            asyncio.get_running_loop().call_later(float(seconds), self._lift, target)
        return self.drop(Target(target.protocol, target.client), reset=True)

    def _lift(self, target: Target) -> None:
        if target in self.refusals:
            self.refusals.remove(target)
            self._update_hooks()

    def lift_refusals(self, protocol: str | None = None, client: str | None = None) -> int:
        kept = [target for target in self.refusals
                if not (protocol in (None, target.protocol) and client in (None, target.client))]
        lifted = len(self.refusals) - len(kept)
        self.refusals = kept
        self._update_hooks()
        return lifted

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
                _reset(transport)
            else:
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

    def up(self, protocol: str | None = None, client: str | None = None, lift: bool = True) -> list[str]:
        """Lift the refusals of `client` (None: every one of `protocol`; `lift` False: none)
        and, without a client, listen again (`protocol`, or both); the protocols listening
        again."""
        if lift:
            self.lift_refusals(protocol, client)
        done = []
        if client is not None:
            return done
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
        """Shape the output of the matching open connections (see ShapedTransport), and of
        the matching ones accepted later, until `unshape`; how many open ones."""
        loop = asyncio.get_running_loop()
        self.shapes.append((target, delay, chunk, rate, stall))
        self._update_hooks()
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
        target = target or Target()
        self.shapes = [rule for rule in self.shapes
                       if not (target.protocol in (None, rule[0].protocol)
                               and target.client in (None, rule[0].client))]
        self._update_hooks()
        released = 0
        for protocol in self.protocols(target):
            current = protocol.transport
            if isinstance(current, ShapedTransport):
                current.release()
                protocol.transport = current.real
                released += 1
        return released


def _reset(transport) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()

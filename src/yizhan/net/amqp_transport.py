"""asyncio transport for AMQP clients: moves bytes between a socket and a sans-IO
`AMQPConnection`, flushes what the connection produced (in one write per read, or once per
loop iteration for deliveries caused by other connections), drives its timers (handshake
timeout, heartbeats every heartbeat/2 seconds, on the server clock: a test that moves the clock
fires them) and closes the socket when it asks.

Backpressure: while the socket's write buffer is above the high-water mark the connection is
told it is not writable (queues stop delivering to it) and reading pauses. A connection also
stops taking deliveries once one turn's output passes its own mark (connection.py); after the
flush hands those bytes to the socket it is told (`flushed`) and deliveries go on, so each
turn adds at most that much to the socket's buffer. Reading also pauses
while the connection is blocked (flow or a resource alarm: `input_gate`); when it is unblocked
the frames it had buffered are handled on the next loop turn, then reading resumes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from yizhan.amqp.connection import AMQPConnection


def _peer(transport) -> tuple[str, bool]:
    addr = transport.get_extra_info("peername")
    if not addr:
        return "?:0", True
    host, port = addr[0], addr[1]
    try:
        loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        loopback = False
    text = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return text, loopback


def _address(addr) -> str:
    if not addr:
        return "?:0"
    return f"[{addr[0]}]:{addr[1]}" if ":" in addr[0] else f"{addr[0]}:{addr[1]}"


class AMQPProtocol(asyncio.Protocol):
    __slots__ = ("broker", "transport", "conn", "loop", "clock_timers", "handshake_timer", "heartbeat_timer",
                 "close_timer", "flush_scheduled", "closing", "write_paused", "input_held",
                 "reading_paused")

    def __init__(self, broker):
        self.broker = broker
        self.transport = None
        self.conn = None
        self.loop = None
        self.clock_timers = None
        self.handshake_timer = None
        self.heartbeat_timer = None
        self.close_timer = None
        self.flush_scheduled = False
        self.closing = False
        self.write_paused = False
        self.input_held = False
        self.reading_paused = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.clock_timers = self.broker.timers.loop  # timers on the server clock (ClockScheduler)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer, loopback = _peer(transport)
        conn = AMQPConnection(self.broker, peer, loopback)
        conn.local = _address(transport.get_extra_info("sockname"))
        conn.ssl = transport.get_extra_info("ssl_object") is not None
        conn.on_wakeup = self._schedule_flush
        conn.closer = transport.abort
        conn.input_gate = self._input_gate
        conn.network = self  # (the test controls shape its output)
        if self.broker.on_connection is not None:  # a test control's rule for new connections
            self.broker.on_connection(conn)
        self.conn = conn
        self.handshake_timer = self.clock_timers.call_later(self.broker.limits.handshake_timeout,
                                                    self._handshake_timeout)

    # -- output -------------------------------------------------------------------------------
    def _schedule_flush(self) -> None:
        if not self.flush_scheduled and not self.closing:
            self.flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self.flush_scheduled = False
        conn = self.conn
        if conn is None or self.closing:
            return
        data = conn.data_to_send()
        if data:
            self.transport.write(data)  # may call pause_writing at once
            if conn.out_full:
                conn.flushed()  # deliveries resume; their output waits for the next flush
        if conn.close_after is not None:
            self._close(conn.close_after)
        elif conn.close_deadline is not None and self.close_timer is None:
            self.close_timer = self.clock_timers.call_later(conn.close_deadline, self._close_ok_overdue)

    def _close_ok_overdue(self) -> None:
        self.close_timer = None
        self._close(0)

    def _close(self, delay: float) -> None:
        if self.closing:
            return
        self.closing = True
        self._cancel_timers()
        if delay > 0:
            self.transport.pause_reading()
            self.loop.call_later(delay, self.transport.close)
        else:
            self.transport.close()

    # -- input --------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None or self.closing:
            return
        was_tuned = conn.heartbeat
        conn.receive(data)
        if conn.heartbeat and not was_tuned and conn.state != "dead":
            self._start_heartbeats()
        self._flush()

    # -- timers -------------------------------------------------------------------------------
    def _handshake_timeout(self) -> None:
        self.handshake_timer = None
        conn = self.conn
        if conn is None or self.closing:
            return
        conn.handshake_timeout()
        if conn.close_after is not None:
            self._flush()

    def _start_heartbeats(self) -> None:
        if self.heartbeat_timer is None:
            self.heartbeat_timer = self.clock_timers.call_later(self.conn.heartbeat / 2, self._heartbeat)

    def _heartbeat(self) -> None:
        self.heartbeat_timer = None
        conn = self.conn
        if conn is None or self.closing or conn.close_deadline is not None:
            return
        if not conn.tick():
            self._close(0)
            return
        self._flush()
        if not self.closing:
            self.heartbeat_timer = self.clock_timers.call_later(conn.heartbeat / 2, self._heartbeat)

    def _cancel_timers(self) -> None:
        for timer in (self.handshake_timer, self.heartbeat_timer, self.close_timer):
            if timer is not None:
                timer.cancel()
        self.handshake_timer = self.heartbeat_timer = self.close_timer = None

    # -- lifecycle and flow -------------------------------------------------------------------
    def connection_lost(self, exc) -> None:
        self.closing = True
        self._cancel_timers()
        if self.conn is not None:
            self.conn.on_wakeup = None
            self.conn.closer = None
            self.conn.connection_lost()

    def pause_writing(self) -> None:
        if self.conn is not None:
            self.conn.pause_writing()
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update_reading()
        if self.conn is not None:
            self.conn.resume_writing()
            self._flush()

    def _input_gate(self, held: bool) -> None:
        """The connection blocked (held) or was unblocked."""
        self.input_held = held
        if held:
            self._update_reading()
        else:
            self.loop.call_soon(self._resume_input)

    def _resume_input(self) -> None:
        conn = self.conn
        if conn is None or self.closing or self.input_held:
            return
        conn.resume()  # the frames read before it blocked
        self._update_reading()
        self._flush()

    def _update_reading(self) -> None:
        if self.closing:
            return
        paused = self.write_paused or self.input_held
        if paused != self.reading_paused:
            self.reading_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

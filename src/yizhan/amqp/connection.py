"""One AMQP connection, sans-IO: bytes in through `receive`, bytes out through `data_to_send`.

It owns the protocol header check, the handshake (start, login, tune, open), channel 0, the
routing of frames to channels, heartbeats and the closing sequence, as rabbit_reader does:

* a wrong protocol header is answered with the 0-9-1 header and the socket closed;
* an error before the connection is open closes the socket silently after a delay (3 s), except
  a refused login when the client announced authentication_failure_close (connection.close 403
  first) and an unknown vhost (connection.close 530);
* a hard error afterwards sends connection.close and waits for close-ok, ignoring everything
  else; framing errors (bad frame end, oversized frame) close the socket 3 s after the close.

Output is bounded per connection: once the bytes produced for the socket since the last flush
pass `OUTPUT_HIGH_WATER` the connection counts as not writable at once, exactly as when the
socket's buffer is full (`pause_writing`), so queues park its consumers; it becomes writable
again when the transport has taken the bytes (`flushed`) and its socket is not full. Without
this a no-ack consumer on a long (paged) queue would pull the whole queue into one loop turn's
output (RabbitMQ's writer and TCP backpressure throttle such a consumer).

Throttling follows rabbit_reader: while the connection has a reason to block (a queue's flow,
amqp/flow.py; a resource alarm, amqp/alarms.py) its next content frame blocks it: frames after
that one stay unread in the buffer, the transport stops reading (`input_gate`), and
connection.blocked is sent (alarms only, to clients with the capability); when the last reason
goes, connection.unblocked follows if blocked was sent and the buffered frames are handled.

The transport (net/amqp_transport.py) moves bytes in the shape both protocol cores share
(`receive`, then `data_to_send`; `on_wakeup` when output appears outside `receive`; see
docs/ARCHITECTURE.md), calls `tick` every heartbeat/2 seconds, and closes the socket when
`close_after` is set.
"""

from __future__ import annotations

import logging

from pamqp import commands as spec

from yizhan.amqp import codec, errors
from yizhan.amqp.channel import Channel
from yizhan.amqp.codec import FieldTable, new
from yizhan.amqp.erlang import Atom

log = logging.getLogger("yizhan.amqp")
Conn = spec.Connection
RUNNING = "running"
HANDSHAKE_STATES = ("starting", "securing", "tuning", "opening")
OPEN_IDS = codec.SPEC_OF[Conn.Open].ids
PUBLISH_INDEX = spec.Basic.Publish.index
ACK_INDEX = spec.Basic.Ack.index
OUTPUT_HIGH_WATER = 256 * 1024  # bytes of output in one turn before deliveries stop
_head = codec.FRAME_HEADER_STRUCT
_uint = codec.UINT_STRUCT
_ulong = codec.ULONG_STRUCT
_content_head = codec.CONTENT_HEADER_STRUCT
METHOD, HEADER, BODY, END, BASIC = (codec.FRAME_METHOD, codec.FRAME_HEADER, codec.FRAME_BODY,
                                    codec.FRAME_END, codec.BASIC_CLASS)


class AMQPConnection:
    def __init__(self, broker, peer: str = "127.0.0.1:0", loopback: bool = True):
        self.broker = broker
        self.peer = peer
        self.local = ""                 # set by the transport: "ip:port" of our end
        self.ssl = False                # set by the transport: TLS (AMQPS)
        self.mechanism = ""             # PLAIN or AMQPLAIN, once connection.start-ok came
        self.recv_oct = self.recv_cnt = self.send_oct = self.send_cnt = 0  # bytes and reads/writes
        self.loopback = loopback
        self.connected_at = broker.timers.clock.ms()
        self.id = broker.next_connection_id
        broker.next_connection_id += 1
        self.state = "header"
        self.reader = codec.FrameReader(codec.FRAME_MIN_SIZE)
        self.out: list[bytes] = []
        self.channels: dict[int, Channel] = {}
        self.exclusive_queues: set = set()
        self.client_properties = FieldTable()
        self.capabilities = FieldTable()
        self.user = None
        self.vhost = None
        self.channel_max = 0
        self.frame_max = codec.FRAME_MIN_SIZE
        self.heartbeat = 0
        self.writable = True            # neither reason below: queues may deliver to it
        self.socket_full = False        # the transport's buffer is above its high-water mark
        self.out_full = False           # out_bytes passed OUTPUT_HIGH_WATER since the last flush
        self.out_bytes = 0
        self.receiving = False
        self.on_wakeup = None          # set by the transport: output is waiting outside receive()
        self.closer = None          # set by the transport: drop the socket now
        self.close_after: float | None = None  # the transport closes the socket after this delay
        self.close_deadline: float | None = None  # after our connection.close: wait this long
        self.sent_since_tick = False
        self.received_since_tick = False
        self.silent_ticks = 0
        self.released = False
        self.flow_queues: set = set()   # queues holding this publisher (flow.py)
        self.throttled = bool(broker.alarms)  # a reason to block: flow or a resource alarm
        self.should_block = False       # published while throttled: block (rabbit_reader)
        self.blocked = False            # not handling frames until every reason is gone
        self.blocked_sent = False       # connection.blocked went out (capability permitting)
        self.input_gate = None          # set by the transport: input_gate(held) stops reading
        broker.connections.add(self)
        broker.churn["connection_created"] += 1

    # -- output -------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        out = self.out
        out.append(data)
        if len(out) == 1 and not self.receiving and self.on_wakeup is not None:
            self.on_wakeup()
        self.out_bytes += len(data)
        if self.out_bytes > OUTPUT_HIGH_WATER and not self.out_full:
            self.out_full = True
            self._update_writable()

    def data_to_send(self) -> bytes:
        """The output so far, handed to the transport, which calls `flushed` once it wrote it."""
        if not self.out:
            return b""
        data = b"".join(self.out) if len(self.out) > 1 else self.out[0]
        self.out = []
        self.out_bytes = 0
        self.sent_since_tick = True
        self.send_oct += len(data)
        self.send_cnt += 1
        return data

    def flushed(self) -> None:
        """The transport wrote what `data_to_send` gave it (and said `pause_writing` if that
        filled its buffer): output over the mark no longer holds deliveries back."""
        if self.out_full and not self.out_bytes:
            self.out_full = False
            self._update_writable()

    def capability(self, name: str) -> bool:
        return self.capabilities.value(name) is True

    # -- input --------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Handle bytes from the client; replies accumulate for `data_to_send`."""
        if self.state in ("closed", "dead") or not data:
            return
        self.received_since_tick = True
        self.recv_oct += len(data)
        self.recv_cnt += 1
        self._process(data)

    def resume(self) -> None:
        """Unblocked: handle the frames that arrived while blocked."""
        if self.state not in ("closed", "dead") and not self.blocked:
            self._process(b"")

    def _process(self, data: bytes) -> None:
        self.receiving = True
        try:
            self._receive(data)
        except errors.AMQPError as error:
            self._hard_error(error)
        except errors.SilentClose as close:
            self._silent_close(close.delay)
        except Exception:  # a bug must not take the broker down: RabbitMQ's crash answer
            log.exception("AMQP connection %s: internal error", self.peer)
            self._hard_error(errors.AMQPError(errors.INTERNAL_ERROR, None, errors.NO_METHOD))
        finally:
            self.receiving = False
            self.broker.run_deferred()

    def _receive(self, data: bytes) -> None:
        reader = self.reader
        if data:
            reader.feed(data)
        if self.state == "header":
            if not self._protocol_header():
                return
        while self.state not in ("closed", "dead") and not self.blocked:
            if self.state == RUNNING:
                self._hot_frames()
            try:
                frame = reader.next()
            except codec.FrameTooLarge as e:
                self._fatal_frame_error(errors.frame_error(
                    e.frame_type, b"", (Atom("frame_too_large"), e.size, e.limit)))
                return
            except codec.BadFrameEnd as e:
                self._fatal_frame_error(errors.frame_error(
                    e.frame_type, e.payload, (Atom("invalid_frame_end_marker"), e.marker)))
                return
            if frame is None:
                return
            self._frame(*frame)
            self.broker.run_deferred()

    def _hot_frames(self) -> None:
        """The hot path: a run of basic.publish + content header + one body frame, and of
        basic.ack, on open channels, handled straight from the buffer without frame tuples,
        method objects or content assembly. It stops at anything else (another frame, an
        incomplete or oversized frame, a bad frame end, a channel that is not open or is
        assembling content, a header the assembly would refuse): the generic loop then takes
        that frame and reports any error exactly as before."""
        held = []  # the channel whose queue waits for the end of a run of acks (release_held)
        try:
            self._hot_run(held)
        finally:
            if held:
                held[0].release_held()

    def _hot_run(self, held: list) -> None:
        reader = self.reader
        buffer = reader.buffer
        pos = reader.pos
        available = len(buffer)
        channels = self.channels
        frame_max = reader.frame_max or available
        broker = self.broker
        max_message_size = broker.limits.max_message_size
        while self.state == RUNNING:
            if available - pos < 12:
                return
            frame_type, number, size = _head.unpack_from(buffer, pos)
            method_end = pos + 7 + size
            if (frame_type != METHOD or method_end >= available or size > frame_max
                    or size < 4 or buffer[method_end] != END):
                return
            channel = channels.get(number)
            if channel is None or channel.state != "open" or channel.assembling is not None:
                return
            index = _uint.unpack_from(buffer, pos + 7)[0]
            if index == ACK_INDEX and size == 13:
                tag = _ulong.unpack_from(buffer, pos + 11)[0]
                multiple = bool(buffer[pos + 19] & 1)
                reader.pos = pos = method_end + 1
                if held and held[0] is not channel:
                    held.pop().release_held()
                channel.ack(tag, multiple)
                if channel.held_queue is not None and not held:
                    held.append(channel)
            elif index == PUBLISH_INDEX:
                publish = _publish_fields(buffer[pos + 7:method_end])
                header = method_end + 1
                if publish is None or available - header < 7:
                    return
                frame_type, header_channel, header_size = _head.unpack_from(buffer, header)
                header_end = header + 7 + header_size
                if (frame_type != HEADER or header_channel != number
                        or header_size < 14 or header_size > frame_max
                        or header_end >= available or buffer[header_end] != END):
                    return
                class_id, weight, body_size = _content_head.unpack_from(buffer, header + 7)
                body = header_end + 1
                if (class_id != BASIC or weight != 0 or body_size == 0
                        or body_size > max_message_size or available - body < 7):
                    return
                frame_type, body_channel, size = _head.unpack_from(buffer, body)
                body_end = body + 7 + size
                if (frame_type != BODY or body_channel != number or size != body_size
                        or size > frame_max or body_end >= available
                        or buffer[body_end] != END or self.throttled):
                    return  # throttled: the generic loop blocks after the content header
                reader.pos = pos = body_end + 1
                if held:
                    held.pop().release_held()
                channel.publish_content(publish[0], publish[1], publish[2], publish[3],
                                        buffer[header + 19:header_end], buffer[body + 7:body_end])
            else:
                return
            if broker.deferred:
                broker.run_deferred()

    def _protocol_header(self) -> bool:
        buffered = self.reader.buffer
        if len(buffered) < 8:
            return False
        header = bytes(buffered[:8])
        if header not in (codec.PROTOCOL_HEADER, b"AMQP\x01\x01\x00\x09"):
            self.out.append(codec.PROTOCOL_HEADER)
            self.state = "closed"
            self.close_after = 0.0
            return False
        self.reader.pos = 8
        self.state = "starting"
        self.write(self.broker.start_frame())
        return True

    # -- frames -------------------------------------------------------------------------------
    def _frame(self, frame_type: int, channel: int, payload: bytes) -> None:
        if channel == 0:
            self._frame0(frame_type, payload)
            return
        if self.state == "closing":
            return
        if self.state != RUNNING:
            raise errors.unexpected_frame(frame_type, payload)
        if frame_type == codec.FRAME_METHOD:
            if len(payload) < 4:
                raise errors.frame_error(frame_type, payload, Atom("unknown_frame"))
            method_spec, method = self._decode(payload)
            self._channel(channel).handle_method_frame(method_spec, method)
        elif frame_type == codec.FRAME_HEADER:
            header = codec.parse_content_header(payload)
            if header is None:
                raise errors.frame_error(frame_type, payload, Atom("unknown_frame"))
            self._channel(channel).handle_header_frame(*header)
            if self.throttled:
                self.publish_received()
        elif frame_type == codec.FRAME_BODY:
            self._channel(channel).handle_body_frame(payload)
            if self.throttled:
                self.publish_received()
        elif frame_type == codec.FRAME_HEARTBEAT and not payload:
            raise errors.unexpected_frame(frame_type, payload)
        else:
            raise errors.frame_error(frame_type, payload, Atom("unknown_frame"))

    def _frame0(self, frame_type: int, payload: bytes) -> None:
        if frame_type == codec.FRAME_HEARTBEAT and not payload:
            return
        if frame_type == codec.FRAME_METHOD and len(payload) >= 4:
            method_spec, method = self._decode(payload)
            self._method0(method_spec, method)
            return
        if self.state == "closing":
            return
        if frame_type == codec.FRAME_BODY or (frame_type == codec.FRAME_HEADER and len(payload) >= 12):
            raise errors.unexpected_frame(frame_type, payload)
        raise errors.frame_error(frame_type, payload, Atom("unknown_frame"))

    def _decode(self, payload: bytes):
        method_spec = codec.lookup_method(payload)
        if method_spec is None:  # rabbit_reader crashes on an unknown method id
            raise errors.SilentClose("unknown method")
        try:
            return method_spec, codec.decode_method(method_spec, payload)
        except codec.DecodeError:
            raise errors.cannot_decode(payload[4:], method_spec.ids) from None
        except codec.Utf8Error:
            raise errors.malformed_utf8(errors.NO_METHOD) from None
        except codec.TableError:
            raise errors.SilentClose("unparseable field table") from None

    def _channel(self, number: int) -> Channel:
        channel = self.channels.get(number)
        if channel is None:
            if self.channel_max and len(self.channels) >= self.channel_max:
                raise errors.channel_max_reached(len(self.channels), self.channel_max)
            channel = self.channels[number] = Channel(self, number)
        return channel

    def forget_channel(self, channel: Channel) -> None:
        if self.channels.get(channel.number) is channel:
            del self.channels[channel.number]

    # -- channel 0 ----------------------------------------------------------------------------
    def _method0(self, method_spec, method) -> None:
        kind = type(method)
        state = self.state
        if state == "closing":
            if kind is Conn.Close:
                self.write(codec.method_frame(0, new(Conn.CloseOk)))
            elif kind is Conn.CloseOk:
                self._finish()
            return
        handler = HANDSHAKE.get((state, kind))
        if handler is not None:
            handler(self, method)
            return
        if state == RUNNING and kind is Conn.Close:
            self._client_close()
            return
        if state == RUNNING and kind is Conn.UpdateSecret:
            # the internal user database has no expiring credentials: RabbitMQ accepts any
            self.write(codec.method_frame(0, new(Conn.UpdateSecretOk)))
            return
        raise errors.AMQPError(errors.CHANNEL_ERROR, f"unexpected method in connection state {state}",
                               method_spec.ids)

    def _start_ok(self, method) -> None:
        self.client_properties = method.client_properties or FieldTable()
        found = self.client_properties.lookup("capabilities")
        if found is not None and found[0] is codec.TABLE:
            self.capabilities = found[1]
        self.state = "securing"
        mechanism = method.mechanism
        self.mechanism = mechanism
        if mechanism == "PLAIN":
            credentials = _plain(method.response)
        elif mechanism == "AMQPLAIN":
            credentials = _amqplain(method.response)
        else:
            raise errors.SilentClose(f"unknown authentication mechanism '{mechanism}'",
                                     self.broker.limits.silent_close_delay)
        if credentials is None:
            raise errors.SilentClose("malformed login", self.broker.limits.silent_close_delay)
        user = self.broker.check_login(*credentials)
        if user is None or (user.loopback_only and not self.loopback):
            if self.capability("authentication_failure_close"):
                error = errors.login_refused(mechanism)
                self.write(_close_frame(error))
            raise errors.SilentClose("login refused", self.broker.limits.silent_close_delay)
        self.user = user
        limits = self.broker.limits
        self.state = "tuning"
        self.write(codec.method_frame(0, new(Conn.Tune, channel_max=limits.channel_max,
                                             frame_max=limits.frame_max,
                                             heartbeat=limits.heartbeat)))

    def _tune_ok(self, method) -> None:
        limits = self.broker.limits
        if not (_negotiable(method.frame_max, codec.FRAME_MIN_SIZE, limits.frame_max)
                and _negotiable(method.channel_max, 1, limits.channel_max)):
            raise errors.SilentClose("failed to negotiate connection parameters",
                                     limits.silent_close_delay)
        self.frame_max = method.frame_max
        self.channel_max = method.channel_max
        self.heartbeat = method.heartbeat
        self.reader.frame_max = method.frame_max
        self.state = "opening"

    def _open(self, method) -> None:
        try:
            self.vhost = self.broker.open_vhost(self.user, method.virtual_host)
        except errors.AMQPError as error:
            error.method = OPEN_IDS
            self.write(_close_frame(error))
            self._await_close_ok()
            return
        self.write(codec.method_frame(0, new(Conn.OpenOk, known_hosts="")))
        self.state = RUNNING

    def _client_close(self) -> None:
        """connection.close from the client: channels go, then close-ok, then the socket."""
        self.release()
        self.out.append(codec.method_frame(0, new(Conn.CloseOk)))
        self.state = "closed"
        self.close_after = 0.0

    def _finish(self) -> None:
        self.release()
        self.state = "closed"
        self.close_after = 0.0

    # -- errors -------------------------------------------------------------------------------
    def _hard_error(self, error: errors.AMQPError) -> None:
        if self.state in HANDSHAKE_STATES or self.state == "header":
            self._silent_close(self.broker.limits.silent_close_delay)
            return
        if self.state != RUNNING:
            return
        self.release()
        self.out.append(_close_frame(error))
        self._await_close_ok()

    def close_by_server(self, error: errors.AMQPError) -> None:
        """connection.close from the server with `error` (as `rabbitmqctl close_connection`
        sends 320 CONNECTION_FORCED; the test controls' forced close), close-ok awaited."""
        self._hard_error(error)
        if self.on_wakeup is not None:
            self.on_wakeup()

    def _await_close_ok(self) -> None:
        """rabbit_reader:close_connection: close-ok is awaited for the heartbeat timeout, at
        most 30 s, before the socket is closed anyway."""
        self.state = "closing"
        self.close_deadline = float(self.heartbeat if 0 < self.heartbeat < 30 else 30)

    def _fatal_frame_error(self, error: errors.AMQPError) -> None:
        """The stream cannot be resynchronised: connection.close, then the socket, 3 s later."""
        if self.state != RUNNING:
            self._silent_close(self.broker.limits.silent_close_delay)
            return
        self.release()
        self.out.append(_close_frame(error))
        self.state = "dead"
        self.close_after = self.broker.limits.silent_close_delay

    def _silent_close(self, delay: float) -> None:
        self.release()
        self.state = "dead"
        self.close_after = delay

    # -- time ---------------------------------------------------------------------------------
    def tick(self) -> bool:
        """Called every heartbeat/2 seconds once tuned: sends a heartbeat if nothing else went
        out since the last tick; False when the peer has been silent for two heartbeat
        intervals (four ticks) and must be dropped."""
        if self.state in ("closed", "dead"):
            return True
        if not self.sent_since_tick:
            self.write(codec.HEARTBEAT_FRAME)
        self.sent_since_tick = False
        if self.received_since_tick or self.blocked:  # blocked: not reading (rabbit_heartbeat)
            self.silent_ticks = 0
        else:
            self.silent_ticks += 1
        self.received_since_tick = False
        if self.silent_ticks >= 4:
            self.release()
            self.state = "dead"
            self.close_after = 0.0
            return False
        return True

    def handshake_timeout(self) -> None:
        """rabbit_reader's handshake_timeout: not open within 10 s, the socket is closed."""
        if self.state == "header" or self.state in HANDSHAKE_STATES:
            self.release()
            self.state = "dead"
            self.close_after = 0.0

    # -- throttling (rabbit_reader's control_throttle) -----------------------------------------
    def control_throttle(self) -> None:
        """The reasons to block changed (a queue's flow, a resource alarm)."""
        self.throttled = bool(self.flow_queues or self.broker.alarms)
        if self.state != RUNNING and not self.blocked:
            return
        if self.blocked and not self.throttled:
            self.blocked = self.should_block = False
            if self.blocked_sent:
                self.blocked_sent = False
                if self.capability("connection.blocked"):
                    self.write(UNBLOCKED_FRAME)
            if self.input_gate is not None:
                self.input_gate(False)
            return
        self._maybe_block()

    def publish_received(self) -> None:
        """A content frame arrived while there is a reason to block: block now."""
        if self.throttled:
            self.should_block = True
            self._maybe_block()

    def _maybe_block(self) -> None:
        if not (self.should_block and self.throttled):
            return
        if not self.blocked:
            self.blocked = True
            if self.input_gate is not None:
                self.input_gate(True)
        alarms = self.broker.alarms
        if alarms and not self.blocked_sent:
            self.blocked_sent = True
            if self.capability("connection.blocked"):
                self.write(blocked_frame(alarms))
        elif not alarms and self.blocked_sent:
            self.blocked_sent = False
            if self.capability("connection.blocked"):
                self.write(UNBLOCKED_FRAME)

    # -- flow and teardown --------------------------------------------------------------------
    def pause_writing(self) -> None:
        """The socket's buffer is full."""
        self.socket_full = True
        self._update_writable()

    def resume_writing(self) -> None:
        self.socket_full = False
        self._update_writable()

    def _update_writable(self) -> None:
        """Writable unless the socket or this turn's output is full; becoming writable again
        lets the parked consumers of every channel rejoin their queues' lines."""
        writable = not (self.socket_full or self.out_full)
        if writable is self.writable:
            return
        self.writable = writable
        if not self.released:  # counted while not writable and not released
            self.broker.unwritable += -1 if writable else 1
        if writable:
            for channel in list(self.channels.values()):
                channel.resume_delivery()
            self.broker.run_deferred()

    def connection_lost(self) -> None:
        self.release()
        self.state = "closed"
        self.broker.run_deferred()

    def release(self) -> None:
        """Channels return their unacked messages and drop their consumers; exclusive queues
        are deleted (rabbit_reader's terminate_channels and the queue collector)."""
        if self.released:
            return
        self.released = True
        if not self.writable:  # gone while its socket was full: no longer counted
            self.broker.unwritable -= 1
        for queue in self.flow_queues:
            queue.throttled.discard(self)
        self.flow_queues.clear()
        for channel in list(self.channels.values()):
            channel.shutdown()
        self.channels.clear()
        for queue in list(self.exclusive_queues):
            queue.vhost.delete_queue(queue)
        self.exclusive_queues.clear()
        self.broker.connections.discard(self)
        self.broker.churn["connection_closed"] += 1
        self.broker.run_deferred()


_PUBLISH_CACHE: dict = {}


def _publish_fields(payload: bytes):
    """(exchange, routing key, mandatory, immediate) of a basic.publish payload, memoised (a
    publisher repeats the same few), or None when it does not decode."""
    found = _PUBLISH_CACHE.get(payload)
    if found is None:
        try:
            method = codec.decode_method(codec.SPECS[PUBLISH_INDEX], payload)
        except codec.DecodeError:
            return None
        if len(_PUBLISH_CACHE) >= 1024:
            _PUBLISH_CACHE.clear()
        found = _PUBLISH_CACHE[payload] = (method.exchange, method.routing_key, method.mandatory,
                                           method.immediate)
    return found


UNBLOCKED_FRAME = codec.method_frame(0, new(Conn.Unblocked))
ALARM_ORDER = ("disk", "memory")  # as RabbitMQ 3.10 lists both, whichever came first


def blocked_frame(alarms) -> bytes:
    """connection.blocked with rabbit_reader's reason text: "low on memory", "low on disk",
    "low on disk & memory"."""
    reason = " & ".join(name for name in ALARM_ORDER if name in alarms)
    return codec.method_frame(0, new(Conn.Blocked, reason=f"low on {reason}"))


def _close_frame(error: errors.AMQPError) -> bytes:
    class_id, method_id = error.method or errors.NO_METHOD
    return codec.method_frame(0, new(Conn.Close, reply_code=error.code,
                                     reply_text=error.reply_text, class_id=class_id,
                                     method_id=method_id))


def _negotiable(client: int, minimum: int, server: int) -> bool:
    """rabbit_reader:validate_negotiated_integer_value: 0 means unlimited on either side."""
    if client != 0 and client < minimum:
        return False
    return not (server != 0 and (client == 0 or client > server))


def _plain(response: bytes):
    """SASL PLAIN as rabbit_auth_mechanism_plain reads it: NUL user NUL password."""
    if not response.startswith(b"\x00"):
        return None
    user, sep, password = response[1:].partition(b"\x00")
    if not sep or b"\x00" in password:
        return None
    return user.decode("utf-8", "surrogateescape"), password.decode("utf-8", "surrogateescape")


def _amqplain(response: bytes):
    try:
        table = codec.decode_table(response)
    except codec.TableError:
        return None
    login, password = table.lookup("LOGIN"), table.lookup("PASSWORD")
    if login is None or password is None:
        return None
    if login[0] is not codec.LONGSTR and password[0] is not codec.LONGSTR:
        return None
    return (_text(login[1]), _text(password[1]))


def _text(value) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


HANDSHAKE = {
    ("starting", Conn.StartOk): AMQPConnection._start_ok,
    ("tuning", Conn.TuneOk): AMQPConnection._tune_ok,
    ("opening", Conn.Open): AMQPConnection._open,
}

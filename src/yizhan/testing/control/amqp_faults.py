"""AMQP faults: the server closes a channel or a connection with a chosen reply code (320
CONNECTION_FORCED, 404, 406, 541 ...), now or on the next matching client method, sends connection.blocked / connection.unblocked,
cancels consumers (basic.cancel from the server, to clients with consumer_cancel_notify),
requeues unacknowledged deliveries (redelivered), and nacks or holds publisher confirms.

Method and confirm faults are rules: each reaches every connection, open or accepted later
(through `AcceptHooks`), and matches the client (name or address) when the method runs or
the confirm is written. Confirm faults are a rewriting stage of the connection's `WriteChain`
(an instance attribute, so nothing changes for connections without a fault): a basic.ack the
server sends is a publisher confirm (it never acks anything else), which the fault turns into
a basic.nack or holds back."""

from __future__ import annotations

from pamqp.commands import Basic, Connection as Conn

from yizhan.amqp import codec, errors
from yizhan.amqp.codec import new
from yizhan.amqp.connection import RUNNING, UNBLOCKED_FRAME
from yizhan.testing.control.connections import AcceptHooks, WriteChain
from yizhan.testing.control.network import Network
from yizhan.testing.control.targets import Target, amqp_name

ACK_INDEX = Basic.Ack.index
PRUNE_AT = 64  # a rule forgets closed connections once it has seen this many
NACK_INDEX = Basic.Nack.index


def _is_confirm(data: bytes) -> bool:
    """One basic.ack method frame (type 1, payload class 60 method 80)."""
    return (len(data) == 21 and data[0] == codec.FRAME_METHOD
            and int.from_bytes(data[7:11], "big") == ACK_INDEX)


def _as_nack(data: bytes) -> bytes:
    """The same confirm as basic.nack (delivery tag and multiple kept, requeue clear)."""
    return data[:7] + NACK_INDEX.to_bytes(4, "big") + data[11:]


class ConfirmFault:
    """The next `target.count` confirms (None: all) to the matching clients become nacks, or
    are held until `release`: a rewriting stage on each connection's WriteChain."""

    def __init__(self, nack: bool, target: Target):
        self.nack, self.target = nack, target
        self.stages: dict = {}   # conn -> (its chain, this fault's stage)
        self.held: list = []     # (conn, confirm frame)

    def attach(self, conn) -> None:
        if conn in self.stages:
            return
        if len(self.stages) >= PRUNE_AT:  # forget closed connections (their held confirms go)
            live = conn.broker.connections
            self.stages = {known: item for known, item in self.stages.items() if known in live}
            self.held = [(known, data) for known, data in self.held if known in live]
        target = self.target

        def stage(data: bytes):
            if _is_confirm(data) and target.matches_client(amqp_name(conn), conn.peer) and target.take():
                if not self.nack:
                    self.held.append((conn, data))
                    return None
                return _as_nack(data)
            return data
        chain = WriteChain.of(conn)
        chain.add(stage, rewriter=True)
        self.stages[conn] = (chain, stage)

    def release(self) -> None:
        for conn, data in self.held:
            chain, stage = self.stages[conn]
            chain.pass_on(stage, data)  # through the stages after this one (the recording)
        self.held.clear()
        for conn, (chain, stage) in self.stages.items():
            chain.remove(stage)
            if conn.on_wakeup is not None:
                conn.on_wakeup()
        self.stages.clear()


class AMQPFaults:
    def __init__(self, runtime, network: Network, hooks: AcceptHooks):
        self.runtime = runtime
        self.network = network
        self.hooks = hooks
        self.confirm_faults: list[ConfirmFault] = []
        self.method_faults: list = []

    def _update_hooks(self) -> None:
        self.hooks.set("confirms", self._confirms_new if self.confirm_faults else None)
        self.hooks.set("methods", self._methods_new if self.method_faults else None)

    def _confirms_new(self, protocol: str, conn) -> bool:
        if protocol == "amqp":
            for fault in self.confirm_faults:
                fault.attach(conn)
        return False

    def _methods_new(self, protocol: str, conn) -> bool:
        if protocol == "amqp":
            for fault in self.method_faults:
                fault.attach(conn)
        return False

    def _all_connections(self):
        return self.network.amqp_connections(Target(protocol="amqp"))

    def _connections(self, target: Target):
        return self.network.amqp_connections(Target(protocol="amqp", client=target.client))

    @staticmethod
    def _wake(conn) -> None:
        if conn.on_wakeup is not None:
            conn.on_wakeup()

    def close_connection(self, target: Target, code: int = errors.CONNECTION_FORCED,
                         text: str = "Closed via yizhan test control") -> int:
        """connection.close from the server (as `rabbitmqctl close_connection`: 320 and its
        reason), then close-ok is awaited as for any server close."""
        error = errors.AMQPError(code, text, errors.NO_METHOD)
        closed = 0
        for conn in self._connections(target):
            if conn.state != RUNNING or not target.take():
                continue
            conn.close_by_server(error)
            closed += 1
        self.runtime.broker.run_deferred()
        return closed

    def close_channel(self, target: Target, code: int = errors.PRECONDITION_FAILED,
                      text: str = "Closed via yizhan test control", channel: int | None = None) -> int:
        """channel.close from the server on the matching open channels (its unacked
        deliveries are requeued, as for any channel close)."""
        if code not in errors.SOFT:
            raise ValueError(f"{code} is a connection error: use close_connection")
        closed = 0
        for conn in self._connections(target):
            for number, chan in list(conn.channels.items()):
                if chan.state != "open" or (channel is not None and number != channel):
                    continue
                if not target.take():
                    continue
                chan.fail(errors.AMQPError(code, text, errors.NO_METHOD))
                closed += 1
            self._wake(conn)
        self.runtime.broker.run_deferred()
        return closed

    def block(self, target: Target, reason: str = "low on memory") -> int:
        """connection.blocked to the matching connections that have the capability."""
        sent = 0
        for conn in self._connections(target):
            if conn.state == RUNNING and conn.capability("connection.blocked"):
                conn.write(codec.method_frame(0, new(Conn.Blocked, reason=reason)))
                self._wake(conn)
                sent += 1
        return sent

    def unblock(self, target: Target) -> int:
        sent = 0
        for conn in self._connections(target):
            if conn.state == RUNNING and conn.capability("connection.blocked"):
                conn.write(UNBLOCKED_FRAME)
                self._wake(conn)
                sent += 1
        return sent

    def cancel_consumers(self, target: Target, queue: str | None = None, tag: str | None = None) -> int:
        """basic.cancel from the server to the matching consumers (a client without
        consumer_cancel_notify is not told, as with RabbitMQ; the consumer is gone either way)."""
        cancelled = 0
        for conn in self._connections(target):
            for chan in list(conn.channels.values()):
                for consumer in list(chan.consumers.values()):
                    if tag is not None and consumer.tag != tag:
                        continue
                    if queue is not None and consumer.queue.name != queue:
                        continue
                    if not target.take():
                        continue
                    consumer.queue.remove_consumer(consumer)
                    chan.consumer_cancelled_by_broker(consumer)
                    cancelled += 1
            self._wake(conn)
        self.runtime.broker.run_deferred()
        return cancelled

    def redeliver(self, target: Target) -> int:
        """Requeue the unacknowledged deliveries of the matching connections' channels: they
        are delivered again with redelivered set (how many were requeued)."""
        count = 0
        for conn in self._connections(target):
            for chan in list(conn.channels.values()):
                if chan.state == "open":
                    count += chan.requeue_unacked()
        self.runtime.broker.run_deferred()
        return count

    def confirms(self, target: Target, nack: bool = True) -> int:
        """The matching clients' next `target.count` publisher confirms (all while the fault
        stays, when count is None) become basic.nack (`nack`) or are held back until
        `release_confirms`, on the connections open now and those opened later; how many
        open connections match now."""
        fault = ConfirmFault(nack, target)
        for conn in self._all_connections():
            fault.attach(conn)
        self.confirm_faults.append(fault)
        self._update_hooks()
        return len(self._connections(target))

    def fail_method(self, target: Target, code: int, text: str) -> int:
        """The next `target.count` `target.command` methods of the matching clients fail with
        `code` (see MethodFault), on the connections open now and those opened later; how
        many open connections match now."""
        if target.command is None or "." not in target.command:
            raise ValueError("name the AMQP method, e.g. method='queue.declare'")
        if code not in errors.NAMES:
            raise ValueError(f"{code} is not an AMQP reply code")
        fault = MethodFault(target, code, text)
        for conn in self._all_connections():
            fault.attach(conn)
        self.method_faults.append(fault)
        self._update_hooks()
        return len(self._connections(target))

    def clear_method_faults(self) -> int:
        count = len(self.method_faults)
        for fault in self.method_faults:
            fault.release()
        self.method_faults.clear()
        self._update_hooks()
        return count

    def release_confirms(self) -> int:
        held = sum(len(fault.held) for fault in self.confirm_faults)
        for fault in self.confirm_faults:
            fault.release()
        self.confirm_faults.clear()
        self._update_hooks()
        return held


class MethodFault:
    """The next matching client methods (`target.command`, e.g. "queue.declare" or
    "basic.publish") fail with `code`: a channel close for a soft code, a connection close for
    a hard one, naming the method as RabbitMQ's errors do. Each connection's channels get
    instance attributes in front of `dispatch` (every method the generic path handles),
    `publish_content` and `ack` (the hot path's publish and ack); new channels through the
    connection's `_channel`. The client is matched when the method runs."""

    def __init__(self, target: Target, code: int, text: str):
        self.target, self.code, self.text = target, code, text
        self.wrapped: list = []
        self.connections: list = []

    def attach(self, conn) -> None:
        if any(known is conn for known in self.connections):
            return
        if len(self.connections) >= PRUNE_AT:  # forget closed connections and their channels
            live = conn.broker.connections
            self.connections = [known for known in self.connections if known in live]
            self.wrapped = [channel for channel in self.wrapped if channel.conn in live]
        self.connections.append(conn)
        for channel in list(conn.channels.values()):
            self._wrap(conn, channel)
        new_channel = conn._channel

        def channel_of(number: int):
            channel = new_channel(number)
            if not any(wrapped is channel for wrapped in self.wrapped):
                self._wrap(conn, channel)
            return channel
        conn._channel = channel_of

    def _wrap(self, conn, channel) -> None:
        dispatch, publish_content, ack = channel.dispatch, channel.publish_content, channel.ack

        def checked_dispatch(method_spec, method, content):
            name = method_spec.cls.name.lower()
            if name != "basic.publish" and self._strike(conn, channel, name, method_spec.cls.index):
                return
            dispatch(method_spec, method, content)

        def checked_publish(*args):
            if self._strike(conn, channel, "basic.publish", Basic.Publish.index):
                return
            publish_content(*args)

        def checked_ack(tag, multiple):
            if self._strike(conn, channel, "basic.ack", Basic.Ack.index):
                return
            ack(tag, multiple)
        channel.dispatch, channel.publish_content, channel.ack = checked_dispatch, checked_publish, checked_ack
        self.wrapped.append(channel)

    def _strike(self, conn, channel, name: str, index: int) -> bool:
        target = self.target
        if (name != target.command or channel.state != "open"
                or not target.matches_client(amqp_name(conn), conn.peer) or not target.take()):
            return False
        error = errors.AMQPError(self.code, self.text, (index >> 16, index & 0xFFFF))
        if error.hard:
            conn.close_by_server(error)
        else:
            channel.fail(error)
        return True

    def release(self) -> None:
        for channel in self.wrapped:
            for name in ("dispatch", "publish_content", "ack"):
                channel.__dict__.pop(name, None)
        for conn in self.connections:
            conn.__dict__.pop("_channel", None)
        self.wrapped.clear()
        self.connections.clear()

"""Observation for assertions: the Redis commands clients sent (with arguments), the AMQP
methods clients sent and deliveries the server made (publishes with their bodies, acks, nacks,
rejects, deliveries with the redelivered flag, publisher confirms), and a queue's messages
without consuming them (paged-out ones read back from the store).

AMQP recording taps a connection's byte streams (its `receive`, replaced on that connection
object only while recording, and an observing stage at the end of its `WriteChain`, after any
fault's rewriting) and decodes them with a separate frame reader, so the broker's paths are
untouched; new connections are tapped as they are accepted (`AcceptHooks`)."""

from __future__ import annotations

from collections import deque

from pamqp.commands import Basic

from yizhan.amqp import codec
from yizhan.testing.control.connections import AcceptHooks, WriteChain
from yizhan.testing.control.state import queue_messages
from yizhan.testing.control.targets import Target, amqp_name

EVENT_LIMIT = 100_000
PRUNE_AT = 64  # the recording forgets closed connections once it has tapped this many
_KINDS = {Basic.Publish: "publish", Basic.Ack: "ack", Basic.Nack: "nack", Basic.Reject: "reject",
          Basic.Deliver: "deliver", Basic.GetOk: "get"}
_CONTENT = (Basic.Publish, Basic.Deliver, Basic.GetOk)


class StreamTap:
    """Decodes one direction of one connection's frames into events."""

    def __init__(self, observer: "Observer", conn, direction: str, skip: int):
        self.observer, self.conn, self.direction = observer, conn, direction
        self.reader = codec.FrameReader(0)
        self.skip = skip  # the protocol header that opens a client's stream
        self.pending: dict[int, dict] = {}  # channel -> the content event being assembled

    def feed(self, data: bytes) -> None:
        if self.skip:
            cut = min(self.skip, len(data))
            self.skip -= cut
            data = data[cut:]
        if not data:
            return
        try:
            self.reader.feed(data)
            while True:
                frame = self.reader.next()
                if frame is None:
                    return
                self._frame(*frame)
        except (codec.FrameTooLarge, codec.BadFrameEnd, codec.DecodeError):
            self.reader = codec.FrameReader(0)  # lost the frame boundaries: start afresh
            self.pending.clear()

    def _frame(self, frame_type: int, channel: int, payload: bytes) -> None:
        if frame_type == codec.FRAME_METHOD:
            spec = codec.lookup_method(payload)
            if spec is None or spec.cls not in _KINDS:
                return
            method = codec.decode_method(spec, payload)
            event = self._event(spec.cls, channel, method)
            if spec.cls in _CONTENT:
                event["body"] = b""
                self.pending[channel] = event
            else:
                self.observer.events.append(event)
        elif frame_type == codec.FRAME_HEADER:
            event = self.pending.get(channel)
            header = codec.parse_content_header(payload)
            if event is not None and header is not None:
                event["size"] = header[2]
                event["properties"] = header[3]
                self._complete(channel, event)
        elif frame_type == codec.FRAME_BODY:
            event = self.pending.get(channel)
            if event is not None:
                event["body"] += bytes(payload)
                self._complete(channel, event)

    def _complete(self, channel: int, event: dict) -> None:
        if len(event["body"]) >= event.get("size", 1 << 62):
            del self.pending[channel]
            self.observer.events.append(event)

    def _event(self, cls, channel: int, method) -> dict:
        kind = _KINDS[cls]
        if self.direction == "out" and cls in (Basic.Ack, Basic.Nack):
            kind = "confirm" if cls is Basic.Ack else "confirm-nack"
        event = {"kind": kind, "client": amqp_name(self.conn), "peer": self.conn.peer,
                 "vhost": self.conn.vhost.name if self.conn.vhost is not None else None,
                 "channel": channel}
        for attr in ("exchange", "routing_key", "delivery_tag", "multiple", "requeue",
                     "redelivered", "consumer_tag"):
            if hasattr(method, attr):
                event[attr] = getattr(method, attr)
        return event


class Observer:
    def __init__(self, runtime, hooks: AcceptHooks):
        self.runtime = runtime
        self.hooks = hooks
        self.events: deque = deque(maxlen=EVENT_LIMIT)
        self.tapped: dict = {}  # conn -> (its write chain, the observing stage)

    # -- Redis ---------------------------------------------------------------------------
    @staticmethod
    def commands(hook, target: Target, clear: bool) -> list:
        found = [{"client_id": client_id, "name": name, "addr": addr, "db": db,
                  "args": [arg.decode("utf-8", "surrogateescape") for arg in argv]}
                 for client_id, name, addr, db, argv in hook.record
                 if target.matches_client(name, addr)]
        if clear:
            hook.record.clear()
        return found

    # -- AMQP ----------------------------------------------------------------------------
    def start_amqp(self) -> None:
        broker = self.runtime.broker
        self.hooks.set("record", self._accepted)
        for conn in list(broker.connections):
            self.tap(conn)

    def stop_amqp(self) -> None:
        self.hooks.set("record", None)
        for conn, (chain, stage) in self.tapped.items():
            conn.__dict__.pop("receive", None)
            chain.remove(stage)
        self.tapped.clear()

    def _accepted(self, protocol: str, conn) -> bool:
        if protocol == "amqp":
            self.tap(conn)
        return False

    def tap(self, conn) -> None:
        if conn in self.tapped:
            return
        if len(self.tapped) >= PRUNE_AT:  # forget closed connections
            live = conn.broker.connections
            self.tapped = {known: item for known, item in self.tapped.items() if known in live}
        taps = (StreamTap(self, conn, "in", 8 if conn.state == "header" else 0),
                StreamTap(self, conn, "out", 0))
        receive = conn.receive

        def tapped_receive(data: bytes) -> None:
            taps[0].feed(data)
            receive(data)

        def observed(data: bytes) -> bytes:
            taps[1].feed(data)
            return data
        conn.receive = tapped_receive
        chain = WriteChain.of(conn)
        chain.add(observed, rewriter=False)
        self.tapped[conn] = (chain, observed)

    def amqp_events(self, kind: str | None, exchange: str | None, target: Target, clear: bool) -> list:
        found = [dict(event, body=event.get("body", b"").decode("utf-8", "surrogateescape"),
                      properties=codec.decode_properties(event["properties"]).__dict__
                      if "properties" in event else None)
                 for event in self.events
                 if (kind is None or event["kind"] == kind)
                 and (exchange is None or event.get("exchange") == exchange)
                 and target.matches_client(event["client"], event["peer"])]
        if clear:
            self.events.clear()
        return [_plain(event) for event in found]

    def peek(self, queue: str, vhost: str = "/", count: int | None = None) -> list:
        found = self.runtime.broker.vhosts[vhost].queue_or_die(queue)
        out = []
        for message, redelivered in queue_messages(self.runtime.broker.store, found):
            if count is not None and len(out) >= count:
                break
            out.append(_plain({"exchange": message.exchange, "routing_key": message.routing_key,
                               "body": message.body.decode("utf-8", "surrogateescape"),
                               "redelivered": redelivered,
                               "properties": message.properties().__dict__}))
        return out


def _plain(value):
    """JSON-able: bytes as text, field tables as dicts, other objects as their text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "__iter__") and hasattr(value, "lookup"):  # a FieldTable
        return {key: _plain(item) for key, _kind, item in value}
    return str(value)

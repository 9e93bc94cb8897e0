"""HTTP/1.1 transport for the management port and the metrics port: h11 (sans-IO) parses the
bytes, an asyncio Protocol moves them. Each complete request goes to a synchronous handler
`(Request) -> Response` on the same event loop as Redis and AMQP; keep-alive as h11 allows it.

Request bodies are bounded (MAX_BODY): a larger one gets 413 and the connection closes, so a
client cannot grow memory without bound; a malformed request gets 400 and a close.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import h11

log = logging.getLogger("yizhan.management")

MAX_BODY = 8 * 1024 * 1024     # definitions imports are the largest bodies RabbitMQ takes
MAX_HEADERS = 64 * 1024


@dataclass
class Request:
    method: str
    target: str                       # path and query, as sent (still percent-encoded)
    headers: dict[str, str]           # lower-case names; the last of repeated headers
    body: bytes = b""
    peer: str = ""                    # the client's IP address


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


class HTTPProtocol(asyncio.Protocol):
    """One HTTP connection; `handler(Request) -> Response` answers each request."""

    def __init__(self, handler, open_connections: set):
        self.handler = handler
        self.open_connections = open_connections  # the runtime closes these at stop
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADERS)
        self.transport = None
        self.peer = ""
        self.request: Request | None = None
        self.body = bytearray()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.open_connections.add(self)
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else ""

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self._process()

    def eof_received(self):
        self.conn.receive_data(b"")
        self._process()
        return False

    def _process(self) -> None:
        while self.transport is not None:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc.error_status_hint)
                return
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:
                if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
                    self.conn.start_next_cycle()
                    continue
                return
            if not self._on_event(event):
                return

    def _on_event(self, event) -> bool:
        if isinstance(event, h11.Request):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
            self.request = Request(event.method.decode("ascii"), event.target.decode("latin-1"),
                                   headers, peer=self.peer)
            self.body = bytearray()
        elif isinstance(event, h11.Data):
            self.body += event.data
            if len(self.body) > MAX_BODY:
                self._fail(413)
                return False
        elif isinstance(event, h11.EndOfMessage):
            request, self.request = self.request, None
            request.body = bytes(self.body)
            self.body = bytearray()
            self._respond(request)
        elif isinstance(event, h11.ConnectionClosed):
            self._close()
            return False
        return True

    def _respond(self, request: Request) -> None:
        try:
            response = self.handler(request)
        except Exception:  # a bug answers 500 and is logged; the server goes on
            log.exception("management request %s %s failed", request.method, request.target)
            response = Response(500, b'{"error":"Internal Server Error","reason":"Internal Server Error"}',
                                [("content-type", "application/json")])
        self._send(response, head=request.method == "HEAD")

    def _send(self, response: Response, head: bool = False) -> None:
        headers = list(response.headers)
        if response.status not in (204, 304):
            headers.append(("content-length", str(len(response.body))))
        out = self.conn.send(h11.Response(status_code=response.status, headers=headers))
        if response.body and not head:
            out += self.conn.send(h11.Data(data=response.body))
        out += self.conn.send(h11.EndOfMessage())
        self.transport.write(out)
        if self.conn.our_state is h11.MUST_CLOSE:
            self._close()

    def _fail(self, status: int) -> None:
        """A request h11 cannot parse (or too large): answer the status if we still can, close."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                out = self.conn.send(h11.Response(status_code=status, headers=[
                    ("content-length", "0"), ("connection", "close")]))
                out += self.conn.send(h11.EndOfMessage())
                self.transport.write(out)
            except h11.LocalProtocolError:
                pass
        self._close()

    def close(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.open_connections.discard(self)

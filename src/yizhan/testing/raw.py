"""A minimal RESP client over a plain socket that returns each reply's exact bytes.

Differential tests compare these bytes between yizhan and redis-server, so status vs bulk,
RESP2 vs RESP3 types and error texts all have to match, not just the decoded values.
"""

from __future__ import annotations

import socket

import hiredis


def encode_command(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


class RawClient:
    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._pending = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args) -> bytes:
        """Send one command; return the raw bytes of its reply."""
        self.sock.sendall(encode_command(args))
        return self.read_reply()

    def read_reply(self) -> bytes:
        """Read exactly one reply (a push message counts as one) and return its bytes."""
        data = self._pending
        while True:
            end = reply_end(data)
            if end:
                self._pending = data[end:]
                return data[:end]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed after {data!r}")
            data += chunk

    def read_until_closed(self) -> bytes:
        data = self._pending
        self._pending = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError, socket.timeout):
                return data
            if not chunk:
                return data
            data += chunk


def reply_end(data: bytes) -> int:
    """The length of the first complete reply in `data`, or 0 if it is incomplete."""
    reader = hiredis.Reader()
    reader.feed(data)
    if reader.gets() is False:
        return 0
    if not reader.has_data():
        return len(data)
    # More than one reply buffered: find the shortest prefix that holds a whole reply.
    end = data.find(b"\r\n") + 2
    while end > 1:
        probe = hiredis.Reader()
        probe.feed(data[:end])
        if probe.gets() is not False:
            return end
        end = data.find(b"\r\n", end) + 2
    return 0

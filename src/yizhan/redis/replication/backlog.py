"""The replication backlog: the last `repl-backlog-size` bytes of the replication stream, so
that a replica that lost its link for a moment gets only what it missed (PSYNC +CONTINUE)."""

from __future__ import annotations


class Backlog:
    """Bytes of the stream from offset `first` (Redis's repl_backlog_first_byte_offset) to
    `end` (master_repl_offset): stream offsets count from 1, as Redis's do."""

    def __init__(self, size: int, offset: int):
        self.size = size
        self.buf = bytearray()
        self.first = offset + 1  # the offset of buf[0]

    @property
    def end(self) -> int:
        """The offset of the last byte held (master_repl_offset)."""
        return self.first + len(self.buf) - 1

    def append(self, data: bytes) -> None:
        self.buf += data
        excess = len(self.buf) - self.size
        if excess > self.size // 4 or (excess > 0 and len(data) >= self.size):  # trim in steps
            del self.buf[:excess]
            self.first += excess

    def histlen(self) -> int:
        return min(len(self.buf), self.size)

    def first_offset(self) -> int:
        return self.first + len(self.buf) - self.histlen()

    def resize(self, size: int) -> None:
        self.size = size
        self.append(b"")

    def covers(self, offset: int) -> bool:
        """Whether the stream from `offset` on (the next byte a replica wants) is all here."""
        return self.first_offset() <= offset <= self.end + 1

    def since(self, offset: int) -> bytes:
        return bytes(self.buf[offset - self.first:])

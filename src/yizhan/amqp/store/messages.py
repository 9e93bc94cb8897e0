"""The message store: persistent messages of durable queues in append-only segment files.

`<data-dir>/amqp/messages/NNNNNNNN.seg` hold records framed as length (u32), CRC-32 (u32)
and payload; the payload's first byte says what it is:
- `P` publish: message id, the durable queues it went to, exchange, routing key, the raw
  property bytes and the body;
- `A` a message left a queue (acked, rejected, purged, consumed with no-ack, queue deleted);
- `D` a message was delivered (it comes back redelivered after a restart).
Writes are buffered and go out once per event-loop turn (`flush`); when a publisher waits for a
confirm the flush also fsyncs, so one fsync serves every publish of that turn.

Reclaiming space: a segment whose publishes have all left their queues is deleted once every
older segment is gone too (its ack records may refer to older segments' messages). At boot the
live messages are rewritten into a fresh segment and the old ones deleted (compaction).
A torn record at the end of the last segment is cut off; any other bad record is a
`StoreError` naming the file.
"""

from __future__ import annotations

import os
import struct
import zlib

from yizhan.amqp.store.errors import StoreError

SEGMENT_LIMIT = 16 * 1024 * 1024
_head = struct.Struct(">II")
_id = struct.Struct(">Q")
_u16 = struct.Struct(">H")
_u32 = struct.Struct(">I")


class Recovered:
    """One live message found at boot: its fields and its queues in publish order."""

    __slots__ = ("msg_id", "queues", "exchange", "routing_key", "props", "body", "delivered")

    def __init__(self, msg_id, queues, exchange, routing_key, props, body):
        self.msg_id = msg_id
        self.queues = queues
        self.exchange = exchange
        self.routing_key = routing_key
        self.props = props
        self.body = body
        self.delivered: set = set()


class MessageStore:
    def __init__(self, directory: str, segment_limit: int = SEGMENT_LIMIT):
        self.dir = directory
        self.segment_limit = segment_limit
        self.live: dict[int, list] = {}        # msg id -> [segment, set of queue keys]
        self.segment_live: dict[int, int] = {}  # segment -> messages in it still in a queue
        self.current = 0
        self.file = None
        self.size = 0
        self.buffer = bytearray()
        self.next_id = 1
        self.fsyncs = 0
        self.writes = 0
        self.published = 0

    # -- boot ---------------------------------------------------------------------------------
    def load(self) -> list[Recovered]:
        """Read every segment, compact the live messages into a new one, delete the rest."""
        os.makedirs(self.dir, exist_ok=True)
        segments = sorted(int(n[:-4]) for n in os.listdir(self.dir) if n.endswith(".seg"))
        found: dict[int, Recovered] = {}
        for index, number in enumerate(segments):
            self._read_segment(self._path(number), found, last=index == len(segments) - 1)
        live = [r for r in found.values() if r.queues]
        self.next_id = max(found, default=0) + 1
        self.current = (segments[-1] if segments else 0) + 1
        self._open_segment()
        for record in live:
            self._write_publish(record.msg_id, record.queues, record.exchange,
                                record.routing_key, record.props, record.body)
            for queue in record.delivered:
                self._append(b"D" + _id.pack(record.msg_id) + _str(queue))
        self.flush(sync=True)
        for number in segments:
            os.remove(self._path(number))
        return live

    def _read_segment(self, path: str, found: dict, last: bool) -> None:
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos < len(data):
            end = _record_end(data, pos)
            if end is None:
                if last:
                    _truncate(path, pos)
                    return
                raise StoreError(f"{path}: corrupt message record at byte {pos}; move the "
                                 "file away to start without its messages")
            _apply(data[pos + 8:end], found)
            pos = end

    # -- writing --------------------------------------------------------------------------------
    def publish(self, queues: list[str], exchange: str, routing_key: str, props: bytes,
                body: bytes) -> int:
        msg_id = self.next_id
        self.next_id += 1
        self.published += 1
        self._write_publish(msg_id, queues, exchange, routing_key, props, body)
        return msg_id

    def _write_publish(self, msg_id, queues, exchange, routing_key, props, body) -> None:
        payload = b"".join([b"P", _id.pack(msg_id), _u16.pack(len(queues)),
                            *(_str(q) for q in queues), _str(exchange), _str(routing_key),
                            _u32.pack(len(props)), props, _u32.pack(len(body)), body])
        self._append(payload)
        self.live[msg_id] = [self.current, set(queues)]
        self.segment_live[self.current] = self.segment_live.get(self.current, 0) + 1

    def delivered(self, msg_id: int, queue: str) -> None:
        self._append(b"D" + _id.pack(msg_id) + _str(queue))

    def remove(self, msg_id: int, queue: str) -> None:
        entry = self.live.get(msg_id)
        if entry is None or queue not in entry[1]:
            return
        self._append(b"A" + _id.pack(msg_id) + _str(queue))
        entry[1].discard(queue)
        if not entry[1]:
            del self.live[msg_id]
            self.segment_live[entry[0]] -= 1
            self._reclaim()

    def remove_queue(self, queue: str) -> None:
        for msg_id in [m for m, entry in self.live.items() if queue in entry[1]]:
            self.remove(msg_id, queue)

    def _append(self, payload: bytes) -> None:
        self.buffer += _head.pack(len(payload), zlib.crc32(payload)) + payload

    def flush(self, sync: bool) -> None:
        if self.buffer:
            _write_all(self.file, self.buffer)
            self.size += len(self.buffer)
            self.buffer = bytearray()
            self.writes += 1
        if sync:
            os.fsync(self.file.fileno())
            self.fsyncs += 1
        if self.size >= self.segment_limit:
            os.fsync(self.file.fileno())
            self.file.close()
            self.current += 1
            self._open_segment()

    def _open_segment(self) -> None:
        self.file = open(self._path(self.current), "ab", buffering=0)
        self.size = 0
        self.segment_live.setdefault(self.current, 0)

    def _reclaim(self) -> None:
        """Delete fully acked segments, oldest first, never the one being written."""
        while self.segment_live:
            oldest = min(self.segment_live)
            if oldest == self.current or self.segment_live[oldest]:
                return
            del self.segment_live[oldest]
            try:
                os.remove(self._path(oldest))
            except FileNotFoundError:
                pass

    def close(self) -> None:
        if self.file is not None:
            self.flush(sync=True)
            self.file.close()
            self.file = None

    def _path(self, number: int) -> str:
        return os.path.join(self.dir, f"{number:08d}.seg")


def _str(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return _u16.pack(len(raw)) + raw


def _read_str(data: bytes, pos: int):
    (length,) = _u16.unpack_from(data, pos)
    pos += 2
    return data[pos:pos + length].decode("utf-8", "surrogateescape"), pos + length


def _record_end(data: bytes, pos: int) -> int | None:
    if pos + 8 > len(data):
        return None
    length, crc = _head.unpack_from(data, pos)
    end = pos + 8 + length
    if length == 0 or end > len(data) or zlib.crc32(data[pos + 8:end]) != crc:
        return None
    return end


def _apply(payload: bytes, found: dict) -> None:
    kind = payload[:1]
    (msg_id,) = _id.unpack_from(payload, 1)
    pos = 9
    if kind == b"P":
        (count,) = _u16.unpack_from(payload, pos)
        pos += 2
        queues = []
        for _ in range(count):
            queue, pos = _read_str(payload, pos)
            queues.append(queue)
        exchange, pos = _read_str(payload, pos)
        routing_key, pos = _read_str(payload, pos)
        (size,) = _u32.unpack_from(payload, pos)
        props = payload[pos + 4:pos + 4 + size]
        pos += 4 + size
        (size,) = _u32.unpack_from(payload, pos)
        body = payload[pos + 4:pos + 4 + size]
        found[msg_id] = Recovered(msg_id, queues, exchange, routing_key, props, body)
        return
    queue, pos = _read_str(payload, pos)
    record = found.get(msg_id)
    if record is None:
        return
    if kind == b"A":
        if queue in record.queues:
            record.queues.remove(queue)
        record.delivered.discard(queue)
    elif kind == b"D":
        record.delivered.add(queue)


def _write_all(file, data: bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[file.write(view):]


def _truncate(path: str, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)

"""The message store: persistent messages of durable queues in append-only segment files.

`<data-dir>/amqp/messages/NNNNNNNN.seg` hold records framed as length (u32), CRC-32 (u32)
and payload; the payload's first byte says what it is:
- `H` segment header: the first message id the segment may hold;
- `P` publish: message id, the durable queues it went to, exchange, routing key, the raw
  property bytes and the body, then optional tagged fields: `a` + u64 arrival time (clock ms;
  message TTL counts from it after a restart). Records written before it had no such field
  and still load (their TTL counts from the restart);
- `A` a message left one queue (acked, rejected, consumed with no-ack);
- `D` a message was delivered from a queue (it comes back redelivered after a restart);
- `R` many messages left one queue at once (a purge of paged-out messages), as id runs;
- `X` a queue was deleted: every message it held with an id up to the one given left it;
- `T` a transient message paged out of one queue under memory pressure: laid out as `P` with
  no queue named; held (count 1) until the queue reads it back or drops it, and dead at boot,
  so transient messages never survive a restart.
Writes are buffered and go out once per event-loop turn (`flush`); when a publisher waits for a
confirm the flush also fsyncs, so one fsync serves every publish of that turn.

Memory: message ids ascend in write order, so a segment's messages are a few runs of
consecutive ids (`Block`: first id, an array of record offsets and an array of reference
counts, 5 bytes a message). A message is found by bisecting the blocks' first ids; nothing is
kept per message beyond that (`overflow` holds the count of a message in 255 queues or more).
Queues keep only the ids of the messages they paged out and read them back with `read`.

Reclaiming space: a segment none of whose messages is held by a queue is deleted once no
segment its A/D/R/X records refer to still holds messages (otherwise a deleted ack could bring a
message back at boot); until then it is stripped: rewritten without its publish records, so the
acks it keeps are a few bytes and the segments acking its own messages can go. Boot reads the segments one at a time, keeping only offsets, counts and
each queue's ids. Every record is checked (length and CRC-32) before any is used: a torn
record at the end of the last segment (incomplete, or zeros, with no sound record after it) is
cut off with a warning; any other bad record is a `StoreError` naming the file and offset, or
with `recover_damaged` (store/damage.py) the segment is copied aside, rewritten with its sound
records only, and the message ids lost are logged.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import zlib
from array import array
from bisect import bisect_right

from yizhan.amqp.store import damage
from yizhan.amqp.store.errors import StoreError

log = logging.getLogger("yizhan.amqp")

SEGMENT_LIMIT = 16 * 1024 * 1024
READ_AHEAD = 256 * 1024  # bytes one pread fetches when paging messages in
_head = struct.Struct(">II")
_id = struct.Struct(">Q")
_u16 = struct.Struct(">H")
_u32 = struct.Struct(">I")
_run = struct.Struct(">QI")
MANY = 255  # a count of 255 means: the real count is in MessageStore.overflow

P, A, D, R, X, H, T = (ord(c) for c in "PADRXHT")
KINDS = frozenset(b"PADRXHT")
_KIND_BYTE = re.compile(rb"[PADRXHT]")


class Segment:
    """One segment file: its blocks of message ids, how many of its messages are still held
    by a queue, and the other segments its A/D/R/X records refer to."""

    __slots__ = ("number", "blocks", "live", "refs")

    def __init__(self, number: int):
        self.number = number
        self.blocks: list[Block] = []
        self.live = 0
        self.refs: set[int] = set()


class Block:
    """Consecutive message ids of one segment: record offsets and reference counts."""

    __slots__ = ("segment", "first", "offsets", "counts")

    def __init__(self, segment: Segment, first: int):
        self.segment = segment
        self.first = first
        self.offsets = array("I")
        self.counts = array("B")


class Recovered:
    """One queue's live messages found at boot: ids in publish order, the delivered ones."""

    __slots__ = ("key", "ids", "delivered")

    def __init__(self, key: str, ids: array, delivered: set):
        self.key = key
        self.ids = ids
        self.delivered = delivered


class StoredMessage:
    """A message read back from a segment."""

    __slots__ = ("msg_id", "queues", "exchange", "routing_key", "props", "body", "arrived")

    def __init__(self, msg_id, queues, exchange, routing_key, props, body, arrived=None):
        self.arrived = arrived  # clock ms, None in records written before it was kept
        self.msg_id = msg_id
        self.queues = queues
        self.exchange = exchange
        self.routing_key = routing_key
        self.props = props
        self.body = body


class MessageStore:
    def __init__(self, directory: str, segment_limit: int = SEGMENT_LIMIT, recover_damaged: bool = False,
                 quarantine: str | None = None):
        self.dir = directory
        self.recover_damaged = recover_damaged
        self.quarantine = quarantine or os.path.join(directory, "quarantine")
        self.segment_limit = segment_limit
        self.segments: dict[int, Segment] = {}  # ascending numbers
        self.firsts: list[int] = []             # the blocks' first ids, ascending
        self.blocks: list[Block] = []
        self.overflow: dict[int, int] = {}      # msg id -> count, for counts >= MANY
        self.readers: dict[int, int] = {}       # segment number -> read-only fd
        self.current = 0
        self.file = None
        self.size = 0
        self.buffer = bytearray()
        self.next_id = 1
        self.fsyncs = 0
        self.writes = 0
        self.published = 0

    # -- boot ---------------------------------------------------------------------------------
    def load(self) -> dict[str, Recovered]:
        """Read every segment (one at a time), keep positions only; returns each queue's live
        messages. Fully dead segments are deleted; writing goes on in a new segment."""
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.dir):
            if name.endswith(".seg.tmp"):  # a strip interrupted by a crash: the .seg stands
                os.remove(os.path.join(self.dir, name))
        numbers = sorted(int(n[:-4]) for n in os.listdir(self.dir) if n.endswith(".seg"))
        boot = _Boot(self)
        for index, number in enumerate(numbers):
            following = numbers[index + 1] if index + 1 < len(numbers) else None
            boot.scan(number, self._sound(number, following))
        recovered = boot.finish()
        self.current = (numbers[-1] if numbers else 0) + 1
        self._open_segment()
        self.flush(sync=True)
        self._reclaim()
        return recovered

    # -- writing --------------------------------------------------------------------------------
    def publish(self, queues: list[str], exchange: str, routing_key: str, props: bytes,
                body: bytes, arrived: int | None = None) -> int:
        msg_id = self.next_id
        self.next_id += 1
        self.published += 1
        offset = self.size + len(self.buffer)
        self._append(b"".join([b"P", _id.pack(msg_id), _u16.pack(len(queues)),
                               *(_str(q) for q in queues), _str(exchange), _str(routing_key),
                               _u32.pack(len(props)), props, _u32.pack(len(body)), body,
                               b"" if arrived is None else b"a" + _id.pack(arrived)]))
        segment = self.segments[self.current]
        block = segment.blocks[-1] if segment.blocks else None
        if block is None or block.first + len(block.counts) != msg_id:
            block = self._add_block(segment, msg_id)
        block.offsets.append(offset)
        self._set_count(block, msg_id, len(queues))
        segment.live += 1
        return msg_id

    def page_transient(self, exchange: str, routing_key: str, props: bytes, body: bytes) -> int:
        """A `T` record: one queue's transient message kept on disk only; no fsync needed."""
        msg_id = self.next_id
        self.next_id += 1
        offset = self.size + len(self.buffer)
        self._append(b"".join([b"T", _id.pack(msg_id), _u16.pack(0), _str(exchange),
                               _str(routing_key), _u32.pack(len(props)), props,
                               _u32.pack(len(body)), body]))
        segment = self.segments[self.current]
        block = segment.blocks[-1] if segment.blocks else None
        if block is None or block.first + len(block.counts) != msg_id:
            block = self._add_block(segment, msg_id)
        block.offsets.append(offset)
        block.counts.append(1)
        segment.live += 1
        return msg_id

    def release_transient(self, ids) -> None:
        """Transient paged messages read back or dropped: no record, they die at boot anyway."""
        died = False
        for msg_id in ids:
            found = self._find(msg_id)
            if found is not None and found[0].counts[found[1]]:
                died |= self._release(found[0], found[1], msg_id)
        if died:
            self._reclaim()

    def delivered(self, msg_id: int, queue: str) -> None:
        found = self._find(msg_id)
        if found is not None and found[0].counts[found[1]]:
            self._append(b"D" + _id.pack(msg_id) + _str(queue))
            self._refer(found[0].segment.number)

    def remove(self, msg_id: int, queue: str) -> None:
        """A message left `queue` (ack, reject, no-ack delivery)."""
        found = self._find(msg_id)
        if found is None or not found[0].counts[found[1]]:
            return
        self._append(b"A" + _id.pack(msg_id) + _str(queue))
        self._refer(found[0].segment.number)
        if self._release(found[0], found[1], msg_id):
            self._reclaim()

    def remove_many(self, queue: str, chunks) -> None:
        """Messages left `queue` at once (a purge of paged-out ids; `chunks` are ascending
        arrays of ids): one R record."""
        runs = _runs(msg_id for ids in chunks for msg_id in ids)
        if not runs:
            return
        self._append(b"".join([b"R", _str(queue), _u32.pack(len(runs)),
                               *(_run.pack(first, n) for first, n in runs)]))
        died = False
        for ids in chunks:
            for msg_id in ids:
                found = self._find(msg_id)
                if found is not None and found[0].counts[found[1]]:
                    self._refer(found[0].segment.number)
                    died |= self._release(found[0], found[1], msg_id)
        if died:
            self._reclaim()

    def queue_deleted(self, queue: str, ids) -> None:
        """`queue` is gone: one X record covers every message it held; `ids` (its ready and
        paged messages) are released now, its unacked ones when their channels settle."""
        self._append(b"X" + _id.pack(self.next_id - 1) + _str(queue))
        self.segments[self.current].refs.update(self.segments)
        died = False
        for msg_id in ids:
            found = self._find(msg_id)
            if found is not None and found[0].counts[found[1]]:
                died |= self._release(found[0], found[1], msg_id)
        if died:
            self._reclaim()

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
            self._reclaim()

    def _open_segment(self) -> None:
        self.file = open(self._path(self.current), "ab", buffering=0)
        self.size = self.file.tell()
        self.segments[self.current] = Segment(self.current)
        self._append(b"H" + _id.pack(self.next_id))

    # -- reading ------------------------------------------------------------------------------
    def read(self, ids) -> list[StoredMessage]:
        """The messages `ids` (ascending, all live), read back from their segments with a few
        large preads."""
        if self.buffer:
            self.flush(sync=False)
        out = []
        data, start, number = b"", 0, None
        for msg_id in ids:
            found = self._find(msg_id)
            if found is None:
                raise StoreError(f"{self.dir}: message {msg_id} is not in the store")
            block, k = found
            offset = block.offsets[k]
            if block.segment.number != number or not start <= offset <= start + len(data) - 8:
                number = block.segment.number
                data, start = self._pread(number, offset, READ_AHEAD), offset
            rel = offset - start
            (length,) = _u32.unpack_from(data, rel)
            if rel + 8 + length > len(data):
                data, start, rel = self._pread(number, offset, max(READ_AHEAD, length + 8)), \
                    offset, 0
            end = _record_end(data, rel)
            if end is None or data[rel + 8] not in (P, T):
                raise StoreError(f"{self._path(number)}: corrupt message record at byte "
                                 f"{offset}")
            out.append(_parse_publish(memoryview(data)[rel + 8:end]))
        return out

    def _pread(self, number: int, offset: int, size: int) -> bytes:
        fd = self.readers.get(number)
        if fd is None:
            fd = self.readers[number] = os.open(self._path(number), os.O_RDONLY)
        return os.pread(fd, size, offset)

    # -- positions ----------------------------------------------------------------------------
    def _add_block(self, segment: Segment, first: int) -> Block:
        block = Block(segment, first)
        segment.blocks.append(block)
        self.firsts.append(first)
        self.blocks.append(block)
        return block

    def _find(self, msg_id: int):
        """(block, index) of a message, or None if its segment is gone."""
        index = bisect_right(self.firsts, msg_id) - 1
        if index < 0:
            return None
        block = self.blocks[index]
        k = msg_id - block.first
        if k >= len(block.counts):
            return None
        return block, k

    def _set_count(self, block: Block, msg_id: int, count: int) -> None:
        if count >= MANY:
            self.overflow[msg_id] = count
            count = MANY
        block.counts.append(count)

    def _release(self, block: Block, k: int, msg_id: int) -> bool:
        """One queue less holds the message; True when its segment has no live message left."""
        count = block.counts[k]
        if count == MANY:
            left = self.overflow[msg_id] - 1
            if left >= MANY:
                self.overflow[msg_id] = left
            else:
                del self.overflow[msg_id]
                block.counts[k] = left
            return False
        block.counts[k] = count - 1
        if count > 1:
            return False
        segment = block.segment
        segment.live -= 1
        return segment.live == 0

    def _refer(self, number: int) -> None:
        if number != self.current:
            self.segments[self.current].refs.add(number)

    # -- reclaiming ---------------------------------------------------------------------------
    def _reclaim(self) -> None:
        """Segments without live messages go: deleted if no segment their records refer to
        still holds messages, else stripped of their (dead) publish records, which frees the
        segments that refer to them in turn."""
        segments = self.segments
        changed = True
        while changed:
            changed = False
            for segment in list(segments.values()):
                if segment.live or segment.number == self.current:
                    continue
                if not any(segments[r].blocks for r in segment.refs
                           if r != segment.number and r in segments):
                    self._delete(segment)
                    changed = True
                elif segment.blocks:
                    self._strip(segment)
                    changed = True

    def _delete(self, segment: Segment) -> None:
        del self.segments[segment.number]
        self._forget_blocks(segment)
        try:
            os.remove(self._path(segment.number))
        except FileNotFoundError:
            pass

    def _strip(self, segment: Segment) -> None:
        """Rewrite a segment without its publish records (all dead), keeping the records that
        still matter for older segments' messages; a temp file renamed over it."""
        path = self._path(segment.number)
        with open(path, "rb") as f:
            data = f.read()
        kept = bytearray()
        pos = 0
        while pos < len(data):
            end = _record_end(data, pos)
            if end is None:
                raise StoreError(f"{path}: corrupt message record at byte {pos}")
            if data[pos + 8] not in (P, T):
                kept += data[pos:end]
            pos = end
        temp = path + ".tmp"
        with open(temp, "wb") as f:
            f.write(kept)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
        _fsync_dir(self.dir)
        self._forget_blocks(segment)

    def _forget_blocks(self, segment: Segment) -> None:
        if segment.blocks:
            dead = {id(b) for b in segment.blocks}
            keep = [b for b in self.blocks if id(b) not in dead]
            self.blocks = keep
            self.firsts = [b.first for b in keep]
            segment.blocks = []
        fd = self.readers.pop(segment.number, None)
        if fd is not None:
            os.close(fd)

    # -- figures and shutdown -----------------------------------------------------------------
    def live_count(self) -> int:
        return sum(s.live for s in self.segments.values())

    def close(self) -> None:
        if self.file is not None:
            self.flush(sync=True)
            self.file.close()
            self.file = None
        for fd in self.readers.values():
            os.close(fd)
        self.readers.clear()

    def _path(self, number: int) -> str:
        return os.path.join(self.dir, f"{number:08d}.seg")

    # -- damaged segments ----------------------------------------------------------------------
    def _sound(self, number: int, following: int | None) -> bytes:
        """A segment's bytes once every record checks out: a torn tail of the last segment cut
        off, any other damage refused or (recover_damaged) salvaged."""
        path = self._path(number)
        with open(path, "rb") as f:
            data = f.read()
        view = memoryview(data)
        bad = _first_bad(data, view, 0)
        if bad < 0:
            return data
        if following is None and _next_sound(data, view, bad) < 0 and _torn(data, bad):
            log.warning("AMQP message store: %s: cut off a torn record at byte %d (%d bytes of a write "
                        "that was never confirmed)", path, bad, len(data) - bad)
            _truncate(path, bad)
            return data[:bad]
        if not self.recover_damaged:
            raise damage.refusal(path, bad, "message record")
        return self._salvage(path, data, view, following)

    def _salvage(self, path: str, data: bytes, view: memoryview, following: int | None) -> bytes:
        """The recovery option: keep a copy aside, rewrite the segment with its sound records,
        log what was lost."""
        spans, pos, damaged = [], 0, 0
        while pos >= 0:
            bad = _first_bad(data, view, pos)
            spans.append((pos, bad if bad >= 0 else len(data)))
            if bad < 0:
                break
            pos = _next_sound(data, view, bad)
            damaged += (pos if pos >= 0 else len(data)) - bad
        kept = b"".join(data[start:end] for start, end in spans)
        aside = damage.quarantine(path, self.quarantine)
        damage.replace_file(path, kept)
        lost = _lost_ids(kept, self._first_id_of(following))
        log.warning("AMQP message store: %s was damaged (%d bytes in %d places); a copy is kept as %s; "
                    "%s lost; acknowledgements in the damaged bytes are lost too (those messages come back)",
                    path, damaged, len(spans) - 1, aside, lost)
        return kept

    def _first_id_of(self, number: int | None) -> int | None:
        """The first message id segment `number` may hold (its H record), None if unknown."""
        if number is None:
            return None
        try:
            with open(self._path(number), "rb") as f:
                head = f.read(25)
        except OSError:
            return None
        if len(head) == 25 and head[8] == H and _head.unpack_from(head)[0] == 17:
            return _id.unpack_from(head, 9)[0]
        return None


class _Boot:
    """The boot scan: segments read in order into blocks, counts and each queue's ids."""

    def __init__(self, store: MessageStore):
        self.store = store
        self.queues: dict[bytes, array] = {}      # raw queue key -> ids published to it
        self.gone: dict[int, set] = {}            # multi-queue msg id -> queues it left
        self.delivered: dict[int, set] = {}       # msg id -> queues it was delivered from

    def scan(self, number: int, data: bytes) -> None:
        """One segment's records, all already checked (`MessageStore._sound`)."""
        store = self.store
        segment = store.segments[number] = Segment(number)
        block = None
        pos = 0
        size = len(data)
        unpack_u32, unpack_id, unpack_u16 = _u32.unpack_from, _id.unpack_from, _u16.unpack_from
        queues = self.queues
        while pos < size:
            end = pos + 8 + unpack_u32(data, pos)[0]
            kind = data[pos + 8]
            if kind == P:
                (msg_id,) = unpack_id(data, pos + 9)
                (count,) = unpack_u16(data, pos + 17)
                if block is None or block.first + len(block.counts) != msg_id:
                    block = store._add_block(segment, msg_id)
                block.offsets.append(pos)
                store._set_count(block, msg_id, count)
                q = pos + 19
                for _ in range(count):
                    (n,) = unpack_u16(data, q)
                    key = data[q + 2:q + 2 + n]
                    q += 2 + n
                    ids = queues.get(key)
                    if ids is None:
                        ids = queues[key] = array("Q")
                    ids.append(msg_id)
                if msg_id >= store.next_id:
                    store.next_id = msg_id + 1
            elif kind == T:  # transient: dead after a restart
                (msg_id,) = unpack_id(data, pos + 9)
                if block is None or block.first + len(block.counts) != msg_id:
                    block = store._add_block(segment, msg_id)
                block.offsets.append(pos)
                block.counts.append(0)
                if msg_id >= store.next_id:
                    store.next_id = msg_id + 1
            elif kind == H:
                (first,) = unpack_id(data, pos + 9)
                store.next_id = max(store.next_id, first)
            else:
                self._apply(kind, data, pos + 9, end, segment)
            pos = end

    def _apply(self, kind: int, data: bytes, pos: int, end: int, segment: Segment) -> None:
        if kind == A or kind == D:
            (msg_id,) = _id.unpack_from(data, pos)
            key = _raw_str(data, pos + 8)
            self._refer(segment, msg_id)
            if kind == A:
                self._leave(msg_id, key)
            elif self._holds(msg_id, key):
                self.delivered.setdefault(msg_id, set()).add(key)
        elif kind == R:
            key = _raw_str(data, pos)
            pos += 2 + len(key)
            (count,) = _u32.unpack_from(data, pos)
            for i in range(count):
                first, n = _run.unpack_from(data, pos + 4 + 12 * i)
                for msg_id in range(first, first + n):
                    self._refer(segment, msg_id)
                    self._leave(msg_id, key)
        elif kind == X:
            key = _raw_str(data, pos + 8)
            segment.refs.update(self.store.segments)
            for msg_id in self.queues.pop(key, ()):
                self._leave(msg_id, key)
        else:
            raise StoreError(f"{self.store._path(segment.number)}: unknown record type "
                             f"{kind!r}")

    def _refer(self, segment: Segment, msg_id: int) -> None:
        found = self.store._find(msg_id)
        if found is not None:
            segment.refs.add(found[0].segment.number)

    def _holds(self, msg_id: int, key: bytes) -> bool:
        found = self.store._find(msg_id)
        if found is None or not found[0].counts[found[1]]:
            return False
        gone = self.gone.get(msg_id)
        return gone is None or key not in gone

    def _leave(self, msg_id: int, key: bytes) -> None:
        if not self._holds(msg_id, key):
            return
        block, k = self.store._find(msg_id)
        delivered = self.delivered.get(msg_id)
        if delivered is not None:
            delivered.discard(key)
            if not delivered:
                del self.delivered[msg_id]
        if block.counts[k] == 1:
            block.counts[k] = 0
            self.gone.pop(msg_id, None)
            return
        self.gone.setdefault(msg_id, set()).add(key)
        self.store._release(block, k, msg_id)

    def finish(self) -> dict[str, Recovered]:
        """Each queue's ids still held; live counts per segment."""
        store = self.store
        for segment in store.segments.values():
            segment.live = sum(len(b.counts) - b.counts.count(0) for b in segment.blocks)
        out = {}
        for key, ids in self.queues.items():
            held = self._held(ids, key)
            if held:
                text = key.decode("utf-8", "surrogateescape")
                delivered = {m for m, keys in self.delivered.items() if key in keys}
                out[text] = Recovered(text, held, delivered)
        self.queues.clear()
        return out

    def _held(self, ids: array, key: bytes) -> array:
        store = self.store
        gone = self.gone
        out = array("Q")
        lo = hi = 0
        counts = None
        for msg_id in ids:
            if not lo <= msg_id < hi:
                found = store._find(msg_id)
                if found is None:
                    continue
                block = found[0]
                lo, hi, counts = block.first, block.first + len(block.counts), block.counts
            if counts[msg_id - lo] and (not gone or key not in gone.get(msg_id, ())):
                out.append(msg_id)
        return out


def _str(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return _u16.pack(len(raw)) + raw


def _raw_str(data: bytes, pos: int) -> bytes:
    (length,) = _u16.unpack_from(data, pos)
    return bytes(data[pos + 2:pos + 2 + length])


def _read_str(data, pos: int):
    (length,) = _u16.unpack_from(data, pos)
    pos += 2
    return bytes(data[pos:pos + length]).decode("utf-8", "surrogateescape"), pos + length


def _parse_publish(payload) -> StoredMessage:
    (msg_id,) = _id.unpack_from(payload, 1)
    (count,) = _u16.unpack_from(payload, 9)
    pos = 11
    queues = []
    for _ in range(count):
        queue, pos = _read_str(payload, pos)
        queues.append(queue)
    exchange, pos = _read_str(payload, pos)
    routing_key, pos = _read_str(payload, pos)
    (size,) = _u32.unpack_from(payload, pos)
    props = bytes(payload[pos + 4:pos + 4 + size])
    pos += 4 + size
    (size,) = _u32.unpack_from(payload, pos)
    body = bytes(payload[pos + 4:pos + 4 + size])
    pos += 4 + size
    arrived = None
    while pos < len(payload):  # optional tagged fields
        tag = payload[pos]
        if tag != 0x61:  # b"a": arrival time; other tags belong to later versions
            break
        (arrived,) = _id.unpack_from(payload, pos + 1)
        pos += 9
    return StoredMessage(msg_id, queues, exchange, routing_key, props, body, arrived)


def _runs(ids) -> list[tuple[int, int]]:
    runs: list[list[int]] = []
    for msg_id in ids:
        if runs and runs[-1][0] + runs[-1][1] == msg_id:
            runs[-1][1] += 1
        else:
            runs.append([msg_id, 1])
    return [(first, n) for first, n in runs]


def _record_end(data: bytes, pos: int) -> int | None:
    if pos + 8 > len(data):
        return None
    length, crc = _head.unpack_from(data, pos)
    end = pos + 8 + length
    if length == 0 or end > len(data) or zlib.crc32(memoryview(data)[pos + 8:end]) != crc:
        return None
    return end


def _write_all(file, data: bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[file.write(view):]


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sound_end(data: bytes, view: memoryview, pos: int) -> int:
    """The end of the sound record at `pos` (its length fits, its kind is known, its CRC
    matches), or 0."""
    if pos < 0 or pos + 9 > len(data):
        return 0
    length, crc = _head.unpack_from(data, pos)
    end = pos + 8 + length
    if not length or end > len(data) or data[pos + 8] not in KINDS or zlib.crc32(view[pos + 8:end]) != crc:
        return 0
    return end


def _first_bad(data: bytes, view: memoryview, pos: int) -> int:
    """Where the first unsound record from `pos` on starts; -1 when all are sound."""
    size = len(data)
    while pos < size:
        end = _sound_end(data, view, pos)
        if not end:
            return pos
        pos = end
    return -1


def _next_sound(data: bytes, view: memoryview, bad: int) -> int:
    """The first sound record after `bad` (its kind byte found by a C scan), or -1."""
    for match in _KIND_BYTE.finditer(data, bad + 9):
        start = match.start() - 8
        if _sound_end(data, view, start):
            return start
    return -1


def _torn(data: bytes, bad: int) -> bool:
    """Whether the bytes from `bad` to the end are the torn end of the last write: a record
    cut short, or zeros (a file a crash extended before its data reached the disk)."""
    if bad + 8 > len(data):
        return True
    (length,) = _u32.unpack_from(data, bad)
    tail = data[-8:]
    return bad + 8 + length > len(data) or tail == bytes(len(tail))


def _lost_ids(kept: bytes, next_first: int | None) -> str:
    """The message ids a salvaged segment no longer holds, said for the log."""
    first, seen, pos = None, [], 0
    while pos < len(kept):
        (length,) = _u32.unpack_from(kept, pos)
        kind = kept[pos + 8]
        if kind == H:
            first = _id.unpack_from(kept, pos + 9)[0]
        elif kind in (P, T):
            seen.append(_id.unpack_from(kept, pos + 9)[0])
        pos += 8 + length
    if not seen:
        return "an unknown number of messages (no intact message record is left)"
    low = first if first is not None else min(seen)
    high = next_first - 1 if next_first is not None else max(seen)
    missing = (high - low + 1) - len(set(seen))
    edge = "" if first is not None and next_first is not None else " (at least: the file's edges are damaged)"
    return f"{missing} messages (ids {low}..{high} less the {len(set(seen))} intact){edge}"


def _truncate(path: str, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)

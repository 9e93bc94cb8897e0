"""Streams in RDB files and DUMP payloads, as Redis 7.0's rdb.c writes and reads them:
RDB_TYPE_STREAM_LISTPACKS_2 (19) is written; 19, Redis 5/6's RDB_TYPE_STREAM_LISTPACKS (15)
and Redis 7.2's RDB_TYPE_STREAM_LISTPACKS_3 (21: each consumer's active time after its seen
time, which yizhan, a 7.0, does not keep) are read.

The value is the radix tree's nodes (16-byte big-endian master ID, then the node's listpack,
deleted entries included), the length, last ID, recorded first ID, max deleted ID, entries
added, then each consumer group in name order: name, last delivered ID, entries_read (-1 as
2**64-1), its PEL (raw 16-byte IDs, 8-byte little-endian delivery time, delivery count) and its
consumers (name, 8-byte seen time, their PEL's raw IDs).
"""

from __future__ import annotations

import struct

from yizhan.redis.persistence.codec import RDBError, Reader, encode_length, encode_string, listpack, parse_listpack
from yizhan.redis.types.streams import (FLAG_DELETED, FLAG_SAMEFIELDS, INVALID_ENTRIES_READ, MAX_ID, Consumer,
                                        Group, Item, Nack, Node, Stream, int_size, master_key)

T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3 = 15, 19, 21
_U64 = 1 << 64


def node_elements(node: Node) -> list[bytes]:
    """The node's listpack elements: master entry, then each entry (flags, ID deltas, fields,
    the entry's element count)."""
    out = [b"%d" % node.count, b"%d" % node.deleted, b"%d" % len(node.master_fields), *node.master_fields, b"0"]
    ms0, seq0 = node.master
    for item in node.items:
        ms, seq = item.id
        numfields = len(item.fields) // 2
        out += (b"%d" % item.flags, b"%d" % _signed(ms - ms0), b"%d" % _signed(seq - seq0))
        if item.flags & FLAG_SAMEFIELDS:
            out += item.fields[1::2]
            out.append(b"%d" % (numfields + 3))
        else:
            out.append(b"%d" % numfields)
            out += item.fields
            out.append(b"%d" % (numfields * 2 + 4))
    return out


def _signed(value: int) -> int:
    value %= _U64
    return value - _U64 if value >= 1 << 63 else value


def _id_bytes(sid) -> bytes:
    return master_key(sid)


def encode_stream(s: Stream, compress: bool = True) -> bytes:
    parts = [encode_length(len(s.nodes))]
    for node in s.nodes:
        parts.append(encode_string(master_key(node.master), compress))
        parts.append(encode_string(listpack(node_elements(node)), compress))
    parts.append(encode_length(len(s.ids)))
    for sid in (s.last_id, s.first_id, s.max_deleted):
        parts += (encode_length(sid[0]), encode_length(sid[1]))
    parts.append(encode_length(s.entries_added))
    parts.append(encode_length(len(s.groups)))
    for name, group in s.sorted_groups():
        parts.append(encode_string(name, compress))
        parts += (encode_length(group.last_id[0]), encode_length(group.last_id[1]))
        parts.append(encode_length(group.entries_read % _U64))
        parts.append(encode_length(len(group.pel)))
        for sid, nack in group.pel.items():
            parts += (_id_bytes(sid), struct.pack("<q", nack.delivery_time), encode_length(nack.delivery_count))
        parts.append(encode_length(len(group.consumers)))
        for consumer in group.sorted_consumers():
            parts.append(encode_string(consumer.name, compress))
            parts.append(struct.pack("<q", consumer.seen_time))
            parts.append(encode_length(len(consumer.pel)))
            parts.extend(_id_bytes(sid) for sid in consumer.pel)
    return b"".join(parts)


def _raw_id(r: Reader):
    raw = r.take(16)
    return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")


def _read_id(r: Reader):
    return r.length(), r.length()


def decode_node(master, blob) -> Node:
    """A node from its listpack (streamValidateListpackIntegrity's checks, shallow)."""
    elements = parse_listpack(blob)
    if not elements:
        raise RDBError("Empty listpack inside stream")
    try:
        count, deleted, numfields = int(elements[0]), int(elements[1]), int(elements[2])
        master_fields = tuple(elements[3:3 + numfields])
        at = 3 + numfields
        if elements[at] != b"0":
            raise RDBError("stream master entry terminator missing")
        at += 1
        node = Node(master, master_fields)
        while at < len(elements):
            flags = int(elements[at])
            ms = (master[0] + int(elements[at + 1])) % _U64
            seq = (master[1] + int(elements[at + 2])) % _U64
            at += 3
            if flags & FLAG_SAMEFIELDS:
                values = elements[at:at + numfields]
                fields = [x for pair in zip(master_fields, values) for x in pair]
                at += numfields
            else:
                n = int(elements[at])
                fields = list(elements[at + 1:at + 1 + 2 * n])
                at += 1 + 2 * n
            at += 1  # the entry's element count
            if len(fields) % 2:
                raise RDBError("stream entry truncated")
            node.items.append(Item((ms, seq), fields, flags, node))
    except (ValueError, IndexError):
        raise RDBError("Stream listpack integrity check failed.") from None
    live = sum(1 for item in node.items if not item.flags & FLAG_DELETED)
    if at != len(elements) or live != count or len(node.items) - live != deleted:
        raise RDBError("Stream listpack integrity check failed.")
    node.count, node.deleted = count, deleted
    node.body = len(blob) - int_size(count) - int_size(deleted)
    return node


def decode_stream(kind: int, r: Reader) -> Stream:
    s = Stream()
    for _ in range(r.length()):
        key = r.string()
        if len(key) != 16:
            raise RDBError("Stream node key entry is not the size of a stream ID")
        master = int.from_bytes(key[:8], "big"), int.from_bytes(key[8:], "big")
        node = decode_node(master, r.string())
        if s.nodes and s.nodes[-1].master >= master:
            raise RDBError("Listpack re-added with existing key")
        s.nodes.append(node)
        for item in node.items:
            if not item.flags & FLAG_DELETED:
                s.ids.append(item.id)
                s.index[item.id] = item
    length = r.length()
    s.last_id = _read_id(r)
    if kind >= T_STREAM_LISTPACKS_2:
        s.first_id = _read_id(r)
        s.max_deleted = _read_id(r)
        s.entries_added = r.length()
    else:
        s.first_id = s.ids[0] if s.ids else (0, 0)
        s.entries_added = length
    if length != len(s.ids):
        raise RDBError("Stream length inconsistent with rax entries")
    for _ in range(r.length()):
        _decode_group(kind, r, s)
    return s


def _decode_group(kind: int, r: Reader, s: Stream) -> None:
    name = r.string()
    last_id = _read_id(r)
    if kind >= T_STREAM_LISTPACKS_2:
        entries_read = r.length()
        if entries_read == MAX_ID:
            entries_read = INVALID_ENTRIES_READ
    else:
        entries_read = s.estimate_distance(last_id)
    if name in s.groups:
        raise RDBError(f"Duplicated consumer group name {name!r}")
    group = s.groups[name] = Group(last_id, entries_read)
    for _ in range(r.length()):
        sid = _raw_id(r)
        delivery_time = struct.unpack("<q", r.take(8))[0]
        count = r.length()
        if sid in group.pel:
            raise RDBError("Duplicated global PEL entry loading stream consumer group")
        group.pel[sid] = Nack(delivery_time, None, count)
    for _ in range(r.length()):
        consumer_name = r.string()
        seen = struct.unpack("<q", r.take(8))[0]
        if kind == T_STREAM_LISTPACKS_3:
            r.take(8)  # active time
        if consumer_name in group.consumers:
            raise RDBError("Duplicated consumer name loading stream consumer group")
        consumer = group.consumers[consumer_name] = Consumer(consumer_name, seen)
        for _ in range(r.length()):
            sid = _raw_id(r)
            nack = group.pel.get(sid)
            if nack is None:
                raise RDBError("Consumer entry not found in group global PEL")
            nack.consumer = consumer
            consumer.pel[sid] = nack


# -- AOF propagation: stream commands as their effect (Redis's rewrites and alsoPropagate) -------
def _word(raw) -> bytes:
    return bytes(raw).split(b"\0", 1)[0].lower()


def _trim_exact(db, argv: list, at: int) -> list:
    """XADD/XTRIM with `~`: the trim as it came out, exact ("=" and the resulting length or
    first ID, streamRewriteTrimArgument), without LIMIT (which needs "~")."""
    key = argv[1]
    s = db.data.get(key)
    out = list(argv[:at])
    i = at
    while i < len(argv):
        word = _word(argv[i])
        if word in (b"maxlen", b"minid") and i + 2 < len(argv) and _word(argv[i + 1]) == b"~":
            if type(s) is Stream:
                if word == b"maxlen":
                    threshold = b"%d" % len(s.ids)
                else:
                    first = s.nodes[0].items[0].id if s.nodes else (MAX_ID, MAX_ID)
                    threshold = b"%d-%d" % first
            else:
                threshold = argv[i + 2]
            out += (argv[i], b"=", threshold)
            i += 3
        elif word == b"limit" and i + 1 < len(argv):
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def rewrite_xadd(c, argv, reply):
    """XADD with the ID it generated and an exact trim."""
    i = 2
    while i < len(argv):
        word = _word(argv[i])
        if word == b"nomkstream":
            i += 1
        elif word in (b"maxlen", b"minid"):
            i += 3 if _word(argv[i + 1]) in (b"=", b"~") else 2
        elif word == b"limit":
            i += 2
        else:
            break
    if type(reply) is not bytes or i >= len(argv):
        return [argv]
    return [_trim_exact(c.db, list(argv[:i]) + [reply] + list(argv[i + 1:]), 2)]


def rewrite_xtrim(c, argv, reply):
    return [_trim_exact(c.db, list(argv), 2)]


def _claim(key: bytes, group_name: bytes, group: Group, sid) -> list | None:
    """streamPropagateXCLAIM: the entry's pending state, as an XCLAIM that forces it."""
    nack = group.pel.get(sid)
    if nack is None or nack.consumer is None:
        return None
    return [b"XCLAIM", key, group_name, nack.consumer.name, b"0", b"%d-%d" % sid, b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE", b"JUSTID",
            b"LASTID", b"%d-%d" % group.last_id]


def _set_id(key: bytes, group_name: bytes, group: Group) -> list:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, group_name, b"%d-%d" % group.last_id, b"ENTRIESREAD",
            b"%d" % group.entries_read]


def _parse_id(raw: bytes):
    ms, _, seq = raw.partition(b"-")
    return int(ms), int(seq)


def _served_pairs(reply) -> list:
    """[key, entries] pairs of an XREADGROUP reply (an array of pairs, or a map)."""
    if type(reply) is dict:
        return list(reply.items())
    if type(reply) is list:
        return [tuple(pair) for pair in reply]
    items = list(reply)[1:]  # a map with repeated keys: its header, then keys and values
    return list(zip(items[0::2], items[1::2]))


def rewrite_xreadgroup(c, argv, reply):
    """XREADGROUP is not propagated itself: its consumer, each delivered entry as an XCLAIM,
    and the group's new last ID."""
    if not isinstance(reply, (list, dict)):
        return []
    group_name = consumer = None
    for i in range(1, len(argv) - 2):
        if _word(argv[i]) == b"group":
            group_name, consumer = argv[i + 1], argv[i + 2]
            break
    out = []
    for key, entries in _served_pairs(reply):
        s = c.db.data.get(key)
        group = s.groups.get(group_name) if type(s) is Stream else None
        if group is None:
            continue
        out.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer])
        for entry in entries:
            claim = _claim(key, group_name, group, _parse_id(entry[0]))
            if claim is not None:
                out.append(claim)
        out.append(_set_id(key, group_name, group))
    return out


def rewrite_xclaim(c, argv, reply):
    """XCLAIM / XAUTOCLAIM as one forcing XCLAIM per claimed entry, XACK for the entries found
    deleted (they left the PEL), and the group's last ID."""
    key, group_name = argv[1], argv[2]
    s = c.db.data.get(key)
    group = s.groups.get(group_name) if type(s) is Stream else None
    if group is None or not isinstance(reply, list):
        return []
    autoclaim = _word(argv[0]) == b"xautoclaim"
    claimed = reply[1] if autoclaim else reply
    out = [[b"XGROUP", b"CREATECONSUMER", key, group_name, argv[3]]]
    for entry in claimed:
        claim = _claim(key, group_name, group, _parse_id(entry if type(entry) is bytes else entry[0]))
        if claim is not None:
            out.append(claim)
    if autoclaim and reply[2]:
        out.append([b"XACK", key, group_name, *reply[2]])
    out.append(_set_id(key, group_name, group))
    return out

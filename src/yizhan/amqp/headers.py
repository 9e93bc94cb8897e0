"""Header-table edits RabbitMQ makes to messages it passes on: rabbit_misc:set_table_value
(store the key, then sort the whole table by key) and the `x-delivery-count` header quorum
queues add (rabbit_basic:add_header): to every basic.get reply, and to a consumer's delivery only
once the message has come back (RabbitMQ 3.10's rabbit_fifo keeps no count in a fresh message's
header, and its consumer path adds the header only when the count is there)."""

from __future__ import annotations

from yizhan.amqp import codec
from yizhan.amqp.codec import LONG, FieldTable


def set_table_value(headers, key: str, kind, value) -> FieldTable:
    """rabbit_misc:set_table_value: lists:keystore, then lists:keysort (stable) by key bytes."""
    entries = list(headers)
    for index, entry in enumerate(entries):
        if entry[0] == key:
            entries[index] = (key, kind, value)
            break
    else:
        entries.append((key, kind, value))
    return sorted_table(entries)


def sorted_table(entries) -> FieldTable:
    return FieldTable(sorted(entries, key=lambda e: e[0].encode("utf-8", "surrogateescape")))


def with_delivery_count(raw_properties: bytes, count: int) -> bytes:
    """The properties a quorum queue delivers: `x-delivery-count` (long) set in the headers."""
    props = codec.decode_properties(raw_properties)
    headers = props.headers if props.headers is not None else FieldTable()
    props.headers = set_table_value(headers, "x-delivery-count", LONG, count)
    return codec.encode_properties(props)

"""Dead-lettering, as rabbit_dead_letter (3.10) does it: a message leaving a queue for a
reason (rejected, expired, maxlen, delivery_limit) is republished to the queue's dead-letter
exchange as a new message whose `x-death` header records the death, without its expiration.

The copy keeps the body and the other properties (a persistent message stays persistent and is
stored again by the durable queues it reaches); it is routed with the dead-letter routing key
if the queue has one (the CC header is then dropped) or else with the original routing keys
(CC and BCC ones included). A missing exchange drops the message; queues the message already
died in for a reason other than `rejected` with no rejection since (a "fully automatic" cycle)
do not get it. Dead-lettering is at-most-once, as in 3.10: no confirms between queues.

Every message that leaves for a reason is counted here, DLX or not (rabbit_global_counters'
messages_dead_lettered_*: the strategy is `disabled` when the queue has no dead-letter exchange
that exists, `at_least_once` for a quorum queue that asks for it with overflow reject-publish,
else `at_most_once`); an at_least_once copy that reached a queue counts as confirmed too.
"""

from __future__ import annotations

from yizhan.amqp import arguments, codec, counters
from yizhan.amqp.codec import ARRAY, LONG, LONGSTR, TABLE, TIMESTAMP, FieldTable
from yizhan.amqp.headers import set_table_value, sorted_table
from yizhan.amqp.message import Message

REJECTED, EXPIRED, MAXLEN, DELIVERY_LIMIT = "rejected", "expired", "maxlen", "delivery_limit"
DISABLED, AT_MOST_ONCE, AT_LEAST_ONCE = "disabled", "at_most_once", "at_least_once"


def dead_letter(queue, messages, reason: str) -> None:
    """Count `messages` (leaving `queue` for `reason`) as dead-lettered and publish each to the
    queue's dead-letter exchange, if it has one that exists; otherwise they are dropped."""
    settings = queue.settings
    vhost = queue.vhost
    dlx = settings.dlx if settings is not None else None
    exchange = vhost.exchanges.get(dlx) if dlx is not None else None
    strategy = dead_letter_strategy(settings) if exchange is not None else DISABLED
    kind = arguments.queue_type(queue.arguments)
    counters.count_dead_lettered(vhost, kind, strategy, reason, len(messages))
    if exchange is None:
        return
    now_s = vhost.timers.clock.ms() // 1000
    for message in messages:
        copy = dead_letter_copy(message, reason, queue.name, settings.dlx, settings.dlrk, now_s)
        targets = vhost.route(exchange, copy.routing_keys, copy)
        if reason != REJECTED:
            deaths = _deaths(copy)
            targets = [q for q in targets if not is_cycle(q.name, deaths)]
        if not targets:
            continue
        if strategy == AT_LEAST_ONCE:
            counters.count_dead_lettered(vhost, kind, strategy, "confirmed", 1)
        vhost.store.publish(copy, targets)
        for target in targets:
            target.publish(copy)


def dead_letter_strategy(settings) -> str:
    """rabbit_quorum_queue's dead_letter_handler: at-least-once needs overflow reject-publish
    (otherwise the queue falls back to at-most-once); classic queues are at-most-once."""
    if settings.quorum and settings.dlx_strategy == "at-least-once" \
            and settings.overflow == "reject-publish":
        return AT_LEAST_ONCE
    return AT_MOST_ONCE


def dead_letter_copy(message, reason: str, queue_name: str, dlx: str, dlrk: str | None,
                     now_s: int) -> Message:
    """rabbit_dead_letter:make_msg."""
    props = codec.decode_properties(message.raw_properties)
    headers = props.headers if props.headers is not None else FieldTable()
    routes = [message.routing_keys[0]] + _cc_routes(headers)
    info = [("reason", LONGSTR, reason.encode()), ("queue", LONGSTR, _b(queue_name)),
            ("time", TIMESTAMP, now_s), ("exchange", LONGSTR, _b(message.exchange)),
            ("routing-keys", ARRAY, [(LONGSTR, _b(key)) for key in routes])]
    if props.expiration is not None:
        info.append(("original-expiration", LONGSTR, props.expiration))
    headers = update_x_death(info, headers)
    if dlrk is not None:
        keys = [dlrk]
        headers = FieldTable(entry for entry in headers if entry[0] != "CC")
    else:
        keys = list(message.routing_keys)
    props.headers = headers
    props.expiration = None
    copy = Message(dlx, keys[0], codec.encode_properties(props), message.body, None, keys)
    return copy


def update_x_death(info: list, headers: FieldTable) -> FieldTable:
    """rabbit_dead_letter:update_x_death_header."""
    exchange, queue, reason = info[3][2], info[1][2], info[0][2]
    found = headers.lookup("x-death")
    if found is None:
        headers = set_table_value(headers, "x-first-death-reason", LONGSTR, reason)
        headers = set_table_value(headers, "x-first-death-queue", LONGSTR, queue)
        headers = set_table_value(headers, "x-first-death-exchange", LONGSTR, exchange)
        return set_table_value(headers, "x-death", ARRAY, [(TABLE, FieldTable([("count", LONG, 1)] + info))])
    kind, tables = found
    if kind is not ARRAY:
        return set_table_value(headers, "x-death", ARRAY, [(TABLE, FieldTable([("count", LONG, 1)] + info))])
    grouped = _group_by_queue_and_reason(tables)
    matches = [t for t in grouped if _matches(t, queue, reason)]
    others = [t for t in grouped if not _matches(t, queue, reason)]
    if not matches:
        first = [("count", LONG, 1)] + info
    else:
        first = _increment_count(matches[0][1])
    return set_table_value(headers, "x-death", ARRAY, [(TABLE, sorted_table(first))] + others)


def _group_by_queue_and_reason(tables: list) -> list:
    """Groups pre-#78 x-death entries; as in 3.10 the result of two or more comes reversed."""
    if len(tables) <= 1:
        return list(tables)
    seen = set()
    grouped: list = []
    for item in tables:
        info = item[1] if item[0] is TABLE else None
        queue, reason = _event_key(info, "queue"), _event_key(info, "reason")
        same = [t for t in tables if _matches(t, queue, reason)]
        table = same[0] if same else item
        augmented = _ensure_count(table, len(same) or 1)
        if not grouped or (queue, reason) not in seen:
            grouped.insert(0, augmented)
        seen.add((queue, reason))
    return grouped


def _ensure_count(item, count: int):
    kind, info = item
    if kind is not TABLE or info.lookup("count") is not None:
        return item
    return (kind, FieldTable([("count", LONG, count)] + list(info)))


def _increment_count(info: FieldTable) -> list:
    """rabbit_dead_letter:increment_xdeath_event_count (lists:keyreplace: the first only)."""
    entries = list(info)
    for index, (key, _kind, value) in enumerate(entries):
        if key == "count":
            entries[index] = ("count", LONG, value + 1)
            return entries
    return [("count", LONG, 1)] + entries


def _event_key(info, key):
    if info is None:
        return None
    found = info.lookup(key)
    return None if found is None else found[1]


def _matches(item, queue, reason) -> bool:
    kind, info = item
    if kind is not TABLE:
        return False
    return _event_key(info, "queue") == queue and _event_key(info, "reason") == reason


def _deaths(message) -> list:
    headers = message.headers()
    found = headers.lookup("x-death") if headers is not None else None
    if found is None or found[0] is not ARRAY:
        return []
    return found[1]


def is_cycle(queue_name: str, deaths: list) -> bool:
    """rabbit_dead_letter:is_cycle: the message died in this queue before, and no death since
    (that one included) was a rejection."""
    name = _b(queue_name)
    for kind, info in deaths:
        if kind is not TABLE:
            return False
        if info.lookup("reason") == (LONGSTR, b"rejected"):
            return False
        if info.lookup("queue") == (LONGSTR, name):
            return True
    return False


def _cc_routes(headers: FieldTable) -> list[str]:
    """rabbit_basic:header_routes over the CC header (BCC was removed at publish)."""
    routes = []
    for key in ("CC", "BCC"):
        found = headers.lookup(key)
        if found is not None and found[0] is ARRAY:
            routes += [v.decode("utf-8", "surrogateescape") for k, v in found[1] if k is LONGSTR]
    return routes


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")

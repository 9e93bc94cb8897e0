"""POST /api/exchanges/{vhost}/{name}/publish and POST /api/queues/{vhost}/{name}/get, as the
management plugin answers them.

Publishing goes through basic.publish's checks and routing (channel.check_properties,
channel.route_message); getting is basic.get's (queue.get, then the queue's requeue, reject
or settle, as a channel's ack, reject or nack would), so a message behaves the same whichever
way it came or went.
"""

from __future__ import annotations

import base64
import binascii

from yizhan.amqp import codec, errors, queue_types
from yizhan.amqp.channel import check_properties, count_get, route_message
from yizhan.amqp.errors import AMQPError
from yizhan.amqp.message import Message
from yizhan.amqp.store.definitions_json import amqp_table, json_value
from yizhan.management.call import Call, HTTPError

ACKMODES = {"ack_requeue_true": True, "reject_requeue_true": True,
            "ack_requeue_false": None, "reject_requeue_false": False}
SHORTSTR_PROPERTIES = ("content_type", "content_encoding", "correlation_id", "reply_to",
                       "expiration", "message_id", "type", "user_id", "app_id", "cluster_id")


def _required(body: dict, keys: tuple) -> None:
    """rabbit_mgmt_util:with_decode's answer to missing keys."""
    missing = [k for k in keys if k not in body]
    if missing:
        raise HTTPError(400, "bad_request", "[" + ",".join(f"{{key_missing,{k}}}" for k in missing) + "]")


def _bad_request(exc: AMQPError) -> HTTPError:
    """The plugin's direct channel failed: 400 with the channel error's code and text."""
    return HTTPError(400, "bad_request", f"{exc.code} {exc.reply_text.decode('utf-8', 'replace')}")


# -- publish ------------------------------------------------------------------------------------
def post_publish(call: Call):
    vhost = call.vhost(call.params[0])
    body = call.json_body()
    _required(body, ("properties", "routing_key", "payload", "payload_encoding"))
    payload = _payload(body["payload"], body["payload_encoding"])
    name = "" if call.params[1] == "amq.default" else call.params[1]
    routing_key = str(body["routing_key"])
    try:
        raw = codec.encode_properties(_properties(body["properties"]))
        exchange = vhost.exchanges.get(name)
        if exchange is None:
            raise errors.no_exchange(name, vhost.name)
        if exchange.internal:
            raise errors.internal_exchange(name, vhost.name)
        keys, raw, expiration, props = check_properties(routing_key, raw, call.user.name)
        message = Message(name, routing_key, raw, payload, None, keys)
        message.expiration = expiration
        message._properties = props
        queues, _ = route_message(call.broker, vhost, exchange, message)
    except AMQPError as exc:
        raise _bad_request(exc) from None
    call.broker.run_deferred()
    return {"routed": bool(queues)}


def _payload(payload, encoding) -> bytes:
    if encoding == "string":
        return str(payload).encode("utf-8")
    if encoding == "base64":
        try:
            return base64.b64decode(str(payload), validate=True)
        except (binascii.Error, ValueError):
            raise HTTPError(400, "bad_request", "payload_not_base64") from None
    raise HTTPError(400, "bad_request", ["unsupported_encoding", encoding])


def _properties(given) -> codec.Properties:
    """rabbit_mgmt_format:to_basic_properties: JSON values into basic properties."""
    if not isinstance(given, dict):
        given = {}
    props = codec.Properties()
    for key, value in given.items():
        if key in SHORTSTR_PROPERTIES:
            setattr(props, key, str(value).encode("utf-8"))
        elif key in ("delivery_mode", "priority", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise HTTPError(400, "bad_request", f"{key} must be a number")
            setattr(props, key, value)
        elif key == "headers":
            try:
                props.headers = amqp_table(value if isinstance(value, dict) else {})
            except ValueError as exc:
                raise HTTPError(400, "bad_request", str(exc)) from None
    return props


# -- get ----------------------------------------------------------------------------------------
def post_get(call: Call):
    vhost = call.vhost(call.params[0])
    body = call.json_body()
    _required(body, ("ackmode", "encoding"))
    ackmode, encoding = body["ackmode"], body["encoding"]
    if ackmode not in ACKMODES:
        raise HTTPError(400, "bad_request", f"Unknown ackmode: {ackmode}")
    if encoding not in ("auto", "base64"):
        raise HTTPError(400, "bad_request", f"Unknown encoding: {encoding}")
    count = _integer(body.get("count", 1), "count")
    truncate = body.get("truncate")
    truncate = None if truncate in (None, "") else _integer(truncate, "truncate")
    queue = vhost.queues.get(call.params[1])
    if queue is None:
        raise HTTPError(404, "not_found", errors.no_queue(call.params[1], vhost.name)
                        .reply_text.decode("utf-8", "replace"))
    try:
        vhost.check_exclusive(queue, None)
        queue_types.check_get(queue)
    except AMQPError as exc:
        raise _bad_request(exc) from None
    fetched = []
    for _ in range(count):
        entry = queue.get()
        if entry is None:
            break
        count_get(None, queue, entry, False)
        queue.unacked += 1
        queue.delivered(entry, False)
        fetched.append((entry, queue.message_count))
    shown = [_message_json(entry, left, encoding, truncate) for entry, left in fetched]
    _settle(queue, [entry for entry, _ in fetched], ACKMODES[ackmode])
    return shown


def _settle(queue, entries: list, requeue: bool | None) -> None:
    """As a channel settles its basic.get deliveries: requeued, rejected or acknowledged."""
    if not entries:
        return
    if requeue is None:
        queue.n_ack += len(entries)
    if requeue:
        queue.requeue(entries)
    elif requeue is False:
        queue.reject(entries)
    else:
        queue.settle(entries)


def _integer(value, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPError(400, "bad_request", f"{what} must be an integer") from None
    return max(number, 0)


def _message_json(entry, left: int, encoding: str, truncate: int | None) -> dict:
    message = entry.message
    body = message.body
    shown = body if truncate is None else body[:truncate]
    if encoding == "auto":
        try:
            payload, kind = shown.decode("utf-8"), "string"
        except UnicodeDecodeError:
            payload, kind = base64.b64encode(shown).decode("ascii"), "base64"
    else:
        payload, kind = base64.b64encode(shown).decode("ascii"), "base64"
    return {"payload_bytes": len(body), "redelivered": entry.redelivered,
            "exchange": message.exchange, "routing_key": message.routing_key,
            "message_count": left, "properties": properties_json(message.raw_properties),
            "payload": payload, "payload_encoding": kind}


def properties_json(raw: bytes):
    """rabbit_mgmt_format's basic properties: set fields only; none at all is Erlang's []."""
    props = codec.decode_properties(raw)
    shown = {}
    for name, kind in codec.PROPERTY_FIELDS:
        value = getattr(props, name)
        if value is None:
            continue
        if kind == "table":
            shown[name] = {k: json_value(v) for k, v in value.to_python().items()}
        elif kind == "shortstr":
            shown[name] = json_value(value)
        else:
            shown[name] = value
    return shown or []

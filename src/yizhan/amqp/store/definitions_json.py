"""Definitions export/import in RabbitMQ's definitions.json format (`yizhan definitions ...`).

Export reads a data dir's definitions log (without rewriting it, so a running server is not
disturbed) and writes what `rabbitmqctl export_definitions` writes: vhosts, users,
permissions, exchanges, queues and bindings (the built-in guest user, since yizhan does not
keep users yet). Import appends the file's durable exchanges, queues and bindings to the log
of a stopped server's data dir; they appear at its next start. Users, permissions, policies and
parameters in the file are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import os

from yizhan.amqp import codec
from yizhan.amqp.store.definitions import DefinitionsLog
from yizhan.amqp.store.recovery import _table

VERSION = "3.10.8"


def log_path(data_dir: str) -> str:
    return os.path.join(data_dir, "amqp", "definitions.log")


def export_definitions(data_dir: str) -> dict:
    state = DefinitionsLog(log_path(data_dir)).read()
    vhosts = sorted({"/"} | {key[0] for key in [*state.exchanges, *state.queues]})
    return {
        "rabbit_version": VERSION, "rabbitmq_version": VERSION, "product_name": "RabbitMQ",
        "product_version": VERSION,
        "users": [{"name": "guest", "password_hash": _password_hash("guest"),
                   "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": ["administrator"], "limits": {}}],
        "vhosts": [{"name": name} for name in vhosts],
        "permissions": [{"user": "guest", "vhost": name, "configure": ".*", "write": ".*",
                         "read": ".*"} for name in vhosts],
        "topic_permissions": [], "parameters": [], "global_parameters": [], "policies": [],
        "queues": [{"name": r["name"], "vhost": r["vhost"], "durable": True,
                    "auto_delete": r["auto_delete"], "arguments": _json_args(r["args"])}
                   for r in state.queues.values()],
        "exchanges": [{"name": r["name"], "vhost": r["vhost"], "type": r["type"],
                       "durable": True, "auto_delete": r["auto_delete"],
                       "internal": r["internal"], "arguments": _json_args(r["args"])}
                      for r in state.exchanges.values()],
        "bindings": [{"source": r["source"], "vhost": r["vhost"], "destination": r["dest"],
                      "destination_type": r["kind"], "routing_key": r["key"],
                      "arguments": _json_args(r["args"])} for r in state.bindings.values()],
    }


def import_definitions(data_dir: str, definitions: dict) -> int:
    """Append the durable exchanges, queues and bindings; the number of records added."""
    log = DefinitionsLog(log_path(data_dir))
    os.makedirs(os.path.dirname(log.path), exist_ok=True)
    log.load()
    records = []
    for x in definitions.get("exchanges", []):
        if x.get("durable", True) and not x["name"].startswith("amq.") and x["name"]:
            records.append({"op": "x+", "vhost": x["vhost"], "name": x["name"],
                            "type": x["type"], "auto_delete": x.get("auto_delete", False),
                            "internal": x.get("internal", False),
                            "args": _hex_args(x.get("arguments"))})
    for q in definitions.get("queues", []):
        if q.get("durable", True):
            records.append({"op": "q+", "vhost": q["vhost"], "name": q["name"],
                            "auto_delete": q.get("auto_delete", False),
                            "args": _hex_args(q.get("arguments"))})
    for b in definitions.get("bindings", []):
        records.append({"op": "b+", "vhost": b["vhost"], "source": b["source"],
                        "kind": b["destination_type"], "dest": b["destination"],
                        "key": b["routing_key"], "args": _hex_args(b.get("arguments"))})
    try:
        for record in records:
            log.append(record)
    finally:
        log.close()
    return len(records)


def _json_args(hex_text: str) -> dict:
    return {k: _json_value(v) for k, v in _table(hex_text).to_python().items()}


def _json_value(value):
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def _hex_args(arguments: dict | None) -> str:
    return codec.encode_table(arguments).hex() if arguments else ""


def _password_hash(password: str) -> str:
    """rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()

"""Definitions export/import in RabbitMQ's definitions.json format (`yizhan definitions ...`).

Export reads a data dir's definitions log (without rewriting it, so a running server is not
disturbed) and writes what `rabbitmqctl export_definitions` writes: vhosts, users (RabbitMQ's
salted password hashes), permissions, exchanges, queues and bindings, keys sorted as
RabbitMQ sorts them. Queues carry no `type` field (3.10's import takes the type from
x-queue-type); vhosts carry `limits`/`metadata` when they were imported with them. Users and
vhosts of a config file (`--config`) are included, their plain passwords hashed; the built-in
guest is exported unless the log or the config has its own guest. Internal exchanges are
exported too (RabbitMQ's own export leaves them out; its import takes them).

Import appends the file's vhosts, users, permissions and durable exchanges, queues and
bindings to the log of a stopped server's data dir; they appear at its next start. Non-durable
exchanges and queues (RabbitMQ exports them) cannot outlive a stopped server and are skipped,
as are parameters and topic permissions; policies are checked as RabbitMQ checks them and kept. Argument values get the AMQP types
RabbitMQ gives JSON values (rabbit_misc:to_amqp_table: integers long, floats double).
"""

from __future__ import annotations

import base64
import os

from yizhan.amqp import codec, passwords, policies
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.store.definitions import DefinitionsLog

VERSION = "3.10.8"
ALL = {"configure": ".*", "write": ".*", "read": ".*"}


def log_path(data_dir: str) -> str:
    return os.path.join(data_dir, "amqp", "definitions.log")


# -- export -------------------------------------------------------------------------------------
def export_definitions(data_dir: str, config=None) -> dict:
    """definitions.json for a data dir (and optionally the users/vhosts of a `Config`)."""
    state = DefinitionsLog(log_path(data_dir)).read()
    users, permissions = _export_accounts(state, config)
    vhosts = _export_vhosts(state, config, permissions)
    return {
        "rabbit_version": VERSION, "rabbitmq_version": VERSION,
        "users": sorted(users, key=lambda u: u["name"]),
        "vhosts": vhosts,
        "permissions": sorted(permissions, key=lambda p: (p["user"], p["vhost"])),
        "topic_permissions": [], "parameters": [], "global_parameters": [],
        "policies": _export_policies(state, config),
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


def _export_policies(state, config) -> list[dict]:
    """Stored policies and the config file's (which win), sorted by vhost and name."""
    found = {key: dict(r) for key, r in state.policies.items()}
    for record in (config.amqp_policies if config is not None else ()):
        found[(record["vhost"], record["name"])] = dict(record)
    out = []
    for key in sorted(found):
        record = found[key]
        record.pop("op", None)
        out.append({k: record[k] for k in sorted(record)})
    return out


def _export_accounts(state, config) -> tuple[list[dict], list[dict]]:
    """Users and permissions: stored ones, then the config file's (which win), then guest."""
    users = {name: _user_json(r) for name, r in state.users.items()}
    permissions = {key: {"user": key[0], "vhost": key[1],
                         **{k: r.get(k, ".*") for k in ALL}}
                   for key, r in state.permissions.items() if key[0] in users}
    for name, password, vhosts in (config.amqp_users if config is not None else ()):
        users[name] = _new_user(name, password, [])
        permissions = {k: v for k, v in permissions.items() if k[0] != name}
        permissions.update({(name, v): {"user": name, "vhost": v, **ALL}
                            for v in vhosts if v != "*"})  # "*" (any vhost) has no export
    if "guest" not in users:
        users["guest"] = _new_user("guest", "guest", ["administrator"])
        permissions[("guest", "/")] = {"user": "guest", "vhost": "/", **ALL}
    return list(users.values()), list(permissions.values())


def _user_json(record: dict) -> dict:
    return {"name": record["name"], "password_hash": record.get("password_hash") or "",
            "hashing_algorithm": record.get("hashing_algorithm") or passwords.DEFAULT_ALGORITHM,
            "tags": list(record.get("tags") or []), "limits": dict(record.get("limits") or {})}


def _new_user(name: str, password: str, tags: list) -> dict:
    return {"name": name, "password_hash": passwords.hash_password(password),
            "hashing_algorithm": passwords.DEFAULT_ALGORITHM, "tags": tags, "limits": {}}


def _export_vhosts(state, config, permissions: list[dict]) -> list[dict]:
    names = {"/"} | set(state.vhosts) | {p["vhost"] for p in permissions}
    names |= {key[0] for key in [*state.exchanges, *state.queues, *state.bindings,
                                 *state.policies]}
    if config is not None:
        names |= set(config.amqp_vhosts) | {p["vhost"] for p in config.amqp_policies}
    out = []
    for name in sorted(names):
        record = state.vhosts.get(name)
        fields = {k: record[k] for k in ("limits", "metadata") if k in record} if record else {}
        out.append({"name": name, **fields})
    return out


# -- import -------------------------------------------------------------------------------------
def import_definitions(data_dir: str, definitions: dict) -> int:
    """Append the accounts and durable topology of a definitions.json; the records added."""
    records = [*_account_records(definitions), *_policy_records(definitions),
               *_topology_records(definitions)]
    log = DefinitionsLog(log_path(data_dir))
    os.makedirs(os.path.dirname(log.path), exist_ok=True)
    log.load()
    try:
        for record in records:
            log.append(record)
    finally:
        log.close()
    return len(records)


def _account_records(definitions: dict) -> list[dict]:
    listed = {v["name"]: v for v in definitions.get("vhosts", [])}
    used = {item["vhost"] for kind in ("permissions", "policies", "exchanges", "queues", "bindings")
            for item in definitions.get(kind, [])}
    records = []
    for name in sorted(set(listed) | used):
        v = listed.get(name, {})
        records.append({"op": "v+", "name": name,
                        **{k: v[k] for k in ("limits", "metadata") if k in v}})
    for u in definitions.get("users", []):
        records.append(_user_record(u))
    for p in definitions.get("permissions", []):
        records.append({"op": "p+", "user": p["user"], "vhost": p["vhost"],
                        **{k: p.get(k, "") for k in ALL}})
    return records


def _policy_records(definitions: dict) -> list[dict]:
    """Policies, checked as RabbitMQ checks them (a bad one stops the import: ValueError)."""
    records = []
    for item in definitions.get("policies", []):
        try:
            policy = policies.make_policy(item["vhost"], item["name"], item["pattern"],
                                          item.get("definition"), item.get("priority", 0),
                                          item.get("apply-to", "all"))
        except policies.PolicyError as exc:
            raise ValueError(f"policy {item['name']!r} in vhost {item['vhost']!r}: {exc}") from None
        records.append({"op": "P+", **policy.record()})
    return records


def _user_record(user: dict) -> dict:
    algorithm = user.get("hashing_algorithm") or passwords.DEFAULT_ALGORITHM
    if algorithm not in passwords.ALGORITHMS:
        raise ValueError(f"user {user['name']!r}: unknown hashing_algorithm {algorithm!r}")
    if "password" in user:  # a plain password, as RabbitMQ's import also accepts
        password_hash = passwords.hash_password(user["password"], algorithm)
    else:
        password_hash = user.get("password_hash") or ""
    tags = user.get("tags") or []
    if isinstance(tags, str):  # older exports: "administrator,management"
        tags = [t for t in tags.split(",") if t]
    return {"op": "u+", "name": user["name"], "password_hash": password_hash,
            "hashing_algorithm": algorithm, "tags": tags, "limits": user.get("limits") or {}}


def _topology_records(definitions: dict) -> list[dict]:
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
    return records


# -- arguments ----------------------------------------------------------------------------------
def _json_args(hex_text: str) -> dict:
    """rabbit_misc:amqp_table: a field table as JSON values (non-UTF-8 strings as base64)."""
    return {k: json_value(v) for k, v in sorted(_table(hex_text).to_python().items())}


def json_value(value):
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "Not UTF-8, base64 is: " + base64.b64encode(bytes(value)).decode()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in sorted(value.items())}
    return value


def _table(hex_text: str) -> FieldTable:
    """A stored argument table (hex of the encoded field table, length prefix included)."""
    return codec.decode_table(bytes.fromhex(hex_text)[4:]) if hex_text else FieldTable()


def _hex_args(arguments: dict | None) -> str:
    return codec.encode_table(amqp_table(arguments)).hex() if arguments else ""


def amqp_table(arguments: dict) -> FieldTable:
    """rabbit_misc:to_amqp_table: keys in Erlang map order (sorted), typed values."""
    return FieldTable((key, *_typed(arguments[key])) for key in sorted(arguments))


def _typed(value) -> tuple:
    if isinstance(value, bool):
        return codec.BOOL, value
    if isinstance(value, int):
        return codec.LONG, value
    if isinstance(value, float):
        return codec.DOUBLE, value
    if isinstance(value, str):
        return codec.LONGSTR, value.encode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return codec.TABLE, amqp_table(value)
    if isinstance(value, list):
        return codec.ARRAY, [_typed(v) for v in value]
    raise ValueError(f"argument value {value!r} has no AMQP type (null is not allowed)")

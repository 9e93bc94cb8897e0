"""GET and POST /api/definitions[/{vhost}]: RabbitMQ's definitions.json, the format of
`yizhan definitions export/import`.

Export reads the running server's definitions log (store/definitions_json.export_definitions,
the same function as the CLI), so it lists what a restart would restore: durable exchanges,
queues and bindings, users, vhosts, permissions and policies. Import applies a file to the
running broker through the ordinary paths: accounts and policies through amqp/accounts.py,
exchanges, queues and bindings through the vhost's declare and bind (exchange.declare,
queue.declare, queue.bind), so durable ones reach the log as if declared over AMQP.
"""

from __future__ import annotations

from yizhan.amqp import accounts, passwords, policies
from yizhan.amqp.errors import AMQPError
from yizhan.amqp.store.definitions_json import amqp_table, export_definitions
from yizhan.management.call import Call, HTTPError, require_administrator

VHOST_KEYS = ("parameters", "policies", "queues", "exchanges", "bindings")


def get_definitions(call: Call):
    """The CLI's export plus the product fields the plugin's export adds."""
    require_administrator(call)
    full = export_definitions(call.runtime.config.data_dir, call.runtime.config)
    return {**full, "product_name": "RabbitMQ", "product_version": full["rabbitmq_version"]}


def get_vhost_definitions(call: Call):
    require_administrator(call)
    vhost = call.vhost(call.params[0])
    full = export_definitions(call.runtime.config.data_dir, call.runtime.config)
    out = {"rabbit_version": full["rabbit_version"]}
    for key in VHOST_KEYS:
        out[key] = [{k: v for k, v in item.items() if k != "vhost"}
                    for item in full[key] if item.get("vhost") == vhost.name]
    return out


def post_definitions(call: Call):
    require_administrator(call)
    import_live(call.broker, call.json_body())


def post_vhost_definitions(call: Call):
    require_administrator(call)
    vhost = call.vhost(call.params[0])
    body = call.json_body()
    scoped = {key: [{**item, "vhost": vhost.name} for item in body.get(key) or []
                    if isinstance(item, dict)] for key in VHOST_KEYS}
    import_live(call.broker, scoped)


def import_live(broker, definitions: dict) -> None:
    """Apply a definitions.json to the running broker; a bad item answers 400 (the items
    before it stay applied, as with RabbitMQ's import)."""
    try:
        _import_accounts(broker, definitions)
        _import_topology(broker, definitions)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HTTPError(400, "bad_request", f"invalid definitions: {exc}") from None
    except policies.PolicyError as exc:
        raise HTTPError(400, "bad_request", str(exc)) from None
    except AMQPError as exc:
        raise HTTPError(400, "bad_request", exc.reply_text.decode("utf-8", "replace")) from None
    finally:
        broker.run_deferred()


def _import_accounts(broker, definitions: dict) -> None:
    for item in definitions.get("vhosts") or []:
        metadata = item.get("metadata") or {}
        accounts.put_vhost(broker, item["name"], metadata.get("description", ""),
                           metadata.get("tags", []), creator=None)
    for item in definitions.get("users") or []:
        tags = item.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t]
        algorithm = item.get("hashing_algorithm") or passwords.DEFAULT_ALGORITHM
        if algorithm not in passwords.ALGORITHMS:
            raise ValueError(f"user {item['name']!r}: unknown hashing_algorithm {algorithm!r}")
        accounts.put_user(broker, item["name"], tags, item.get("password"),
                          item.get("password_hash", ""), algorithm)
    for item in definitions.get("permissions") or []:
        if item["user"] in broker.users:
            broker.add_vhost(item["vhost"])
            accounts.set_permissions(broker, item["user"], item["vhost"],
                                     {k: item.get(k, "") for k in accounts.PERMISSION_KEYS})
    for item in definitions.get("policies") or []:
        broker.add_vhost(item["vhost"])
        accounts.set_policy(broker, item["vhost"], item["name"], item["pattern"],
                            item.get("definition"), item.get("priority", 0),
                            item.get("apply-to", "all"))


def _import_topology(broker, definitions: dict) -> None:
    for item in definitions.get("exchanges") or []:
        vhost = broker.vhosts[item["vhost"]]
        vhost.declare_exchange(item["name"], item["type"], False, item.get("durable", True),
                               item.get("auto_delete", False), item.get("internal", False),
                               amqp_table(item.get("arguments") or {}))
    for item in definitions.get("queues") or []:
        vhost = broker.vhosts[item["vhost"]]
        vhost.declare_queue(None, item["name"], False, item.get("durable", True), False,
                            item.get("auto_delete", False), amqp_table(item.get("arguments") or {}))
    for item in definitions.get("bindings") or []:
        vhost = broker.vhosts[item["vhost"]]
        vhost.bind(item["source"], item["destination_type"], item["destination"],
                   item.get("routing_key", ""), amqp_table(item.get("arguments") or {}) or None, None)

"""Management API handlers for vhosts, users, permissions, policies and parameters: reads, and
changes made through amqp/accounts.py (the definitions-log records a restart replays).

Who may do what, as rabbit_mgmt_util checks it: users, permissions and vhost changes need
administrator; policies and parameters need policymaker (or administrator) and access to the
vhost; monitoring may not read parameters.
"""

from __future__ import annotations

from yizhan.amqp import accounts, passwords, policies
from yizhan.management import views
from yizhan.management.call import (NOT_FOUND, Call, HTTPError, created, require_administrator)

NOT_AUTHORISED = HTTPError(401, "not_authorised", "User not authorised to access object")


def _tags(value) -> list[str]:
    """Tags as the API takes them: a comma-separated string or a list."""
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    return [t.strip() for t in str(value or "").split(",") if t.strip()]


# -- vhosts -------------------------------------------------------------------------------------
def put_vhost(call: Call):
    require_administrator(call)
    body = call.json_body()
    metadata = getattr(call.broker.vhosts.get(call.params[0]), "metadata", {}) or {}
    description = body.get("description", metadata.get("description", ""))
    tags = _tags(body["tags"]) if "tags" in body else list(metadata.get("tags", []))
    new = accounts.put_vhost(call.broker, call.params[0], str(description), tags,
                             creator=call.user.name)
    return created(not new)


def delete_vhost(call: Call):
    require_administrator(call)
    if not accounts.delete_vhost(call.broker, call.params[0]):
        raise NOT_FOUND


def get_vhost_permissions(call: Call):
    require_administrator(call)
    vhost = call.vhost(call.params[0])
    return [{"vhost": row["vhost"], "user": row["user"], **{k: row[k] for k in accounts.PERMISSION_KEYS}}
            for row in views.permissions_json(call.broker) if row["vhost"] == vhost.name]


# -- users --------------------------------------------------------------------------------------
def put_user(call: Call):
    require_administrator(call)
    body = call.json_body()
    if "tags" not in body:
        raise HTTPError(400, "bad_request", "tags_not_present")
    algorithm = body.get("hashing_algorithm") or passwords.DEFAULT_ALGORITHM
    if algorithm not in passwords.ALGORITHMS:
        raise HTTPError(400, "bad_request", f"unknown hashing algorithm {algorithm}")
    password = body.get("password")
    password_hash = body.get("password_hash") if password is None else None
    new = accounts.put_user(call.broker, call.params[0], _tags(body["tags"]),
                            None if password is None else str(password),
                            None if password_hash is None else str(password_hash), algorithm)
    return created(not new)


def delete_user(call: Call):
    require_administrator(call)
    if not accounts.delete_user(call.broker, call.params[0]):
        raise NOT_FOUND


def get_users_without_permissions(call: Call):
    require_administrator(call)
    return [views.user_json(call.broker.users[name]) for name in sorted(call.broker.users)
            if not call.broker.users[name].vhosts]


def get_user_permissions(call: Call):
    require_administrator(call)
    if call.params[0] not in call.broker.users:
        raise NOT_FOUND
    return [row for row in views.permissions_json(call.broker) if row["user"] == call.params[0]]


# -- permissions --------------------------------------------------------------------------------
def _permission(call: Call) -> dict:
    vhost, user = call.params
    for row in views.permissions_json(call.broker):
        if row["vhost"] == vhost and row["user"] == user:
            return row
    raise NOT_FOUND


def get_permission(call: Call):
    require_administrator(call)
    return _permission(call)


def put_permission(call: Call):
    require_administrator(call)
    body = call.json_body()
    missing = [k for k in accounts.PERMISSION_KEYS if k not in body]
    if missing:
        raise HTTPError(400, "bad_request", "[" + ",".join(f"{{key_missing,{k}}}" for k in missing) + "]")
    vhost, user = call.params
    if vhost not in call.broker.vhosts or user not in call.broker.users:
        raise HTTPError(400, "bad_request", "vhost_or_user_not_found")
    new = accounts.set_permissions(call.broker, user, vhost,
                                   {k: str(body[k]) for k in accounts.PERMISSION_KEYS})
    return created(not new)


def delete_permission(call: Call):
    require_administrator(call)
    vhost, user = call.params
    if not accounts.clear_permissions(call.broker, user, vhost):
        raise NOT_FOUND


# -- policies and parameters --------------------------------------------------------------------
def _policymaker(call: Call) -> None:
    if not {"administrator", "policymaker"} & set(call.user.tags):
        raise NOT_AUTHORISED


def policy_json(policy) -> dict:
    return {"vhost": policy.vhost, "name": policy.name, "pattern": policy.pattern,
            "apply-to": policy.apply_to, "definition": policy.definition,
            "priority": policy.priority}


def _policies_of(call: Call, names: list[str]) -> list[dict]:
    return [policy_json(v.policies[p]) for v in (call.broker.vhosts[n] for n in names)
            for p in sorted(v.policies)]


def get_policies(call: Call):
    return _policies_of(call, call.visible_vhosts())


def get_vhost_policies(call: Call):
    return _policies_of(call, [call.vhost(call.params[0]).name])


def get_policy(call: Call):
    policy = call.vhost(call.params[0]).policies.get(call.params[1])
    if policy is None:
        raise NOT_FOUND
    return policy_json(policy)


def put_policy(call: Call):
    _policymaker(call)
    vhost = call.vhost_to_change(call.params[0])
    body = call.json_body()
    missing = [k for k in ("pattern", "definition") if k not in body]
    if missing:
        raise HTTPError(400, "bad_request", "[" + ",".join(f"{{key_missing,{k}}}" for k in missing) + "]")
    try:
        new = accounts.set_policy(call.broker, vhost.name, call.params[1], body["pattern"],
                                  body["definition"], body.get("priority", 0),
                                  body.get("apply-to", "all"))
    except policies.PolicyError as exc:
        raise HTTPError(400, "bad_request", f"Validation failed\n\n{_html(str(exc))}\n") from None
    return created(not new)


def _html(text: str) -> str:
    """The plugin escapes the validation text as HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def delete_policy(call: Call):
    _policymaker(call)
    vhost = call.vhost(call.params[0])
    if not accounts.clear_policy(call.broker, vhost.name, call.params[1]):
        raise NOT_FOUND


def get_parameters(call: Call):
    """Runtime parameters (shovels, federation upstreams): yizhan has none of their
    components, so the list is empty for those allowed to read it."""
    if not {"administrator", "policymaker"} & set(call.user.tags):
        raise NOT_AUTHORISED
    return []


def get_global_parameters(call: Call):
    require_administrator(call)
    cluster = call.broker.server_properties()["cluster_name"]
    return [{"name": "internal_cluster_id", "value": f"rabbitmq-cluster-id-{cluster}"}]

"""Changes to vhosts, users, permissions and policies on a running broker (the management API
and `yizhan ctl` call these).

Each change is the definitions-log record that `yizhan definitions import` writes (`v+`/`v-`,
`u+`/`u-`, `p+`/`p-`, `P+`/`P-`: store/definitions.py): it is applied to the broker by
`Broker.apply_account`, the same function the boot replay uses, and appended to the log
(`store.account_changed`), so what the API changes is what a restart restores.

Deleting a vhost deletes its queues and exchanges through the vhost's own delete path (their
`q-`/`x-` records reach the log) and closes its connections with 320, as RabbitMQ does.
"""

from __future__ import annotations

import secrets

from yizhan.amqp import errors, passwords, policies
from yizhan.amqp.connection import RUNNING

PERMISSION_KEYS = ("configure", "write", "read")
ALL_PERMISSIONS = {"configure": ".*", "write": ".*", "read": ".*"}


def _change(broker, record: dict) -> None:
    broker.apply_account(record)
    broker.store.account_changed(record)


# -- vhosts -------------------------------------------------------------------------------------
def put_vhost(broker, name: str, description: str = "", tags=(), creator: str | None = None) -> bool:
    """Create or update a vhost (its metadata); True if it is new. A new vhost gives its
    creator full permissions (rabbit_mgmt_wm_vhost)."""
    created = name not in broker.vhosts
    _change(broker, {"op": "v+", "name": name,
                     "metadata": {"description": description, "tags": list(tags)}})
    if created and creator is not None and creator in broker.users:
        set_permissions(broker, creator, name, ALL_PERMISSIONS)
    return created


def delete_vhost(broker, name: str) -> bool:
    vhost = broker.vhosts.get(name)
    if vhost is None:
        return False
    for connection in list(broker.connections):
        if connection.vhost is vhost and connection.state == RUNNING:
            connection.close_by_server(errors.connection_forced(f"vhost '{name}' is deleted"))
    for queue in list(vhost.queues.values()):
        vhost.delete_queue(queue)
    for exchange in [x for x in vhost.exchanges.values() if x.name and not x.name.startswith("amq.")]:
        if not exchange.deleted:
            vhost.delete_exchange(exchange.name, False)
    for policy_name in list(vhost.policies):
        clear_policy(broker, name, policy_name)
    for user in list(broker.users.values()):
        if name in user.vhosts:
            clear_permissions(broker, user.name, name)
    _change(broker, {"op": "v-", "name": name})
    return True


# -- users --------------------------------------------------------------------------------------
def put_user(broker, name: str, tags: list, password: str | None = None,
             password_hash: str | None = None,
             algorithm: str = passwords.DEFAULT_ALGORITHM) -> bool:
    """Create or update a user; True if new. With neither password nor hash an existing user
    keeps its password and a new one gets a random one (it cannot log in with a password)."""
    old = broker.users.get(name)
    if password is not None:
        password_hash = passwords.hash_password(password, algorithm)
    elif password_hash is None:
        if old is not None:
            password_hash, algorithm = _current_hash(old)
        else:
            password_hash = passwords.hash_password(secrets.token_urlsafe(24), algorithm)
    _change(broker, {"op": "u+", "name": name, "password_hash": password_hash,
                     "hashing_algorithm": algorithm, "tags": list(tags),
                     "limits": dict(old.limits) if old is not None else {}})
    return old is None


def _current_hash(user) -> tuple[str, str]:
    if user.password is not None:
        return passwords.hash_password(user.password), passwords.DEFAULT_ALGORITHM
    return user.password_hash, user.hashing_algorithm


def change_password(broker, name: str, password: str) -> None:
    user = broker.users.get(name)
    if user is None:
        raise KeyError(name)
    put_user(broker, name, list(user.tags), password=password)


def delete_user(broker, name: str) -> bool:
    user = broker.users.get(name)
    if user is None:
        return False
    for vhost in sorted(v for v in user.vhosts if v != "*"):
        _change(broker, {"op": "p-", "user": name, "vhost": vhost})
    _change(broker, {"op": "u-", "name": name})
    return True


# -- permissions --------------------------------------------------------------------------------
def set_permissions(broker, user: str, vhost: str, granted: dict) -> bool:
    """True if the user had no permissions in the vhost before."""
    new = vhost not in broker.users[user].vhosts
    _change(broker, {"op": "p+", "user": user, "vhost": vhost,
                     **{k: granted[k] for k in PERMISSION_KEYS}})
    return new


def clear_permissions(broker, user: str, vhost: str) -> bool:
    found = broker.users.get(user)
    if found is None or vhost not in found.vhosts:
        return False
    _change(broker, {"op": "p-", "user": user, "vhost": vhost})
    return True


# -- policies -----------------------------------------------------------------------------------
def set_policy(broker, vhost: str, name: str, pattern: str, definition, priority=0,
               apply_to: str = "all") -> bool:
    """Checked as RabbitMQ checks it (PolicyError); True if new."""
    policy = policies.make_policy(vhost, name, pattern, definition, priority, apply_to)
    created = name not in broker.vhosts[vhost].policies
    broker.add_policy(policy, source="stored")
    broker.store.account_changed({"op": "P+", **policy.record()})
    return created


def clear_policy(broker, vhost: str, name: str) -> bool:
    target = broker.vhosts.get(vhost)
    if target is None or name not in target.policies:
        return False
    target.clear_policy(name)
    broker.store.account_changed({"op": "P-", "vhost": vhost, "name": name})
    return True

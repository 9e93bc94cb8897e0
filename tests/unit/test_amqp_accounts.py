"""AMQP accounts: RabbitMQ's salted password hashes, user/vhost/permission records in the
definitions log, and the broker restoring them at boot (config-file users win, a stored guest
keeps guest's loopback-only setting)."""

from __future__ import annotations

import pytest

from yizhan.amqp import passwords
from yizhan.amqp.broker import Broker
from yizhan.amqp.store.definitions import DefinitionsLog
from yizhan.amqp.store.definitions_json import export_definitions, import_definitions
from yizhan.config import Config

# Recorded from RabbitMQ 3.10.8: `rabbitmqctl add_user bob secret`, then export_definitions.
BOB_HASH = "A30RCFQ3AHIYdGLUmvUloCTGYn8ORQSNXfYgUrUaCgWc6yXM"
GUEST_HASH = "9TVDXrja3QEobeGvxEZqm3v+igEnyHVT5reyzdxmxOcA7L40"


def test_hashes_written_by_rabbitmq_verify():
    assert passwords.check_password("secret", BOB_HASH)
    assert passwords.check_password("guest", GUEST_HASH)
    assert not passwords.check_password("Secret", BOB_HASH)
    assert not passwords.check_password("guest", BOB_HASH)


@pytest.mark.parametrize("algorithm", sorted(passwords.ALGORITHMS))
def test_hash_round_trip_with_a_fresh_salt(algorithm):
    first = passwords.hash_password("pässword", algorithm)
    second = passwords.hash_password("pässword", algorithm)
    assert first != second  # a random salt each time
    assert passwords.check_password("pässword", first, algorithm)
    assert not passwords.check_password("password", first, algorithm)


def test_malformed_or_empty_hashes_match_nothing():
    assert not passwords.check_password("", "")
    assert not passwords.check_password("x", "not base64!")
    assert not passwords.check_password("x", "AAAA")  # a salt and no digest
    assert not passwords.check_password("secret", BOB_HASH, "no_such_module")


def _state(tmp_path, *records):
    log = DefinitionsLog(str(tmp_path / "definitions.log"))
    log.load()
    for record in records:
        log.append(record)
    log.close()
    return DefinitionsLog(str(tmp_path / "definitions.log")).load()


BOB = {"op": "u+", "name": "bob", "password_hash": BOB_HASH,
       "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["monitoring"], "limits": {}}


def test_account_records_replay_and_compact(tmp_path):
    state = _state(tmp_path, {"op": "v+", "name": "v2"}, BOB,
                   {"op": "p+", "user": "bob", "vhost": "v2", "configure": "", "write": ".*",
                    "read": ".*"},
                   {"op": "v+", "name": "gone"}, {"op": "v-", "name": "gone"})
    assert list(state.vhosts) == ["v2"] and list(state.users) == ["bob"]
    assert state.permissions[("bob", "v2")]["configure"] == ""
    lines = (tmp_path / "definitions.log").read_bytes().count(b"\n")
    assert lines == 1 + 3  # the format line, then compacted: the removed vhost is gone


def test_a_bad_account_record_is_an_error(tmp_path):
    from yizhan.amqp.store import StoreError

    (tmp_path / "definitions.log").write_bytes(b'{"op":"u+"}\n{"op":"v+","name":"a"}\n')
    with pytest.raises(StoreError, match="definitions.log:1"):
        DefinitionsLog(str(tmp_path / "definitions.log")).load()


def test_broker_restores_stored_users_with_their_vhosts(tmp_path):
    state = _state(tmp_path, BOB, {"op": "p+", "user": "bob", "vhost": "v2", "configure": ".*",
                                   "write": ".*", "read": ".*"})
    broker = Broker()
    broker.restore_accounts(state)
    assert "v2" in broker.vhosts
    bob = broker.check_login("bob", "secret")
    assert bob is not None and bob.vhosts == {"v2"} and bob.tags == ["monitoring"]
    assert broker.check_login("bob", "guest") is None
    assert broker.check_login("guest", "guest") is not None  # the built-in guest stays


def test_config_user_wins_and_stored_guest_keeps_loopback_only(tmp_path):
    guest = dict(BOB, name="guest", password_hash=passwords.hash_password("changed"))
    state = _state(tmp_path, BOB, guest)
    broker = Broker()
    broker.add_user("bob", "from-config")
    broker.restore_accounts(state)
    assert broker.check_login("bob", "from-config") is not None
    assert broker.check_login("bob", "secret") is None
    stored_guest = broker.check_login("guest", "changed")
    assert stored_guest is not None and stored_guest.loopback_only
    assert broker.check_login("guest", "guest") is None


def test_import_then_export_keeps_accounts_and_types_arguments(tmp_path):
    definitions = {
        "vhosts": [{"name": "/"}, {"name": "v2", "limits": [], "metadata": {"description": "d", "tags": []}}],
        "users": [{"name": "bob", "password_hash": BOB_HASH, "tags": "a,b",
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "limits": {}},
                  {"name": "ann", "password": "plain"}],
        "permissions": [{"user": "bob", "vhost": "v2", "configure": "^b", "write": ".*", "read": ""}],
        "queues": [{"name": "q", "vhost": "v3", "durable": True, "auto_delete": False,
                    "arguments": {"x-message-ttl": 5, "f": 1.5, "l": [1, "a"], "t": {"k": True}}},
                   {"name": "transient", "vhost": "/", "durable": False, "auto_delete": False,
                    "arguments": {}}],
        "exchanges": [], "bindings": [],
    }
    import_definitions(str(tmp_path), definitions)
    out = export_definitions(str(tmp_path))
    assert [v["name"] for v in out["vhosts"]] == ["/", "v2", "v3"]  # v3: used by a queue
    assert out["vhosts"][1]["metadata"] == {"description": "d", "tags": []}
    bob = next(u for u in out["users"] if u["name"] == "bob")
    assert bob["password_hash"] == BOB_HASH and bob["tags"] == ["a", "b"]
    ann = next(u for u in out["users"] if u["name"] == "ann")
    assert passwords.check_password("plain", ann["password_hash"])
    assert {"user": "bob", "vhost": "v2", "configure": "^b", "write": ".*", "read": ""} in out["permissions"]
    assert [q["name"] for q in out["queues"]] == ["q"]
    assert out["queues"][0]["arguments"] == {"f": 1.5, "l": [1, "a"], "t": {"k": True}, "x-message-ttl": 5}
    state = DefinitionsLog(str(tmp_path / "amqp" / "definitions.log")).read()
    from yizhan.amqp.store.definitions_json import _table
    from yizhan.amqp import codec

    table = _table(state.queues[("v3", "q")]["args"])
    assert [(k, kind) for k, kind, _ in table] == [
        ("f", codec.DOUBLE), ("l", codec.ARRAY), ("t", codec.TABLE), ("x-message-ttl", codec.LONG)]


def test_export_includes_config_users_with_hashed_passwords(tmp_path):
    config = Config(amqp_users=(("carol", "pw", ("v9",)),), amqp_vhosts=("extra",))
    out = export_definitions(str(tmp_path), config)
    carol = next(u for u in out["users"] if u["name"] == "carol")
    assert passwords.check_password("pw", carol["password_hash"])
    assert {"user": "carol", "vhost": "v9", "configure": ".*", "write": ".*", "read": ".*"} in out["permissions"]
    assert {"/", "v9", "extra"} == {v["name"] for v in out["vhosts"]}
    guest = next(u for u in out["users"] if u["name"] == "guest")
    assert passwords.check_password("guest", guest["password_hash"])


def test_unknown_hashing_algorithm_is_refused_at_import(tmp_path):
    with pytest.raises(ValueError, match="hashing_algorithm"):
        import_definitions(str(tmp_path), {"users": [{"name": "x", "password_hash": "",
                                                       "hashing_algorithm": "rot13"}]})

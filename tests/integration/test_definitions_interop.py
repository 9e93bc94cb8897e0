"""Definitions round trips through a real RabbitMQ 3.10 (the private reference node, driven with
rabbitmqctl): a topology declared on yizhan with pika is exported (`yizhan definitions export`),
imported into RabbitMQ (`rabbitmqctl import_definitions`) and checked there over AMQP (passive
declares, argument equivalence, a message routed through every binding, the exported user
logging in with its password); RabbitMQ's export then goes into a fresh yizhan and comes back
out equal. And the reverse: a topology declared on RabbitMQ first, exported by rabbitmqctl,
imported into yizhan, checked there, and exported by yizhan equal to RabbitMQ's export."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ProbableAuthenticationError

from yizhan.amqp import passwords
from yizhan.testing.process import ServerProcess
from yizhan.testing.rabbitmq import RabbitMQReference

QUEUE_ARGS = {"qd": {"x-message-ttl": 60000}, "qt": {"x-max-length": 100}}
DURABLE_EXCHANGES = ["ae1", "d1", "f1", "t1", "h1", "ad1"]
DURABLE_QUEUES = ["qd", "qf", "qt", "qh", "qi", "qae", "qad"]


# -- a yizhan process --------------------------------------------------------------------------
def Yizhan(data_dir, log_path, config=None) -> ServerProcess:
    """`python -m yizhan serve` on a data dir (and optional config file)."""
    return ServerProcess(data_dir, log_path, *(["--config", str(config)] if config else []))


def yizhan_cli(*args) -> None:
    subprocess.run([sys.executable, "-m", "yizhan", "definitions", *map(str, args)],
                   check=True, timeout=60)


def connect(port, user="guest", password="guest", vhost="/") -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", port, vhost, pika.PlainCredentials(user, password),
        connection_attempts=1))


# -- the topology --------------------------------------------------------------------------------
def declare_topology(port) -> None:
    """Every exchange type, internal and auto-delete exchanges, queue arguments, queue and
    exchange-to-exchange bindings (with arguments), an alternate exchange, and transient
    definitions that must not travel."""
    with connect(port) as conn:
        ch = conn.channel()
        ch.exchange_declare("ae1", "fanout", durable=True)
        ch.exchange_declare("d1", "direct", durable=True)
        ch.exchange_declare("f1", "fanout", durable=True)
        ch.exchange_declare("t1", "topic", durable=True, arguments={"alternate-exchange": "ae1"})
        ch.exchange_declare("h1", "headers", durable=True)
        ch.exchange_declare("i1", "topic", durable=True, internal=True)
        ch.exchange_declare("ad1", "direct", durable=True, auto_delete=True)
        ch.exchange_declare("tx", "direct", durable=False)
        for name in DURABLE_QUEUES:
            ch.queue_declare(name, durable=True, arguments=QUEUE_ARGS.get(name))
        ch.queue_declare("tq", durable=False)
        ch.queue_bind("qd", "d1", "k1")
        ch.queue_bind("qf", "f1", "")
        ch.queue_bind("qt", "t1", "a.*.c")
        ch.queue_bind("qh", "h1", "", arguments={"x-match": "all", "color": "red"})
        ch.exchange_bind("i1", "t1", "x.#")
        ch.queue_bind("qi", "i1", "x.y")
        ch.queue_bind("qae", "ae1", "")
        ch.queue_bind("qad", "ad1", "k")
        ch.exchange_bind("d1", "f1", "", arguments={"e2e": "yes", "n": 7})
        ch.queue_bind("tq", "d1", "k1")
    with connect(port, "bob", "secret", "v2") as conn:
        ch = conn.channel()
        ch.exchange_declare("v2x", "direct", durable=True)
        ch.queue_declare("v2q", durable=True)
        ch.queue_bind("v2q", "v2x", "r")


def verify_topology(port, internal: bool) -> None:
    """Over AMQP: everything exists, arguments are kept, each binding routes, bob logs in."""
    with connect(port) as conn:
        ch = conn.channel()
        for name in DURABLE_EXCHANGES + (["i1"] if internal else []):
            ch.exchange_declare(name, passive=True)
        for name in DURABLE_QUEUES:
            ch.queue_declare(name, passive=True)
            ch.queue_purge(name)
        ch.queue_declare("qd", durable=True, arguments={"x-message-ttl": 60000})
        ch.exchange_declare("t1", "topic", durable=True, arguments={"alternate-exchange": "ae1"})
        routes = [("d1", "k1", None, ["qd"]), ("f1", "k1", None, ["qf", "qd"]),
                  ("t1", "a.b.c", None, ["qt"]), ("t1", "nowhere", None, ["qae"]),
                  ("h1", "", {"color": "red"}, ["qh"]), ("h1", "", {"color": "blue"}, []),
                  ("ad1", "k", None, ["qad"])]
        if internal:
            routes.append(("t1", "x.y", None, ["qi"]))
        for exchange, key, headers, queues in routes:
            body = f"{exchange}/{key}/{headers}".encode()
            ch.basic_publish(exchange, key, body, pika.BasicProperties(headers=headers))
            for name in DURABLE_QUEUES:
                method, _, got = ch.basic_get(name, auto_ack=True)
                expected = body if name in queues else None
                assert (got if method else None) == expected, (exchange, key, name)
    refused = conn_refused_on_redeclare(port, "qd", {"x-message-ttl": 1234})
    assert refused == 406
    with connect(port, "bob", "secret", "v2") as conn:
        ch = conn.channel()
        ch.basic_publish("v2x", "r", b"for bob")
        assert ch.basic_get("v2q", auto_ack=True)[2] == b"for bob"
    with pytest.raises(ProbableAuthenticationError):
        connect(port, "bob", "wrong", "v2")


def conn_refused_on_redeclare(port, queue, arguments) -> int | None:
    with connect(port) as conn:
        try:
            conn.channel().queue_declare(queue, durable=True, arguments=arguments)
        except ChannelClosedByBroker as exc:
            return exc.reply_code
    return None


# -- policies ----------------------------------------------------------------------------------
POLICIES = [  # as RabbitMQ exports them (sorted by vhost and name, keys sorted)
    {"apply-to": "queues", "definition": {"max-length": 1, "overflow": "drop-head"},
     "name": "cap", "pattern": "^pcap\\.", "priority": 2, "vhost": "/"},
    {"apply-to": "all", "definition": {"max-length": 5, "message-ttl": 60000}, "name": "loose",
     "pattern": "^pcap", "priority": 1, "vhost": "/"},
    {"apply-to": "all", "definition": {"dead-letter-exchange": "dlx", "expires": 3600000},
     "name": "v2-dlx", "pattern": ".*", "priority": 0, "vhost": "v2"},
]
POLICY_LINES = "".join(
    f"amqp-policy {p['vhost']} {p['name']} '{p['pattern']}' '{json.dumps(p['definition'])}' "
    f"priority {p['priority']} apply-to {p['apply-to']}\n" for p in POLICIES)


def verify_policies(port) -> None:
    """The higher-priority policy caps `pcap.*` queues at one message (drop-head)."""
    with connect(port) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        q = ch.queue_declare("pcap.q", exclusive=True).method.queue
        for body in (b"1", b"2", b"3"):
            ch.basic_publish("", q, body)
        assert ch.queue_declare(q, passive=True).method.message_count == 1
        assert ch.basic_get(q, auto_ack=True)[2] == b"3"


# -- comparing exports -----------------------------------------------------------------------------
def normalized(definitions: dict) -> dict:
    """What both servers must agree on: durable definitions, users with their hashes,
    permissions, vhost names; lists in a canonical order. (RabbitMQ's export has no
    `internal` field, as it leaves internal exchanges out, and gives queues a `type`.)"""
    def canon(items):
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    def without(item, *keys):
        return {k: v for k, v in item.items() if k not in keys}

    return {
        "users": canon(definitions["users"]),
        "vhosts": sorted(v["name"] for v in definitions["vhosts"]),
        "permissions": canon(definitions["permissions"]),
        "exchanges": canon({**x, "internal": x.get("internal", False)}  # RabbitMQ omits it
                           for x in definitions["exchanges"] if x["durable"]),
        "queues": canon(without(q, "type") for q in definitions["queues"] if q["durable"]),
        "bindings": canon(definitions["bindings"]),
        "policies": canon(definitions["policies"]),
    }


def names(definitions: dict, kind: str) -> set[str]:
    return {item["name"] for item in definitions[kind]}


@pytest.fixture
def rabbitmq():
    with RabbitMQReference() as ref:
        yield ref


def test_topology_from_yizhan_through_rabbitmq_and_back(rabbitmq, tmp_path):
    config = tmp_path / "yizhan.conf"
    config.write_text("amqp-user bob secret v2\n" + POLICY_LINES)
    srv = Yizhan(tmp_path / "data", tmp_path / "log1.txt", config)
    try:
        declare_topology(srv.port)
    finally:
        srv.stop()
    exported = tmp_path / "from-yizhan.json"
    yizhan_cli("export", exported, "--data-dir", tmp_path / "data", "--config", config)
    ours = json.loads(exported.read_text())
    assert "tx" not in names(ours, "exchanges") and "tq" not in names(ours, "queues")
    bob = next(u for u in ours["users"] if u["name"] == "bob")
    assert bob["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert passwords.check_password("secret", bob["password_hash"])
    assert {"user": "bob", "vhost": "v2", "configure": ".*", "write": ".*", "read": ".*"} in ours["permissions"]
    assert ours["policies"] == POLICIES

    rabbitmq.ctl("import_definitions", str(exported))
    verify_topology(rabbitmq.port, internal=True)
    theirs_path = tmp_path / "from-rabbitmq.json"
    rabbitmq.ctl("export_definitions", str(theirs_path))
    theirs = json.loads(theirs_path.read_text())
    assert "i1" not in names(theirs, "exchanges")  # RabbitMQ's export leaves internal ones out

    yizhan_cli("import", theirs_path, "--data-dir", tmp_path / "fresh")
    srv = Yizhan(tmp_path / "fresh", tmp_path / "log2.txt")  # no config: bob comes from the log
    try:
        verify_topology(srv.port, internal=False)
        verify_policies(srv.port)
    finally:
        srv.stop()
    again = tmp_path / "again.json"
    yizhan_cli("export", again, "--data-dir", tmp_path / "fresh")
    expected = normalized(ours)
    expected["exchanges"] = [x for x in expected["exchanges"] if not x["internal"]]
    assert normalized(json.loads(again.read_text())) == expected


def test_topology_from_rabbitmq_through_yizhan(rabbitmq, tmp_path):
    rabbitmq.ctl("add_user", "bob", "secret")
    rabbitmq.ctl("add_vhost", "v2")
    rabbitmq.ctl("set_permissions", "-p", "v2", "bob", ".*", ".*", ".*")
    rabbitmq.ctl("set_user_tags", "bob", "monitoring")
    declare_topology(rabbitmq.port)
    for policy in POLICIES:
        rabbitmq.ctl("set_policy", "-p", policy["vhost"], "--priority", str(policy["priority"]),
                     "--apply-to", policy["apply-to"], policy["name"], policy["pattern"],
                     json.dumps(policy["definition"]))
    verify_policies(rabbitmq.port)
    theirs_path = tmp_path / "from-rabbitmq.json"
    rabbitmq.ctl("export_definitions", str(theirs_path))
    theirs = json.loads(theirs_path.read_text())
    assert "tx" in names(theirs, "exchanges")  # RabbitMQ exports transient ones too

    yizhan_cli("import", theirs_path, "--data-dir", tmp_path / "data")
    for round_, signum in enumerate([signal.SIGTERM, signal.SIGKILL]):
        srv = Yizhan(tmp_path / "data", tmp_path / f"log{round_}.txt")
        try:
            verify_topology(srv.port, internal=False)
            verify_policies(srv.port)
        finally:
            srv.stop(signum)  # accounts, topology and policies survive either way
    ours_path = tmp_path / "from-yizhan.json"
    yizhan_cli("export", ours_path, "--data-dir", tmp_path / "data")
    ours = json.loads(ours_path.read_text())
    assert "tx" not in names(ours, "exchanges") and "tq" not in names(ours, "queues")
    assert normalized(ours) == normalized(theirs)
    assert next(v for v in ours["vhosts"] if v["name"] == "/") == \
        next(v for v in theirs["vhosts"] if v["name"] == "/")  # metadata kept


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_imported_users_and_vhosts_survive_restarts_beside_config_users(tmp_path, signum):
    """Users and vhosts from `yizhan definitions import` (a vhost with nothing in it, a user
    known only by RabbitMQ's hash) come back after every restart; a config-file user keeps
    working and wins over a stored user of the same name."""
    definitions = {
        "vhosts": [{"name": "/"}, {"name": "empty"}],
        "users": [{"name": "ann",
                   "password_hash": passwords.hash_password("ann-pw", "rabbit_password_hashing_sha512"),
                   "hashing_algorithm": "rabbit_password_hashing_sha512", "tags": [],
                   "limits": {}},
                  {"name": "carol", "password_hash": passwords.hash_password("stored-pw"),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}],
        "permissions": [{"user": "ann", "vhost": "empty", "configure": ".*", "write": ".*",
                         "read": ".*"}],
    }
    source = tmp_path / "accounts.json"
    source.write_text(json.dumps(definitions))
    config = tmp_path / "yizhan.conf"
    config.write_text("amqp-user carol config-pw /\n")
    yizhan_cli("import", source, "--data-dir", tmp_path / "data")
    for round_ in range(3):
        srv = Yizhan(tmp_path / "data", tmp_path / f"log{round_}.txt", config)
        try:
            with connect(srv.port, "ann", "ann-pw", "empty") as conn:
                conn.channel().queue_declare("q", durable=True)
            with connect(srv.port, "carol", "config-pw", "/"):
                pass
            with pytest.raises(ProbableAuthenticationError):
                connect(srv.port, "carol", "stored-pw", "/")
            with pytest.raises(ProbableAuthenticationError):
                connect(srv.port, "ann", "wrong", "empty")
        finally:
            srv.stop(signum)


@pytest.mark.parametrize("content, message", [
    ('{"users": [{"password_hash": ""}]}', "an entry lacks the field 'name'"),
    ('{"users": [{"name": "x", "hashing_algorithm": "rot13"}]}', "unknown hashing_algorithm 'rot13'"),
    ('{"queues": [{"name": "q", "vhost": "/", "arguments": {"x": null}}]}', "null is not allowed"),
    ("not json", "Expecting value"),
])
def test_a_bad_definitions_file_is_a_clear_error(tmp_path, content, message):
    source = tmp_path / "bad.json"
    source.write_text(content)
    result = subprocess.run([sys.executable, "-m", "yizhan", "definitions", "import", str(source),
                             "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    log = tmp_path / "data" / "amqp" / "definitions.log"
    assert not log.exists() or log.read_text() == ""  # nothing half-imported

"""Debian's rabbitmqadmin (the management plugin's own CLI) against yizhan and RabbitMQ 3.10:
the same commands, in order, on fresh servers; their output compared line by line (the node
name, cluster name and memory figures differ by nature and are masked)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

import yizhan
from yizhan.testing.rabbitmq import RabbitMQReference

COMMANDS = [
    ["declare", "queue", "name=a.q", "durable=true"],
    ["declare", "queue", "name=a.q2", 'arguments={"x-max-length":2}'],
    ["declare", "exchange", "name=a.x", "type=fanout"],
    ["declare", "exchange", "name=a.t", "type=topic", "durable=false"],
    ["declare", "binding", "source=a.x", "destination=a.q", "routing_key=k"],
    ["declare", "binding", "source=a.t", "destination=a.q2", "routing_key=k.#"],
    ["declare", "binding", "source=a.t", "destination=a.x", "destination_type=exchange"],
    ["publish", "exchange=a.x", "routing_key=k", "payload=hello"],
    ["publish", "exchange=a.t", "routing_key=k.1", "payload=topic one", "properties={\"headers\":{\"h\":\"v\"}}"],
    ["publish", "exchange=amq.default", "routing_key=nowhere", "payload=lost"],
    ["list", "queues", "name", "messages", "durable", "arguments"],
    ["-f", "tsv", "list", "queues", "name", "messages"],
    ["-f", "raw_json", "list", "queues", "name", "messages_ready"],
    ["list", "exchanges", "name", "type", "durable"],
    ["list", "bindings", "source", "destination", "destination_type", "routing_key"],
    ["get", "queue=a.q", "ackmode=ack_requeue_true"],
    ["get", "queue=a.q2", "ackmode=ack_requeue_false", "count=5"],
    ["get", "queue=a.q", "ackmode=reject_requeue_false"],
    ["get", "queue=a.q"],
    ["list", "queues", "name", "messages"],
    ["declare", "vhost", "name=a.v"],
    ["declare", "user", "name=a.u", "password=pw", "tags=management"],
    ["declare", "permission", "vhost=a.v", "user=a.u", "configure=.*", "write=.*", "read=^r"],
    ["list", "users", "name", "tags"],
    ["list", "vhosts", "name"],
    ["list", "permissions", "vhost", "user", "configure", "write", "read"],
    ["declare", "policy", "name=a.p", "pattern=^a\\.", 'definition={"max-length":5}', "apply-to=queues"],
    ["list", "policies", "name", "pattern", "definition", "apply-to", "priority"],
    ["delete", "policy", "name=a.p"],
    ["delete", "binding", "source=a.x", "destination=a.q", "destination_type=queue", "properties_key=k"],
    ["list", "bindings", "source", "destination", "routing_key"],
    ["purge", "queue", "name=a.q2"],
    ["delete", "queue", "name=a.q"],
    ["delete", "queue", "name=a.missing"],
    ["delete", "exchange", "name=a.x"],
    ["delete", "permission", "vhost=a.v", "user=a.u"],
    ["delete", "user", "name=a.u"],
    ["delete", "vhost", "name=a.v"],
    ["list", "queues", "name", "messages"],
    ["list", "nodes", "type"],
    ["show", "overview", "rabbitmq_version", "queue_totals.messages", "object_totals.queues"],
    ["list", "connections", "user", "vhost"],
    ["declare", "queue"],
]


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    if shutil.which("rabbitmqadmin") is None:
        raise AssertionError("rabbitmqadmin is missing (Debian's rabbitmq-server ships it)")
    with RabbitMQReference(management=True) as ref, \
            yizhan.Server(http_port=0, data_dir=str(tmp_path_factory.mktemp("admin")), save="") as srv:
        yield ref.http_port, srv.http_port


def admin(port: int, args: list[str]) -> tuple:
    result = subprocess.run(["rabbitmqadmin", "-P", str(port), *args], capture_output=True,
                            text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_same_commands_same_output(ports):
    """Listings are asked again (for up to 12 s) while RabbitMQ's statistics, emitted every
    5 s, still lag its broker; the last answer is the one compared."""
    theirs_port, ours_port = ports
    for args in COMMANDS:
        mine = admin(ours_port, args)
        theirs = admin(theirs_port, args)
        deadline = time.monotonic() + 12
        while theirs != mine and ("list" in args or "show" in args) and time.monotonic() < deadline:
            time.sleep(0.5)
            theirs = admin(theirs_port, args)
        assert mine == theirs, args


def test_export_and_import(ports, tmp_path):
    """rabbitmqadmin export from RabbitMQ, import into yizhan: the durable queue is there."""
    theirs_port, ours_port = ports
    admin(theirs_port, ["declare", "queue", "name=a.exported", "durable=true"])
    path = str(tmp_path / "defs.json")
    assert admin(theirs_port, ["export", path])[0] == 0
    code, out, _ = admin(ours_port, ["import", path])
    assert code == 0 and out.startswith("Uploaded definitions")
    code, out, _ = admin(ours_port, ["-f", "tsv", "list", "queues", "name", "durable"])
    assert "a.exported\tTrue" in out.splitlines()
    code, out, _ = admin(ours_port, ["export", str(tmp_path / "back.json")])
    assert code == 0 and out.startswith("Exported definitions")


def test_cli_download(ports):
    """GET /cli/rabbitmqadmin: the same program RabbitMQ's plugin offers (no login needed),
    and it runs against yizhan."""
    theirs_port, ours_port = ports
    theirs = requests.get(f"http://127.0.0.1:{theirs_port}/cli/rabbitmqadmin", timeout=30)
    mine = requests.get(f"http://127.0.0.1:{ours_port}/cli/rabbitmqadmin", timeout=30)
    assert (mine.status_code, mine.headers["content-type"], mine.content) == \
        (theirs.status_code, theirs.headers["content-type"], theirs.content)

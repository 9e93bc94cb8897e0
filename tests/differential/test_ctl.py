"""`yizhan ctl` against `rabbitmqctl` on RabbitMQ 3.10: the same scenario on both servers, then
the same commands, comparing exit codes, the informational lines, the header and the rows
(sorted: RabbitMQ lists from ETS tables in no fixed order). Columns that name things only one
server has (channel pids, peer ports) are compared by shape."""

from __future__ import annotations

import subprocess
import sys

import pika
import pytest

import yizhan
from yizhan.testing.rabbitmq import RabbitMQReference


def scenario(url: str) -> pika.BlockingConnection:
    connection = pika.BlockingConnection(pika.URLParameters(url + "?heartbeat=0"))  # idles for minutes
    ch = connection.channel()
    ch.queue_declare("c.q1", durable=True)
    ch.queue_declare("c.q2", arguments={"x-max-length": 3})
    ch.confirm_delivery()
    for body in (b"a", b"b"):
        ch.basic_publish("", "c.q1", body)
    ch.exchange_declare("c.x1", "topic")
    ch.queue_bind("c.q1", "c.x1", "k.#")
    ch.basic_consume("c.q2", lambda *a: None, consumer_tag="c.tag")
    return connection


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with RabbitMQReference(management=True) as ref, \
            yizhan.Server(http_port=0, data_dir=str(tmp_path_factory.mktemp("ctl")), save="") as srv:
        connections = [scenario(ref.url), scenario(srv.amqp_url)]

        def ours(*args):
            return subprocess.run([sys.executable, "-m", "yizhan", "ctl", "--http-port", str(srv.http_port),
                                   *args], capture_output=True, text=True, timeout=60)

        def theirs(*args):
            return ref.ctl(*args, check=False)
        theirs.url, ours.url = ref.url, srv.amqp_url
        yield theirs, ours
        for connection in connections:
            connection.close()


def normalized(result: subprocess.CompletedProcess, masked=()) -> tuple:
    """(exit code, informational lines, header, sorted rows, stderr), masked columns as '*'."""
    lines = result.stdout.splitlines()
    info = [line for line in lines if line.endswith("...") or line.startswith("Done.")]
    table = [line.split("\t") for line in lines if line not in info]
    header = table[0] if table else []
    rows = sorted(["*" if header[i] in masked else cell for i, cell in enumerate(row)]
                  for row in table[1:])
    return result.returncode, info, header, rows, result.stderr.strip()


LISTINGS = [
    ("list_queues",), ("list_queues", "name", "messages", "consumers", "durable", "auto_delete"),
    ("list_exchanges",), ("list_exchanges", "name", "type", "durable", "internal"),
    ("list_bindings",), ("list_connections", "user", "vhost", "state", "channels"),
    ("list_consumers",), ("list_users",), ("list_vhosts",), ("list_permissions",),
]


@pytest.mark.parametrize("command", LISTINGS, ids=[" ".join(c) for c in LISTINGS])
def test_listings(servers, command):
    theirs, ours = servers
    masked = {"channel_pid"}
    assert normalized(ours(*command), masked) == normalized(theirs(*command), masked)


CHANGES = [
    ("add_user", "c.u1", "p1"), ("add_user", "c.u1", "p1"),
    ("set_user_tags", "c.u1", "management", "policymaker"), ("change_password", "c.u1", "p2"),
    ("list_users",), ("add_vhost", "c.v1"), ("add_vhost", "c.v1"),
    ("set_permissions", "-p", "c.v1", "c.u1", ".*", ".*", "^r"), ("list_permissions", "-p", "c.v1"),
    ("set_policy", "c.pol", "^c\\.", '{"max-length":5}', "--apply-to", "queues"), ("list_policies",),
    ("clear_policy", "c.pol"), ("list_policies",), ("purge_queue", "c.q1"), ("list_queues",),
    ("delete_queue", "c.q1"), ("delete_queue", "c.q1"), ("delete_user", "c.u1"),
    ("delete_user", "c.u1"), ("delete_vhost", "c.v1"), ("delete_vhost", "c.v1"), ("list_vhosts",),
    ("list_users",),
]


def _ours(command: tuple) -> tuple:
    """rabbitmqctl's flags after the command become options before it for yizhan ctl."""
    args, options, rest = list(command), [], []
    while args:
        arg = args.pop(0)
        if arg in ("-p", "--apply-to"):
            options += [arg, args.pop(0)]
        else:
            rest.append(arg)
    return (*options, *rest)


def test_changes_in_order(servers):
    """Each change, then what the listings show, step by step on both servers."""
    theirs, ours = servers
    for command in CHANGES:
        mine, their = normalized(ours(*_ours(command))), normalized(theirs(*command))
        if command[0] == "list_permissions":  # an API-created vhost also grants its creator
            mine = (mine[0], mine[1], mine[2], [r for r in mine[3] if r[0] != "guest"], mine[4])
        assert mine == their, (command, mine, their)


def test_close_connection(servers):
    """rabbitmqctl closes by pid, yizhan ctl by the API's connection name: each closes a client
    connection of its own with 320 and the reason."""
    theirs, ours = servers
    for run, column in ((theirs, "pid"), (ours, "name")):
        url = run.url
        client = pika.BlockingConnection(pika.URLParameters(url))
        port = client._impl._transport._sock.getsockname()[1]
        lines = run("list_connections", column, "peer_port").stdout.splitlines()
        target = [line.split("\t")[0] for line in lines if line.endswith(f"\t{port}")][0]
        result = run("close_connection", target, "bye")
        assert result.returncode == 0 and result.stdout.startswith("Closing connection ")
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
            client.process_data_events(time_limit=10)
            client.channel()
        assert (closed.value.reply_code, closed.value.reply_text) == (320, "CONNECTION_FORCED - bye")
    missing = ours("close_connection", "nope", "bye")
    assert (missing.returncode, missing.stderr) == (67, 'Error:\nConnection "nope" does not exist\n')

"""The Python tools that read RabbitMQ's management API, against yizhan and RabbitMQ 3.10 with
the management plugin: `celery list bindings` (kombu's manager is pyrabbit), pyrabbit's Client
itself, and Flower's Broker tab (`flower.utils.broker.Broker`, what `flower --broker_api`
calls). The same scenario on both; outputs compared."""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
import time

import pika
import pytest
import requests
from flower.utils.broker import Broker
from pyrabbit.api import Client

import yizhan
from yizhan.testing.rabbitmq import RabbitMQReference
from yizhan.testing.reference import free_port

APP = """
from celery import Celery
app = Celery("tools", broker={broker!r})
app.conf.broker_transport_options = {{"manager_hostname": "127.0.0.1", "manager_port": {port}}}
"""


def scenario(url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    ch = connection.channel()
    ch.confirm_delivery()
    ch.queue_declare("t.q", durable=True)
    ch.exchange_declare("t.x", "topic", durable=True)
    ch.queue_bind("t.q", "t.x", "t.#")
    for body in (b"1", b"2", b"3"):
        ch.basic_publish("t.x", "t.a", body)
    connection.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with RabbitMQReference(management=True) as ref, \
            yizhan.Server(http_port=0, data_dir=str(tmp_path_factory.mktemp("tools")), save="") as srv:
        found = [(ref.url, ref.port, ref.http_port), (srv.amqp_url, srv.amqp_port, srv.http_port)]
        for url, _, _ in found:
            scenario(url)
        _settle(ref.http_port)
        yield found


def _settle(http_port: int) -> None:
    """RabbitMQ's queue statistics lag its broker by the statistics interval."""
    client = Client(f"127.0.0.1:{http_port}", "guest", "guest")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get_queue_depth("/", "t.q") == 3:
                return
        except KeyError:  # no statistics for the queue yet
            pass
        time.sleep(0.25)
    raise AssertionError("RabbitMQ's statistics did not settle")


def test_celery_list_bindings(servers, tmp_path):
    outputs = []
    for index, (_, amqp_port, http_port) in enumerate(servers):
        module = tmp_path / f"tools_app_{index}.py"
        module.write_text(APP.format(broker=f"amqp://guest:guest@127.0.0.1:{amqp_port}//", port=http_port))
        result = subprocess.run([sys.executable, "-m", "celery", "--app", f"tools_app_{index}", "list", "bindings"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    theirs, mine = (text.replace(str(port), "PORT") for text, (_, _, port) in zip(outputs, servers))
    assert mine == theirs
    assert "t.q" in mine and "celery" in mine


def attempt(call, *args, **kwargs):
    """A pyrabbit call's answer, or the name of what it raised: pyrabbit 1.1 takes admin rights
    from `tags == "administrator"`, which RabbitMQ 3.10's list of tags never equals, so its
    admin-only calls refuse on both servers alike."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 (the exception is the compared answer)
        return type(exc).__name__


def _pyrabbit_view(http_port: int) -> list:
    c = Client(f"127.0.0.1:{http_port}", "guest", "guest")
    steps = [
        lambda: c.is_alive(), lambda: c.get_vhost_names(),
        lambda: sorted((q["name"], q["messages"], q["durable"]) for q in c.get_queues()),
        lambda: sorted((x["name"], x["type"]) for x in c.get_exchanges("/")),
        lambda: [(b["source"], b["destination"], b["routing_key"]) for b in c.get_bindings()],
        lambda: c.get_queue_depth("/", "t.q"), lambda: c.get_whoami(), lambda: c.get_users(),
        lambda: c.get_vhost_permissions("/"), lambda: c.create_queue("/", "t.made", durable=False),
        lambda: c.publish("/", "amq.default", "t.made", "via pyrabbit"),
        lambda: [(m["payload"], m["routing_key"], m["redelivered"])
                 for m in c.get_messages("/", "t.made", count=2, requeue=False)],
        lambda: c.create_exchange("/", "t.made-x", "fanout"),
        lambda: c.create_binding("/", "t.made-x", "t.made", "rk"),
        lambda: [(b["source"], b["destination"], b["routing_key"])
                 for b in c.get_bindings_from_exchange("/", "t.made-x")],
        lambda: c.delete_binding("/", "t.made-x", "t.made", "rk"),
        lambda: c.delete_exchange("/", "t.made-x"), lambda: c.purge_queue("/", "t.made"),
        lambda: c.delete_queue("/", "t.made"), lambda: c.create_vhost("t.v"),
        lambda: c.create_user("t.u", "pw", tags="management"),
        lambda: c.set_vhost_permissions("t.v", "t.u", ".*", ".*", ""),
        lambda: c.delete_user("t.u"), lambda: c.delete_vhost("t.v"),
        lambda: sorted(q["name"] for q in c.get_queues()),
    ]
    return [attempt(step) for step in steps]


def _queues_listed(http_port: int) -> None:
    """Wait until RabbitMQ's statistics cover every queue (celery's, declared by the test
    before, arrives a statistics interval later)."""
    client = Client(f"127.0.0.1:{http_port}", "guest", "guest")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all("messages" in q for q in client.get_queues()):
            return
        time.sleep(0.25)
    raise AssertionError("RabbitMQ's queue statistics did not settle")


def test_pyrabbit(servers):
    _queues_listed(servers[0][2])
    theirs, mine = (_pyrabbit_view(http_port) for _, _, http_port in servers)
    assert mine == theirs


def test_flower_broker_tab(servers):
    """What Flower's Broker tab shows: the queues of the broker URL's vhost, as the API lists
    them (name, messages, consumers, state and the rest of the row)."""
    rows = []
    for url, amqp_port, http_port in servers:
        broker = Broker(f"amqp://guest:guest@127.0.0.1:{amqp_port}//",
                        http_api=f"http://guest:guest@127.0.0.1:{http_port}/api/")
        rows.append(asyncio.run(broker.queues(["t.q", "t.none"])))
    theirs, mine = rows
    not_sampled = {"message_stats"}  # yizhan samples no message rates yet (README)
    assert [set(row) - not_sampled for row in mine] == [set(row) - not_sampled for row in theirs]
    keep = ("name", "messages", "messages_ready", "messages_unacknowledged", "consumers", "durable")
    assert [{k: row[k] for k in keep} for row in mine] == [{k: row[k] for k in keep} for row in theirs]


FLOWER_APP = """
from celery import Celery
from kombu import Queue
app = Celery("flowerapp", broker={broker!r})
app.conf.task_queues = [Queue("t.q"), Queue("t.none")]
"""


class FlowerProcess:
    """`celery -A flowerapp flower --broker_api=...`, the real Flower CLI, on a free port
    (its API open without login, FLOWER_UNAUTHENTICATED_API); stopped by its pid."""

    def __init__(self, workdir, amqp_port: int, http_port: int):
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "flowerapp.py").write_text(
            FLOWER_APP.format(broker=f"amqp://guest:guest@127.0.0.1:{amqp_port}//"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, FLOWER_UNAUTHENTICATED_API="true",
                   PYTHONPATH=os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]))
        self.log = open(workdir / "flower.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "flowerapp", "flower", f"--port={self.port}",
             "--address=127.0.0.1", f"--broker_api=http://guest:guest@127.0.0.1:{http_port}/api/"],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> "FlowerProcess":
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"flower exited, see {self.log.name}"
            try:
                if requests.get(self.base + "/healthcheck", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "flower did not answer its healthcheck"
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


BROKER_ROW = re.compile(r'<tr id="([^"]*)">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def broker_tab(flower: FlowerProcess) -> list:
    """The rows of Flower's Broker page: the queue name and its cells but `Idle since` (a
    time)."""
    page = requests.get(flower.base + "/broker", timeout=30)
    assert page.status_code == 200
    return [[html.unescape(c.strip()) for c in CELL.findall(row)][:5]
            for _, row in BROKER_ROW.findall(page.text)]


def test_flower_process(servers, tmp_path):
    """The real `flower --broker_api` against each server: its Broker tab and its
    /api/queues/length JSON (the management API's queue rows for the app's queues) agree."""
    seen = []
    for url, amqp_port, http_port in servers:
        with FlowerProcess(tmp_path / str(amqp_port), amqp_port, http_port) as flower:
            lengths = requests.get(flower.base + "/api/queues/length", timeout=30)
            assert lengths.status_code == 200
            seen.append((broker_tab(flower), lengths.json()["active_queues"]))
    (their_tab, theirs), (my_tab, mine) = seen
    assert my_tab == their_tab
    assert ["t.q", "3", "0", "3", "0"] in my_tab
    assert [set(row) for row in mine] == [set(row) for row in theirs]
    keep = ("name", "messages", "messages_ready", "messages_unacknowledged", "consumers", "durable",
            "arguments", "state", "type", "vhost")
    assert [{k: row[k] for k in keep} for row in mine] == [{k: row[k] for k in keep} for row in theirs]

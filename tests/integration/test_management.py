"""The management port and /metrics on yizhan alone, with real clients: a queue PUT over HTTP
is usable by pika at once and (durable) survives a restart; a purge over HTTP empties what pika
published; /metrics parses with prometheus_client and counts what the clients did; the HTTP
layer answers malformed and oversized requests and keeps connections alive; users without a
management tag are refused as RabbitMQ refuses them."""

from __future__ import annotations

import base64
import socket

import pika
import pytest
import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

import yizhan
from yizhan.management import http

AUTH = ("guest", "guest")


@pytest.fixture
def server(tmp_path):
    with yizhan.Server(http_port=0, data_dir=str(tmp_path / "data"), save="") as srv:
        yield srv


def amqp(srv) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(srv.amqp_url))


def test_embedded_server_exposes_http_port(server):
    assert server.http_port > 0 and server.http_url == f"http://127.0.0.1:{server.http_port}"
    assert server.metrics_port > 0 and server.metrics_port != server.http_port
    overview = requests.get(server.http_url + "/api/overview", auth=AUTH).json()
    ports = {l["protocol"]: l["port"] for l in overview["listeners"]}
    assert ports == {"amqp": server.amqp_port, "http": server.http_port,
                     "http/prometheus": server.metrics_port}


def test_put_queue_then_pika_uses_it(server):
    url = server.http_url + "/api/queues/%2F/work"
    assert requests.put(url, auth=AUTH, json={"durable": True}).status_code == 201
    connection = amqp(server)
    ch = connection.channel()
    ch.confirm_delivery()
    ch.basic_publish("", "work", b"job")  # mandatory-free: confirmed only if it was routed
    assert ch.queue_declare("work", passive=True).method.message_count == 1
    method, _, body = ch.basic_get("work", auto_ack=True)
    assert body == b"job"
    connection.close()
    queue = requests.get(url, auth=AUTH).json()
    assert (queue["durable"], queue["messages"], queue["consumers"]) == (True, 0, 0)


def test_put_durable_queue_and_exchange_survive_restart(tmp_path):
    data_dir = str(tmp_path / "data")
    with yizhan.Server(http_port=0, data_dir=data_dir, save="") as srv:
        put = lambda path, body: requests.put(srv.http_url + path, auth=AUTH, json=body)  # noqa: E731
        assert put("/api/queues/%2F/kept", {"durable": True, "arguments": {"x-max-length": 7}}).status_code == 201
        assert put("/api/queues/%2F/gone", {"durable": False}).status_code == 201
        assert put("/api/exchanges/%2F/kept-x", {"type": "fanout", "durable": True}).status_code == 201
    with yizhan.Server(http_port=0, data_dir=data_dir, save="") as srv:
        queues = {q["name"]: q for q in requests.get(srv.http_url + "/api/queues", auth=AUTH).json()}
        assert set(queues) == {"kept"} and queues["kept"]["arguments"] == {"x-max-length": 7}
        exchange = requests.get(srv.http_url + "/api/exchanges/%2F/kept-x", auth=AUTH).json()
        assert (exchange["type"], exchange["durable"]) == ("fanout", True)


def test_purge_and_delete_over_http(server):
    connection = amqp(server)
    ch = connection.channel()
    ch.queue_declare("jobs")
    ch.confirm_delivery()
    for i in range(5):
        ch.basic_publish("", "jobs", b"%d" % i)
    base = server.http_url + "/api/queues/%2F/jobs"
    assert requests.get(base, auth=AUTH).json()["messages_ready"] == 5
    assert requests.delete(base + "/contents", auth=AUTH).status_code == 204
    assert ch.queue_declare("jobs", passive=True).method.message_count == 0
    ch.basic_publish("", "jobs", b"again")
    refused = requests.delete(base + "?if-empty=true", auth=AUTH)
    assert (refused.status_code, refused.json()) == (
        400, {"error": "bad_request", "reason": "queue 'jobs' in vhost '/' not empty"})
    ch.basic_consume("jobs", lambda *a: None)
    in_use = requests.delete(base + "?if-unused=true", auth=AUTH)
    assert in_use.json()["reason"] == "queue 'jobs' in vhost '/' in use"
    assert requests.delete(base, auth=AUTH).status_code == 204
    assert requests.get(base, auth=AUTH).status_code == 404
    connection.close()


def test_exchange_put_binds_and_deletes(server):
    base = server.http_url + "/api/exchanges/%2F/events"
    assert requests.put(base, auth=AUTH, json={"type": "topic"}).status_code == 201
    connection = amqp(server)
    ch = connection.channel()
    ch.queue_declare("audit")
    ch.queue_bind("audit", "events", "user.*")
    bindings = requests.get(server.http_url + "/api/bindings/%2F", auth=AUTH).json()
    assert {"source": "events", "vhost": "/", "destination": "audit", "destination_type": "queue",
            "routing_key": "user.*", "arguments": {}, "properties_key": "user.%2A"} in bindings
    refused = requests.delete(base + "?if-unused=true", auth=AUTH)
    assert refused.json() == {"error": "bad_request", "reason": "exchange 'events' in vhost '/' in use"}
    assert requests.delete(base, auth=AUTH).status_code == 204
    assert all(b["source"] != "events" for b in
               requests.get(server.http_url + "/api/bindings", auth=AUTH).json())
    connection.close()


def metric_values(text: str) -> dict:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


@pytest.mark.parametrize("where", ["metrics port", "management port"])
def test_metrics_count_what_clients_did(server, where):
    connection = amqp(server)
    ch = connection.channel()
    ch.queue_declare("m1")
    ch.queue_declare("m2")
    ch.confirm_delivery()
    for _ in range(3):
        ch.basic_publish("", "m1", b"x")
    ch.basic_publish("", "m2", b"y")
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume("m2", lambda *a: None)
    connection.process_data_events(time_limit=0.2)  # the delivery arrives, unacked
    client = redis.Redis(port=server.port)
    client.set("a", 1)
    client.set("b", 2, ex=100)
    client.get("a")
    client.get("missing")
    base = f"http://127.0.0.1:{server.metrics_port}" if where == "metrics port" else server.http_url
    response = requests.get(base + "/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4"
    values = metric_values(response.text)
    assert values[("rabbitmq_queues", ())] == 2
    assert values[("rabbitmq_queue_messages_ready", ())] == 3
    assert values[("rabbitmq_queue_messages_unacked", ())] == 1
    assert values[("rabbitmq_connections", ())] == 1
    assert values[("rabbitmq_channels", ())] == 1
    assert values[("rabbitmq_consumers", ())] == 1
    info = values[("rabbitmq_build_info", (("erlang_version", _label(values, "rabbitmq_build_info", "erlang_version")),
                                           ("prometheus_client_version", "yizhan"),
                                           ("prometheus_plugin_version", "3.10.8"),
                                           ("rabbitmq_version", "3.10.8")))]
    assert info == 1
    assert _label(values, "rabbitmq_identity_info", "rabbitmq_node").startswith("yizhan@")
    assert values[("redis_up", ())] == 1
    assert values[("redis_connected_clients", ())] == 1
    assert values[("redis_db_keys", (("db", "db0"),))] == 2
    assert values[("redis_db_keys", (("db", "db15"),))] == 0
    assert values[("redis_db_keys_expiring", (("db", "db0"),))] == 1
    assert values[("redis_keyspace_hits_total", ())] == 1
    assert values[("redis_keyspace_misses_total", ())] == 1
    assert values[("redis_commands_processed_total", ())] >= 5
    assert values[("redis_memory_used_bytes", ())] > 0
    connection.close()
    client.close()


def _label(values: dict, name: str, label: str) -> str:
    return next(dict(labels)[label] for (metric, labels) in values if metric == name)


def test_metrics_port_serves_only_metrics(server):
    base = f"http://127.0.0.1:{server.metrics_port}"
    assert requests.get(base + "/api/overview", auth=AUTH).status_code == 404


# -- accounts -----------------------------------------------------------------------------------
def test_users_without_management_tag_are_refused(tmp_path):
    """A config-file user (`amqp-user`, no tags) may use AMQP but not the management API."""
    with yizhan.Server(http_port=0, data_dir=str(tmp_path / "d"), save="") as srv:
        srv.call(srv.runtime.broker.add_user, "worker", "pw", ("/",))
        refused = requests.get(srv.http_url + "/api/overview", auth=("worker", "pw"))
        assert refused.status_code == 401
        assert refused.json() == {"error": "not_authorised", "reason": "Not management user"}
        assert "www-authenticate" not in refused.headers  # as RabbitMQ: the login itself worked
        # the AMQP side still accepts them
        pika.BlockingConnection(pika.URLParameters(
            f"amqp://worker:pw@127.0.0.1:{srv.amqp_port}/%2F")).close()


# -- the HTTP layer ---------------------------------------------------------------------------
def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_keep_alive_serves_several_requests(server):
    token = base64.b64encode(b"guest:guest").decode()
    one = f"GET /api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n"
    last = one.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
    reply = raw_exchange(server.http_port, (one + one + last).encode())
    assert reply.count(b"HTTP/1.1 200 ") == 3
    assert reply.count(b'{"name":"guest","tags":["administrator"]}') == 3


def test_malformed_request_gets_400_and_server_lives(server):
    reply = raw_exchange(server.http_port, b"NOT HTTP AT ALL\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert requests.get(server.http_url + "/api/whoami", auth=AUTH).status_code == 200


def test_oversized_body_gets_413(server):
    head = (f"PUT /api/queues/%2F/big HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {http.MAX_BODY + 1}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10) as sock:
        sock.sendall(head)
        chunk = b"x" * 65536
        try:
            for _ in range(http.MAX_BODY // len(chunk) + 2):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert requests.get(server.http_url + "/api/queues/%2F/big", auth=AUTH).status_code == 404


def test_accounts_and_policies_changed_over_http_survive_restart(tmp_path):
    """Vhosts, users, permissions and policies changed through the API reach the definitions
    log: after a restart the user logs in over AMQP and HTTP, the policy still applies, and
    what was deleted stays deleted."""
    data_dir = str(tmp_path / "data")
    with yizhan.Server(http_port=0, data_dir=data_dir, save="") as srv:
        put = lambda path, body: requests.put(srv.http_url + path, json=body, auth=AUTH)  # noqa: E731
        assert put("/api/vhosts/kept", {"description": "d", "tags": "t1"}).status_code == 201
        assert put("/api/vhosts/gone", {}).status_code == 201
        assert put("/api/users/alice", {"password": "s3cret", "tags": "management"}).status_code == 201
        assert put("/api/users/bob", {"password": "b", "tags": ""}).status_code == 201
        assert put("/api/permissions/kept/alice", {"configure": ".*", "write": ".*", "read": ".*"}).status_code == 201
        assert put("/api/policies/kept/short", {"pattern": "^q", "definition": {"max-length": 1},
                                                "apply-to": "queues"}).status_code == 201
        assert put("/api/queues/kept/q1", {"durable": True}).status_code == 201
        assert requests.delete(srv.http_url + "/api/users/bob", auth=AUTH).status_code == 204
        assert requests.delete(srv.http_url + "/api/vhosts/gone", auth=AUTH).status_code == 204
        assert put("/api/users/guest", {"password": "guest2", "tags": "administrator"}).status_code == 204
    auth = ("guest", "guest2")
    with yizhan.Server(http_port=0, data_dir=data_dir, save="") as srv:
        vhosts = {v["name"]: v for v in requests.get(srv.http_url + "/api/vhosts", auth=auth).json()}
        assert sorted(vhosts) == ["/", "kept"] and vhosts["kept"]["tags"] == ["t1"]
        assert vhosts["kept"]["description"] == "d"
        users = {u["name"] for u in requests.get(srv.http_url + "/api/users", auth=auth).json()}
        assert users == {"guest", "alice"}
        assert requests.get(srv.http_url + "/api/whoami", auth=("alice", "s3cret")).json() == \
            {"name": "alice", "tags": ["management"]}
        url = f"amqp://alice:s3cret@127.0.0.1:{srv.amqp_port}/kept"
        connection = pika.BlockingConnection(pika.URLParameters(url))
        ch = connection.channel()
        ch.confirm_delivery()
        for body in (b"1", b"2"):
            ch.basic_publish("", "q1", body)
        assert ch.queue_declare("q1", passive=True).method.message_count == 1  # max-length 1
        connection.close()
        assert requests.get(srv.http_url + "/api/policies/kept/short", auth=auth).json()["pattern"] == "^q"
        assert requests.get(srv.http_url + "/api/overview", auth=AUTH).status_code == 401


def test_delete_vhost_closes_its_connections_and_drops_its_queues(server):
    requests.put(server.http_url + "/api/vhosts/v", json={}, auth=AUTH)
    connection = pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{server.amqp_port}/v"))
    connection.channel().queue_declare("inside", durable=True)
    assert requests.delete(server.http_url + "/api/vhosts/v", auth=AUTH).status_code == 204
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        connection.process_data_events(time_limit=5)
        connection.channel()
    assert closed.value.reply_code == 320
    assert requests.get(server.http_url + "/api/queues/v/inside", auth=AUTH).status_code == 404

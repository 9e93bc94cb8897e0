"""The HTTP control endpoint (POST /yizhan/control/<operation>), as a test suite in another
language would use it (plain HTTP requests), against an embedded server and against
`yizhan serve --test-control`; off by default; administrators only."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pika
import pytest
import redis
from redis.exceptions import ReadOnlyError

from yizhan import Server
from yizhan.testing.process import ServerProcess


def post(port: int, operation: str, body=None, user: str | None = "guest:guest", method: str = "POST"):
    """(status, decoded JSON body) of a request to the control endpoint."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/yizhan/control/{operation}",
                                     data=None if body is None else json.dumps(body).encode(),
                                     method=method, headers={"content-type": "application/json"})
    if user is not None:
        request.add_header("authorization", "Basic " + base64.b64encode(user.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, json.loads(text) if text else None


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with Server(data_dir=str(tmp_path_factory.mktemp("http")), save="", test_control=True) as server:
        yield server


def test_advance_and_fail_over_http(srv):
    r = redis.Redis(port=srv.port)
    r.set("k", "v", ex=100)
    status, answer = post(srv.http_port, "advance", {"seconds": 101})
    assert status == 200 and isinstance(answer["result"], int)
    assert r.get("k") is None
    assert post(srv.http_port, "fail", {"error": "READONLY", "command": "set"})[0] == 200
    with pytest.raises(ReadOnlyError):
        r.set("k", "v")
    r.set("k", "v")
    assert post(srv.http_port, "snapshot", {"name": "h"})[1]["result"]["keys"] == 1
    r.delete("k")
    assert post(srv.http_port, "restore", {"name": "h"})[1]["result"]["keys"] == 1
    assert r.get("k") == b"v"


def test_amqp_control_and_peek_over_http(srv):
    conn = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))
    channel = conn.channel()
    channel.queue_declare("http-peek")
    channel.basic_publish("", "http-peek", b"look")
    status, answer = post(srv.http_port, "peek_queue", {"queue": "http-peek"})
    assert status == 200 and [m["body"] for m in answer["result"]] == ["look"]
    assert post(srv.http_port, "amqp_close_connection", {"text": "from http"})[1] == {"result": 1}
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        channel.queue_declare("http-peek", passive=True)
    assert closed.value.reply_code == 320


def test_errors_and_authentication(srv):
    assert post(srv.http_port, "no_such_thing")[0] == 404
    status, answer = post(srv.http_port, "advance", {"minutes": 3})
    assert status == 400 and "minutes" in answer["reason"]
    assert post(srv.http_port, "advance", [1])[0] == 400
    assert post(srv.http_port, "restore", {"name": "never-taken"})[0] == 400
    assert post(srv.http_port, "advance", {"seconds": 1}, user=None)[0] == 401
    assert post(srv.http_port, "advance", {"seconds": 1}, user="guest:wrong")[0] == 401
    assert post(srv.http_port, "advance", {"seconds": 1}, method="GET")[0] == 405


def test_off_by_default(tmp_path):
    with Server(data_dir=str(tmp_path), save="") as plain:
        assert post(plain.http_port, "advance", {"seconds": 1})[0] == 404


def test_cli_test_control_moves_the_clock(tmp_path):
    server = ServerProcess(tmp_path / "data", tmp_path / "log.txt", "--test-control", "--http-port", "0")
    try:
        r = redis.Redis(port=server.redis_port)
        r.set("k", "v", ex=3600)
        assert post(server.http_port, "advance", {"seconds": 3601})[0] == 200
        assert r.get("k") is None
        assert post(server.http_port, "down", {"protocol": "redis"})[1] == {"result": ["redis"]}
        with pytest.raises(redis.exceptions.ConnectionError):
            redis.Redis(port=server.redis_port).ping()
        assert post(server.http_port, "up", {"protocol": "redis"})[1] == {"result": ["redis"]}
        assert redis.Redis(port=server.redis_port).ping() is True
    finally:
        server.stop()

"""Random requests to the management API's handler (sans-IO: `ManagementAPI.handle` called on
the server's loop) never raise and always answer one of RabbitMQ's statuses; the server stays
usable over HTTP and AMQP afterwards."""

from __future__ import annotations

import base64

import pika
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

import yizhan
from yizhan.management.api import ManagementAPI
from yizhan.management.http import Request

SEGMENTS = ["api", "queues", "exchanges", "bindings", "vhosts", "users", "permissions", "overview",
            "whoami", "aliveness-test", "health", "checks", "alarms", "contents", "%2F", "q",
            "amq.default", "amq.direct", "amq.gen-x", "", "%zz", "x%00y", "..", "metrics"]
BODIES = [b"", b"{}", b"null", b"[]", b"7", b'{"arguments": 5}', b'{"arguments": {"x-max-length": null}}',
          b'{"durable": "x", "auto_delete": 1}', b'{"type": 7}', b'{"type": "fanout", "durable": true}',
          b'{"arguments": {"x-queue-type": "quorum"}, "durable": true}', b"\xff\xfe",
          b'{"arguments": {"x-max-priority": 300}}', b'{"arguments": {"alternate-exchange": 1}}']
METHODS = ["GET", "PUT", "DELETE", "POST", "HEAD", "PATCH"]
QUERIES = ["", "?if-empty=true", "?if-unused=true", "?columns=name", "?if-empty"]
AUTHS = ["Basic " + base64.b64encode(b"guest:guest").decode(), "Basic !!", "Bearer x", None,
         "Basic " + base64.b64encode(b"guest").decode()]
STATUSES = {200, 201, 204, 400, 401, 404, 405, 503}

request_strategy = st.builds(
    lambda method, segments, query, body, auth: Request(
        method, "/" + "/".join(segments) + query,
        {"authorization": auth} if auth is not None else {}, body, "127.0.0.1"),
    st.sampled_from(METHODS), st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=5),
    st.sampled_from(QUERIES), st.sampled_from(BODIES), st.sampled_from(AUTHS))


def test_random_requests_get_rabbitmq_statuses(tmp_path):
    with yizhan.Server(http_port=0, data_dir=str(tmp_path / "d"), save="") as srv:
        api = ManagementAPI(srv.runtime)

        @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
        @given(request_strategy)
        def check(request):
            response = srv.call(api.handle, request)
            assert response.status in STATUSES, (request, response)

        check()
        assert requests.get(srv.http_url + "/api/whoami", auth=("guest", "guest")).status_code == 200
        pika.BlockingConnection(pika.URLParameters(srv.amqp_url)).close()

"""One management API request being answered (`Call`), the answers other than success
(`HTTPError`, `JSONAnswer`) and the small readers of bodies and query strings that every
handler module shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from yizhan.amqp.store.definitions_json import amqp_table
from yizhan.management import views
from yizhan.management.http import Response

SEES_ALL_VHOSTS = {"administrator", "monitoring"}


class HTTPError(Exception):
    """An answer other than success: status, RabbitMQ's error and reason (None: empty body)."""

    def __init__(self, status: int, error: str | None = None, reason: str | None = None,
                 headers: list | None = None):
        super().__init__(status, error, reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.headers = headers or []


NOT_FOUND = HTTPError(404, "Object Not Found", "Not Found")


@dataclass
class Call:
    """One request being answered: the runtime, the authenticated user, path parameters,
    query parameters and the body."""
    runtime: object
    user: object
    params: list[str]
    query: dict[str, str]
    body: bytes
    headers: dict = field(default_factory=dict)  # the request's, lower-case names
    rates: object = None  # management/rates.py's Rates, refreshed before the handler runs

    @property
    def broker(self):
        return self.runtime.broker

    def vhost(self, name: str):
        vhost = self.broker.vhosts.get(name)
        if vhost is None or name not in self.visible_vhosts():
            raise NOT_FOUND
        return vhost

    def visible_vhosts(self) -> list[str]:
        if SEES_ALL_VHOSTS & set(self.user.tags):
            return sorted(self.broker.vhosts)
        return views.user_vhosts(self.user, self.broker)

    def vhost_to_change(self, name: str):
        """The vhost a PUT declares into: a missing one is RabbitMQ's 404 vhost_not_found."""
        try:
            return self.vhost(name)
        except HTTPError:
            raise HTTPError(404, "not_found", "vhost_not_found") from None

    def json_body(self) -> dict:
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise HTTPError(400, "bad_request", "not_json") from None
        if not isinstance(value, dict):
            raise HTTPError(400, "bad_request", "not_json")
        return value


class JSONAnswer(Exception):
    """A JSON body with a status other than 200 (health checks that fail answer 503)."""

    def __init__(self, status: int, value):
        super().__init__(status)
        self.status = status
        self.value = value


def with_stats(row: dict, stats: dict | None) -> dict:
    """A row with its message_stats where the object has any (in RabbitMQ's key order)."""
    if stats is None:
        return row
    return dict(sorted({**row, "message_stats": stats}.items()))


def require_administrator(call: Call) -> None:
    if "administrator" not in call.user.tags:
        raise HTTPError(401, "not_authorised", "Not administrator user")


def flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    return value is True or value == "true"


def query_flag(call: Call, name: str) -> bool:
    return call.query.get(name) == "true"


def arguments(body: dict):
    value = body.get("arguments") or {}
    if not isinstance(value, dict):
        raise HTTPError(400, "bad_request", "arguments must be an object")
    try:
        return amqp_table(value)
    except ValueError as exc:
        raise HTTPError(400, "bad_request", str(exc)) from None


def created(existed: bool) -> Response:
    return Response(204 if existed else 201)

"""RabbitMQ's management HTTP API (the first slice of issue 16): routing, HTTP Basic auth
against the AMQP users, and the handlers. Handlers are synchronous: they read the broker and
change it through the same VHost operations as the AMQP methods (queue.declare, queue.delete,
queue.purge, exchange.declare, exchange.delete), so durable changes reach the definitions log.

Answers follow cowboy_rest's decision order as the management plugin uses it: an unknown path
is 404, a method the resource does not allow 405 (empty body), then authentication (401 with
WWW-Authenticate), then the resource itself (404 {"error":"Object Not Found",...}).
"""

from __future__ import annotations

import base64
import binascii
import glob
import ipaddress
import json
from urllib.parse import parse_qs, quote, unquote

from yizhan.amqp import errors
from yizhan.amqp.codec import FieldTable
from yizhan.amqp.errors import AMQPError
from yizhan.management import accounts, definitions, listing, live, live_api, messages, metrics, rates, views
from yizhan.management.call import (NOT_FOUND, Call, HTTPError, JSONAnswer, arguments, created,
                                    flag, query_flag, require_administrator, with_stats)
from yizhan.management.http import Request, Response
from yizhan.testing.control import http as control_http

REALM = 'Basic realm="RabbitMQ Management"'
MANAGEMENT_TAGS = {"administrator", "monitoring", "policymaker", "management"}
DEFAULT_EXCHANGE = "amq.default"


# -- handlers ---------------------------------------------------------------------------------
def get_overview(call: Call):
    overview = views.overview_json(call.runtime, call.broker.server_properties()["cluster_name"])
    queues = [q for v in call.broker.vhosts.values() for q in v.queues.values()]
    out = {**overview, "message_stats": rates.overview_stats(call.broker, call.rates),
           "queue_totals": rates.with_length_rates(overview["queue_totals"], queues, call.rates)}
    keys = list(out)  # RabbitMQ's order: churn_rates after message_stats
    at = keys.index("message_stats") + 1
    churn = {"churn_rates": rates.churn_rates(call.broker, call.rates)}
    return {k: out[k] for k in keys[:at]} | churn | {k: out[k] for k in keys[at:]}


def get_whoami(call: Call):
    return {"name": call.user.name, "tags": list(call.user.tags)}


def get_vhosts(call: Call):
    return [_vhost_row(call, call.broker.vhosts[name]) for name in call.visible_vhosts()]


def get_vhost(call: Call):
    return _vhost_row(call, call.vhost(call.params[0]))


def _vhost_row(call, vhost) -> dict:
    row = rates.with_length_rates(views.vhost_json(vhost), vhost.queues.values(), call.rates)
    return with_stats(row, rates.vhost_stats(call.broker, vhost, call.rates))


def get_users(call: Call):
    require_administrator(call)
    return [views.user_json(call.broker.users[name]) for name in sorted(call.broker.users)]


def get_user(call: Call):
    require_administrator(call)
    user = call.broker.users.get(call.params[0])
    if user is None:
        raise NOT_FOUND
    return views.user_json(user)


def get_permissions(call: Call):
    require_administrator(call)
    return views.permissions_json(call.broker)


def _queues_of(call: Call, vhost_names: list[str]):
    now = call.broker.timers.clock.ms()
    held = views.unacked_totals(call.broker)
    rows = []
    for name in vhost_names:
        vhost = call.broker.vhosts[name]
        rows += [with_stats(rates.with_length_rates(views.queue_json(vhost.queues[q], now, held),
                                                    [vhost.queues[q]], call.rates),
                            rates.queue_stats(vhost.queues[q], call.rates)) for q in sorted(vhost.queues)]
    return rows


def get_queues(call: Call):
    return _queues_of(call, call.visible_vhosts())


def get_vhost_queues(call: Call):
    return _queues_of(call, [call.vhost(call.params[0]).name])


def _queue(call: Call):
    queue = call.vhost(call.params[0]).queues.get(call.params[1])
    if queue is None:
        raise NOT_FOUND
    return queue


def get_queue(call: Call):
    queue = _queue(call)
    detail = views.queue_detail_json(queue, call.broker.timers.clock.ms(),
                                     views.unacked_totals(call.broker))
    detail["consumer_details"] = [live.consumer_json(c) for c in queue.consumers.values()]
    detail = rates.with_length_rates(detail, [queue], call.rates)
    return with_stats(detail, rates.queue_stats(queue, call.rates))


def put_queue(call: Call):
    vhost = call.vhost_to_change(call.params[0])
    body = call.json_body()
    existed = call.params[1] in vhost.queues
    vhost.declare_queue(None, call.params[1], False, flag(body, "durable"), False,
                        flag(body, "auto_delete"), arguments(body))
    return created(existed)


def delete_queue(call: Call):
    queue = _queue(call)
    queue.vhost.delete_queue_checked(None, queue.name, query_flag(call, "if-unused"),
                                     query_flag(call, "if-empty"))


def delete_queue_contents(call: Call):
    queue = _queue(call)
    queue.vhost.check_exclusive(queue, None)
    queue.purge()


def _exchanges_of(call: Call, vhost_names: list[str]):
    rows = []
    for name in vhost_names:
        vhost = call.broker.vhosts[name]
        rows += [with_stats(views.exchange_json(vhost.exchanges[x], name),
                            rates.exchange_stats(vhost.exchanges[x], call.rates)) for x in sorted(vhost.exchanges)]
    return rows


def get_exchanges(call: Call):
    return _exchanges_of(call, call.visible_vhosts())


def get_vhost_exchanges(call: Call):
    return _exchanges_of(call, [call.vhost(call.params[0]).name])


def exchange_name(segment: str) -> str:
    """The API names the default exchange amq.default (rabbit_mgmt_util:id)."""
    return "" if segment == DEFAULT_EXCHANGE else segment


def _exchange(call: Call):
    vhost = call.vhost(call.params[0])
    exchange = vhost.exchanges.get(exchange_name(call.params[1]))
    if exchange is None:
        raise NOT_FOUND
    return vhost, exchange


def get_exchange(call: Call):
    vhost, exchange = _exchange(call)
    return with_stats(views.exchange_detail_json(exchange, vhost.name),
                      rates.exchange_stats(exchange, call.rates))


def put_exchange(call: Call):
    vhost = call.vhost_to_change(call.params[0])
    body = call.json_body()
    name = exchange_name(call.params[1])
    existed = name in vhost.exchanges
    vhost.declare_exchange(name, str(body.get("type", "direct")), False,
                           flag(body, "durable"), flag(body, "auto_delete"),
                           flag(body, "internal"), arguments(body))
    return created(existed)


def delete_exchange(call: Call):
    vhost, exchange = _exchange(call)
    vhost.delete_exchange(exchange.name, query_flag(call, "if-unused"))


def get_bindings(call: Call):
    rows = []
    for name in call.visible_vhosts():
        rows += views.vhost_bindings(call.broker.vhosts[name])
    return rows


def get_vhost_bindings(call: Call):
    return views.vhost_bindings(call.vhost(call.params[0]))


def _bindings_vhost(call: Call):
    """The vhost of a per-object bindings list: the plugin looks up neither the object nor the
    vhost there, so a missing one answers an empty list rather than 404."""
    name = call.params[0]
    return call.broker.vhosts.get(name) if name in call.visible_vhosts() else None


def get_queue_bindings(call: Call):
    """As the plugin: the queue is not looked up, so a missing one still shows the default
    exchange's implicit binding to its name."""
    vhost = _bindings_vhost(call)
    if vhost is None:
        return []
    name = call.params[1]
    implicit = views.binding_json(vhost.name, "", "queue", name, name, FieldTable())
    return [implicit] + [b for b in views.vhost_bindings(vhost) if b["source"] != ""
                         and b["destination_type"] == "queue" and b["destination"] == name]


def get_exchange_bindings_source(call: Call):
    """Bindings from the exchange (none for a missing one: it is not looked up)."""
    vhost = _bindings_vhost(call)
    if vhost is None:
        return []
    name = exchange_name(call.params[1])
    return [b for b in views.vhost_bindings(vhost) if b["source"] == name]


def get_exchange_bindings_destination(call: Call):
    vhost = _bindings_vhost(call)
    if vhost is None:
        return []
    name = exchange_name(call.params[1])
    return [b for b in views.vhost_bindings(vhost)
            if b["destination_type"] == "exchange" and b["destination"] == name]


def pair_handlers(kind: str, one: bool) -> dict:
    """The handlers of /api/bindings/{vhost}/e/{source}/q|e/{destination}[/{props}] for one
    destination kind: the list and POST, or (one) a binding's GET and DELETE."""
    def pair(call: Call, to_change: bool = False) -> tuple:
        dest = call.params[2] if kind == "queue" else exchange_name(call.params[2])
        vhost = (call.vhost_to_change if to_change else call.vhost)(call.params[0])
        return vhost, exchange_name(call.params[1]), dest

    def rows(call: Call) -> list[dict]:
        vhost, source, dest = pair(call)
        return [b for b in views.vhost_bindings(vhost) if b["source"] == source
                and b["destination_type"] == kind and b["destination"] == dest]

    def post(call: Call):
        """Bind as queue.bind / exchange.bind do; Location names the new binding."""
        vhost, source, dest = pair(call, to_change=True)
        body = call.json_body()
        key = str(body.get("routing_key", ""))
        args = arguments(body)
        try:
            vhost.bind(source, kind, dest, key, args or None, None)
        except AMQPError as exc:
            if exc.code == errors.NOT_FOUND:
                raise HTTPError(404, "not_found", exc.explanation) from None
            raise
        props = views.properties_key(key, views.arguments_json(args))
        location = quote(call.params[2], safe="") + "/" + quote(props, safe="")
        return Response(201, b"", [("location", location),
                                   ("vary", "origin")])

    def found(call: Call) -> dict:
        for row in rows(call):
            if row["properties_key"] == call.params[3]:
                return row
        raise NOT_FOUND

    def delete(call: Call):
        row = found(call)
        call.vhost(call.params[0]).unbind(
            row["source"], kind, row["destination"], row["routing_key"],
            arguments({"arguments": row["arguments"]}) or None, None)

    if one:
        return {"GET": found, "DELETE": delete}
    return {"GET": rows, "POST": post}


def get_aliveness(call: Call):
    """RabbitMQ declares (and keeps) the queue aliveness-test in the vhost, then publishes to
    it and gets the message back; yizhan declares it through queue.declare's path."""
    vhost = call.vhost(call.params[0])
    vhost.declare_queue(None, "aliveness-test", False, False, False, False, None)
    return {"status": "ok"}


def get_alarms(call: Call):
    alarms = sorted(call.broker.alarms)
    if not alarms:
        return {"status": "ok"}
    node = views.node_name()
    raise JSONAnswer(503, {"status": "failed",
                           "reason": "resource alarm(s) in effect in the cluster",
                           "alarms": [{"node": node, "resource": r} for r in alarms]})


def get_metrics(call: Call):
    return Response(200, metrics.render(call.runtime).encode(),
                    [("content-type", metrics.CONTENT_TYPE)])


def get_metrics_per_object(call: Call):
    return Response(200, metrics.render(call.runtime, each_object=True).encode(),
                    [("content-type", metrics.CONTENT_TYPE)])


def post_control(call: Call):
    """POST /yizhan/control/<operation>: a test control (only with test controls enabled;
    yizhan.testing.control.http)."""
    require_administrator(call)
    try:
        return {"result": control_http.run(call.runtime.controls, call.params[0], call.body)}
    except control_http.ControlRequestError as exc:
        raise HTTPError(exc.status, "bad_request" if exc.status == 400 else "Object Not Found", exc.reason) from None


# -- routing ----------------------------------------------------------------------------------
ROUTES = [  # path pattern (None: one path segment), {method: handler}
    (("overview",), {"GET": get_overview}),
    (("whoami",), {"GET": get_whoami}),
    (("vhosts",), {"GET": get_vhosts}),
    (("vhosts", None), {"GET": get_vhost, "PUT": accounts.put_vhost,
                        "DELETE": accounts.delete_vhost}),
    (("vhosts", None, "permissions"), {"GET": accounts.get_vhost_permissions}),
    (("vhosts", None, "connections"), {"GET": live_api.get_vhost_connections}),
    (("vhosts", None, "channels"), {"GET": live_api.get_vhost_channels}),
    (("users",), {"GET": get_users}),
    (("users", "without-permissions"), {"GET": accounts.get_users_without_permissions}),
    (("users", None), {"GET": get_user, "PUT": accounts.put_user, "DELETE": accounts.delete_user}),
    (("users", None, "permissions"), {"GET": accounts.get_user_permissions}),
    (("permissions",), {"GET": get_permissions}),
    (("permissions", None, None), {"GET": accounts.get_permission, "PUT": accounts.put_permission,
                                   "DELETE": accounts.delete_permission}),
    (("policies",), {"GET": accounts.get_policies}),
    (("policies", None), {"GET": accounts.get_vhost_policies}),
    (("policies", None, None), {"GET": accounts.get_policy, "PUT": accounts.put_policy,
                                "DELETE": accounts.delete_policy}),
    (("parameters",), {"GET": accounts.get_parameters}),
    (("global-parameters",), {"GET": accounts.get_global_parameters}),
    (("definitions",), {"GET": definitions.get_definitions, "POST": definitions.post_definitions}),
    (("definitions", None), {"GET": definitions.get_vhost_definitions,
                             "POST": definitions.post_vhost_definitions}),
    (("connections",), {"GET": live_api.get_connections}),
    (("connections", None), {"GET": live_api.get_connection,
                             "DELETE": live_api.delete_connection}),
    (("connections", None, "channels"), {"GET": live_api.get_connection_channels}),
    (("channels",), {"GET": live_api.get_channels}),
    (("channels", None), {"GET": live_api.get_channel}),
    (("consumers",), {"GET": live_api.get_consumers}),
    (("consumers", None), {"GET": live_api.get_vhost_consumers}),
    (("nodes",), {"GET": live_api.get_nodes}),
    (("nodes", None), {"GET": live_api.get_node}),
    (("queues",), {"GET": get_queues}),
    (("queues", None), {"GET": get_vhost_queues}),
    (("queues", None, None), {"GET": get_queue, "PUT": put_queue, "DELETE": delete_queue}),
    (("queues", None, None, "contents"), {"DELETE": delete_queue_contents}),
    (("queues", None, None, "bindings"), {"GET": get_queue_bindings}),
    (("queues", None, None, "get"), {"POST": messages.post_get}),
    (("exchanges",), {"GET": get_exchanges}),
    (("exchanges", None), {"GET": get_vhost_exchanges}),
    (("exchanges", None, None), {"GET": get_exchange, "PUT": put_exchange,
                                 "DELETE": delete_exchange}),
    (("exchanges", None, None, "publish"), {"POST": messages.post_publish}),
    (("exchanges", None, None, "bindings", "source"), {"GET": get_exchange_bindings_source}),
    (("exchanges", None, None, "bindings", "destination"),
     {"GET": get_exchange_bindings_destination}),
    (("bindings",), {"GET": get_bindings}),
    (("bindings", None), {"GET": get_vhost_bindings}),
    (("bindings", None, "e", None, "q", None), pair_handlers("queue", one=False)),
    (("bindings", None, "e", None, "e", None), pair_handlers("exchange", one=False)),
    (("bindings", None, "e", None, "q", None, None), pair_handlers("queue", one=True)),
    (("bindings", None, "e", None, "e", None, None), pair_handlers("exchange", one=True)),
    (("aliveness-test", None), {"GET": get_aliveness}),
    (("health", "checks", "alarms"), {"GET": get_alarms}),
]


def route(segments: list[str]):
    """(handlers by method, path parameters) for /api/<segments>, or None."""
    for pattern, handlers in ROUTES:
        if len(pattern) == len(segments) and all(p is None or p == s
                                                 for p, s in zip(pattern, segments)):
            return handlers, [s for p, s in zip(pattern, segments) if p is None]
    return None


class ManagementAPI:
    """The handler behind the management port: `handle(Request) -> Response`."""

    def __init__(self, runtime, metrics_only: bool = False):
        self.runtime = runtime
        self.metrics_only = metrics_only  # the metrics port answers /metrics and nothing else
        self.rates = rates.Rates()

    def handle(self, request: Request) -> Response:
        path, _, query_text = request.target.partition("?")
        try:
            return self._dispatch(request, path, query_text)
        except HTTPError as exc:
            return error_response(exc)
        except JSONAnswer as answer:
            return json_response(answer.value, answer.status)

    def _dispatch(self, request: Request, path: str, query_text: str) -> Response:
        if path == "/metrics":
            return self._call(request, {"GET": get_metrics}, [], query_text, authenticate=False)
        if path == "/metrics/per-object":
            return self._call(request, {"GET": get_metrics_per_object}, [], query_text,
                              authenticate=False)
        if self.metrics_only:
            raise NOT_FOUND
        if path == "/cli/rabbitmqadmin":
            return rabbitmqadmin_download()
        raw = path.split("/")
        if raw[:3] == ["", "yizhan", "control"] and len(raw) == 4 and self.runtime.config.test_control:
            return self._call(request, {"POST": post_control}, [unquote(raw[3])], query_text)
        if len(raw) < 3 or raw[0] != "" or raw[1] != "api":
            raise NOT_FOUND
        # cowboy's router drops empty segments: Flower asks for /api/queues// (vhost "/")
        found = route([unquote(s) for s in raw[2:] if s])
        if found is None:
            raise NOT_FOUND
        handlers, params = found
        paged = len(raw) <= 4 and unquote(raw[2]) in listing.PAGED
        return self._call(request, handlers, params, query_text, paged=paged)

    def _call(self, request: Request, handlers: dict, params: list[str], query_text: str,
              authenticate: bool = True, paged: bool = False) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        handler = handlers.get(method)
        if handler is None:
            raise HTTPError(405)
        user = self.authenticate(request) if authenticate else None
        query = {k: v[-1] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
        if authenticate:
            self.rates.refresh(self.runtime.broker)
        call = Call(self.runtime, user, params, query, request.body, request.headers, self.rates)
        try:
            result = handler(call)
        except AMQPError as exc:
            raise amqp_error(exc) from None
        finally:
            self.runtime.broker.run_deferred()  # what the change tells AMQP clients (basic.cancel)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(204)
        return json_response(listing.reply(result, query, paged))

    def authenticate(self, request: Request):
        """HTTP Basic against the AMQP users; guest (loopback-only) only from loopback, and
        only users with a management tag, as rabbit_mgmt_util:is_authorized."""
        header = request.headers.get("authorization")
        if header is None:
            raise HTTPError(401, headers=[("www-authenticate", REALM)])
        scheme, _, token = header.partition(" ")
        login_failed = HTTPError(401, "not_authorized", "Login failed",
                                 [("www-authenticate", REALM)])
        if scheme.lower() != "basic":
            raise login_failed
        try:
            username, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise login_failed from None
        user = self.runtime.broker.check_login(username, password)
        if user is None or (user.loopback_only and not _is_loopback(request.peer)):
            raise login_failed
        if not MANAGEMENT_TAGS & set(user.tags):
            raise HTTPError(401, "not_authorised", "Not management user")
        return user


RABBITMQADMIN = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins/rabbitmq_management-*/priv/www/cli/rabbitmqadmin"


def rabbitmqadmin_download() -> Response:
    """GET /cli/rabbitmqadmin, as the plugin offers its CLI: the copy that the installed
    rabbitmq-server package ships (yizhan ships none: it is RabbitMQ's program); 404 without one."""
    found = sorted(glob.glob(RABBITMQADMIN))
    if not found:
        raise NOT_FOUND
    with open(found[-1], "rb") as f:
        return Response(200, f.read(), [("content-type", "application/octet-stream"), ("vary", "origin")])


def amqp_error(exc: AMQPError) -> HTTPError:
    """rabbit_mgmt_util's mapping of a channel error: not_found 404, access_refused 401,
    anything else 400 with the error's text."""
    if exc.code == errors.NOT_FOUND:
        return NOT_FOUND
    if exc.code == errors.ACCESS_REFUSED:
        return HTTPError(401, "not_authorised", "Access refused.")
    return HTTPError(400, "bad_request", exc.explanation or errors.NAMES[exc.code])


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


VARY = ("vary", "accept, accept-encoding, origin")


def json_response(value, status: int = 200) -> Response:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, [("content-type", "application/json"), VARY])


def error_response(exc: HTTPError) -> Response:
    if exc.error is None:
        return Response(exc.status, b"", [*exc.headers, ("vary", "origin")])
    body = json.dumps({"error": exc.error, "reason": exc.reason}, separators=(",", ":")).encode()
    return Response(exc.status, body, [("content-type", "application/json"), *exc.headers, VARY])

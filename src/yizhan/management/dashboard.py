"""The dashboard on the management port: the page at `/` and its files under `/static/`
(shipped in the package, no build step, no CDN: plain HTML, CSS and JS), and the Redis panel's
JSON endpoints under /api/yizhan/redis.

The page itself loads without authentication, as RabbitMQ's management UI does; every data
call it makes is an API call with HTTP Basic auth. The AMQP side of the page reads the
RabbitMQ-compatible API (api.py); the Redis side reads the endpoints here:

- GET /api/yizhan/redis: the INFO sections the panel shows (server, clients, memory, stats,
  persistence, replication), the keyspace per database and the newest SLOWLOG entries
  (monitoring or administrator users);
- GET /api/yizhan/redis/keys?db=&cursor=&match=&count=: one SCAN step with each key's type
  and PTTL (administrators);
- GET /api/yizhan/redis/key?db=&key=: one key's type, PTTL, length and a preview of its value
  (administrators).

Keys travel as base64 of their bytes (`key`), with a display text beside (`name`). Every reply
is bounded: at most MAX_SCAN_COUNT keys a step, PREVIEW_ITEMS elements, PREVIEW_BYTES of a
string, ELEMENT_CHARS of each element, SLOWLOG_ROWS slow log entries. Keys are looked at
without touching them (no LRU/LFU access, no keyspace hit or miss counted), as OBJECT does;
an expired key met on the way is reclaimed as any lookup reclaims it.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from importlib import resources

from yizhan.management.api import ROUTES, HTTPError, error_response, require_administrator
from yizhan.management.http import Request, Response
from yizhan.redis.commands.server import info_fields
from yizhan.redis.glob import match
from yizhan.redis.keyspace import type_name
from yizhan.redis.types.streams import MAX, ZERO, format_id
from yizhan.resp.encoder import format_double

PANEL_TAGS = {"administrator", "monitoring"}  # the users who may read the Redis panel
PANEL_SECTIONS = ("server", "clients", "memory", "stats", "persistence", "replication")
SLOWLOG_ROWS = 32
DEFAULT_SCAN_COUNT = 100
MAX_SCAN_COUNT = 1000
PREVIEW_ITEMS = 100
PREVIEW_BYTES = 4096
ELEMENT_CHARS = 512
UINT64_MAX = (1 << 64) - 1
CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(9), *range(11, 32), 127]}

# path -> (file in static/, content type); nothing else is served from the package
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/static/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/static/chart.js": ("chart.js", "text/javascript; charset=utf-8"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
}


class Site:
    """The management port's handler: the dashboard's files, then the API for everything else."""

    def __init__(self, api):
        self.api = api
        self._files: dict[str, bytes] = {}

    def handle(self, request: Request) -> Response:
        path = request.target.partition("?")[0]
        found = FILES.get(path)
        if found is None:
            return self.api.handle(request)
        if request.method not in ("GET", "HEAD"):
            return error_response(HTTPError(405))
        name, content_type = found
        return Response(200, self._read(name), [("content-type", content_type),
                                                ("cache-control", "no-cache")])

    def _read(self, name: str) -> bytes:
        body = self._files.get(name)
        if body is None:
            body = resources.files("yizhan.management").joinpath("static", name).read_bytes()
            self._files[name] = body
        return body


# -- the Redis panel ---------------------------------------------------------------------------
def get_redis(call):
    if not PANEL_TAGS & set(call.user.tags):
        raise HTTPError(401, "not_authorised", "Not monitor user")
    redis = call.runtime.redis
    panel = {name: dict(info_fields(redis, name)) for name in PANEL_SECTIONS}
    panel["databases"] = len(redis.dbs)
    panel["keyspace"] = keyspace_rows(redis)
    slowlog = redis.observer.slowlog
    panel["slowlog_len"] = len(slowlog.entries)
    panel["slowlog"] = [slowlog_json(entry) for entry in slowlog.latest(SLOWLOG_ROWS)]
    return panel


def keyspace_rows(redis) -> list[dict]:
    """INFO keyspace as objects: every database holding keys."""
    rows = []
    for name, text in info_fields(redis, "keyspace"):
        fields = dict(part.split("=", 1) for part in text.split(","))
        rows.append({"db": int(name[2:]), **{k: int(v) for k, v in fields.items()}})
    return rows


def slowlog_json(entry: list) -> dict:
    sid, when, duration_us, args, addr, name = entry
    return {"id": sid, "time": when, "duration_us": duration_us, "args": [text(a) for a in args],
            "client_addr": text(addr), "client_name": text(name or b"")}


def get_keys(call):
    """One SCAN step: the database's own cursor walk (Database.scan, as SCAN), MATCH as SCAN
    matches, expired keys left out."""
    require_administrator(call)
    db = _database(call)
    cursor = _int_param(call, "cursor", 0, 0, UINT64_MAX)
    count = _int_param(call, "count", DEFAULT_SCAN_COUNT, 1, MAX_SCAN_COUNT)
    pattern = call.query.get("match", "*").encode("utf-8", "surrogateescape")
    now = db.clock.ms()
    cursor, found = db.scan(cursor, count)
    rows = []
    for key in found:
        if pattern != b"*" and not match(pattern, key):
            continue
        value = peek(db, key)
        if value is not None:
            rows.append({**key_names(key), "type": type_name(value), "ttl": pttl(db, key, now)})
    return {"db": db.index, "cursor": str(cursor), "keys": rows}


def get_key(call):
    require_administrator(call)
    db = _database(call)
    try:
        key = base64.b64decode(call.query.get("key", ""), validate=True)
    except (binascii.Error, ValueError):
        raise HTTPError(400, "bad_request", "key must be base64") from None
    value = peek(db, key)
    if value is None:
        raise HTTPError(404, "Object Not Found", "Not Found")
    kind = type_name(value)
    shown, truncated = PREVIEWS.get(kind, _no_preview)(value)
    return {"db": db.index, **key_names(key), "type": kind, "ttl": pttl(db, key, db.clock.ms()),
            "length": len(value), "preview": shown, "truncated": truncated}


def peek(db, key: bytes):
    """The live value at `key` without an access: no LRU/LFU touch, no hit or miss counted
    (an expired key is reclaimed, as every lookup reclaims it)."""
    return db.lookup_write(key, touch=False)


def pttl(db, key: bytes, now_ms: int) -> int:
    when = db.expires.get(key)
    return -1 if when is None else max(when - now_ms, 0)


def key_names(key: bytes) -> dict:
    return {"key": base64.b64encode(key).decode("ascii"), "name": text(key)}


def text(value: bytes, limit: int = ELEMENT_CHARS) -> str:
    """Bytes shown as text: UTF-8, other bytes and control characters (but tab and newline) as
    \\xNN escapes, cut at `limit` characters."""
    shown = bytes(value).decode("utf-8", "backslashreplace").translate(CONTROL_ESCAPES)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _first(iterable) -> tuple[list, bool]:
    items = list(itertools.islice(iterable, PREVIEW_ITEMS + 1))
    return items[:PREVIEW_ITEMS], len(items) > PREVIEW_ITEMS


def _string_preview(value) -> tuple:
    return text(value[:PREVIEW_BYTES], PREVIEW_BYTES), len(value) > PREVIEW_BYTES


def _list_preview(value) -> tuple:
    items, more = _first(iter(value))
    return [text(e) for e in items], more


def _set_preview(value) -> tuple:
    items, more = _first(iter(value))
    return [text(m) for m in items], more


def _hash_preview(value) -> tuple:
    items, more = _first(value.items())
    return [[text(f), text(v)] for f, v in items], more


def _zset_preview(value) -> tuple:
    items, more = _first(value.order.islice(0, PREVIEW_ITEMS + 1))
    return [[text(m), format_double(s).decode()] for s, m in items], more


def _stream_preview(value) -> tuple:
    items = value.range(ZERO, MAX, count=PREVIEW_ITEMS + 1)
    shown = [[text(format_id(item.id)), [text(f) for f in item.fields]] for item in items[:PREVIEW_ITEMS]]
    return shown, len(items) > PREVIEW_ITEMS


def _no_preview(value) -> tuple:
    return None, False


PREVIEWS = {"string": _string_preview, "list": _list_preview, "set": _set_preview,
            "hash": _hash_preview, "zset": _zset_preview, "stream": _stream_preview}


def _database(call):
    dbs = call.runtime.redis.dbs
    return dbs[_int_param(call, "db", 0, 0, len(dbs) - 1)]


def _int_param(call, name: str, default: int, low: int, high: int) -> int:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise HTTPError(400, "bad_request", f"{name} must be an integer from {low} to {high}")
    return int(raw)


ROUTES.extend([  # registered beside the RabbitMQ API's routes (api.ROUTES), same auth and errors
    (("yizhan", "redis"), {"GET": get_redis}),
    (("yizhan", "redis", "keys"), {"GET": get_keys}),
    (("yizhan", "redis", "key"), {"GET": get_key}),
])

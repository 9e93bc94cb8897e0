"""The query parameters every management API answer takes, as rabbit_mgmt_util applies them:
`sort` (a dotted key) and `sort_reverse`, `columns` (the rest of each object is left out), and on the lists RabbitMQ pages (queues, exchanges, connections, channels, vhosts)
`page`, `page_size`, `name` and `use_regex`, which answer a page object instead of a list.

Sorting follows Erlang's term order over the JSON values (numbers before atoms, atoms before
maps, maps before lists, lists before strings), so mixed columns order as RabbitMQ's do.
"""

from __future__ import annotations

import re

from yizhan.management.call import HTTPError

PAGED = {"queues", "exchanges", "connections", "channels", "vhosts"}
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


def reply(result, query: dict, paged: bool):
    """The handler's answer with the query parameters applied."""
    if isinstance(result, list):
        if query.get("sort"):
            result = sort_rows(result, query["sort"], query.get("sort_reverse") == "true")
        elif query.get("sort_reverse") == "true":
            result = list(reversed(result))
        if paged and "page" in query:
            return _page(result, query)
        return [columns(row, query) for row in result]
    return columns(result, query)


def columns(row, query: dict):
    """Only the named keys of an object; a dotted column keeps its whole top-level key, as
    RabbitMQ 3.10 answers (columns=arguments.x-max-length keeps every argument)."""
    wanted = query.get("columns")
    if not wanted or not isinstance(row, dict):
        return row
    keys = {c.split(".", 1)[0] for c in wanted.split(",") if c}
    return {k: v for k, v in row.items() if k in keys}


def sort_rows(rows: list, key: str, reverse: bool) -> list:
    path = key.split(".")
    return sorted(rows, key=lambda row: _term_key(_lookup(row, path)), reverse=reverse)


def _lookup(row, path: list[str]):
    for part in path:
        if not isinstance(row, dict) or part not in row:
            return None
        row = row[part]
    return row


def _term_key(value):
    """Erlang's term order: number < atom < map < list < binary."""
    if isinstance(value, bool) or value is None:
        return (1, {False: "false", True: "true", None: "undefined"}[value])
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, dict):
        return (2, len(value), sorted((k, str(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (3, [str(v) for v in value])
    return (4, str(value).encode("utf-8"))


def _page(rows: list, query: dict) -> dict:
    page, size = _page_numbers(query)
    name = query.get("name", "")
    if name:
        if query.get("use_regex") == "true":
            try:
                pattern = re.compile(name)
            except re.error:
                raise HTTPError(400, "bad_request", f"Invalid regular expression: {name}") from None
            rows_in = [r for r in rows if pattern.search(str(r.get("name", "")))]
        else:
            rows_in = [r for r in rows if name.lower() in str(r.get("name", "")).lower()]
    else:
        rows_in = rows
    count = len(rows_in)
    pages = (count + size - 1) // size
    if page > 1 and page > pages:
        raise HTTPError(400, "page_out_of_range",
                        f"Page out of range, page: {page} page size: {size}, len: {count}")
    items = [columns(r, query) for r in rows_in[(page - 1) * size:page * size]]
    return {"filtered_count": count, "item_count": len(items), "items": items, "page": page,
            "page_count": pages, "page_size": size, "total_count": len(rows)}


def _page_numbers(query: dict) -> tuple[int, int]:
    try:
        page = int(query["page"])
        size = int(query["page_size"]) if "page_size" in query else None
    except ValueError:
        raise HTTPError(400, "bad_request", "Pagination parameters are invalid") from None
    if page < 1 or (size is not None and not 1 <= size <= MAX_PAGE_SIZE):
        shown = "undefined" if size is None else size
        raise HTTPError(400, "invalid_pagination_parameters",
                        f"Invalid pagination parameters: page number {page}, page size {shown}")
    return page, size or DEFAULT_PAGE_SIZE

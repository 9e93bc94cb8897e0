"""`yizhan ctl`: rabbitmqctl's everyday commands for a running server, over its management
HTTP API (so every change is the API's, which is the broker's one path for it), printed in
rabbitmqctl 3.10's format: an informational line ("Listing queues for vhost / ..."), then
tab-separated rows under a header of the requested columns; errors on stderr as "Error:" and
the reason, with rabbitmqctl's exit codes (64 usage, 65 bad data, 67 no such user,
69 unavailable, 70 refused). `-q` leaves the informational lines out.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import quote

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE, EX_SOFTWARE = 64, 65, 67, 69, 70

LISTS = {  # command: (API path under the vhost or None, default columns, info line)
    "list_queues": ("queues/{vhost}", ["name", "messages"],
                    "Timeout: 60.0 seconds ...\nListing queues for vhost {vhost} ..."),
    "list_exchanges": ("exchanges/{vhost}", ["name", "type"], "Listing exchanges for vhost {vhost} ..."),
    "list_bindings": ("bindings/{vhost}", ["source_name", "source_kind", "destination_name",
                                           "destination_kind", "routing_key", "arguments"],
                      "Listing bindings for vhost {vhost}..."),
    "list_connections": ("connections", ["user", "peer_host", "peer_port", "state"],
                         "Listing connections ..."),
    "list_consumers": ("consumers/{vhost}", ["queue_name", "channel_pid", "consumer_tag",
                                             "ack_required", "prefetch_count", "active", "arguments"],
                       "Listing consumers in vhost {vhost} ..."),
    "list_users": ("users", ["user", "tags"], "Listing users ..."),
    "list_vhosts": ("vhosts", ["name"], "Listing vhosts ..."),
    "list_permissions": ("vhosts/{vhost}/permissions", ["user", "configure", "write", "read"],
                         'Listing permissions for vhost "{vhost}" ...'),
    "list_policies": ("policies/{vhost}", ["vhost", "name", "pattern", "apply-to", "definition",
                                           "priority"], 'Listing policies for vhost "{vhost}" ...'),
}
# rabbitmqctl's info keys that the API names otherwise
ALIASES = {
    "list_bindings": {"source_name": "source", "destination_name": "destination",
                      "destination_kind": "destination_type"},
    "list_consumers": {"queue_name": ("queue", "name"), "channel_pid": ("channel_details", "name")},
    "list_users": {"user": "name"},
}


class CtlError(Exception):
    """A failed command: exit code and text (`bare`: printed without "Error:")."""

    def __init__(self, code: int, text: str, bare: bool = False):
        super().__init__(text)
        self.code = code
        self.text = text
        self.bare = bare


class Client:
    """The management API of one server."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.auth = f"Basic {token}"

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + "/api/" + path, data=data, method=method)
        request.add_header("authorization", self.auth)
        if data is not None:
            request.add_header("content-type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                reason = json.loads(text).get("reason") if text else None
            except ValueError:
                reason = None
            return exc.code, {"reason": reason or exc.reason}
        except OSError as exc:
            raise CtlError(EX_UNAVAILABLE, f"unable to reach the management API at {self.base}: "
                                           f"{getattr(exc, 'reason', exc)}") from None


def q(name: str) -> str:
    return quote(name, safe="")


# -- output -------------------------------------------------------------------------------------
def erlang_text(value) -> str:
    """A value as rabbitmqctl prints it: booleans lower-case, lists [a, b], tables [{k,v}]."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(erlang_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "[" + ",".join(f'{{"{k}",{_term(v)}}}' for k, v in value.items()) + "]"
    return str(value)


def _term(value) -> str:
    if isinstance(value, str):
        return f'<<"{value}">>'
    return erlang_text(value)


def _column(command: str, row: dict, column: str):
    key = ALIASES.get(command, {}).get(column, column)
    if isinstance(key, tuple):
        value = row
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        return value
    if command == "list_bindings" and column == "source_kind":
        return "exchange"
    if command == "list_policies" and column == "definition":
        return json.dumps(row.get("definition"), separators=(",", ":"))
    return row.get(key)


def print_table(command: str, rows: list, columns: list[str], out) -> None:
    """The header and the rows; nothing to list is one empty line, as rabbitmqctl prints it."""
    if not rows:
        print("", file=out)
        return
    print("\t".join(columns), file=out)
    for row in rows:
        print("\t".join(erlang_text(_column(command, row, c)) for c in columns), file=out)


# -- commands -----------------------------------------------------------------------------------
def run_list(client: Client, args, out) -> None:
    path, default, info = LISTS[args.command]
    columns = args.columns or default
    if not args.quiet:
        print(info.format(vhost=args.vhost), file=out)
    status, rows = client.call("GET", path.format(vhost=q(args.vhost)))
    _check(status, rows)
    print_table(args.command, rows, columns, out)


def _check(status: int, body, missing: str | None = None) -> None:
    if status == 404 and missing is not None:
        raise CtlError(EX_NOUSER, missing)
    if status >= 400:
        reason = (body or {}).get("reason") or f"HTTP {status}"
        raise CtlError(EX_NOUSER if status == 404 else EX_SOFTWARE, str(reason))


def _say(args, text: str, out) -> None:
    if not args.quiet:
        print(text, file=out)


def add_user(client, args, out):
    name, password = args.args
    _say(args, f'Adding user "{name}" ...', out)
    status, _ = client.call("GET", f"users/{q(name)}")
    if status == 200:
        raise CtlError(EX_SOFTWARE, f'User "{name}" already exists')
    _check(*client.call("PUT", f"users/{q(name)}", {"password": password, "tags": ""}))
    _say(args, "Done. Don't forget to grant the user permissions to some virtual hosts! "
               "See 'rabbitmqctl help set_permissions' to learn more.", out)


def _user(client, name: str) -> dict:
    status, body = client.call("GET", f"users/{q(name)}")
    _check(status, body, f'User "{name}" does not exist')
    return body


def delete_user(client, args, out):
    (name,) = args.args
    _say(args, f'Deleting user "{name}" ...', out)
    _check(*client.call("DELETE", f"users/{q(name)}"), f'User "{name}" does not exist')


def change_password(client, args, out):
    name, password = args.args
    _say(args, f'Changing password for user "{name}" ...', out)
    user = _user(client, name)
    _check(*client.call("PUT", f"users/{q(name)}", {"password": password, "tags": user["tags"]}))


def set_user_tags(client, args, out):
    name, *tags = args.args
    _say(args, f'Setting tags for user "{name}" to [{", ".join(tags)}] ...', out)
    user = _user(client, name)
    body = {"password_hash": user["password_hash"], "hashing_algorithm": user["hashing_algorithm"],
            "tags": tags}
    _check(*client.call("PUT", f"users/{q(name)}", body))


def set_permissions(client, args, out):
    name, configure, write, read = args.args
    _say(args, f'Setting permissions for user "{name}" in vhost "{args.vhost}" ...', out)
    _check(*client.call("PUT", f"permissions/{q(args.vhost)}/{q(name)}",
                        {"configure": configure, "write": write, "read": read}))


def add_vhost(client, args, out):
    (name,) = args.args
    _say(args, f'Adding vhost "{name}" ...', out)
    _check(*client.call("PUT", f"vhosts/{q(name)}", {}))


def delete_vhost(client, args, out):
    (name,) = args.args
    _say(args, f'Deleting vhost "{name}" ...', out)
    code, body = client.call("DELETE", f"vhosts/{q(name)}")
    if code == 404:
        raise CtlError(EX_DATAERR, f"Virtual host '{name}' does not exist", bare=True)
    _check(code, body)


def set_policy(client, args, out):
    name, pattern, definition = args.args
    _say(args, f'Setting policy "{name}" for pattern "{pattern}" to "{definition}" with priority '
               f'"{args.priority}" for vhost "{args.vhost}" ...', out)
    try:
        parsed = json.loads(definition)
    except ValueError:
        raise CtlError(EX_SOFTWARE, f"JSON decoding error: {definition}") from None
    _check(*client.call("PUT", f"policies/{q(args.vhost)}/{q(name)}",
                        {"pattern": pattern, "definition": parsed, "priority": args.priority,
                         "apply-to": args.apply_to}))


def clear_policy(client, args, out):
    (name,) = args.args
    _say(args, f'Clearing policy "{name}" on vhost "{args.vhost}" ...', out)
    _check(*client.call("DELETE", f"policies/{q(args.vhost)}/{q(name)}"),
           "Parameter does not exist")


def purge_queue(client, args, out):
    (name,) = args.args
    _say(args, f"Purging queue '{name}' in vhost '{args.vhost}' ...", out)
    _check(*client.call("DELETE", f"queues/{q(args.vhost)}/{q(name)}/contents"),
           f"Queue '{name}' in vhost '{args.vhost}' does not exist")


def delete_queue(client, args, out):
    (name,) = args.args
    _say(args, f"Deleting queue '{name}' on vhost '{args.vhost}' ...", out)
    status, queue = client.call("GET", f"queues/{q(args.vhost)}/{q(name)}")
    if status == 404:  # rabbitmqctl answers a missing queue with its usage code
        raise CtlError(EX_USAGE, "Queue not found")
    _check(status, queue)
    query = "&".join(f"{flag}=true" for flag, on in (("if-empty", args.if_empty),
                                                     ("if-unused", args.if_unused)) if on)
    _check(*client.call("DELETE", f"queues/{q(args.vhost)}/{q(name)}" + (f"?{query}" if query else "")))
    print(f"Queue was successfully deleted with {queue.get('messages_ready', 0)} ready messages", file=out)


def close_connection(client, args, out):
    name, reason = args.args
    _say(args, f'Closing connection "{name}", reason: {reason}...', out)
    _check(*client.call("DELETE", f"connections/{q(name)}", headers={"X-Reason": reason}),
           f'Connection "{name}" does not exist')


def status(client, args, out):
    code, nodes = client.call("GET", "nodes")
    _check(code, nodes)
    code, overview = client.call("GET", "overview")
    _check(code, overview)
    node = nodes[0]
    totals = overview["object_totals"]
    _say(args, f"Status of node {node['name']} ...", out)
    lines = ["Runtime", "", f"OS PID: {node['os_pid']}", f"RabbitMQ version: {overview['rabbitmq_version']}",
             f"Node name: {node['name']}", f"Runtime: {overview['erlang_version']}",
             f"Uptime (seconds): {node['uptime'] // 1000}", "", "Totals", "",
             f"Connection count: {totals['connections']}", f"Queue count: {totals['queues']}",
             f"Virtual host count: {len(client.call('GET', 'vhosts')[1])}", "", "Memory", "",
             f"Total memory used: {node['mem_used'] / 1e9:.4f} gb",
             f"Calculation strategy: {node['mem_calculation_strategy']}",
             f"Memory high watermark setting: {node['mem_limit']} bytes", "", "Free Disk Space", "",
             f"Low free disk space watermark: {node['disk_free_limit'] / 1e9:.4f} gb",
             f"Free disk space: {node['disk_free'] / 1e9:.4f} gb", "", "Listeners", ""]
    lines += [f"Interface: {l['ip_address']}, port: {l['port']}, protocol: {l['protocol']}"
              for l in overview["listeners"]]
    print("\n".join(lines), file=out)


def export_definitions(client, args, out):
    (path,) = args.args
    code, body = client.call("GET", "definitions")
    _check(code, body)
    text = json.dumps(body, indent=2, sort_keys=True)
    if path == "-":
        print(text, file=out)
        return
    _say(args, f'Exporting definitions in JSON to a file at "{path}" ...', out)
    with open(path, "w") as f:
        f.write(text + "\n")


def import_definitions(client, args, out):
    (path,) = args.args
    _say(args, f'Importing definitions in JSON from a file at "{path}" ...', out)
    try:
        with open(path) as f:
            definitions = json.load(f)
    except (OSError, ValueError) as exc:
        raise CtlError(EX_SOFTWARE, f"cannot read {path}: {exc}") from None
    _check(*client.call("POST", "definitions", definitions))
    _say(args, "Successfully started definition import. This process is asynchronous and can "
               "take some time.", out)


COMMANDS = {  # name: (handler, argument names)
    "add_user": (add_user, ["username", "password"]),
    "delete_user": (delete_user, ["username"]),
    "change_password": (change_password, ["username", "password"]),
    "set_user_tags": (set_user_tags, ["username", "tag ..."]),
    "set_permissions": (set_permissions, ["username", "conf", "write", "read"]),
    "add_vhost": (add_vhost, ["vhost"]),
    "delete_vhost": (delete_vhost, ["vhost"]),
    "set_policy": (set_policy, ["name", "pattern", "definition"]),
    "clear_policy": (clear_policy, ["name"]),
    "purge_queue": (purge_queue, ["queue"]),
    "delete_queue": (delete_queue, ["queue"]),
    "close_connection": (close_connection, ["connection_name", "explanation"]),
    "status": (status, []),
    "export_definitions": (export_definitions, ["file"]),
    "import_definitions": (import_definitions, ["file"]),
}


def add_parser(sub) -> None:
    """`yizhan ctl ...` in the top-level parser (cli.py)."""
    ctl = sub.add_parser("ctl", help="rabbitmqctl's commands for a running server, over its HTTP API")
    ctl.add_argument("--host", default="127.0.0.1", help="the server's address (default 127.0.0.1)")
    ctl.add_argument("--http-port", type=int, default=15672, help="its management port (default 15672)")
    ctl.add_argument("--username", default="guest", help="an administrator (default guest)")
    ctl.add_argument("--password", default="guest")
    ctl.add_argument("-p", "--vhost", default="/", help="the vhost (default /)")
    ctl.add_argument("-q", "--quiet", action="store_true", help="no informational lines")
    ctl.add_argument("--priority", type=int, default=0, help="set_policy: the policy's priority")
    ctl.add_argument("--apply-to", default="all", help="set_policy: queues, exchanges or all")
    ctl.add_argument("--if-empty", action="store_true", help="delete_queue: only if empty")
    ctl.add_argument("--if-unused", action="store_true", help="delete_queue: only without consumers")
    ctl.add_argument("ctl_command", metavar="command", choices=sorted([*LISTS, *COMMANDS]))
    ctl.add_argument("args", nargs="*", help="the command's arguments (list_*: the columns)")


def main(args, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args.command = args.ctl_command
    client = Client(f"http://{args.host}:{args.http_port}", args.username, args.password)
    try:
        if args.command in LISTS:
            args.columns = args.args
            run_list(client, args, out)
            return 0
        handler, names = COMMANDS[args.command]
        variadic = names and names[-1].endswith("...")
        if len(args.args) < len(names) or (not variadic and len(args.args) > len(names)):
            print(f"Error (argument validation): usage: yizhan ctl {args.command} "
                  f"{' '.join('<' + n + '>' for n in names)}", file=err)
            return EX_USAGE
        handler(client, args, out)
        return 0
    except CtlError as exc:
        print(exc.text if exc.bare else f"Error:\n{exc.text}", file=err)
        return exc.code

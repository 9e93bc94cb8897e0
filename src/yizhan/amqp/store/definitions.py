"""The definitions log: vhosts, users, permissions and durable exchanges, queues and bindings,
one JSON line per change.

Record types (`op`): `v+`/`v-` a vhost (with RabbitMQ's `metadata` and `limits` kept as data),
`u+`/`u-` a user (name, password_hash, hashing_algorithm, tags, limits: RabbitMQ's user
fields), `p+`/`p-` a user's permissions in a vhost (configure, write, read), `P+`/`P-` a
policy (vhost, name, pattern, apply-to, definition, priority: RabbitMQ's fields), `x+`/`x-`
exchanges, `q+`/`q-` queues, `b+`/`b-` bindings. Accounts come from `yizhan definitions
import`; the topology from the running broker (and import).

`<data-dir>/amqp/definitions.log` is appended on every change to a durable definition and
replayed at boot into a state (`Definitions`), which is then written back compacted (a temp
file, fsynced, renamed over the log). A torn last line (a crash mid-append) is dropped; a bad
line anywhere else is a `StoreError` naming the file and line.
"""

from __future__ import annotations

import json
import os

from yizhan.amqp.store.errors import StoreError


class Definitions:
    """What the log says exists: accounts, exchanges, queues and bindings, keyed by identity."""

    def __init__(self):
        self.vhosts: dict[str, dict] = {}            # name -> record
        self.users: dict[str, dict] = {}             # name -> record
        self.permissions: dict[tuple, dict] = {}     # (user, vhost) -> record
        self.policies: dict[tuple, dict] = {}        # (vhost, name) -> record
        self.exchanges: dict[tuple, dict] = {}  # (vhost, name) -> record
        self.queues: dict[tuple, dict] = {}     # (vhost, name) -> record
        self.bindings: dict[tuple, dict] = {}   # (vhost, source, kind, dest, key, args) -> record

    def apply(self, record: dict) -> None:
        op = record["op"]
        if op[0] in "vup":
            self._apply_account(op, record)
            return
        vhost = record["vhost"]
        if op == "P+":
            self.policies[(vhost, record["name"])] = record
        elif op == "P-":
            self.policies.pop((vhost, record["name"]), None)
        elif op == "x+":
            self.exchanges[(vhost, record["name"])] = record
        elif op == "x-":
            self.exchanges.pop((vhost, record["name"]), None)
        elif op == "q+":
            self.queues[(vhost, record["name"])] = record
        elif op == "q-":
            self.queues.pop((vhost, record["name"]), None)
        elif op == "b+":
            self.bindings[binding_key(record)] = record
        elif op == "b-":
            self.bindings.pop(binding_key(record), None)
        else:
            raise ValueError(f"unknown op {op!r}")

    def _apply_account(self, op: str, record: dict) -> None:
        table, key = {"v": (self.vhosts, record.get("name")),
                      "u": (self.users, record.get("name")),
                      "p": (self.permissions, (record.get("user"), record.get("vhost")))}[op[0]]
        parts = key if isinstance(key, tuple) else (key,)
        if not all(isinstance(part, str) for part in parts) or op[1:] not in ("+", "-"):
            raise ValueError(f"bad account record {record!r}")
        if op[1] == "+":
            table[key] = record
        else:
            table.pop(key, None)

    def records(self) -> list[dict]:
        return [*self.vhosts.values(), *self.users.values(), *self.permissions.values(),
                *self.policies.values(), *self.exchanges.values(), *self.queues.values(), *self.bindings.values()]


def binding_key(record: dict) -> tuple:
    return (record["vhost"], record["source"], record["kind"], record["dest"], record["key"],
            record["args"])


class DefinitionsLog:
    def __init__(self, path: str):
        self.path = path
        self.file = None

    def load(self) -> Definitions:
        """Replay the log, then rewrite it compacted and open it for appending."""
        state = Definitions()
        if os.path.exists(self.path):
            self._replay(state)
        self._rewrite(state)
        self.file = open(self.path, "ab", buffering=0)
        return state

    def read(self) -> Definitions:
        """Replay only (export: the file is not rewritten, a running server keeps its log)."""
        state = Definitions()
        if os.path.exists(self.path):
            self._replay(state)
        return state

    def _replay(self, state: Definitions) -> None:
        with open(self.path, "rb") as f:
            lines = f.read().split(b"\n")
        last = len(lines) - 1  # the text after the final newline: empty unless torn
        for number, line in enumerate(lines, 1):
            if not line:
                continue
            try:
                state.apply(json.loads(line))
            except (ValueError, KeyError, TypeError):
                if number - 1 == last:
                    break  # a torn last line: the change was never acknowledged
                raise StoreError(f"{self.path}:{number}: corrupt definitions record; restore "
                                 "the file from a backup or remove it to start without "
                                 "durable definitions") from None

    def _rewrite(self, state: Definitions) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            for record in state.records():
                f.write(_line(record))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def append(self, record: dict) -> None:
        """Written at once and fsynced: topology changes are rare and their -ok follows."""
        self.file.write(_line(record))
        os.fsync(self.file.fileno())

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _line(record: dict) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"

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
file, fsynced, renamed over the log).

Format 2 (issue 17) starts with the line `yizhan-definitions 2`; each record is then the
CRC-32 of its JSON text (8 hex digits), a space and the JSON text. A file without that first
line is format 1 (bare JSON lines, no checksum) and still loads; it is rewritten in format 2.
A torn last line (a crash mid-append: the text after the final newline) is dropped with a
warning; a bad line anywhere else is a `StoreError` naming the file, line and byte offset,
or with `recover_damaged` (store/damage.py) the file is copied aside, the damaged records
are skipped and their count logged.
"""

from __future__ import annotations

import json
import logging
import os
import zlib

from yizhan.amqp.store import damage

log = logging.getLogger("yizhan.amqp")
HEADER = b"yizhan-definitions 2"


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
    def __init__(self, path: str, recover_damaged: bool = False, quarantine: str | None = None):
        self.path = path
        self.file = None
        self.recover_damaged = recover_damaged
        self.quarantine = quarantine or os.path.join(os.path.dirname(path), "quarantine")

    def load(self) -> Definitions:
        """Replay the log, then rewrite it compacted and open it for appending."""
        state = Definitions()
        if os.path.exists(self.path):
            self._replay(state, recover=True)
        self._rewrite(state)
        self.file = open(self.path, "ab", buffering=0)
        return state

    def read(self) -> Definitions:
        """Replay only (export: the file is not rewritten, a running server keeps its log)."""
        state = Definitions()
        if os.path.exists(self.path):
            self._replay(state)
        return state

    def _replay(self, state: Definitions, recover: bool = False) -> None:
        with open(self.path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        checked = lines[0] == HEADER
        torn = lines.pop()  # the text after the final newline: empty unless torn
        offset = len(lines[0]) + 1 if checked else 0
        damaged = []
        for number, line in enumerate(lines[1:] if checked else lines, 2 if checked else 1):
            if line:
                try:
                    state.apply(_record(line, checked))
                except (ValueError, KeyError, TypeError):
                    damaged.append((number, offset))
            offset += len(line) + 1
        if torn:
            log.warning("AMQP definitions log: %s: dropped a torn last line at byte %d (%d bytes of a "
                        "change that was never acknowledged)", self.path, offset, len(torn))
        if not damaged:
            return
        number, offset = damaged[0]
        if not (recover and self.recover_damaged):
            raise damage.refusal(self.path, offset, "definitions record", line=number)
        aside = damage.quarantine(self.path, self.quarantine)
        log.warning("AMQP definitions log: %s was damaged: %d records skipped (the first at line %d, "
                    "byte %d); a copy is kept as %s", self.path, len(damaged), number, offset, aside)

    def _rewrite(self, state: Definitions) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(HEADER + b"\n")
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
    text = json.dumps(record, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(text), text)


def _record(line: bytes, checked: bool) -> dict:
    """The record of one line (format 2: its checksum verified first); ValueError if bad."""
    if checked:
        if len(line) < 10 or line[8:9] != b" " or int(line[:8], 16) != zlib.crc32(line[9:]):
            raise ValueError("checksum mismatch")
        line = line[9:]
    record = json.loads(line)
    if type(record) is not dict:
        raise ValueError("not a record")
    return record

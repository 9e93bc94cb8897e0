"""The definitions log: durable exchanges, queues and bindings, one JSON line per change.

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
    """What the log says exists: exchanges, queues and bindings, keyed by identity."""

    def __init__(self):
        self.exchanges: dict[tuple, dict] = {}  # (vhost, name) -> record
        self.queues: dict[tuple, dict] = {}     # (vhost, name) -> record
        self.bindings: dict[tuple, dict] = {}   # (vhost, source, kind, dest, key, args) -> record

    def apply(self, record: dict) -> None:
        op, vhost = record["op"], record["vhost"]
        if op == "x+":
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

    def records(self) -> list[dict]:
        return [*self.exchanges.values(), *self.queues.values(), *self.bindings.values()]


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

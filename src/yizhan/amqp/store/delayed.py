"""The delayed-message log: messages held by x-delayed-message exchanges (amqp/delayed.py), so
they survive a restart as the plugin's Mnesia table (disc_copies) keeps them.

`<data-dir>/amqp/delayed.log` holds one JSON line per change: `{"op": "+", "id", "at" (release
time, ms since the epoch), "vhost", "exchange", "key", "keys", "props", "body" (hex)}` when a
message is held, `{"op": "-", "id"}` when it is released. Lines are written and flushed at
once but not fsynced (the plugin writes with mnesia:dirty_write, and a delayed publish is
confirmed at once). At boot the live records are read back and the file is rewritten with them
alone (temp file, fsync, rename); while running it is rewritten the same way when released
records outnumber live ones (and there are more than COMPACT_AFTER). A torn last line is
dropped; a bad line elsewhere is a `StoreError` naming the file and line.
"""

from __future__ import annotations

import json
import os

from yizhan.amqp.message import Message
from yizhan.amqp.store.errors import StoreError

COMPACT_AFTER = 10_000


class DelayedLog:
    def __init__(self, path: str):
        self.path = path
        self.file = None
        self.live: dict[int, str] = {}   # id -> its "+" line
        self.dead = 0

    def load(self) -> list:
        """The held messages as (id, release at ms, vhost, exchange, Message), oldest id first;
        the file is rewritten with them alone and opened for appending."""
        self.live.clear()
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            last = len(lines) - 1
            for number, line in enumerate(lines):
                if line:
                    self._replay(line, number, number == last)  # no newline after it: torn
        self._rewrite()
        return [_record(json.loads(line)) for _, line in sorted(self.live.items())]

    def _replay(self, line: str, number: int, is_last: bool) -> None:
        try:
            record = json.loads(line)
            if record["op"] == "+":
                self.live[record["id"]] = line
            else:
                self.live.pop(record["id"], None)
        except (ValueError, KeyError, TypeError):
            if is_last:
                return  # torn by a crash mid-append
            raise StoreError(f"{self.path}, line {number + 1}: not a delayed-message record; "
                             "move the file away to start without the held messages") from None

    def add(self, msg_id: int, at: int, vhost: str, exchange: str, message) -> None:
        line = json.dumps({"op": "+", "id": msg_id, "at": at, "vhost": vhost,
                           "exchange": exchange, "key": message.routing_key,
                           "keys": message.routing_keys, "props": message.raw_properties.hex(),
                           "body": message.body.hex()})
        self.live[msg_id] = line
        self._append(line)

    def remove(self, msg_id: int) -> None:
        if self.live.pop(msg_id, None) is None:
            return
        self.dead += 1
        if self.dead > COMPACT_AFTER and self.dead > len(self.live):
            self._rewrite()
        else:
            self._append(json.dumps({"op": "-", "id": msg_id}))

    def _append(self, line: str) -> None:
        if self.file is None:
            self.file = open(self.path, "a", encoding="utf-8")
        self.file.write(line + "\n")
        self.file.flush()

    def _rewrite(self) -> None:
        self.close()
        temp = self.path + ".tmp"
        with open(temp, "w", encoding="utf-8") as f:
            for line in self.live.values():
                f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.path)
        self.dead = 0
        self.file = open(self.path, "a", encoding="utf-8")

    def close(self) -> None:
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None


def _record(record: dict):
    message = Message(record["exchange"], record["key"], bytes.fromhex(record["props"]),
                      bytes.fromhex(record["body"]), None, record["keys"])
    message.read_expiration()
    return record["id"], record["at"], record["vhost"], record["exchange"], message

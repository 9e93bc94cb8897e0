"""The ACL log (ACL LOG): denied commands, keys, channels and failed AUTHs, newest first, a
repeat of a recent entry (same reason, context, object and user within 60 s, among the 10
newest) counted on that entry instead of added (addACLLogEntry)."""

from __future__ import annotations

from dataclasses import dataclass

GROUPING_MS = 60_000
REASONS = {1: "command", 2: "key", 3: "auth", 4: "channel"}


@dataclass
class Entry:
    reason: int
    context: str  # "toplevel", "multi", "lua"
    object: bytes
    username: bytes
    ctime: int  # wall ms of the last update
    client_info: str
    count: int = 1

    def matches(self, other: "Entry") -> bool:
        return (self.reason == other.reason and self.context == other.context
                and abs(self.ctime - other.ctime) <= GROUPING_MS
                and self.object == other.object and self.username == other.username)

    def reply(self, now_ms: int) -> dict:
        return {b"count": self.count, b"reason": REASONS.get(self.reason, "unknown").encode(),
                b"context": self.context.encode(), b"object": self.object, b"username": self.username,
                b"age-seconds": (now_ms - self.ctime) / 1000, b"client-info": self.client_info.encode()}


class AclLog:
    def __init__(self):
        self.entries: list[Entry] = []  # newest first

    def add(self, entry: Entry, max_len: int) -> None:
        for index, current in enumerate(self.entries[:10]):
            if current.matches(entry):
                del self.entries[index]
                current.client_info, current.ctime = entry.client_info, entry.ctime
                current.count += 1
                self.entries.insert(0, current)
                return
        self.entries.insert(0, entry)
        del self.entries[max_len:]

    def reset(self) -> None:
        self.entries = []

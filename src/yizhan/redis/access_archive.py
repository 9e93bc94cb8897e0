"""`AccessArchive`: the last-access times (Redis's per-object LRU field) of keys not touched
lately, packed so that a key costs its own bytes plus one, not a dict entry.

Why: `Database.access` (key -> ms of the last access) is a dict entry per key, about 42 bytes
at a million keys, as much as the key's value; Redis keeps the same 24 bits inside the object
header. The access times are read rarely (OBJECT IDLETIME / FREQ, DEBUG OBJECT, an RDB written
under an LRU or LFU policy) but written on every command, so writes keep going to the plain
dict, and the server cron moves the dict here once it holds 16,384 keys
(`Database.archive_access`).

The archive is a list of tiers, oldest first, each (second, blob): the keys last touched in
that second, escaped as types/packed.py escapes (so they hold no NUL) and joined between NULs.
Seconds are all the LRU clock and the LFU minutes read, so nothing is lost. A key's time is the
newest tier holding it (the dict first): a tier entry left behind by a newer access or by a
deletion is shadowed or dead, never wrong, because every key written gets a dict entry then.
When dead entries outnumber the live keys, `compact` rebuilds the tiers without them.
"""

from __future__ import annotations

from yizhan.redis.types.packed import escape, unescape

SEP = b"\x00"


def _pack(keys) -> bytes:
    keys = list(keys)
    body = SEP.join(keys)
    if body.count(SEP) != len(keys) - 1 or 2 in body:  # some key needs escaping (rare)
        body = SEP.join(map(escape, keys))
    return SEP + body + SEP


def _unpack(blob: bytes) -> list[bytes]:
    keys = blob[1:-1].split(SEP)
    return [unescape(k) if 2 in k else k for k in keys] if 2 in blob else keys


class AccessArchive:
    """Tiers of (second, packed keys), oldest first; `entries` counts keys in all tiers."""

    __slots__ = ("tiers", "entries")

    def __init__(self):
        self.tiers: list[tuple[int, bytes]] = []
        self.entries = 0

    def __len__(self) -> int:
        return self.entries

    def seconds_of(self, key: bytes) -> int | None:
        """The second of the newest tier holding `key`, or None."""
        needle = SEP + escape(key) + SEP
        for second, blob in reversed(self.tiers):
            if needle in blob:
                return second
        return None

    def add(self, stamps: dict[bytes, int]) -> None:
        """Archive key -> ms stamps (they become newer than everything archived before)."""
        by_second: dict[int, list[bytes]] = {}
        for key, ms in stamps.items():
            second = ms // 1000
            group = by_second.get(second)
            if group is None:
                by_second[second] = [key]
            else:
                group.append(key)
        # Newer than every tier: appended in time order after them (a second that goes back,
        # as RESTORE IDLETIME makes, still has to win over older archived stamps).
        for second in sorted(by_second):
            self.tiers.append((second, _pack(by_second[second])))
        self.entries += len(stamps)

    def compact(self, live, recent) -> None:
        """Drop the entries of keys not in `live` or shadowed by `recent` or a newer tier."""
        seen = set(recent)
        live_keys = live.keys()
        kept_tiers = []
        entries = 0
        for second, blob in reversed(self.tiers):  # set operations: C loops, not Python ones
            kept = (set(_unpack(blob)) & live_keys) - seen  # `-` walks `kept`; `-=` would walk `seen`
            if kept:
                seen |= kept
                kept_tiers.append((second, _pack(kept)))
                entries += len(kept)
        kept_tiers.reverse()
        self.tiers, self.entries = self._merged(kept_tiers), entries

    @staticmethod
    def _merged(tiers: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        """Neighbouring tiers of the same second joined (fewer blobs to search)."""
        out: list[tuple[int, bytes]] = []
        for second, blob in tiers:
            if out and out[-1][0] == second:
                out[-1] = (second, out[-1][1] + blob[1:])
            else:
                out.append((second, blob))
        return out

    def stamps(self) -> dict[bytes, int]:
        """Every archived key -> ms (the newest tier wins): for whole-dataset readers."""
        result: dict[bytes, int] = {}
        for second, blob in self.tiers:
            result.update(dict.fromkeys(_unpack(blob), second * 1000))
        return result

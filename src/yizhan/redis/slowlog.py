"""SLOWLOG: the commands that ran at least `slowlog-log-slower-than` microseconds, newest
first, at most `slowlog-max-len` of them.

An entry is what SLOWLOG GET shows, as Redis 7.0 builds it (slowlogCreateEntry): id, unix
time, duration in microseconds, the arguments (at most 32, the last then saying how many more
there were; each at most 128 bytes, then how many more bytes), the client's address and name.
"""

from __future__ import annotations

from collections import deque

MAX_ARGS = 32
MAX_ARG_BYTES = 128


def shown_args(argv: list[bytes]) -> list[bytes]:
    """The arguments a slow log entry keeps."""
    count = len(argv)
    kept = argv[:MAX_ARGS] if count <= MAX_ARGS else argv[:MAX_ARGS - 1]
    shown = [arg if len(arg) <= MAX_ARG_BYTES
             else arg[:MAX_ARG_BYTES] + b"... (%d more bytes)" % (len(arg) - MAX_ARG_BYTES) for arg in kept]
    if count > MAX_ARGS:
        shown.append(b"... (%d more arguments)" % (count - MAX_ARGS + 1))
    return shown


class SlowLog:
    def __init__(self):
        self.entries: deque[list] = deque()
        self.next_id = 0  # never reset: SLOWLOG RESET keeps counting

    def push(self, client, argv: list[bytes], duration_us: int, now_s: int, max_len: int) -> None:
        addr = b"?:0" if client.in_script else client.addr.encode()
        self.entries.appendleft([self.next_id, now_s, duration_us, shown_args(argv), addr, client.name])
        self.next_id += 1
        while len(self.entries) > max_len:
            self.entries.pop()

    def latest(self, count: int) -> list[list]:
        """The `count` newest entries (all of them for -1)."""
        if count < 0:
            return list(self.entries)
        return [entry for _, entry in zip(range(count), self.entries)]

    def reset(self) -> None:
        self.entries.clear()

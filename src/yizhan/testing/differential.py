"""Differential testing: run the same commands against yizhan and the real redis-server and
require byte-identical replies.

A scenario is a list of commands, each a list of arguments. Two forms are special:
  ["?CMD", args...]   compare only the reply's type byte (for values that vary: PTTL, TIME)
  ["~CMD", args...]   compare the replies as unordered collections (SMEMBERS of a hashtable
                      set, whose order is Redis's hash order): same type byte, same elements
  ["SLEEP", ms]       pause locally (both servers see the same pause)
  ["ALIGN_SECOND"]    pause until the wall clock is early in a second (`align_second`), before
                      steps that read a whole-second clock (OBJECT IDLETIME)
Each scenario starts on fresh connections after FLUSHALL, in RESP2 or (proto=3) after HELLO 3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import hiredis

from yizhan.testing.raw import RawClient

ALIGNED = (0.2, 0.5)  # the part of a wall-clock second that ALIGN_SECOND waits for


@dataclass
class Mismatch:
    step: int
    command: list
    ours: bytes
    theirs: bytes

    def __str__(self) -> str:
        return (f"step {self.step}: {' '.join(map(str, self.command))}\n"
                f"  yizhan:       {self.ours!r}\n  redis-server: {self.theirs!r}")


class Differential:
    def __init__(self, ours_port: int, theirs_port: int, host: str = "127.0.0.1"):
        self.ours_port = ours_port
        self.theirs_port = theirs_port
        self.host = host

    def run(self, commands: list, proto: int = 2) -> list[Mismatch]:
        ours = RawClient(self.host, self.ours_port)
        theirs = RawClient(self.host, self.theirs_port)
        try:
            for client in (ours, theirs):
                client.call("FLUSHALL")
                if proto == 3:
                    client.call("HELLO", "3")
            mismatches = []
            for step, command in enumerate(commands):
                name = str(command[0])
                if name.upper() == "SLEEP":
                    time.sleep(int(command[1]) / 1000)
                    continue
                if name.upper() == "ALIGN_SECOND":
                    align_second()
                    continue
                mode = name[0] if name[0] in "?~" else ""
                args = [name.lstrip("?~"), *command[1:]]
                a, b = ours.call(*args), theirs.call(*args)
                if mode == "?":
                    same = a[:1] == b[:1]
                elif mode == "~":
                    same = a[:1] == b[:1] and unordered(a) == unordered(b)
                else:
                    same = a == b
                if not same:
                    mismatches.append(Mismatch(step, command, a, b))
            return mismatches
        finally:
            ours.close()
            theirs.close()

    def check(self, commands: list, proto: int = 2) -> None:
        mismatches = self.run(commands, proto)
        assert not mismatches, "replies differ from redis-server:\n" + "\n".join(map(str, mismatches))


def align_second() -> None:
    """Sleep until the wall clock is 0.2-0.5 s into a second. Both servers keep the LRU clock
    (OBJECT IDLETIME, RESTORE IDLETIME) in whole seconds, Redis's refreshed by its cron every
    100 ms: a whole second ticking between a write and OBJECT IDLETIME made either server answer
    1 where the other answered 0. The few steps after this one run within one second."""
    fraction = time.time() % 1
    if not ALIGNED[0] <= fraction <= ALIGNED[1]:
        time.sleep((ALIGNED[0] - fraction) % 1)


def unordered(raw: bytes):
    """A reply decoded, with arrays (and maps, as pairs) turned into sorted lists."""
    reader = hiredis.Reader()
    reader.feed(raw)
    return _sorted_deep(reader.gets())


def _sorted_deep(value):
    if isinstance(value, dict):
        return sorted((repr(_sorted_deep(k)), repr(_sorted_deep(v))) for k, v in value.items())
    if isinstance(value, (list, set, tuple)):
        return sorted(repr(_sorted_deep(v)) for v in value)
    return repr(value)

"""Memory (issue 14): how much a dataset costs yizhan against redis-server, loaded the same way
into a fresh server of each in the same run.

For each dataset both servers start empty; the suite reads RSS (/proc) and INFO used_memory,
loads the dataset over pipelined RESP, waits for the numbers to settle and reads them again.
It reports the growth of each, bytes per element (a string key, a field, a member, a list
element) and the ratios yizhan / redis-server; the issue's goal is a ratio of at most 1.5 for
RSS. yizhan's used_memory is what redis-server would hold for the same data (its model,
redis/key_cost.py), so its ratio says how faithful that model is, not how big yizhan is.
Each dataset also records what OBJECT ENCODING says on both servers for one of its keys.

- issue: 1,000,000 strings `key:NNNNNNNN` -> `value:NNNNNNNN` plus 10,000 hashes of 100 fields
- per type, small collections (under Redis's compact-encoding thresholds) and large ones

    python bench/memory_suite.py [--quick] [--only issue,hash-small,...]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from dataclasses import dataclass

from common import YizhanProcess, rss_bytes
from server_suite import RedisServer

MB = 1024 * 1024
BATCH = 2000


@dataclass
class Dataset:
    name: str
    elements: int             # what "per element" divides by
    probe: bytes              # a key whose OBJECT ENCODING is reported
    commands: object          # callable(scale) -> iterator of argument lists


def strings(n: int, int_values: bool = False):
    for i in range(n):
        yield [b"SET", b"key:%08d" % i, (b"%d" % (i * 7919) if int_values else b"value:%08d" % i)]


def hashes(keys: int, fields: int, prefix: bytes = b"hash"):
    for k in range(keys):
        key = b"%s:%06d" % (prefix, k)
        for start in range(0, fields, 50):
            argv = [b"HSET", key]
            for f in range(start, min(start + 50, fields)):
                argv += [b"field:%d" % f, b"value:%d" % f]
            yield argv


def sets(keys: int, members: int, ints: bool):
    for k in range(keys):
        key = b"set:%06d" % k
        for start in range(0, members, 50):
            yield [b"SADD", key] + [(b"%d" % m if ints else b"member:%d" % m)
                                    for m in range(start, min(start + 50, members))]


def zsets(keys: int, members: int):
    for k in range(keys):
        key = b"zset:%06d" % k
        for start in range(0, members, 50):
            argv = [b"ZADD", key]
            for m in range(start, min(start + 50, members)):
                argv += [b"%d" % (m * 3), b"member:%d" % m]
            yield argv


def lists(keys: int, elements: int):
    for k in range(keys):
        key = b"list:%06d" % k
        for start in range(0, elements, 50):
            yield [b"RPUSH", key] + [b"element:%d" % e for e in range(start, min(start + 50, elements))]


def issue_dataset(scale: float):
    yield from strings(int(1_000_000 * scale))
    yield from hashes(int(10_000 * scale), 100)


def datasets(scale: float) -> list[Dataset]:
    def s(n):
        return max(int(n * scale), 1)
    return [
        Dataset("issue: 1M strings + 10k hashes x 100", s(1_000_000) + s(10_000) * 100, b"hash:000000",
                lambda: issue_dataset(scale)),
        Dataset("strings (200k)", s(200_000), b"key:00000001", lambda: strings(s(200_000))),
        Dataset("strings, integer values (200k)", s(200_000), b"key:00000001",
                lambda: strings(s(200_000), int_values=True)),
        Dataset("hash small (20k x 20)", s(20_000) * 20, b"hash:000000", lambda: hashes(s(20_000), 20)),
        Dataset("hash large (20 x 20k)", 20 * s(20_000), b"hash:000000", lambda: hashes(20, s(20_000))),
        Dataset("set intset (20k x 20)", s(20_000) * 20, b"set:000000", lambda: sets(s(20_000), 20, True)),
        Dataset("set small strings (20k x 20)", s(20_000) * 20, b"set:000000",
                lambda: sets(s(20_000), 20, False)),
        Dataset("set large (20 x 20k)", 20 * s(20_000), b"set:000000", lambda: sets(20, s(20_000), False)),
        Dataset("zset small (20k x 20)", s(20_000) * 20, b"zset:000000", lambda: zsets(s(20_000), 20)),
        Dataset("zset large (20 x 20k)", 20 * s(20_000), b"zset:000000", lambda: zsets(20, s(20_000))),
        Dataset("list small (20k x 20)", s(20_000) * 20, b"list:000000", lambda: lists(s(20_000), 20)),
        Dataset("list large (20 x 20k)", 20 * s(20_000), b"list:000000", lambda: lists(20, s(20_000))),
    ]


# -- a minimal pipelined RESP client ------------------------------------------------------------
def encode(argv: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def load(port: int, commands) -> None:
    """Send the commands in pipelined batches; every reply is one line (+OK, :N)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        batch: list[bytes] = []
        for argv in commands:
            batch.append(encode(argv))
            if len(batch) == BATCH:
                _round_trip(sock, batch)
                batch = []
        if batch:
            _round_trip(sock, batch)


def _round_trip(sock: socket.socket, batch: list[bytes]) -> None:
    sock.sendall(b"".join(batch))
    want, seen, tail = len(batch), 0, b""
    while seen < want:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection")
        if b"-" in chunk and (b"\r\n-" in tail + chunk or (tail + chunk).startswith(b"-")):
            raise RuntimeError(f"error reply: {(tail + chunk)[:200]!r}")
        seen += chunk.count(b"\r\n")
        tail = chunk[-2:]


def command(port: int, *argv: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(encode(list(argv)))
        reply = b""
        while not reply.endswith(b"\r\n") or (reply.startswith(b"$") and reply.count(b"\r\n") < 2):
            reply += sock.recv(1 << 20)
        return reply


def used_memory(port: int) -> int:
    info = command(port, b"INFO", b"memory").decode()
    for line in info.split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory in INFO")


def encoding_of(port: int, key: bytes) -> str:
    reply = command(port, b"OBJECT", b"ENCODING", key)
    return reply.split(b"\r\n")[1].decode() if reply.startswith(b"$") else reply.decode().strip()


def settled_rss(pid: int) -> int:
    """RSS once it stops moving (the server may still be growing buffers as the load ends)."""
    last = rss_bytes([pid])
    for _ in range(20):
        time.sleep(0.25)
        now = rss_bytes([pid])
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


def measure(port: int, pid: int, dataset: Dataset) -> dict:
    before_rss, before_used = settled_rss(pid), used_memory(port)
    began = time.monotonic()
    load(port, dataset.commands())
    seconds = time.monotonic() - began
    rss, used = settled_rss(pid) - before_rss, used_memory(port) - before_used
    return {"rss": rss, "used": used, "seconds": seconds, "encoding": encoding_of(port, dataset.probe)}


def run(scale: float = 1.0, only: set[str] | None = None, log=print) -> list[dict]:
    rows = []
    for dataset in datasets(scale):
        if only and not any(dataset.name.startswith(o) for o in only):
            continue
        with YizhanProcess() as yz:
            mine = measure(yz.port, yz.pid, dataset)
        with RedisServer() as ref:
            theirs = measure(ref.port, ref.process.pid, dataset)
        row = {"dataset": dataset.name, "elements": dataset.elements, "yizhan": mine, "redis": theirs}
        rows.append(row)
        log(format_row(row))
    return rows


HEADER = ("| dataset | yizhan RSS MB | redis RSS MB | RSS ratio | yizhan B/elem | redis B/elem "
          "| used_memory yizhan / redis MB | used_memory ratio | encoding yizhan / redis |\n"
          "|---|---|---|---|---|---|---|---|---|")


def format_row(row: dict) -> str:
    y, r, n = row["yizhan"], row["redis"], row["elements"]
    return (f"| {row['dataset']} | {y['rss'] / MB:.1f} | {r['rss'] / MB:.1f} | "
            f"{y['rss'] / max(r['rss'], 1):.2f} | {y['rss'] / n:.0f} | {r['rss'] / n:.0f} | "
            f"{y['used'] / MB:.1f} / {r['used'] / MB:.1f} | {y['used'] / max(r['used'], 1):.2f} | "
            f"{y['encoding']} / {r['encoding']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a hundredth of each dataset")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", default="", help="comma-separated dataset name prefixes")
    args = parser.parse_args()
    only = {o.strip() for o in args.only.split(",") if o.strip()} or None
    print(HEADER)
    run(0.01 if args.quick else args.scale, only, log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

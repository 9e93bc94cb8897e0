"""In-process micro benchmark of the Redis request path: redis-benchmark's default commands fed
to `RedisConnection.receive` (then `data_to_send`, as the transport does) in pipelined reads (16 commands per read, as `-P 16` sends them),
reporting µs per command, with the garbage collector tuned as the server tunes it. No sockets, no event loop: only the Python path that the pipelined
figures depend on, so changes to it can be compared on a noisy machine.

    python bench/redis_micro.py [--reads 20000] [--repeat 5] [--pipeline 16] [test ...]
"""

from __future__ import annotations

import argparse
import gc
import time

from yizhan.cli import tune_gc
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection


def resp(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(out)


# The requests redis-benchmark 7.0 sends (default data size 3, no -r: the keys are literal).
DATA = b"xxx"
REQUESTS = {
    "set": resp(b"SET", b"key:__rand_int__", DATA),
    "get": resp(b"GET", b"key:__rand_int__"),
    "incr": resp(b"INCR", b"counter:__rand_int__"),
    "lpush": resp(b"LPUSH", b"mylist", DATA),
    "lpop": resp(b"LPOP", b"mylist"),
    "sadd": resp(b"SADD", b"myset", b"element:__rand_int__"),
    "hset": resp(b"HSET", b"myhash", b"element:__rand_int__", DATA),
    "zadd": resp(b"ZADD", b"myzset", b"0", b"element:__rand_int__"),
    "lrange_100": resp(b"LRANGE", b"mylist", b"0", b"99"),
    "mset": resp(b"MSET", *[b"key:__rand_int__", DATA] * 10),
}


def measure(test: str, reads: int, pipeline: int) -> float:
    """µs per command of `test` over `reads` reads of `pipeline` commands each."""
    conn = RedisConnection(Client(RedisInstance()))
    if test in ("lpop", "lrange_100"):  # a long list, as redis-benchmark's own fill leaves it
        conn.receive(REQUESTS["lpush"] * (reads * pipeline + 100))
        conn.data_to_send()
    batch = REQUESTS[test] * pipeline
    receive, data_to_send = conn.receive, conn.data_to_send
    began = time.perf_counter()
    for _ in range(reads):
        receive(batch)
        data_to_send()
    return (time.perf_counter() - began) / (reads * pipeline) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=list(REQUESTS))
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per test; the fastest is reported")
    parser.add_argument("--pipeline", type=int, default=16)
    args = parser.parse_args()
    tune_gc()  # as `yizhan serve` does after start-up
    results = {}
    for test in args.tests:
        results[test] = min(measure(test, args.reads, args.pipeline) for _ in range(args.repeat))
        gc.collect()
        print(f"{test:<12} {results[test]:7.3f} µs/command")
    product = 1.0
    for value in results.values():
        product *= value
    print(f"{'geomean':<12} {product ** (1 / len(results)):7.3f} µs/command")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Server-level measures: start-up time until both protocols answer, idle RSS, and memory plus
throughput while 10,000 idle Redis connections are held (loopback only).

- start-up: from spawning the process until Redis answers PING and AMQP answers the protocol
  header with connection.start (yizhan); until PING (redis-server); until a pika handshake
  (RabbitMQ, through RabbitMQReference, which also starts its own epmd)
- idle RSS: right after start-up, nothing connected (RabbitMQ: the Erlang VM and its helpers)
- idle connections: a helper process (idle_clients.py) opens N connections, each PINGed once;
  then RSS, a redis-benchmark GET run with 50 more clients, and a PING over every idle connection

    python bench/server_suite.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, YizhanProcess, raise_nofile, redis_answers, rss_bytes, wait_until
from redis_suite import redis_benchmark
from yizhan.testing.process import descendants, terminate
from yizhan.testing.rabbitmq import RabbitMQReference
from yizhan.testing.reference import free_port

HERE = Path(__file__).resolve().parent
MB = 1024 * 1024


class RedisServer:
    """redis-server on a free port, timed from spawn until PING answers."""

    def __init__(self, *extra: str):
        self.extra = extra
        self.workdir = tempfile.mkdtemp(prefix="yizhan-bench-redis-")
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.startup_seconds = 0.0

    def __enter__(self) -> "RedisServer":
        self.port = free_port()
        began = time.monotonic()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.workdir, "--daemonize", "no", *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: self.process.poll() is not None or redis_answers(self.port), 30) \
                or self.process.poll() is not None:
            self.__exit__()
            raise RuntimeError("redis-server did not start")
        self.startup_seconds = time.monotonic() - began
        return self

    def __exit__(self, *exc) -> None:
        terminate(self.process, 10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def idle_connections(port: int, pid: int, count: int, requests: int) -> dict[str, float]:
    """Hold `count` idle connections to `port` from a helper process; measure the server's RSS,
    GET throughput with 50 more clients, and how many idle connections still answer."""
    helper = subprocess.Popen([sys.executable, str(HERE / "idle_clients.py"), str(port), str(count)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = helper.stdout.readline().split()
        if line[:1] != ["ready"]:
            raise RuntimeError(f"idle_clients.py failed against port {port}")
        time.sleep(0.5)                     # let the server settle before reading its RSS
        rss = rss_bytes([pid])
        rps = redis_benchmark(port, "get", requests, 50, 1)["rps"]
        helper.stdin.write("check\n")
        helper.stdin.flush()
        alive = int(helper.stdout.readline().split()[1])
        return {"held": int(line[1]), "rss": rss, "rps": rps, "alive": alive}
    finally:
        helper.stdin.close()
        try:
            helper.wait(timeout=60)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def run(quick: bool = False, log=print) -> list[Row]:
    count = 200 if quick else 10_000
    requests = 3_000 if quick else 100_000
    raise_nofile(count + 1_000)               # the servers started below inherit the limit
    rounds = 1 if quick else 3
    rows: list[Row] = []

    startups = {"yizhan": [], "redis": []}
    idle_rss = {}
    for _ in range(rounds):                   # interleaved cold starts
        with YizhanProcess() as ours:
            startups["yizhan"].append(ours.startup_seconds)
            time.sleep(0.3)
            idle_rss["yizhan"] = rss_bytes([ours.pid])
        with RedisServer() as ref:
            startups["redis"].append(ref.startup_seconds)
            time.sleep(0.3)
            idle_rss["redis"] = rss_bytes([ref.process.pid])
    began = time.monotonic()
    with RabbitMQReference() as rabbit:
        startups["rabbitmq"] = [time.monotonic() - began]
        time.sleep(1.0)
        idle_rss["rabbitmq"] = rss_bytes([rabbit.process.pid, *descendants(rabbit.process.pid)])
    ours_start = statistics.median(startups["yizhan"])
    for ref in ("redis", "rabbitmq"):
        name = "redis-server" if ref == "redis" else "RabbitMQ"
        rows.append(Row("server", f"start-up until both protocols answer (s), vs {name}", "s",
                        ours_start, statistics.median(startups[ref]), higher_is_better=False))
    for ref in ("redis", "rabbitmq"):
        name = "redis-server" if ref == "redis" else "RabbitMQ"
        rows.append(Row("server", f"idle RSS (MB), vs {name}", "MB", idle_rss["yizhan"] / MB, idle_rss[ref] / MB,
                        higher_is_better=False))

    held = {}
    with YizhanProcess(config={"maxclients": str(count + 1_000)}) as ours:
        held["yizhan"] = idle_connections(ours.port, ours.pid, count, requests)
    with RedisServer("--maxclients", str(count + 1_000)) as ref:
        held["redis"] = idle_connections(ref.port, ref.process.pid, count, requests)
    rows.append(Row("server", f"RSS with {count:,} idle connections (MB)", "MB",
                    held["yizhan"]["rss"] / MB, held["redis"]["rss"] / MB, higher_is_better=False))
    rows.append(Row("server", f"GET req/s, 50 clients, beside {count:,} idle connections", "req/s",
                    held["yizhan"]["rps"], held["redis"]["rps"]))
    rows.append(Row("server", f"idle connections still answering PING (of {count:,})", "connections",
                    held["yizhan"]["alive"], held["redis"]["alive"]))
    for row in rows:
        log(f"server {row.name:<58} yizhan {row.yizhan:>10.3f}  reference {row.reference:>10.3f}  ratio {row.ratio:.2f}x")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 idle connections, one start-up round")
    args = parser.parse_args()
    run(args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

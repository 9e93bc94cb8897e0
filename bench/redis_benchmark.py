"""Side-by-side redis-benchmark: yizhan and the real redis-server in one run, interleaved, with
the ratio yizhan/redis-server per test. Absolute numbers are printed; compare ratios only.

    python bench/redis_benchmark.py [--requests 100000] [--clients 50] [--pipeline 1] [--tests set,get]
Writes bench/results/redis_benchmark.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import shutil
import subprocess
import sys
from pathlib import Path

import yizhan
from yizhan.testing.reference import RedisReference, version

RESULTS = Path(__file__).resolve().parent / "results"


def run_benchmark(port: int, test: str, requests: int, clients: int, pipeline: int) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", str(clients),
         "-P", str(pipeline), "-t", test, "--csv"], capture_output=True, text=True, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return float(rows[1][1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pipeline", type=int, default=1)
    parser.add_argument("--tests", default="set,get,incr,mset")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions; the best of each is kept")
    args = parser.parse_args()
    if not shutil.which("redis-benchmark"):
        print("redis-benchmark is missing: apt-get install redis-tools", file=sys.stderr)
        return 2
    tests = args.tests.split(",")
    best: dict[tuple[str, str], float] = {}
    with RedisReference() as ref, yizhan.Server() as ours:
        for _ in range(args.rounds):
            for test in tests:
                for label, port in (("yizhan", ours.port), ("redis", ref.port)):
                    rps = run_benchmark(port, test, args.requests, args.clients, args.pipeline)
                    best[label, test] = max(best.get((label, test), 0.0), rps)
    lines = [f"redis-benchmark -n {args.requests} -c {args.clients} -P {args.pipeline}; "
             f"redis-server {version()}, yizhan {yizhan.__version__}", "",
             "| test | yizhan req/s | redis-server req/s | ratio |", "|---|---:|---:|---:|"]
    ratios = []
    for test in tests:
        ours_rps, theirs = best["yizhan", test], best["redis", test]
        ratios.append(ours_rps / theirs)
        lines.append(f"| {test} | {ours_rps:,.0f} | {theirs:,.0f} | {ours_rps / theirs:.2f}x |")
    geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
    lines.append(f"| geometric mean | | | {geo:.2f}x |")
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"redis_benchmark_P{args.pipeline}.md").write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

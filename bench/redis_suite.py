"""Redis: redis-benchmark's default tests against yizhan and redis-server, interleaved test by
test, without pipelining and with -P 16. Beside the throughput: server CPU time per request
(utime+stime delta from /proc over the run / requests) and p50/p99 latency from the CSV.

    python bench/redis_suite.py [--quick]      # alone; bench/run_all.py runs it with the others
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess

from common import Row, YizhanProcess, cpu_seconds, fmt, geomean
from yizhan.testing.reference import RedisReference

TESTS = ["set", "get", "incr", "lpush", "lpop", "sadd", "hset", "zadd", "lrange_100", "mset"]
CLIENTS = 50


def redis_benchmark(port: int, test: str, requests: int, clients: int, pipeline: int) -> dict[str, float]:
    """One redis-benchmark run of one test; the CSV row of that test (lrange_100 also runs an
    LPUSH fill first, whose row is returned separately under 'fill_requests')."""
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", str(clients),
         "-P", str(pipeline), "-t", test, "--csv"],
        capture_output=True, text=True, check=True, timeout=600).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    wanted = [row for row in rows if not row["test"].startswith("LPUSH (needed")]
    if not wanted:
        raise RuntimeError(f"redis-benchmark -t {test} printed no result row: {out!r}")
    row = wanted[0]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]),
            "p99": float(row["p99_latency_ms"]), "fill_requests": requests * (len(rows) - len(wanted))}


def measure(pids: list[int], port: int, test: str, requests: int, pipeline: int) -> dict[str, float]:
    before = cpu_seconds(pids)
    result = redis_benchmark(port, test, requests, CLIENTS, pipeline)
    result["cpu"] = cpu_seconds(pids) - before
    return result


def run(quick: bool = False, log=print, rounds: int = 1, tests: list[str] | None = None,
        pipelines: tuple[int, ...] = (1, 16)) -> list[Row]:
    """Each test on yizhan then redis-server, `rounds` times in a row; per server the round with
    the best throughput is kept (its CPU and latency with it)."""
    if not shutil.which("redis-benchmark"):
        raise RuntimeError("redis-benchmark is missing: apt-get install redis-tools")
    rows: list[Row] = []
    with RedisReference() as ref, YizhanProcess() as ours:
        servers = (("yizhan", [ours.pid], ours.port), ("redis", [ref.process.pid], ref.port))
        for pipeline in pipelines:
            requests = 3_000 if quick else (100_000 if pipeline == 1 else 1_000_000)
            results: dict[tuple[str, str], dict[str, float]] = {}
            for test in tests or TESTS:
                for _ in range(rounds):
                    for label, pids, port in servers:  # interleaved: the same test on both, back to back
                        result = measure(pids, port, test, requests, pipeline)
                        # lrange_100 also runs an LPUSH fill: subtract its CPU at the lpush test's rate
                        fill = result.pop("fill_requests")
                        if fill and (label, "lpush") in results:
                            lpush = results[label, "lpush"]
                            result["cpu"] = max(0.0, result["cpu"] - lpush["cpu"] / requests * fill)
                        if (label, test) not in results or result["rps"] > results[label, test]["rps"]:
                            results[label, test] = result
                ours_r, ref_r = results["yizhan", test], results["redis", test]
                row = Row("redis", f"{test} P{pipeline}", "req/s", ours_r["rps"], ref_r["rps"], extra={
                    "pipeline": str(pipeline),
                    "cpu_yizhan_us": fmt(ours_r["cpu"] / requests * 1e6),
                    "cpu_reference_us": fmt(ref_r["cpu"] / requests * 1e6),
                    "cpu_ratio": _ratio(ours_r["cpu"], ref_r["cpu"]),
                    "p50": f"{ours_r['p50']:.3f} / {ref_r['p50']:.3f}",
                    "p99": f"{ours_r['p99']:.3f} / {ref_r['p99']:.3f}"})
                rows.append(row)
                log(f"redis {row.name:<16} yizhan {row.yizhan:>10,.0f}  redis-server {row.reference:>10,.0f} "
                    f" ratio {row.ratio:.2f}x  cpu/req {row.extra['cpu_yizhan_us']} / {row.extra['cpu_reference_us']} us")
            log(f"redis P{pipeline} geometric mean: "
                f"{geomean([r.ratio for r in rows if r.extra['pipeline'] == str(pipeline)]):.2f}x")
    return rows


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand requests per test")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions; the best of each is kept")
    parser.add_argument("--tests", default=",".join(TESTS), help="comma-separated subset of the tests")
    parser.add_argument("--pipelines", default="1,16", help="comma-separated pipeline depths")
    args = parser.parse_args()
    run(args.quick, rounds=args.rounds, tests=args.tests.split(","),
        pipelines=tuple(int(p) for p in args.pipelines.split(",")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

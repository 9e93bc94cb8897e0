"""Lua scripting: redis-benchmark running `EVALSHA <sha> 1 key` of a script with one redis.call
and of one with ten, against yizhan and redis-server in the same run, without pipelining (and
with -P 16 beside it). The scripts are loaded with SCRIPT LOAD first on both servers.

    python bench/scripting_suite.py [--quick]   # alone; bench/run_all.py runs it with the others
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess

from common import Row, YizhanProcess, cpu_seconds, fmt, geomean
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference

SCRIPTS = {
    "evalsha 1 call": "return redis.call('incr', KEYS[1])",
    "evalsha 10 calls": "local v for i = 1, 10 do v = redis.call('incr', KEYS[1]) end return v",
}
CLIENTS = 50


def load(port: int, body: str) -> str:
    with RawClient("127.0.0.1", port) as client:
        reply = client.call("SCRIPT", "LOAD", body)
    return reply.split(b"\r\n")[1].decode()


def benchmark(port: int, sha: str, requests: int, pipeline: int) -> dict[str, float]:
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", str(CLIENTS),
         "-P", str(pipeline), "--csv", "EVALSHA", sha, "1", "key"],
        capture_output=True, text=True, check=True, timeout=600).stdout
    row = list(csv.DictReader(io.StringIO(out)))[0]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])}


def run(quick: bool = False, log=print, rounds: int = 1, pipelines: tuple[int, ...] = (1, 16)) -> list[Row]:
    """Each script on yizhan then redis-server, `rounds` times; the best round per server is kept."""
    if not shutil.which("redis-benchmark"):
        raise RuntimeError("redis-benchmark is missing: apt-get install redis-tools")
    rows: list[Row] = []
    with RedisReference() as ref, YizhanProcess() as ours:
        servers = (("yizhan", [ours.pid], ours.port), ("redis", [ref.process.pid], ref.port))
        for pipeline in pipelines:
            requests = 3_000 if quick else (100_000 if pipeline == 1 else 300_000)
            for name, body in SCRIPTS.items():
                best: dict[str, dict[str, float]] = {}
                for _ in range(rounds):
                    for label, pids, port in servers:
                        sha = load(port, body)
                        before = cpu_seconds(pids)
                        result = benchmark(port, sha, requests, pipeline)
                        result["cpu"] = cpu_seconds(pids) - before
                        if label not in best or result["rps"] > best[label]["rps"]:
                            best[label] = result
                ours_r, ref_r = best["yizhan"], best["redis"]
                row = Row("scripting", f"{name} P{pipeline}", "req/s", ours_r["rps"], ref_r["rps"], extra={
                    "pipeline": str(pipeline),
                    "cpu_yizhan_us": fmt(ours_r["cpu"] / requests * 1e6),
                    "cpu_reference_us": fmt(ref_r["cpu"] / requests * 1e6),
                    "cpu_ratio": f"{ours_r['cpu'] / ref_r['cpu']:.2f}x" if ref_r["cpu"] > 0 else "n/a",
                    "p50": f"{ours_r['p50']:.3f} / {ref_r['p50']:.3f}",
                    "p99": f"{ours_r['p99']:.3f} / {ref_r['p99']:.3f}"})
                rows.append(row)
                log(f"scripting {row.name:<20} yizhan {row.yizhan:>10,.0f}  redis-server {row.reference:>10,.0f} "
                    f" ratio {row.ratio:.2f}x  cpu/req {row.extra['cpu_yizhan_us']} / {row.extra['cpu_reference_us']} us")
        log(f"scripting geometric mean: {geomean([r.ratio for r in rows]):.2f}x")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand requests per test")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions; the best of each is kept")
    parser.add_argument("--pipelines", default="1,16", help="comma-separated pipeline depths")
    args = parser.parse_args()
    run(args.quick, rounds=args.rounds, pipelines=tuple(int(p) for p in args.pipelines.split(",")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

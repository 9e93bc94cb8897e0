"""GEOSEARCH latency: redis-benchmark sending one GEOSEARCH over and over (50 clients, no
pipelining) to yizhan and to redis-server in the same run, over the same 10,000 points (a fixed
random scatter around Paris, loaded with GEOADD in batches). Three searches: a small radius that
finds a handful, a 5 km radius with COUNT 10 and WITHDIST, and a 20 x 20 km box returning ~1,000.

    python bench/geo_suite.py [--quick] [--rounds N]

Numbers of requests: 20,000, 5,000 and 2,000 (500 each with --quick).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import shutil
import subprocess

from common import Row, YizhanProcess, cpu_seconds, fmt, geomean
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference

CENTER = (2.3522, 48.8566)
POINTS = 10_000
CLIENTS = 50
SEARCHES = {  # name: (shape and options, requests per server)
    "geosearch radius 500 m": (["BYRADIUS", "500", "m", "ASC"], 20_000),
    "geosearch radius 5 km count 10": (["BYRADIUS", "5", "km", "COUNT", "10", "WITHDIST"], 5_000),
    "geosearch box 20 km (~1000 found)": (["BYBOX", "20", "20", "km"], 2_000),
}


def populate(port: int) -> None:
    """The same scatter on both servers: 10,000 points within about 30 km of the centre."""
    rng = random.Random(7)
    with RawClient("127.0.0.1", port) as client:
        client.call("DEL", "geo")
        for start in range(0, POINTS, 500):
            args = []
            for i in range(start, start + 500):
                args += ["%.6f" % (CENTER[0] + rng.uniform(-0.4, 0.4)), "%.6f" % (CENTER[1] + rng.uniform(-0.27, 0.27)),
                         "p%d" % i]
            client.call("GEOADD", "geo", *args)


def benchmark(port: int, shape: list[str], requests: int) -> dict[str, float]:
    command = ["GEOSEARCH", "geo", "FROMLONLAT", str(CENTER[0]), str(CENTER[1]), *shape]
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", str(CLIENTS),
         "--csv", *command],
        capture_output=True, text=True, check=True, timeout=600).stdout
    row = list(csv.DictReader(io.StringIO(out)))[0]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"])}


def run(quick: bool = False, log=print, rounds: int = 1) -> list[Row]:
    """Each search on yizhan then redis-server, `rounds` times; the best round per server is kept.
    The row's figure is the median latency (ms, lower is better)."""
    if not shutil.which("redis-benchmark"):
        raise RuntimeError("redis-benchmark is missing: apt-get install redis-tools")
    rows: list[Row] = []
    with RedisReference() as ref, YizhanProcess() as ours:
        servers = (("yizhan", [ours.pid], ours.port), ("redis", [ref.process.pid], ref.port))
        for _, _, port in servers:
            populate(port)
        for name, (shape, full_requests) in SEARCHES.items():
            requests = 500 if quick else full_requests
            best: dict[str, dict[str, float]] = {}
            for _ in range(rounds):
                for label, pids, port in servers:
                    before = cpu_seconds(pids)
                    result = benchmark(port, shape, requests)
                    result["cpu"] = cpu_seconds(pids) - before
                    if label not in best or result["p50"] < best[label]["p50"]:
                        best[label] = result
            ours_r, ref_r = best["yizhan"], best["redis"]
            row = Row("geo", name, "p50 ms", ours_r["p50"], ref_r["p50"], higher_is_better=False, extra={
                "rps": f"{ours_r['rps']:,.0f} / {ref_r['rps']:,.0f}",
                "rps_ratio": f"{ours_r['rps'] / ref_r['rps']:.2f}x",
                "p99": f"{ours_r['p99']:.3f} / {ref_r['p99']:.3f}",
                "cpu_yizhan_us": fmt(ours_r["cpu"] / requests * 1e6),
                "cpu_reference_us": fmt(ref_r["cpu"] / requests * 1e6)})
            rows.append(row)
            log(f"geo {name:<34} p50 {ours_r['p50']:.3f} / {ref_r['p50']:.3f} ms  "
                f"req/s {row.extra['rps']} ({row.extra['rps_ratio']})  p99 {row.extra['p99']} ms  "
                f"cpu/req {row.extra['cpu_yizhan_us']} / {row.extra['cpu_reference_us']} us")
        log(f"geo geometric mean of the latency ratios (lower is better for yizhan): "
            f"{geomean([r.yizhan / r.reference for r in rows]):.2f}x")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a thousand requests per search")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions; the best of each is kept")
    args = parser.parse_args()
    run(args.quick, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

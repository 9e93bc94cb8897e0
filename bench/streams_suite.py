"""Stream throughput: redis-benchmark (50 clients, no pipelining) sending XADD, XREADGROUP and
XACK to yizhan and to redis-server in the same run; the goal is at least 0.5x redis-server.

- XADD s * f v: appends with generated IDs (one listpack node per 100 entries).
- XREADGROUP GROUP g c COUNT 1 STREAMS s >: each call delivers one new entry of a pre-filled
  stream to a consumer, adding it to the group's pending entries list.
- XACK s g2 <random pending ID>: acknowledgements of entries that a second group has pending
  (redis-benchmark's __rand_int__ picks among N pending IDs, so about 63% of the calls remove
  an entry and the rest find it gone, on both servers alike).

    python bench/streams_suite.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess

from common import Row, YizhanProcess, cpu_seconds, fmt, geomean
from yizhan.testing.raw import RawClient, encode_command
from yizhan.testing.reference import RedisReference

CLIENTS = 50
REQUESTS = 100_000


def prepare(port: int, entries: int) -> None:
    """`src` holds `entries` entries with IDs 1-0 .. entries-0; group g reads them anew, group g2
    has them all pending; `s` (XADD's stream) starts empty."""
    with RawClient("127.0.0.1", port) as client:
        client.call("FLUSHALL")
        for start in range(1, entries + 1, 1000):
            batch = range(start, min(start + 1000, entries + 1))
            client.send_raw(b"".join(encode_command(["XADD", "src", f"{i}-0", "f", "v"]) for i in batch))
            for _ in batch:
                client.read_reply()
        client.call("XGROUP", "CREATE", "src", "g", "0")
        client.call("XGROUP", "CREATE", "src", "g2", "0")
        for _ in range(0, entries, 1000):
            client.call("XREADGROUP", "GROUP", "g2", "holder", "COUNT", "1000", "STREAMS", "src", ">")


def commands(entries: int) -> dict[str, list[str]]:
    return {
        "XADD s * f v": ["XADD", "s", "*", "f", "v"],
        "XREADGROUP COUNT 1 >": ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "src", ">"],
        "XACK (random pending ID)": ["-r", str(entries), "XACK", "src", "g2", "__rand_int__-0"],
    }


def benchmark(port: int, command: list[str], requests: int) -> dict[str, float]:
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c", str(CLIENTS),
         "--csv", *command], capture_output=True, text=True, check=True, timeout=900).stdout
    row = list(csv.DictReader(io.StringIO(out)))[0]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"])}


def run(quick: bool = False, log=print, rounds: int = 1) -> list[Row]:
    """Each command on yizhan then redis-server, `rounds` times (the data prepared afresh each
    round); the best round per server is kept. The figure is requests per second."""
    if not shutil.which("redis-benchmark"):
        raise RuntimeError("redis-benchmark is missing: apt-get install redis-tools")
    requests = 5_000 if quick else REQUESTS
    best: dict[str, dict[str, dict[str, float]]] = {}
    # no save points on either side (the reference runs with --save ""): no BGSAVE mid-run
    with RedisReference() as ref, YizhanProcess(config={"save": "\"\""}) as ours:
        servers = (("yizhan", [ours.pid], ours.port), ("redis", [ref.process.pid], ref.port))
        for _ in range(rounds):
            for label, pids, port in servers:
                prepare(port, requests)
                for name, command in commands(requests).items():
                    before = cpu_seconds(pids)
                    result = benchmark(port, command, requests)
                    result["cpu"] = cpu_seconds(pids) - before
                    kept = best.setdefault(name, {})
                    if label not in kept or result["rps"] > kept[label]["rps"]:
                        kept[label] = result
    rows = []
    for name, results in best.items():
        ours_r, ref_r = results["yizhan"], results["redis"]
        row = Row("streams", name, "req/s", ours_r["rps"], ref_r["rps"], extra={
            "p50": f"{ours_r['p50']:.3f} / {ref_r['p50']:.3f}",
            "cpu_yizhan_us": fmt(ours_r["cpu"] / requests * 1e6),
            "cpu_reference_us": fmt(ref_r["cpu"] / requests * 1e6)})
        rows.append(row)
        log(f"streams {name:<26} req/s {ours_r['rps']:,.0f} / {ref_r['rps']:,.0f} ({row.ratio:.2f}x)  "
            f"p50 {row.extra['p50']} ms  cpu/req {row.extra['cpu_yizhan_us']} / {row.extra['cpu_reference_us']} us")
    log(f"streams geometric mean of the ratios: {geomean([r.ratio for r in rows]):.2f}x (goal >= 0.5x)")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 requests per command")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions; the best of each is kept")
    args = parser.parse_args()
    run(args.quick, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

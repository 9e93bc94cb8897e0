"""Run the whole benchmark suite of issue 6 and write bench/results/RESULTS.md and chart.png.

    python bench/run_all.py [--quick] [--out DIR] [--only redis,scripting,amqp,clients,server]

Every benchmark runs yizhan (a separate `python -m yizhan serve` process) and the real server
(redis-server, RabbitMQ) in the same run, interleaved, and reports the ratio yizhan/reference.
Absolute numbers are printed too, but only ratios mean anything across runs and machines.
--quick runs a few thousand requests and small connection counts: a smoke test, not a measure.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import amqp_suite  # noqa: E402
import clients_suite  # noqa: E402
import redis_suite  # noqa: E402
import scripting_suite  # noqa: E402
import server_suite  # noqa: E402
from common import Row, fmt, geomean  # noqa: E402

import yizhan  # noqa: E402
from yizhan.testing import rabbitmq, reference  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SUITES = {"redis": redis_suite.run, "scripting": scripting_suite.run, "amqp": amqp_suite.run,
          "clients": clients_suite.run, "server": server_suite.run}


# -- targets of issue 6 --------------------------------------------------------------------
def targets(rows: list[Row]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target whose rows were measured in this run."""
    by_name = {(r.section, r.name): r for r in rows}
    found: list[tuple[str, str, bool | None]] = []
    for pipeline, goal in (("1", 0.75), ("16", 0.5)):
        ratios = [r.ratio for r in rows if r.section == "redis" and r.extra.get("pipeline") == pipeline]
        if ratios:
            geo = geomean(ratios)
            label = "without pipelining" if pipeline == "1" else "with -P 16"
            found.append((f"Redis {label}: geometric mean of the ten tests >= {goal}x redis-server",
                          f"{geo:.2f}x", geo >= goal))
    for row in rows:  # issue 12
        if row.section == "scripting" and row.extra.get("pipeline") == "1":
            found.append((f"Scripting {row.name}: >= 0.5x redis-server", f"{row.ratio:.2f}x", row.ratio >= 0.5))
    e2e = by_name.get(("amqp", "end-to-end"))
    if e2e:
        found.append(("AMQP end-to-end transient throughput >= 1.5x RabbitMQ", f"{e2e.ratio:.2f}x", e2e.ratio >= 1.5))
        cpu = e2e.extra["cpu_ratio"]
        met = None if cpu == "n/a" else float(cpu.rstrip("x")) <= 0.5
        found.append(("AMQP broker CPU per message (end-to-end) <= 0.5x RabbitMQ's", cpu, met))
    java = by_name.get(("amqp-clients", "Java client"))
    if java:
        found.append(("AMQP Java client end-to-end (1 KB, ack each) >= 1.5x RabbitMQ (issue 13)",
                      f"{java.ratio:.2f}x", java.ratio >= 1.5))
    durable = by_name.get(("amqp", "persistent + confirms"))
    if durable:
        found.append(("AMQP persistent with confirms >= 1x RabbitMQ", f"{durable.ratio:.2f}x", durable.ratio >= 1))
    server = [r for r in rows if r.section == "server"]
    for row in server:
        if row.name.startswith("start-up") and "redis-server" in row.name:
            found.append(("Start-up until both protocols answer <= 0.5 s", f"{row.yizhan:.3f} s", row.yizhan <= 0.5))
        elif row.name.startswith("idle RSS") and "redis-server" in row.name:
            found.append(("Idle RSS <= 40 MB", f"{row.yizhan:.1f} MB", row.yizhan <= 40))
    rss = next((r for r in server if r.name.startswith("RSS with")), None)
    alive = next((r for r in server if r.name.startswith("idle connections still")), None)
    rps = next((r for r in server if r.name.startswith("GET req/s")), None)
    if rss and alive and rps:
        count = rss.name.split("RSS with ")[1].split(" idle")[0]
        total = int(count.replace(",", ""))
        ok = rss.yizhan < 300 and alive.yizhan == total and rps.yizhan > 0
        found.append((f"{count} idle connections held under 300 MB, still serving",
                      f"{rss.yizhan:.0f} MB, {alive.yizhan:,.0f} answering, GET {rps.yizhan:,.0f} req/s", ok))
    return found


# -- report --------------------------------------------------------------------------------
def source_revision() -> str:
    """The commit the server code comes from, with '+changes' when the tree differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (commit or "unknown") + ("+changes" if dirty else "")


def markdown(rows: list[Row], quick: bool, elapsed: float, revision: str = "unknown", when: str = "") -> str:
    lines = [
        "# Benchmark results",
        "",
        f"{when or time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}; yizhan {yizhan.__version__} at {revision}, redis-server {reference.version()}, "
        f"RabbitMQ {rabbitmq.version()}; {'--quick (a smoke run: numbers mean nothing)' if quick else 'full run'}, "
        f"{elapsed / 60:.1f} min. Ratio = yizhan / reference. All clients, servers and brokers share the "
        "same CPUs, so numbers are noisy; compare ratios only.",
        "",
    ]
    found = targets(rows)
    if found:
        lines += ["## Targets (issue 6)", "", "| target | measured | met |", "|---|---:|:---:|"]
        for target, measured, met in found:
            lines.append(f"| {target} | {measured} | {'n/a' if met is None else ('yes' if met else 'no')} |")
        lines.append("")
    redis_rows = [r for r in rows if r.section == "redis"]
    if redis_rows:
        lines += ["## Redis (redis-benchmark, 50 clients)", "",
                  "Server CPU is utime+stime per request from /proc; latency is yizhan / redis-server in ms.", "",
                  "| test | yizhan req/s | redis-server req/s | ratio | CPU/req yizhan µs | CPU/req redis µs "
                  "| CPU ratio | p50 ms | p99 ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for pipeline in ("1", "16"):
            group = [r for r in redis_rows if r.extra["pipeline"] == pipeline]
            for r in group:
                lines.append(f"| {r.name} | {r.yizhan:,.0f} | {r.reference:,.0f} | {r.ratio:.2f}x "
                             f"| {r.extra['cpu_yizhan_us']} | {r.extra['cpu_reference_us']} | {r.extra['cpu_ratio']} "
                             f"| {r.extra['p50']} | {r.extra['p99']} |")
            if group:
                lines.append(f"| **geometric mean P{pipeline}** | | | **{geomean([r.ratio for r in group]):.2f}x** "
                             "| | | | | |")
        lines.append("")
    script_rows = [r for r in rows if r.section == "scripting"]
    if script_rows:
        lines += ["## Scripting (redis-benchmark EVALSHA <sha> 1 key, 50 clients)", "",
                  "| test | yizhan req/s | redis-server req/s | ratio | CPU/req yizhan µs | CPU/req redis µs "
                  "| CPU ratio | p50 ms | p99 ms |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in script_rows:
            lines.append(f"| {r.name} | {r.yizhan:,.0f} | {r.reference:,.0f} | {r.ratio:.2f}x "
                         f"| {r.extra['cpu_yizhan_us']} | {r.extra['cpu_reference_us']} | {r.extra['cpu_ratio']} "
                         f"| {r.extra['p50']} | {r.extra['p99']} |")
        lines.append("")
    amqp_rows = [r for r in rows if r.section == "amqp"]
    if amqp_rows:
        lines += ["## AMQP (100-byte messages, lean raw-frame client, one process per publisher/consumer)", "",
                  "| scenario | messages | yizhan msg/s | RabbitMQ msg/s | ratio | broker CPU/msg yizhan µs "
                  "| broker CPU/msg RabbitMQ µs | CPU ratio |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in amqp_rows:
            lines.append(f"| {r.name} | {int(r.extra['messages']):,} | {r.yizhan:,.0f} | {r.reference:,.0f} "
                         f"| {r.ratio:.2f}x | {r.extra['cpu_yizhan_us']} | {r.extra['cpu_reference_us']} "
                         f"| {r.extra['cpu_ratio']} |")
        lines.append("")
    client_rows = [r for r in rows if r.section == "amqp-clients"]
    if client_rows:
        seconds = client_rows[0].extra["seconds"]
        lines += [f"## AMQP with the clients users run (1 KB transient messages, one producer, one consumer "
                  f"acking each message, no prefetch limit, {seconds} s each)", "",
                  "| client | yizhan msg/s | RabbitMQ msg/s | ratio | broker CPU/msg yizhan µs "
                  "| broker CPU/msg RabbitMQ µs | CPU ratio | peak RSS yizhan MB | peak RSS RabbitMQ MB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in client_rows:
            e = r.extra
            lines.append(f"| {r.name} | {r.yizhan:,.0f} | {r.reference:,.0f} | {r.ratio:.2f}x "
                         f"| {e['cpu_yizhan_us']} | {e.get('cpu_reference_us', 'n/a')} | {e.get('cpu_ratio', 'n/a')} "
                         f"| {e['rss_yizhan_mb']} | {e.get('rss_reference_mb', 'n/a')} |")
        lines.append("")
    server_rows = [r for r in rows if r.section == "server"]
    if server_rows:
        lines += ["## Start-up and memory", "", "| measure | yizhan | reference | ratio |", "|---|---:|---:|---:|"]
        for r in server_rows:
            lines.append(f"| {r.name} | {fmt(r.yizhan) if r.unit != 's' else f'{r.yizhan:.3f}'} "
                         f"| {fmt(r.reference) if r.unit != 's' else f'{r.reference:.3f}'} | {r.ratio:.2f}x |")
        lines.append("")
    return "\n".join(lines)


def chart(rows: list[Row], path: Path) -> bool:
    """A horizontal bar per measure: how many times better yizhan is (ratio, or its inverse
    where lower is better); 1.0 is parity. False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [r for r in rows if math.isfinite(r.ratio) and r.ratio > 0 and r.yizhan > 0]
    labels = [f"{r.section}: {r.name}" for r in shown]
    values = [r.ratio if r.higher_is_better else 1 / r.ratio for r in shown]
    colours = {"redis": "#c0392b", "scripting": "#8e44ad", "amqp": "#e67e22", "amqp-clients": "#d35400",
               "server": "#2980b9"}
    fig, ax = plt.subplots(figsize=(12, 0.28 * len(shown) + 1.5))
    ax.barh(range(len(shown)), values, color=[colours[r.section] for r in shown])
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("yizhan advantage over the reference server (x, log scale; > 1 is better)")
    ax.set_title("yizhan vs redis-server / RabbitMQ, same run, same machine")
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.2f}x", va="center", fontsize=6)
    fig.subplots_adjust(left=0.42, right=0.95, top=0.95, bottom=0.08)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few requests, small connection counts")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where RESULTS.md and chart.png go")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites: redis,scripting,amqp,server")
    parser.add_argument("--replot", action="store_true",
                        help="no benchmark: rewrite RESULTS.md and chart.png from the results.json in --out")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Redis: run each test this many times on each server (interleaved), keep the best")
    args = parser.parse_args()
    began = time.monotonic()
    if args.replot:
        saved = json.loads((args.out / "results.json").read_text())
        rows = [Row(**row) for row in saved["rows"]]
        args.quick, elapsed = saved["quick"], saved["elapsed"]
        revision, when = saved.get("revision", "unknown"), saved.get("date", "")
    else:
        rows = []
        revision = source_revision()
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for name in args.only.split(","):
            print(f"== {name}", flush=True)
            options = {"rounds": args.rounds} if name in ("redis", "scripting") else {}
            rows += SUITES[name](args.quick, log=lambda line: print(line, flush=True), **options)
        elapsed = time.monotonic() - began
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(
        {"quick": args.quick, "elapsed": elapsed, "revision": revision, "date": when, "rows": [dataclasses.asdict(row) for row in rows]}, indent=1))
    report = markdown(rows, args.quick, elapsed, revision, when)
    (args.out / "RESULTS.md").write_text(report + "\n")
    print(report)
    if not chart(rows, args.out / "chart.png"):
        print("matplotlib is missing (pip install -e '.[bench]'): no chart.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The benchmark suite (bench/run_all.py) still runs: a --quick pass against yizhan, redis-server
and RabbitMQ that must complete and write a row for every benchmark. A smoke test only: no
timing and no ratio is ever asserted (benchmarks are not tests)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
REDIS_TESTS = ["set", "get", "incr", "lpush", "lpop", "sadd", "hset", "zadd", "lrange_100", "mset"]
AMQP_SCENARIOS = ["end-to-end", "publish-only", "consume-only", "fan-out 10 queues", "persistent + confirms"]
AMQP_CLIENTS = ["Java client", "pika BlockingConnection", "pika SelectConnection", "aio-pika", "lean client"]
SERVER_MEASURES = ["start-up until both protocols answer", "idle RSS", "RSS with 200 idle connections",
                   "GET req/s, 50 clients, beside 200 idle connections", "idle connections still answering PING"]


def first_cells(markdown: str) -> list[str]:
    return [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| ")]


def test_run_all_quick_writes_every_row(tmp_path):
    result = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    cells = first_cells((tmp_path / "RESULTS.md").read_text())
    for test in REDIS_TESTS:
        for pipeline in ("P1", "P16"):
            assert f"{test} {pipeline}" in cells
    assert "**geometric mean P1**" in cells and "**geometric mean P16**" in cells
    for scenario in AMQP_SCENARIOS + AMQP_CLIENTS:
        assert scenario in cells
    for measure in SERVER_MEASURES:
        assert any(cell.startswith(measure) for cell in cells), measure
    if importlib.util.find_spec("matplotlib") is None:   # the chart needs the 'bench' extra
        return
    assert (tmp_path / "chart.png").stat().st_size > 0


def test_memory_suite_writes_a_row_per_dataset_with_both_encodings():
    """bench/memory_suite.py at a thousandth of its size: a row for every dataset, on both
    servers, each naming the OBJECT ENCODING its server reported (no figure is asserted)."""
    result = subprocess.run([sys.executable, str(BENCH / "memory_suite.py"), "--scale", "0.001"],
                            capture_output=True, text=True, timeout=900, cwd=BENCH)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line.split("|") for line in result.stdout.splitlines() if line.startswith("| ") and "RSS" not in line]
    assert [row[1].strip().split(" (")[0].split(":")[0] for row in rows] == [
        "issue", "strings", "strings, integer values", "hash small", "hash large", "set intset",
        "set small strings", "set large", "zset small", "zset large", "list small", "list large"]
    assert all(" / " in row[9] for row in rows)  # the encoding column, after the used_memory ratio

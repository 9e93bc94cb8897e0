"""bench/streams_suite.py still runs: a --quick pass against yizhan and redis-server that must
complete with a row per stream command. A smoke test only: no timing or ratio is asserted."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_streams_suite_quick_reports_every_command():
    result = subprocess.run([sys.executable, str(BENCH / "streams_suite.py"), "--quick"],
                            capture_output=True, text=True, timeout=600, cwd=BENCH)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("streams ")]
    names = ["XADD s * f v", "XREADGROUP COUNT 1 >", "XACK (random pending ID)"]
    for name in names:
        assert any(line.startswith(f"streams {name} ") for line in rows), result.stdout
    assert any("geometric mean" in line for line in rows)

"""redis-benchmark (Debian's redis-tools) runs its default tests for this issue's commands
against yizhan without an error. A smoke run: no timing is asserted."""

import shutil
import subprocess

import pytest

TESTS = "ping_inline,ping_mbulk,set,get,incr,mset"


@pytest.mark.parametrize("pipeline", ["1", "16"])
def test_redis_benchmark_runs_clean(yizhan_server, pipeline):
    binary = shutil.which("redis-benchmark")
    assert binary, "redis-benchmark is missing: `apt-get install redis-tools` (scripts/test.sh does)"
    result = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(yizhan_server.port), "-n", "2000", "-c", "10",
         "-P", pipeline, "-t", TESTS, "--csv"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()
    rows = [line.split(",")[0].strip('"') for line in result.stdout.splitlines()[1:] if line]
    assert rows == ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"]

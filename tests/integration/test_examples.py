"""The seed's Redis programs in examples/ run unchanged against yizhan and print what they
print against the real redis-server."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REDIS_EXAMPLES = ["redis_connection_pool.py", "redis_strings.py", "redis_hashes.py", "redis_lists.py",
                  "redis_sets.py", "redis_sorted_sets.py", "redis_pipeline.py", "redis_pubsub.py"]


def run_example(name: str, port: int) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), str(port)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", REDIS_EXAMPLES)
def test_example_matches_redis_server(name, yizhan_server, reference_redis):
    ours = run_example(name, yizhan_server.port)
    theirs = run_example(name, reference_redis.port)
    assert ours == theirs
    assert ours.strip()

"""redis-cli, Debian's, drives yizhan exactly as it drives redis-server: the same command lines
print the same output against both."""

import shutil
import subprocess

import pytest

SESSION = [
    ["SET", "greeting", "hello world"],
    ["GET", "greeting"],
    ["STRLEN", "greeting"],
    ["INCR", "counter"],
    ["MGET", "greeting", "counter", "missing"],
    ["EXISTS", "greeting", "missing"],
    ["TYPE", "greeting"],
    ["DBSIZE"],
    ["INFO", "keyspace"],
    ["HELLO", "3", "SETNAME", "bad name"],
    ["NOSUCHCOMMAND", "x"],
    ["GET"],
]


def cli(port: int, *args: str) -> str:
    binary = shutil.which("redis-cli")
    assert binary, "redis-cli is missing: `apt-get install redis-tools` (scripts/test.sh does)"
    return subprocess.run([binary, "-p", str(port), "--no-raw", *args], capture_output=True, text=True,
                          timeout=30).stdout


@pytest.mark.parametrize("pipe_mode", [False, True])
def test_redis_cli_prints_the_same(yizhan_server, reference_redis, pipe_mode):
    outputs = []
    for port in (yizhan_server.port, reference_redis.port):
        cli(port, "FLUSHALL")
        if pipe_mode:
            script = "\n".join(" ".join(f'"{a}"' if " " in a else a for a in cmd) for cmd in SESSION) + "\n"
            binary = shutil.which("redis-cli")
            outputs.append(subprocess.run([binary, "-p", str(port)], input=script, capture_output=True,
                                          text=True, timeout=30).stdout)
        else:
            outputs.append([cli(port, *cmd) for cmd in SESSION])
    assert outputs[0] == outputs[1]

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


def seed_keys(port: int) -> None:
    import redis

    r = redis.Redis(port=port)
    r.flushall()
    r.set("str:big", "x" * 1000)
    r.set("str:small", "x")
    r.rpush("list:a", *range(50))
    r.hset("hash:a", mapping={f"f{i}": i for i in range(20)})
    r.sadd("set:a", *range(30))
    r.zadd("zset:a", {f"m{i}": i for i in range(40)})


def test_redis_cli_scan_and_bigkeys_agree_with_redis_server(yizhan_server, reference_redis):
    scans, bigkeys = [], []
    for port in (yizhan_server.port, reference_redis.port):
        seed_keys(port)
        scans.append(sorted(cli(port, "--scan", "--pattern", "*:a").split()))
        report = cli(port, "--bigkeys")
        bigkeys.append(sorted(line for line in report.splitlines() if line.startswith("Biggest")))
    assert scans[0] == scans[1] == sorted(['"hash:a"', '"list:a"', '"set:a"', '"zset:a"'])
    assert bigkeys[0] == bigkeys[1] and len(bigkeys[0]) == 5


class Terminal:
    """redis-cli on a pseudo-terminal, as a person runs it."""

    def __init__(self, *args: str):
        import fcntl
        import os
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        self.proc = subprocess.Popen([shutil.which("redis-cli"), *args], stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True)
        os.close(slave)
        self.screen = b""
        self.mark = 0  # output before this has been matched already

    def read_until(self, token: bytes) -> None:
        """Wait for `token` in output not matched yet."""
        import os
        import select

        while token not in self.screen[self.mark:]:
            ready, _, _ = select.select([self.master], [], [], 10)
            assert ready, self.screen
            chunk = os.read(self.master, 4096)
            if b"\x1b[6n" in chunk:  # linenoise asks where the cursor is
                os.write(self.master, b"\x1b[1;1R")
            self.screen += chunk
        self.mark = self.screen.index(token, self.mark) + len(token)

    def type(self, line: str) -> None:
        import os

        os.write(self.master, line.encode() + b"\r")

    def close(self) -> None:
        import os

        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        os.close(self.master)


def test_redis_cli_memkeys_and_stat_run(yizhan_server):
    seed_keys(yizhan_server.port)
    memkeys = cli(yizhan_server.port, "--memkeys")
    assert "Biggest string found '\"str:big\"'" in memkeys
    term = Terminal("-p", str(yizhan_server.port), "--stat", "-i", "0.1")
    try:
        term.read_until(b"------- data ------")
        term.read_until(b"\n6 ")  # a row whose keys column counts the six seeded keys
    finally:
        term.close()


def test_redis_cli_interactive_session(yizhan_server):
    prompt = f"127.0.0.1:{yizhan_server.port}"
    term = Terminal("-p", str(yizhan_server.port))
    try:
        term.read_until(f"{prompt}>".encode())
        term.type("SET greeting hello")
        term.read_until(b"OK")
        term.read_until(f"{prompt}>".encode())  # type only at a fresh prompt
        term.type("GET greeting")
        term.read_until(b'"hello"')
        term.read_until(f"{prompt}>".encode())
        term.type("SELECT 3")
        term.read_until(f"{prompt}[3]>".encode())
        term.type("quit")
    finally:
        term.close()

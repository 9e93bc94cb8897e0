"""Shared pieces of the benchmark suite: yizhan as a separate process, CPU time and RSS read from
/proc, probes that say when a protocol answers, and the result row the report is built from.

The benchmark never runs yizhan in its own process: `YizhanProcess` starts
`python -m yizhan serve` on free ports, like any user would, so the server has its own interpreter,
its own GIL and its own /proc entry to measure.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from yizhan.testing.process import terminate
from yizhan.testing.reference import free_port

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


# -- /proc ---------------------------------------------------------------------------------
def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of `pids` (threads included), in seconds; a pid that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])        # fields 14 and 15 of proc(5)
    return total / CLOCK_TICK


def rss_bytes(pids: list[int]) -> int:
    """Resident set size summed over `pids`."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def raise_nofile(wanted: int) -> int:
    """Raise this process's RLIMIT_NOFILE soft limit towards `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- protocol probes -----------------------------------------------------------------------
def redis_answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def amqp_answers(port: int, timeout: float = 0.5) -> bool:
    """True once the broker answers the protocol header with a connection.start method frame."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(AMQP_HEADER)
            return sock.recv(16)[:1] == b"\x01"
    except OSError:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


# -- yizhan as a separate process ----------------------------------------------------------
class YizhanProcess:
    """`python -m yizhan serve` on free ports with a private data directory.

    `startup_seconds` is the time from spawning the interpreter until both Redis (PING) and AMQP
    (connection.start) answer."""

    def __init__(self, log_level: str = "warning", config: dict[str, str] | None = None):
        self.workdir = Path(tempfile.mkdtemp(prefix="yizhan-bench-"))
        self.config = config or {}
        self.port = 0
        self.amqp_port = 0
        self.log_level = log_level
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0
        self._log = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    def start(self) -> "YizhanProcess":
        for _ in range(3):
            self.port, self.amqp_port = free_port(), free_port()
            self._log = open(self.workdir / "server.log", "ab")
            extra = []
            if self.config:              # redis.conf-style file: `maxclients 10100`
                (self.workdir / "yizhan.conf").write_text("".join(f"{k} {v}\n" for k, v in self.config.items()))
                extra = ["--config", str(self.workdir / "yizhan.conf")]
            began = time.monotonic()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "yizhan", "serve", *extra, "--port", str(self.port),
                 "--amqp-port", str(self.amqp_port), "--http-port", "0",
                 "--data-dir", str(self.workdir / "data"), "--log-level", self.log_level],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
            if (wait_until(lambda: self.process.poll() is not None or redis_answers(self.port), 30)
                    and wait_until(lambda: self.process.poll() is not None or amqp_answers(self.amqp_port), 30)
                    and self.process.poll() is None):
                self.startup_seconds = time.monotonic() - began
                return self
            self._stop_process()
        raise RuntimeError(f"yizhan did not start; see {self.workdir / 'server.log'}: " + self.log_tail())

    def log_tail(self) -> str:
        try:
            return (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _stop_process(self) -> None:
        terminate(self.process, 15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        self._stop_process()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "YizhanProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- results -------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the report: a measure taken on yizhan and on the reference server.

    `higher_is_better` says which way the ratio yizhan/reference reads as good; `extra` holds
    columns particular to a section (CPU per operation, latency percentiles)."""

    section: str
    name: str
    unit: str
    yizhan: float
    reference: float
    higher_is_better: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if not self.reference:
            return float("nan")
        return self.yizhan / self.reference


def geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    if not values:
        return float("nan")
    return math.exp(sum(map(math.log, values)) / len(values))


def fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"

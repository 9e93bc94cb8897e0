"""Subprocesses for tests and benchmarks: `ServerProcess`, a `python -m yizhan serve` for
restart and crash tests (both protocols on free ports, its output in a log file (a full pipe would
block it), the ports read from that log once it says "ready", stopped with any signal), and the
helpers every launcher of a server uses: `terminate` and `descendants`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

_READY = " ready"
_REDIS_PORT = re.compile(r"Redis listening on [\d.]+:(\d+)")
_AMQP_PORT = re.compile(r"AMQP listening on [\d.]+:(\d+)")
_HTTP_PORT = re.compile(r"management HTTP API listening on [\d.]+:(\d+)")


class ServerProcess:
    """One server on `data_dir`; `extra` goes on its command line (e.g. "--config", path) and
    `env` adds environment variables. With `wait=False` it is left starting (to kill it while
    it loads its files); otherwise `ready_after` is the seconds from launch to ready."""

    def __init__(self, data_dir, log_path, *extra: str, env: dict | None = None,
                 wait: bool = True, timeout: float = 60):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.redis_port = self.amqp_port = self.http_port = None
        launched = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0",
             "--http-port", "0", "--data-dir", str(data_dir), *extra],
            stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, **env) if env else None)
        if wait:
            self._wait_ready(timeout)
            self.ready_after = time.monotonic() - launched

    @property
    def port(self) -> int:
        """The AMQP port (what the broker tests connect to)."""
        return self.amqp_port

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = open(self.log_path).read()
            if _READY in text:
                self.redis_port = int(_REDIS_PORT.search(text).group(1))
                self.amqp_port = int(_AMQP_PORT.search(text).group(1))
                http = _HTTP_PORT.search(text)   # absent when the config turns it off
                self.http_port = int(http.group(1)) if http else None
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise AssertionError("server did not become ready:\n" + open(self.log_path).read())

    def connect(self):
        """A pika BlockingConnection to the AMQP port."""
        import pika

        return pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", self.amqp_port))

    def stop(self, signum=signal.SIGTERM) -> int:
        """Send `signum` (unless it already exited), wait for the exit, return its code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        self.log.close()
        return code

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)


def terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM, up to `timeout` seconds for the exit, then SIGKILL; nothing if it has exited."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def descendants(root: int) -> list[int]:
    """Every live process below `root`, read from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found

"""Start and stop a real redis-server (Debian's 7.0) on a free port, as the reference that
differential tests and benchmarks compare yizhan against."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from yizhan.testing.process import terminate


class ReferenceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisReference:
    """`with RedisReference() as ref: ref.port` runs redis-server without persistence."""

    def __init__(self, binary: str = "redis-server", *extra: str):
        self.binary = shutil.which(binary)
        if self.binary is None:
            raise ReferenceUnavailable(
                "redis-server is not installed: `apt-get install redis-server` (the README's test "
                "command does this) so differential tests have their reference")
        self.extra = extra
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.workdir = tempfile.mkdtemp(prefix="yizhan-ref-")

    def start(self) -> "RedisReference":
        for _ in range(5):
            self.port = free_port()
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.workdir, "--daemonize", "no", *self.extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self.process.kill()
            self.process.wait()
        raise ReferenceUnavailable("redis-server did not start")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        terminate(self.process, 10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RedisReference":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def version(binary: str = "redis-server") -> str:
    path = shutil.which(binary)
    if path is None:
        return ""
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return out.split("v=")[1].split()[0] if "v=" in out else out.strip()


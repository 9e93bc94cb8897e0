"""Certificates for TLS tests, made at run time with the `openssl` command-line tool: a CA, a
server certificate for 127.0.0.1/localhost and client certificates signed by it, and a client
certificate from an unrelated CA (`Certificates`)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    directory: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    @property
    def ca(self) -> str:
        return self.path("ca.crt")

    @property
    def server_cert(self) -> str:
        return self.path("server.crt")

    @property
    def server_key(self) -> str:
        return self.path("server.key")

    @property
    def client_cert(self) -> str:
        return self.path("client.crt")

    @property
    def client_key(self) -> str:
        return self.path("client.key")

    @property
    def stranger_cert(self) -> str:
        """A client certificate signed by another CA."""
        return self.path("stranger.crt")

    @property
    def stranger_key(self) -> str:
        return self.path("stranger.key")


def make_certificates(directory: Path) -> Certificates:
    binary = shutil.which("openssl")
    assert binary, "the openssl command-line tool is missing (Debian package openssl)"
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([binary, *args], cwd=directory, check=True, capture_output=True, timeout=60)

    for ca in ("ca", "otherca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=yizhan test {ca}",
            "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ca, extra in (("server", "ca", ["-extfile", "server.ext"]), ("client", "ca", []),
                            ("stranger", "otherca", [])):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extra)
    return Certificates(directory)

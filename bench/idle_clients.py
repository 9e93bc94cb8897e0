"""Helper process for server_suite.py: hold N idle Redis connections to 127.0.0.1:PORT.

    python bench/idle_clients.py PORT N

Opens the connections one by one (each answers a PING, so the server has accepted and registered
it), prints `ready N`, then waits for commands on stdin: `check` PINGs every connection again and
prints `alive K`; end of input closes everything and exits.
"""

from __future__ import annotations

import resource
import socket
import sys


def ping(sock: socket.socket) -> bool:
    sock.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(64)
        if not chunk:
            return False
        reply += chunk
    return reply == b"+PONG\r\n"


def main() -> int:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            if not ping(sock):
                raise RuntimeError(f"connection {len(sockets)} was refused")
            sockets.append(sock)
        print(f"ready {len(sockets)}", flush=True)
        for line in sys.stdin:
            if line.strip() == "check":
                alive = 0
                for sock in sockets:
                    try:
                        alive += ping(sock)
                    except OSError:
                        pass
                print(f"alive {alive}", flush=True)
    finally:
        for sock in sockets:
            sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

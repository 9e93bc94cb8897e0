"""Forking a persistence child (BGSAVE, BGREWRITEAOF) that never outlives its parent.

Right after the fork the child closes every socket it inherited (the listeners of both
protocols and every client connection: a killed parent's ports are free at once and its
clients see their connections end) and asks to die with its parent: on Linux through
prctl(PR_SET_PDEATHSIG, SIGKILL) (checked against a parent that died before the call), elsewhere
with a thread that polls the parent's pid. Only `os._exit` ends the child, so no inherited
object is finalised there. prctl is looked up among the symbols the interpreter already has
(dlopen of the program itself), never with ctypes.util.find_library: that runs `ldconfig -p`
as a subprocess, and in the child it was a second, short-lived descendant (and a delay before
the death signal was armed)."""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
PARENT_POLL_INTERVAL = 0.2  # seconds, where prctl is not available


def fork(srv) -> int:
    """os.fork(); in the child, the sockets closed and the parent's death made fatal. In the
    parent, INFO's `total_forks` and `latest_fork_usec` (the time fork() took, on the server
    clock's duration reading) of the Redis instance `srv`."""
    parent = os.getpid()
    started = srv.clock.monotonic_ns()
    pid = os.fork()
    if pid == 0:
        close_sockets()
        die_with_parent(parent)
    else:
        srv.stats.total_forks += 1
        srv.stats.latest_fork_usec = (srv.clock.monotonic_ns() - started) // 1000
    return pid


def close_sockets() -> None:
    """Close every inherited socket descriptor (files stay open: the child may still need
    what it writes through)."""
    for fd in _open_fds():
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass


def _open_fds() -> list[int]:
    for directory in ("/proc/self/fd", "/dev/fd"):
        try:
            return [int(name) for name in os.listdir(directory) if int(name) > 2]
        except OSError:
            continue
    return list(range(3, 1024))


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux") and _prctl_deathsig():
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _prctl_deathsig() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the loaded program's symbols: libc's among them
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_INTERVAL)
    os._exit(1)

"""Helpers for tests of blocking commands against any Redis server (yizhan or redis-server)."""

from __future__ import annotations

import time

import redis


def connect(port: int, **kwargs) -> redis.Redis:
    return redis.Redis(port=port, **kwargs)


def blocked_count(r: redis.Redis) -> int:
    return r.info("clients")["blocked_clients"]


def wait_blocked(r: redis.Redis, count: int = 1, timeout: float = 5.0) -> None:
    """Wait until `count` clients are blocked on the server."""
    deadline = time.monotonic() + timeout
    while blocked_count(r) != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} blocked clients, have {blocked_count(r)}")
        time.sleep(0.01)

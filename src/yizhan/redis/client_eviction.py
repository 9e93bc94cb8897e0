"""maxmemory-clients: Redis 7.0's client eviction (issue 17).

When the memory of all normal and pub/sub clients (each client's tot-mem, used_memory.py) reaches
the limit, clients are closed, the biggest first, until the total is under it again; each is
logged ("Evicting client: <CLIENT LIST line>") and counted in INFO's `evicted_clients`. Clients
that set CLIENT NO-EVICT on count in the total but are never closed; when only they are left,
Redis's warning is logged. The master's link and replicas are neither counted nor closed (Redis
sums only the NORMAL and PUBSUB client types). The limit is `maxmemory-clients`: bytes, or a
percentage of maxmemory ("10%"; nothing while maxmemory is 0), never under 128 kB so that an
operator can still connect. Redis checks before the event loop sleeps; yizhan checks after
each read a connection serves (`RedisConnection.receive`), which is when a client's buffers grow.
"""

from __future__ import annotations

import logging

from yizhan.redis.used_memory import client_memory

log = logging.getLogger("yizhan.redis")
MINIMUM = 128 * 1024


def limit(srv) -> int:
    """getClientEvictionLimit: 0 when client eviction is off."""
    value = srv.params.get("maxmemory-clients")
    if value.endswith("%"):
        maxmemory = srv.params.int("maxmemory")
        if not maxmemory:
            return 0
        bytes_ = int(maxmemory * int(value[:-1]) / 100)
    else:
        bytes_ = int(value)
        if not bytes_:
            return 0
    return max(bytes_, MINIMUM)


def evict_clients(srv, format_client) -> int:
    """Close the biggest evictable clients while the clients' memory is at or over the limit;
    returns how many were closed. `format_client` gives a client's CLIENT LIST line."""
    cap = limit(srv)
    if not cap:
        return 0
    sizes = [(client_memory(c).total, c) for c in srv.clients.values() if not c.repl_flag]
    total = sum(size for size, _ in sizes)
    if total < cap:
        return 0
    evictable = sorted(((size, c) for size, c in sizes if not c.no_evict), key=lambda pair: -pair[0])
    closed = 0
    for size, client in evictable:
        if total < cap:
            break
        log.info("Evicting client: %s", format_client(client).rstrip("\n"))
        client.kill()
        srv.stats.evicted_clients += 1
        total -= size
        closed += 1
    if total >= cap:
        log.warning("Over client maxmemory after evicting all evictable clients")
    return closed

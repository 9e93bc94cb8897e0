"""One Redis instance: its databases, runtime parameters, connected clients and statistics.

Everything a command can reach beyond its own client lives here; the network layer creates
one instance per server and hands each new connection to `connect`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from yizhan.clock import Clock
from yizhan.config import Config
from yizhan.redis.keyspace import Database
from yizhan.redis.params import Params

REDIS_VERSION = "7.0.15"


@dataclass
class Stats:
    total_connections_received: int = 0
    total_commands_processed: int = 0
    total_error_replies: int = 0
    rejected_connections: int = 0
    expired_keys: int = 0
    evicted_keys: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    total_net_input_bytes: int = 0
    total_net_output_bytes: int = 0
    unexpected_error_replies: int = 0
    dirty: int = 0


class RedisInstance:
    def __init__(self, config: Config | None = None, clock: Clock | None = None):
        self.config = config or Config()
        self.clock = clock or Clock()
        self.params = Params(self.config.redis_params)
        self.stats = Stats()
        self.dbs = [Database(i, self.clock, self.stats) for i in range(self.params.int("databases"))]
        self.clients: dict[int, "Client"] = {}
        self._next_client_id = 1
        self.started_ms = self.clock.ms()
        self.started_monotonic = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self.tcp_port = self.config.port
        self.last_save_time = int(time.time())

    def next_client_id(self) -> int:
        client_id = self._next_client_id
        self._next_client_id += 1
        return client_id

    def register(self, client) -> None:
        self.clients[client.id] = client
        self.stats.total_connections_received += 1

    def unregister(self, client) -> None:
        self.clients.pop(client.id, None)

    def active_expire_cycle(self, limit_per_db: int = 500) -> int:
        return sum(db.active_expire(limit_per_db) for db in self.dbs if db.expires)

    def uptime_seconds(self) -> int:
        return int(time.monotonic() - self.started_monotonic)

    def reset_stats(self) -> None:
        dirty = self.stats.dirty
        self.stats = Stats(dirty=dirty)
        for db in self.dbs:
            db.stats = self.stats

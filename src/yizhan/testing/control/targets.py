"""Which connections a control acts on: `Target(protocol, client, command, count, probability)`.

`client` matches a Redis client's name (CLIENT SETNAME) or address, or an AMQP connection's
`connection_name` client property or peer address (exact, or a prefix ending in ":" for a
host); `command` is a Redis command name (lower case, "config|set" for a subcommand) or an AMQP
method name ("basic.publish"). `count` is how many matching events the fault takes (None: every
one until removed); `probability` draws for each match (a seeded `random.Random`, so a test
that sets `seed` replays the same faults)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Target:
    protocol: str | None = None        # "redis", "amqp" or None for both
    client: str | None = None
    command: str | None = None
    count: int | None = None
    probability: float = 1.0
    seed: int | None = None
    rng: random.Random = field(default=None, repr=False)

    def __post_init__(self):
        if self.protocol not in (None, "redis", "amqp"):
            raise ValueError(f"protocol must be 'redis' or 'amqp', not {self.protocol!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        self.rng = random.Random(self.seed)
        if self.command is not None:
            self.command = self.command.lower()

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0

    def wants(self, protocol: str) -> bool:
        return self.protocol is None or self.protocol == protocol

    def matches_client(self, name: str | None, addr: str) -> bool:
        wanted = self.client
        if wanted is None:
            return True
        if wanted == name or wanted == addr:
            return True
        return wanted.endswith(":") and addr.startswith(wanted)

    def take(self) -> bool:
        """One matching event: whether the fault strikes it (and counts it)."""
        if self.spent:
            return False
        if self.probability < 1.0 and self.rng.random() >= self.probability:
            return False
        if self.count is not None:
            self.count -= 1
        return True


def amqp_name(conn) -> str | None:
    found = conn.client_properties.lookup("connection_name")
    if found is None:
        return None
    value = found[1]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def redis_name(client) -> str | None:
    name = client.name
    if not name:
        return None
    return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)

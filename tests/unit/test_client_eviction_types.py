"""maxmemory-clients counts and closes only normal and pub/sub clients: the master's link and
replicas are neither (Redis's evictClients sums CLIENT_TYPE_NORMAL and CLIENT_TYPE_PUBSUB)."""

from yizhan.clock import ManualClock
from yizhan.config import Config
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.client_eviction import evict_clients
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection


def _client(server: RedisInstance, repl_flag: str, buffered: int) -> Client:
    client = Client(server)
    server.register(client)
    conn = RedisConnection(client)
    client.repl_flag = repl_flag
    conn.receive(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % (buffered * 2) + b"x" * buffered)  # incomplete
    return client


def test_the_master_link_and_replicas_are_neither_counted_nor_evicted():
    server = RedisInstance(Config(redis_params={"maxmemory-clients": str(200 * 1024)}), ManualClock())
    master = _client(server, "M", 300_000)
    replica = _client(server, "S", 300_000)
    normal = _client(server, "", 50_000)
    assert evict_clients(server, lambda c: "") == 0  # the normal client alone is under the limit
    assert server.stats.evicted_clients == 0
    big = _client(server, "", 300_000)  # its read runs the check: it is closed there
    assert server.stats.evicted_clients == 1
    alive = set(server.clients.values())
    assert master in alive and replica in alive and normal in alive and big not in alive

"""The seed's first Redis program: a connection pool, SET and GET (redis-py 5+ API).

    python examples/redis_connection_pool.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379

# Connecting directly...
r = redis.Redis(host="localhost", port=port)
r.set("foo", "bar")
print(r.get("foo"))

# ...and through a pool, to avoid the cost of opening and closing a connection each time.
pool = redis.ConnectionPool(host="localhost", port=port)
r = redis.Redis(connection_pool=pool)
r.set("foo", "bar")
print(r.get("foo"))

"""The seed's hash operations, including HSCAN with MATCH patterns (*k, k*, *k*).

    python examples/redis_hashes.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
r = redis.Redis(connection_pool=redis.ConnectionPool(host="localhost", port=port))

r.delete("info")
r.hset("info", mapping={"k1": "v1", "k2": "v2", "kk": "vv", "name": "seed", "ak": "x"})
print(r.hget("info", "k1"))
print(r.hmget("info", ["k1", "k2"]))
print(r.hgetall("info"))
print(r.hlen("info"), r.hkeys("info"), r.hvals("info"))
print(r.hexists("info", "k1"), r.hdel("info", "kk"))
print(r.hincrby("info", "count", 2), r.hincrbyfloat("info", "ratio", 1.5))
for pattern in ("*k", "k*", "*k*"):
    cursor, found = r.hscan("info", 0, match=pattern)
    print(pattern, cursor, found)
print(sorted(r.hscan_iter("info", match="k*")))

"""The seed's sorted-set operations: ZINCRBY, ZINTERSTORE/ZUNIONSTORE with AGGREGATE, ZSCAN.

    python examples/redis_sorted_sets.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
r = redis.Redis(connection_pool=redis.ConnectionPool(host="localhost", port=port))

r.delete("z1", "z2", "zinter", "zunion")
r.zadd("z1", {"a1": 6, "a2": 2, "a3": 5})
r.zadd("z2", {"a1": 7, "b1": 10, "b2": 5})
print(r.zrange("z1", 0, -1, withscores=True))
print(r.zincrby("z1", 2, "a2"))                   # a2's score goes up by 2
print(r.zrank("z1", "a2"), r.zscore("z1", "a3"), r.zcount("z1", 3, 6))
for aggregate in ("SUM", "MIN", "MAX"):
    print(aggregate, r.zinterstore("zinter", ["z1", "z2"], aggregate=aggregate),
          r.zrange("zinter", 0, -1, withscores=True))
    print(aggregate, r.zunionstore("zunion", ["z1", "z2"], aggregate=aggregate),
          r.zrange("zunion", 0, -1, withscores=True))
print(r.zscan("z1", 0, match="a*"))
print(r.zrevrange("z1", 0, 1, withscores=True), r.zrangebyscore("z1", 4, 8))

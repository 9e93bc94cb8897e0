"""The seed's set algebra: SDIFF/SDIFFSTORE, SINTER/SINTERSTORE, SUNION and SSCAN.

    python examples/redis_sets.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
r = redis.Redis(connection_pool=redis.ConnectionPool(host="localhost", port=port))

r.delete("set1", "set2", "diff", "inter")
r.sadd("set1", "a", "b", "c", "d")
r.sadd("set2", "c", "d", "e")
print(r.scard("set1"), r.sismember("set1", "a"))
print(sorted(r.sdiff("set1", "set2")))           # in set1, not set2
print(r.sdiffstore("diff", ["set1", "set2"]), sorted(r.smembers("diff")))
print(sorted(r.sinter("set1", "set2")))
print(r.sinterstore("inter", ["set1", "set2"]), sorted(r.smembers("inter")))
print(sorted(r.sunion("set1", "set2")))
print(sorted(r.sscan_iter("set1", match="a*")))
print(r.smove("set1", "set2", "a"), sorted(r.smembers("set2")))
r.sadd("ids", 3, 1, 2)
print(sorted(r.smembers("ids"), key=int))

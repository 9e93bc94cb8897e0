"""The seed's list operations, including LINSERT before/after a pivot.

    python examples/redis_lists.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
r = redis.Redis(connection_pool=redis.ConnectionPool(host="localhost", port=port))

r.delete("nums")
r.lpush("nums", 11, 22, 33)              # pushed on the left: 33 22 11
r.rpush("nums", 44)
print(r.lrange("nums", 0, -1))
r.linsert("nums", "before", "22", "num")  # "num" goes in front of 22
r.linsert("nums", "after", "22", "num2")
print(r.lrange("nums", 0, -1))
r.lset("nums", 0, "first")
print(r.lindex("nums", 0), r.llen("nums"))
r.lrem("nums", 1, "num2")
print(r.lpop("nums"), r.rpop("nums"))
r.ltrim("nums", 0, 1)
print(r.lrange("nums", 0, -1))
r.rpush("queue", "job")
print(r.rpoplpush("queue", "done"), r.lrange("done", 0, -1))

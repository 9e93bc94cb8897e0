"""The seed's transactional pipeline: the three SETs run at once, atomically, on execute().

    python examples/redis_pipeline.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
r = redis.Redis(connection_pool=redis.ConnectionPool(host="localhost", port=port))

pipe = r.pipeline(transaction=True)
pipe.set("sex", "man")
pipe.set("name", "zhushanwei")
pipe.set("hobby", "game")
print(pipe.execute())
print(r.mget("sex", "name", "hobby"))

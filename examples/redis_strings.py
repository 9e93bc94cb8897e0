"""The seed's string operations: GETSET, GETRANGE, SETRANGE, SETBIT/GETBIT, INCR, APPEND.

    python examples/redis_strings.py [port]
"""

import sys

import redis

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
pool = redis.ConnectionPool(host="localhost", port=port)
r = redis.Redis(connection_pool=pool)

r.set("name", "zhangsan")
print(r.getset("name", "lisi"))          # replaces the value, returns the old one: b'zhangsan'
print(r.get("name"))                     # b'lisi'

r.set("slogan", "hello world")
print(r.getrange("slogan", 0, 4))        # a slice of the value: b'hello'
r.setrange("slogan", 6, "redis")         # overwrite from offset 6
print(r.get("slogan"))                   # b'hello redis'

r.set("letter", "a")                     # 'a' is 0b01100001
print(r.getbit("letter", 6))             # 0
r.setbit("letter", 6, 1)                 # 0b01100011 is 'c'
print(r.get("letter"))                   # b'c'
print(r.bitcount("letter"))              # 4 bits set

r.delete("visits")
print(r.incr("visits"))                  # 1: a missing key counts from 0
print(r.incr("visits", 5))               # 6

r.set("greeting", "hello")
r.append("greeting", " world")           # string concatenation
print(r.get("greeting"))                 # b'hello world'

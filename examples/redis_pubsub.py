"""The seed's publish/subscribe helper class: one subscriber, one publisher, on channel fm104.5.

    python examples/redis_pubsub.py [port] [messages]
"""

import sys

import redis

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
MESSAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 3


class RedisHelper:
    def __init__(self):
        self.__connection = redis.Redis(host="localhost", port=PORT)
        self.chan_sub = "fm104.5"  # the channel we listen on
        self.chan_pub = "fm104.5"  # the channel we publish on

    def public(self, msg):
        self.__connection.publish(self.chan_pub, msg)
        return True

    def subscribe(self):
        sub = self.__connection.pubsub()  # like switching the radio on
        sub.subscribe(self.chan_sub)      # tune to the channel
        sub.parse_response(timeout=5)     # the subscribe confirmation
        return sub


listener = RedisHelper()  # keep it: when a client is garbage-collected, redis-py closes its pool
subscriber = listener.subscribe()
publisher = RedisHelper()
for i in range(MESSAGES):
    publisher.public(f"hello world! {i}")
for _ in range(MESSAGES):
    message = subscriber.parse_response(timeout=5)  # [b'message', b'fm104.5', b'hello world!']
    print(message[2])

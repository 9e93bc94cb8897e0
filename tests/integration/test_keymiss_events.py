"""The "keymiss" keyspace event (class m): fired by read lookups that miss, as Redis's
lookupKeyRead does, never by write lookups or OBJECT (NONOTIFY). Run on yizhan and redis-server."""

import time

import redis


def test_keymiss_events_come_from_read_lookups(both_servers):
    r = redis.Redis(port=both_servers)
    r.config_set("notify-keyspace-events", "Em")
    try:
        p = r.pubsub()
        p.subscribe("__keyevent@0__:keymiss")
        assert p.get_message(timeout=2)["type"] == "subscribe"
        r.set("present", "v")
        r.get("present")                              # a hit: no event
        r.get("miss-get")
        r.exists("miss-exists")
        r.type("miss-type")
        r.lrange("miss-lrange", 0, -1)
        r.object("encoding", "miss-object")           # NONOTIFY: no event
        r.lpop("miss-lpop")                           # a write lookup: no event
        r.mget("miss-mget-1", "present", "miss-mget-2")
        r.set("sentinel-key", "v")
        r.get("miss-last")
        got = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not got or got[-1] != b"miss-last"):
            message = p.get_message(timeout=0.5)
            if message and message["type"] == "message":
                got.append(message["data"])
        assert got == [b"miss-get", b"miss-exists", b"miss-type", b"miss-lrange", b"miss-mget-1",
                       b"miss-mget-2", b"miss-last"]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")
        r.close()

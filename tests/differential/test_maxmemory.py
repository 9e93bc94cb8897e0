"""maxmemory and every maxmemory-policy against redis-server (issue 17). With `maxmemory 1`
nothing fits on either server, so what each policy may evict is evicted at CONFIG SET (Redis
evicts there too) and deny-oom commands are refused with Redis's OOM text; the replies must be
equal byte for byte. Every case puts maxmemory back to 0 (noeviction) at its end."""

from __future__ import annotations

import pytest
import redis

RESET = [["CONFIG", "SET", "maxmemory", "0"], ["CONFIG", "SET", "maxmemory-policy", "noeviction"]]


def squeeze(policy: str) -> list:
    return [["CONFIG", "SET", "maxmemory-policy", policy], ["CONFIG", "SET", "maxmemory", "1"]]


CASES = {
    "noeviction-refuses-deny-oom": [
        ["FLUSHALL"], ["SET", "a", "1"], *squeeze("noeviction"), ["SET", "b", "1"], ["GET", "a"],
        ["APPEND", "a", "x"], ["INCR", "n"], ["LPUSH", "l", "x"], ["SADD", "s", "m"], ["EXISTS", "a"],
        ["EXPIRE", "a", "100"], ["PERSIST", "a"], ["DEL", "a"], ["DBSIZE"], *RESET],
    "noeviction-in-multi": [
        ["FLUSHALL"], ["SET", "a", "1"], *squeeze("noeviction"), ["MULTI"], ["GET", "a"], ["EXEC"],
        ["MULTI"], ["DISCARD"], ["MULTI"], ["SET", "x", "1"], ["DEL", "a"], ["EXEC"], ["GET", "a"], *RESET],
    "allkeys-lru-evicts-everything-then-refuses": [
        ["FLUSHALL"], ["SET", "a", "1"], ["SET", "b", "2"], ["HSET", "h", "f", "v"], *squeeze("allkeys-lru"),
        ["DBSIZE"], ["SET", "c", "1"], ["GET", "a"], ["DBSIZE"], *RESET],
    "allkeys-lfu": [["FLUSHALL"], ["SET", "a", "1"], ["RPUSH", "l", "x"], *squeeze("allkeys-lfu"), ["DBSIZE"],
                    ["SET", "c", "1"], *RESET],
    "allkeys-random": [["FLUSHALL"], ["SET", "a", "1"], ["SELECT", "3"], ["SET", "b", "1"], *squeeze("allkeys-random"),
                       ["DBSIZE"], ["SELECT", "0"], ["DBSIZE"], ["SET", "c", "1"], *RESET],
    "volatile-policies-keep-keys-without-ttl": [
        ["FLUSHALL"], ["SET", "a", "1"], ["SET", "t1", "1", "EX", "100"], ["SET", "t2", "1", "PX", "50000"],
        *squeeze("volatile-lru"), ["DBSIZE"], ["GET", "a"], ["SET", "b", "1"],
        ["SET", "t3", "1", "EX", "100"], *RESET],
    "volatile-ttl": [["FLUSHALL"], ["SET", "a", "1"], ["SET", "t1", "1", "EX", "100"], *squeeze("volatile-ttl"),
                     ["DBSIZE"], ["EXISTS", "t1"], *RESET],
    "volatile-random": [["FLUSHALL"], ["SET", "a", "1"], ["SET", "t1", "1", "EX", "100"], *squeeze("volatile-random"),
                        ["DBSIZE"], ["EXISTS", "a", "t1"], *RESET],
    "volatile-lfu": [["FLUSHALL"], ["SET", "a", "1"], ["SET", "t1", "1", "EX", "100"], *squeeze("volatile-lfu"),
                     ["DBSIZE"], ["EXISTS", "a", "t1"], *RESET],
    "scripts-over-maxmemory": [
        ["FLUSHALL"], ["SET", "a", "1"], *squeeze("noeviction"),
        ["EVAL", "return redis.call('set','x','1')", "0"],
        ["EVAL", "return redis.call('get','a')", "0"],
        ["EVAL", "redis.call('del','a') return redis.call('set','z','1')", "0"],
        ["EVAL", "return redis.pcall('incr','n')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('get','z')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','z')", "0"],
        ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','y','1')", "0"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=oomlib\n"
         "redis.register_function('w', function() return redis.call('set','f','1') end)\n"
         "redis.register_function{function_name='ok', callback=function() return redis.call('set','g','1') end, "
         "flags={'allow-oom'}}\n"
         "redis.register_function{function_name='ro', callback=function() return redis.call('get','g') end, "
         "flags={'no-writes'}}"],
        ["FCALL", "w", "0"], ["FCALL", "ok", "0"], ["FCALL", "ro", "0"], ["FCALL_RO", "ro", "0"],
        ["DBSIZE"], *RESET, ["FUNCTION", "DELETE", "oomlib"]],
}


@pytest.fixture
def reset_both(yizhan_server, reference_redis):
    yield
    for port in (yizhan_server.port, reference_redis.port):
        client = redis.Redis(port=port)
        client.config_set("maxmemory", 0)
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("notify-keyspace-events", "")
        client.flushall()


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, reset_both, name):
    differential.check(CASES[name])


@pytest.fixture(params=["yizhan", "redis-server"])
def port(request, yizhan_server, reference_redis, reset_both):
    return yizhan_server.port if request.param == "yizhan" else reference_redis.port


def test_evictions_are_counted_and_announced(port):
    client = redis.Redis(port=port)
    client.flushall()
    client.config_resetstat()
    client.mset({"a": 1, "b": 2, "c": 3})
    client.config_set("notify-keyspace-events", "Ee")
    listener = client.pubsub()
    listener.subscribe("__keyevent@0__:evicted")
    assert listener.get_message(timeout=5)["type"] == "subscribe"
    client.config_set("maxmemory-policy", "allkeys-random")
    client.config_set("maxmemory", 1)
    events = [listener.get_message(timeout=5) for _ in range(3)]
    client.config_set("maxmemory", 0)
    assert sorted(event["data"] for event in events) == [b"a", b"b", b"c"]
    assert client.info("stats")["evicted_keys"] == 3
    assert client.dbsize() == 0
    listener.close()

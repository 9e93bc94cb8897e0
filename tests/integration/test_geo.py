"""Geo commands through redis-py, against yizhan and redis-server 7.0 (`both_servers`): the
keyspace events and change counts of GEOADD and the STORE forms, WATCH, and redis-py's own
geo helpers parsing the replies."""

import time

import pytest
import redis

from yizhan.testing.blocking import connect
from yizhan.testing.keyspace_events import collect_events

PLACES = (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania", 2.3522, 48.8566, "Paris")


def geo_workload(r: redis.Redis) -> None:
    """Writes of every geo kind, including ones that change nothing."""
    r.geoadd("g", PLACES)
    r.geoadd("g", PLACES)                                   # nothing new: no event
    r.geoadd("g", (13.0, 38.0, "Palermo"), xx=True, ch=True)
    r.georadius("g", 15, 37, 200, unit="km", store="near")
    r.georadius("g", 15, 37, 200, unit="km", store_dist="dist")
    r.geosearchstore("st", "g", longitude=15, latitude=37, radius=1000, unit="km")
    r.geosearchstore("st", "g", longitude=100, latitude=0, radius=1, unit="km")   # empty: deletes
    r.execute_command("GEORADIUSBYMEMBER", "g", "Paris", 1, "km", "STORE", "near")
    r.execute_command("GEORADIUS", "nokey", 0, 0, 1, "km", "STORE", "dist")      # no source: deletes


def test_keyspace_events_of_geo_commands(both_servers):
    r = connect(both_servers)
    r.flushall()
    r.config_set("notify-keyspace-events", "Ezg")
    try:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__keyevent@0__:*")
        time.sleep(0.05)
        geo_workload(r)
        expected = [("zadd", "g"), ("zadd", "g"), ("georadiusstore", "near"), ("georadiusstore", "dist"),
                    ("geosearchstore", "st"), ("del", "st"), ("georadiusstore", "near"), ("del", "dist")]
        assert collect_events(p, len(expected)) == expected
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def dirty(r: redis.Redis) -> int:
    return int(r.info("persistence")["rdb_changes_since_last_save"])


def test_change_counter_matches_redis(yizhan_redis, reference_redis):
    ref = connect(reference_redis.port)
    ref.flushall()
    counts = []
    for r in (yizhan_redis, ref):
        before = dirty(r)
        geo_workload(r)
        counts.append(dirty(r) - before)
    assert counts[0] == counts[1]
    ref.close()


def test_geoadd_spoils_watch_only_when_it_changes_something(both_servers):
    r = connect(both_servers)
    r.flushall()
    r.geoadd("g", PLACES)
    with r.pipeline() as pipe:
        pipe.watch("g")
        r.geoadd("g", PLACES)  # the same positions: nothing changes
        pipe.multi()
        pipe.geopos("g", "Paris")
        assert len(pipe.execute()) == 1
    with r.pipeline() as pipe:
        pipe.watch("g")
        r.geoadd("g", (2.0, 48.0, "Paris"))
        pipe.multi()
        pipe.geopos("g", "Paris")
        try:
            pipe.execute()
            raise AssertionError("EXEC should have failed")
        except redis.WatchError:
            pass


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_helpers_read_the_replies(both_servers, protocol):
    r = connect(both_servers, protocol=protocol)
    r.flushall()
    r.geoadd("Sicily", PLACES[:6])
    assert r.geodist("Sicily", "Palermo", "Catania", unit="km") == 166.2742
    hashes = r.geohash("Sicily", "Palermo", "nope")  # redis-py decodes them in RESP2 only
    assert [h.decode() if isinstance(h, bytes) else h for h in hashes] == ["sqc8b49rny0", None]
    near = r.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km", withdist=True,
                       withcoord=True, sort="ASC")
    assert [item[0] for item in near] == [b"Catania", b"Palermo"]
    assert near[0][1] == 56.4413
    assert tuple(near[0][2]) == (15.087267458438873, 37.50266842333162)
    position, missing = r.geopos("Sicily", "Palermo", "nope")
    assert tuple(position) == (13.361389338970184, 38.1155563954963) and missing is None
    stored = r.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200, unit="km", storedist=True)
    assert stored == 2
    assert [tuple(pair) for pair in r.zrange("dst", 0, -1, withscores=True)] == [
        (b"Catania", 56.4412578701582), (b"Palermo", 190.44242984775784)]

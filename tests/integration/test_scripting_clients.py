"""Client libraries that run Lua scripts: redis-py's Script (register_script, reloading after
SCRIPT FLUSH) and Lock (acquire, extend, reacquire, release, a second client waiting), and a
Celery chord whose Redis result backend joins the header's results, against yizhan alone."""

import threading

import pytest
import redis
from redis.exceptions import LockNotOwnedError, NoScriptError


@pytest.fixture
def r(yizhan_server):
    client = redis.Redis(port=yizhan_server.port)
    client.flushall()
    yield client
    client.close()


def test_register_script_runs_and_reloads_after_flush(r):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    assert incr_by(keys=["counter"], args=[2]) == 7
    r.script_flush()
    assert r.script_exists(incr_by.sha) == [False]
    assert incr_by(keys=["counter"], args=[1]) == 8  # NOSCRIPT, then SCRIPT LOAD and again
    with pytest.raises(NoScriptError):
        r.evalsha("0" * 40, 0)
    assert r.eval("return {KEYS[1], ARGV[1], 3}", 1, "k", "a") == [b"k", b"a", 3]


def test_script_in_a_pipeline(r):
    script = r.register_script("return redis.call('lpush', KEYS[1], ARGV[1])")
    with r.pipeline() as pipe:
        script(keys=["l"], args=["a"], client=pipe)
        script(keys=["l"], args=["b"], client=pipe)
        assert pipe.execute() == [1, 2]


def test_lock_acquire_extend_reacquire_release(r):
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource", timeout=10).acquire(blocking=False)
    assert lock.owned()
    assert lock.extend(5)
    assert 10_000 < r.pttl("resource") <= 15_000
    assert lock.extend(3, replace_ttl=True)
    assert r.pttl("resource") <= 3_000
    assert lock.reacquire()
    assert 3_000 < r.pttl("resource") <= 10_000
    lock.release()
    assert not r.exists("resource")
    stolen = r.lock("resource", timeout=10)
    assert stolen.acquire(blocking=False)
    r.set("resource", "someone else")  # the scripts see another token
    with pytest.raises(LockNotOwnedError):
        stolen.extend(5)
    with pytest.raises(LockNotOwnedError):
        stolen.reacquire()
    with pytest.raises(LockNotOwnedError):
        stolen.release()


def test_second_client_waits_for_the_lock(yizhan_server, r):
    first = r.lock("shared", timeout=30)
    assert first.acquire()
    other = redis.Redis(port=yizhan_server.port)
    acquired = threading.Event()
    waiting = threading.Event()

    def contender():
        lock = other.lock("shared", timeout=30, sleep=0.01)
        waiting.set()
        assert lock.acquire(blocking=True, blocking_timeout=30)
        acquired.set()
        lock.release()

    thread = threading.Thread(target=contender)
    thread.start()
    waiting.wait(10)
    assert not acquired.is_set() or not first.owned()
    first.release()
    thread.join(30)
    assert acquired.is_set()
    other.close()


def test_celery_chord_with_the_redis_result_backend(yizhan_server):
    celery = pytest.importorskip("celery", reason="celery is in the test extras")
    from celery.contrib.testing.worker import start_worker

    url = f"redis://127.0.0.1:{yizhan_server.port}/3"
    app = celery.Celery("chords", broker=url, backend=url)
    app.conf.update(task_always_eager=False, result_expires=60, broker_connection_retry_on_startup=True)

    @app.task(name="chords.add")
    def add(x, y):
        return x + y

    @app.task(name="chords.total")
    def total(numbers):
        return sum(numbers)

    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"):
        result = celery.chord(add.s(i, i) for i in range(10))(total.s())
        assert result.get(timeout=60) == 90


def _notifications(port: int, script: str, keys: list[str]) -> tuple[list, int]:
    """The keyspace events a script's writes cause, and how much `dirty` grew."""
    r = redis.Redis(port=port)
    r.config_set("notify-keyspace-events", "KEA")
    sub = r.pubsub()
    sub.psubscribe("__key*__:*")
    assert sub.get_message(timeout=5)["type"] == "psubscribe"
    before = r.info("persistence")["rdb_changes_since_last_save"]
    r.eval(script, len(keys), *keys)
    dirty = r.info("persistence")["rdb_changes_since_last_save"] - before
    events = []
    while (message := sub.get_message(timeout=0.5)) is not None:
        events.append((message["channel"], message["data"]))
    sub.close()
    r.config_set("notify-keyspace-events", "")
    r.close()
    return events, dirty


def test_script_writes_notify_and_count_as_their_commands(both_servers):
    script = ("redis.call('set', KEYS[1], '1') redis.call('incr', KEYS[1]) redis.call('rpush', KEYS[2], 'a') "
              "redis.call('rpush', KEYS[2], 'b') redis.call('lpop', KEYS[2]) redis.call('del', KEYS[1]) redis.call('llen', KEYS[2]) "
              "redis.call('expire', KEYS[2], 100) return redis.call('hset', KEYS[3], 'f', 'v')")
    events, dirty = _notifications(both_servers, script, ["s", "l", "h"])
    assert events == [
        (b"__keyspace@0__:s", b"set"), (b"__keyevent@0__:set", b"s"),
        (b"__keyspace@0__:s", b"incrby"), (b"__keyevent@0__:incrby", b"s"),
        (b"__keyspace@0__:l", b"rpush"), (b"__keyevent@0__:rpush", b"l"),
        (b"__keyspace@0__:l", b"rpush"), (b"__keyevent@0__:rpush", b"l"),
        (b"__keyspace@0__:l", b"lpop"), (b"__keyevent@0__:lpop", b"l"),
        (b"__keyspace@0__:s", b"del"), (b"__keyevent@0__:del", b"s"),
        (b"__keyspace@0__:l", b"expire"), (b"__keyevent@0__:expire", b"l"),
        (b"__keyspace@0__:h", b"hset"), (b"__keyevent@0__:hset", b"h"),
    ]
    assert dirty == 8  # one per command (an RPUSH of two elements would be 2 in Redis, 1 in yizhan)


def test_watch_sees_a_scripts_write(both_servers):
    r = redis.Redis(port=both_servers)
    other = redis.Redis(port=both_servers)
    with r.pipeline() as pipe:
        pipe.watch("watched")
        other.eval("return redis.call('set', KEYS[1], 'x')", 1, "watched")
        pipe.multi()
        pipe.set("watched", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("watched") == b"x"
    r.close()
    other.close()

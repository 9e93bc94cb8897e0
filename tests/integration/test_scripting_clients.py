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

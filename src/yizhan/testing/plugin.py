"""pytest plugin (entry point `pytest11`): fixtures that hand a test a running yizhan.

    def test_something(yizhan_redis):          # a redis-py client on a flushed yizhan
        yizhan_redis.set("k", "v")

`yizhan_server` is shared by the session; `yizhan_redis_url` / `yizhan_amqp_url` are its URLs.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def yizhan_server(tmp_path_factory):
    """A server on free ports with its own empty data directory and no save points, so test
    sessions never share (or leave behind) a dump.rdb."""
    from yizhan import Server

    data_dir = tmp_path_factory.mktemp("yizhan-data")
    with Server(port=0, amqp_port=0, http_port=0, data_dir=str(data_dir), save="") as server:
        yield server


@pytest.fixture(scope="session")
def yizhan_redis_url(yizhan_server) -> str:
    return yizhan_server.redis_url


@pytest.fixture(scope="session")
def yizhan_amqp_url(yizhan_server) -> str:
    return yizhan_server.amqp_url


@pytest.fixture
def yizhan_redis(yizhan_redis_url):
    """A redis-py client connected to the session's yizhan, with every database flushed first."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(yizhan_redis_url)
    client.flushall()
    yield client
    client.close()


# -- test controls (yizhan.testing.control) ------------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "yizhan_fail(error='LOADING', command=None, client=None, count=1, probability=1.0, "
                   "seed=None): the session's yizhan answers the next matching Redis commands of this "
                   "test with `error` (yizhan.testing.control.Controls.fail)")
    config.addinivalue_line(
        "markers", "yizhan_frozen: the session's yizhan clock stands still during this test "
                   "(move it with yizhan_control.advance)")


@pytest.fixture
def yizhan_control(yizhan_server):
    """`yizhan_server.control` for one test: advance/freeze the clock, inject faults, record,
    snapshot. Afterwards every fault is cleared, recording stops and the clock runs again at the
    system's time (a test that moved it leaves no offset behind for the session's next tests)."""
    yield yizhan_server.control
    _reset_controls(yizhan_server)


def _reset_controls(server) -> None:
    control = server.control
    control.clear_faults()
    control.stop_recording()
    control.reset_time()


@pytest.fixture(autouse=True)
def _yizhan_markers(request):
    """The yizhan_fail and yizhan_frozen markers (nothing happens for a test without them)."""
    fail = request.node.get_closest_marker("yizhan_fail")
    frozen = request.node.get_closest_marker("yizhan_frozen")
    if fail is None and frozen is None:
        yield
        return
    server = request.getfixturevalue("yizhan_server")
    if fail is not None:
        server.control.fail(*fail.args, **fail.kwargs)
    if frozen is not None:
        server.control.freeze()
    yield
    _reset_controls(server)


@pytest.fixture
def yizhan_snapshot(yizhan_server):
    """The whole state as the test found it comes back after the test (snapshot/restore)."""
    yizhan_server.snapshot("pytest")
    yield yizhan_server
    yizhan_server.restore("pytest")
    yizhan_server.control.drop_snapshot("pytest")


@pytest.fixture
def yizhan_redis_db(yizhan_server):
    """A redis-py client on a Redis database of its own (emptied; another test gets another)."""
    redis = pytest.importorskip("redis")
    index = yizhan_server.control.new_database()
    client = redis.Redis(host=yizhan_server.host, port=yizhan_server.port, db=index)
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def yizhan_vhost_url(yizhan_server) -> str:
    """An AMQP URL on a vhost of this test's own (fresh, guest may use it), so queue and
    exchange names never collide between tests."""
    vhost = yizhan_server.control.new_vhost()
    return f"amqp://guest:guest@{yizhan_server.host}:{yizhan_server.amqp_port}/{vhost}"

"""Shared fixtures: the real redis-server as the reference (never skipped: a missing reference is
a failure, so CI cannot pass without it) and the differential runner."""

from __future__ import annotations

import pytest

from yizhan.testing.differential import Differential
from yizhan.testing.reference import RedisReference


@pytest.fixture(scope="session")
def reference_redis():
    with RedisReference() as ref:
        yield ref


@pytest.fixture(scope="session")
def differential(yizhan_server, reference_redis) -> Differential:
    return Differential(yizhan_server.port, reference_redis.port)


@pytest.fixture(scope="session")
def debug_servers(tmp_path_factory) -> dict:
    """Ports of a yizhan and a redis-server that allow DEBUG and MODULE LOAD/UNLOAD
    (`enable-debug-command local`, `enable-module-command local`; the tests connect over
    loopback), as Redis's own test suite runs its servers. The session's other servers keep the
    defaults, which refuse them."""
    from yizhan import Server

    data_dir = tmp_path_factory.mktemp("yizhan-debug")
    with RedisReference("redis-server", "--enable-debug-command", "local", "--enable-module-command", "local") as ref, \
            Server(data_dir=str(data_dir), save="", enable_debug_command="local", enable_module_command="local") as ours:
        yield {"yizhan": ours.port, "redis-server": ref.port}


@pytest.fixture(scope="session")
def debug_differential(debug_servers) -> Differential:
    return Differential(debug_servers["yizhan"], debug_servers["redis-server"])


@pytest.fixture
def raw(yizhan_server):
    """A raw-socket RESP client on the session's yizhan."""
    from yizhan.testing.raw import RawClient

    with RawClient("127.0.0.1", yizhan_server.port) as client:
        client.call("FLUSHALL")
        yield client


@pytest.fixture(params=["yizhan", "redis-server"])
def both_servers(request, yizhan_server, reference_redis):
    """A port, once for yizhan and once for the reference: integration tests that take this
    fixture assert the same behaviour of both."""
    port = yizhan_server.port if request.param == "yizhan" else reference_redis.port
    import redis

    redis.Redis(port=port).flushall()
    return port


# -- AMQP: Debian's rabbitmq-server 3.10 is the reference broker ---------------------------------
AMQP_TEST_TIMEOUT = 120  # seconds (pytest-timeout, setup included: the first test starts RabbitMQ); a broker
#                          that never answers a call fails its test instead of stalling the run


def pytest_collection_modifyitems(config, items):
    """Tests on both brokers get a shorter pytest-timeout than the suite's default. Tests marked
    `newer_redis` (they need Redis 7.2/7.4 built outside the tree) run only when `-m` names the
    marker, so CI and a plain `pytest` leave them out."""
    for item in items:
        if "both_brokers" in getattr(item, "fixturenames", ()) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(AMQP_TEST_TIMEOUT))
    if "newer_redis" not in (config.getoption("markexpr") or ""):
        opt_in = [item for item in items if item.get_closest_marker("newer_redis")]
        if opt_in:
            config.hook.pytest_deselected(items=opt_in)
            items[:] = [item for item in items if not item.get_closest_marker("newer_redis")]


@pytest.fixture(scope="session")
def reference_rabbitmq():
    """One private RabbitMQ node for the whole session (it takes seconds to start); never skipped."""
    from yizhan.testing.rabbitmq import RabbitMQReference

    with RabbitMQReference() as ref:
        yield ref


@pytest.fixture(scope="session")
def yizhan_amqp_handshake(yizhan_server):
    """None if yizhan's AMQP port completes a pika handshake, else why not (asked once, so a
    broker that does not answer fails each test at once instead of after a timeout)."""
    from yizhan.testing.amqp import connect

    try:
        connect(yizhan_server.amqp_url).close()
    except Exception as exc:  # reported by every test that needs it
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=["yizhan", "rabbitmq"])
def both_brokers(request):
    """(name, amqp_url), once for yizhan and once for RabbitMQ: a test that takes this fixture
    asserts RabbitMQ's behaviour of both. The reference starts only if a rabbitmq case runs."""
    if request.param == "yizhan":
        url = request.getfixturevalue("yizhan_server").amqp_url
        failure = request.getfixturevalue("yizhan_amqp_handshake")
        if failure is not None:
            pytest.fail(f"yizhan's AMQP port {url} does not complete a handshake: {failure}")
    else:
        url = request.getfixturevalue("reference_rabbitmq").url
    return request.param, url


@pytest.fixture
def broker(both_brokers):
    """A `yizhan.testing.amqp.Broker` for yizhan and then RabbitMQ; its connections close after."""
    from yizhan.testing.amqp import Broker

    handle = Broker(*both_brokers)
    yield handle
    handle.close_all()


@pytest.fixture
def pool():
    """Threads for a test that blocks some clients while others act."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor

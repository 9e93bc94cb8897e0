"""Queue features driven directly with an injected clock (no sleeping): message TTL from the
head, dead-lettering with the x-death time from the clock, queue expiry without a loop,
drop-head, priorities, policy selection and validation, argument-vs-policy resolution, and the
config file's `amqp-policy`."""

import pytest

from yizhan.amqp import codec
from yizhan.amqp.codec import LONG, LONGSTR, SIGNEDINT, FieldTable
from yizhan.amqp.message import Message
from yizhan.amqp.policies import PolicyError, make_policy, select
from yizhan.amqp.queue_settings import QueueSettings
from yizhan.amqp.timers import Timers
from yizhan.amqp.vhost import VHost
from yizhan.clock import ManualClock
from yizhan.config import ConfigFileError, load_file


@pytest.fixture
def clock():
    return ManualClock(start_ms=1_700_000_000_000)


@pytest.fixture
def vhost(clock):
    return VHost("/", timers=Timers(clock))


def declare(vhost, name, durable=False, **arguments):
    table = FieldTable((k, LONGSTR if isinstance(v, str) else SIGNEDINT,
                        v.encode() if isinstance(v, str) else v) for k, v in arguments.items())
    return vhost.declare_queue(None, name, False, durable, False, False, table)


def message(body: bytes, expiration: int | None = None, priority: int | None = None) -> Message:
    props = codec.Properties(expiration=str(expiration).encode() if expiration is not None else None,
                             priority=priority)
    msg = Message("", "k", codec.encode_properties(props), body)
    msg.expiration = expiration
    return msg


def bodies(queue):
    out = []
    while (entry := queue.get()) is not None:
        out.append(entry.message.body)
    return out


def test_queue_ttl_expires_from_the_head_on_the_clock(vhost, clock):
    q = declare(vhost, "q", **{"x-message-ttl": 100})
    q.publish(message(b"a"))
    clock.advance(60)
    q.publish(message(b"b"))
    clock.advance(40)
    assert q.message_count == 1
    clock.advance(59)
    assert q.message_count == 1
    clock.advance(1)
    assert q.message_count == 0


def test_a_long_lived_head_shields_expired_messages(vhost, clock):
    q = declare(vhost, "q")
    q.publish(message(b"live"))
    q.publish(message(b"brief", expiration=10))
    clock.advance(50)
    assert q.message_count == 2
    entry = q.get()
    assert entry.message.body == b"live" and q.message_count == 0


def test_dead_letter_time_comes_from_the_clock(vhost, clock):
    dead = declare(vhost, "dead")
    src = declare(vhost, "src", **{"x-message-ttl": 5, "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": "dead"})
    src.publish(message(b"m", expiration=1000))
    clock.advance(5)
    assert src.message_count == 0
    entry = dead.get()
    headers = entry.message.headers()
    (kind, deaths), = [(k, v) for key, k, v in headers if key == "x-death"]
    table = deaths[0][1]
    assert table.lookup("time") == (codec.TIMESTAMP, 1_700_000_000)
    assert table.lookup("count") == (LONG, 1)
    assert table.lookup("original-expiration") == (LONGSTR, b"1000")
    assert entry.message.expiration is None and entry.message.properties().expiration is None


def test_drop_head_and_priorities(vhost):
    q = declare(vhost, "q", **{"x-max-priority": 3, "x-max-length": 3})
    for body, priority in [(b"l1", 0), (b"h1", 3), (b"l2", None), (b"h2", 9)]:
        q.publish(message(body, priority=priority))
    assert bodies(q) == [b"h2", b"l1", b"l2"]


def test_queue_expiry_without_a_loop_is_lazy_and_harmless(vhost):
    q = declare(vhost, "q", **{"x-expires": 10})
    assert q.expiry_timer is None and "q" in vhost.queues


def test_policy_selection(vhost):
    low = make_policy("/", "low", "^a", {"max-length": 1}, 1)
    high = make_policy("/", "high", "^ab", {"message-ttl": 5}, 2)
    exchanges = make_policy("/", "x", "^abc", {"max-length": 9}, 10, "exchanges")
    assert select([low, high, exchanges], "abc") is high
    assert select([low, high, exchanges], "ax") is low
    assert select([low, high, exchanges], "b") is None
    vhost.set_policy(high)
    q = declare(vhost, "abq")
    assert q.settings.message_ttl == 5 and q.settings.max_length is None


@pytest.mark.parametrize("definition, text", [
    ({"message-ttl": -1}, "-1 is not a valid message TTL"),
    ({"expires": 0}, "0 is not a valid queue expiry"),
    ({"foo": 1}, '[{<<"foo">>,1}] are not recognised policy settings'),
    ({"overflow": "x"}, '<<"x">> is not a valid overflow value'),
])
def test_policy_validation_texts(definition, text):
    with pytest.raises(PolicyError) as failure:
        make_policy("/", "p", ".*", definition)
    assert str(failure.value) == text


def test_argument_and_policy_resolution():
    args = FieldTable([("x-max-length", SIGNEDINT, 10), ("x-message-ttl", SIGNEDINT, 100),
                       ("x-dead-letter-exchange", LONGSTR, b"mine"),
                       ("x-overflow", LONGSTR, b"reject-publish")])
    settings = QueueSettings.of(args, {"max-length": 5, "message-ttl": 1000,
                                       "dead-letter-exchange": "theirs", "overflow": "drop-head",
                                       "expires": 50})
    assert (settings.max_length, settings.message_ttl, settings.dlx, settings.overflow,
            settings.expires) == (5, 100, "mine", "reject-publish", 50)
    assert QueueSettings.of(FieldTable(), None) is None


def test_config_file_policies(tmp_path):
    path = tmp_path / "yizhan.conf"
    path.write_text("amqp-policy / ttl '^t\\.' '{\"message-ttl\": 5}' priority 3 apply-to queues\n")
    (record,) = load_file(path).amqp_policies
    assert record == {"vhost": "/", "name": "ttl", "pattern": "^t\\.", "apply-to": "queues",
                      "definition": {"message-ttl": 5}, "priority": 3}
    path.write_text("amqp-policy / bad '.*' '{\"expires\": 0}'\n")
    with pytest.raises(ConfigFileError) as failure:
        load_file(path)
    assert str(failure.value).endswith("policy 'bad': 0 is not a valid queue expiry")


def test_limits_and_dead_letters_over_paged_transient_messages(tmp_path, clock):
    """A durable length-limited queue beyond the page limit (its transient messages paged as
    T records): drop-head reaches into paged runs in order, byte counts stay right, and dead
    letters keep arrival order."""
    from yizhan.amqp.store import DiskStore

    store = DiskStore(str(tmp_path))
    store.messages.load()  # what boot does: the segments and the definitions log are open
    store.definitions.load()
    store.page_limit = 4
    vhost = VHost("/", store, Timers(clock))
    dead = declare(vhost, "dead")
    q = declare(vhost, "q", durable=True, **{"x-max-length-bytes": 100, "x-dead-letter-exchange": "",
                               "x-dead-letter-routing-key": "dead"})
    for i in range(20):
        q.publish(message(b"m%09d" % i))
    assert q.paged and q.ready_bytes == 100
    assert bodies(q) == [b"m%09d" % i for i in range(10, 20)]
    assert bodies(dead) == [b"m%09d" % i for i in range(10)]
    assert q.ready_bytes == 0
    store.close()

"""Policies as RabbitMQ 3.10 applies them: the same policies set on RabbitMQ (rabbitmqctl
set_policy) and on a yizhan started with them in its config file (`amqp-policy`), then the
same scenarios on both: pattern and apply-to matching, the highest priority winning alone,
numeric limits taking the lower of argument and policy, other keys the argument's value,
dead-lettering, queue expiry and the quorum delivery limit from a policy."""

import json
import time

import pika
import pytest

from yizhan.testing.amqp import connect, publish_confirmed, queue_counts, unique, wait_until
from yizhan.testing.process import ServerProcess

P = pika.BasicProperties
POLICIES = [  # name, pattern, definition, priority, apply-to
    ("pol-ttl", r"^pttl\.", {"message-ttl": 50}, 0, "queues"),
    ("pol-len", r"^plen\.", {"max-length": 2}, 0, "all"),
    ("pol-hi", r"^pboth\.", {"max-length": 1}, 5, "all"),
    ("pol-lo", r"^pboth", {"message-ttl": 50, "max-length": 10}, 1, "all"),
    ("pol-dlx", r"^pdlx\.", {"dead-letter-exchange": "", "dead-letter-routing-key": "pdead"}, 0,
     "queues"),
    ("pol-exp", r"^pexp\.", {"expires": 100}, 0, "queues"),
    ("pol-xonly", r"^pxonly\.", {"max-length": 1}, 0, "exchanges"),
    ("pol-dl", r"^pdl\.", {"delivery-limit": 0}, 0, "queues"),
    ("pol-over", r"^pover\.", {"max-length": 1, "overflow": "reject-publish"}, 0, "queues"),
]


@pytest.fixture(scope="module")
def policy_yizhan(tmp_path_factory):
    base = tmp_path_factory.mktemp("policies")
    config = base / "yizhan.conf"
    lines = [f"amqp-policy / {name} '{pattern}' '{json.dumps(definition)}' priority {priority} "
             f"apply-to {apply_to}" for name, pattern, definition, priority, apply_to in POLICIES]
    config.write_text("\n".join(lines) + "\n")
    server = ServerProcess(base / "data", base / "log.txt", "--config", str(config))
    yield f"amqp://guest:guest@127.0.0.1:{server.amqp_port}/%2F"
    server.stop()


@pytest.fixture(scope="module")
def policy_rabbitmq(reference_rabbitmq):
    for name, pattern, definition, priority, apply_to in POLICIES:
        reference_rabbitmq.ctl("set_policy", "--priority", str(priority), "--apply-to", apply_to,
                               name, pattern, json.dumps(definition))
    yield reference_rabbitmq.url
    for name, *_ in POLICIES:
        reference_rabbitmq.ctl("clear_policy", name)


@pytest.fixture(params=["yizhan", "rabbitmq"])
def conn(request):
    url = request.getfixturevalue("policy_yizhan" if request.param == "yizhan"
                                  else "policy_rabbitmq")
    connection = connect(url)
    yield connection
    if connection.is_open:
        connection.close()


def bodies(ch, q):
    out = []
    while True:
        method, _, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return out
        out.append(body)


def declare(ch, prefix, **arguments):
    return ch.queue_declare(unique(prefix), exclusive=True, arguments=arguments or None).method.queue


def test_message_ttl_from_a_policy(conn):
    ch = conn.channel()
    q, other = declare(ch, "pttl."), declare(ch, "xpttl.")
    for queue in (q, other):
        publish_confirmed(conn, "", queue, [b"m"])
    time.sleep(0.15)
    assert (queue_counts(ch, q)[0], queue_counts(ch, other)[0]) == (0, 1)


def test_lower_of_argument_and_policy_limits(conn):
    ch = conn.channel()
    by_policy = declare(ch, "plen.")
    looser_arg = declare(ch, "plen.", **{"x-max-length": 5})
    stricter_arg = declare(ch, "plen.", **{"x-max-length": 1})
    for queue in (by_policy, looser_arg, stricter_arg):
        publish_confirmed(conn, "", queue, [b"1", b"2", b"3"])
    assert [bodies(ch, q) for q in (by_policy, looser_arg, stricter_arg)] == [
        [b"2", b"3"], [b"2", b"3"], [b"3"]]


def test_only_the_highest_priority_policy_applies(conn):
    ch = conn.channel()
    q = declare(ch, "pboth.")
    lo = declare(ch, "pbothx")
    publish_confirmed(conn, "", q, [b"1", b"2"])
    publish_confirmed(conn, "", lo, [b"1", b"2"])
    time.sleep(0.15)
    assert bodies(ch, q) == [b"2"]   # max-length 1, and no TTL from the lower policy
    assert bodies(ch, lo) == []      # the lower one alone: TTL 50 ms


def test_apply_to_exchanges_leaves_queues_alone(conn):
    ch = conn.channel()
    q = declare(ch, "pxonly.")
    publish_confirmed(conn, "", q, [b"1", b"2"])
    assert queue_counts(ch, q)[0] == 2


def test_dead_lettering_from_a_policy_and_the_argument_winning(conn):
    ch = conn.channel()
    ch.queue_declare("pdead")
    ch.queue_purge("pdead")
    by_policy = declare(ch, "pdlx.")
    by_argument = declare(ch, "pdlx.", **{"x-dead-letter-exchange": unique("missing")})
    for queue in (by_policy, by_argument):
        publish_confirmed(conn, "", queue, [b"m"])
        method, _, _ = ch.basic_get(queue)
        ch.basic_reject(method.delivery_tag, requeue=False)
    wait_until(conn, lambda: queue_counts(ch, "pdead")[0] == 1, "the dead letter")
    method, props, body = ch.basic_get("pdead", auto_ack=True)
    assert props.headers["x-death"][0]["queue"] == by_policy
    conn.process_data_events(time_limit=0.1)
    assert queue_counts(ch, "pdead")[0] == 0
    ch.queue_delete("pdead")


def test_reject_publish_from_a_policy(conn):
    ch = conn.channel()
    q = declare(ch, "pover.")
    ch.confirm_delivery()
    ch.basic_publish("", q, b"1")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"2")


def test_queue_expiry_from_a_policy(conn):
    ch = conn.channel()
    q = unique("pexp.")
    ch.queue_declare(q)

    def gone():
        probe = conn.channel()
        try:
            probe.queue_purge(q)
        except pika.exceptions.ChannelClosedByBroker as exc:
            return exc.reply_code == 404
        probe.close()
        time.sleep(0.05)
        return False

    wait_until(conn, gone, "the queue to expire")


def test_delivery_limit_from_a_policy(conn):
    ch = conn.channel()
    q = unique("pdl.")
    ch.queue_declare(q, durable=True, arguments={"x-queue-type": "quorum"})
    try:
        publish_confirmed(conn, "", q, [b"m"])
        method, props, _ = ch.basic_get(q)
        assert props.headers["x-delivery-count"] == 0
        ch.basic_nack(method.delivery_tag, requeue=True)
        time.sleep(0.1)
        assert queue_counts(ch, q)[0] == 0
    finally:
        ch.queue_delete(q)

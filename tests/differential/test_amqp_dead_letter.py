"""Dead-lettering as RabbitMQ 3.10 does it (rabbit_dead_letter): rejected, nacked, expired and
dropped messages republished to the queue's dead-letter exchange with the `x-death` header
(checked with its field types and order), `x-first-death-*`, counts that grow per queue and
reason, the expiration removed, CC/BCC and dead-letter routing keys, cycle detection and a
missing dead-letter exchange."""

import time

import pika

from yizhan.amqp.codec import ARRAY, LONG, LONGSTR, TABLE, TIMESTAMP
from yizhan.testing.amqp import publish_confirmed, queue_counts, unique, wait_until
from yizhan.testing.amqp_messages import normalized, raw_get

P = pika.BasicProperties


def declare(ch, name, **arguments):
    """A shared queue (raw readers on other connections use it) that deletes itself a minute
    after the test stops using it."""
    arguments.setdefault("x-expires", 60000)
    return ch.queue_declare(name, arguments=arguments).method.queue


def get_raw_until(broker, queue, what="a dead-lettered message"):
    raw = broker.raw()
    deadline = time.monotonic() + 10
    while True:
        got = raw_get(raw, queue)
        if got is not None:
            return got
        assert time.monotonic() < deadline, f"waited for {what} in {queue}"
        time.sleep(0.02)


def x_death_entry(count, reason, queue, exchange, keys, expiration=None):
    entry = [("count", LONG, count), ("reason", LONGSTR, reason), ("queue", LONGSTR, queue),
             ("time", TIMESTAMP, "T"), ("exchange", LONGSTR, exchange),
             ("routing-keys", ARRAY, [(LONGSTR, k) for k in keys])]
    if expiration is not None:
        entry.append(("original-expiration", LONGSTR, expiration))
    return entry


def test_reject_without_requeue_dead_letters_with_x_death(broker):
    ch = broker.channel()
    dead, src = unique("dead"), unique("src")
    declare(ch, dead)
    declare(ch, src, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead})
    publish_confirmed(ch.connection, "", src, [b"body"],
                      P(delivery_mode=2, expiration="60000", headers={"h": "v"},
                        content_type="text/plain"))
    method, _, _ = ch.basic_get(src)
    ch.basic_reject(method.delivery_tag, requeue=False)
    body, props, exchange, key, redelivered, count = get_raw_until(broker, dead)
    names = {dead: "DEAD", src: "SRC"}
    assert (body, exchange, key, redelivered, count) == (b"body", "", dead, False, 0)
    assert props.expiration is None and props.delivery_mode == 2
    assert props.content_type == b"text/plain"
    assert normalized(props.headers, names) == [
        ("h", LONGSTR, "v"),
        ("x-death", ARRAY, [(TABLE, x_death_entry(1, "rejected", "SRC", "", ["SRC"], "60000"))]),
        ("x-first-death-exchange", LONGSTR, ""),
        ("x-first-death-queue", LONGSTR, "SRC"),
        ("x-first-death-reason", LONGSTR, "rejected"),
    ]


def test_nack_multiple_dead_letters_in_order(broker):
    ch = broker.channel()
    dead, src = unique("dead"), unique("src")
    declare(ch, dead)
    x = unique("dlx")
    ch.exchange_declare(x, "fanout", auto_delete=True)
    ch.queue_bind(dead, x)
    declare(ch, src, **{"x-dead-letter-exchange": x})
    publish_confirmed(ch.connection, "", src, [b"a", b"b", b"c"])
    tags = [ch.basic_get(src)[0].delivery_tag for _ in range(3)]
    ch.basic_nack(tags[1], multiple=True, requeue=False)
    ch.basic_nack(tags[2], requeue=True)
    wait_until(ch.connection, lambda: queue_counts(ch, dead)[0] == 2, "two dead letters")
    raw = broker.raw()
    first, second = raw_get(raw, dead), raw_get(raw, dead)
    assert (first[0], first[2], first[3]) == (b"a", x, src)
    assert (second[0], second[2], second[3]) == (b"b", x, src)
    assert normalized(first[1].headers, {src: "SRC", x: "X"})[0] == (
        "x-death", ARRAY, [(TABLE, x_death_entry(1, "rejected", "SRC", "", ["SRC"]))])
    assert ch.basic_get(src)[2] == b"c"


def test_counts_grow_per_queue_and_reason_across_cycles(broker):
    """A rejected in q1 -> q2 -> rejected in q2 -> q1 -> rejected in q1 again: the q1 entry's
    count becomes 2 and moves first (its fields sorted), the other entries follow."""
    ch = broker.channel()
    q1, q2 = unique("q1"), unique("q2")
    declare(ch, q1, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2})
    declare(ch, q2, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q1})
    publish_confirmed(ch.connection, "", q1, [b"m"], P(headers={"a": 1}))
    for queue in (q1, q2, q1):
        wait_until(ch.connection, lambda: queue_counts(ch, queue)[0] == 1, f"the message in {queue}")
        method, _, _ = ch.basic_get(queue)
        ch.basic_reject(method.delivery_tag, requeue=False)
    body, props, exchange, key, _, _ = get_raw_until(broker, q2)
    names = {q1: "Q1", q2: "Q2"}
    deaths = normalized(props.headers, names)
    assert deaths == [
        ("a", props.headers.lookup("a")[0], 1),
        ("x-death", ARRAY, [
            (TABLE, [("count", LONG, 2), ("exchange", LONGSTR, ""), ("queue", LONGSTR, "Q1"),
                     ("reason", LONGSTR, "rejected"),
                     ("routing-keys", ARRAY, [(LONGSTR, "Q1")]), ("time", TIMESTAMP, "T")]),
            (TABLE, [("count", LONG, 1), ("exchange", LONGSTR, ""), ("queue", LONGSTR, "Q2"),
                     ("reason", LONGSTR, "rejected"),
                     ("routing-keys", ARRAY, [(LONGSTR, "Q2")]), ("time", TIMESTAMP, "T")]),
        ]),
        ("x-first-death-exchange", LONGSTR, ""),
        ("x-first-death-queue", LONGSTR, "Q1"),
        ("x-first-death-reason", LONGSTR, "rejected"),
    ]


def test_three_queues_order_of_entries(broker):
    """Deaths in q1, q2, q3 then q1 again: 3.10's grouping reverses the other entries."""
    ch = broker.channel()
    q1, q2, q3 = unique("q1"), unique("q2"), unique("q3")
    declare(ch, q1, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2})
    declare(ch, q2, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q3})
    declare(ch, q3, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q1})
    publish_confirmed(ch.connection, "", q1, [b"m"])
    for queue in (q1, q2, q3, q1, q2):
        wait_until(ch.connection, lambda: queue_counts(ch, queue)[0] == 1, f"the message in {queue}")
        method, _, _ = ch.basic_get(queue)
        ch.basic_reject(method.delivery_tag, requeue=False)
    props = get_raw_until(broker, q3)[1]
    deaths = dict((k, v) for k, _, v in normalized(props.headers, {q1: "Q1", q2: "Q2", q3: "Q3"}))[
        "x-death"]
    assert [(dict((k, v) for k, _, v in t)["queue"], dict((k, v) for k, _, v in t)["count"])
            for _, t in deaths] == [("Q2", 2), ("Q3", 1), ("Q1", 2)]


def test_missing_dead_letter_exchange_drops(broker):
    ch = broker.channel()
    src = declare(ch, unique("src"), **{"x-dead-letter-exchange": unique("nowhere")})
    publish_confirmed(ch.connection, "", src, [b"m"])
    method, _, _ = ch.basic_get(src)
    ch.basic_reject(method.delivery_tag, requeue=False)
    assert queue_counts(ch, src) == (0, 0)


def test_cc_routes_and_dead_letter_routing_key(broker):
    """Without a dead-letter routing key the copy is routed with every original key (CC ones
    too); with one, by that key alone and the CC header is dropped."""
    ch = broker.channel()
    x = unique("x")
    ch.exchange_declare(x, "direct", auto_delete=True)
    a, b, c = (declare(ch, unique(n)) for n in ("a", "b", "c"))
    ch.queue_bind(a, x, "ka")
    ch.queue_bind(b, x, "kb")
    ch.queue_bind(c, x, "kc")
    plain = declare(ch, unique("plain"), **{"x-dead-letter-exchange": x})
    keyed = declare(ch, unique("keyed"), **{"x-dead-letter-exchange": x,
                                            "x-dead-letter-routing-key": "kc"})
    for queue in (plain, keyed):
        ch.queue_bind(queue, "amq.direct", "ka")
    publish_confirmed(ch.connection, "amq.direct", "ka", [b"m"], P(headers={"CC": ["kb"]}))
    for queue in (plain, keyed):
        method, _, _ = ch.basic_get(queue)
        ch.basic_reject(method.delivery_tag, requeue=False)
    wait_until(ch.connection, lambda: queue_counts(ch, c)[0] == 1, "the keyed copy")
    names = {plain: "PLAIN", keyed: "KEYED", x: "X"}
    raw = broker.raw()
    got_a, got_b, got_c = raw_get(raw, a), raw_get(raw, b), raw_get(raw, c)
    assert (got_a[2], got_a[3]) == (x, "ka") and (got_b[2], got_b[3]) == (x, "ka")
    assert normalized(got_a[1].headers, names) == normalized(got_b[1].headers, names)
    assert normalized(got_a[1].headers, names)[0] == ("CC", ARRAY, [(LONGSTR, "kb")])
    assert normalized(got_a[1].headers, names)[1][2][0][1][5] == (
        "routing-keys", ARRAY, [(LONGSTR, "ka"), (LONGSTR, "kb")])
    assert (got_c[2], got_c[3]) == (x, "kc")
    assert [k for k, _, _ in got_c[1].headers] == [
        "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason"]
    assert raw_get(raw, a) is None and raw_get(raw, b) is None


def test_expired_message_dead_letters_with_original_expiration(broker):
    ch = broker.channel()
    dead, src = unique("dead"), unique("src")
    declare(ch, dead)
    declare(ch, src, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead})
    publish_confirmed(ch.connection, "", src, [b"m"], P(expiration="20", delivery_mode=2))
    body, props, exchange, key, _, _ = get_raw_until(broker, dead)
    assert props.expiration is None and props.delivery_mode == 2
    assert normalized(props.headers, {src: "SRC", dead: "DEAD"})[0] == (
        "x-death", ARRAY, [(TABLE, x_death_entry(1, "expired", "SRC", "", ["SRC"], "20"))])
    assert queue_counts(ch, src) == (0, 0)


def test_queue_ttl_dead_letters_with_reason_expired(broker):
    ch = broker.channel()
    dead, src = unique("dead"), unique("src")
    declare(ch, dead)
    declare(ch, src, **{"x-message-ttl": 20, "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": dead})
    publish_confirmed(ch.connection, "", src, [b"m1", b"m2"])
    first = get_raw_until(broker, dead)
    assert normalized(first[1].headers, {src: "SRC"})[0] == (
        "x-death", ARRAY, [(TABLE, x_death_entry(1, "expired", "SRC", "", ["SRC"]))])
    wait_until(ch.connection, lambda: queue_counts(ch, dead)[0] == 1, "the second dead letter")


def test_expiry_cycle_back_into_the_same_queue_is_dropped(broker):
    """A queue whose expired messages are dead-lettered back into itself: the copy would die
    in a fully automatic cycle, so it is dropped."""
    ch = broker.channel()
    src = unique("src")
    declare(ch, src, **{"x-message-ttl": 10, "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": src})
    publish_confirmed(ch.connection, "", src, [b"m"])
    time.sleep(0.1)
    assert queue_counts(ch, src) == (0, 0)


def test_reject_cycle_is_allowed(broker):
    """Rejected messages may come back to the queue they died in (a client is in the loop)."""
    ch = broker.channel()
    src = unique("src")
    declare(ch, src, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": src})
    publish_confirmed(ch.connection, "", src, [b"m"])
    for expected in (1, 2, 3):
        wait_until(ch.connection, lambda: queue_counts(ch, src)[0] == 1, "the message back")
        method, props, _ = ch.basic_get(src)
        if expected > 1:
            assert props.headers["x-death"][0]["count"] == expected - 1
        ch.basic_reject(method.delivery_tag, requeue=False)


def test_expired_after_a_rejection_comes_back(broker):
    """q1 (rejected) -> q2 (TTL) -> expires back into q1: the cycle contains a rejection, so the
    message arrives in q1; expiring in q2 again with no rejection in between drops it."""
    ch = broker.channel()
    q1, q2 = unique("q1"), unique("q2")
    declare(ch, q1, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q2})
    declare(ch, q2, **{"x-message-ttl": 10, "x-dead-letter-exchange": "",
                       "x-dead-letter-routing-key": q1})
    publish_confirmed(ch.connection, "", q1, [b"m"])
    method, _, _ = ch.basic_get(q1)
    ch.basic_reject(method.delivery_tag, requeue=False)
    wait_until(ch.connection, lambda: queue_counts(ch, q1)[0] == 1, "the message back in q1")
    method, props, _ = ch.basic_get(q1, auto_ack=True)
    assert [(d["queue"], d["reason"], d["count"]) for d in props.headers["x-death"]] == [
        (q2, "expired", 1), (q1, "rejected", 1)]

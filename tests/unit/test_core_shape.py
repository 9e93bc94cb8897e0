"""The API shape both protocol cores share: `receive(data)`, then `data_to_send()`; output that
no `receive` call made (a pub/sub message, a served blocked command, an AMQP delivery caused by
another connection) wakes the transport once through `on_wakeup`, and waits in order until
`data_to_send()` takes it."""

from __future__ import annotations

from pamqp import commands as C

from yizhan.amqp.broker import Broker
from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client, RedisConnection
from yizhan.testing.core import exchange, request
from yizhan.testing.raw import encode_command
from test_amqp_helpers import Wire, messages, name, parse


class Wakeups:
    """An `on_wakeup` that counts its calls."""

    def __init__(self):
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def _connection(server: RedisInstance) -> tuple[RedisConnection, Wakeups]:
    client = Client(server)
    server.register(client)
    conn = RedisConnection(client)
    conn.on_wakeup = wakeups = Wakeups()
    return conn, wakeups


def test_replies_wait_for_data_to_send_without_a_wakeup():
    conn, wakeups = _connection(RedisInstance(clock=ManualClock()))
    conn.receive(encode_command(["SET", "k", "v"]) + encode_command(["GET", "k"]))
    assert wakeups.count == 0  # the transport collects after receive by itself
    assert conn.data_to_send() == b"+OK\r\n$1\r\nv\r\n"
    assert conn.data_to_send() == b""


def test_a_message_wakes_the_subscriber_once():
    server = RedisInstance(clock=ManualClock())
    sub, wakeups = _connection(server)
    pub, _ = _connection(server)
    assert request(sub, ["SUBSCRIBE", "ch"]) == b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    assert request(pub, ["PUBLISH", "ch", "a"], ["PUBLISH", "ch", "b"]) == b":1\r\n:1\r\n"
    assert wakeups.count == 1  # the second message joins the first
    assert sub.data_to_send() == (b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\na\r\n"
                                  b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nb\r\n")
    request(pub, ["PUBLISH", "ch", "c"])
    assert wakeups.count == 2


def test_a_served_blocked_client_wakes_and_goes_on_with_its_pipeline():
    server = RedisInstance(clock=ManualClock())
    waiter, wakeups = _connection(server)
    pusher, _ = _connection(server)
    assert exchange(waiter, encode_command(["BLPOP", "l", "0"]) + encode_command(["PING"])) == b""
    assert request(pusher, ["RPUSH", "l", "x"]) == b":1\r\n"
    assert wakeups.count == 1
    server.scheduler.run_soon()  # the served client goes on with PING in a later turn
    assert waiter.data_to_send() == b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n+PONG\r\n"


def test_quit_after_a_served_blocked_command_closes_after_the_replies():
    server = RedisInstance(clock=ManualClock())
    waiter, wakeups = _connection(server)
    pusher, _ = _connection(server)
    assert exchange(waiter, encode_command(["BLPOP", "l", "0"]) + encode_command(["QUIT"])) == b""
    request(pusher, ["RPUSH", "l", "x"])
    server.scheduler.run_soon()
    assert waiter.close_after == 0.0
    assert waiter.data_to_send() == b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n+OK\r\n"


def test_a_lost_connection_runs_nothing_more():
    server = RedisInstance(clock=ManualClock())
    waiter, wakeups = _connection(server)
    pusher, _ = _connection(server)
    exchange(waiter, encode_command(["BLPOP", "l", "0"]) + encode_command(["SET", "late", "1"]))
    request(pusher, ["RPUSH", "l", "x"])
    waiter.connection_lost()  # before the scheduled resume runs
    server.scheduler.run_soon()
    assert request(pusher, ["EXISTS", "late"]) == b":0\r\n"
    assert waiter.data_to_send() == b"" and waiter.client.id not in server.clients


def test_an_amqp_delivery_caused_by_another_connection_wakes_the_consumer_once():
    broker = Broker()
    consumer, publisher = Wire(broker), Wire(broker)
    consumer.open(1)
    publisher.open(1)
    consumer.send(C.Queue.Declare(queue="q"), 1)
    assert name(consumer.send(C.Basic.Consume(queue="q", no_ack=True), 1)[0][1]) == "Basic.ConsumeOk"
    consumer.conn.on_wakeup = wakeups = Wakeups()
    publisher.publish(1, b"a")
    publisher.publish(1, b"b")
    assert wakeups.count == 1
    assert [body for _, _, body in messages(parse(consumer.conn.data_to_send()))] == [b"a", b"b"]
    publisher.publish(1, b"c")
    assert wakeups.count == 2


def test_amqp_replies_to_receive_wake_nothing():
    wire = Wire()
    wire.conn.on_wakeup = wakeups = Wakeups()
    assert name(wire.send(C.Channel.Open(), 1)[0][1]) == "Channel.OpenOk"
    assert wakeups.count == 0

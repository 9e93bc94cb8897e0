"""Helpers for the road from yizhan to a real RabbitMQ (tests/integration/test_rabbitmq_road*.py):
RabbitMQ's management HTTP API as the operator drives it (`Management`: runtime parameters such
as dynamic shovels and federation upstreams, policies, definitions), publishers that keep
publishing numbered messages with confirms while the road is travelled (`Publisher`, which can
be moved from one broker to another mid-run), and draining a queue to read what arrived.

A message body is `<publisher>:<sequence>:` padded to the message size, so every message can be
told apart and a test can check that each confirmed message arrived exactly once, in order.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pika

from yizhan.testing.amqp import connect
from yizhan.testing.wait import wait_for

ROAD_PLUGINS = ("rabbitmq_shovel", "rabbitmq_shovel_management", "rabbitmq_federation",
                "rabbitmq_federation_management")


# -- RabbitMQ's management API ----------------------------------------------------------------
class Management:
    """The management HTTP API of a broker on 127.0.0.1:`port` as `user`."""

    def __init__(self, port: int, user: str = "guest", password: str = "guest"):
        self.base = f"http://127.0.0.1:{port}/api"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None):
        """(status, decoded JSON or None); HTTP errors are returned, not raised."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                status, text = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, (json.loads(text) if text.strip() else None)

    def ok(self, method: str, path: str, body=None):
        status, reply = self.call(method, path, body)
        if status >= 300:
            raise AssertionError(f"{method} {path} answered {status}: {reply}")
        return reply

    def set_parameter(self, component: str, vhost: str, name: str, value: dict) -> None:
        self.ok("PUT", f"/parameters/{component}/{quote(vhost)}/{quote(name)}", {"value": value})

    def parameter_exists(self, component: str, vhost: str, name: str) -> bool:
        status, _ = self.call("GET", f"/parameters/{component}/{quote(vhost)}/{quote(name)}")
        return status == 200

    def delete_parameter(self, component: str, vhost: str, name: str) -> None:
        self.ok("DELETE", f"/parameters/{component}/{quote(vhost)}/{quote(name)}")

    def set_policy(self, vhost: str, name: str, pattern: str, definition: dict,
                   apply_to: str = "all", priority: int = 0) -> None:
        self.ok("PUT", f"/policies/{quote(vhost)}/{quote(name)}",
                {"pattern": pattern, "definition": definition, "apply-to": apply_to,
                 "priority": priority})

    def shovels(self) -> list[dict]:
        return self.ok("GET", "/shovels")

    def federation_links(self) -> list[dict]:
        return self.ok("GET", "/federation-links")

    def queue(self, vhost: str, name: str) -> dict | None:
        status, reply = self.call("GET", f"/queues/{quote(vhost)}/{quote(name)}")
        return reply if status == 200 else None

    def import_definitions(self, definitions: dict) -> None:
        self.ok("POST", "/definitions", definitions)

    def export_definitions(self) -> dict:
        return self.ok("GET", "/definitions")


def comparable(definitions: dict) -> dict:
    """The part of a definitions.json both brokers must agree on after an import: users with
    their password hashes, vhost names, permissions, policies, durable exchanges (RabbitMQ's
    export leaves internal ones out and has no `internal` field), durable queues (RabbitMQ's
    adds their `type`) and bindings, each list in one canonical order."""
    def canon(items):
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    return {
        "users": canon(definitions["users"]),
        "vhosts": sorted(v["name"] for v in definitions["vhosts"]),
        "permissions": canon(definitions["permissions"]),
        "policies": canon(definitions["policies"]),
        "exchanges": canon({**x, "internal": False} for x in definitions["exchanges"]
                           if x["durable"] and not x.get("internal")),
        "queues": canon({k: v for k, v in q.items() if k != "type"}
                        for q in definitions["queues"] if q["durable"]),
        "bindings": canon(definitions["bindings"]),
    }


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def shovel_definition(src_uri: str, src_queue: str, dest_uri: str, dest_queue: str,
                      delete_after="never", prefetch: int = 1000) -> dict:
    """A dynamic shovel (amqp091 both sides) that acks the source only once the destination
    confirmed (`ack-mode: on-confirm`), so a message is never lost between the two brokers."""
    return {"src-protocol": "amqp091", "src-uri": src_uri, "src-queue": src_queue,
            "dest-protocol": "amqp091", "dest-uri": dest_uri, "dest-queue": dest_queue,
            "ack-mode": "on-confirm", "src-delete-after": delete_after,
            "src-prefetch-count": prefetch}


# -- messages ----------------------------------------------------------------------------------
def body_for(publisher: str, sequence: int, size: int) -> bytes:
    head = f"{publisher}:{sequence}:".encode()
    return head + b"x" * max(0, size - len(head))


def message_id(body: bytes) -> tuple[str, int]:
    publisher, sequence, _ = body.split(b":", 2)
    return publisher.decode(), int(sequence)


PERSISTENT = pika.BasicProperties(delivery_mode=2)


def prefill(url: str, exchange: str, routing_key: str, publisher: str, count: int,
            size: int) -> list[tuple[str, int]]:
    """Publish `count` persistent messages (in one transaction per 1,000, so they are all
    routed when this returns); their ids in order."""
    ids = []
    with connect(url) as connection:
        channel = connection.channel()
        channel.tx_select()
        for sequence in range(count):
            channel.basic_publish(exchange, routing_key, body_for(publisher, sequence, size),
                                  PERSISTENT)
            ids.append((publisher, sequence))
            if sequence % 1000 == 999:
                channel.tx_commit()
        channel.tx_commit()
    return ids


class Publisher(threading.Thread):
    """Publishes numbered persistent messages to `exchange`/`routing_key` with publisher
    confirms, one at a time, until `stop()`. `confirmed` lists the ids the broker confirmed, in
    publishing order. `move_to(url)` makes it finish the message in hand and continue on another
    broker (as a client moved during a migration); `first_sequence` numbers after a prefill."""

    def __init__(self, name: str, url: str, exchange: str, routing_key: str, size: int = 1024,
                 first_sequence: int = 0):
        super().__init__(name=f"publisher-{name}", daemon=True)
        self.publisher = name
        self.url = url
        self.exchange = exchange
        self.routing_key = routing_key
        self.size = size
        self.sequence = first_sequence
        self.confirmed: list[tuple[str, int]] = []
        self.moves: list[tuple[str, int]] = []   # (url, number confirmed before the move)
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._target = url

    def move_to(self, url: str) -> None:
        self._target = url

    def stop(self) -> list[tuple[str, int]]:
        self._stopping.set()
        self.join(timeout=60)
        if self.error is not None:
            raise AssertionError(f"{self.name} failed: {self.error!r}") from self.error
        return self.confirmed

    def confirmed_before_move(self) -> list[tuple[str, int]]:
        """The ids confirmed by the broker it started on (all of them if it never moved)."""
        return self.confirmed[:self.moves[0][1]] if self.moves else list(self.confirmed)

    def wait_confirmed(self, count: int, timeout: float = 60.0) -> None:
        wait_for(lambda: len(self.confirmed) >= count or self.error is not None,
                 f"{self.name} to have {count} confirmed", timeout)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.url = self._target
                self._publish_until_moved()
        except BaseException as exc:   # reported by stop()
            self.error = exc

    def _publish_until_moved(self) -> None:
        with connect(self.url) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            while not self._stopping.is_set() and self._target == self.url:
                body = body_for(self.publisher, self.sequence, self.size)
                channel.basic_publish(self.exchange, self.routing_key, body, PERSISTENT,
                                      mandatory=True)
                self.confirmed.append((self.publisher, self.sequence))
                self.sequence += 1
        if not self._stopping.is_set():
            self.moves.append((self._target, len(self.confirmed)))


class Consumer(threading.Thread):
    """Consumes `queue` with manual acks until `stop()`; `received` lists the ids it acked, in
    delivery order (a message counts once its ack is sent, so one delivered but not acked when
    the consumer stops goes back to the queue and is not counted here)."""

    def __init__(self, name: str, url: str, queue: str, prefetch: int = 500):
        super().__init__(name=f"consumer-{name}", daemon=True)
        self.url = url
        self.queue = queue
        self.prefetch = prefetch
        self.received: list[tuple[str, int]] = []
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            with connect(self.url) as connection:
                channel = connection.channel()
                channel.basic_qos(prefetch_count=self.prefetch)
                channel.basic_consume(self.queue, self._on_message)
                self.ready.set()
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=0.05)
                channel.close()   # what it holds unacked goes back to the queue
        except BaseException as exc:   # reported by stop()
            self.error = exc
            self.ready.set()

    def _on_message(self, channel, method, properties, body) -> None:
        if self._stopping.is_set():
            return   # not acked: requeued when the channel closes
        channel.basic_ack(method.delivery_tag)
        self.received.append(message_id(body))

    def start(self) -> "Consumer":
        super().start()
        self.ready.wait(30)
        return self

    def stop(self) -> list[tuple[str, int]]:
        self._stopping.set()
        self.join(timeout=60)
        if self.error is not None:
            raise AssertionError(f"{self.name} failed: {self.error!r}") from self.error
        return self.received


def drain(url: str, queue: str) -> list[tuple[str, int]]:
    """Every message in `queue` until it stays empty for a second, acknowledged, as ids in
    delivery order."""
    ids = []
    with connect(url) as connection:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=1000)
        last = None
        for method, _, body in channel.consume(queue, inactivity_timeout=1.0):
            if method is None:
                if last is not None:
                    channel.basic_ack(last, multiple=True)
                    last = None
                if channel.queue_declare(queue, passive=True).method.message_count == 0:
                    break
                continue
            ids.append(message_id(body))
            last = method.delivery_tag
            if len(ids) % 500 == 0:
                channel.basic_ack(last, multiple=True)
                last = None
        channel.cancel()
    return ids


def message_count(url: str, queue: str) -> int:
    with connect(url) as connection:
        return connection.channel().queue_declare(queue, passive=True).method.message_count

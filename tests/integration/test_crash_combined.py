"""The combined crash test: one `yizhan serve` with appendonly yes, appendfsync always and AMQP;
Redis writers (redis-py: INCR of a counter and RPUSH of sequence numbers, each acknowledged
reply recorded) and AMQP publishers with publisher confirms (pika: persistent messages into
durable queues, each confirmed message recorded) run while the server is SIGKILLed at random
moments, 20 times, and restarted on the same data dir; 5 more kills land during start-up (loading
and compacting the AOF, the definitions log and the message store). At the end every acknowledged write and
every confirmed message must be there: counters at least the acknowledged values, lists holding
every acknowledged element in push order, every confirmed message consumed, in order per
publisher. The figures are printed and written to /tmp/crash_figures.txt."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pika
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from yizhan.testing.process import ServerProcess

KILLS = 20
STARTUP_KILLS = 5   # one after every fourth round, while the server loads its files
REDIS_WRITERS = 3
PUBLISHERS = 2
FIGURES = "/tmp/crash_figures.txt"


def redis_client(port) -> redis.Redis:
    # no retries: a retried INCR/RPUSH could be applied twice behind our back
    return redis.Redis(port=port, retry=Retry(NoBackoff(), 0), socket_timeout=10)


class RedisWriter(threading.Thread):
    """INCR ctr:N and RPUSH seq:N <number>, recording what the server acknowledged."""

    def __init__(self, number: int, start_seq: int, port: int):
        super().__init__(daemon=True)
        self.number, self.seq, self.port = number, start_seq, port
        self.counter = 0               # the highest INCR reply
        self.incrs = 0                 # acknowledged INCRs
        self.pushed: list[int] = []    # acknowledged RPUSH elements

    def run(self) -> None:
        try:
            r = redis_client(self.port)
            while True:
                self.counter = max(self.counter, r.incr(f"ctr:{self.number}"))
                self.incrs += 1
                r.rpush(f"seq:{self.number}", self.seq)
                self.pushed.append(self.seq)
                self.seq += 1
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return  # the server was killed under us


class Publisher(threading.Thread):
    """Persistent messages `N:seq` into the durable queue crash-N, with confirms."""

    def __init__(self, number: int, start_seq: int, port: int):
        super().__init__(daemon=True)
        self.number, self.seq, self.port = number, start_seq, port
        self.confirmed: list[int] = []

    def run(self) -> None:
        try:
            conn = pika.BlockingConnection(pika.ConnectionParameters(
                "127.0.0.1", self.port, connection_attempts=1, socket_timeout=10))
            ch = conn.channel()
            ch.queue_declare(f"crash-{self.number}", durable=True)
            ch.confirm_delivery()
            while True:
                body = f"{self.number}:{self.seq}".encode()
                ch.basic_publish("", f"crash-{self.number}", body,
                                 pika.BasicProperties(delivery_mode=2, message_id=body.decode()))
                self.confirmed.append(self.seq)  # basic_publish returned: confirmed (ack)
                self.seq += 1
        except Exception:
            return  # the server was killed under us (pika raises several kinds)


def drain(port: int, queue: str) -> list[int]:
    """Every message of `queue`, in delivery order, as sequence numbers."""
    conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1000)
    count = ch.queue_declare(queue, durable=True).method.message_count
    got: list[int] = []
    for method, _, body in ch.consume(queue, inactivity_timeout=5):
        if method is None:
            break
        got.append(int(body.split(b":")[1]))
        ch.basic_ack(method.delivery_tag)
        if len(got) == count:
            break
    ch.cancel()
    conn.close()
    return got


def in_order_subsequence(wanted: list[int], got: list[int]) -> list[int]:
    """The elements of `wanted` missing from `got` when read in order (duplicates allowed)."""
    position = 0
    missing = []
    for value in wanted:
        while position < len(got) and got[position] < value:
            position += 1
        if position < len(got) and got[position] == value:
            continue
        missing.append(value)
    return missing


@pytest.mark.slow
def test_sigkill_with_redis_writers_and_amqp_publishers_loses_nothing(tmp_path):
    config = tmp_path / "yizhan.conf"
    config.write_text("appendonly yes\nappendfsync always\n")
    data_dir = tmp_path / "data"
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    counters = [0] * REDIS_WRITERS
    incrs = 0
    pushed: list[list[int]] = [[] for _ in range(REDIS_WRITERS)]
    confirmed: list[list[int]] = [[] for _ in range(PUBLISHERS)]
    redis_seq = [0] * REDIS_WRITERS
    amqp_seq = [0] * PUBLISHERS
    started = time.monotonic()
    for round_ in range(KILLS):
        srv = ServerProcess(data_dir, tmp_path / f"log{round_}.txt", "--config", str(config))
        try:
            writers = [RedisWriter(i, redis_seq[i], srv.redis_port) for i in range(REDIS_WRITERS)]
            publishers = [Publisher(j, amqp_seq[j], srv.amqp_port) for j in range(PUBLISHERS)]
            for worker in writers + publishers:
                worker.start()
            time.sleep(rng.uniform(0.2, 1.2))
        finally:
            srv.kill()
        for worker in writers + publishers:
            worker.join(30)
            assert not worker.is_alive()
        for w in writers:
            counters[w.number] = max(counters[w.number], w.counter)
            pushed[w.number] += w.pushed
            incrs += w.incrs
            redis_seq[w.number] = w.seq + 1  # the element in flight may or may not be there
        for p in publishers:
            confirmed[p.number] += p.confirmed
            amqp_seq[p.number] = p.seq + 1
        if round_ % (KILLS // STARTUP_KILLS) == KILLS // STARTUP_KILLS - 1:
            starting = ServerProcess(data_dir, tmp_path / f"start{round_}.txt", "--config", str(config),
                                     wait=False)
            time.sleep(srv.ready_after * rng.uniform(0.5, 1.05))  # mostly while loading files
            starting.kill()

    srv = ServerProcess(data_dir, tmp_path / "final.txt", "--config", str(config))
    try:
        r = redis_client(srv.redis_port)
        lost_redis = 0
        for i in range(REDIS_WRITERS):
            value = int(r.get(f"ctr:{i}") or 0)
            assert value >= counters[i], (i, value, counters[i])
            elements = [int(x) for x in r.lrange(f"seq:{i}", 0, -1)]
            assert elements == sorted(elements), "a list lost its push order"
            lost_redis += len(in_order_subsequence(pushed[i], elements))
        r.close()
        lost_amqp = 0
        for j in range(PUBLISHERS):
            got = drain(srv.amqp_port, f"crash-{j}")
            lost_amqp += len(in_order_subsequence(confirmed[j], got))
    finally:
        srv.stop(signal.SIGTERM)
    acked_writes = incrs + sum(map(len, pushed))
    confirmed_total = sum(map(len, confirmed))
    figures = (f"combined crash test: {KILLS} SIGKILLs during writes + {STARTUP_KILLS} during "
               f"start-up in {time.monotonic() - started:.0f} s; "
               f"{REDIS_WRITERS} Redis writers (appendfsync always): {acked_writes} acknowledged "
               f"writes ({incrs} INCR, {sum(map(len, pushed))} RPUSH), lost = {lost_redis}; "
               f"{PUBLISHERS} AMQP publishers with confirms: {confirmed_total} confirmed "
               f"persistent messages, lost = {lost_amqp}")
    print(figures)
    with open(FIGURES, "w") as f:
        f.write(figures + "\n")
    assert all(counters) and all(pushed) and all(confirmed), "some worker never got an answer"
    assert lost_redis == 0 and lost_amqp == 0

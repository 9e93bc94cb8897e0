"""How long the test controls' snapshot and restore take for a given amount of state: N Redis
string keys (half with a TTL) plus N/10 hashes of 10 fields, and N AMQP messages of 100 bytes in
one queue (half persistent; a non-durable queue, as a durable one pages to disk past the store's
page limit, which a snapshot refuses); median of `--repeat` runs, in ms, measured inside the server.

    python bench/control_state.py [--sizes 0,100,1000,10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics

import pika
import redis

from yizhan import Server


def fill(srv: Server, keys: int, messages: int) -> None:
    r = redis.Redis(port=srv.port)
    r.flushall()
    pipe = r.pipeline(transaction=False)
    for i in range(keys):
        pipe.set(f"key:{i}", "value", ex=3600 if i % 2 else None)
    for i in range(keys // 10):
        pipe.hset(f"hash:{i}", mapping={f"f{j}": j for j in range(10)})
    pipe.execute()
    conn = pika.BlockingConnection(pika.URLParameters(srv.amqp_url))
    channel = conn.channel()
    channel.queue_delete("bench")
    channel.queue_declare("bench")
    for i in range(messages):
        channel.basic_publish("", "bench", b"x" * 100, pika.BasicProperties(delivery_mode=2 if i % 2 else 1))
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'keys':>7} {'messages':>9} {'snapshot ms':>12} {'restore ms':>11}")
    with Server(save="") as srv:
        for size in (int(s) for s in args.sizes.split(",")):
            fill(srv, size, size)
            snaps, restores = [], []
            for _ in range(args.repeat):
                snaps.append(srv.snapshot("bench")["ms"])
                restores.append(srv.restore("bench")["ms"])
            print(f"{size:>7} {size:>9} {statistics.median(snaps):>12.2f} {statistics.median(restores):>11.2f}")


if __name__ == "__main__":
    main()

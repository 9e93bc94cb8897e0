"""The seed's work-queue consumer in pika 1.x: manual acks (a worker that dies mid-task hands its
message to the next worker) and prefetch 1 (fair dispatch: a busy worker gets no new task).

    python worker.py [--url amqp://...] [--seconds-per-dot 1.0]

The broker is $AMQP_URL, or --url, or RabbitMQ's default on localhost.
"""

import os
import sys
import time

import pika

args = sys.argv[1:]
url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
seconds_per_dot = 1.0
while len(args) >= 2 and args[0] in ("--url", "--seconds-per-dot"):
    if args[0] == "--url":
        url = args[1]
    else:
        seconds_per_dot = float(args[1])
    args = args[2:]
if args:
    sys.exit(f"usage: {sys.argv[0]} [--url URL] [--seconds-per-dot SECONDS]")

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue="task_queue", durable=True)
print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)


def callback(ch, method, properties, body):
    print(f" [x] Received {body.decode()!r}", flush=True)
    time.sleep(body.count(b".") * seconds_per_dot)
    print(" [x] Done", flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)     # only now may the broker forget the task


channel.basic_qos(prefetch_count=1)                    # one unacknowledged task at a time
channel.basic_consume(queue="task_queue", on_message_callback=callback)
try:
    channel.start_consuming()
except KeyboardInterrupt:
    connection.close()

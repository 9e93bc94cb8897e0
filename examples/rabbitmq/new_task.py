"""The seed's work-queue producer in pika 1.x: a durable queue and persistent messages, so tasks
survive a broker restart. Each dot in the message stands for a second of work.

    python new_task.py [--url amqp://...] A task with dots.....

The broker is $AMQP_URL, or --url, or RabbitMQ's default on localhost.
"""

import os
import sys

import pika

args = sys.argv[1:]
url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
if args[:1] == ["--url"]:
    url, args = args[1], args[2:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue="task_queue", durable=True)   # the queue survives a broker restart

message = " ".join(args) or "Hello World!"
channel.basic_publish(
    exchange="",
    routing_key="task_queue",
    body=message,
    properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))   # so do the messages
print(f" [x] Sent {message!r}", flush=True)
connection.close()

"""The seed's direct-routing consumer in pika 1.x: one exclusive queue bound once per severity
given on the command line.

    python receive_logs_direct.py [--url amqp://...] [info] [warning] [error]

The broker is $AMQP_URL, or --url, or RabbitMQ's default on localhost.
"""

import os
import sys

import pika

args = sys.argv[1:]
url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
if args[:1] == ["--url"]:
    url, args = args[1], args[2:]

severities = args
if not severities:
    sys.stderr.write(f"Usage: {sys.argv[0]} [info] [warning] [error]\n")
    sys.exit(1)

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.exchange_declare(exchange="direct_logs", exchange_type="direct")

result = channel.queue_declare(queue="", exclusive=True)
queue_name = result.method.queue
for severity in severities:
    channel.queue_bind(exchange="direct_logs", queue=queue_name, routing_key=severity)
print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def callback(ch, method, properties, body):
    print(f" [x] {method.routing_key!r}:{body.decode()!r}", flush=True)


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
try:
    channel.start_consuming()
except KeyboardInterrupt:
    connection.close()

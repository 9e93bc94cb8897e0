"""The seed's fanout consumer in pika 1.x: a server-named exclusive queue (deleted when this
program disconnects) bound to the `logs` exchange.

    python receive_logs.py [--url amqp://...]

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
channel.exchange_declare(exchange="logs", exchange_type="fanout")

result = channel.queue_declare(queue="", exclusive=True)   # the broker names it: amq.gen-...
queue_name = result.method.queue
channel.queue_bind(exchange="logs", queue=queue_name)
print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def callback(ch, method, properties, body):
    print(f" [x] {body.decode()!r}", flush=True)


channel.basic_consume(queue=queue_name, on_message_callback=callback, auto_ack=True)
try:
    channel.start_consuming()
except KeyboardInterrupt:
    connection.close()

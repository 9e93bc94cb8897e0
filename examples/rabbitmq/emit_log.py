"""The seed's fanout producer in pika 1.x: every queue bound to the `logs` exchange gets a copy;
with no receiver listening, the message is gone.

    python emit_log.py [--url amqp://...] [message...]

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

message = " ".join(args) or "info: Hello World!"
channel.basic_publish(exchange="logs", routing_key="", body=message)   # fanout ignores the key
print(f" [x] Sent {message!r}", flush=True)
connection.close()

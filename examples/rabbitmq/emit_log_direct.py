"""The seed's direct-routing producer in pika 1.x: the routing key is the severity, and only
queues bound with that severity get the message.

    python emit_log_direct.py [--url amqp://...] [info|warning|error] [message...]

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
channel.exchange_declare(exchange="direct_logs", exchange_type="direct")

severity = args[0] if args else "info"
message = " ".join(args[1:]) or "Hello World!"
channel.basic_publish(exchange="direct_logs", routing_key=severity, body=message)
print(f" [x] Sent {severity!r}:{message!r}", flush=True)
connection.close()

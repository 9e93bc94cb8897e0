"""The seed's topic producer in pika 1.x: routing keys are dot-separated words
(`<facility>.<severity>`), matched against binding patterns with `*` and `#`.

    python emit_log_topic.py [--url amqp://...] [routing.key] [message...]

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
channel.exchange_declare(exchange="topic_logs", exchange_type="topic")

routing_key = args[0] if args else "anonymous.info"
message = " ".join(args[1:]) or "Hello World!"
channel.basic_publish(exchange="topic_logs", routing_key=routing_key, body=message)
print(f" [x] Sent {routing_key!r}:{message!r}", flush=True)
connection.close()

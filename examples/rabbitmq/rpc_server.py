"""The seed's RPC server in pika 1.x: requests arrive on `rpc_queue`; the answer goes to the
request's reply_to queue carrying its correlation_id.

    python rpc_server.py [--url amqp://...]

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
channel.queue_declare(queue="rpc_queue")


def fib(n):
    if n == 0:
        return 0
    if n == 1:
        return 1
    return fib(n - 1) + fib(n - 2)


def on_request(ch, method, props, body):
    n = int(body)
    print(f" [.] fib({n})", flush=True)
    response = fib(n)
    ch.basic_publish(exchange="",
                     routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(response))
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue="rpc_queue", on_message_callback=on_request)
print(" [x] Awaiting RPC requests", flush=True)
try:
    channel.start_consuming()
except KeyboardInterrupt:
    connection.close()

"""The seed's RPC client in pika 1.x: publishes n to `rpc_queue` with reply_to (its own
exclusive callback queue) and a fresh correlation_id, then waits for the matching answer.

    python rpc_client.py [--url amqp://...] [n]

The broker is $AMQP_URL, or --url, or RabbitMQ's default on localhost.
"""

import os
import sys
import uuid

import pika

args = sys.argv[1:]
url = os.environ.get("AMQP_URL", "amqp://guest:guest@localhost:5672/%2F")
if args[:1] == ["--url"]:
    url, args = args[1], args[2:]


class FibonacciRpcClient:
    def __init__(self):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        result = self.channel.queue_declare(queue="", exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response,
                                   auto_ack=True)
        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:     # ignore answers to someone else's question
            self.response = body

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange="",
                                   routing_key="rpc_queue",
                                   properties=pika.BasicProperties(reply_to=self.callback_queue,
                                                                   correlation_id=self.corr_id),
                                   body=str(n))
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return int(self.response)


n = int(args[0]) if args else 30
fibonacci_rpc = FibonacciRpcClient()
print(f" [x] Requesting fib({n})", flush=True)
response = fibonacci_rpc.call(n)
print(f" [.] Got {response}", flush=True)
fibonacci_rpc.connection.close()

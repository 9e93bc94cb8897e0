"""The seed's RabbitMQ programs in examples/rabbitmq/ (pika 1.x) run unchanged against yizhan and
against RabbitMQ, and print the same lines: the durable work queue with fair dispatch and a
worker dying mid-task, the fanout log broadcast, direct routing by severity, topic routing and
the Fibonacci RPC server and client.

"Did not receive" is never checked by waiting: every receiver is sent a last message it must get,
and the lines before it are compared."""

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from yizhan.testing.amqp import WAIT, queue_counts, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rabbitmq"


class Program:
    """One example running in the background; `line()` returns its next output line."""

    def __init__(self, name, url, *args):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), "--url", url, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self) -> str:
        try:
            text = self.lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"{self.name} printed nothing for {WAIT:.0f} s") from None
        if text is None:
            raise AssertionError(f"{self.name} exited with {self.process.wait()}")
        return text

    def lines_until(self, last: str) -> list[str]:
        out = []
        while not out or out[-1] != last:
            out.append(self.line())
        return out

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def run(both_brokers):
    """run(name, *args) starts an example against the broker; all are killed afterwards."""
    _, url = both_brokers
    started = []

    def start(name, *args):
        program = Program(name, url, *args)
        started.append(program)
        return program

    yield start
    for program in started:
        program.kill()


def finish(program) -> list[str]:
    """Every line of a program that exits by itself, checking it succeeded."""
    out = []
    while True:
        try:
            out.append(program.line())
        except AssertionError:
            break
    assert program.process.wait(timeout=WAIT) == 0, out
    return out


@pytest.fixture
def fresh_queues(broker):
    """The tutorial's fixed queue names start empty and are deleted afterwards."""
    ch = broker.channel()
    for name, durable in (("task_queue", True), ("rpc_queue", False)):
        ch.queue_declare(name, durable=durable)
        ch.queue_purge(name)
    yield broker
    ch = broker.channel()
    for name in ("task_queue", "rpc_queue"):
        ch.queue_delete(name)


def test_work_queue(run, fresh_queues):
    worker = run("worker.py", "--seconds-per-dot", "0")
    assert worker.line() == " [*] Waiting for messages. To exit press CTRL+C"
    for message in ("First message.", "Second message..", "Third message..."):
        assert finish(run("new_task.py", message)) == [f" [x] Sent {message!r}"]
    assert [worker.line() for _ in range(6)] == [
        " [x] Received 'First message.'", " [x] Done", " [x] Received 'Second message..'", " [x] Done",
        " [x] Received 'Third message...'", " [x] Done"]


def test_tasks_are_durable_and_persistent(run, fresh_queues):
    assert finish(run("new_task.py", "kept")) == [" [x] Sent 'kept'"]
    ch = fresh_queues.channel()
    method, props, body = ch.basic_get("task_queue", auto_ack=True)
    assert (body, props.delivery_mode) == (b"kept", 2)
    assert ch.queue_declare("task_queue", durable=True).method.message_count == 0


def test_worker_dying_mid_task_hands_it_to_the_next(run, fresh_queues):
    slow = run("worker.py", "--seconds-per-dot", "1000")          # would take hours: it gets killed
    assert slow.line() == " [*] Waiting for messages. To exit press CTRL+C"
    finish(run("new_task.py", "Long task."))
    assert slow.line() == " [x] Received 'Long task.'"
    quick = run("worker.py", "--seconds-per-dot", "0")
    assert quick.line() == " [*] Waiting for messages. To exit press CTRL+C"
    finish(run("new_task.py", "Short task"))                      # the slow worker's window is full
    assert quick.lines_until(" [x] Done") == [" [x] Received 'Short task'", " [x] Done"]
    slow.kill()                                                   # dies without acking
    assert quick.lines_until(" [x] Done") == [" [x] Received 'Long task.'", " [x] Done"]
    connection = fresh_queues.connect()
    ch = connection.channel()
    wait_until(connection, lambda: queue_counts(ch, "task_queue") == (0, 1), "the queue to drain")


def test_fanout_logs(run):
    finish(run("emit_log.py", "nobody listens"))                 # no queue bound yet: dropped
    receivers = [run("receive_logs.py") for _ in range(2)]
    for receiver in receivers:
        assert receiver.line() == " [*] Waiting for logs. To exit press CTRL+C"
    assert finish(run("emit_log.py", "info:", "Hello", "World!")) == [" [x] Sent 'info: Hello World!'"]
    finish(run("emit_log.py"))
    for receiver in receivers:
        assert [receiver.line(), receiver.line()] == [" [x] 'info: Hello World!'", " [x] 'info: Hello World!'"]


def test_direct_routing_by_severity(run):
    errors = run("receive_logs_direct.py", "error")
    everything = run("receive_logs_direct.py", "info", "warning", "error")
    for receiver in (errors, everything):
        assert receiver.line() == " [*] Waiting for logs. To exit press CTRL+C"
    for severity, message in (("info", "starting"), ("error", "disk full"), ("warning", "slow"),
                              ("debug", "nobody"), ("error", "end")):
        assert finish(run("emit_log_direct.py", severity, message)) == [f" [x] Sent {severity!r}:{message!r}"]
    assert errors.lines_until(" [x] 'error':'end'") == [" [x] 'error':'disk full'", " [x] 'error':'end'"]
    assert everything.lines_until(" [x] 'error':'end'") == [
        " [x] 'info':'starting'", " [x] 'error':'disk full'", " [x] 'warning':'slow'", " [x] 'error':'end'"]


def test_direct_receiver_needs_a_severity(run):
    receiver = run("receive_logs_direct.py")
    assert receiver.process.wait(timeout=WAIT) == 1


def test_topic_routing(run):
    patterns = {"kern": ["kern.*"], "critical": ["*.critical"], "all": ["#"], "both": ["kern.*", "*.critical"],
                "deep": ["kern.#"]}
    receivers = {name: run("receive_logs_topic.py", *keys) for name, keys in patterns.items()}
    for receiver in receivers.values():
        assert receiver.line() == " [*] Waiting for logs. To exit press CTRL+C"
    sent = [("kern.critical", "A critical kernel error"), ("anonymous.info", "hello"), ("cron.critical", "cron died"),
            ("kern.disk.full", "three words"), ("kern", "one word"), ("kern.critical", "end")]
    for key, message in sent:
        finish(run("emit_log_topic.py", key, message))
    line = " [x] {!r}:{!r}".format
    got = {name: receiver.lines_until(line("kern.critical", "end")) for name, receiver in receivers.items()}
    assert got == {
        "kern": [line(*sent[0]), line(*sent[5])],
        "critical": [line(*sent[0]), line(*sent[2]), line(*sent[5])],
        "all": [line(*m) for m in sent],
        "both": [line(*sent[0]), line(*sent[2]), line(*sent[5])],
        "deep": [line(*sent[0]), line(*sent[3]), line(*sent[4]), line(*sent[5])],
    }


def test_fibonacci_rpc(run, fresh_queues):
    server = run("rpc_server.py")
    assert server.line() == " [x] Awaiting RPC requests"
    assert finish(run("rpc_client.py", "10")) == [" [x] Requesting fib(10)", " [.] Got 55"]
    clients = [run("rpc_client.py", str(n)) for n in (15, 20)]
    assert sorted(finish(client)[-1] for client in clients) == [" [.] Got 610", " [.] Got 6765"]
    assert server.line() == " [.] fib(10)"
    assert sorted([server.line(), server.line()]) == [" [.] fib(15)", " [.] fib(20)"]

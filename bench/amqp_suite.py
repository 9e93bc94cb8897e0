"""AMQP: yizhan against RabbitMQ (a private node from RabbitMQReference), scenario by scenario,
interleaved, 100-byte messages, with the lean client of amqp_client.py in separate processes.

- end-to-end: one publisher, one consumer acknowledging each delivery, transient messages
- publish-only: one publisher into a queue nobody consumes, until the queue holds them all
- consume-only: one consumer draining that full queue
- fan-out: one publisher into a fanout exchange bound to 10 queues, one consumer on all 10
- persistent: durable queue, persistent messages, publisher confirms (window 500), one consumer

Broker CPU per message is the utime+stime delta of the broker's processes over the scenario
divided by the messages published.

    python bench/amqp_suite.py [--quick] [--only SCENARIO ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import uuid

from pamqp import commands

import amqp_client
from common import Row, YizhanProcess, cpu_seconds, fmt
from yizhan.testing.process import descendants
from yizhan.testing.rabbitmq import RabbitMQReference

SIZE = 100
FANOUT_QUEUES = 10
CONFIRM_WINDOW = 500
CTX = multiprocessing.get_context("fork")


def counts(quick: bool) -> dict[str, int]:
    if quick:
        return {"end-to-end": 2_000, "publish-only": 2_000, "fan-out 10 queues": 300,
                "persistent + confirms": 1_000}
    return {"end-to-end": 100_000, "publish-only": 100_000, "fan-out 10 queues": 20_000,
            "persistent + confirms": 30_000}


# -- worker processes ----------------------------------------------------------------------
def _worker(results, name, ready, go, function, args):
    try:
        if ready is not None and go is not None:
            conn_check = amqp_client.Connection(args[0])   # connect once so start-up is not timed
            conn_check.close()
            ready.set()
            go.wait()
            results.put((name, "start", time.monotonic()))
            results.put((name, "done", function(*args)))
        else:
            results.put((name, "done", function(*args, ready=ready)))
    except BaseException as exc:                               # reported to the parent
        if ready is not None:
            ready.set()
        results.put((name, "error", repr(exc)))


class Workers:
    """Publisher/consumer processes of one scenario; `times()` collects what they report."""

    def __init__(self):
        self.results = CTX.Queue()
        self.processes: list = []
        self.expected = 0                  # reports to wait for: consumers send 1, publishers 2
        self.go = CTX.Event()

    def consumer(self, name: str, port: int, queues: list[str], count: int) -> None:
        ready = CTX.Event()
        process = CTX.Process(target=_worker, args=(self.results, name, ready, None, amqp_client.consume,
                                                    (port, queues, count)), daemon=True)
        process.start()
        self.processes.append(process)
        self.expected += 1
        if not ready.wait(60):
            raise RuntimeError(f"{name} did not get ready")

    def publisher(self, name: str, port: int, *args) -> None:
        ready = CTX.Event()
        process = CTX.Process(target=_worker, args=(self.results, name, ready, self.go, amqp_client.publish,
                                                    (port, *args)), daemon=True)
        process.start()
        self.processes.append(process)
        self.expected += 2
        if not ready.wait(60):
            raise RuntimeError(f"{name} did not get ready")

    def times(self, timeout: float = 900) -> dict[tuple[str, str], float]:
        found: dict[tuple[str, str], float] = {}
        deadline = time.monotonic() + timeout
        while len(found) < self.expected:
            name, what, value = self.results.get(timeout=max(1.0, deadline - time.monotonic()))
            if what == "error":
                raise RuntimeError(f"{name}: {value}")
            found[name, what] = value
        return found

    def close(self) -> None:
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


# -- scenarios -----------------------------------------------------------------------------
def declare_queue(admin: amqp_client.Connection, name: str, durable: bool = False) -> None:
    admin.rpc(1, commands.Queue.Declare(queue=name, durable=durable), commands.Queue.DeclareOk)


def queue_depth(admin: amqp_client.Connection, name: str) -> int:
    return admin.rpc(1, commands.Queue.Declare(queue=name, passive=True), commands.Queue.DeclareOk).message_count


def delete_queue(admin: amqp_client.Connection, name: str) -> None:
    admin.rpc(1, commands.Queue.Delete(queue=name), commands.Queue.DeleteOk)


def scenario(name: str, port: int, pids: list[int], count: int) -> dict[str, float]:
    """Run one scenario against the broker on `port`: {'rate': msg/s, 'cpu': s, 'messages': n}."""
    tag = uuid.uuid4().hex[:8]
    admin = amqp_client.Connection(port)
    admin.open_channel(1)
    workers = Workers()
    try:
        if name == "end-to-end":
            queue = f"bench-e2e-{tag}"
            declare_queue(admin, queue)
            workers.consumer("consumer", port, [queue], count)
            workers.publisher("publisher", port, "", queue, count, SIZE, False, 0)
            before = cpu_seconds(pids)
            workers.go.set()
            t = workers.times()
            elapsed, messages = t["consumer", "done"] - t["publisher", "start"], count
            delete_queue(admin, queue)
        elif name == "publish-only":
            queue = f"bench-pub-{tag}"
            declare_queue(admin, queue)
            workers.publisher("publisher", port, "", queue, count, SIZE, False, 0)
            before = cpu_seconds(pids)
            workers.go.set()
            t = workers.times()
            deadline = time.monotonic() + 300
            while (depth := queue_depth(admin, queue)) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"publish-only: the queue holds {depth} of {count} messages")
                time.sleep(0.001)
            elapsed, messages = time.monotonic() - t["publisher", "start"], count
            result = {"rate": messages / elapsed, "cpu": cpu_seconds(pids) - before, "messages": messages}
            # consume-only drains the queue just filled
            consumer = Workers()
            before = cpu_seconds(pids)
            started = time.monotonic()
            consumer.consumer("consumer", port, [queue], count)
            done = consumer.times()["consumer", "done"]
            consumer.close()
            result["drain_rate"] = count / (done - started)
            result["drain_cpu"] = cpu_seconds(pids) - before
            delete_queue(admin, queue)
            return result
        elif name == "fan-out 10 queues":
            exchange = f"bench-fan-{tag}"
            queues = [f"{exchange}-{i}" for i in range(FANOUT_QUEUES)]
            admin.rpc(1, commands.Exchange.Declare(exchange=exchange, exchange_type="fanout"),
                      commands.Exchange.DeclareOk)
            for queue in queues:
                declare_queue(admin, queue)
                admin.rpc(1, commands.Queue.Bind(queue=queue, exchange=exchange), commands.Queue.BindOk)
            workers.consumer("consumer", port, queues, count * FANOUT_QUEUES)
            workers.publisher("publisher", port, exchange, "", count, SIZE, False, 0)
            before = cpu_seconds(pids)
            workers.go.set()
            t = workers.times()
            elapsed, messages = t["consumer", "done"] - t["publisher", "start"], count * FANOUT_QUEUES
            for queue in queues:
                delete_queue(admin, queue)
            admin.rpc(1, commands.Exchange.Delete(exchange=exchange), commands.Exchange.DeleteOk)
        elif name == "persistent + confirms":
            queue = f"bench-dur-{tag}"
            declare_queue(admin, queue, durable=True)
            workers.consumer("consumer", port, [queue], count)
            workers.publisher("publisher", port, "", queue, count, SIZE, True, CONFIRM_WINDOW)
            before = cpu_seconds(pids)
            workers.go.set()
            t = workers.times()
            elapsed, messages = max(t["consumer", "done"], t["publisher", "done"]) - t["publisher", "start"], count
            delete_queue(admin, queue)
        else:
            raise ValueError(name)
        return {"rate": messages / elapsed, "cpu": cpu_seconds(pids) - before, "messages": messages}
    finally:
        workers.close()
        admin.close()


def run(quick: bool = False, log=print, only: list[str] | None = None, repeat: int = 1) -> list[Row]:
    """Every scenario (or those named in `only`), each `repeat` times, yizhan then RabbitMQ."""
    rows: list[Row] = []
    plan = [(name, count) for name, count in counts(quick).items()
            if not only or name in only or (name == "publish-only" and "consume-only" in only)]
    with RabbitMQReference() as ref, YizhanProcess() as ours:
        brokers = (("yizhan", ours.amqp_port, [ours.pid]),
                   ("rabbitmq", ref.port, [ref.process.pid, *descendants(ref.process.pid)]))
        for name, count in [step for step in plan for _ in range(repeat)]:
            results = {label: scenario(name, port, pids, count) for label, port, pids in brokers}
            rows.append(_row(name, results["yizhan"]["rate"], results["rabbitmq"]["rate"],
                             results["yizhan"]["cpu"], results["rabbitmq"]["cpu"], results["yizhan"]["messages"]))
            if name == "publish-only":
                rows.append(_row("consume-only", results["yizhan"]["drain_rate"], results["rabbitmq"]["drain_rate"],
                                 results["yizhan"]["drain_cpu"], results["rabbitmq"]["drain_cpu"], count))
            for row in rows[-2 if name == "publish-only" else -1:]:
                log(f"amqp {row.name:<22} yizhan {row.yizhan:>9,.0f}  rabbitmq {row.reference:>9,.0f} msg/s "
                    f" ratio {row.ratio:.2f}x  cpu/msg {row.extra['cpu_yizhan_us']} / "
                    f"{row.extra['cpu_reference_us']} us ({row.extra['cpu_ratio']})")
    return rows


def _row(name: str, ours: float, theirs: float, cpu_ours: float, cpu_theirs: float, messages: int) -> Row:
    return Row("amqp", name, "msg/s", ours, theirs, extra={
        "messages": str(messages),
        "cpu_yizhan_us": fmt(cpu_ours / messages * 1e6),
        "cpu_reference_us": fmt(cpu_theirs / messages * 1e6),
        "cpu_ratio": f"{cpu_ours / cpu_theirs:.2f}x" if cpu_theirs > 0 else "n/a"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand messages per scenario")
    parser.add_argument("--only", action="append", choices=[*counts(False), "consume-only"],
                        help="run only this scenario (repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="run each scenario this many times")
    args = parser.parse_args()
    run(args.quick, only=args.only, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

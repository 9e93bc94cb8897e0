"""AMQP with the clients users run (issue 13): yizhan against RabbitMQ, one client after the
other, each with one producer publishing 1 KB transient messages as fast as it can to one queue
and one consumer acknowledging every delivery (basic.ack, not multiple), no prefetch limit
(PerfTest's default), for a fixed duration. Producer and consumer are separate connections in
separate processes.

- Java client: bench/java/PerfLite.java, a small PerfTest stand-in compiled at run time with
  javac against Debian's librabbitmq-client-java (/usr/share/java/amqp-client.jar);
- pika BlockingConnection, pika SelectConnection (callbacks on its ioloop), aio-pika;
- lean client: amqp_client.py's raw frames, for comparison with the same workload.

Each row: messages received per second by the consumer, broker CPU (utime+stime of its
processes) per received message, and the broker's peak RSS sampled every 0.1 s.

    python bench/clients_suite.py [--quick] [--only java,pika-blocking,...] [--seconds N]
                                  [--watermark 512MB] [--yizhan-only]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from pamqp import commands

import amqp_client
from common import Row, YizhanProcess, cpu_seconds, fmt, rss_bytes
from yizhan.testing.process import descendants
from yizhan.testing.rabbitmq import RabbitMQReference

SIZE = 1000
CTX = multiprocessing.get_context("fork")
JAVA_SOURCE = Path(__file__).resolve().parent / "java" / "PerfLite.java"
JAVA_JARS = ["/usr/share/java/amqp-client.jar", "/usr/share/java/slf4j-api.jar",
             "/usr/share/java/slf4j-nop.jar"]
CLIENTS = {"java": "Java client", "pika-blocking": "pika BlockingConnection",
           "pika-select": "pika SelectConnection", "aio-pika": "aio-pika", "lean": "lean client"}


def url(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


# -- Python clients, one process each ------------------------------------------------------
def pika_blocking_producer(port, queue, seconds, go):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(url(port)))
    channel = conn.channel()
    body = b"x" * SIZE
    go.wait()
    end, sent = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for _ in range(50):
            channel.basic_publish("", queue, body)
        sent += 50
    conn.close()
    return sent


def pika_blocking_consumer(port, queue, seconds, go, ready):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(url(port)))
    channel = conn.channel()
    count = [0]
    end = [float("inf")]

    def on_message(ch, method, properties, body):
        ch.basic_ack(method.delivery_tag)
        if time.monotonic() < end[0]:
            count[0] += 1
        else:
            ch.stop_consuming()

    channel.basic_consume(queue, on_message)
    ready.set()
    go.wait()
    end[0] = time.monotonic() + seconds
    conn.call_later(seconds, channel.stop_consuming)
    channel.start_consuming()
    conn.close()
    return count[0]


def pika_select_producer(port, queue, seconds, go):
    import pika
    body = b"x" * SIZE
    state = {"sent": 0, "end": 0.0}

    def on_channel(channel):
        go.wait()
        state["end"] = time.monotonic() + seconds
        publish(channel)

    def publish(channel):
        if time.monotonic() >= state["end"]:
            conn.close()
            return
        if conn._get_write_buffer_size() < 1 << 20:   # pika has no backpressure of its own
            for _ in range(50):
                channel.basic_publish("", queue, body)
            state["sent"] += 50
            conn.ioloop.call_later(0, lambda: publish(channel))
        else:
            conn.ioloop.call_later(0.001, lambda: publish(channel))

    conn = pika.SelectConnection(pika.URLParameters(url(port)),
                                 on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                                 on_close_callback=lambda c, reason: c.ioloop.stop())
    conn.ioloop.start()
    return state["sent"]


def pika_select_consumer(port, queue, seconds, go, ready):
    import pika
    state = {"count": 0, "end": float("inf")}

    def on_message(channel, method, properties, body):
        channel.basic_ack(method.delivery_tag)
        if time.monotonic() < state["end"]:
            state["count"] += 1

    def on_consume_ok(frame):
        ready.set()
        go.wait()
        state["end"] = time.monotonic() + seconds
        conn.ioloop.call_later(seconds, conn.close)

    def on_channel(channel):
        channel.basic_consume(queue, on_message, callback=on_consume_ok)

    conn = pika.SelectConnection(pika.URLParameters(url(port)),
                                 on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                                 on_close_callback=lambda c, reason: c.ioloop.stop())
    conn.ioloop.start()
    return state["count"]


def aio_pika_producer(port, queue, seconds, go):
    import aio_pika

    async def main():
        conn = await aio_pika.connect(url(port))
        channel = await conn.channel(publisher_confirms=False)
        exchange = channel.default_exchange
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        end, sent = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            await exchange.publish(aio_pika.Message(b"x" * SIZE), routing_key=queue)
            sent += 1
        await conn.close()
        return sent

    return asyncio.run(main())


def aio_pika_consumer(port, queue, seconds, go, ready):
    import aio_pika

    async def main():
        conn = await aio_pika.connect(url(port))
        channel = await conn.channel()
        state = {"count": 0, "end": float("inf")}

        async def on_message(message):
            await message.ack()
            if time.monotonic() < state["end"]:
                state["count"] += 1

        q = await channel.get_queue(queue, ensure=False)
        await q.consume(on_message)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        state["end"] = time.monotonic() + seconds
        await asyncio.sleep(seconds)
        await conn.close()
        return state["count"]

    return asyncio.run(main())


def lean_producer(port, queue, seconds, go):
    conn = amqp_client.Connection(port)
    conn.open_channel(1)
    batch = amqp_client.publish_bytes("", queue, SIZE, False) * 50
    go.wait()
    end, sent = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        conn.sock.sendall(batch)
        sent += 50
    conn.close()
    return sent


def lean_consumer(port, queue, seconds, go, ready):
    conn = amqp_client.Connection(port)
    conn.open_channel(1)
    conn.rpc(1, commands.Basic.Consume(queue=queue, consumer_tag="lean"), commands.Basic.ConsumeOk)
    ready.set()
    go.wait()
    end = time.monotonic() + seconds
    conn.sock.settimeout(0.2)
    count = 0
    pack, head, method, longlong = (amqp_client.ACK.pack, amqp_client.HEADER, amqp_client.METHOD,
                                    amqp_client.LONGLONG)
    while time.monotonic() < end:
        try:
            conn.fill()
        except TimeoutError:
            continue
        buf, pos, size = conn.buf, conn.pos, len(conn.buf)
        acks = []
        while size - pos >= 7:
            kind, channel, length = head.unpack_from(buf, pos)
            if pos + 8 + length > size:
                break
            if kind == 1 and method.unpack_from(buf, pos + 7) == (60, 60):
                tag = longlong.unpack_from(buf, pos + 12 + buf[pos + 11])[0]
                acks.append(pack(1, channel, 13, 60, 80, tag, 0, amqp_client.FRAME_END))
            pos += 8 + length
        conn.pos = pos
        if acks:
            count += len(acks)
            conn.sock.sendall(b"".join(acks))
    conn.sock.close()
    return count


WORKLOADS = {"pika-blocking": (pika_blocking_producer, pika_blocking_consumer),
             "pika-select": (pika_select_producer, pika_select_consumer),
             "aio-pika": (aio_pika_producer, aio_pika_consumer),
             "lean": (lean_producer, lean_consumer)}


def _worker(results, role, function, args):
    try:
        results.put((role, function(*args)))
    except BaseException as exc:  # reported to the parent
        results.put((role, exc))


def run_python(client: str, port: int, queue: str, seconds: float) -> int:
    """Run one Python client pair; the consumer's count of deliveries in `seconds`."""
    producer, consumer = WORKLOADS[client]
    results, go, ready = CTX.Queue(), CTX.Event(), CTX.Event()
    processes = [CTX.Process(target=_worker, args=(results, "consumer", consumer,
                                                   (port, queue, seconds, go, ready)), daemon=True)]
    processes[0].start()
    if not ready.wait(60):
        raise RuntimeError(f"{client}: the consumer did not start")
    processes.append(CTX.Process(target=_worker, args=(results, "producer", producer,
                                                       (port, queue, seconds, go)), daemon=True))
    processes[1].start()
    time.sleep(0.5)  # the producer connects before the clock starts
    go.set()
    found = {}
    try:
        while len(found) < 2:
            role, value = results.get(timeout=seconds + 60)
            if isinstance(value, BaseException):
                raise RuntimeError(f"{client} {role}: {value!r}")
            found[role] = value
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return found["consumer"]


# -- the Java client -------------------------------------------------------------------------
def java_available() -> str | None:
    """None when javac, java and the jars are there, else what is missing."""
    missing = [tool for tool in ("javac", "java") if shutil.which(tool) is None]
    missing += [jar for jar in JAVA_JARS if not os.path.exists(jar)]
    return ", ".join(missing) or None


def compile_java(out: Path) -> None:
    subprocess.run(["javac", "-nowarn", "-cp", JAVA_JARS[0], "-d", str(out), str(JAVA_SOURCE)],
                   check=True, capture_output=True, timeout=300)


def run_java(classes: Path, port: int, queue: str, seconds: float, log=None) -> dict:
    """PerfLite for `seconds`: {'received': n, 'seconds': s, 'min_per_second': n, 'lines': [...]}."""
    classpath = ":".join([str(classes), *JAVA_JARS])
    result = subprocess.run(["java", "-cp", classpath, "PerfLite", str(port), queue,
                             str(max(1, round(seconds))), str(SIZE), "0"],
                            capture_output=True, text=True, timeout=seconds + 120)
    match = re.search(r"RESULT sent (\d+) received (\d+) seconds ([\d.]+) min_received_per_second "
                      r"(\d+)", result.stdout)
    if match is None:
        raise RuntimeError(f"PerfLite failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("second ")]
    if log is not None:
        for line in lines:
            log(f"  java {line}")
    return {"sent": int(match.group(1)), "received": int(match.group(2)),
            "seconds": float(match.group(3)), "min_per_second": int(match.group(4)), "lines": lines}


# -- one measurement -------------------------------------------------------------------------
class PeakRSS:
    """Samples the broker's RSS every 0.1 s in a thread while the block runs."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pids))
            self._stop.wait(0.1)

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pids))


def measure(client: str, port: int, pids: list[int], seconds: float, classes: Path | None,
            log=print) -> dict:
    """{'rate', 'cpu' (s), 'received', 'rss' (bytes), 'min_per_second' (Java)} for one client."""
    queue = f"bench-client-{uuid.uuid4().hex[:8]}"
    admin = amqp_client.Connection(port)
    admin.open_channel(1)
    admin.rpc(1, commands.Queue.Declare(queue=queue), commands.Queue.DeclareOk)
    before = cpu_seconds(pids)
    with PeakRSS(pids) as rss:
        if client == "java":
            java = run_java(classes, port, queue, seconds, log if seconds >= 30 else None)
            received, elapsed, minimum = java["received"], java["seconds"], java["min_per_second"]
        else:
            received, elapsed, minimum = run_python(client, port, queue, seconds), seconds, None
    cpu = cpu_seconds(pids) - before
    admin.rpc(1, commands.Queue.Delete(queue=queue), commands.Queue.DeleteOk)
    admin.close()
    return {"rate": received / elapsed, "cpu": cpu, "received": received, "rss": rss.peak,
            "min_per_second": minimum}


def run(quick: bool = False, log=print, only: list[str] | None = None, seconds: float | None = None,
        config: dict | None = None, reference: bool = True) -> list[Row]:
    """Every client (or those in `only`) on yizhan, then on RabbitMQ, one row each."""
    seconds = seconds or (1.0 if quick else 10.0)
    clients = [c for c in CLIENTS if not only or c in only]
    rows: list[Row] = []
    missing = java_available() if "java" in clients else None
    if missing:
        raise RuntimeError(f"the Java client row needs {missing}: apt-get install default-jdk-headless "
                           "librabbitmq-client-java (or leave it out with --only)")
    workdir = Path(tempfile.mkdtemp(prefix="yizhan-bench-java-"))
    try:
        classes = None
        if "java" in clients:
            compile_java(workdir)
            classes = workdir
        ref = RabbitMQReference() if reference else None
        if ref is not None:
            ref.start()
        try:
            with YizhanProcess(config=config) as ours:
                brokers = [("yizhan", ours.amqp_port, [ours.pid])]
                if ref is not None:
                    brokers.append(("rabbitmq", ref.port, [ref.process.pid, *descendants(ref.process.pid)]))
                for client in clients:
                    found = {label: measure(client, port, pids, seconds, classes, log)
                             for label, port, pids in brokers}
                    rows.append(_row(client, found, seconds))
                    _log_row(log, rows[-1])
        finally:
            if ref is not None:
                ref.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def _row(client: str, found: dict, seconds: float) -> Row:
    ours, theirs = found["yizhan"], found.get("rabbitmq")
    extra = {"seconds": f"{seconds:g}", "received": str(ours["received"]),
             "cpu_yizhan_us": fmt(ours["cpu"] / max(1, ours["received"]) * 1e6),
             "rss_yizhan_mb": fmt(ours["rss"] / 1e6)}
    if ours["min_per_second"] is not None:
        extra["min_per_second_yizhan"] = str(ours["min_per_second"])
    if theirs is not None:
        extra.update({"cpu_reference_us": fmt(theirs["cpu"] / max(1, theirs["received"]) * 1e6),
                      "rss_reference_mb": fmt(theirs["rss"] / 1e6)})
        cpu_ours = ours["cpu"] / max(1, ours["received"])
        cpu_theirs = theirs["cpu"] / max(1, theirs["received"])
        extra["cpu_ratio"] = f"{cpu_ours / cpu_theirs:.2f}x" if cpu_theirs > 0 else "n/a"
    return Row("amqp-clients", CLIENTS[client], "msg/s", ours["rate"],
               theirs["rate"] if theirs is not None else 0.0, extra=extra)


def _log_row(log, row: Row) -> None:
    e = row.extra
    log(f"clients {row.name:<24} yizhan {row.yizhan:>8,.0f}  rabbitmq {row.reference:>8,.0f} msg/s "
        f"ratio {row.ratio:.2f}x  cpu/msg {e['cpu_yizhan_us']} / {e.get('cpu_reference_us', '-')} us  "
        f"peak RSS {e['rss_yizhan_mb']} / {e.get('rss_reference_mb', '-')} MB"
        + (f"  min received/s {e['min_per_second_yizhan']}" if "min_per_second_yizhan" in e else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 second per client")
    parser.add_argument("--only", default=",".join(CLIENTS), help="comma-separated: " + ",".join(CLIENTS))
    parser.add_argument("--seconds", type=float, help="duration per client and broker (default 10)")
    parser.add_argument("--watermark", help="yizhan's amqp-vm-memory-high-watermark-absolute, e.g. 512MB")
    parser.add_argument("--yizhan-only", action="store_true", help="no RabbitMQ rows")
    args = parser.parse_args()
    config = {"amqp-vm-memory-high-watermark-absolute": args.watermark} if args.watermark else None
    run(args.quick, only=args.only.split(","), seconds=args.seconds, config=config,
        reference=not args.yizhan_only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

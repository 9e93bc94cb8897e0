"""A durable queue far larger than memory (issue 5): the server's RSS while it holds millions of
1 KB persistent messages, across a restart, and while they are consumed.

`python bench/big_queue.py --messages 5000000` starts `python -m yizhan serve` on a data dir,
publishes the messages into one durable queue from several raw-frame publisher processes with
confirms (each body starts with its publisher and sequence number), samples the server's RSS
(/proc/PID/status VmRSS; VmHWM is the peak), takes a head sample without acking it, restarts
the server (SIGTERM; boot time and RSS after boot), then consumes (all, or --sample messages)
checking that every publisher's messages arrive in order with their exact properties and that
the unacked head sample comes back redelivered. The data dir (several GB for 5M messages) is
deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from amqp_client import FRAME_END, HEADER, LONGLONG, METHOD, BrokerClosed, Connection  # noqa: E402
from pamqp import commands, frame, header  # noqa: E402

QUEUE = "big"
STAMP = struct.Struct(">HI")  # publisher number, sequence number: the first 6 body bytes
PROPERTIES = commands.Basic.Properties(delivery_mode=2, content_type="application/x-bench",
                                       headers={"bench": "big_queue"})


def header_payload(size: int) -> bytes:
    raw = frame.marshal(header.ContentHeader(0, size, PROPERTIES), 1)
    return raw[7:-1]


class Server:
    """One `yizhan serve` process on a data dir, with an RSS sampler thread."""

    def __init__(self, data_dir: str, log_path: str):
        self.log_path = log_path
        self.log = open(log_path, "w")
        began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0",
             "--http-port", "0", "--data-dir", data_dir], stdout=self.log,
            stderr=subprocess.STDOUT)
        self.peak_rss = 0
        self.sampling = True
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        self.port = self._wait_ready(began)
        self.boot_seconds = time.monotonic() - began

    def _wait_ready(self, began: float) -> int:
        while time.monotonic() - began < 3600:
            text = open(self.log_path).read()
            if " ready" in text:
                return int(re.search(r"AMQP listening on [\d.]+:(\d+)", text).group(1))
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + text[-3000:])
            time.sleep(0.05)
        raise RuntimeError("server did not become ready")

    def status(self) -> dict[str, int]:
        out = {}
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS", "VmHWM")):
                        key, value = line.split(":")
                        out[key] = int(value.split()[0]) * 1024
        except OSError:
            pass
        return out

    def _sample(self) -> None:
        while self.sampling and self.process.poll() is None:
            self.peak_rss = max(self.peak_rss, self.status().get("VmRSS", 0))
            time.sleep(0.2)

    def stop(self) -> float:
        began = time.monotonic()
        self.sampling = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=600)
        self.log.close()
        return time.monotonic() - began


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


# -- client processes -----------------------------------------------------------------------
def publisher(port: int, number: int, count: int, size: int, window: int) -> None:
    conn = Connection(port, timeout=600)
    conn.open_channel(1)
    conn.rpc(1, commands.Confirm.Select(), commands.Confirm.SelectOk)
    method = frame.marshal(commands.Basic.Publish(exchange="", routing_key=QUEUE), 1)
    head = frame.marshal(header.ContentHeader(0, size, PROPERTIES), 1)
    body_frame = struct.pack(">BHI", 3, 1, size)
    pad = b"x" * (size - STAMP.size) + bytes([FRAME_END])
    sent = confirmed = 0
    step = min(200, window // 2)
    while confirmed < count:
        if sent < count and sent - confirmed + step <= window:
            n = min(step, count - sent)
            conn.sock.sendall(b"".join(method + head + body_frame + STAMP.pack(number, seq) + pad
                                       for seq in range(sent, sent + n)))
            sent += n
            continue
        conn.fill()
        buf, pos, end_of_data = conn.buf, conn.pos, len(conn.buf)
        while end_of_data - pos >= 7:
            kind, _, length = HEADER.unpack_from(buf, pos)
            end = pos + 8 + length
            if end > end_of_data:
                break
            if kind == 1:
                class_id, method_id = METHOD.unpack_from(buf, pos + 7)
                if (class_id, method_id) == (60, 80):
                    tag = LONGLONG.unpack_from(buf, pos + 11)[0]
                    confirmed = max(confirmed, tag)  # yizhan confirms one by one, in order
                elif (class_id, method_id) in ((10, 50), (20, 40)):
                    raise BrokerClosed(bytes(buf[pos:end]))
            pos = end
        conn.pos = pos
    conn.close()


def consumer(port: int, count: int, size: int, ack: bool, redelivered_head: int, prefetch: int,
             results) -> None:
    """Consume `count` messages; check per-publisher order (each publisher's messages follow
    its previous one), the exact property bytes, and that the first `redelivered_head` are
    redelivered (and no later one is)."""
    conn = Connection(port, timeout=600)
    conn.open_channel(1)
    conn.rpc(1, commands.Basic.Qos(prefetch_count=prefetch), commands.Basic.QosOk)
    conn.rpc(1, commands.Basic.Consume(queue=QUEUE, consumer_tag="c"), commands.Basic.ConsumeOk)
    expected_header = header_payload(size)
    next_seq: dict[int, int] = {}
    received = errors = redelivered_wrong = bad_props = 0
    last_tag = acked = 0
    redelivered = False
    began = time.monotonic()
    while received < count:
        conn.fill()
        buf, pos, end_of_data = conn.buf, conn.pos, len(conn.buf)
        while end_of_data - pos >= 7:
            kind, _, length = HEADER.unpack_from(buf, pos)
            end = pos + 8 + length
            if end > end_of_data:
                break
            if kind == 1:
                class_id, method_id = METHOD.unpack_from(buf, pos + 7)
                if (class_id, method_id) == (60, 60):
                    tag_at = pos + 12 + buf[pos + 11]
                    last_tag = LONGLONG.unpack_from(buf, tag_at)[0]
                    redelivered = bool(buf[tag_at + 8] & 1)
                elif (class_id, method_id) in ((10, 50), (20, 40)):
                    raise BrokerClosed(bytes(buf[pos:end]))
            elif kind == 2:
                if buf[pos + 7:end - 1] != expected_header:
                    bad_props += 1
            elif kind == 3:
                number, seq = STAMP.unpack_from(buf, pos + 7)
                if seq != next_seq.get(number, 0):
                    errors += 1
                next_seq[number] = seq + 1
                if redelivered != (received < redelivered_head):
                    redelivered_wrong += 1
                received += 1
            pos = end
        conn.pos = pos
        if ack and last_tag > acked:
            acked = last_tag
            conn.sock.sendall(struct.pack(">BHIHHQBB", 1, 1, 13, 60, 80, last_tag, 1, FRAME_END))
    seconds = time.monotonic() - began
    results.put({"received": received, "order_errors": errors, "bad_properties": bad_props,
                 "redelivered_wrong": redelivered_wrong, "seconds": seconds})
    if not ack:
        time.sleep(1.0)  # the deliveries stay unacked; the caller stops the server under us
    conn.sock.close()


def queue_count(port: int) -> int:
    conn = Connection(port, timeout=600)
    conn.open_channel(1)
    ok = conn.rpc(1, commands.Queue.Declare(queue=QUEUE, durable=True),
                  commands.Queue.DeclareOk)
    conn.close()
    return ok.message_count


def disk_usage(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


# -- the run --------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--window", type=int, default=2000, help="unconfirmed per publisher")
    parser.add_argument("--head", type=int, default=10_000,
                        help="head sample consumed without ack before the restart")
    parser.add_argument("--sample", type=int, default=0,
                        help="messages consumed after the restart (0: all)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = args.data_dir or tempfile.mkdtemp(prefix="yizhan-bigq-", dir="/tmp")
    data_dir = os.path.join(base, "data")
    log_path = os.path.join(base, "server.log")
    ctx = multiprocessing.get_context("spawn")
    figures: dict[str, object] = {"messages": args.messages, "size": args.size}
    srv = Server(data_dir, log_path)
    try:
        figures["rss_idle"] = srv.status().get("VmRSS", 0)
        assert queue_count(srv.port) == 0
        began = time.monotonic()
        share, rest = divmod(args.messages, args.publishers)
        procs = [ctx.Process(target=publisher, args=(srv.port, n, share + (n < rest), args.size,
                                                      args.window))
                 for n in range(args.publishers)]
        for p in procs:
            p.start()
        last_report = began
        while any(p.is_alive() for p in procs):
            time.sleep(1)
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                print(f"  publishing: {time.monotonic() - began:.0f} s, server RSS "
                      f"{mb(srv.status().get('VmRSS', 0))}", flush=True)
        assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
        publish_seconds = time.monotonic() - began
        figures["publish_rate"] = args.messages / publish_seconds
        figures["count_after_publish"] = queue_count(srv.port)
        status = srv.status()
        figures["rss_after_publish"] = status.get("VmRSS", 0)
        figures["hwm_publish"] = status.get("VmHWM", 0)
        figures["disk_after_publish"] = disk_usage(data_dir)
        results = ctx.Queue()
        head = ctx.Process(target=consumer, args=(srv.port, args.head, args.size, False, 0,
                                                  args.head, results))
        head.start()
        figures["head_before_restart"] = results.get(timeout=600)
        figures["shutdown_seconds"] = srv.stop()
        head.join(30)

        srv = Server(data_dir, log_path + ".2")
        figures["boot_seconds"] = srv.boot_seconds
        status = srv.status()
        figures["rss_after_boot"] = status.get("VmRSS", 0)
        figures["hwm_boot"] = status.get("VmHWM", 0)
        figures["count_after_boot"] = queue_count(srv.port)
        take = args.sample or args.messages
        results = ctx.Queue()
        drain = ctx.Process(target=consumer, args=(srv.port, take, args.size, True, args.head,
                                                   1000, results))
        drain.start()
        figures["consume_after_restart"] = results.get(timeout=7200)
        drain.join(60)
        time.sleep(1)
        figures["count_after_consume"] = queue_count(srv.port)
        figures["disk_after_consume"] = disk_usage(data_dir)
        status = srv.status()
        figures["hwm_second_run"] = status.get("VmHWM", 0)
        figures["peak_rss_sampled"] = srv.peak_rss
        srv.stop()
    finally:
        if srv.process.poll() is None:
            srv.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    report(figures)


def report(f: dict) -> None:
    n = f["messages"]
    print(f"\n{n:,} persistent messages of {f['size']} bytes in one durable queue")
    print(f"idle RSS {mb(f['rss_idle'])}")
    print(f"publish (confirms): {f['publish_rate']:,.0f} msg/s; queue count {f['count_after_publish']:,}")
    print(f"RSS after publishing {mb(f['rss_after_publish'])}, peak (VmHWM) {mb(f['hwm_publish'])}; "
          f"data dir {f['disk_after_publish'] / 1e9:.2f} GB")
    print(f"head sample before restart (not acked): {f['head_before_restart']}")
    print(f"shutdown {f['shutdown_seconds']:.1f} s; boot {f['boot_seconds']:.1f} s; "
          f"RSS after boot {mb(f['rss_after_boot'])}, peak during boot {mb(f['hwm_boot'])}; "
          f"queue count {f['count_after_boot']:,}")
    c = f["consume_after_restart"]
    print(f"consumed after restart: {c['received']:,} in {c['seconds']:.0f} s "
          f"({c['received'] / c['seconds']:,.0f} msg/s); order errors {c['order_errors']}, "
          f"wrong properties {c['bad_properties']}, wrong redelivered flags "
          f"{c['redelivered_wrong']}")
    print(f"after consuming: queue count {f['count_after_consume']:,}, data dir "
          f"{f['disk_after_consume'] / 1e6:.1f} MB, second run peak RSS (VmHWM) "
          f"{mb(f['hwm_second_run'])}, sampled peak {mb(f['peak_rss_sampled'])}")


if __name__ == "__main__":
    main()

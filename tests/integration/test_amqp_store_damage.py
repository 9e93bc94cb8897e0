"""A damaged message store through real restarts (issue 17): 3,000 confirmed persistent
messages, one byte flipped in the middle of the last segment. `yizhan serve` refuses to start
with one line naming the file and offset (it used to cut the segment there, losing half of them
silently); with `--amqp-recover-damaged` (or `amqp-recover-damaged yes` in the config file) it
starts, keeps a copy of the file in quarantine, logs the loss, and serves the other 2,999."""

from __future__ import annotations

import subprocess
import sys

import pika
import pytest

from yizhan.testing.process import ServerProcess

COUNT = 3000
PROPS = pika.BasicProperties(delivery_mode=2)


def fill_and_damage(data_dir, tmp_path):
    server = ServerProcess(data_dir, tmp_path / "fill.log")
    try:
        connection = server.connect()
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare("dq", durable=True)
        for i in range(COUNT):
            channel.basic_publish("", "dq", b"message %04d" % i, PROPS)
        connection.close()
    finally:
        server.stop()
    segments = sorted((data_dir / "amqp" / "messages").glob("*.seg"))
    last = max(segments, key=lambda path: path.stat().st_size)
    data = bytearray(last.read_bytes())
    data[data.index(b"message 1500")] ^= 0x20
    last.write_bytes(bytes(data))
    return last


@pytest.mark.parametrize("how", ["flag", "config"])
def test_damage_refuses_the_start_then_the_option_recovers_the_rest(tmp_path, how):
    data_dir = tmp_path / "data"
    damaged = fill_and_damage(data_dir, tmp_path)
    refused = subprocess.run(
        [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0", "--http-port", "0",
         "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"yizhan: {damaged}: corrupt message record at byte ")
    assert "--amqp-recover-damaged" in lines[0]
    if how == "flag":
        extra = ("--amqp-recover-damaged",)
    else:
        config = tmp_path / "yizhan.conf"
        config.write_text("amqp-recover-damaged yes\n")
        extra = ("--config", str(config))
    server = ServerProcess(data_dir, tmp_path / "recover.log", *extra)
    try:
        connection = server.connect()
        channel = connection.channel()
        assert channel.queue_declare("dq", durable=True, passive=True).method.message_count == COUNT - 1
        bodies = [channel.basic_get("dq", auto_ack=True)[2] for _ in range(COUNT - 1)]
        assert bodies == [b"message %04d" % i for i in range(COUNT) if i != 1500]
        connection.close()
    finally:
        server.stop()
    log = open(tmp_path / "recover.log").read()
    assert f"{damaged} was damaged" in log and "1 messages" in log
    kept = list((data_dir / "amqp" / "quarantine").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(damaged.name)

"""`yizhan serve` as a user runs it: listeners logged, clean shutdown on SIGTERM/SIGINT, a clear
error (not a traceback) for a taken port, and the config file."""

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from yizhan.testing.raw import RawClient


def start(*args, tmp_path):
    cmd = [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0", "--http-port", "0",
           "--data-dir", str(tmp_path / "data"), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_port(proc) -> tuple[int, list[str]]:
    lines = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if " ready" in line:
            port = next(int(m.group(1)) for l in lines if (m := re.search(r"Redis listening on [\d.]+:(\d+)", l)))
            return port, lines
    proc.kill()
    raise AssertionError("server did not become ready:\n" + "".join(lines))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_logs_listeners_and_stops_cleanly(tmp_path, signum):
    proc = start(tmp_path=tmp_path)
    try:
        port, lines = wait_for_port(proc)
        text = "".join(lines)
        assert "AMQP listening on" in text and "management HTTP API listening on" in text
        with RawClient("127.0.0.1", port) as raw:
            assert raw.call("PING") == b"+PONG\r\n"
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "Traceback" not in out


def test_taken_port_gives_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "yizhan", "serve", "--port", str(port), "--amqp-port", "0",
             "--http-port", "0"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_file_sets_redis_parameters(tmp_path):
    conf = tmp_path / "yizhan.conf"
    conf.write_text("# redis.conf style\nrequirepass hunter2\nmaxmemory 10mb\n")
    proc = start("--config", str(conf), tmp_path=tmp_path)
    try:
        port, _ = wait_for_port(proc)
        with RawClient("127.0.0.1", port) as raw:
            assert raw.call("PING") == b"-NOAUTH Authentication required.\r\n"
            assert raw.call("AUTH", "hunter2") == b"+OK\r\n"
            assert raw.call("CONFIG", "GET", "maxmemory") == b"*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_unreadable_config_file_is_reported(tmp_path):
    result = subprocess.run([sys.executable, "-m", "yizhan", "serve", "--config", str(tmp_path / "none.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot read config file" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_dump_file_is_reported_not_a_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "dump.rdb").write_bytes(b"REDIS0010\xfa\x09redis-ver\x067.0.15garbage")
    result = subprocess.run(
        [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0", "--http-port", "0",
         "--data-dir", str(data)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "dump.rdb" in result.stderr and "Traceback" not in result.stderr


def test_config_file_adds_amqp_users_and_vhosts(tmp_path):
    import pika

    conf = tmp_path / "yizhan.conf"
    conf.write_text("amqp-vhost staging\namqp-user app s3cret prod /\n")
    proc = start("--config", str(conf), tmp_path=tmp_path)
    try:
        _, lines = wait_for_port(proc)
        amqp_port = next(int(m.group(1)) for l in lines if (m := re.search(r"AMQP listening on [\d.]+:(\d+)", l)))

        def connect(user, password, vhost):
            params = pika.ConnectionParameters("127.0.0.1", amqp_port, vhost, pika.PlainCredentials(user, password),
                                               connection_attempts=1)
            return pika.BlockingConnection(params)

        for vhost in ("prod", "/"):
            connection = connect("app", "s3cret", vhost)
            connection.channel().queue_declare("", exclusive=True)
            connection.close()
        with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
            connect("guest", "guest", "staging")  # exists, but guest has no permission there
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            connect("app", "wrong", "prod")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_bad_acl_rules_abort_the_start(tmp_path):
    conf = tmp_path / "yizhan.conf"
    conf.write_text("user alice on >pw +nosuchcommand\n")
    result = subprocess.run(
        [sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0", "--http-port", "0",
         "--data-dir", str(tmp_path / "data"), "--config", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert ("Aborting Redis startup because of ACL errors: Error loading ACL rule '+nosuchcommand' for the user "
            "named 'alice': Unknown command or category name in ACL") in result.stderr
    assert "Traceback" not in result.stderr

"""TLS on both protocols with real clients and certificates made at run time (openssl): the
Redis TLS port against redis-server started with the same `tls-*` options (redis-cli `--tls`,
redis-py `ssl=True`, refusals without or with a foreign client certificate), and the AMQPS
listener with pika's SSLOptions and aio-pika's `amqps://`."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import replace

import aio_pika
import pika
import pytest
import redis
import requests

from yizhan import Server
from yizhan.testing.certs import make_certificates
from yizhan.testing.rabbitmq import RabbitMQReference
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference, free_port


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certs"))


BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


def tls_options(certs, **more: str) -> dict[str, str]:
    options = {"tls-cert-file": certs.server_cert, "tls-key-file": certs.server_key,
               "tls-ca-cert-file": certs.ca}
    options.update({name.replace("_", "-"): value for name, value in more.items()})
    return options


class Pair:
    """yizhan and redis-server with the same TLS options; `ports` are their TLS ports."""

    def __init__(self, yizhan: Server, reference: RedisReference, yizhan_tls: int, reference_tls: int):
        self.yizhan, self.reference = yizhan, reference
        self.ports = (yizhan_tls, reference_tls)


def start_pair(certs, **more: str) -> Pair:
    options = tls_options(certs, **more)
    yizhan_tls, reference_tls = free_port(), free_port()
    # (a plain port of its own: `port 0` beside a TLS port means no plain port, as in Redis)
    server = Server(port=free_port(), amqp_port=0, http_port=0, save="", tls_port=str(yizhan_tls),
                    **{name.replace("-", "_"): value for name, value in options.items()})
    server.start()
    args = [word for name, value in options.items() for word in (f"--{name}", value)]
    reference = RedisReference("redis-server", "--tls-port", str(reference_tls), *args).start()
    return Pair(server, reference, yizhan_tls, reference_tls)


def stop_pair(pair: Pair) -> None:
    pair.yizhan.stop()
    pair.reference.stop()


@pytest.fixture(scope="module")
def pair(certs):
    started = start_pair(certs)
    yield started
    stop_pair(started)


def client(port: int, certs, cert: str | None = "client", **more) -> redis.Redis:
    """redis-py over TLS, checking the server against the CA; `cert` names the client
    certificate to present (None: none)."""
    keys = {}
    if cert is not None:
        keys = {"ssl_certfile": certs.path(f"{cert}.crt"), "ssl_keyfile": certs.path(f"{cert}.key")}
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=certs.ca,
                       socket_timeout=10, **keys, **more)


def outcome(port: int, certs, *command, cert: str | None = "client", **more):
    """The reply to `command` over a fresh TLS connection, or the class of the error raised."""
    connection = client(port, certs, cert, **more)
    try:
        return connection.execute_command(*command)
    except redis.RedisError as exc:
        return type(exc).__name__
    finally:
        connection.close()


def raw_ping(port: int, certs, newest: ssl.TLSVersion) -> bytes | type:
    """PING over a plain ssl socket offering protocols up to `newest`: the reply, or the
    class of the error raised."""
    context = ssl.create_default_context(cafile=certs.ca)
    context.maximum_version = newest
    return _ping_with(context, port, certs)


def redis_cli(port: int, certs, *args: str, cert: str | None = "client") -> subprocess.CompletedProcess:
    binary = shutil.which("redis-cli")
    assert binary, "redis-cli is missing: `apt-get install redis-tools`"
    tls = ["--tls", "--cacert", certs.ca]
    if cert is not None:
        tls += ["--cert", certs.path(f"{cert}.crt"), "--key", certs.path(f"{cert}.key")]
    return subprocess.run([binary, "-p", str(port), *tls, "--no-raw", *args], capture_output=True,
                          text=True, timeout=30)


# -- Redis: the same replies and refusals as redis-server -------------------------------------

SESSION = [
    ["SET", "greeting", "hello over tls"],
    ["GET", "greeting"],
    ["INCR", "counter"],
    ["MGET", "greeting", "counter", "missing"],
    ["HELLO", "3"],
    ["CONFIG", "GET", "tls-auth-clients"],
    ["CONFIG", "GET", "tls-protocols"],
    ["CONFIG", "SET", "tls-auth-clients", "maybe"],
    ["NOSUCHCOMMAND"],
]


def test_redis_cli_tls_prints_the_same(pair, certs):
    outputs = []
    for port in pair.ports:
        assert redis_cli(port, certs, "FLUSHALL").stdout == "OK\n"
        outputs.append([redis_cli(port, certs, *command).stdout for command in SESSION
                        if command[0] != "HELLO"])
    assert outputs[0] == outputs[1]
    assert outputs[0][1] == '"hello over tls"\n'


def test_redis_cli_without_a_client_certificate_is_refused(pair, certs):
    for port in pair.ports:
        for cert in (None, "stranger"):
            result = redis_cli(port, certs, "PING", cert=cert)
            assert result.returncode != 0 and "PONG" not in result.stdout, (port, cert, result)


def test_redis_py_replies_as_redis_server(pair, certs):
    replies = []
    for port in pair.ports:
        connection = client(port, certs)
        connection.flushall()
        replies.append([outcome(port, certs, *command) for command in SESSION if command[0] != "HELLO"])
        connection.close()
    assert replies[0] == replies[1]
    assert replies[0][1] == b"hello over tls"


def test_redis_py_resp3_over_tls(pair, certs):
    replies = []
    for port in pair.ports:
        connection = client(port, certs, protocol=3)
        connection.flushall()
        connection.hset("h", mapping={"a": "1"})
        replies.append((connection.hgetall("h"), connection.execute_command("CONFIG", "GET", "tls-port")))
        connection.close()
    assert replies[0][0] == replies[1][0] == {b"a": b"1"}
    assert replies[0][1] == {b"tls-port": str(pair.ports[0]).encode()}
    assert replies[1][1] == {b"tls-port": str(pair.ports[1]).encode()}


@pytest.mark.parametrize("cert", [None, "stranger"])
def test_redis_py_without_the_cas_client_certificate_is_refused(pair, certs, cert):
    for port in pair.ports:
        assert outcome(port, certs, "PING", cert=cert) == "ConnectionError"


def test_plain_text_on_the_tls_port_gets_no_reply(pair):
    for port in pair.ports:
        connection = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        with pytest.raises(redis.ConnectionError):
            connection.ping()
        connection.close()


def test_the_plain_port_still_serves_the_same_data(pair, certs):
    client(pair.ports[0], certs).set("shared", "both ports")
    assert redis.Redis(port=pair.yizhan.port).get("shared") == b"both ports"


def test_a_tls_client_is_served_after_a_busy_script(pair, certs):
    """yizhan only, a documented difference: while a script is busy a TLS connection is not read
    (its SSL state belongs to the event loop), so its PING is answered after SCRIPT KILL, with
    +PONG where redis-server would answer -BUSY at once. No timing is asserted."""
    plain = pair.yizhan.port
    context = ssl.create_default_context(cafile=certs.ca)
    context.load_cert_chain(certs.client_cert, certs.client_key)
    with RawClient("127.0.0.1", plain, timeout=30) as admin, \
            context.wrap_socket(socket.create_connection(("127.0.0.1", pair.ports[0]), timeout=30),
                                server_hostname="127.0.0.1") as tls:
        tls.sendall(b"PING\r\n")
        assert tls.recv(64) == b"+PONG\r\n"
        assert admin.call("CONFIG", "SET", "busy-reply-threshold", "100") == b"+OK\r\n"
        caller = RawClient("127.0.0.1", plain, timeout=30)
        thread = threading.Thread(target=caller.call, args=("EVAL", "while true do end", "0"))
        thread.start()
        try:
            while admin.call("PING") != BUSY:
                assert thread.is_alive()
                time.sleep(0.01)
            tls.sendall(b"PING\r\n")
            assert admin.call("PING") == BUSY  # the server still answers plain clients
            assert admin.call("SCRIPT", "KILL") == b"+OK\r\n"
            assert tls.recv(64) == b"+PONG\r\n"
        finally:
            if thread.is_alive():
                admin.call("SCRIPT", "KILL")
            thread.join(30)
            caller.close()
            admin.call("CONFIG", "SET", "busy-reply-threshold", "5000")


@pytest.mark.parametrize("auth, cert, answered", [
    ("no", None, True), ("no", "stranger", True),
    ("optional", None, True), ("optional", "client", True), ("optional", "stranger", False),
])
def test_tls_auth_clients_no_and_optional(certs, auth, cert, answered):
    started = start_pair(certs, tls_auth_clients=auth)
    try:
        results = [outcome(port, certs, "PING", cert=cert) for port in started.ports]
    finally:
        stop_pair(started)
    assert results[0] == results[1] == (True if answered else "ConnectionError")


def test_config_set_remakes_the_tls_setup(certs):
    """CONFIG SET of tls-* parameters as redis-server applies them: a bad file refused with
    its reason and nothing changed, tls-auth-clients taking effect for new connections,
    tls-port moving the listener."""
    started = start_pair(certs)
    try:
        ports = list(started.ports)
        refused = [outcome(port, certs, "CONFIG", "SET", "tls-cert-file", "/nonexistent.pem") for port in ports]
        bad_port = [outcome(port, certs, "CONFIG", "SET", "tls-port", str(started.yizhan.port))
                    for port in ports]
        kept = [outcome(port, certs, "CONFIG", "GET", "tls-cert-file") for port in ports]
        assert [outcome(port, certs, "PING", cert=None) for port in ports] == ["ConnectionError"] * 2
        changed = [outcome(port, certs, "CONFIG", "SET", "tls-auth-clients", "no") for port in ports]
        without_cert = [outcome(port, certs, "PING", cert=None) for port in ports]
        moved = [free_port(), free_port()]
        answers = [outcome(port, certs, "CONFIG", "SET", "tls-port", str(new)) for port, new in zip(ports, moved)]
        deadline = time.monotonic() + 30
        while outcome(moved[0], certs, "PING") != True and time.monotonic() < deadline:  # noqa: E712
            time.sleep(0.05)  # (yizhan starts serving the new port in the next loop turns)
        on_new_port = [outcome(port, certs, "CONFIG", "GET", "tls-port") for port in moved]
        old_port = [outcome(port, certs, "PING") for port in ports]
    finally:
        stop_pair(started)
    assert refused[0] == refused[1] == "ResponseError"
    assert kept[0] == {b"tls-cert-file": certs.server_cert.encode()} and kept[0] == kept[1]
    assert changed == [b"OK", b"OK"] and without_cert == [True, True]
    assert answers == [b"OK", b"OK"]
    assert on_new_port == [{b"tls-port": str(new).encode()} for new in moved]
    assert old_port == ["ConnectionError", "ConnectionError"]
    assert bad_port[0] == bad_port[1] == "ResponseError"


def test_config_set_errors_match(certs):
    started = start_pair(certs)
    try:
        texts = []
        for port in started.ports:
            connection = client(port, certs)
            row = []
            for name, value in (("tls-cert-file", "/nonexistent.pem"), ("tls-port", str(started.yizhan.port)),
                                ("tls-protocols", "TLSv9"), ("tls-auth-clients", "maybe")):
                with pytest.raises(redis.ResponseError) as info:
                    connection.config_set(name, value)
                row.append(str(info.value))
            connection.close()
            texts.append(row)
    finally:
        stop_pair(started)
    assert texts[0] == texts[1]
    assert texts[0][0] == ("CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to "
                           "update TLS configuration. Check server logs.")


def test_tls_protocols_refuses_older_clients(certs):
    started = start_pair(certs, tls_protocols="TLSv1.3")
    try:
        results = [raw_ping(port, certs, ssl.TLSVersion.TLSv1_2) for port in started.ports]
        newest = [outcome(port, certs, "PING") for port in started.ports]
        reported = [outcome(port, certs, "CONFIG", "GET", "tls-protocols") for port in started.ports]
    finally:
        stop_pair(started)
    # refused in the handshake by both (redis-server sends a protocol_version alert first;
    # yizhan's event loop closes without one: the client sees an EOF in the handshake)
    assert all(isinstance(r, type) and issubclass(r, ssl.SSLError) for r in results), results
    assert newest == [True, True]
    assert reported[0] == reported[1] == {b"tls-protocols": b"TLSv1.3"}


def wait_for_log(process: subprocess.Popen, log_path, text: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        content = log_path.read_text()
        if text in content or process.poll() is not None:
            return content
        time.sleep(0.05)
    return log_path.read_text()


def test_port_0_with_a_tls_port_listens_on_tls_only(certs, tmp_path):
    """`port 0` and `tls-port N` in a config file, as redis.conf writes a TLS-only server."""
    port = free_port()
    conf = tmp_path / "yizhan.conf"
    conf.write_text(f"port 0\ntls-port {port}\ntls-cert-file {certs.server_cert}\n"
                    f"tls-key-file {certs.server_key}\ntls-ca-cert-file {certs.ca}\n"
                    "save \"\"\namqp-port 0\nhttp-port 0\n")
    log_path = tmp_path / "log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "yizhan", "serve", "--config", str(conf),
                                    "--data-dir", str(tmp_path / "data")], stdout=log, stderr=subprocess.STDOUT)
    try:
        text = wait_for_log(process, log_path, " ready")
        assert f"Redis TLS listening on 127.0.0.1:{port}" in text, text
        assert "Redis listening" not in text
        assert outcome(port, certs, "CONFIG", "GET", "port") == {b"port": b"0"}
        assert client(port, certs).info("server")["tcp_port"] == 0
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("missing", ["tls-ca-cert-file", "tls-cert-file", "tls-key-file"])
def test_a_tls_port_without_its_files_refuses_to_start(certs, tmp_path, missing):
    options = {name: value for name, value in tls_options(certs).items() if name != missing}
    args = [word for name, value in options.items() for word in (f"--{name}", value)]
    yizhan = subprocess.run([sys.executable, "-m", "yizhan", "serve", "--port", "0", "--amqp-port", "0",
                             "--http-port", "0", "--data-dir", str(tmp_path / "data"),
                             "--tls-port", str(free_port()), *args],
                            capture_output=True, text=True, timeout=60)
    reference = subprocess.run(["redis-server", "--port", "0", "--tls-port", str(free_port()),
                                "--save", "", "--dir", str(tmp_path), *args],
                               capture_output=True, text=True, timeout=60)
    assert reference.returncode == 1 and "Failed to configure TLS" in reference.stdout
    assert yizhan.returncode == 1 and "Failed to configure TLS" in yizhan.stderr


# -- AMQPS ----------------------------------------------------------------------------------

def amqps_server(certs, **ssl_options) -> Server:
    server = Server(port=0, amqp_port=0, http_port=0, save="")
    server.config = replace(server.config, amqps_port=0, amqp_ssl_certfile=certs.server_cert,
                            amqp_ssl_keyfile=certs.server_key, amqp_ssl_cacertfile=certs.ca, **ssl_options)
    return server.start()


def pika_parameters(server: Server | int, certs, cert: str | None) -> pika.ConnectionParameters:
    """pika's parameters for the AMQPS port of `server` (or that port number), with `cert`'s
    client certificate (None: none)."""
    context = ssl.create_default_context(cafile=certs.ca)
    if cert is not None:
        context.load_cert_chain(certs.path(f"{cert}.crt"), certs.path(f"{cert}.key"))
    port = server if isinstance(server, int) else server.runtime.amqps_port
    return pika.ConnectionParameters("127.0.0.1", port,
                                     ssl_options=pika.SSLOptions(context, "127.0.0.1"),
                                     connection_attempts=1, socket_timeout=10)


def pika_round_trip(parameters: pika.ConnectionParameters) -> bytes:
    connection = pika.BlockingConnection(parameters)
    try:
        channel = connection.channel()
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.confirm_delivery()
        channel.basic_publish("", queue, b"over amqps")
        method, _, body = channel.basic_get(queue, auto_ack=True)
        return body
    finally:
        connection.close()


@pytest.fixture(scope="module")
def amqps(certs):
    server = amqps_server(certs, amqp_ssl_verify="verify_peer", amqp_ssl_fail_if_no_peer_cert=True)
    yield server
    server.stop()


def test_pika_over_amqps_with_a_client_certificate(amqps, certs):
    assert amqps.runtime.amqps_port not in (0, amqps.amqp_port)
    assert pika_round_trip(pika_parameters(amqps, certs, "client")) == b"over amqps"


@pytest.mark.parametrize("cert", [None, "stranger"])
def test_fail_if_no_peer_cert_refuses_pika(amqps, certs, cert):
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika_round_trip(pika_parameters(amqps, certs, cert))


def test_verify_peer_without_fail_if_no_peer_cert_accepts_no_certificate(certs):
    server = amqps_server(certs, amqp_ssl_verify="verify_peer", amqp_ssl_fail_if_no_peer_cert=False)
    try:
        assert pika_round_trip(pika_parameters(server, certs, None)) == b"over amqps"
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            pika_round_trip(pika_parameters(server, certs, "stranger"))
    finally:
        server.stop()


def test_verify_none_accepts_any_client(certs):
    server = amqps_server(certs)  # RabbitMQ's default: verify_none
    try:
        assert pika_round_trip(pika_parameters(server, certs, "stranger")) == b"over amqps"
    finally:
        server.stop()


@pytest.mark.slow
def test_amqps_refusals_as_rabbitmq(amqps, certs):
    """The same client certificates against RabbitMQ 3.10 with ssl_options verify_peer and
    fail_if_no_peer_cert true: accepted with the CA's, refused without one or with another
    CA's, on both brokers."""
    port = free_port()
    options = (f"listeners.ssl.1 = 127.0.0.1:{port}\nssl_options.cacertfile = {certs.ca}\n"
               f"ssl_options.certfile = {certs.server_cert}\nssl_options.keyfile = {certs.server_key}\n"
               "ssl_options.verify = verify_peer\nssl_options.fail_if_no_peer_cert = true\n")
    with RabbitMQReference(extra_config=options) as rabbitmq:
        results = []
        for amqps_port in (amqps.runtime.amqps_port, port):
            row = []
            for cert in ("client", None, "stranger"):
                parameters = pika_parameters(amqps_port, certs, cert)
                try:
                    row.append(pika_round_trip(parameters))
                except pika.exceptions.AMQPConnectionError:
                    row.append("refused")
            results.append(row)
    assert results[0] == results[1] == [b"over amqps", "refused", "refused"]


def test_aio_pika_amqps_url(amqps, certs):
    async def run() -> bytes:
        context = ssl.create_default_context(cafile=certs.ca)
        context.load_cert_chain(certs.client_cert, certs.client_key)
        url = f"amqps://guest:guest@127.0.0.1:{amqps.runtime.amqps_port}/"
        connection = await aio_pika.connect(url, ssl_context=context)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue("", exclusive=True)
            await channel.default_exchange.publish(aio_pika.Message(b"aio over amqps"), routing_key=queue.name)
            message = await queue.get(timeout=10)
            await message.ack()
            return message.body

    assert asyncio.run(run()) == b"aio over amqps"


def test_the_overview_lists_the_amqps_listener(amqps, certs):
    overview = requests.get(f"http://127.0.0.1:{amqps.runtime.http_port}/api/overview",
                            auth=("guest", "guest"), timeout=10).json()
    protocols = [row["protocol"] for row in overview["listeners"]]
    assert protocols[:2] == ["amqp", "amqp/ssl"]  # RabbitMQ's order
    options = overview["listeners"][1]["socket_opts"]
    assert overview["listeners"][1]["port"] == amqps.runtime.amqps_port
    assert (options["certfile"], options["keyfile"], options["cacertfile"]) == (
        certs.server_cert, certs.server_key, certs.ca)
    assert options["verify"] == "verify_peer" and options["fail_if_no_peer_cert"] is True


def test_the_plain_amqp_port_still_serves(amqps):
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", amqps.amqp_port))
    assert connection.is_open
    connection.close()


# -- the management API over HTTPS (RabbitMQ's management.ssl.*) ------------------------------

def test_management_api_over_https(certs):
    server = Server(port=0, amqp_port=0, http_port=0, save="")
    server.config = replace(server.config, management_ssl_port=0, management_ssl_certfile=certs.server_cert,
                            management_ssl_keyfile=certs.server_key)
    server.start()
    try:
        port = server.runtime.https_port
        assert port not in (0, server.runtime.http_port)
        secure = requests.get(f"https://127.0.0.1:{port}/api/overview", auth=("guest", "guest"),
                              verify=certs.ca, timeout=10)
        plain = requests.get(f"http://127.0.0.1:{server.runtime.http_port}/api/overview",
                             auth=("guest", "guest"), timeout=10)
        assert secure.status_code == plain.status_code == 200
        assert secure.json().keys() == plain.json().keys()
        https = [row for row in plain.json()["listeners"] if row["protocol"] == "https"]
        assert https == [{"node": https[0]["node"], "protocol": "https", "ip_address": "127.0.0.1",
                          "port": port, "socket_opts": {"port": port, "ssl": True, "ssl_opts": {
                              "keyfile": certs.server_key, "certfile": certs.server_cert,
                              "ip": "127.0.0.1", "port": port}}}]
        refused = requests.get(f"https://127.0.0.1:{port}/api/overview", auth=("guest", "wrong"),
                               verify=certs.ca, timeout=10)
        assert refused.status_code == 401
        with pytest.raises(requests.exceptions.ConnectionError):  # plain HTTP on the HTTPS port
            requests.get(f"http://127.0.0.1:{port}/api/overview", auth=("guest", "guest"), timeout=10)
    finally:
        server.stop()


def cipher_ping(port: int, certs, cipher: str) -> bytes | type:
    """PING over TLSv1.2 offering only `cipher`: the reply, or the class of the error raised."""
    context = ssl.create_default_context(cafile=certs.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(cipher)
    return _ping_with(context, port, certs)


def _ping_with(context: ssl.SSLContext, port: int, certs) -> bytes | type:
    """PING over a plain ssl socket made with `context` (the client certificate added): the
    reply, or the class of the error raised."""
    context.load_cert_chain(certs.client_cert, certs.client_key)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"PING\r\n")
                return tls.recv(64)
    except OSError as exc:
        return type(exc)


def _refused(result) -> bool:
    """A failed handshake: redis-server sends OpenSSL's alert (SSLError), yizhan's asyncio
    transport closes without flushing it (SSLEOFError, a subclass)."""
    return isinstance(result, type) and issubclass(result, ssl.SSLError)


def test_tls_ciphers_limit_the_handshake_as_redis_s(certs):
    """tls-ciphers: a client offering only another TLSv1.2 cipher fails the handshake on both
    servers; CONFIG SET of a cipher list OpenSSL does not know is refused alike, and one it
    knows applies at once. tls-prefer-server-ciphers and tls-ca-cert-dir are taken too."""
    pair = start_pair(certs, tls_ciphers="ECDHE-RSA-AES128-GCM-SHA256", tls_prefer_server_ciphers="yes",
                      tls_ca_cert_dir=str(certs.path("")))
    try:
        for port in pair.ports:
            assert cipher_ping(port, certs, "ECDHE-RSA-AES128-GCM-SHA256") == b"+PONG\r\n"
            assert _refused(cipher_ping(port, certs, "ECDHE-RSA-AES256-GCM-SHA384"))
        for plain in (pair.yizhan.port, pair.reference.port):
            with RawClient("127.0.0.1", plain) as raw:
                assert raw.call("CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER") == (
                    b"-ERR CONFIG SET failed (possibly related to argument 'tls-ciphers') - Unable to update "
                    b"TLS configuration. Check server logs.\r\n")
                assert raw.call("CONFIG", "SET", "tls-ciphers", "ECDHE-RSA-AES256-GCM-SHA384") == b"+OK\r\n"
        for port in pair.ports:
            assert cipher_ping(port, certs, "ECDHE-RSA-AES256-GCM-SHA384") == b"+PONG\r\n"
            assert _refused(cipher_ping(port, certs, "ECDHE-RSA-AES128-GCM-SHA256"))
    finally:
        stop_pair(pair)

"""Start and stop a real RabbitMQ (Debian's rabbitmq-server 3.10) on free ports in a temporary
directory, as the reference that AMQP differential tests, examples and benchmarks compare yizhan
against.

    with RabbitMQReference() as ref:
        pika.BlockingConnection(pika.URLParameters(ref.url))

The node is private to this object: its own epmd on a free port (started here in the foreground,
so it can be stopped here), a unique node name, its own Mnesia/log/config directories, a HOME with
an Erlang cookie, and no plugins unless asked: `RabbitMQReference(management=True)` enables
rabbitmq_management (and rabbitmq_prometheus) with their listeners on free ports (`.http_port`,
`.metrics_port`); `plugins=("rabbitmq_shovel", "rabbitmq_federation")` enables more plugins
(through the same enabled_plugins file). A missing rabbitmq-server, or a plugin missing from its
plugins directory, is an error, never a skip: CI cannot pass without its reference.

`ctl(*args)` runs rabbitmqctl against the node (same node name, epmd port, HOME and cookie),
e.g. `ref.ctl("export_definitions", path)`; `ctl_env()` is that environment for other tools.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from yizhan.testing.process import descendants, terminate
from yizhan.testing.reference import ReferenceUnavailable, free_port

SERVER_SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmq-server"   # the wrapper in /usr/sbin su's to rabbitmq
PLUGINS_DIRS = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/plugins"
CTL_SCRIPT = "/usr/lib/rabbitmq/bin/rabbitmqctl"
CTL_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

CONFIG = """\
listeners.tcp.1 = 127.0.0.1:{port}
loopback_users.guest = true
disk_free_limit.absolute = 1MB
vm_memory_high_watermark.relative = 0.8
log.console = false
log.file.level = warning
"""
MANAGEMENT_CONFIG = """\
management.tcp.port = {http_port}
management.tcp.ip = 127.0.0.1
collect_statistics_interval = 500
prometheus.tcp.port = {metrics_port}
prometheus.tcp.ip = 127.0.0.1
"""


def server_script() -> str:
    """The path of rabbitmq-server's real start script, or a clear error."""
    if os.path.exists(SERVER_SCRIPT):
        return SERVER_SCRIPT
    found = shutil.which("rabbitmq-server")
    if found is None:
        raise ReferenceUnavailable(
            "rabbitmq-server is not installed: `apt-get install rabbitmq-server` (the README's "
            "test command does this) so the AMQP differential tests have their reference")
    return found


class RabbitMQReference:
    """A private RabbitMQ node: `.port`, `.url`, `.nodename`; `start()`/`stop()` or `with`."""

    def __init__(self, management: bool = False, extra_config: str = "",
                 plugins: tuple[str, ...] = ()):
        self.management = management
        self.plugins = tuple(plugins)   # more plugins to enable, e.g. "rabbitmq_shovel"
        for plugin in self.plugins:
            require_plugin(plugin)
        self.extra_config = extra_config  # more rabbitmq.conf lines (e.g. listeners.ssl, ssl_options)
        self.http_port = 0
        self.metrics_port = 0
        self.script = server_script()
        self.erl = shutil.which("erl")
        self.epmd_binary = shutil.which("epmd")
        if self.erl is None or self.epmd_binary is None:
            raise ReferenceUnavailable("Erlang (erl, epmd) is missing: reinstall rabbitmq-server")
        self.workdir = Path(tempfile.mkdtemp(prefix="yizhan-ref-rabbitmq-"))
        self.port = 0
        self.nodename = ""
        self.process: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self._log = None

    # -- addresses -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    # -- rabbitmqctl ----------------------------------------------------------------------
    def ctl_env(self) -> dict[str, str]:
        """The environment that reaches this node: RABBITMQ_NODENAME, ERL_EPMD_PORT, and the HOME
        whose .erlang.cookie the node uses."""
        if not self.env:
            raise RuntimeError("the node is not started")
        return dict(self.env)

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run `rabbitmqctl -n NODE ARGS...`; output as text. A failure raises with its output
        unless check=False."""
        script = CTL_SCRIPT if os.path.exists(CTL_SCRIPT) else shutil.which("rabbitmqctl")
        if script is None:
            raise ReferenceUnavailable("rabbitmqctl is missing: reinstall rabbitmq-server")
        result = subprocess.run([script, "-n", self.nodename, *args], env=self.ctl_env(),
                                cwd=self.workdir, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=CTL_TIMEOUT)
        if check and result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")
        return result

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "RabbitMQReference":
        for _ in range(3):
            self.port = free_port()
            try:
                self._launch()
            except BaseException:
                self._shutdown()
                raise
            if self._wait_ready():
                return self
            self._shutdown()
        raise ReferenceUnavailable(f"rabbitmq-server did not start; see {self.workdir}/startup.log: "
                                   + self._startup_tail())

    def stop(self) -> None:
        self._shutdown()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RabbitMQReference":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- launching -----------------------------------------------------------------------
    def _launch(self) -> None:
        env = self.env = self._environment()
        self.epmd = subprocess.Popen([self.epmd_binary, "-port", env["ERL_EPMD_PORT"],
                                      "-address", "127.0.0.1"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self._log = open(self.workdir / "startup.log", "ab")
        self.process = subprocess.Popen([self.script], env=env, cwd=self.workdir,
                                        stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def _environment(self) -> dict[str, str]:
        node = self.workdir / f"node-{self.port}"
        home = node / "home"
        for sub in ("mnesia", "log", "home"):
            (node / sub).mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(f"YIZHANREF{self.port}{os.getpid()}")
        cookie.chmod(0o400)
        config = CONFIG.format(port=self.port)
        plugins = list(self.plugins)
        if self.management:
            self.http_port, self.metrics_port = free_port(), free_port()
            config += MANAGEMENT_CONFIG.format(http_port=self.http_port,
                                               metrics_port=self.metrics_port)
            plugins += ["rabbitmq_management", "rabbitmq_prometheus"]
        (node / "rabbitmq.conf").write_text(config + self.extra_config)
        (node / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        (node / "rabbitmq-env.conf").write_text("")
        self.nodename = f"yizhan-ref-{self.port}@localhost"
        env = {key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")}
        env.update({
            "HOME": str(home),
            "ERL_EPMD_PORT": str(free_port()),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(node / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node / "log"),
            "RABBITMQ_CONFIG_FILE": str(node / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(node / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(node / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(node / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(node / "rabbitmq.pid"),
            "RABBITMQ_SCHEDULER_BUSY_WAIT_THRESHOLD": "none",   # don't spin on shared CPUs
        })
        return env

    def _wait_ready(self) -> bool:
        """True once a full AMQP handshake (pika connect) succeeds."""
        import pika

        params = pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=2")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _port_open(self.port) and (not self.management or _port_open(self.http_port)):
                try:
                    pika.BlockingConnection(params).close()
                    return True
                except Exception:
                    pass
            time.sleep(0.2)
        return False

    # -- stopping ------------------------------------------------------------------------
    def _shutdown(self) -> None:
        """SIGTERM makes the Erlang VM run init:stop (a clean RabbitMQ shutdown); then the whole
        process group, any helper that made its own session (erl_child_setup, inet_gethost) and
        our epmd go."""
        helpers = descendants(self.process.pid) if self.process is not None else []
        _stop_group(self.process, STOP_TIMEOUT)
        _stop_group(self.epmd, 5)
        for pid in helpers:
            _kill(pid)
        self.process = self.epmd = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _startup_tail(self) -> str:
        try:
            return (self.workdir / "startup.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def require_plugin(name: str) -> None:
    """A clear error unless the installed RabbitMQ ships plugin `name` (Debian's package ships
    them all in its plugins directory)."""
    if not any(entry.rsplit("-", 1)[0] == name   # a directory name-3.10.8 or name-3.10.8.ez
               for folder in glob.glob(PLUGINS_DIRS) for entry in os.listdir(folder)):
        raise ReferenceUnavailable(
            f"RabbitMQ plugin {name} is not installed (looked in {PLUGINS_DIRS}): reinstall "
            "rabbitmq-server, whose Debian package ships it")


def _stop_group(process: subprocess.Popen | None, timeout: float) -> None:
    if process is None:
        return
    terminate(process, timeout)
    try:   # helpers left in the session we created for it
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def version() -> str:
    """The installed rabbitmq-server's version, from Debian's package database."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"],
                             capture_output=True, text=True).stdout
    except OSError:
        return ""
    return out.split("-")[0]

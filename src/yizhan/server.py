"""Starts the listeners (Redis, AMQP, the management HTTP API and Prometheus /metrics) on one
event loop, runs the periodic tasks, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from pathlib import Path

from yizhan.amqp.alarms import ResourceMonitor
from yizhan.amqp import policies
from yizhan.amqp.broker import Broker
from yizhan.amqp.consumer_timeout import ConsumerTimeouts
from yizhan.amqp.delayed import DelayedMessages
from yizhan.amqp.store import DiskStore
from yizhan.amqp.timers import Timers
from yizhan.clock import Clock, ClockScheduler, ControlledClock
from yizhan.config import Config
from yizhan.heap import HeapTrimmer
from yizhan.management.api import ManagementAPI
from yizhan.management.dashboard import Site
from yizhan.management.http import HTTPProtocol
from yizhan.net.amqp_transport import AMQPProtocol
from yizhan.net.redis_transport import BusyAcceptor, RedisProtocol
from yizhan.net.replica_transport import connector
from yizhan.net import tls
from yizhan.redis import commands  # noqa: F401  (registers every command in the table)
from yizhan.redis.commands.server import replicas_lagging, shutdown_by_signal
from yizhan.redis.pause import hold_writes, release_writes
from yizhan.redis.instance import RedisInstance
from yizhan.redis.params import Params
from yizhan.redis.persistence.aof import aof_state
from yizhan.redis.persistence.snapshot import library_codes, snapshotter
from yizhan.redis.replication.state import replication
from yizhan.redis.scripting.function_lua import registry
from yizhan.testing.control import Controls

log = logging.getLogger("yizhan")
REPLICA_POLL = 0.01  # seconds between checks of the replicas' acknowledgements during a shutdown


class PortInUse(Exception):
    """A listener could not bind; the message names the address and what it was for."""


class StartError(Exception):
    """The configuration cannot be served (TLS set up wrongly, no Redis listener at all)."""


class ServerRuntime:
    """The running server inside one event loop: `start()`, then `stop()`."""

    def __init__(self, config: Config, clock: Clock | None = None):
        self.config = config
        if clock is None and config.test_control:
            clock = ControlledClock()  # a clock the test controls can move
        self.redis = RedisInstance(config, clock)
        self.broker = Broker(store=DiskStore(config.data_dir, recover_damaged=config.amqp_recover_damaged), timers=Timers(self.redis.clock))
        configure_accounts(self.broker, config)
        self.monitor = ResourceMonitor(self.broker, config.data_dir, config.amqp_memory_watermark,
                                       config.amqp_memory_watermark_absolute,
                                       config.amqp_disk_free_limit, config.amqp_paging_ratio)
        self.consumer_timeouts = ConsumerTimeouts(self.broker, config.amqp_consumer_timeout, self.redis.clock)
        self.heap = HeapTrimmer()  # freed heap pages back to the OS after writes (heap.py)
        self.redis_port = 0
        self.amqp_port = 0
        self.http_port = 0
        self.tls_port = 0  # the Redis TLS port (0: none)
        self._tls_listener: socket.socket | None = None  # its socket (each server gets a dup)
        self._tls_server: asyncio.base_events.Server | None = None
        self.amqps_port = 0  # the AMQPS port (0: none)
        self.https_port = 0  # the management API's HTTPS port (0: none)
        self.metrics_port = 0
        self._http_connections: set = set()
        self._servers: list[asyncio.base_events.Server] = []
        # the plain Redis and AMQP listeners: protocol -> (server, protocol factory), so the
        # test controls can stop and restart listening on the same port
        self.listeners: dict[str, tuple] = {}
        self._expire_handle: asyncio.TimerHandle | None = None
        self.scheduler: ClockScheduler | None = None  # the clock's timers, once started
        self._stopped = asyncio.Event()
        self._stopping = False
        self.on_shutdown = None  # the owner's: called once SHUTDOWN has stopped the runtime
        self._awaiting_replicas = False  # a signal's shutdown waits for lagging replicas
        self.controls = Controls(self)  # test controls (yizhan.testing.control)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # Every timer that means "when this much time has passed" (blocking timeouts, CLIENT
        # PAUSE, message TTL, queue expiry, delayed messages, heartbeats, the consumer-timeout
        # sweep) runs on the server clock: a test that moves the clock fires them.
        self.scheduler = ClockScheduler(self.redis.clock, loop)
        self.redis.scheduler = self.scheduler
        self.redis.shutdown_hook = lambda: loop.call_soon(self._shutdown_by_command)
        cfg = self.config
        self._load()  # before listening: raises RDBLoadError / AOFLoadError
        self.broker.store.scheduler = loop.call_soon
        self.broker.timers.loop = self.scheduler  # message TTL and queue expiry timers
        self.broker.recover()  # before listening: raises StoreError
        redis_tls, (amqp_tls, amqps_port), (https_tls, https_port) = self._tls_contexts()
        tls_port = self.redis.params.int("tls-port")
        plain = not (tls_port and cfg.port == 0)  # `port 0` with a TLS port: TLS only, as Redis
        wanted = [(cfg.port if plain else None, "Redis"), (tls_port or None, "Redis TLS"),
                  (cfg.amqp_port, "AMQP"), (amqps_port, "AMQPS"), (cfg.http_port, "HTTP"),
                  (cfg.metrics_listen_port, "Prometheus metrics"), (https_port, "management HTTPS")]
        sock, tls_sock, amqp, amqps, http, metrics, https = _bind_all(cfg.bind, wanted)
        if sock is not None:
            server = await loop.create_server(lambda: RedisProtocol(self.redis), sock=sock, backlog=511)
            self.listeners["redis"] = (server, lambda: RedisProtocol(self.redis))
            BusyAcceptor(self.redis, sock, loop)  # connections accepted while a script is busy
            self._servers.append(server)
            self.redis_port = sock.getsockname()[1]
            self.redis.tcp_port = self.redis_port
            log.info("Redis listening on %s:%d", cfg.bind, self.redis_port)
        self.redis.params.values["port"] = str(self.redis_port)  # CONFIG GET port: the bound one (0: none)
        await self._serve_unix_socket()
        self._write_pidfile()
        if tls_sock is not None:
            await self._serve_tls(tls_sock, redis_tls)
        self.redis.reconfigure_tls = self._reconfigure_tls
        broker = self.broker
        amqp_server = await loop.create_server(lambda: AMQPProtocol(broker), sock=amqp, backlog=511)
        self.listeners["amqp"] = (amqp_server, lambda: AMQPProtocol(broker))
        self._servers.append(amqp_server)
        self.amqp_port = amqp.getsockname()[1]
        self.http_port = http.getsockname()[1]
        log.info("AMQP listening on %s:%d", cfg.bind, self.amqp_port)
        if amqps is not None:
            self._servers.append(await loop.create_server(
                lambda: AMQPProtocol(broker), sock=amqps, backlog=511, ssl=amqp_tls))
            self.amqps_port = amqps.getsockname()[1]
            log.info("AMQPS listening on %s:%d", cfg.bind, self.amqps_port)
        self.metrics_port = metrics.getsockname()[1]
        api, metrics_api = Site(ManagementAPI(self)), ManagementAPI(self, metrics_only=True)
        for listener, handler, context in ((http, api.handle, None), (metrics, metrics_api.handle, None),
                                           (https, api.handle, https_tls)):
            if listener is None:
                continue
            factory = lambda h=handler: HTTPProtocol(h, self._http_connections)  # noqa: E731
            self._servers.append(await loop.create_server(factory, sock=listener, backlog=511, ssl=context))
        log.info("management HTTP API listening on %s:%d", cfg.bind, self.http_port)
        if https is not None:
            self.https_port = https.getsockname()[1]
            log.info("management HTTPS API listening on %s:%d", cfg.bind, self.https_port)
        log.info("Prometheus metrics listening on %s:%d", cfg.bind, self.metrics_port)
        self._start_replication(loop)
        self._schedule_expiry()
        self.monitor.start(loop)
        self.consumer_timeouts.start(self.scheduler)
        self.broker.delayed.start()

    def _tls_contexts(self):
        """The Redis TLS context, the AMQPS and management HTTPS (context, port) pairs (None
        where off); StartError when TLS is configured wrongly."""
        cfg = self.config
        try:
            return (tls.redis_context(self.redis.params),
                    (tls.listener_context(cfg, tls.AMQPS), tls.listener_port(cfg, tls.AMQPS)),
                    (tls.listener_context(cfg, tls.MANAGEMENT_HTTPS), tls.listener_port(cfg, tls.MANAGEMENT_HTTPS)))
        except tls.TLSConfigError as exc:
            raise StartError(f"Failed to configure TLS: {exc}") from None

    async def _serve_tls(self, sock: socket.socket, context) -> None:
        """Serve Redis over TLS on `sock` with `context`, in place of the TLS server before it
        (CONFIG SET of a tls-* parameter); the server gets a duplicate of the socket, so
        replacing the server keeps the listening socket and its backlog."""
        if self._tls_server is not None:
            self._tls_server.close()
            self._servers.remove(self._tls_server)
            self._tls_server = None
        if self._tls_listener is not sock:
            if self._tls_listener is not None:
                self._tls_listener.close()
            self._tls_listener = sock
        if sock is None:
            self.tls_port = 0
            return
        self._tls_server = await asyncio.get_running_loop().create_server(
            lambda: RedisProtocol(self.redis), sock=sock.dup(), backlog=511, ssl=context)
        self._servers.append(self._tls_server)
        self.tls_port = sock.getsockname()[1]
        log.info("Redis TLS listening on %s:%d", self.config.bind, self.tls_port)

    def _reconfigure_tls(self, values: dict[str, str]) -> str | None:
        """CONFIG SET of tls-* parameters, `values` being every parameter as it would become:
        the new context (and listener, for a new tls-port) is made before anything changes,
        as Redis's applyTlsCfg/applyTLSPort do; None when done, else Redis's reason."""
        params = Params(values)
        try:
            context = tls.redis_context(params)
        except tls.TLSConfigError as exc:
            log.warning("Failed to configure TLS: %s", exc)
            return "Unable to update TLS configuration. Check server logs."
        port, sock = params.int("tls-port"), self._tls_listener
        if port != self.tls_port:
            try:
                sock = _bind(self.config.bind, port, "Redis TLS") if port else None
            except PortInUse as exc:
                log.warning("%s", exc)
                return "Unable to listen on this port. Check server logs."
        asyncio.get_running_loop().create_task(self._serve_tls(sock, context))
        return None

    def stop_listening(self, name: str) -> int | None:
        """Close the `name` listener ("redis" or "amqp"; new connections are refused, open
        ones stay): its port, or None when it was not listening (a test control)."""
        entry = self.listeners.get(name)
        if entry is None or not entry[0].sockets:
            return None
        server = entry[0]
        port = server.sockets[0].getsockname()[1]
        server.close()
        self._servers.remove(server)
        return port

    def listen_again(self, name: str, port: int) -> None:
        """Listen for `name` on `port` again, after `stop_listening` (a test control): the
        socket listens at once (connections wait in its backlog); serving starts on the loop."""
        _server, factory = self.listeners[name]
        sock = _bind(self.config.bind, port, name)
        asyncio.get_running_loop().create_task(self._serve_again(name, sock, factory))

    async def _serve_again(self, name: str, sock: socket.socket, factory) -> None:
        server = await asyncio.get_running_loop().create_server(factory, sock=sock, backlog=511)
        self._servers.append(server)
        self.listeners[name] = (server, factory)

    def simulate_restart(self, clean: bool = True) -> dict:
        """What survives a restart, and nothing else (a test control; the listeners are the
        caller's to stop and start). Redis: as SIGTERM (`clean`: the final save when save
        points are set; the AOF flushed) or a kill (no final save), then the data loaded back
        from disk as at boot. AMQP: the store closed and reopened and the broker recovered from
        it: durable exchanges, queues, bindings, users, vhosts and policies, persistent
        messages of durable queues, held delayed messages; everything else is gone. Clients are
        dropped; what a new process starts afresh is reset (`_fresh_process`)."""
        for client in list(self.redis.clients.values()):
            client.kill()
        for connection in list(self.broker.connections):
            if connection.closer is not None:
                connection.closer()
            connection.release()
        if clean:
            self._persist()
        else:
            if self.redis.aof is not None:
                self.redis.aof.stop()
            saver = snapshotter(self.redis)
            saver.abort()
        replication(self.redis).master.syncs.abort()  # a full sync's child does not outlive the server
        for db in self.redis.dbs:
            db.clear()
        if library_codes(self.redis):
            registry(self.redis).clear()
        self._load()
        self._fresh_process()
        self._recover_broker()
        return {"keys": sum(len(db.data) for db in self.redis.dbs),
                "queues": sum(len(vhost.queues) for vhost in self.broker.vhosts.values())}

    def _fresh_process(self) -> None:
        """What a new redis-server process starts with: INFO's stats (dirty included),
        commandstats, errorstats, the slow log and latency events empty, a new run_id, uptime
        from now, the memory peak and LASTSAVE from now. (The replication id is left to the
        replication code, as the boot path sets it.)"""
        redis = self.redis
        redis.reset_stats()
        redis.stats.dirty = 0
        redis.observer.slowlog.reset()
        redis.observer.latency.reset([])
        redis.run_id = os.urandom(20).hex()
        redis.started_monotonic = redis.clock.monotonic()
        redis.last_save_time = redis.clock.ms() // 1000
        redis.memory_peak = 0

    def _recover_broker(self) -> None:
        """The broker as a restart finds it: a fresh store on the same files, recovered."""
        broker = self.broker
        broker.delayed.stop()
        for vhost in broker.vhosts.values():
            for queue in vhost.queues.values():
                queue.deleted = True  # its pending timers find it gone
                queue.stop_timers()
        broker.store.close()
        broker.store = DiskStore(self.config.data_dir, recover_damaged=self.config.amqp_recover_damaged)
        broker.store.clock = broker.timers.clock
        broker.store.scheduler = asyncio.get_running_loop().call_soon
        broker.vhosts = {}
        broker.add_vhost("/")
        guest = broker.users["guest"]
        broker.users = {"guest": guest}
        broker.delayed = DelayedMessages(broker)
        configure_accounts(broker, self.config)
        broker.recover()
        broker.delayed.start()

    def _load(self) -> None:
        """The AOF when appendonly is on and it exists (preferred, as Redis), else dump.rdb;
        with appendonly on, the AOF is then opened for appending (created from the loaded
        dataset when it did not exist)."""
        redis = self.redis
        aof = aof_state(redis) if redis.params.flag("appendonly") else None
        replayed = aof.load() if aof is not None else None
        if replayed is not None:
            log.info("DB loaded from append only file: %d commands", replayed)
        else:
            loaded = snapshotter(redis).load()
            if loaded:
                log.info("DB loaded from disk: %d keys", loaded)
            if aof is not None:
                aof.rewrite_now()
        if aof is not None:
            aof.open()

    def _start_replication(self, loop) -> None:
        """The link to a master (replicaof) connects through this loop."""
        state = replication(self.redis)
        state.connector = connector(loop)
        words = self.redis.params.get("replicaof").split()
        if len(words) == 2 and words[1].isdigit():
            state.replicate(words[0], int(words[1]), at_start=True)

    def _schedule_expiry(self) -> None:
        hz = max(1, min(500, self.redis.params.int("hz")))
        loop = asyncio.get_running_loop()
        self._expire_handle = loop.call_later(1 / hz, self._expiry_tick)

    def _expiry_tick(self) -> None:
        self.redis.active_expire_cycle()
        self.redis.archive_access()
        self.redis.instantaneous.cron(self.redis.stats, self.redis.clock.ms())  # INFO's rates
        snapshotter(self.redis).cron()  # save points and a finished BGSAVE child
        aof_state(self.redis).cron()  # everysec fsync, a finished rewrite child
        replication(self.redis).cron()  # pings, ACKs, WAIT, the link to a master
        self.heap.cron(self.redis.stats.dirty, int(self.redis.clock.monotonic() * 1000))
        self._schedule_expiry()

    def _shutdown_by_command(self) -> None:
        """SHUTDOWN succeeded (its persistence is done): stop, then tell the owner."""
        task = asyncio.get_running_loop().create_task(self.stop())
        task.add_done_callback(lambda _: self.on_shutdown() if self.on_shutdown is not None else None)

    def in_data_dir(self, name: str) -> Path:
        """A pidfile or unixsocket path: a relative one is in the data directory (Redis's are
        in its `dir`, where it changed directory)."""
        return Path(self.config.data_dir, name)

    async def _serve_unix_socket(self) -> None:
        """unixsocket: a Redis listener on a Unix socket (a stale socket file replaced), its
        file mode unixsocketperm when not 0; removed again by `stop`."""
        name = self.redis.params.get("unixsocket")
        if not name:
            return
        path = self.in_data_dir(name)
        path.unlink(missing_ok=True)
        server = await asyncio.get_running_loop().create_unix_server(
            lambda: RedisProtocol(self.redis), path=str(path), backlog=511)
        self._servers.append(server)
        mode = int(self.redis.params.get("unixsocketperm"), 8)
        if mode:
            os.chmod(path, mode)
        log.info("Redis listening on Unix socket %s", path)

    def _write_pidfile(self) -> None:
        """pidfile: the process id written at start, removed by `stop` (as Redis's)."""
        name = self.redis.params.get("pidfile")
        if name:
            self.in_data_dir(name).write_text(f"{os.getpid()}\n")

    def _remove_files(self) -> None:
        for param in ("unixsocket", "pidfile"):
            name = self.redis.params.get(param)
            if name:
                self.in_data_dir(name).unlink(missing_ok=True)

    def on_signal(self, name: str, stop) -> None:
        """SIGTERM or SIGINT (`name` "sigterm" / "sigint") for `yizhan serve`: the shutdown
        that shutdown-on-<name> asks for; the server keeps running when its save fails
        without `force`, as Redis's. Unless the flags say `now`, writes wait and the shutdown
        waits up to shutdown-timeout seconds for lagging replicas to acknowledge the whole
        stream (Redis's prepareForShutdown). A second signal stops at once."""
        redis = self.redis
        if redis.shut_down or self._awaiting_replicas:
            stop()
            return
        timeout = redis.params.int("shutdown-timeout")
        if "now" not in redis.params.get(f"shutdown-on-{name}").split() and timeout and replicas_lagging(redis):
            log.warning("Waiting for replicas before shutting down.")
            replication(redis).master.request_acks()
            hold_writes(redis)
            self._awaiting_replicas = True
            self._await_replicas(name, stop, redis.clock.monotonic() + timeout)
        elif shutdown_by_signal(redis, name):
            stop()

    def _await_replicas(self, name: str, stop, deadline: float) -> None:
        redis = self.redis
        if replicas_lagging(redis) and redis.clock.monotonic() < deadline:
            asyncio.get_running_loop().call_later(REPLICA_POLL, self._await_replicas, name, stop, deadline)
            return
        if replicas_lagging(redis):
            log.warning("Lagging replica(s) did not acknowledge the stream within shutdown-timeout.")
        self._awaiting_replicas = False
        release_writes(redis)
        if shutdown_by_signal(redis, name):
            stop()

    async def stop(self) -> None:
        if self._stopping:  # SHUTDOWN and a signal (or Server.stop) may both ask
            await self._stopped.wait()
            return
        self._stopping = True
        if self._expire_handle is not None:
            self._expire_handle.cancel()
        self.monitor.stop()
        self.consumer_timeouts.stop()
        self.broker.delayed.stop()
        log.info("AMQP resources: %s", self.monitor.status())
        if not self.redis.shut_down:  # SHUTDOWN did this already, as its options said
            self._persist()
        replication(self.redis).master.syncs.abort()  # a full sync's child does not outlive the server
        for server in self._servers:
            server.close()
        for client in list(self.redis.clients.values()):
            client.kill()
        for connection in list(self.broker.connections):
            if connection.closer is not None:
                connection.closer()
        for connection in list(self._http_connections):
            connection.close()
        for server in self._servers:
            await server.wait_closed()
        if self._tls_listener is not None:
            self._tls_listener.close()
        self.broker.store.close()
        self.scheduler.close()
        self._remove_files()
        self._stopped.set()


    def _persist(self) -> None:
        """As Redis on SIGTERM: the AOF flushed, fsynced and closed, children stopped, a final
        snapshot when save points are set."""
        if self.redis.aof is not None:
            self.redis.aof.stop()
        aof_state(self.redis).abort_rewrite()
        saver = snapshotter(self.redis)
        saver.abort()  # a BGSAVE child does not outlive the server
        if saver.save_points():
            saver.save()


def configure_accounts(broker: Broker, config: Config) -> None:
    """AMQP vhosts, users and policies from the config file (before stored definitions are
    recovered: config-file ones win)."""
    for name in config.amqp_vhosts:
        broker.add_vhost(name)
    for name, password, vhosts in config.amqp_users:
        for vhost in vhosts:
            if vhost != "*":
                broker.add_vhost(vhost)
        broker.add_user(name, password, vhosts)
    broker.users["guest"].loopback_only = config.guest_loopback_only
    for record in config.amqp_policies:
        broker.add_policy(policies.from_record(record), source="config")


def _bind_all(host: str, wanted: list[tuple[int | None, str]]) -> list[socket.socket | None]:
    """A listening socket for each (port, purpose), None where the port is None; on a
    failure the ones already bound are closed."""
    bound: list[socket.socket | None] = []
    try:
        for port, purpose in wanted:
            bound.append(None if port is None else _bind(host, port, purpose))
    except PortInUse:
        for sock in bound:
            if sock is not None:
                sock.close()
        raise
    return bound


def _bind(host: str, port: int, purpose: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if hasattr(socket, "SO_REUSEADDR") and not _is_windows():
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(511)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise PortInUse(f"cannot listen on {host}:{port} for {purpose}: the port is already in use") from None
        raise PortInUse(f"cannot listen on {host}:{port} for {purpose}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def _is_windows() -> bool:
    import sys

    return sys.platform == "win32"

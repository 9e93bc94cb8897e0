"""`yizhan.Server`: a real server on free ports in a background thread, for programs and tests.

    with yizhan.Server(port=0, amqp_port=0) as srv:
        redis.Redis.from_url(srv.redis_url).ping()
        srv.advance(3601)          # an hour passes: keys, TTLs, timeouts and message TTLs follow

Its clock is a ControlledClock (the real time until a test moves it) and `srv.controls` is the
server's yizhan.testing.control.Controls; the methods below and `srv.control.<name>` call them
on the server's loop. `test_control=True` also opens the HTTP control endpoint
(POST /yizhan/control/<operation> on the management port, administrators only).
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import tempfile
import threading

from yizhan.clock import Clock, ControlledClock
from yizhan.config import Config
from yizhan.testing.control.controls import OPERATIONS


class Server:
    def __init__(self, port: int = 0, amqp_port: int = 0, http_port: int = 0, bind: str = "127.0.0.1",
                 data_dir: str | None = None, clock: Clock | None = None, test_control: bool = False,
                 **redis_params: str):
        params = {name.replace("_", "-"): str(value) for name, value in redis_params.items()}
        # Without a data_dir the server keeps its files in a temporary directory removed on
        # stop: an embedded server for a program or a test leaves nothing behind.
        self._temp_dir = None if data_dir else tempfile.mkdtemp(prefix="yizhan-")
        self.config = Config(bind=bind, port=port, amqp_port=amqp_port, http_port=http_port,
                             data_dir=data_dir or self._temp_dir, redis_params=params,
                             test_control=test_control)
        self.clock = clock if clock is not None else ControlledClock()
        self.runtime = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- addresses -----------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.config.bind

    @property
    def port(self) -> int:
        return self.runtime.redis_port

    @property
    def amqp_port(self) -> int:
        return self.runtime.amqp_port

    @property
    def http_port(self) -> int:
        """The management HTTP API's port (a free one when http_port=0 was passed)."""
        return self.runtime.http_port

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.runtime.http_port}"

    @property
    def metrics_port(self) -> int:
        """Prometheus /metrics' own port (a free one when http_port=0 and no metrics_port)."""
        return self.runtime.metrics_port

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.runtime.redis_port}/0"

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@{self.host}:{self.runtime.amqp_port}/%2F"

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "Server":
        self._thread = threading.Thread(target=self._run, name="yizhan-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._remove_temp_dir()
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if not self.stopped:
            future = asyncio.run_coroutine_threadsafe(self.runtime.stop(), self._loop)
            future.result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._remove_temp_dir()

    @property
    def stopped(self) -> bool:
        """True once the runtime has stopped, by `stop()` or a client's SHUTDOWN."""
        return self._thread is None or not self._thread.is_alive()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def call(self, function, *args):
        """Run `function(*args)` on the server's loop and return its result (for tests)."""
        async def run():
            return function(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    @property
    def controls(self):
        """The test controls (yizhan.testing.control.Controls), to be called on the server's
        loop: `srv.control.<operation>(...)` does that."""
        return self.runtime.controls

    @property
    def control(self) -> "ControlProxy":
        """Every test control, run on the server's loop: `srv.control.fail("LOADING", count=2)`,
        `srv.control.drop(protocol="redis")`, `srv.control.snapshot()` ... (the operations of
        yizhan.testing.control.controls.OPERATIONS)."""
        return ControlProxy(self)

    def run_control(self, name: str, *args, **kwargs):
        """Run the control `name` on the server's loop and return its result."""
        method = getattr(self.runtime.controls, name)

        async def run():
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    # -- time ----------------------------------------------------------------------------
    def advance(self, seconds: float) -> int:
        """Move the server clock forward: keys expire, TTLs count down, blocking timeouts,
        message TTLs, queue expiry, delayed messages, heartbeats and consumer timeouts act as
        if `seconds` had passed (each due timer fires once). Returns the new time in ms."""
        return self.run_control("advance", seconds)

    def freeze(self) -> int:
        """Stop the server clock (until `unfreeze`, moves still work)."""
        return self.run_control("freeze")

    def unfreeze(self) -> int:
        return self.run_control("unfreeze")

    def set_time(self, unix_seconds: float) -> int:
        """Set the server's wall time (a move forward also fires the timers now due)."""
        return self.run_control("set_time", unix_seconds)

    def time(self) -> float:
        """The server's wall time in seconds."""
        return self.run_control("now") / 1000

    # -- state ---------------------------------------------------------------------------
    def snapshot(self, name: str = "default") -> dict:
        """Keep the whole state (Redis databases with TTLs, AMQP topology and messages)."""
        return self.run_control("snapshot", name)

    def restore(self, name: str = "default") -> dict:
        return self.run_control("restore", name)

    def flush(self) -> dict:
        """Empty every Redis database and AMQP vhost."""
        return self.run_control("flush")

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        from yizhan.net.loop import new_event_loop
        from yizhan.server import ServerRuntime

        loop = new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self.runtime = ServerRuntime(self.config, self.clock)
            loop.run_until_complete(self.runtime.start())
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self.runtime.on_shutdown = loop.stop  # SHUTDOWN from a client ends the thread
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()


class ControlProxy:
    """`srv.control.<operation>(...)`: the test control of that name, run on the server's loop."""

    def __init__(self, server: Server):
        self._server = server

    def __getattr__(self, name: str):
        if name not in OPERATIONS:
            raise AttributeError(f"no test control named {name!r}")
        return lambda *args, **kwargs: self._server.run_control(name, *args, **kwargs)

    def __dir__(self):
        return sorted(OPERATIONS)

"""Where the test controls meet connections: new ones as they are accepted, and a connection's
output.

`AcceptHooks` is the one place a newly accepted connection of either protocol is shown to the
controls whose rules outlive the connections open when they were installed (refusal by address,
shaping, AMQP method and confirm faults, AMQP recording). It sits on
`RedisInstance.on_connection` and `Broker.on_connection` only while some control listens, so
accepting costs one attribute test otherwise. Listeners run in a fixed order (refusal first); a
listener that closed the connection returns True and the others are skipped.

`WriteChain` is the one replacement of an AMQP connection's `write` (an instance attribute, on
that connection only): a list of stages run in order, each handing on the bytes (possibly
rewritten) or None to keep them. Rewriters (confirm faults) run before observers (the
recording), so what is recorded is what the client gets, and removing one stage never removes
another's."""

from __future__ import annotations

ORDER = ("refuse", "shape", "methods", "confirms", "record")


class AcceptHooks:
    def __init__(self, runtime):
        self.runtime = runtime
        self.listeners: dict = {}  # ORDER name -> callable(protocol name, connection) -> bool

    def set(self, name: str, listener) -> None:
        """Listen for new connections as `name` (one of ORDER); None stops listening."""
        if listener is None:
            self.listeners.pop(name, None)
        else:
            self.listeners[name] = listener
        on = bool(self.listeners)
        self.runtime.redis.on_connection = self._redis if on else None
        self.runtime.broker.on_connection = self._amqp if on else None

    def _run(self, protocol: str, connection) -> None:
        for name in ORDER:
            listener = self.listeners.get(name)
            if listener is not None and listener(protocol, connection):
                return

    def _redis(self, client) -> None:
        self._run("redis", client)

    def _amqp(self, conn) -> None:
        self._run("amqp", conn)


class WriteChain:
    """A connection's `write` through `stages` (each: bytes -> bytes or None)."""

    def __init__(self, conn):
        self.conn = conn
        self.stages: list = []
        conn.write = self.write
        self.real = type(conn).write.__get__(conn)

    @classmethod
    def of(cls, conn) -> "WriteChain":
        """The connection's chain, made on first use."""
        current = conn.__dict__.get("write")
        chain = getattr(current, "__self__", None)
        return chain if isinstance(chain, WriteChain) else cls(conn)

    def write(self, data: bytes) -> None:
        self.pass_on(None, data)

    def pass_on(self, after, data: bytes) -> None:
        """`data` through the stages after `after` (None: all of them), then out."""
        stages = self.stages
        start = 0 if after is None or after not in stages else stages.index(after) + 1
        for stage in stages[start:]:
            data = stage(data)
            if data is None:
                return
        self.real(data)

    def add(self, stage, rewriter: bool) -> None:
        if rewriter:
            self.stages.insert(0, stage)
        else:
            self.stages.append(stage)

    def remove(self, stage) -> None:
        if stage in self.stages:
            self.stages.remove(stage)
        if not self.stages and self.conn.__dict__.get("write") == self.write:
            del self.conn.write

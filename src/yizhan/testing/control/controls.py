"""`Controls`: every test control of one running server, as methods with plain arguments and
JSON-able results, called on the server's event loop. The embedded `yizhan.Server`
(`srv.control.<method>(...)`), the pytest plugin and the HTTP control endpoint all call these;
`OPERATIONS` names the methods the HTTP endpoint may call."""

from __future__ import annotations

from yizhan.amqp import errors as amqp_errors
from yizhan.testing.control.amqp_faults import AMQPFaults
from yizhan.testing.control.clock import TimeControl
from yizhan.testing.control.connections import AcceptHooks
from yizhan.testing.control.network import Network
from yizhan.testing.control.observe import Observer
from yizhan.testing.control.redis_faults import CommandHook
from yizhan.testing.control.state import StateControl
from yizhan.testing.control.targets import Target

OPERATIONS = frozenset("""
    advance freeze unfreeze reset_time set_time now
    fail timeout clear_faults faults
    drop down up restart shape unshape
    amqp_close_connection amqp_close_channel amqp_fail_method amqp_block amqp_unblock amqp_cancel_consumers
    amqp_redeliver amqp_nack_confirms amqp_hold_confirms amqp_release_confirms
    record_commands stop_recording commands peek_queue record_amqp amqp_events
    snapshot restore drop_snapshot flush new_database new_vhost
""".split())


class Controls:
    def __init__(self, runtime):
        self.runtime = runtime
        self.time = TimeControl(runtime)
        self.hooks = AcceptHooks(runtime)
        self.network = Network(runtime, self.hooks)
        self.commands_hook = CommandHook(runtime.redis)
        self.amqp = AMQPFaults(runtime, self.network, self.hooks)
        self.observer = Observer(runtime, self.hooks)
        self.state = StateControl(runtime)

    # -- time ------------------------------------------------------------------------------
    def advance(self, seconds: float) -> int:
        """Move the server clock forward; the new time (unix ms)."""
        return self.time.advance(float(seconds))

    def freeze(self) -> int:
        return self.time.freeze()

    def unfreeze(self) -> int:
        return self.time.unfreeze()

    def reset_time(self) -> int:
        """Back to the system's time, running (undoes advance, freeze and set_time)."""
        return self.time.reset()

    def set_time(self, unix_seconds: float) -> int:
        return self.time.set_ms(round(float(unix_seconds) * 1000))

    def now(self) -> int:
        return self.time.now_ms()

    # -- Redis command faults --------------------------------------------------------------
    def fail(self, error: str = "LOADING", command: str | None = None, client: str | None = None,
             count: int | None = 1, probability: float = 1.0, seed: int | None = None) -> dict:
        """The next `count` matching Redis commands get `error` ("LOADING", "READONLY", "OOM",
        "BUSY", "TRYAGAIN", "MASTERDOWN" or a full text such as "ERR custom") instead of
        running (count None: every one until `clear_faults`)."""
        target = Target("redis", client, command, count, probability, seed)
        return self.commands_hook.add(target, error).describe()

    def timeout(self, command: str | None = None, client: str | None = None, count: int | None = 1,
                probability: float = 1.0, seed: int | None = None) -> dict:
        """The next `count` matching Redis commands are swallowed: not run, never answered."""
        target = Target("redis", client, command, count, probability, seed)
        return self.commands_hook.add(target, None).describe()

    def faults(self) -> list:
        return [fault.describe() for fault in self.commands_hook.faults if not fault.target.spent]

    def clear_faults(self) -> dict:
        """Every fault off: command faults, confirm faults, shaping; listeners back up."""
        return {"commands": self.commands_hook.clear(), "confirms": self.amqp.release_confirms(),
                "methods": self.amqp.clear_method_faults(),
                "unshaped": self.network.unshape(), "up": self.network.up()}

    # -- connections -----------------------------------------------------------------------
    def drop(self, protocol: str | None = None, client: str | None = None, reset: bool = False,
             count: int | None = None) -> int:
        """Close the matching connections now (`reset`: TCP RST); how many."""
        return self.network.drop(Target(protocol, client, count=count), reset)

    def down(self, protocol: str | None = None, drop: bool = True, seconds: float | None = None,
             client: str | None = None) -> list:
        """Stop listening (connection refused) and drop open connections; state is kept.
        With `seconds`, listening resumes by itself after that much real time. With `client`
        (an address, or "host:" for every port of a host), only that client is refused: its
        connections are reset as they are accepted (and its open ones now), until `up(client=...)`."""
        if client is not None:
            self.network.refuse(Target(protocol, client), seconds)
            return [f"{protocol or 'all'} from {client}"]
        return self.network.down(protocol, drop, seconds)

    def up(self, protocol: str | None = None, client: str | None = None) -> list:
        return self.network.up(protocol, client)

    def restart(self, clean: bool = True) -> dict:
        """A simulated restart on the same ports: listeners closed, clients dropped, only what
        a real restart keeps is kept (ServerRuntime.simulate_restart), listeners open again."""
        self.network.down()
        self.amqp.release_confirms()
        kept = self.runtime.simulate_restart(clean)
        self.network.up(lift=False)  # (a test's refusal of a client outlives the restart)
        return kept

    def shape(self, protocol: str | None = None, client: str | None = None, delay: float = 0.0,
              chunk: int | None = None, rate: int | None = None, stall: bool = False) -> int:
        """Delay (seconds), split (`chunk` bytes per write), cap (`rate` bytes/s) or stall the
        output of the matching connections, open now or accepted later (until `unshape`)."""
        return self.network.shape(Target(protocol, client), float(delay), chunk, rate, stall)

    def unshape(self, protocol: str | None = None, client: str | None = None) -> int:
        return self.network.unshape(Target(protocol, client))

    # -- AMQP faults -----------------------------------------------------------------------
    def amqp_close_connection(self, code: int = amqp_errors.CONNECTION_FORCED,
                              text: str = "Closed via yizhan test control", client: str | None = None,
                              count: int | None = None) -> int:
        return self.amqp.close_connection(Target("amqp", client, count=count), int(code), text)

    def amqp_close_channel(self, code: int = amqp_errors.PRECONDITION_FAILED,
                           text: str = "Closed via yizhan test control", client: str | None = None,
                           channel: int | None = None, count: int | None = None) -> int:
        return self.amqp.close_channel(Target("amqp", client, count=count), int(code), text, channel)

    def amqp_fail_method(self, method: str, code: int = amqp_errors.NOT_FOUND,
                         text: str = "Failed via yizhan test control", client: str | None = None,
                         count: int | None = 1, probability: float = 1.0, seed: int | None = None) -> int:
        """The next `count` `method`s ("queue.declare", "basic.publish", "basic.consume" ...)
        of the matching connections (open now or later) fail with `code` (a soft code closes the channel, a
        hard one such as 541 the connection) instead of being handled."""
        return self.amqp.fail_method(Target("amqp", client, method, count, probability, seed), int(code), text)

    def amqp_block(self, reason: str = "low on memory", client: str | None = None) -> int:
        return self.amqp.block(Target("amqp", client), reason)

    def amqp_unblock(self, client: str | None = None) -> int:
        return self.amqp.unblock(Target("amqp", client))

    def amqp_cancel_consumers(self, queue: str | None = None, tag: str | None = None,
                              client: str | None = None, count: int | None = None) -> int:
        return self.amqp.cancel_consumers(Target("amqp", client, count=count), queue, tag)

    def amqp_redeliver(self, client: str | None = None) -> int:
        return self.amqp.redeliver(Target("amqp", client))

    def amqp_nack_confirms(self, count: int | None = 1, client: str | None = None,
                           probability: float = 1.0, seed: int | None = None) -> int:
        return self.amqp.confirms(Target("amqp", client, None, count, probability, seed), nack=True)

    def amqp_hold_confirms(self, count: int | None = None, client: str | None = None) -> int:
        return self.amqp.confirms(Target("amqp", client, None, count), nack=False)

    def amqp_release_confirms(self) -> int:
        return self.amqp.release_confirms()

    # -- observation -----------------------------------------------------------------------
    def record_commands(self) -> None:
        """Start recording every Redis command with its arguments (`commands`)."""
        self.commands_hook.start_recording()

    def stop_recording(self) -> None:
        self.commands_hook.stop_recording()
        self.observer.stop_amqp()

    def commands(self, client: str | None = None, clear: bool = False) -> list:
        """The recorded commands: {"client_id", "name", "addr", "db", "args"}, oldest first."""
        return self.observer.commands(self.commands_hook, Target("redis", client), clear)

    def record_amqp(self) -> None:
        """Start recording AMQP methods clients send (publishes with their bodies, acks, nacks,
        rejects) and deliveries (with the redelivered flag) the server sends."""
        self.observer.start_amqp()

    def amqp_events(self, kind: str | None = None, exchange: str | None = None,
                    client: str | None = None, clear: bool = False) -> list:
        return self.observer.amqp_events(kind, exchange, Target("amqp", client), clear)

    def peek_queue(self, queue: str, vhost: str = "/", count: int | None = None) -> list:
        """The messages in a queue, head first, without consuming them."""
        return self.observer.peek(queue, vhost, count)

    # -- state -----------------------------------------------------------------------------
    def snapshot(self, name: str = "default") -> dict:
        return self.state.snapshot(name)

    def restore(self, name: str = "default") -> dict:
        return self.state.restore(name)

    def drop_snapshot(self, name: str = "default") -> bool:
        return self.state.drop(name)

    def flush(self) -> dict:
        return self.state.flush()

    def new_database(self) -> int:
        return self.state.new_database()

    def new_vhost(self, name: str | None = None) -> str:
        return self.state.new_vhost(name)

"""The active expiry cycle: active-expire-effort raises the keys it takes per tick in Redis's
proportion (20 keys per loop, 5 more per step of effort), and its duration on the server clock
is INFO's expire_cycle_cpu_milliseconds."""

from __future__ import annotations

from yizhan.clock import ManualClock
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.commands.server import info_fields
from yizhan.redis.instance import RedisInstance
from yizhan.redis.session import Client


def _server_with_expired_keys(count: int) -> RedisInstance:
    srv = RedisInstance(clock=ManualClock())
    client = Client(srv)
    for i in range(count):
        client.execute([b"SET", b"k%d" % i, b"v", b"PX", b"10"])
    srv.clock.advance(20)
    return srv


def _set(srv, name: str, value: str) -> None:
    Client(srv).execute([b"CONFIG", b"SET", name.encode(), value.encode()])


def test_the_effort_raises_the_keys_taken_per_tick():
    for effort, taken in (("1", 500), ("2", 625), ("10", 1625)):
        srv = _server_with_expired_keys(3000)
        _set(srv, "active-expire-effort", effort)
        assert srv.active_expire_cycle() == taken
        assert dict(info_fields(srv, "stats"))["expired_keys"] == taken


class SteppingClock(ManualClock):
    """Each monotonic() reading is 3 ms after the previous one."""

    __slots__ = ()

    def monotonic(self) -> float:
        self.now_us += 3000
        return self.now_us / 1_000_000


def test_the_cycle_time_is_counted_and_reset():
    srv = RedisInstance(clock=SteppingClock())
    for _ in range(4):
        srv.active_expire_cycle()
    assert dict(info_fields(srv, "stats"))["expire_cycle_cpu_milliseconds"] == 12
    _set(srv, "active-expire-effort", "1")  # CONFIG SET reads no monotonic time
    srv.reset_stats()
    assert dict(info_fields(srv, "stats"))["expire_cycle_cpu_milliseconds"] == 0

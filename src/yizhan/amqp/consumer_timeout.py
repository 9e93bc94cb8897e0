"""The consumer timeout (RabbitMQ's `consumer_timeout`, 30 minutes by default in 3.10; the config
file's `amqp-consumer-timeout MS|off`): a channel whose oldest unacknowledged delivery (to a
consumer or from basic.get) has waited longer than the timeout is closed with 406 and
rabbit_channel's text, which requeues its unacknowledged messages as any channel close does.

RabbitMQ checks each channel on its tick (`channel_tick_interval`, 60 s), so a client sees the
close some time between the timeout and a minute after it. yizhan sweeps every channel of the
broker every `interval` (a tenth of the timeout, at most 60 s), and never closes early: rather
than stamping every delivery (a clock read on the hot path), each sweep notes the channel's next
delivery tag and the time (`marks`); a delivery with a tag below a mark's was made by that mark's
time, so the oldest unacked delivery is known to be older than `now - mark time`. The close
therefore comes between the timeout and the timeout plus two intervals.
"""

from __future__ import annotations

from collections import deque

from yizhan.amqp import errors
from yizhan.clock import Clock

MAX_INTERVAL = 60.0   # rabbit's channel_tick_interval
MIN_INTERVAL = 0.01


def timed_out(channel_number: int, timeout_ms: int) -> errors.AMQPError:
    """rabbit_channel:evaluate_consumer_timeout's error (no method: class and method 0)."""
    return errors.AMQPError(
        errors.PRECONDITION_FAILED,
        f"delivery acknowledgement on channel {channel_number} timed out. Timeout value used: "
        f"{timeout_ms} ms. This timeout value can be configured, see consumers doc guide to "
        "learn more", errors.NO_METHOD)


class ConsumerTimeouts:
    """The sweep for one broker: `start(loop)`, `stop()`; `sweep(now)` is the whole check."""

    def __init__(self, broker, timeout_ms: int | None, clock: Clock | None = None):
        self.broker = broker
        self.timeout_ms = timeout_ms
        self.clock = clock or Clock()  # the server's (the sweep reads its monotonic time)
        self.interval = (min(MAX_INTERVAL, max(MIN_INTERVAL, timeout_ms / 10_000))
                         if timeout_ms is not None else None)
        self.marks: dict = {}   # channel -> deque of (next delivery tag, time), oldest first
        self.loop = None
        self.handle = None

    def start(self, loop) -> None:
        if self.interval is not None:
            self.loop = loop
            self.handle = loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _tick(self) -> None:
        self.sweep(self.clock.monotonic())
        self.handle = self.loop.call_later(self.interval, self._tick)

    def sweep(self, now: float) -> None:
        """Close the channels whose oldest unacked delivery is known to be older than the
        timeout, and note every other channel's next delivery tag."""
        limit = self.timeout_ms / 1000
        marks, seen = self.marks, {}
        for connection in list(self.broker.connections):
            for channel in list(connection.channels.values()):
                if channel.state != "open" or not channel.unacked:
                    continue
                trail = marks.get(channel) or deque()
                oldest = next(iter(channel.unacked))
                while trail and trail[0][0] <= oldest:
                    trail.popleft()
                if trail and now - trail[0][1] > limit:
                    channel.fail(timed_out(channel.number, self.timeout_ms))
                    continue
                if not trail or trail[-1][0] != channel.next_tag:
                    trail.append((channel.next_tag, now))
                seen[channel] = trail
        self.marks = seen
        self.broker.run_deferred()  # e.g. basic.cancel to consumers of an auto-deleted queue

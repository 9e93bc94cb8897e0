"""Resource alarms: the memory high watermark and the disk free limit, as RabbitMQ's
vm_memory_monitor and rabbit_disk_monitor raise them.

`ResourceMonitor` reads the process's resident set size (/proc/self/statm on Linux; elsewhere
the peak RSS from getrusage, which can only overstate) every `MEMORY_INTERVAL` seconds and the
free space of the data directory's file system every `DISK_INTERVAL` seconds. Crossing the
watermark (a fraction of the machine's RAM, RabbitMQ's default 0.4, or an absolute size) sets
the `memory` alarm; free space below the limit (default 50MB) sets `disk`. While any alarm is in
effect, every connection blocks on its next publish (AMQPConnection.control_throttle): it stops
reading, and clients announcing the `connection.blocked` capability are told "low on memory" /
"low on disk"; connections that only consume keep flowing. Clearing the last alarm unblocks
them (connection.unblocked). Transitions are logged, with the figures.

Memory pressure comes first: above `paging_ratio` (RabbitMQ's
vm_memory_high_watermark_paging_ratio, 0.5) of the watermark, non-durable queues page messages
beyond the page limit to the store as durable queues always do (`set_memory_pressure`), so the
memory a long transient queue holds stops growing before publishers have to be blocked.

Config keys (config.py): `amqp-vm-memory-high-watermark 0.4`,
`amqp-vm-memory-high-watermark-absolute 512MB`, `amqp-disk-free-limit 50MB`; sizes take
RabbitMQ's units (kB/MB/GB powers of 1000; k/KiB, M/MiB, G/GiB powers of 1024).
"""

from __future__ import annotations

import logging
import os
import re
import resource
import shutil
import sys

log = logging.getLogger("yizhan.amqp")

MEMORY_INTERVAL = 0.25
DISK_INTERVAL = 2.5
DEFAULT_WATERMARK = 0.4
DEFAULT_PAGING_RATIO = 0.5
DEFAULT_DISK_FREE_LIMIT = 50_000_000
_UNITS = {"": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "k": 1024, "kib": 1024,
          "m": 1024 ** 2, "mib": 1024 ** 2, "g": 1024 ** 3, "gib": 1024 ** 3}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int | None:
    """A byte count in RabbitMQ's notation ("512MB", "1GiB", "50000000"), or None."""
    match = _SIZE.match(text)
    if match is None:
        return None
    unit = _UNITS.get(match.group(2).lower())
    return None if unit is None else int(match.group(1)) * unit


def process_rss() -> int:
    """This process's resident set size in bytes."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def total_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def set_alarm(broker, resource_name: str, active: bool) -> None:
    """Raise or clear a resource alarm; every connection re-evaluates its throttle."""
    if active == (resource_name in broker.alarms):
        return
    if active:
        broker.alarms.add(resource_name)
    else:
        broker.alarms.discard(resource_name)
    for conn in list(broker.connections):
        conn.control_throttle()
    broker.run_deferred()


def set_memory_pressure(broker, on: bool) -> None:
    """Non-durable queues page beyond the store's page limit while `on`."""
    store = broker.store
    if store.memory_pressure == on:
        return
    store.memory_pressure = on
    for vhost in broker.vhosts.values():
        for queue in list(vhost.queues.values()):
            queue.memory_pressure(on)


def _mb(value: int) -> str:
    return f"{value / 1024 / 1024:.0f} MiB"


class ResourceMonitor:
    """Checks memory and disk on timers and raises or clears the broker's alarms."""

    def __init__(self, broker, data_dir: str, watermark: float = DEFAULT_WATERMARK,
                 watermark_absolute: int | None = None,
                 disk_free_limit: int = DEFAULT_DISK_FREE_LIMIT,
                 paging_ratio: float = DEFAULT_PAGING_RATIO):
        self.broker = broker
        self.data_dir = data_dir
        total = total_memory()
        if watermark_absolute is not None:
            self.memory_limit = watermark_absolute
        else:
            self.memory_limit = int(total * watermark) if total else None
        self.total = total
        self.paging_ratio = paging_ratio
        self.disk_free_limit = disk_free_limit
        self.rss = 0
        self.peak_rss = 0
        self.disk_free: int | None = None
        self.loop = None
        self._memory_timer = self._disk_timer = None

    def start(self, loop) -> None:
        self.loop = loop
        if self.memory_limit is not None:
            log.info("Memory high watermark set to %s (%d bytes) of %s total", _mb(self.memory_limit),
                     self.memory_limit, _mb(self.total) if self.total else "unknown")
        log.info("Disk free limit set to %dMB", self.disk_free_limit // 1_000_000)
        self._memory_tick()
        self._disk_tick()

    def stop(self) -> None:
        for timer in (self._memory_timer, self._disk_timer):
            if timer is not None:
                timer.cancel()
        self._memory_timer = self._disk_timer = None

    def _memory_tick(self) -> None:
        self.check_memory()
        self._memory_timer = self.loop.call_later(MEMORY_INTERVAL, self._memory_tick)

    def _disk_tick(self) -> None:
        self.check_disk()
        self._disk_timer = self.loop.call_later(DISK_INTERVAL, self._disk_tick)

    def check_memory(self) -> None:
        rss = self.rss = process_rss()
        self.peak_rss = max(self.peak_rss, rss)
        if self.memory_limit is None:
            return
        pressure = rss > self.memory_limit * self.paging_ratio
        if pressure != self.broker.store.memory_pressure:
            log.info("memory pressure %s: RSS %s, paging threshold %s", "on" if pressure else "off",
                     _mb(rss), _mb(int(self.memory_limit * self.paging_ratio)))
            set_memory_pressure(self.broker, pressure)
        high = rss > self.memory_limit
        if high != ("memory" in self.broker.alarms):
            if high:
                log.warning("memory resource limit alarm set: RSS %s above the high watermark %s; "
                            "publishers will be blocked until this alarm clears",
                            _mb(rss), _mb(self.memory_limit))
            else:
                log.warning("memory resource limit alarm cleared: RSS %s (high watermark %s)",
                            _mb(rss), _mb(self.memory_limit))
            set_alarm(self.broker, "memory", high)

    def check_disk(self) -> None:
        try:
            free = self.disk_free = shutil.disk_usage(self.data_dir).free
        except OSError:
            return
        low = free < self.disk_free_limit
        if low != ("disk" in self.broker.alarms):
            if low:
                log.warning("disk resource limit alarm set: free disk space %d bytes is below the "
                            "limit %d; publishers will be blocked until this alarm clears",
                            free, self.disk_free_limit)
            else:
                log.warning("disk resource limit alarm cleared: free disk space %d bytes", free)
            set_alarm(self.broker, "disk", low)

    def status(self) -> str:
        """One line for the log: RSS, its peak, the watermark, disk free, alarms."""
        limit = _mb(self.memory_limit) if self.memory_limit is not None else "none"
        disk = f"{self.disk_free // 1_000_000}MB" if self.disk_free is not None else "unknown"
        alarms = ",".join(sorted(self.broker.alarms)) or "none"
        return (f"RSS {_mb(self.rss)} (peak {_mb(self.peak_rss)}), memory high watermark {limit}, "
                f"disk free {disk} (limit {self.disk_free_limit // 1_000_000}MB), alarms {alarms}")

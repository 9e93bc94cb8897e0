"""INFO stats' instantaneous rates and fork counters move as on redis-server (the same scenario
on both servers; the values depend on load, so the tests check that they rise from zero under
traffic and fall back to zero when it stops, never a figure or a duration)."""

import threading
import time

import redis

WAIT_S = 10


def wait_for(port: int, condition, section: str = "stats") -> dict:
    """Poll INFO on one connection five times a second (about 5 commands a second)."""
    client = redis.Redis(port=port)
    deadline = time.monotonic() + WAIT_S
    while True:
        info = client.info(section)
        if condition(info) or time.monotonic() > deadline:
            return info
        time.sleep(0.2)


def test_instantaneous_rates_follow_the_traffic(both_servers):
    stop = threading.Event()

    def traffic():
        client = redis.Redis(port=both_servers)
        while not stop.is_set():
            pipe = client.pipeline(transaction=False)
            for i in range(50):
                pipe.set(f"rate:{i}", "x" * 100)
            pipe.execute()

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        busy = wait_for(both_servers, lambda s: s["instantaneous_ops_per_sec"] > 0
                        and s["instantaneous_input_kbps"] > 0 and s["instantaneous_output_kbps"] > 0)
    finally:
        stop.set()
        worker.join()
    assert busy["instantaneous_ops_per_sec"] > 0
    assert busy["instantaneous_input_kbps"] > 0 and busy["instantaneous_output_kbps"] > 0
    # once idle, every sample of the ring is replaced by the polling's own few commands
    idle = wait_for(both_servers, lambda s: s["instantaneous_ops_per_sec"] <= 20)
    assert idle["instantaneous_ops_per_sec"] <= 20


def test_bgsave_counts_a_fork(both_servers):
    client = redis.Redis(port=both_servers)
    before = client.info("stats")["total_forks"]
    client.set("fork:k", "v")
    client.bgsave()
    after = wait_for(both_servers, lambda s: s["total_forks"] > before)
    assert after["total_forks"] == before + 1
    assert after["latest_fork_usec"] > 0
    done = wait_for(both_servers, lambda s: s["rdb_bgsave_in_progress"] == 0, "persistence")
    assert done["rdb_bgsave_in_progress"] == 0

"""INFO's instantaneous rates as Redis 7.0 samples them (16 samples, one per 100 ms)."""

from yizhan.redis.instance import Stats
from yizhan.redis.instantaneous import InstantaneousMetrics


def test_rates_are_the_mean_of_sixteen_samples_taken_every_100_ms():
    stats = Stats()
    metrics = InstantaneousMetrics(stats, now_ms=0)
    for step in range(1, 9):  # half the ring: 250 commands and 10 kB in each 100 ms
        stats.total_commands_processed += 250
        stats.total_net_input_bytes += 10_240
        stats.total_net_repl_output_bytes += 2_048
        metrics.cron(stats, now_ms=step * 100)
        metrics.cron(stats, now_ms=step * 100 + 50)  # within the period: no sample
    assert metrics.info_rows() == (("instantaneous_ops_per_sec", 2500 * 8 // 16),)
    assert metrics.kbps_rows() == (("instantaneous_input_kbps", "50.00"),
                                   ("instantaneous_output_kbps", "10.00"),  # replication's included
                                   ("instantaneous_input_repl_kbps", "0.00"),
                                   ("instantaneous_output_repl_kbps", "10.00"))


def test_idle_samples_bring_the_rate_back_to_zero_and_reset_restarts():
    stats = Stats()
    metrics = InstantaneousMetrics(stats, now_ms=0)
    stats.total_commands_processed = 1_000
    metrics.cron(stats, now_ms=100)
    assert metrics.info_rows()[0][1] == 10_000 // 16
    for step in range(2, 18):
        metrics.cron(stats, now_ms=step * 100)
    assert metrics.info_rows()[0][1] == 0
    stats = Stats()
    metrics.reset(stats, now_ms=2_000)
    stats.total_commands_processed = 7
    metrics.cron(stats, now_ms=2_100)
    assert metrics.info_rows()[0][1] == 70 // 16

"""RQ (Redis Queue) end to end, on yizhan and on redis-server 7.0: jobs are enqueued, a worker in
burst mode runs them (forking a work horse per job, as RQ does by default), and the results come
back through `job.return_value()`, which RQ stores in a stream per job (XADD ... MAXLEN ~ 10)
and reads with XREVRANGE; failures keep their traceback the same way, and dependent jobs run
after the job they wait for (RQ's Lua scripts and transactions).

The workers here do not subscribe to RQ's per-worker command channel: stopping its pub/sub thread
races in redis-py (the thread can start waiting up to RQ's 60 s for a subscription that has just
ended), which turns a burst into a minute's wait on redis-server and yizhan alike."""

import redis
import rq


class Worker(rq.Worker):
    """RQ's forking worker without the command channel (see the module docstring)."""

    def subscribe(self):
        pass


class SimpleWorker(rq.SimpleWorker):
    def subscribe(self):
        pass


def square(n: int) -> int:
    return n * n


def fail(message: str) -> None:
    raise ValueError(message)


def add(a: int, b: int) -> int:
    return a + b


def test_burst_worker_runs_jobs_and_results_read_back(both_servers):
    conn = redis.Redis(port=both_servers)
    queue = rq.Queue("default", connection=conn)
    jobs = [queue.enqueue(square, n) for n in range(6)]
    worker = Worker([queue], connection=conn)
    assert worker.work(burst=True) is True
    assert [job.return_value() for job in jobs] == [n * n for n in range(6)]
    assert all(job.get_status(refresh=True) == rq.job.JobStatus.FINISHED for job in jobs)
    result = jobs[3].latest_result()
    assert result.type == result.Type.SUCCESSFUL and result.return_value == 9
    assert conn.type(f"rq:results:{jobs[3].id}") == b"stream"
    assert queue.count == 0


def test_failed_job_keeps_its_traceback_and_dependents_run(both_servers):
    conn = redis.Redis(port=both_servers)
    queue = rq.Queue("work", connection=conn)
    bad = queue.enqueue(fail, "boom")
    first = queue.enqueue(add, 1, 2)
    second = queue.enqueue(add, 3, 4, depends_on=first)
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert bad.get_status(refresh=True) == rq.job.JobStatus.FAILED
    assert "ValueError: boom" in bad.latest_result().exc_string
    assert first.return_value() == 3 and second.return_value() == 7
    assert bad.id in rq.registry.FailedJobRegistry(queue=queue).get_job_ids()

"""MULTI/EXEC/WATCH through redis-py with several clients; each test runs against yizhan and
against redis-server (the `both_servers` fixture) and asserts the same outcome."""

import threading

import redis


def test_seed_transactional_pipeline(both_servers):
    r = redis.Redis(connection_pool=redis.ConnectionPool(port=both_servers))
    pipe = r.pipeline(transaction=True)
    pipe.set("sex", "man")
    pipe.set("name", "zhushanwei")
    pipe.set("hobby", "game")
    assert pipe.execute() == [True, True, True]
    assert r.mget("sex", "name", "hobby") == [b"man", b"zhushanwei", b"game"]


def test_watch_aborts_when_another_client_writes(both_servers):
    a, b = redis.Redis(port=both_servers), redis.Redis(port=both_servers)
    a.set("balance", 10)
    with a.pipeline() as pipe:
        pipe.watch("balance")
        b.incrby("balance", 5)
        pipe.multi()
        pipe.set("balance", 0)
        try:
            pipe.execute()
            aborted = False
        except redis.WatchError:
            aborted = True
    assert aborted
    assert a.get("balance") == b"15"


def test_watch_aborts_when_another_client_deletes_or_flushes(both_servers):
    a, b = redis.Redis(port=both_servers), redis.Redis(port=both_servers)
    for spoil in (lambda: b.delete("k"), lambda: b.flushdb()):
        a.set("k", "v")
        a.execute_command("WATCH", "k")
        spoil()
        a.execute_command("MULTI")
        a.execute_command("SET", "k", "mine")
        assert a.execute_command("EXEC") is None


def test_watch_in_another_db_is_not_spoiled(both_servers):
    a, b = redis.Redis(port=both_servers), redis.Redis(port=both_servers, db=1)
    a.set("k", "v")
    a.execute_command("WATCH", "k")
    b.set("k", "other db")
    a.execute_command("MULTI")
    a.execute_command("GET", "k")
    assert a.execute_command("EXEC") == [b"v"]


def test_transaction_helper_retries_until_it_wins(both_servers):
    r = redis.Redis(port=both_servers)
    r.set("counter", 0)
    errors = []

    def bump(n):
        client = redis.Redis(port=both_servers)
        try:
            for _ in range(n):
                def incr(pipe):
                    value = int(pipe.get("counter"))
                    pipe.multi()
                    pipe.set("counter", value + 1)
                client.transaction(incr, "counter")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(50,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert r.get("counter") == b"200"

"""A script past busy-reply-threshold: other clients (connected before or during the script) get
BUSY, SCRIPT KILL stops a script that has not written (its caller gets Redis's error), a script
that wrote is UNKILLABLE. Run against yizhan and redis-server alike; no timing is asserted: the
second client polls until the BUSY reply comes."""

import threading
import time

import pytest

from yizhan.testing.raw import RawClient

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
UNKILLABLE = (b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
              b"either wait the script termination or kill the server in a hard way using the SHUTDOWN "
              b"NOSAVE command.\r\n")
FOREVER = "local i = 0 while true do i = i + 1 end"
# writes, then spins for two seconds by the server's clock (so the test cannot hang)
WRITE_THEN_SPIN = ("redis.call('set', KEYS[1], '1') local s = tonumber(redis.call('time')[1]) "
                   "while tonumber(redis.call('time')[1]) < s + 2 do end return 'done'")


@pytest.fixture
def threshold(both_servers):
    with RawClient("127.0.0.1", both_servers) as admin:
        assert admin.call("CONFIG", "SET", "busy-reply-threshold", "100") == b"+OK\r\n"
    yield both_servers
    with RawClient("127.0.0.1", both_servers) as admin:
        admin.call("CONFIG", "SET", "busy-reply-threshold", "5000")


def connected(port: int) -> RawClient:
    """A client whose connection the server has taken on (asyncio's default loop accepts a
    socket, then makes its protocol in a later loop turn: a connection still in between when a
    script starts waits for the script's end)."""
    client = RawClient("127.0.0.1", port, timeout=30)
    assert client.call("PING") == b"+PONG\r\n"
    return client


def start_script(port, *args):
    caller = RawClient("127.0.0.1", port, timeout=30)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("reply", caller.call("EVAL", *args)))
    thread.start()
    return caller, thread, result


def stop(port, thread) -> None:
    """A failed test must not leave its script running on the shared server."""
    if thread.is_alive():
        with RawClient("127.0.0.1", port, timeout=30) as killer:
            killer.call("SCRIPT", "KILL")
    thread.join(30)


def wait_for_busy(client, result: dict) -> None:
    for _ in range(3000):  # a loaded machine may take seconds to start the script
        reply = client.call("PING")
        if reply == BUSY:
            return
        assert reply == b"+PONG\r\n"
        assert "reply" not in result, result  # the script ended: it should not
        time.sleep(0.01)
    raise AssertionError("no BUSY reply")


def test_busy_then_script_kill(threshold):
    other = connected(threshold)
    caller, thread, result = start_script(threshold, FOREVER, "0")
    try:
        wait_for_busy(other, result)
        assert other.call("GET", "x") == BUSY
        assert other.call("NOSUCH") == b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n"
        assert other.call("SCRIPT", "KILL", "x") == b"-ERR wrong number of arguments for 'script|kill' command\r\n"
        assert other.call("FUNCTION", "KILL") == BUSY
        assert other.call("DEBUG", "DIGEST").startswith(b"-ERR DEBUG command not allowed.")  # checked before BUSY
        assert other.call("MULTI") == b"+OK\r\n"
        assert other.call("SET", "a", "b") == BUSY
        assert other.call("DISCARD") == b"+OK\r\n"
        late = RawClient("127.0.0.1", threshold, timeout=30)  # connected while the script runs
        assert late.call("PING") == BUSY
        assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
        thread.join(30)
        assert result["reply"].startswith(b"-ERR Script killed by user with SCRIPT KILL... script: ")
        assert result["reply"].endswith(b", on @user_script:1.\r\n")
        assert other.call("PING") == b"+PONG\r\n"
        assert late.call("PING") == b"+PONG\r\n"
        assert caller.call("PING") == b"+PONG\r\n"
        assert other.call("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    finally:
        stop(threshold, thread)
        caller.close()
        other.close()


def test_script_that_wrote_is_unkillable(threshold):
    other = connected(threshold)
    caller, thread, result = start_script(threshold, WRITE_THEN_SPIN, "1", "w")
    try:
        wait_for_busy(other, result)
        assert other.call("SCRIPT", "KILL") == UNKILLABLE
        thread.join(30)
        assert result["reply"] == b"$4\r\ndone\r\n"
        assert other.call("GET", "w") == b"$1\r\n1\r\n"
    finally:
        stop(threshold, thread)
        caller.close()
        other.close()


def test_pipelined_output_keeps_its_order(threshold):
    """Replies a client was owed before the script went busy leave before its BUSY replies."""
    other = connected(threshold)
    caller, thread, result = start_script(threshold, FOREVER, "0")
    try:
        wait_for_busy(other, result)
        other.send_raw(b"PING\r\nECHO x\r\nSCRIPT KILL\r\n")
        assert other.read_reply() == BUSY
        assert other.read_reply() == BUSY
        assert other.read_reply() == b"+OK\r\n"
        thread.join(30)
        assert result["reply"].startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    finally:
        stop(threshold, thread)
        caller.close()
        other.close()

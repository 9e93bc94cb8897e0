"""Differential cases for SHUTDOWN's replies that leave the server running: ABORT with no
shutdown in progress, syntax errors, MULTI and scripts refusing it, COMMAND INFO. The cases
where a server exits are in tests/integration/test_shutdown.py."""

import pytest

CASES = {
    "abort": [["SHUTDOWN", "ABORT"], ["SHUTDOWN", "abort"], ["SHUTDOWN", "ABORT", "ABORT"], ["PING"]],
    "syntax": [["SHUTDOWN", "NOSAVE", "SAVE"], ["SHUTDOWN", "SAVE", "NOSAVE", "NOW"],
               ["SHUTDOWN", "ABORT", "NOW"], ["SHUTDOWN", "NOSAVE", "ABORT"], ["SHUTDOWN", "FORCE", "ABORT"],
               ["SHUTDOWN", "foo"], ["SHUTDOWN", "NOW", "bar"], ["SHUTDOWN", ""], ["PING"]],
    "in-multi": [["MULTI"], ["SHUTDOWN", "NOSAVE"], ["SET", "k", "v"], ["EXEC"], ["GET", "k"],
                 ["MULTI"], ["SAVE"], ["EXEC"], ["PING"]],
    "in-script": [["EVAL", "return redis.call('shutdown', 'nosave')", "0"],
                  ["EVAL", "return redis.pcall('shutdown', 'abort')", "0"], ["PING"]],
    "command-info": [["COMMAND", "INFO", "shutdown"]],
}


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_redis(differential, name, proto):
    differential.check(CASES[name], proto=proto)

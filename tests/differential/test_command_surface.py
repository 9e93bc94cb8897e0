"""Redis 7.0's command surface against redis-server 7.0: the same commands (COMMAND LIST), each
declared the same way (whole COMMAND INFO: arity, flags, key positions, ACL categories, tips,
key specs, subcommands), every container's HELP text, and the commands of features yizhan does
not have answering as redis-server answers without them: CLUSTER, ASKING, READONLY and
READWRITE as on a server with cluster support disabled, MODULE as on one with no module."""

import pytest

from yizhan.testing.raw import RawClient
from tests.differential.test_command_keys import command_names, decode

# redis-server 7.0 commands yizhan does not serve (the README says why).
NOT_SERVED = {b"script|debug"}

CONTAINERS = ["ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "FUNCTION", "LATENCY", "MEMORY", "MODULE",
              "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO"]


def test_the_same_commands_as_redis_server(yizhan_server, reference_redis):
    ours, theirs = command_names(yizhan_server.port), command_names(reference_redis.port)
    assert ours - theirs == set()
    assert theirs - ours == NOT_SERVED
    with RawClient("127.0.0.1", yizhan_server.port) as a, RawClient("127.0.0.1", reference_redis.port) as b:
        top_level = {name for name in theirs - NOT_SERVED if b"|" not in name}
        missing = len([name for name in NOT_SERVED if b"|" not in name])
        assert decode(a.call("COMMAND", "COUNT")) == decode(b.call("COMMAND", "COUNT")) - missing == len(top_level)


@pytest.mark.parametrize("proto", [2, 3])
def test_whole_command_info_of_every_command_matches(differential, yizhan_server, reference_redis, proto):
    """SCRIPT's own entry lists SCRIPT DEBUG among its subcommands: its other ones are compared."""
    shared = sorted(command_names(yizhan_server.port) & command_names(reference_redis.port))
    differential.check([["~COMMAND", "INFO", name] for name in shared if name != b"script"], proto=proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_help_of_every_container_matches(differential, proto):
    steps = [[name, "HELP"] for name in CONTAINERS]
    steps += [[name.lower(), "help"] for name in CONTAINERS]  # the header names the command as typed, upper-cased
    steps += [[name, "HELP", "x"] for name in CONTAINERS]  # wrong arity
    differential.check(steps, proto=proto)


def test_debug_help_matches(debug_differential):
    debug_differential.check([["DEBUG", "HELP"], ["debug", "help"]])


@pytest.mark.parametrize("proto", [2, 3])
def test_cluster_commands_answer_as_without_cluster_support(differential, proto):
    differential.check([
        ["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "MYID"],
        ["CLUSTER", "KEYSLOT", "user:{1}"], ["CLUSTER", "COUNTKEYSINSLOT", "1"], ["CLUSTER", "GETKEYSINSLOT", "1", "2"],
        ["CLUSTER", "HELP"], ["CLUSTER", "RESET", "HARD"], ["CLUSTER", "SETSLOT", "1", "STABLE"],
        ["CLUSTER"], ["CLUSTER", "INFO", "x"], ["CLUSTER", "NOSUCH"], ["CLUSTER", "KEYSLOT"],
        ["ASKING"], ["READONLY"], ["READWRITE"], ["ASKING", "x"],
        ["MULTI"], ["CLUSTER", "INFO"], ["READONLY"], ["SET", "k", "v"], ["EXEC"], ["GET", "k"],
        ["EVAL", "return redis.pcall('cluster', 'info')", "0"], ["EVAL", "return redis.pcall('readonly')", "0"],
    ], proto=proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_module_commands_answer_as_with_no_module_loaded(differential, proto):
    differential.check([
        ["MODULE", "LIST"], ["MODULE", "LIST", "x"], ["MODULE", "NOSUCH"], ["MODULE"],
        ["MODULE", "LOAD", "/no/such/module.so"], ["MODULE", "LOADEX", "/x.so", "CONFIG", "a", "b"],
        ["MODULE", "UNLOAD", "json"], ["MODULE", "UNLOAD"],  # refused: enable-module-command is "no"
        ["CONFIG", "GET", "enable-module-command"], ["CONFIG", "SET", "enable-module-command", "yes"],
        ["EVAL", "return redis.pcall('module', 'list')", "0"],
    ], proto=proto)


def test_module_load_allowed_fails_as_for_a_library_it_cannot_load(debug_differential):
    """With enable-module-command local (the debug servers allow it), loading fails as Redis's
    fails for a path it cannot open, and unloading finds no module."""
    debug_differential.check([
        ["MODULE", "LOAD", "/no/such/module.so"], ["MODULE", "LOAD", "/no/such/module.so", "a", "b"],
        ["MODULE", "LOADEX", "/x.so"], ["MODULE", "LOADEX", "/x.so", "CONFIG", "a", "b", "ARGS", "x"],
        ["MODULE", "UNLOAD", "json"], ["MODULE", "LIST"], ["CONFIG", "GET", "enable-module-command"],
    ])


def test_restore_asking_is_restore(differential, reference_redis):
    with RawClient("127.0.0.1", reference_redis.port) as client:
        client.call("SET", "source", "hello")
        payload = decode(client.call("DUMP", "source"))
        client.call("DEL", "source")
    differential.check([
        ["RESTORE-ASKING", "k", "0", payload], ["GET", "k"], ["RESTORE-ASKING", "k", "0", payload],
        ["RESTORE-ASKING", "k", "0", payload, "REPLACE"], ["RESTORE-ASKING", "k", "0", "bad payload"],
        ["RESTORE-ASKING", "k"], ["OBJECT", "ENCODING", "k"],
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_connection_commands_refused_in_scripts_and_client_setinfo_unknown(differential, proto):
    """QUIT, AUTH, HELLO and RESET are noscript (7.0's flags); CLIENT SETINFO is 7.2's."""
    differential.check([
        ["EVAL", "return redis.pcall('quit')", "0"], ["EVAL", "return redis.pcall('auth', 'x')", "0"],
        ["EVAL", "return redis.pcall('hello')", "0"], ["EVAL", "return redis.pcall('reset')", "0"],
        ["CLIENT", "SETINFO", "LIB-NAME", "redis-py"], ["CLIENT", "SETINFO", "LIB-VER", "5.0"],
    ], proto=proto)


def test_client_list_has_redis_7_0s_fields(yizhan_server, reference_redis):
    def fields(port):
        with RawClient("127.0.0.1", port) as client:
            line = decode(client.call("CLIENT", "INFO")).decode()
        return [pair.split("=", 1)[0] for pair in line.split()]

    assert fields(yizhan_server.port) == fields(reference_redis.port)

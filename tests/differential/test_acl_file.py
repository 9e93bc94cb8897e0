"""ACL SAVE / ACL LOAD with `aclfile`, and `user` lines in the config file, against redis-server 7.0.

Both servers get an ACL file of their own with the same content; replies are compared byte
for byte except for the file's path, which differs (it is replaced by FILE in both)."""

from __future__ import annotations

import time

import pytest

from yizhan import Server
from yizhan.config import Config, load_file
from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.acl.registry import AclFileError
from yizhan.redis.instance import RedisInstance
from yizhan.testing.acl import canonical_rules
from yizhan.testing.raw import RawClient
from yizhan.testing.reference import RedisReference

START = (b"user alice on #" + b"5" * 64 + b" ~a* &news +@read -@dangerous\n"
         b"user default on nopass ~* &* +@all\n")


@pytest.fixture
def file_servers(tmp_path):
    (tmp_path / "acl").mkdir()
    files = [tmp_path / "acl" / "ours.acl", tmp_path / "acl" / "theirs.acl"]
    for path in files:
        path.write_bytes(START)
    with Server(data_dir=str(tmp_path / "data"), save="", aclfile=str(files[0])) as ours, \
            RedisReference("redis-server", "--aclfile", str(files[1])) as ref:
        yield [(ours.port, files[0]), (ref.port, files[1])]


def both(servers, *args, client=None):
    replies = []
    for (port, path), conn in zip(servers, client or [None, None]):
        if conn is None:
            with RawClient("127.0.0.1", port) as own:
                reply = own.call(*args)
        else:
            reply = conn.call(*args)
        replies.append(canonical_lines(reply.replace(str(path).encode(), b"FILE")))
    return replies


def canonical_lines(data: bytes) -> bytes:
    """Rule strings (ACL LIST replies, ACL files) with their single-command rules sorted."""
    return b"\n".join(canonical_rules(line) if line.startswith(b"user ") else line for line in data.split(b"\n"))


def same(servers, *args, client=None) -> bytes:
    ours, theirs = both(servers, *args, client=client)
    assert ours == theirs, f"{args}:\n  yizhan:       {ours!r}\n  redis-server: {theirs!r}"
    return ours


def test_load_at_start_and_save(file_servers):
    same(file_servers, "ACL", "LIST")
    same(file_servers, "ACL", "SETUSER", "bob", "on", ">pw", "~b*", "+get", "(+set ~w*)")
    same(file_servers, "ACL", "SETUSER", "carol", "off", "+@all", "-@admin", "resetchannels", "&c")
    same(file_servers, "ACL", "SAVE")
    ours, theirs = (canonical_lines(path.read_bytes()) for _, path in file_servers)
    assert ours == theirs
    assert ours.count(b"\n") == 4


def test_load_replaces_users_and_drops_their_clients(file_servers):
    clients = [RawClient("127.0.0.1", port) for port, _ in file_servers]
    try:
        same(file_servers, "ACL", "SETUSER", "tmp", "on", "nopass", "+@all")
        same(file_servers, "AUTH", "tmp", "x", client=clients)
        for _, path in file_servers:
            path.write_bytes(START + b"user zed off\n")
        same(file_servers, "ACL", "LOAD")
        same(file_servers, "ACL", "LIST")
        for conn in clients:  # the client of a user that ACL LOAD replaced is closed
            with pytest.raises((ConnectionError, OSError)):
                conn.call("PING")
    finally:
        for conn in clients:
            conn.close()


@pytest.mark.parametrize("content", [
    b"user bad on +nosuch\n",
    b"nouser x\n",
    b"user dup on\nuser dup off\n",
    b"user x on bogus ~a* &b +get badrule\n",
    b"user\n",
    b"  \n\nuser ok on +@all ~* \n",
    b"user z on #abc\n",
    b"user q on >pw ~* +@all\r\nuser default off\n",
])
def test_load_errors_and_edge_cases(file_servers, content):
    for _, path in file_servers:
        path.write_bytes(content)
    same(file_servers, "ACL", "LOAD")
    same(file_servers, "ACL", "LIST")


def test_no_aclfile_errors(tmp_path):
    with Server(data_dir=str(tmp_path), save="") as ours, RedisReference() as ref:
        servers = [(ours.port, "-"), (ref.port, "-")]
        same(servers, "ACL", "LOAD")
        same(servers, "ACL", "SAVE")


def test_config_user_lines(tmp_path):
    """`user` lines of a config file define users at start, as redis-server's do."""
    conf = tmp_path / "yizhan.conf"
    conf.write_text("user alice on >pw ~a* +@read\nuser default on nopass ~* +@all\n"
                    "user bob on nopass (+get ~x) +set\n")
    instance = RedisInstance(load_file(conf))
    with RedisReference("redis-server", "--user", "alice", "on", ">pw", "~a*", "+@read",
                        "--user", "default", "on", "nopass", "~*", "+@all",
                        "--user", "bob", "on", "nopass", "(+get ~x)", "+set") as ref, \
            RawClient("127.0.0.1", ref.port) as theirs:
        listed = theirs.call("ACL", "LIST")
    ours = b"".join(b"$%d\r\n%b\r\n" % (len(line), line) for line in instance.acl.describe_all())
    assert canonical_lines(b"*3\r\n" + ours) == canonical_lines(listed)
    assert b"user default on nopass sanitize-payload ~* resetchannels +@all" in listed  # reset first


def test_config_requirepass_and_default_line():
    instance = RedisInstance(Config(redis_params={"requirepass": "pw"}, redis_users=(("alice", "on", ">x"),)))
    assert not instance.acl.default_open()
    assert instance.acl.default.check_password(b"pw")


def test_config_user_line_errors():
    with pytest.raises(AclFileError, match="Error loading ACL rule 'bogus' for the user named 'x': Syntax error"):
        RedisInstance(Config(redis_users=(("x", "on", "bogus"),)))


def test_aof_replay_ignores_acl(tmp_path):
    """Commands replayed from the AOF at start are not checked against the ACL (Redis's AOF
    client has no user), even when the default user may not run them."""
    data = tmp_path / "data"
    with Server(data_dir=str(data), save="", appendonly="yes") as first, RawClient("127.0.0.1", first.port) as c:
        assert c.call("SET", "k", "v") == b"+OK\r\n"
        assert c.call("RPUSH", "l", "a") == b":1\r\n"
    aclfile = tmp_path / "users.acl"
    aclfile.write_bytes(b"user default on nopass ~* &* -@all +get +lrange\n")
    with Server(data_dir=str(data), save="", appendonly="yes", aclfile=str(aclfile)) as second, \
            RawClient("127.0.0.1", second.port) as c:
        assert c.call("GET", "k") == b"$1\r\nv\r\n"
        assert c.call("LRANGE", "l", "0", "-1") == b"*1\r\n$1\r\na\r\n"
        assert c.call("SET", "k", "w") == b"-NOPERM this user has no permissions to run the 'set' command\r\n"


def test_load_of_a_missing_file_and_save_into_a_missing_directory(file_servers):
    for _, path in file_servers:
        path.unlink()
    same(file_servers, "ACL", "LOAD")
    file_servers[0][1].parent.rmdir()  # the temporary file cannot be created
    assert same(file_servers, "ACL", "SAVE").startswith(b"-ERR There was an error trying to save the ACLs")


def test_replica_applies_the_masters_stream_whatever_its_acl(tmp_path):
    """yizhan as a replica of redis-server: the master's commands are applied even though
    yizhan's default user may run almost nothing (Redis's master client has no user)."""
    import redis

    aclfile = tmp_path / "users.acl"
    aclfile.write_bytes(b"user default on nopass ~* &* -@all +get +info +ping\n")
    with RedisReference() as master, Server(data_dir=str(tmp_path / "data"), save="", aclfile=str(aclfile),
                                            replicaof=f"127.0.0.1 {master.port}") as ours:
        m, replica = redis.Redis(port=master.port), redis.Redis(port=ours.port)
        for _ in range(200):
            if replica.info("replication").get("master_link_status") == "up":
                break
            time.sleep(0.05)
        m.set("k", "v")
        m.rpush("l", "a", "b")
        for _ in range(200):
            if replica.get("k") == b"v":
                break
            time.sleep(0.05)
        assert replica.get("k") == b"v"
        with pytest.raises(redis.exceptions.NoPermissionError):
            replica.lrange("l", 0, -1)

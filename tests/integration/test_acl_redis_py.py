"""redis-py's ACL API and `Redis(username=..., password=...)` against yizhan and redis-server:
each test asserts redis-server's behaviour of both."""

from __future__ import annotations

import pytest
import redis

from yizhan import Server
from yizhan.testing.reference import RedisReference


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with Server(data_dir=str(tmp_path_factory.mktemp("acl-redis-py")), save="") as ours, RedisReference() as ref:
        yield {"yizhan": ours.port, "redis-server": ref.port}


@pytest.fixture(params=["yizhan", "redis-server"])
def admin(request, servers):
    client = redis.Redis(port=servers[request.param], decode_responses=True)
    for user in client.acl_users():
        if user != "default":
            client.acl_deluser(user)
    client.acl_log_reset()
    yield client
    client.close()


def test_setuser_and_getuser(admin):
    assert admin.acl_setuser("worker", enabled=True, passwords=["+s3cret"], keys=["job:*"],
                             channels=["jobs"], commands=["+@list", "+get", "-lpop"])
    user = admin.acl_getuser("worker")
    assert user["enabled"] is True
    assert user["flags"] == ["on"]
    assert user["keys"] == ["~job:*"]
    assert user["channels"] == ["&jobs"]
    assert set(user["commands"]) == {"+get", "-lpop"}  # redis-py splits categories out
    assert user["categories"] == ["-@all", "+@list"]
    assert admin.acl_getuser("nosuch") is None
    assert sorted(admin.acl_users()) == ["default", "worker"]
    assert any(line.startswith("user worker on #") for line in admin.acl_list())


def test_login_with_username_and_permissions(admin):
    port = admin.connection_pool.connection_kwargs["port"]
    admin.acl_setuser("reader", enabled=True, passwords=["+pw"], keys=["r:*"], commands=["+get", "+acl|whoami"])
    admin.set("r:1", "v")
    reader = redis.Redis(port=port, username="reader", password="pw", decode_responses=True)
    assert reader.acl_whoami() == "reader"
    assert "reader" in {client["user"] for client in admin.client_list()}
    assert reader.get("r:1") == "v"
    with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions to run the 'set' command"):
        reader.set("r:1", "x")
    with pytest.raises(redis.exceptions.NoPermissionError, match="keys used as arguments"):
        reader.get("other")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=port, username="reader", password="wrong").ping()
    log = admin.acl_log()
    assert [entry["reason"] for entry in log[:3]] == ["auth", "key", "command"]
    assert log[0]["username"] == "reader" and log[1]["object"] == "other"
    assert admin.acl_dryrun("reader", "set", "r:1", "v") == "This user has no permissions to run the 'set' command"
    reader.close()


def test_deluser_disconnects_and_genpass_cat(admin):
    port = admin.connection_pool.connection_kwargs["port"]
    admin.acl_setuser("temp", enabled=True, nopass=True, commands=["+@all"], keys=["*"])
    temp = redis.Redis(port=port, username="temp", password="any", retry=None)
    assert temp.ping()
    assert admin.acl_deluser("temp") == 1
    with pytest.raises(redis.exceptions.ConnectionError):
        temp.ping()
    assert len(admin.acl_genpass()) == 64
    assert len(admin.acl_genpass(10)) == 3
    assert "string" in admin.acl_cat() and "get" in admin.acl_cat("string")
    assert admin.acl_whoami() == "default"

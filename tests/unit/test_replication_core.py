"""The replication cores without a network: the replica link (sans-IO) fed a master's bytes,
whole or one byte at a time (handshake, $EOF: and $<length> RDB transfers, the stream and its
offsets, GETACK, a bad reply), the backlog's bounds, and the master role's answers to PSYNC
(+FULLRESYNC then +CONTINUE with exactly the missing bytes)."""

import pytest

from yizhan.clock import ManualClock
from yizhan.config import Config
from yizhan.redis import commands  # noqa: F401  (registers the commands)
from yizhan.redis.instance import RedisInstance
from yizhan.redis.persistence import rdb
from yizhan.redis.persistence.aof import encode_command
from yizhan.redis.replication.backlog import Backlog
from yizhan.redis.replication.state import replication
from yizhan.redis.session import Client

REPLID = "a" * 40
MARK = b"m" * 40


def make(tmp_path):
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(1_700_000_000_000))
    state = replication(srv)
    state.replicate("master.example", 6379, at_start=True)
    return srv, state, state.link


def handshake(link) -> list[bytes]:
    link.connection_made()
    sent = [link.data_to_send()]
    link.receive(b"+PONG\r\n")
    sent.append(link.data_to_send())
    link.receive(b"+OK\r\n+OK\r\n")
    sent.append(link.data_to_send())
    return sent


def rdb_with(key: bytes, value: bytes) -> bytes:
    return rdb.encode_file({0: [(key, value, None)]})


@pytest.mark.parametrize("framing", ["eof", "length"])
@pytest.mark.parametrize("bytewise", [False, True])
def test_full_sync_then_stream(tmp_path, framing, bytewise):
    srv, state, link = make(tmp_path)
    srv.dbs[0].data[b"old"] = b"gone after the sync"
    sent = handshake(link)
    assert sent[0] == encode_command([b"PING"])
    assert sent[1] == encode_command([b"REPLCONF", b"listening-port", b"6379"]) + encode_command(
        [b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])  # PSYNC waits for their replies
    assert sent[2] == encode_command([b"PSYNC", b"?", b"-1"])
    payload = rdb_with(b"k", b"v")
    body = (b"$EOF:" + MARK + b"\r\n" + payload + MARK) if framing == "eof" else (b"$%d\r\n" % len(payload) + payload)
    stream = encode_command([b"SELECT", b"2"]) + encode_command([b"SET", b"x", b"1"])
    data = b"+FULLRESYNC " + REPLID.encode() + b" 100\r\n\n\n" + body + stream + b"*3\r\n$3\r\nSET"
    for piece in ([data[i:i + 1] for i in range(len(data))] if bytewise else [data]):
        link.receive(piece)
    assert link.state == link.CONNECTED
    assert srv.dbs[0].data.get(b"k") == b"v" and b"old" not in srv.dbs[0].data
    assert srv.dbs[2].data.get(b"x") == b"1"
    assert srv.repl_id == REPLID and state.master.offset == 100 + len(stream)  # the partial SET not counted
    assert encode_command([b"REPLCONF", b"ACK", b"100"]) in link.data_to_send()  # the first ACK
    getack = encode_command([b"REPLCONF", b"GETACK", b"*"])
    link.receive(b"\r\n$1\r\ny\r\n$1\r\n2\r\n" + getack)
    assert srv.dbs[2].data.get(b"y") == b"2"
    before_getack = 100 + len(stream) + len(encode_command([b"SET", b"y", b"2"]))
    assert link.data_to_send() == encode_command([b"REPLCONF", b"ACK", str(before_getack).encode()])
    assert state.master.offset == before_getack + len(getack)


def test_reconnect_asks_to_continue_and_bad_reply_drops_the_link(tmp_path):
    srv, state, link = make(tmp_path)
    handshake(link)
    link.receive(b"+FULLRESYNC " + REPLID.encode() + b" 7\r\n$%d\r\n" % len(rdb_with(b"k", b"v")) + rdb_with(b"k", b"v"))
    link.connection_lost()
    sent = handshake(link)
    assert sent[2] == encode_command([b"PSYNC", REPLID.encode(), b"8"])
    link.receive(b"+CONTINUE " + REPLID.encode() + b"\r\n" + encode_command([b"SET", b"k", b"w"]))
    assert srv.dbs[0].data[b"k"] == b"w" and state.master.offset == 7 + len(encode_command([b"SET", b"k", b"w"]))
    link.connection_lost()
    handshake(link)
    link.receive(b"-ERR something else\r\n")
    assert link.close_now


def test_replica_refuses_client_writes_but_not_the_master(tmp_path):
    srv, state, link = make(tmp_path)
    handshake(link)
    link.receive(b"+FULLRESYNC " + REPLID.encode() + b" 0\r\n$%d\r\n" % len(rdb_with(b"k", b"v")) + rdb_with(b"k", b"v"))
    client = Client(srv)
    assert client.execute([b"SET", b"a", b"1"]).message == "READONLY You can't write against a read only replica."
    assert client.execute([b"MULTI"]) == "OK"
    assert client.execute([b"INCR", b"a"]).message.startswith("READONLY")
    assert client.execute([b"EXEC"]).message.startswith("EXECABORT")
    link.receive(encode_command([b"SET", b"a", b"from the master"]))
    assert client.execute([b"GET", b"a"]) == b"from the master"
    srv.params.values["replica-read-only"] = "no"
    state.configure()
    assert client.execute([b"SET", b"b", b"1"]) == "OK"
    srv.params.values["replica-read-only"] = "yes"
    state.configure()
    state.promote()
    assert client.execute([b"SET", b"a", b"mine"]) == "OK"
    assert srv.repl_id != REPLID and state.master.replid2 == REPLID


def test_backlog_keeps_the_last_bytes():
    backlog = Backlog(10, 0)
    backlog.append(b"0123456789abcdef")
    assert backlog.end == 16 and backlog.histlen() == 10 and backlog.first_offset() == 7
    assert backlog.covers(7) and backlog.covers(17) and not backlog.covers(6) and not backlog.covers(18)
    assert backlog.since(12) == b"bcdef"


def test_master_answers_psync(tmp_path):
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(1_700_000_000_000))
    master = replication(srv).master
    writer, replica = Client(srv), Client(srv)
    writer.execute([b"SET", b"before", b"1"])
    replica.execute([b"REPLCONF", b"capa", b"psync2"])
    reply = master.psync(replica, "?", -1)
    replid = srv.repl_id.encode()
    assert reply.startswith(b"+FULLRESYNC " + replid + b" 0\r\n$")
    assert rdb.decode_file(reply.split(b"\r\n", 2)[2]).records[0].key == b"before"
    writer.execute([b"SET", b"after", b"2"])
    stream = encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"after", b"2"])
    assert master.offset == len(stream)
    again = Client(srv)
    again.execute([b"REPLCONF", b"capa", b"psync2"])
    assert master.psync(again, srv.repl_id, 1) == b"+CONTINUE " + replid + b"\r\n" + stream
    assert master.psync(Client(srv), srv.repl_id, 1 + len(stream)) == b"+CONTINUE\r\n"  # nothing missing, no psync2
    assert master.psync(Client(srv), "b" * 40, 1).startswith(b"+FULLRESYNC")
    assert (master.sync_full, master.sync_partial_ok, master.sync_partial_err) == (2, 2, 1)


def test_backlog_freed_after_repl_backlog_ttl_without_replicas(tmp_path):
    srv = RedisInstance(Config(data_dir=str(tmp_path)), ManualClock(1_700_000_000_000))
    master = replication(srv).master
    replica = Client(srv)
    srv.register(replica)
    master.psync(replica, "?", -1)
    assert srv.aof is not None  # writes are propagated for the replica
    Client(srv).execute([b"SET", b"k", b"v"])
    offset, replid = master.offset, srv.repl_id
    srv.unregister(replica)  # the replica went away
    srv.clock.advance(1000)
    master.cron()
    assert master.backlog is not None
    srv.clock.advance(3600 * 1000)
    master.cron()
    assert master.backlog is None and srv.aof is None  # the direct path again
    assert srv.repl_id != replid and master.offset == offset
    Client(srv).execute([b"SET", b"k", b"w"])
    assert master.offset == offset


def test_the_master_stream_passes_maxmemory_pause_and_transactions(tmp_path):
    srv, state, link = make(tmp_path)
    handshake(link)
    link.receive(b"+FULLRESYNC " + REPLID.encode() + b" 0\r\n$%d\r\n" % len(rdb_with(b"k", b"v")) + rdb_with(b"k", b"v"))
    client = Client(srv)
    client.execute([b"CONFIG", b"SET", b"maxmemory", b"1"])  # noeviction: clients' writes get OOM
    client.execute([b"CONFIG", b"SET", b"replica-read-only", b"no"])
    assert client.execute([b"SET", b"mine", b"x"]).message.startswith("OOM")
    client.execute([b"CLIENT", b"PAUSE", b"100000", b"WRITE"])
    stream = b"".join(encode_command(c) for c in ([b"MULTI"], [b"SET", b"a", b"1"], [b"INCR", b"a"], [b"EXEC"],
                                                  [b"RPUSH", b"l", b"x"]))
    link.receive(stream)
    assert srv.dbs[0].data[b"a"] == b"2" and b"l" in srv.dbs[0].data
    assert state.master.offset == len(stream) and link.master_client.multi is None

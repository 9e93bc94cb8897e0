"""Damaged AMQP store files never lose data silently (issue 17): a byte flipped at every
position of every record kind of the message store and of the definitions log either refuses
the load with one line naming the file and the record's offset, or is the torn tail (the last
record only, cut off with a warning); with the recovery option the load goes on, a copy of the
file is kept in quarantine, the loss is logged and every intact record still counts."""

from __future__ import annotations

import logging
import os
import shutil
import struct
import tempfile
from array import array

import pytest

from yizhan.amqp.store import StoreError
from yizhan.amqp.store.definitions import HEADER, DefinitionsLog
from yizhan.amqp.store.messages import MessageStore

FLIPS = (0x01, 0xFF)


# -- the message store ---------------------------------------------------------------------------
def build_segment(directory: str, then_another: bool) -> None:
    """One segment holding every record kind (H P T A D R X); with `then_another`, a second
    segment after it, so the first is not the last."""
    store = MessageStore(directory)
    store.load()
    ids = [store.publish(["a", "b"], "ex", f"k{i}", b"\x00\x01", b"body-%d" % i) for i in range(5)]
    gone = store.publish(["c"], "", "c", b"", b"in a deleted queue")
    store.page_transient("", "t", b"", b"transient")
    store.remove(ids[1], "a")
    store.delivered(ids[2], "a")
    store.remove_many("b", [array("Q", [ids[3], ids[4]])])
    store.queue_deleted("c", [gone])
    store.close()
    if then_another:
        store = MessageStore(directory)
        store.load()
        store.publish(["a"], "", "a", b"", b"in the next segment")
        store.close()


def records(data: bytes) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each record of a segment."""
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        out.append((pos, pos + 8 + length, chr(data[pos + 8])))
        pos += 8 + length
    return out


def load_state(directory: str, **kw):
    store = MessageStore(directory, **kw)
    found = store.load()
    state = {key: sorted(r.ids) for key, r in found.items()}
    bodies = {m.msg_id: m.body for key in found for m in store.read(found[key].ids)}
    store.close()
    return state, bodies


def segment_cases():
    cases = []
    for then_another in (False, True):
        probe = tempfile.mkdtemp(prefix="yizhan-damage-")
        build_segment(probe, then_another)
        first = sorted(n for n in os.listdir(probe) if n.endswith(".seg"))[0]
        data = open(os.path.join(probe, first), "rb").read()
        for start, end, kind in records(data):
            cases.append(pytest.param(then_another, start, end, id=f"{'middle' if then_another else 'last'}-{kind}@{start}"))
        shutil.rmtree(probe)
    return cases


@pytest.mark.parametrize("then_another,start,end", segment_cases())
def test_a_flipped_byte_in_a_message_record_is_never_silent(tmp_path, caplog, then_another, start, end):
    intact = tmp_path / "intact"
    build_segment(str(intact), then_another)
    pristine = tmp_path / "pristine"
    shutil.copytree(intact, pristine)  # before any load: a load opens a new segment
    baseline, bodies = load_state(str(intact))
    intact = pristine
    name = sorted(n for n in os.listdir(intact) if n.endswith(".seg"))[0]
    data = (intact / name).read_bytes()
    is_last_record = not then_another and end == len(data)
    for position in range(start, end):
        for flip in FLIPS:
            directory = tmp_path / f"d{position}-{flip}"
            shutil.copytree(intact, directory)
            damaged = bytearray(data)
            damaged[position] ^= flip
            (directory / name).write_bytes(bytes(damaged))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="yizhan.amqp"):
                try:
                    state, _ = load_state(str(directory))
                except StoreError as exc:
                    text = str(exc)
                    assert "\n" not in text and str(directory / name) in text and f"at byte {start};" in text
                else:  # only the torn tail may load without the option, and never silently
                    assert is_last_record, f"byte {position} ^ {flip:#x} loaded silently"
                    assert "cut off a torn record" in caplog.text
                    truncated, _ = load_state(str(_truncated_copy(tmp_path, data, name, start, then_another)))
                    assert state == truncated
            if flip != FLIPS[-1]:
                continue  # recovery: one flip per position
            recover = tmp_path / f"r{position}-{flip}"
            shutil.copytree(intact, recover)
            (recover / name).write_bytes(bytes(damaged))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="yizhan.amqp"):
                state, recovered_bodies = load_state(str(recover), recover_damaged=True)
            assert "was damaged" in caplog.text or "cut off a torn record" in caplog.text
            if "was damaged" in caplog.text:
                assert "lost" in caplog.text
                assert len(os.listdir(recover / "quarantine")) == 1
                kept = (recover / "quarantine" / os.listdir(recover / "quarantine")[0]).read_bytes()
                assert kept == bytes(damaged)  # the damaged file itself is kept aside
            lost_body = _body_in(data, start, end)
            for queue, ids in baseline.items():  # everything outside the damaged record survives
                for msg_id in ids:
                    if bodies[msg_id] != lost_body:
                        assert msg_id in state.get(queue, []), (queue, msg_id, position)
                        assert recovered_bodies[msg_id] == bodies[msg_id]


def _truncated_copy(tmp_path, data: bytes, name: str, start: int, then_another: bool):
    directory = tmp_path / "truncated"
    if not directory.exists():
        shutil.copytree(tmp_path / "pristine", directory)
        (directory / name).write_bytes(data[:start])
    return directory


def _body_in(data: bytes, start: int, end: int) -> bytes | None:
    """The body of a publish record (its last bytes), None for other kinds."""
    if data[start + 8:start + 9] != b"P":
        return None
    record = data[start:end]
    for body in (b"body-%d" % i for i in range(5)):
        if body in record:
            return body
    return None


def test_the_issue_case_a_bad_record_mid_last_segment_refuses_then_recovers(tmp_path, caplog):
    """3,000 confirmed messages, one flipped byte in the middle of the last segment: refused
    (it used to be cut as a torn tail, losing half); with the option, 2,999 come back."""
    store = MessageStore(str(tmp_path))
    store.load()
    ids = [store.publish(["q"], "", "q", b"", b"message %04d" % i) for i in range(3000)]
    store.close()
    name = sorted(n for n in os.listdir(tmp_path) if n.endswith(".seg"))[-1]
    data = bytearray((tmp_path / name).read_bytes())
    middle = data.index(b"message 1500")
    data[middle] ^= 0x20
    (tmp_path / name).write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"{tmp_path / name}: corrupt message record at byte"):
        MessageStore(str(tmp_path)).load()
    with caplog.at_level(logging.WARNING, logger="yizhan.amqp"):
        state, bodies = load_state(str(tmp_path), recover_damaged=True)
    assert state["q"] == ids[:1500] + ids[1501:]
    assert "1 messages" in caplog.text and "quarantine" in caplog.text


# -- the definitions log -------------------------------------------------------------------------
DEFINITIONS = [
    {"op": "v+", "name": "v1", "metadata": {}, "limits": {}},
    {"op": "u+", "name": "bob", "password_hash": "aGFzaA==", "hashing_algorithm": "rabbit_password_hashing_sha256",
     "tags": [], "limits": {}},
    {"op": "p+", "user": "bob", "vhost": "v1", "configure": ".*", "write": ".*", "read": ".*"},
    {"op": "P+", "vhost": "v1", "name": "ttl", "pattern": "^t", "apply-to": "queues",
     "definition": {"message-ttl": 5}, "priority": 0},
    {"op": "x+", "vhost": "v1", "name": "ex", "type": "direct", "auto_delete": False, "internal": False, "args": ""},
    {"op": "q+", "vhost": "v1", "name": "dq", "auto_delete": False, "args": ""},
    {"op": "q+", "vhost": "v1", "name": "gone", "auto_delete": False, "args": ""},
    {"op": "b+", "vhost": "v1", "source": "ex", "kind": "queue", "dest": "dq", "key": "k", "args": ""},
    {"op": "q-", "vhost": "v1", "name": "gone"},
]


def write_log(path) -> bytes:
    log = DefinitionsLog(str(path))
    log.load()
    for record in DEFINITIONS:
        log.append(record)
    log.close()
    return path.read_bytes()


def summary(state) -> dict:
    return {"vhosts": sorted(state.vhosts), "users": sorted(state.users), "permissions": sorted(state.permissions),
            "policies": sorted(state.policies), "exchanges": sorted(state.exchanges),
            "queues": sorted(state.queues), "bindings": len(state.bindings)}


def test_the_log_is_checksummed_with_a_version_line(tmp_path):
    data = write_log(tmp_path / "definitions.log")
    lines = data.split(b"\n")
    assert lines[0] == HEADER and all(line[8:9] == b" " for line in lines[1:-1])


def test_a_format_1_log_still_loads_and_is_rewritten_checksummed(tmp_path):
    path = tmp_path / "definitions.log"
    path.write_bytes(b'{"op":"q+","vhost":"/","name":"old","auto_delete":false,"args":""}\n')
    state = DefinitionsLog(str(path)).load()
    assert list(state.queues) == [("/", "old")]
    assert path.read_bytes().startswith(HEADER + b"\n")
    assert list(DefinitionsLog(str(path)).load().queues) == [("/", "old")]


def test_a_flipped_byte_in_the_definitions_log_is_never_silent(tmp_path, caplog):
    data = write_log(tmp_path / "intact.log")
    baseline = summary(DefinitionsLog(str(tmp_path / "intact.log")).read())
    line_starts = [0]
    for index, byte in enumerate(data):
        if byte == 10:
            line_starts.append(index + 1)
    last_line_start = line_starts[-2]
    (tmp_path / "without-last.log").write_bytes(data[:last_line_start])
    torn = summary(DefinitionsLog(str(tmp_path / "without-last.log")).read())
    for position in range(len(data)):
        for flip in FLIPS:
            damaged = bytearray(data)
            damaged[position] ^= flip
            path = tmp_path / "definitions.log"
            path.write_bytes(bytes(damaged))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="yizhan.amqp"):
                try:
                    state = DefinitionsLog(str(path)).read()
                except StoreError as exc:
                    text = str(exc)
                    assert "\n" not in text and f"{path}:" in text and "at byte" in text
                else:
                    assert position >= last_line_start, f"byte {position} ^ {flip:#x} loaded silently"
                    assert "dropped a torn last line" in caplog.text
                    assert summary(state) == torn != baseline
            if flip != FLIPS[-1]:
                continue  # recovery: one flip per position
            path.write_bytes(bytes(damaged))
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="yizhan.amqp"):
                state = DefinitionsLog(str(path), recover_damaged=True).load()
            assert "records skipped" in caplog.text or "dropped a torn last line" in caplog.text
            if "records skipped" in caplog.text:
                assert any(name.startswith("definitions.log.") for name in os.listdir(tmp_path / "quarantine"))
            for name in os.listdir(tmp_path / "quarantine") if (tmp_path / "quarantine").exists() else ():
                os.remove(tmp_path / "quarantine" / name)

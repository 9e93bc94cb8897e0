"""The stream value type without a server: `Stream.unread`, a group's `>` read that starts where
its last read left off, against `Stream.after` from the group's last ID, whatever happens to the
stream and the group in between."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.redis.types.streams import Group, Stream

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(1, 5)),
    st.tuples(st.just("read"), st.integers(0, 4)),
    st.tuples(st.just("delete"), st.integers(0, 60)),
    st.tuples(st.just("trim"), st.integers(0, 30)),
    st.tuples(st.just("setid"), st.integers(0, 80))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(operations=OPERATIONS)
def test_unread_reads_what_after_the_last_id_holds(operations):
    s = Stream()
    group = Group((0, 0), 0)
    next_ms = 1
    for op, n in operations:
        if op == "add":
            for _ in range(n):
                s.append((next_ms, 0), [b"f", b"v"], 0, 4)
                next_ms += 1
        elif op == "read":
            expected = [item.id for item in s.after(group.last_id, n)]
            got = [item.id for item in s.unread(group, n)]
            assert got == expected
            if got:
                group.last_id = got[-1]
        elif op == "delete":
            s.delete((n, 0))
        elif op == "trim":
            s.trim(n, None, False, 0)
        else:
            group.last_id = (n, 0)

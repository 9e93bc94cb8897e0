"""ACL rule strings round-trip: what ACL LIST prints for a user, applied to a fresh user, gives
the same permissions (Redis checks this for every description and panics otherwise)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from yizhan.redis import commands  # noqa: F401  (fills the command table)
from yizhan.redis.acl.categories import CATEGORIES, walk
from yizhan.redis.acl.users import User, split_args

_COMMANDS = sorted({cmd.name for cmd in walk()})
_RULE = st.one_of(
    st.builds(lambda sign, cat: f"{sign}@{cat}", st.sampled_from("+-"), st.sampled_from(CATEGORIES + ["all"])),
    st.builds(lambda sign, name: f"{sign}{name}", st.sampled_from("+-"), st.sampled_from(_COMMANDS)),
    st.sampled_from(["+select|0", "+select|9", "+debug|object", "allkeys", "resetkeys", "~a*", "%R~r*", "%W~w*",
                     "allchannels", "resetchannels", "&ch*", "on", "off", "nopass", ">pw", "resetpass",
                     "(+get ~x)", "(-@all +@read %R~*)", "clearselectors"]),
)


def _permissions(user: User):
    """What a user may do; first-args of a command allowed whole do not count (Redis keeps them
    and does not describe them either), nor whether the allcommands flag or every command's bit
    allows everything."""
    everything = set(walk())
    return [(frozenset(s.allowed), s.future, s.all_commands or everything <= s.allowed,
             {c: tuple(a) for c, a in s.firstargs.items() if c not in s.allowed},
             s.all_keys, [tuple(k) for k in s.keys], s.all_channels, list(s.channels)) for s in user.selectors]


@settings(max_examples=300, deadline=None)
@given(st.lists(_RULE, max_size=12).map(lambda rules: rules + ["-get", "+get"] if len(rules) % 3 == 0 else rules))
def test_described_rules_rebuild_the_same_user(rules):
    user = User(b"u")
    for rule in rules:
        try:
            user.apply(rule.encode())
        except Exception:  # noqa: BLE001  (a refused rule, e.g. a pattern after allkeys)
            pass
    rebuilt = User(b"u")
    for rule in _rules_of(user.describe()):
        rebuilt.apply(rule)
    assert _permissions(rebuilt) == _permissions(user)
    assert rebuilt.describe() == user.describe()


def _rules_of(described: bytes) -> list[bytes]:
    """The rule string split as ACL SETUSER's arguments (a selector is one argument)."""
    out, depth, current = [], 0, []
    for word in split_args(described):
        if word.startswith(b"(") or depth:
            current.append(word)
            depth = 0 if word.endswith(b")") else 1
            if not depth:
                out.append(b" ".join(current))
                current = []
        else:
            out.append(word)
    return out

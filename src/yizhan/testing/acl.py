"""Comparing ACL rule strings with redis-server's.

redis-server 7.0 emits the single-command rules of a rule string (`-keys -sort_ro`, after the
categories) in its command dict's hash order, seeded at random per process; everything else
in a rule string (flags, passwords, patterns, the category rules) has a fixed order.
`canonical_rules` sorts those single-command rules inside each selector so two rule strings
can be compared exactly otherwise; with `known`, rules naming commands outside it (commands
yizhan does not have, such as MIGRATE) are left out.
"""

from __future__ import annotations

import re

_SINGLE = re.compile(rb"^[+-][^@]")


def canonical_rules(text: bytes, known: set[bytes] | frozenset[bytes] | None = None) -> bytes:
    groups = []
    for part in re.split(rb" \(|\)$|\) \(", text):
        tokens = part.split()
        fixed = [t for t in tokens if not _SINGLE.match(t)]
        single = sorted(t for t in tokens if _SINGLE.match(t)
                        and (known is None or t[1:].split(b"|")[0].lower() in known))
        groups.append(b" ".join(fixed + single))
    return b" | ".join(groups)

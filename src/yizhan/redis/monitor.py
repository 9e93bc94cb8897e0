"""MONITOR: the line each monitoring client receives for a command the server ran.

The format is redis-server 7.0's (replicationFeedMonitors): `+<unix seconds>.<microseconds>
[<db> <client address>] "arg" ...`, every argument quoted and escaped as Redis's sdscatrepr
escapes it; commands run by a script show `lua` as their address. Secrets are redacted in the
line (and in the slow log) as Redis 7.0 redacts them: every AUTH argument, HELLO's AUTH pair,
ACL SETUSER's name and rules, and MIGRATE's AUTH/AUTH2 credentials become "(redacted)".
"""

from __future__ import annotations

from yizhan.resp import Simple

REDACTED = b"(redacted)"

# sdscatrepr: backslash escapes for \\ " \n \r \t \a \b, printable ASCII as is, \xHH otherwise.
_REPR = [chr(b) if 32 <= b < 127 else "\\x%02x" % b for b in range(256)]
for _byte, _escape in ((92, "\\\\"), (34, '\\"'), (10, "\\n"), (13, "\\r"), (9, "\\t"), (7, "\\a"), (8, "\\b")):
    _REPR[_byte] = _escape


def quoted(arg: bytes) -> str:
    """One argument as sdscatrepr writes it, quotes included."""
    return '"' + "".join(map(_REPR.__getitem__, arg)) + '"'


def redacted(name: str, argv: list[bytes]) -> list[bytes]:
    """argv as MONITOR and SLOWLOG show it: secrets replaced by "(redacted)"."""
    if name == "auth":
        return [argv[0]] + [REDACTED] * (len(argv) - 1)
    if name == "acl|setuser":  # the user's name and rules
        return argv[:2] + [REDACTED] * (len(argv) - 2)
    if name == "hello":
        shown = list(argv)
        for i in range(2, len(argv) - 2):
            if argv[i].upper() == b"AUTH":
                shown[i + 1] = shown[i + 2] = REDACTED
        return shown
    if name == "migrate":
        shown = list(argv)
        for i in range(6, len(argv)):
            word = argv[i].upper()
            if word == b"AUTH" and i + 1 < len(argv):
                shown[i + 1] = REDACTED
            elif word == b"AUTH2" and i + 2 < len(argv):
                shown[i + 1] = shown[i + 2] = REDACTED
        return shown
    return argv


def monitor_line(client, name: str, argv: list[bytes], now_us: int) -> Simple:
    """The status line a monitor receives for `argv`, run by `client` at `now_us`."""
    seconds, micros = divmod(now_us, 1_000_000)
    source = "lua" if client.in_script else client.addr
    args = " ".join(map(quoted, redacted(name, argv)))
    return Simple(f"{seconds}.{micros:06d} [{client.db.index} {source}] {args}")

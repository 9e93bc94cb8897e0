"""Which new connections the Redis listener takes, as redis-server 7.0 decides at accept:
`maxclients` first, then protected mode (protected-mode yes and no password for the default
user: only loopback peers, by Redis's own test of the peer address). A refused connection gets
the refusal, counts in `rejected_connections`, and is closed."""

from __future__ import annotations

from yizhan.redis import errors


def refusal(instance, peer_host: str | None) -> bytes | None:
    """The bytes to send before closing a new connection from `peer_host` (None for a
    Unix socket), or None to accept it."""
    params = instance.params
    if len(instance.clients) >= params.int("maxclients"):
        return b"-%s\r\n" % errors.MAX_CLIENTS.encode()
    if params.flag("protected-mode") and instance.acl.default.nopass and not is_local(peer_host):
        return b"-%s\r\n" % errors.PROTECTED_MODE.encode()
    return None


def is_local(peer_host: str | None) -> bool:
    """Redis's connIsLocal: a Unix socket, or a peer address that starts with "127." or is
    "::1" (an IPv4-mapped loopback address is not local to it either)."""
    return peer_host is None or peer_host.startswith("127.") or peer_host == "::1"

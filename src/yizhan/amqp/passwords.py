"""RabbitMQ's salted password hashes, so users move between yizhan and RabbitMQ with their
passwords (definitions.json's `password_hash` and `hashing_algorithm`).

rabbit_password:hash/2 picks a random 4-byte salt and stores base64(salt ++ H(salt ++
password)), where H is the hashing module's digest (SHA-256 by default in 3.10; SHA-512 and
MD5 modules exist too). An empty hash means the user has no password and cannot log in
with one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

DEFAULT_ALGORITHM = "rabbit_password_hashing_sha256"
ALGORITHMS = {
    "rabbit_password_hashing_sha256": hashlib.sha256,
    "rabbit_password_hashing_sha512": hashlib.sha512,
    "rabbit_password_hashing_md5": hashlib.md5,
}
SALT_BYTES = 4


class UnknownAlgorithm(ValueError):
    """A hashing_algorithm RabbitMQ 3.10 does not ship."""


def _digest(algorithm: str):
    try:
        return ALGORITHMS[algorithm]
    except KeyError:
        raise UnknownAlgorithm(f"unknown hashing_algorithm {algorithm!r}") from None


def hash_password(password: str, algorithm: str = DEFAULT_ALGORITHM, salt: bytes | None = None) -> str:
    """The base64 text RabbitMQ stores (and exports) for `password`."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = _digest(algorithm)(salt + password.encode("utf-8", "surrogateescape")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def check_password(password: str, password_hash: str, algorithm: str = DEFAULT_ALGORITHM) -> bool:
    """True if `password` matches a stored hash (an empty or malformed hash matches nothing)."""
    try:
        raw = base64.b64decode(password_hash, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) <= SALT_BYTES:
        return False
    digest = ALGORITHMS.get(algorithm)
    if digest is None:
        return False
    salt, expected = raw[:SALT_BYTES], raw[SALT_BYTES:]
    actual = digest(salt + password.encode("utf-8", "surrogateescape")).digest()
    return hmac.compare_digest(actual, expected)

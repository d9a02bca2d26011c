"""Client secrets: generated at random, stored as argon2id hashes, checked in constant cost."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106's low-memory profile (argon2-cffi's default): t=3, m=64 MiB, p=4.
_HASHER = PasswordHasher()
SECRET_BYTES = 32  # 43 characters of URL-safe base64


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def new_hashed_secret() -> tuple[str, str]:
    """A new secret and its hash, for a store that keeps only the hash."""
    secret = new_secret()
    return secret, hash_secret(secret)


def verify_secret(hashed: str, secret: str) -> bool:
    """True when `secret` matches; False on a mismatch or a malformed hash, never raises."""
    try:
        return _HASHER.verify(hashed, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError, TypeError):
        return False


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(new_secret())


def verify_unknown(secret: str) -> bool:
    """Spend what a real verification spends, then refuse: an unknown client id costs a caller
    as much time as a wrong secret, so timing does not tell which ids exist."""
    verify_secret(_dummy_hash(), secret)
    return False

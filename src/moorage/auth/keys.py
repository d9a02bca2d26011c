"""Token-signing keys: RSA 2048, one PEM file per key in data_dir/keys, owner-only.

A key id (kid) starts with its creation time, so the newest key sorts last: it signs, and every
key on disk verifies. `rotate()` adds a newer key; tokens signed by older ones stay valid until
those files are removed: `retire()` removes the keys that stopped signing longer ago than the
longest token lifetime. `moorage keys rotate` does both, offline or next to a running server,
which starts signing with the new key within `RESCAN_SECONDS`.
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from moorage.auth.files import create_private, private_dir

_PREFIX = "token-signing-"
_KID = re.compile(r"^(\d{20})-[0-9a-f]{8}$")
_STAMP = "%Y%m%d%H%M%S%f"
RESCAN_SECONDS = 10.0
RETIRE_AFTER = timedelta(days=1)  # longer than any token lives (refresh tokens: 3 hours)


class UnknownKey(KeyError):
    def __init__(self, kid: str) -> None:
        super().__init__(kid)
        self.kid = kid

    def __str__(self) -> str:
        return f"no signing key with kid {self.kid!r}"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SigningKeys:
    def __init__(self, directory: Path, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        """Use `load_or_create`; this takes the keys already read from `directory`."""
        self._directory = directory
        self._keys = dict(keys)
        self._scanned = time.monotonic()
        if not self._keys:
            self.rotate()

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKeys:
        directory = private_dir(data_dir / "keys")
        return cls(
            directory, {kid: _load(directory / f"{_PREFIX}{kid}.pem") for kid in _kids(directory)}
        )

    @property
    def current_kid(self) -> str:
        """The signing key: the newest on disk (another process may have rotated)."""
        if time.monotonic() - self._scanned > RESCAN_SECONDS:
            self._scanned = time.monotonic()
            for kid in _kids(self._directory):
                if kid not in self._keys:
                    self._find(kid)
        return max(self._keys)

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def rotate(self) -> str:
        """Make a new key the signing one; the others keep verifying. Returns its kid."""
        now = datetime.now(UTC)
        if self._keys:
            # Sort after the current key even if the clock went back.
            newest = datetime.strptime(self.current_kid[:20], _STAMP).replace(tzinfo=UTC)
            now = max(now, newest + timedelta(microseconds=1))
        kid = f"{now.strftime(_STAMP)}-{secrets.token_hex(4)}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_private(self._directory / f"{_PREFIX}{kid}.pem", pem)
        self._keys[kid] = key
        return kid

    def retire(self, now: datetime | None = None) -> list[str]:
        """Remove the keys that stopped signing more than RETIRE_AFTER ago (when a newer key
        was made); the newest key always stays. Returns the removed kids."""
        now = now or datetime.now(UTC)
        kids = sorted(set(self._keys) | set(_kids(self._directory)))
        removed = []
        for kid, successor in itertools.pairwise(kids):
            replaced_at = datetime.strptime(successor[:20], _STAMP).replace(tzinfo=UTC)
            if now - replaced_at > RETIRE_AFTER:
                (self._directory / f"{_PREFIX}{kid}.pem").unlink(missing_ok=True)
                self._keys.pop(kid, None)
                removed.append(kid)
        return removed

    def private_key(self, kid: str) -> rsa.RSAPrivateKey:
        return self._find(kid)

    def public_key(self, kid: str) -> rsa.RSAPublicKey:
        return self._find(kid).public_key()

    def _find(self, kid: str) -> rsa.RSAPrivateKey:
        key = self._keys.get(kid)
        if key is None and _KID.match(kid):
            # Another process sharing the data directory may have rotated.
            path = self._directory / f"{_PREFIX}{kid}.pem"
            if path.is_file():
                key = self._keys[kid] = _load(path)
        if key is None:
            raise UnknownKey(kid)
        return key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        keys = []
        for kid in sorted(self._keys, reverse=True):
            numbers = self._keys[kid].public_key().public_numbers()
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            )
        return {"keys": keys}


def _kids(directory: Path) -> list[str]:
    kids = (p.stem.removeprefix(_PREFIX) for p in directory.glob(f"{_PREFIX}*.pem"))
    return sorted(kid for kid in kids if _KID.match(kid))


def _load(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key

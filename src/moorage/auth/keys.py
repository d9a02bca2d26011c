"""Token-signing keys: RSA 2048, one PEM file per key in data_dir/keys, owner-only.

A key id (kid) starts with its creation time, so the newest key sorts last: it signs, and every
key on disk verifies. `rotate()` adds a newer key; tokens signed by older ones stay valid until
those files are removed (after the longest token lifetime has passed).
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from moorage.auth.files import create_private, private_dir

_PREFIX = "token-signing-"
_KID = re.compile(r"^(\d{20})-[0-9a-f]{8}$")
_STAMP = "%Y%m%d%H%M%S%f"


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
        if not self._keys:
            self.rotate()

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKeys:
        directory = private_dir(data_dir / "keys")
        keys = {}
        for path in sorted(directory.glob(f"{_PREFIX}*.pem")):
            kid = path.stem.removeprefix(_PREFIX)
            if _KID.match(kid):
                keys[kid] = _load(path)
        return cls(directory, keys)

    @property
    def current_kid(self) -> str:
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


def _load(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key

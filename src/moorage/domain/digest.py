"""Content digests as the OCI image spec defines them (`algorithm:encoded`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from moorage.domain.errors import InvalidDigest, UnsupportedDigest

# Grammar of the image spec: algorithm-component ([+._-] algorithm-component)* ":" encoded
_DIGEST = re.compile(r"^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")
# Registered algorithms and the length of their lowercase hex encoding.
HEX_LENGTH = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[a-f0-9]+$")
CANONICAL_ALGORITHM = "sha256"


class Hasher(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> Hasher: ...


@dataclass(frozen=True, slots=True)
class Digest:
    algorithm: str
    encoded: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse and validate a digest; only registered algorithms are accepted."""
        match = _DIGEST.fullmatch(text)
        if match is None:
            raise InvalidDigest(f"invalid digest {text!r}", digest=text)
        algorithm, encoded = match.groups()
        length = HEX_LENGTH.get(algorithm)
        if length is None:
            raise UnsupportedDigest(
                f"unsupported digest algorithm {algorithm!r} in {text!r} "
                f"(supported: {', '.join(sorted(HEX_LENGTH))})",
                digest=text,
            )
        if len(encoded) != length or not _HEX.fullmatch(encoded):
            raise InvalidDigest(
                f"invalid {algorithm} digest {text!r}: expected {length} lowercase hex characters",
                digest=text,
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = CANONICAL_ALGORITHM) -> Digest:
        h = new_hasher(algorithm)
        h.update(data)
        return cls(algorithm, h.hexdigest())

    def hasher(self) -> Hasher:
        return new_hasher(self.algorithm)


def new_hasher(algorithm: str) -> Hasher:
    if algorithm not in HEX_LENGTH:
        raise UnsupportedDigest(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def is_digest(reference: str) -> bool:
    """True when a manifest reference is a digest rather than a tag (tags never hold ':')."""
    return ":" in reference

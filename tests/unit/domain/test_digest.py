from __future__ import annotations

import hashlib

import pytest

from moorage.domain.digest import Digest, is_digest
from moorage.domain.errors import InvalidDigest, UnsupportedDigest

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "b" * 128


@pytest.mark.parametrize("text", [SHA256, SHA512])
def test_parse_accepts_registered_algorithms(text: str) -> None:
    digest = Digest.parse(text)
    assert str(digest) == text
    assert digest.algorithm == text.split(":")[0]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sha256:" + "a" * 63, InvalidDigest),
        ("sha256:" + "a" * 65, InvalidDigest),
        ("sha256:" + "A" * 64, InvalidDigest),
        ("sha256:" + "g" * 64, InvalidDigest),
        ("sha512:" + "a" * 64, InvalidDigest),
        ("sha256", InvalidDigest),
        (":" + "a" * 64, InvalidDigest),
        ("SHA256:" + "a" * 64, InvalidDigest),
        ("sha256:../../etc/passwd", InvalidDigest),
        ("md5:" + "a" * 32, UnsupportedDigest),
        ("sha384:" + "a" * 96, UnsupportedDigest),
        ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", UnsupportedDigest),
    ],
)
def test_parse_refuses_bad_digests_naming_them(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        Digest.parse(text)
    assert text in str(caught.value)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_of_matches_hashlib(algorithm: str) -> None:
    data = b"moorage" * 1000
    assert Digest.of(data, algorithm).encoded == hashlib.new(algorithm, data).hexdigest()


@pytest.mark.parametrize(("reference", "expected"), [("latest", False), (SHA256, True)])
def test_is_digest(reference: str, expected: bool) -> None:
    assert is_digest(reference) is expected

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from moorage.auth.keys import SigningKeys, UnknownKey


def _uint(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_first_key_is_made_owner_only_and_reloaded(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    files = list((tmp_path / "keys").glob("token-signing-*.pem"))
    assert [f.name for f in files] == [f"token-signing-{keys.current_kid}.pem"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    again = SigningKeys.load_or_create(tmp_path)
    assert again.current_kid == keys.current_kid
    assert again.public_key(keys.current_kid) == keys.public_key(keys.current_kid)


def test_rotation_makes_a_newer_signing_key_and_keeps_the_old(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    old = keys.current_kid
    new = keys.rotate()
    assert new > old
    assert keys.current_kid == new
    assert keys.kids == [old, new]
    keys.public_key(old)  # still verifies
    reloaded = SigningKeys.load_or_create(tmp_path)
    assert reloaded.current_kid == new


def test_a_key_rotated_by_another_process_is_found(tmp_path: Path) -> None:
    ours = SigningKeys.load_or_create(tmp_path)
    theirs = SigningKeys.load_or_create(tmp_path)
    kid = theirs.rotate()
    assert ours.public_key(kid) == theirs.public_key(kid)


@pytest.mark.parametrize("kid", ["nope", "../../etc/passwd", "20990101000000000000-deadbeef"])
def test_unknown_kid(tmp_path: Path, kid: str) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    with pytest.raises(UnknownKey, match="no signing key"):
        keys.public_key(kid)


def test_jwks_lists_every_public_key(tmp_path: Path) -> None:
    keys = SigningKeys.load_or_create(tmp_path)
    keys.rotate()
    jwks = keys.jwks()
    assert {k["kid"] for k in jwks["keys"]} == set(keys.kids)
    for entry in jwks["keys"]:
        assert entry["kty"] == "RSA"
        assert entry["use"] == "sig"
        assert entry["alg"] == "RS256"
        numbers = keys.public_key(entry["kid"]).public_numbers()
        assert _uint(entry["n"]) == numbers.n
        assert _uint(entry["e"]) == numbers.e
        assert "d" not in entry

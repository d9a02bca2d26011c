from __future__ import annotations

import stat
from pathlib import Path

import pytest

from moorage.auth.cipher import DecryptionFailed, SecretBox


@pytest.mark.parametrize("text", ["", "p@ssw0rd", "ünïcødé ✓", "x" * 10_000])
def test_round_trip(tmp_path: Path, text: str) -> None:
    box = SecretBox.load_or_create(tmp_path)
    token = box.encrypt(text)
    assert text == "" or text not in token
    assert box.decrypt(token) == text


def test_key_file_is_owner_only_and_reloaded(tmp_path: Path) -> None:
    first = SecretBox.load_or_create(tmp_path)
    key_file = tmp_path / "keys" / "secret-box.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    content = key_file.read_bytes()
    again = SecretBox.load_or_create(tmp_path)
    assert key_file.read_bytes() == content
    assert again.decrypt(first.encrypt("kept")) == "kept"


def test_another_key_or_tampering_fails_clearly(tmp_path: Path) -> None:
    box = SecretBox.load_or_create(tmp_path / "a")
    other = SecretBox.load_or_create(tmp_path / "b")
    token = box.encrypt("secret")
    with pytest.raises(DecryptionFailed, match="another key"):
        other.decrypt(token)
    with pytest.raises(DecryptionFailed):
        box.decrypt(token[:-4] + "AAAA")

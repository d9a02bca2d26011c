"""Signing-key rotation: a new key signs, the old ones keep verifying until retired, and a
process sharing the data directory starts signing with a key another one made."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moorage.auth import keys as keys_module
from moorage.auth.keys import RETIRE_AFTER, SigningKeys, UnknownKey


def test_a_rotation_by_another_process_is_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SigningKeys.load_or_create(tmp_path)
    first = server.current_kid
    operator = SigningKeys.load_or_create(tmp_path)
    second = operator.rotate()
    assert second > first
    assert server.current_kid == first  # not before the next scan
    monkeypatch.setattr(keys_module, "RESCAN_SECONDS", -1.0)
    assert server.current_kid == second
    server.public_key(first)  # the old key still verifies


def test_retire_removes_keys_replaced_long_ago_and_keeps_the_newest(tmp_path: Path) -> None:
    signing = SigningKeys.load_or_create(tmp_path)
    old = signing.current_kid
    new = signing.rotate()
    assert signing.retire() == []  # just replaced: tokens it signed are still about
    later = datetime.now(UTC) + RETIRE_AFTER + timedelta(minutes=1)
    assert signing.retire(now=later) == [old]
    assert signing.kids == [new]
    with pytest.raises(UnknownKey):
        signing.public_key(old)
    assert signing.retire(now=later + RETIRE_AFTER * 10) == []  # the newest always stays
    assert [p.name for p in (tmp_path / "keys").iterdir()] == [f"token-signing-{new}.pem"]


def test_keys_rotate_command(tmp_path: Path) -> None:
    before = SigningKeys.load_or_create(tmp_path).current_kid
    result = subprocess.run(
        [sys.executable, "-m", "moorage", "keys", "rotate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["signingKey"] > before
    assert shown["keys"] == [before, shown["signingKey"]]
    assert shown["removed"] == []
    assert SigningKeys.load_or_create(tmp_path).current_kid == shown["signingKey"]

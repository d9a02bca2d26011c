"""Where `moorage acr login` writes the container tools' credentials, and how it merges them
into what is there."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from moorage.cli.client import CliError
from moorage.cli.registry_login import containers_auth_file, store_login


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REGISTRY_AUTH_FILE": "/a/auth.json", "XDG_RUNTIME_DIR": "/r"}, "/a/auth.json"),
        ({"XDG_RUNTIME_DIR": "/r"}, "/r/containers/auth.json"),
        ({}, f"/run/containers/{os.getuid()}/auth.json"),
    ],
    ids=["REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "default"],
)
def test_containers_auth_file(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert containers_auth_file() == Path(expected)


def test_store_login_merges_and_stays_private(tmp_path: Path) -> None:
    path = tmp_path / "containers" / "auth.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"auths": {"other": {"auth": "eDp5"}}, "credHelpers": {"a": "b"}}))
    store_login(path, "r1.localhost:5000", "user", "p:w")
    store_login(path, "r1.localhost:5000", "user", "new")
    document = json.loads(path.read_text())
    assert document["auths"]["other"] == {"auth": "eDp5"}
    assert document["credHelpers"] == {"a": "b"}
    auth = document["auths"]["r1.localhost:5000"]["auth"]
    assert base64.b64decode(auth).decode() == "user:new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_login_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.json"
    store_login(path, "r", "u", "p")
    assert json.loads(path.read_text()) == {"auths": {"r": {"auth": "dTpw"}}}


@pytest.mark.parametrize("content", ["{", "[]", '{"auths": []}'])
def test_store_login_leaves_a_file_it_cannot_read(tmp_path: Path, content: str) -> None:
    path = tmp_path / "auth.json"
    path.write_text(content)
    with pytest.raises(CliError, match="fix or remove it"):
        store_login(path, "r", "u", "p")
    assert path.read_text() == content

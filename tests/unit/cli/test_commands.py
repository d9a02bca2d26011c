"""Command plumbing without a server: exit codes, one `ERROR:` line, no request before the
input is known to be good."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from moorage.cli.acr import acr


def closed_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["delete", "-n", "r"], 1, "Use --yes"),
        (["list", "--endpoint", "ftp://x"], 2, "not an http"),
        (["show", "-n", "r"], 1, "cannot reach moorage at"),
    ],
)
def test_errors_are_one_line(args: list[str], exit_code: int, says: str, tmp_path: Path) -> None:
    owner = {"appId": "a", "password": "p", "tenant": "t", "subscription": "s"}
    (tmp_path / "owner-credential.json").write_text(json.dumps(owner))
    result = CliRunner().invoke(
        acr,
        [*args, "--endpoint", closed_endpoint()] if "--endpoint" not in args else args,
        env={
            "XDG_CONFIG_HOME": str(tmp_path),
            "MOORAGE_DATA_DIR": str(tmp_path),
            "MOORAGE_ENDPOINT": None,
        },
    )
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and says in lines[0], lines
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["create", "-n", "abcdef", "--sku", "Gold"],
        ["show"],
        ["update", "-n", "abcdef", "--public-network-enabled", "maybe"],
        ["network-rule", "add", "-n", "abcdef"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(acr, args).exit_code == 2

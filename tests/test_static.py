"""The code stays typed and linted: mypy --strict on src/, ruff on everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "mypy"],
        [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "bench"],
        [sys.executable, "-m", "ruff", "format", "--no-cache", "--check", "src", "tests", "bench"],
    ],
    ids=["mypy", "ruff-check", "ruff-format"],
)
def test_static_checks_pass(command: list[str]) -> None:
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

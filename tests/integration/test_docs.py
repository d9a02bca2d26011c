"""The command blocks of docs/ marked `<!-- tested -->` run as written against a real server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.oci import image_layout, make_image
from tests.support.server import Server
from tests.support.tools import require

DOCS = Path(__file__).parents[2] / "docs"
TESTED = re.compile(r"<!-- tested -->\s*```sh\n(.*?)```", re.S)
DOCUMENTED_PORT = 5000


def runnable_blocks(page: str) -> list[str]:
    return TESTED.findall((DOCS / page).read_text())


def test_registry_page_has_runnable_blocks() -> None:
    assert len(runnable_blocks("registry.md")) >= 3


def test_registry_page_commands_work_as_written(tmp_path: Path) -> None:
    require("skopeo")
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            s.bind(("127.0.0.1", DOCUMENTED_PORT))
    except OSError:
        pytest.fail(f"port {DOCUMENTED_PORT}, which the docs use, is taken on this machine")
    data_dir = tmp_path / "data"
    server = Server(data_dir, DOCUMENTED_PORT).start()
    try:
        image_layout(tmp_path / "hello", make_image(seed=7), "latest")
        bin_dir = Path(sys.executable).parent
        env = {
            **os.environ,
            "MOORAGE_DATA_DIR": str(data_dir),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        }
        for block in runnable_blocks("registry.md"):
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
            assert "errors" not in result.stdout, f"{block}\n{result.stdout}"
        assert (tmp_path / "hello-copy" / "index.json").exists()
    finally:
        server.stop()

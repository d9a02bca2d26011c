"""The command blocks of docs/ marked `<!-- tested -->` run as written against a real server.

A page's blocks run in order in one shell, as a reader would type them, with
MOORAGE_DATA_DIR pointing at the test server's data directory.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.az import az_program
from tests.support.oci import image_layout, make_image
from tests.support.server import Server
from tests.support.tools import require

DOCS = Path(__file__).parents[2] / "docs"
TESTED = re.compile(r"<!-- tested -->\s*```sh\n(.*?)```", re.S)
DOCUMENTED_PORT = 5000


def runnable_blocks(page: str) -> list[str]:
    return TESTED.findall((DOCS / page).read_text())


@pytest.fixture
def documented_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """moorage on the port the docs use (5000), with the options the page asks for."""
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            s.bind(("127.0.0.1", DOCUMENTED_PORT))
    except OSError:
        pytest.fail(f"port {DOCUMENTED_PORT}, which the docs use, is taken on this machine")
    server = Server(tmp_path / "data", DOCUMENTED_PORT, extra_args=list(request.param)).start()
    try:
        yield server
    finally:
        server.stop()


def run_page(page: str, server: Server, cwd: Path, extra_path: list[Path], **env: str) -> str:
    blocks = runnable_blocks(page)
    assert blocks, f"{page} has no tested blocks"
    path = [Path(sys.executable).parent, *extra_path]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "set -x\n" + "\n".join(blocks)],
        cwd=cwd,
        env={
            **os.environ,
            "MOORAGE_DATA_DIR": str(server.data_dir),
            # The tools' logins stay in the test's directory, not the machine's.
            "REGISTRY_AUTH_FILE": str(cwd / "auth.json"),
            "DOCKER_CONFIG": str(cwd / "docker"),
            "PATH": os.pathsep.join([*map(str, path), os.environ["PATH"]]),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{page}\n{result.stdout}\n{result.stderr}"
    assert '"errors"' not in result.stdout, result.stdout
    return result.stdout


@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_registry_page(documented_server: Server, tmp_path: Path) -> None:
    require("skopeo")
    image_layout(tmp_path / "hello", make_image(seed=7), "latest")
    out = run_page("registry.md", documented_server, tmp_path, [])
    assert (tmp_path / "hello-copy" / "index.json").exists()
    assert '"repositories": []' in out or '"repositories":[]' in out  # myregistry1 is new


@pytest.mark.parametrize("documented_server", [("--tls",)], indirect=True)
def test_az_page(documented_server: Server, tmp_path: Path) -> None:
    az = az_program()
    out = run_page(
        "az.md",
        documented_server,
        tmp_path,
        [az.parent],
        AZURE_CONFIG_DIR=str(tmp_path / "az"),
        AZURE_CORE_COLLECT_TELEMETRY="false",
    )
    assert documented_server.owner["subscription"] in out
    assert '"ipAddressOrRange": "203.0.113.7"' in out


@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_network_page(documented_server: Server, tmp_path: Path) -> None:
    out = run_page("network.md", documented_server, tmp_path, [])
    assert '"ipAddressOrRange": "2001:db8::/32"' in out
    assert '"expiresOn"' in out


@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_tokens_page(documented_server: Server, tmp_path: Path) -> None:
    out = run_page("tokens.md", documented_server, tmp_path, [])
    assert '"scopeMapType": "UserDefined"' in out
    assert "_repositories_pull                 SystemDefined" in out
    assert '"username": "cireader"' in out and '"username": "cipusher"' in out
    assert '"repositories/tools/content/read"' in out


@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_authentication_page(documented_server: Server, tmp_path: Path) -> None:
    require("skopeo")
    image_layout(tmp_path / "hello", make_image(seed=8), "latest")
    out = run_page("authentication.md", documented_server, tmp_path, [])
    assert "Login Succeeded" in out
    assert 'Bearer realm="http://myregistry1.localhost:5000/oauth2/token"' in out
    assert "does not allow anonymous pull" in out
    assert '{"name": "hello", "tags": ["latest"]}' in out
    assert out.rstrip().endswith("true")  # anonymous pull is on


@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_private_endpoints_page(documented_server: Server, tmp_path: Path) -> None:
    out = run_page("private-endpoints.md", documented_server, tmp_path, [])
    assert out.split()[:3] == ["403", "403", "200"], out
    assert '"address": "127.0.0.5:5002"' in out
    assert '"status": "Approved"' in out

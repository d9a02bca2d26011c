"""The command blocks of README.md and docs/ marked `<!-- tested -->` run as written against a
real server.

A page's blocks run in order in one shell, as a reader would type them, with
MOORAGE_DATA_DIR pointing at the test server's data directory. The docs name the default port,
5000 (and 5001, 5002, ... for private endpoints); the test server listens on a free port
instead, so the blocks run with each documented port replaced by a free one and with
MOORAGE_ENDPOINT naming the server, as the README tells a reader who chose `--port`. What the
blocks print is shown back with the documented ports, as a reader would see it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.az import az_program
from tests.support.containers import Tools, describe
from tests.support.docker import Containerd, Dockerd
from tests.support.oci import image_layout, make_image
from tests.support.server import Server, free_port
from tests.support.tools import require

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
TESTED = re.compile(r"<!-- tested(?:: (\w+))? -->\s*```sh\n(.*?)```", re.S)
"""A block marked `<!-- tested: KIND -->` needs more than a server (KIND: docker, containerd,
kubectl); only the tests that provide it run it."""
DOCUMENTED_PORT = re.compile(r"(?<![\d.])(500\d)(?!\d)")


def runnable_blocks(page: str, kinds: tuple[str, ...] = ("",)) -> list[str]:
    """The page's tested blocks of these kinds ("" is a plain `<!-- tested -->`), in order."""
    text = (ROOT / page if page == "README.md" else DOCS / page).read_text()
    return [block for kind, block in TESTED.findall(text) if kind in kinds]


@pytest.fixture
def documented_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """moorage on a free port standing for the docs' 5000, with the options the page asks for."""
    server = Server(tmp_path / "data", free_port(), extra_args=list(request.param)).start()
    try:
        yield server
    finally:
        server.stop()


class Ports:
    """The documented ports (5000, 5001, ...) and the free ones that stand for them."""

    def __init__(self, server: Server) -> None:
        self.chosen = {"5000": server.port}

    def to_free(self, text: str) -> str:
        def free(m: re.Match[str]) -> str:
            if m[1] not in self.chosen:
                self.chosen[m[1]] = free_port()
            return str(self.chosen[m[1]])

        return DOCUMENTED_PORT.sub(free, text)

    def to_documented(self, text: str) -> str:
        for documented, port in self.chosen.items():
            text = re.sub(rf"(?<=:){port}(?!\d)", documented, text)
        return text


def page_script(page: str, server: Server, kinds: tuple[str, ...] = ("",)) -> tuple[str, Ports]:
    blocks = runnable_blocks(page, kinds)
    assert blocks, f"{page} has no tested blocks"
    ports = Ports(server)
    return ports.to_free("set -x\n" + "\n".join(blocks)), ports


def page_env(server: Server, cwd: Path, extra_path: list[Path]) -> dict[str, str]:
    path = [Path(sys.executable).parent, *extra_path]
    return {
        "MOORAGE_DATA_DIR": str(server.data_dir),
        "MOORAGE_ENDPOINT": server.url,
        # The tools' logins stay in the test's directory, not the machine's.
        "REGISTRY_AUTH_FILE": str(cwd / "auth.json"),
        "DOCKER_CONFIG": str(cwd / "docker"),
        "PATH": os.pathsep.join([*map(str, path), os.environ["PATH"]]),
    }


def run_page(page: str, server: Server, cwd: Path, extra_path: list[Path], **env: str) -> str:
    script, ports = page_script(page, server)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **page_env(server, cwd, extra_path), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{page}\n{result.stdout}\n{result.stderr}"
    assert '"errors"' not in result.stdout, result.stdout
    return ports.to_documented(result.stdout)


def run_page_with_podman(
    page: str,
    server: Server,
    cwd: Path,
    env: Mapping[str, str],
    kinds: tuple[str, ...] = ("",),
) -> str:
    """A page whose blocks build and push with podman, in storage of the test's own."""
    require("podman")
    require("skopeo")
    script, ports = page_script(page, server, kinds)
    with Tools(cwd / "tools") as tools:
        tools.runroot  # noqa: B018 - podman's storage, named through the environment
        result = tools.run(
            ["bash", "-euo", "pipefail", "-c", script],
            private_run=True,
            cwd=cwd,
            env={**page_env(server, cwd, []), "REGISTRY_AUTH_FILE": str(cwd / "auth.json"), **env},
            timeout=300,
        )
    assert result.returncode == 0, f"{page}\n{describe(result)}"
    out = result.stdout.decode()
    assert '"errors"' not in out, out
    return ports.to_documented(out)


@pytest.mark.tool("podman")
@pytest.mark.tool("skopeo")
@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_readme_first_push(documented_server: Server, tmp_path: Path) -> None:
    """The README's first push, verbatim: an image made from scratch with podman (no download),
    pushed, listed and pulled back with the admin user."""
    out = run_page_with_podman("README.md", documented_server, tmp_path, {})
    assert "Successfully tagged 127.0.0.1:5000/hello:latest" in out, out
    assert '"Repository": "127.0.0.1:5000/hello"' in out and '"latest"' in out, out


def test_readme_test_command_is_what_ci_runs() -> None:
    """CI runs the README's test command, after the README's way of installing uv."""
    readme = (ROOT / "README.md").read_text()
    ci_lines = {line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()}
    (command,) = re.findall(r"<!-- ci -->\s*```sh\n(.*?)```", readme, re.S)
    setup = re.search(r"## Set up.*?```sh\n(.*?)```", readme, re.S)
    assert setup is not None
    assert "pipx install uv" in setup.group(1).splitlines()
    for line in [*command.strip().splitlines(), "pipx install uv"]:
        assert line in ci_lines, f".ci/run lacks the README's {line!r}"
    assert "pip install uv" not in readme.replace("pipx install uv", "").replace(
        "refuses `pip install uv`", ""
    )


@pytest.mark.tool("podman")
@pytest.mark.tool("skopeo")
@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_registry_page(documented_server: Server, tmp_path: Path) -> None:
    out = run_page_with_podman("registry.md", documented_server, tmp_path, {})
    assert (tmp_path / "hello-copy" / "index.json").exists()
    assert '"repositories": []' in out or '"repositories":[]' in out  # myregistry1 is new


@pytest.mark.tool("docker")
@pytest.mark.tool("dockerd")
@pytest.mark.tool("containerd")
@pytest.mark.parametrize("documented_server", [()], indirect=True)
def test_registry_page_with_docker_and_containerd(
    documented_server: Server, tmp_path: Path
) -> None:
    """The whole page again, with its docker and containerd sections, against a private dockerd
    and containerd (DOCKER_HOST, CONTAINERD_ADDRESS); the daemon resolves myregistry1 through
    the hosts line the page asks for. kubectl has no Debian 12 package: its block runs where
    kubectl is installed."""
    kubectl = shutil.which("kubectl") is not None
    kinds = ("", "docker", "containerd", *(("kubectl",) if kubectl else ()))
    with (
        Dockerd(hosts={"myregistry1.localhost": "127.0.0.1"}) as dockerd,
        Containerd() as containerd,
    ):
        env = {
            "DOCKER_HOST": f"unix://{dockerd.socket}",
            "CONTAINERD_ADDRESS": str(containerd.socket),
        }
        out = run_page_with_podman("registry.md", documented_server, tmp_path, env, kinds)
    assert out.count("Login Succeeded") >= 3, out  # podman, docker, moorage acr login
    assert "Removing login credentials for 127.0.0.1:5000" in out, out
    if kubectl:
        secret = (tmp_path / "moorage-pull.yaml").read_text()
        assert "type: kubernetes.io/dockerconfigjson" in secret


def test_registry_page_lists_every_serve_option() -> None:
    from moorage.cli.main import serve

    table = (DOCS / "registry.md").read_text().split("| option |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`(--[a-z-]+)", table))
    options = {name for p in serve.params for name in p.opts if name.startswith("--")}
    assert options == documented


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


@pytest.mark.tool("podman")
@pytest.mark.tool("skopeo")
@pytest.mark.parametrize("documented_server", [("--tls",)], indirect=True)
def test_azure_sdk_page(documented_server: Server, tmp_path: Path) -> None:
    out = run_page_with_podman("azure-sdk.md", documented_server, tmp_path, {})
    assert "repositories: ['hello']" in out, out
    assert re.search(r"tag: latest sha256:[0-9a-f]{64} \d+ bytes", out), out
    assert "tags after delete_tag: []" in out, out

"""`moorage acr check-health`, `acr repository ...` and `acr login` against the real server:
commands that talk to a registry's own endpoint (/v2/...) through `Host: <login server>`."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.integration.test_cli import Cli, new_name
from tests.support.oci import OCI_MANIFEST, Image, make_image
from tests.support.registry_http import push_blob, push_manifest
from tests.support.server import Server
from tests.support.tools import require


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


def push(server: Server, login_server: str, repo: str, tag: str, image: Image) -> None:
    with httpx.Client(base_url=server.url, headers={"Host": login_server}, timeout=30) as client:
        for blob in image.blobs():
            push_blob(client, repo, blob)
        push_manifest(client, repo, tag, image.manifest, OCI_MANIFEST)


def created(cli: Cli, *flags: str) -> tuple[str, str]:
    name = new_name()
    registry = cli.json("acr", "create", "-n", name, "--sku", "Premium", *flags)
    return name, str(registry["loginServer"])


def test_check_health_of_a_healthy_registry(cli: Cli) -> None:
    name, login_server = created(cli)
    result = cli.run("acr", "check-health", "-n", name)
    assert result.returncode == 0, result.stderr
    assert login_server in result.stdout
    assert "HTTP status:   200" in result.stdout
    assert "Health:        OK" in result.stdout
    assert cli.json("acr", "check-health", "-n", name, "-o", "json", "--yes") == {
        "loginServer": login_server,
        "reachable": True,
        "status": 200,
        "message": "the registry answers: OCI Distribution API available",
    }


def test_check_health_of_a_registry_that_refuses_this_client(cli: Cli) -> None:
    name, login_server = created(cli, "--default-action", "Deny")
    probe = httpx.get(f"{cli.server.url}/v2/", headers={"Host": login_server})
    assert probe.status_code == 401, probe.text  # the gate's refusal of the version check
    assert probe.json()["errors"][0]["code"] == "DENIED"
    result = cli.run("acr", "check-health", "-n", name)
    assert result.returncode == 1
    assert "Health:        FAILED" in result.stdout
    report = json.loads(cli.run("acr", "check-health", "-n", name, "-o", "json").stdout)
    assert report["reachable"] is True and report["status"] == probe.status_code


def test_repositories_tags_and_delete(cli: Cli) -> None:
    name, login_server = created(cli)
    one, two = make_image(seed=41, layers=1), make_image(seed=42, layers=1)
    push(cli.server, login_server, "team/app", "v1", one)
    push(cli.server, login_server, "team/app", "v2", two)
    push(cli.server, login_server, "tools", "latest", one)
    assert cli.json("acr", "repository", "list", "-n", name) == ["team/app", "tools"]
    tags = ["acr", "repository", "show-tags", "-n", name, "--repository", "team/app"]
    assert cli.json(*tags) == ["v1", "v2"]
    assert cli.ok(*tags, "-o", "tsv").splitlines() == ["v1", "v2"]

    delete = ["acr", "repository", "delete", "-n", name]
    assert "Use --yes" in cli.error(*delete, "--image", "team/app:v1")
    assert cli.json(*tags) == ["v1", "v2"]
    assert cli.ok(*delete, "--image", "team/app:v1", "--yes") == ""
    assert cli.json(*tags) == ["v2"]
    assert cli.ok(*delete, "--image", f"team/app@{two.digest}", "--yes") == ""
    assert cli.json(*tags) == []
    assert "not found" in cli.error(*delete, "--image", "tools:nope", "--yes")
    assert cli.json("acr", "repository", "show-tags", "-n", name, "--repository", "tools") == [
        "latest"
    ]


def test_repository_commands_send_admin_credentials(cli: Cli) -> None:
    name, login_server = created(cli, "--admin-enabled", "true")
    push(cli.server, login_server, "hello", "v1", make_image(seed=43, layers=1))
    assert cli.json("acr", "repository", "list", "-n", name) == ["hello"]


def auth_of(path: Path, login_server: str) -> str:
    entry = json.loads(path.read_text())["auths"][login_server]
    return base64.b64decode(entry["auth"]).decode()


def test_login_writes_where_container_tools_read(cli: Cli) -> None:
    name, login_server = created(cli)
    podman = cli.home / "run" / "containers" / "auth.json"
    docker = cli.home / ".docker" / "config.json"
    podman.parent.mkdir(parents=True)
    podman.write_text(json.dumps({"auths": {"other.example": {"auth": "eDp5"}}}))
    result = cli.run("acr", "login", "-n", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Login Succeeded\n"
    owner = json.loads((cli.server.data_dir / "owner-credential.json").read_text())
    expected = f"{owner['appId']}:{owner['password']}"
    assert auth_of(podman, login_server) == expected
    assert auth_of(docker, login_server) == expected
    assert json.loads(podman.read_text())["auths"]["other.example"] == {"auth": "eDp5"}
    assert podman.stat().st_mode & 0o077 == 0

    cli.json("acr", "update", "-n", name, "--admin-enabled", "true")
    password = cli.json("acr", "credential", "show", "-n", name, "--query", "passwords[0].value")
    cli.ok("acr", "login", "-n", name)
    assert auth_of(podman, login_server) == f"{name}:{password}"

    skopeo = require("skopeo")
    got = subprocess.run(
        [skopeo, "login", "--get-login", login_server],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert got.stdout.strip() == name, got.stderr


def test_login_expose_token(cli: Cli) -> None:
    name, login_server = created(cli)
    shown = cli.json("acr", "login", "-n", name, "--expose-token")
    assert shown["loginServer"] == login_server
    assert isinstance(shown["accessToken"], str) and shown["accessToken"]
    assert not (cli.home / ".docker" / "config.json").exists()

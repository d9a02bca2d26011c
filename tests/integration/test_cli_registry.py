"""`moorage acr check-health`, `acr repository ...` and `acr login` against the real server:
commands that talk to a registry's own endpoint (/v2/...) through `Host: <login server>`."""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.integration.test_cli import Cli, new_name
from tests.support.oci import OCI_MANIFEST, Image, make_image
from tests.support.registry_http import owner_auth, push_blob, push_manifest
from tests.support.server import Server
from tests.support.tools import require


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


def push(server: Server, login_server: str, repo: str, tag: str, image: Image) -> None:
    with httpx.Client(
        base_url=server.url, headers={"Host": login_server}, auth=owner_auth(server), timeout=30
    ) as client:
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
    assert "Seen as:       127.0.0.1" in result.stdout
    assert "Network rule:  default action Allow" in result.stdout
    assert cli.json("acr", "check-health", "-n", name, "-o", "json", "--yes") == {
        "loginServer": login_server,
        "reachable": True,
        "status": 200,
        "clientAddress": "127.0.0.1",
        "networkRule": "default action Allow",
        "message": "the registry answers: OCI Distribution API available",
    }
    # With rules, the one that admits this client.
    assert cli.run("acr", "update", "-n", name, "--default-action", "Deny").returncode == 0
    added = cli.run("acr", "network-rule", "add", "-n", name, "--ip-address", "127.0.0.0/24")
    assert added.returncode == 0, added.stderr
    report = cli.json("acr", "check-health", "-n", name, "-o", "json")
    assert report["networkRule"] == "IP rule 127.0.0.0/24"


def test_check_health_of_a_registry_that_refuses_this_client(cli: Cli) -> None:
    name, login_server = created(cli, "--default-action", "Deny")
    probe = httpx.get(f"{cli.server.url}/v2/", headers={"Host": login_server})
    assert probe.status_code == 403, probe.text  # the gate refuses with 403 on every route
    assert "WWW-Authenticate" not in probe.headers
    assert probe.json()["errors"][0]["code"] == "DENIED"
    result = cli.run("acr", "check-health", "-n", name)
    assert result.returncode == 1
    assert "Health:        FAILED" in result.stdout
    report = json.loads(cli.run("acr", "check-health", "-n", name, "-o", "json").stdout)
    assert report["reachable"] is True and report["status"] == probe.status_code
    assert report["clientAddress"] == "127.0.0.1"
    assert report["networkRule"] == (
        "refused: the client address is not in the registry's allowed IP ranges"
    )


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


def answered(cli: Cli, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command run at a terminal (a pseudo-terminal as its stdin) typing `answer`."""
    main, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "moorage", *args],
            env=cli.env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(main, answer.encode() + b"\n")
        out, err = process.communicate(timeout=120)
    finally:
        os.close(main)
        os.close(terminal)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_a_repository_is_deleted_after_asking_as_the_cloud_cli_does(cli: Cli) -> None:
    name, login_server = created(cli)
    image = make_image(seed=43, layers=1)
    for repo in ("team/app", "tools", "other"):
        push(cli.server, login_server, repo, "v1", image)
    delete = ["acr", "repository", "delete", "-n", name]
    question = (
        "This operation will delete the repository 'team/app' and all the images in it. "
        "Are you sure you want to continue? (y/n): "
    )
    no = answered(cli, "n", *delete, "--repository", "team/app")
    assert no.returncode == 0 and no.stderr == question, no.stderr
    assert cli.json("acr", "repository", "list", "-n", name) == ["other", "team/app", "tools"]
    yes = answered(cli, "y", *delete, "--repository", "team/app")
    assert yes.returncode == 0 and yes.stderr == question, yes.stderr
    assert cli.json("acr", "repository", "list", "-n", name) == ["other", "tools"]
    # Without a terminal to ask on, --yes is needed; with it, nothing is asked.
    assert "Use --yes" in cli.error(*delete, "--repository", "tools")
    assert cli.ok(*delete, "--repository", "tools", "--yes") == ""
    assert cli.json("acr", "repository", "list", "-n", name) == ["other"]
    assert "repository nothing is not in registry" in cli.error(
        *delete, "--repository", "nothing", "--yes"
    )
    for both_or_neither in (["--repository", "other", "--image", "other:v1"], []):
        usage = cli.run(*delete, *both_or_neither, "--yes")
        assert usage.returncode == 2, usage.stderr
        assert "give either --repository or --image" in usage.stderr
    assert cli.json("acr", "repository", "list", "-n", name) == ["other"]


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Seen:
    host: str
    authorization: str | None


@dataclass
class ProxiedCli(Cli):
    """The CLI with its endpoint set to a proxy in front of the server that notes each
    request's Host and Authorization: what the CLI sends a registry."""

    endpoint: str = ""
    seen: list[Seen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "MOORAGE_ENDPOINT": self.endpoint}

    def sent_to(self, login_server: str) -> set[str | None]:
        return {s.authorization for s in self.seen if s.host == login_server}


@pytest.fixture
def proxied(shared_server: Server, tmp_path: Path) -> Iterator[ProxiedCli]:
    (tmp_path / "run").mkdir()
    cli = ProxiedCli(shared_server, tmp_path)
    upstream = httpx.Client(base_url=shared_server.url, timeout=60, trust_env=False)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            cli.seen.append(Seen(self.headers["Host"], self.headers.get("Authorization")))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Accept-Encoding"] = "identity"
            r = upstream.request(self.command, self.path, headers=headers, content=body)
            self.send_response(r.status_code)
            for key, value in r.headers.multi_items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            head = self.command == "HEAD"
            size = r.headers.get("Content-Length", "0") if head else str(len(r.content))
            self.send_header("Content-Length", size)
            self.end_headers()
            if not head:
                self.wfile.write(r.content)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        def log_message(self, format: str, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    cli.endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield cli
    finally:
        proxy.shutdown()
        proxy.server_close()
        upstream.close()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_repository_commands_sign_in_as_the_admin_user_else_as_the_principal(
    proxied: ProxiedCli,
) -> None:
    cli = proxied
    name, login_server = created(cli)
    push(cli.server, login_server, "hello", "v1", make_image(seed=43, layers=1))

    def run_all() -> None:
        assert cli.json("acr", "repository", "list", "-n", name) == ["hello"]
        tags = ["acr", "repository", "show-tags", "-n", name, "--repository", "hello"]
        assert cli.json(*tags) == ["v1"]
        health = cli.json("acr", "check-health", "-n", name, "-o", "json", "--yes")
        assert health["status"] == 200, health

    run_all()  # admin user off: the CLI's own service principal (here the owner)
    assert cli.sent_to(login_server) == {basic(*owner_auth(cli.server))}

    cli.json("acr", "update", "-n", name, "--admin-enabled", "true")
    password = cli.json("acr", "credential", "show", "-n", name, "--query", "passwords[0].value")
    cli.seen.clear()
    run_all()
    assert cli.sent_to(login_server) == {basic(name, password)}


def test_login_without_docker_says_so(cli: Cli) -> None:
    """As az: `acr login` signs docker in, so without docker it fails and says what to do;
    nothing is written. (With docker: tests/integration/test_docker.py.)"""
    name, _ = created(cli)
    cli.extra_env["PATH"] = str(cli.home / "empty-bin")  # python runs by its full path
    message = cli.error("acr", "login", "-n", name)
    assert message.startswith("DOCKER_COMMAND_ERROR: docker is not installed or not on PATH")
    assert f"'moorage acr login --name {name} --expose-token'" in message
    assert not (cli.home / "run" / "containers" / "auth.json").exists()
    assert "--password needs --username too" in cli.error(
        "acr", "login", "-n", name, "-p", "secret", exit_code=2
    )


def test_login_without_a_docker_daemon_says_so(cli: Cli) -> None:
    """docker is installed but its daemon is not running: the login server and docker's own
    words (which differ by version: docker 20.10 says it cannot connect to the daemon, newer
    CLIs try the registry themselves); nothing is written."""
    require("docker")
    name, login_server = created(cli)
    cli.extra_env["DOCKER_HOST"] = f"unix://{cli.home}/no-daemon.sock"
    cli.extra_env["DOCKER_CONFIG"] = str(cli.home / "docker")
    message = cli.error("acr", "login", "-n", name)
    assert message.startswith(f"docker could not sign in to {login_server}: "), message
    assert not (cli.home / "run" / "containers" / "auth.json").exists()


def test_login_expose_token(cli: Cli) -> None:
    name, login_server = created(cli)
    cli.extra_env["PATH"] = str(cli.home / "empty-bin")  # no docker needed
    shown = cli.json("acr", "login", "-n", name, "--expose-token")
    assert shown["loginServer"] == login_server
    assert shown["username"] == "00000000-0000-0000-0000-000000000000"
    assert isinstance(shown["accessToken"], str) and shown["accessToken"]
    assert not (cli.home / ".docker" / "config.json").exists()

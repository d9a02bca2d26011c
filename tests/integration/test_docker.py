"""docker against the real server, as a user runs it: login (admin user, repository-scoped
token, service principal), build, push, rmi, pull by tag and by digest, a multi-arch index
pushed by skopeo, logout, and what docker prints when the network rules refuse it.

One private dockerd serves the whole module (tests/support/docker.py). It resolves registry
names itself, so each test adds its login server to the daemon's hosts file; every loopback
address is an insecure (plain HTTP) registry for it. Its client address is 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moorage.cli.registry_login import TOKEN_USER
from tests.integration.test_cli import Cli
from tests.support.containers import isolated_tools, ok
from tests.support.docker import Containerd, Dockerd
from tests.support.management import Management
from tests.support.oci import index_layout, make_image, sha256
from tests.support.registry_http import owner_auth
from tests.support.server import Server, free_port

pytestmark = [pytest.mark.tool("dockerd"), pytest.mark.tool("docker")]


# Registry names for the module, known to dockerd's hosts file from its start.
NAMES = [f"dk{secrets.token_hex(4)}" for _ in range(8)]
UNUSED = list(NAMES)


@pytest.fixture(scope="module")
def dockerd() -> Iterator[Dockerd]:
    hosts = {f"{name}.localhost": "127.0.0.1" for name in NAMES}
    with Dockerd(hosts=hosts, insecure_registries=["127.0.0.0/8"]) as daemon:
        yield daemon


def docker_ok(dockerd: Dockerd, *args: str, stdin: str | None = None) -> str:
    result = dockerd.docker(*args, input=None if stdin is None else stdin.encode())
    return ok(result).stdout.decode()


def docker_fails(dockerd: Dockerd, *args: str, stdin: str | None = None) -> str:
    """Run a docker command that must fail; what it printed (stdout and stderr)."""
    result = dockerd.docker(*args, input=None if stdin is None else stdin.encode())
    said = result.stdout.decode() + result.stderr.decode()
    assert result.returncode != 0, f"docker {' '.join(args)} succeeded:\n{said}"
    return said


def registry(shared_mgmt: Management, dockerd: Dockerd, **properties: Any) -> tuple[str, str]:
    """A new registry that dockerd can resolve: (name, login server name.localhost:port)."""
    name = UNUSED.pop()
    login_server = str(shared_mgmt.create(name, **properties)["properties"]["loginServer"])
    assert f"{login_server.split(':')[0]}" in dockerd.hosts
    return name, login_server


def login(dockerd: Dockerd, login_server: str, username: str, password: str) -> None:
    said = docker_ok(
        dockerd, "login", login_server, "-u", username, "--password-stdin", stdin=password
    )
    assert "Login Succeeded" in said


def build(dockerd: Dockerd, tmp_path: Path, tag: str, text: str) -> str:
    """`docker build` of FROM scratch + one file; the image id."""
    context = tmp_path / f"context-{secrets.token_hex(3)}"
    context.mkdir()
    (context / "hello.txt").write_text(text)
    (context / "Dockerfile").write_text('FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["/hello"]\n')
    docker_ok(dockerd, "build", "--quiet", "--tag", tag, str(context))
    return image_id(dockerd, tag)


def image_id(dockerd: Dockerd, ref: str) -> str:
    return docker_ok(dockerd, "image", "inspect", "--format", "{{.Id}}", ref).strip()


def pull_and_check(dockerd: Dockerd, expected_id: str, *pull_args: str) -> str:
    """`docker pull`, check the image id (its config digest: the same content), `docker rmi`;
    what the pull printed."""
    said = docker_ok(dockerd, "pull", *pull_args)
    assert image_id(dockerd, pull_args[-1]) == expected_id
    docker_ok(dockerd, "rmi", pull_args[-1])
    return said


def pushed_digest(said: str) -> str:
    """The manifest digest `docker push` reports (`TAG: digest: sha256:... size: N`)."""
    found = re.search(r"digest: (sha256:[0-9a-f]{64}) size: \d+", said)
    assert found, said
    return found.group(1)


def auths(dockerd: Dockerd) -> dict[str, object]:
    path = dockerd.config_dir / "config.json"
    return dict(json.loads(path.read_text()).get("auths", {})) if path.exists() else {}


def test_admin_user_build_push_pull_by_tag_and_digest(
    shared_server: Server, shared_mgmt: Management, dockerd: Dockerd, tmp_path: Path
) -> None:
    name, login_server = registry(shared_mgmt, dockerd, adminUserEnabled=True)
    _, password, _ = shared_mgmt.credentials(name)
    login(dockerd, login_server, name, password)
    assert login_server in auths(dockerd)

    tag = f"{login_server}/hello/app:v1"
    built = build(dockerd, tmp_path, tag, "hello from docker\n")
    digest = pushed_digest(docker_ok(dockerd, "push", tag))

    docker_ok(dockerd, "rmi", tag)
    assert dockerd.docker("image", "inspect", tag).returncode != 0
    pulled = pull_and_check(dockerd, built, tag)
    assert f"Digest: {digest}" in pulled, pulled

    by_digest = f"{login_server}/hello/app@{digest}"
    pull_and_check(dockerd, built, by_digest)

    said = docker_ok(dockerd, "logout", login_server)
    assert f"Removing login credentials for {login_server}" in said
    assert login_server not in auths(dockerd)
    refused = docker_fails(dockerd, "pull", tag)
    assert "unauthorized" in refused.lower() or "authentication required" in refused, refused


def test_repository_scoped_tokens_push_and_pull_only(
    shared_server: Server, shared_mgmt: Management, dockerd: Dockerd, tmp_path: Path
) -> None:
    name, login_server = registry(shared_mgmt, dockerd)
    writer = shared_mgmt.scoped_token(
        name, "pusher", ["repositories/app/content/read", "repositories/app/content/write"]
    )
    reader = shared_mgmt.scoped_token(name, "puller", ["repositories/app/content/read"])
    tag = f"{login_server}/app:v1"
    built = build(dockerd, tmp_path, tag, "pushed with a token\n")

    login(dockerd, login_server, *writer)
    docker_ok(dockerd, "push", tag)
    other = f"{login_server}/other:v1"
    docker_ok(dockerd, "tag", tag, other)
    outside = docker_fails(dockerd, "push", other)
    assert "denied: token 'pusher' may not push to repository 'other'" in outside, outside
    docker_ok(dockerd, "rmi", other)

    login(dockerd, login_server, *reader)  # replaces the writer's credentials
    docker_ok(dockerd, "rmi", tag)
    docker_ok(dockerd, "pull", tag)
    assert image_id(dockerd, tag) == built
    docker_ok(dockerd, "tag", tag, f"{login_server}/app:v2")
    refused = docker_fails(dockerd, "push", f"{login_server}/app:v2")
    assert "denied" in refused, refused
    assert (
        f"denied: token 'puller' may not push to repository 'app' in registry '{name}'" in refused
    )
    docker_ok(dockerd, "logout", login_server)


def test_service_principal_push_and_pull(
    shared_server: Server, shared_mgmt: Management, dockerd: Dockerd, tmp_path: Path
) -> None:
    name, login_server = registry(shared_mgmt, dockerd)
    app_id, secret = shared_mgmt.principal("AcrPush", shared_mgmt.path(name))
    login(dockerd, login_server, app_id, secret)
    tag = f"{login_server}/sp/app:v1"
    built = build(dockerd, tmp_path, tag, "pushed by a service principal\n")
    docker_ok(dockerd, "push", tag)
    docker_ok(dockerd, "rmi", tag)
    pull_and_check(dockerd, built, tag)
    docker_ok(dockerd, "logout", login_server)


def test_docker_pulls_a_multi_arch_index_pushed_by_skopeo(
    shared_server: Server, shared_mgmt: Management, dockerd: Dockerd, tmp_path: Path
) -> None:
    name, login_server = registry(shared_mgmt, dockerd, adminUserEnabled=True)
    username, password, _ = shared_mgmt.credentials(name)
    images = [make_image(seed=41, arch="amd64"), make_image(seed=42, arch="arm64")]
    layout, _ = index_layout(tmp_path / "multi", images, "v1")
    with isolated_tools(tmp_path / "tools", "skopeo") as tools:
        tools.hosts[login_server.split(":")[0]] = "127.0.0.1"
        tools.sign_in(login_server, username, password)
        dest = f"docker://{login_server}/multi:v1"
        ok(tools.skopeo("copy", "--all", "--dest-tls-verify=false", f"oci:{layout}:v1", dest))

    login(dockerd, login_server, username, password)
    tag = f"{login_server}/multi:v1"
    pull_and_check(dockerd, sha256(images[1].config), "--platform", "linux/arm64", tag)
    pull_and_check(dockerd, sha256(images[0].config), "--platform", "linux/amd64", tag)
    docker_ok(dockerd, "logout", login_server)


@pytest.fixture(scope="module")
def refused(
    shared_server: Server,
    shared_mgmt: Management,
    dockerd: Dockerd,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """A registry that refuses dockerd (it connects from 127.0.0.1; only 127.0.0.2 is allowed),
    its admin user on, and an image built for it: (login server, tag)."""
    name, login_server = registry(shared_mgmt, dockerd, adminUserEnabled=True)
    tag = f"{login_server}/app:v1"
    build(dockerd, tmp_path_factory.mktemp("refused"), tag, "refused\n")
    rules = {"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.2"}]}
    shared_mgmt.update(name, networkRuleSet=rules)
    yield login_server, tag
    docker_ok(dockerd, "rmi", tag)


def test_a_refused_client_reads_why_in_dockers_words(
    refused: tuple[str, str],
    shared_server: Server,
    shared_mgmt: Management,
    dockerd: Dockerd,
    tmp_path: Path,
) -> None:
    """docker login prints the seed's sentence (docker shows the status, not the body);
    push and pull print the DENIED message, which names the address and the fixing command."""
    login_server, tag = refused
    name = login_server.split(".")[0]
    username, password, _ = shared_mgmt.credentials(name)
    said = docker_fails(
        dockerd, "login", login_server, "-u", username, "--password-stdin", stdin=password
    )
    assert f"login attempt to http://{login_server}/v2/ failed with status: 403 Forbidden" in said

    for args in (["push", tag], ["pull", tag]):
        said = docker_fails(dockerd, *args)
        assert "denied: client with IP '127.0.0.1' is not allowed access. " in said, said
        assert f"Registry '{name}' ({login_server}) refused it" in said, said
        assert f"moorage acr network-rule add --name {name} --ip-address 127.0.0.1" in said, said

    cli = docker_cli(shared_server, tmp_path, dockerd)
    result = cli.run("acr", "login", "--name", name)
    assert result.returncode == 1, result.stderr
    assert (
        f"{login_server} refused the token exchange: DENIED: client with IP '127.0.0.1' is not "
        "allowed access."
    ) in result.stderr
    assert f"--name {name} --ip-address 127.0.0.1" in result.stderr
    assert not (tmp_path / "docker-argv").exists()  # refused before docker runs


@pytest.fixture
def tls_server_on_ipv6(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path / "data", free_port("::1"), host="::1", extra_args=["--tls"]).start()
    try:
        yield server
    finally:
        server.stop()


def test_tls_with_moorages_ca_in_certs_d(tls_server_on_ipv6: Server, tmp_path: Path) -> None:
    """dockerd trusts moorage's CA from certs.d/<host:port>/ca.crt. dockerd treats every
    registry on 127.0.0.0/8 as insecure (it skips certificate checks there), so this server
    listens on ::1 and dockerd resolves `localhost` to ::1 only."""
    server = tls_server_on_ipv6
    with Dockerd(hosts={"localhost": "::1"}) as daemon:
        username, password = owner_auth(server)
        login_server = f"localhost:{server.port}"
        tag = f"{login_server}/secure/app:v1"
        built = build(daemon, tmp_path, tag, "over TLS\n")
        untrusted = docker_fails(
            daemon, "login", login_server, "-u", username, "--password-stdin", stdin=password
        )
        assert "certificate signed by unknown authority" in untrusted, untrusted

        daemon.trust(login_server, server.ca)
        login(daemon, login_server, username, password)
        digest = pushed_digest(docker_ok(daemon, "push", tag))
        docker_ok(daemon, "rmi", tag)
        pull_and_check(daemon, built, f"{login_server}/secure/app@{digest}")


def docker_cli(server: Server, home: Path, dockerd: Dockerd) -> Cli:
    """The moorage CLI with the module's docker daemon, and a `docker` first on PATH that
    records its arguments in home/docker-argv before running the real one."""
    wrapper = home / "bin" / "docker"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{home}/docker-argv"\n'
        f'exec {shutil.which("docker")} "$@"\n'
    )
    wrapper.chmod(0o755)
    (home / "run").mkdir()
    env = {**dockerd.env(), "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    return Cli(server, home, extra_env=env)


def docker_auth(dockerd: Dockerd, login_server: str) -> str:
    entry = auths(dockerd)[login_server]
    assert isinstance(entry, dict)
    return base64.b64decode(entry["auth"]).decode()


def test_acr_login_signs_docker_in_with_a_fresh_token(
    shared_server: Server, shared_mgmt: Management, dockerd: Dockerd, tmp_path: Path
) -> None:
    name, login_server = registry(shared_mgmt, dockerd)
    cli = docker_cli(shared_server, tmp_path, dockerd)
    argv = tmp_path / "docker-argv"
    result = cli.run("acr", "login", "--name", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Login Succeeded\n"
    assert f"Signed docker in to the login server {login_server} as {TOKEN_USER}" in result.stderr
    assert argv.read_text() == f"login --username {TOKEN_USER} --password-stdin {login_server}\n"
    # docker keeps the refresh token its login got back from the token service as an
    # "identitytoken", beside the user name (as it does for the cloud's registries).
    entry = auths(dockerd)[login_server]
    assert isinstance(entry, dict) and entry["identitytoken"].count(".") == 2, entry
    assert docker_auth(dockerd, login_server) == f"{TOKEN_USER}:"
    podman = json.loads((tmp_path / "run" / "containers" / "auth.json").read_text())
    user, token = base64.b64decode(podman["auths"][login_server]["auth"]).decode().split(":")
    assert user == TOKEN_USER and token.count(".") == 2  # a JWT, not the CLI's own secret

    tag = f"{login_server}/cli/app:v1"  # the token carries the CLI identity's rights (Owner)
    built = build(dockerd, tmp_path, tag, "signed in by moorage acr login\n")
    docker_ok(dockerd, "push", tag)
    docker_ok(dockerd, "rmi", tag)
    pull_and_check(dockerd, built, tag)

    pusher, password = shared_mgmt.scoped_token(
        name, "cipush", ["repositories/cli/app/content/read"]
    )
    result = cli.run("acr", "login", "-n", name, "-u", pusher, "-p", password)
    assert result.returncode == 0, result.stderr
    assert docker_auth(dockerd, login_server) == f"{pusher}:"  # and its identity token
    assert password not in argv.read_text()
    wrong = cli.run("acr", "login", "-n", name, "-u", pusher, "-p", "wrong")
    assert wrong.returncode == 1
    assert f"ERROR: docker could not sign in to {login_server}: " in wrong.stderr, wrong.stderr
    docker_ok(dockerd, "logout", login_server)


OUTSIDE = [
    Path("/run/docker"),
    Path("/run/containerd"),
    Path("/opt/containerd"),
    Path("/etc/docker/key.json"),
    Path("/etc/docker/daemon.json"),
    Path("/etc/docker/certs.d"),
    *Path("/sys/fs/cgroup").glob("*/docker"),
    *Path("/sys/fs/cgroup").glob("*/default"),
]


def test_the_daemons_leave_nothing_behind(shared_server: Server, tmp_path: Path) -> None:
    """A dockerd and a containerd that pulled and pushed: once stopped, their directories,
    processes and mounts are gone, and nothing appeared where the daemons write by default."""
    existed = {path for path in OUTSIDE if path.exists()}
    user = ":".join(owner_auth(shared_server))
    with Dockerd() as daemon, Containerd() as ctr_daemon:
        roots = [daemon.root, ctr_daemon.root]
        tag = f"{shared_server.address}/leftovers/app:v1"
        build(daemon, tmp_path, tag, "nothing left\n")
        login(daemon, shared_server.address, *owner_auth(shared_server))
        docker_ok(daemon, "push", tag)
        ok(ctr_daemon.ctr("images", "pull", "--plain-http", "-u", user, tag))
    assert not any(root.exists() for root in roots)
    assert {path for path in OUTSIDE if path.exists()} == existed
    mounts = Path("/proc/self/mountinfo").read_text()
    assert not any(str(root) in mounts for root in roots)
    leftover = subprocess.run(
        ["pgrep", "-f", "|".join(str(root) for root in roots)],
        capture_output=True,
        check=False,
    )
    assert leftover.returncode == 1, leftover.stdout  # no process names those directories

"""The container tools against an authenticating registry: `skopeo login` / `podman login` with
each kind of identity, then push and pull; a token scoped to one repository cannot push to
another, and the tool prints why; anonymous pull works only when it is on, and never pushes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.containers import Tools, describe, ok
from tests.support.management import Management
from tests.support.oci import image_layout, make_image
from tests.support.server import Server
from tests.support.tools import require


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


def registry(mgmt: Management, sku: str = "Premium", **properties: Any) -> tuple[str, str]:
    name = f"tools{secrets.token_hex(4)}"
    mgmt.create(name, sku, **properties)
    return name, f"{name}.localhost:{mgmt.server.port}"


def tools_for(tmp_path: Path, name: str, *programs: str) -> Tools:
    for program in programs:
        require(program)
    return Tools(tmp_path / "tools", hosts={f"{name}.localhost": "127.0.0.1"})


def identity(mgmt: Management, name: str, kind: str) -> tuple[str, str]:
    """(user name, password) of a new identity of `kind` that may pull and push on `name`."""
    if kind == "admin":
        mgmt.update(name, adminUserEnabled=True)
        username, _, password2 = mgmt.credentials(name)
        return username, password2
    if kind == "token":
        pushes = ["repositories/*/content/read", "repositories/*/content/write"]
        return mgmt.scoped_token(name, "ci-pusher", pushes)
    return mgmt.principal("AcrPush", mgmt.path(name))


@pytest.mark.parametrize("kind", ["admin", "token", "principal"])
@pytest.mark.parametrize("tool", ["skopeo", "podman"])
def test_login_then_push_and_pull(mgmt: Management, tmp_path: Path, tool: str, kind: str) -> None:
    name, login_server = registry(mgmt)
    username, password = identity(mgmt, name, kind)
    layout = image_layout(tmp_path / "img", make_image(seed=31, layers=2), "v1")
    with tools_for(tmp_path, name, "skopeo", tool) as tools:
        run = tools.skopeo if tool == "skopeo" else tools.podman
        wrong = run("login", "--tls-verify=false", "-u", username, "-p", "wrong", login_server)
        assert wrong.returncode != 0, describe(wrong)
        assert b"invalid username/password" in wrong.stderr, describe(wrong)

        login = ok(run("login", "--tls-verify=false", "-u", username, "-p", password, login_server))
        assert b"Login Succeeded" in login.stdout, describe(login)
        target = f"{login_server}/{kind}/app:v1"
        if tool == "skopeo":
            ok(
                tools.skopeo(
                    "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{target}"
                )
            )
            inspected = ok(tools.skopeo("inspect", "--tls-verify=false", f"docker://{target}"))
            assert b'"Digest"' in inspected.stdout
        else:
            ok(tools.skopeo("copy", f"oci:{layout}:v1", f"containers-storage:{target}"))
            ok(tools.podman("push", "--tls-verify=false", target))
            ok(tools.podman("rmi", target))
            ok(tools.podman("pull", "--tls-verify=false", target))

        ok(run("logout", login_server))
        refused = tools.skopeo("inspect", "--tls-verify=false", f"docker://{target}")
        assert refused.returncode != 0, describe(refused)
        assert b"authentication required" in refused.stderr, describe(refused)


@pytest.mark.parametrize("tool", ["skopeo", "podman"])
def test_a_scoped_token_cannot_push_to_another_repository(
    mgmt: Management, tmp_path: Path, tool: str
) -> None:
    name, login_server = registry(mgmt)
    username, password = mgmt.scoped_token(
        name, "appci", ["repositories/app/content/read", "repositories/app/content/write"]
    )
    layout = image_layout(tmp_path / "img", make_image(seed=32, layers=1), "v1")
    with tools_for(tmp_path, name, "skopeo", tool) as tools:
        run = tools.skopeo if tool == "skopeo" else tools.podman
        ok(run("login", "--tls-verify=false", "-u", username, "-p", password, login_server))
        source = f"oci:{layout}:v1"
        if tool == "podman":
            ok(tools.skopeo("copy", source, f"containers-storage:{login_server}/app:v1"))
            ok(tools.podman("tag", f"{login_server}/app:v1", f"{login_server}/other:v1"))
            ok(tools.podman("push", "--tls-verify=false", f"{login_server}/app:v1"))
            refused = tools.podman("push", "--tls-verify=false", f"{login_server}/other:v1")
        else:
            ok(
                tools.skopeo(
                    "copy", "--dest-tls-verify=false", source, f"docker://{login_server}/app:v1"
                )
            )
            refused = tools.skopeo(
                "copy", "--dest-tls-verify=false", source, f"docker://{login_server}/other:v1"
            )
        assert refused.returncode != 0, describe(refused)
        # The tool's first request there (does the blob exist?) needs pull; the reason it
        # prints names the token, the push it set out to do (its token asked for push there
        # and was refused) and where, not "may not pull".
        assert b"token 'appci' may not push to repository 'other'" in refused.stderr, describe(
            refused
        )
        assert b"may not pull" not in refused.stderr, describe(refused)


def test_anonymous_pull_only_when_on_and_never_a_push(
    mgmt: Management, tmp_path: Path, shared_server: Server
) -> None:
    name, login_server = registry(mgmt, "Standard")
    layout = image_layout(tmp_path / "img", make_image(seed=33, layers=1), "v1")
    target = f"docker://{login_server}/public/app:v1"
    with tools_for(tmp_path, name, "skopeo") as tools:
        tools.sign_in(login_server, shared_server.owner["appId"], shared_server.owner["password"])
        ok(tools.skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", target))
        ok(tools.skopeo("logout", login_server))

        refused = tools.skopeo("inspect", "--tls-verify=false", target)
        assert refused.returncode != 0, describe(refused)
        assert b"does not allow anonymous pull" in refused.stderr, describe(refused)

        mgmt.update(name, anonymousPullEnabled=True)
        ok(tools.skopeo("inspect", "--tls-verify=false", target))
        ok(tools.skopeo("copy", "--src-tls-verify=false", target, f"oci:{tmp_path / 'pulled'}:v1"))
        push = tools.skopeo(
            "copy",
            "--dest-tls-verify=false",
            f"oci:{layout}:v1",
            f"docker://{login_server}/public/app:v2",
        )
        assert push.returncode != 0, describe(push)
        assert b"anonymous client may not push" in push.stderr, describe(push)

        mgmt.update(name, anonymousPullEnabled=False)
        refused = tools.skopeo("inspect", "--tls-verify=false", target)
        assert refused.returncode != 0, describe(refused)

"""The real `az` CLI on a registry's scope maps, tokens and data plane, against `moorage serve
--tls` registered as a custom cloud (the same setup as test_az_cli.py).

The data-plane commands (`az acr login --expose-token`, `az acr repository ...`) talk to the
registry's login server `<name>.localhost:<port>`; Python does not resolve `*.localhost`, so they
run in a private mount namespace whose /etc/hosts names it (tests/support/containers.py `Tools`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.az import az_program
from tests.support.containers import Tools, describe, ok
from tests.support.oci import image_layout, make_image
from tests.support.server import Server, running_server
from tests.support.tools import require

# The user name that goes with an ACR token (not a secret).
TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105
IMAGE = make_image(seed=71, layers=1)


@dataclass
class Az:
    """The az program with its own configuration directory, signed in to moorage."""

    program: Path
    settings: dict[str, str]
    """What az needs besides the process environment (config dir, CA bundle, ...)."""

    def raw(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.program), *args],
            env={**os.environ, **self.settings},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def __call__(self, *args: str) -> Any:
        result = self.raw(*args)
        assert result.returncode == 0, f"az {' '.join(args)}\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else None


@dataclass
class AzTools(Tools):
    """skopeo, and az, in the tools' private namespace (their own /etc/hosts); az keeps its
    configuration directory and CA bundle through `az_settings`."""

    az_settings: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.az_settings}


@dataclass(frozen=True)
class Registry:
    name: str
    login_server: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("az-data-plane") / "data", "--tls") as s:
        yield s


@pytest.fixture(scope="module")
def az(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Az:
    require("skopeo")
    require("unshare")
    home = tmp_path_factory.mktemp("az-home")
    settings = {
        "AZURE_CONFIG_DIR": str(home / "config"),
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_NO_COLOR": "true",
        "REQUESTS_CA_BUNDLE": str(server.ca_bundle(home / "bundle.pem")),
    }
    cli = Az(az_program(), {**settings, "HOME": str(home)})
    setup = subprocess.run(
        [
            sys.executable,
            "-m",
            "moorage",
            "az-cloud",
            "--endpoint",
            server.url,
            "--data-dir",
            str(server.data_dir),
            "--apply",
            "--az",
            str(cli.program),
        ],
        env={**os.environ, **cli.settings},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return cli


@pytest.fixture(scope="module")
def registry(az: Az, server: Server) -> Registry:
    name = f"azdp{secrets.token_hex(4)}"
    created = az("acr", "create", "-n", name, "-g", "moorage", "--sku", "Premium")
    assert created["name"] == name
    assert created["sku"]["name"] == "Premium"
    assert created["loginServer"] == f"{name}.localhost:{server.port}"
    return Registry(name, created["loginServer"])


def tools_for(root: Path, registry: Registry, az: Az | None = None, **az_extra: str) -> AzTools:
    """Tools seeing `<name>.localhost` as 127.0.0.1; with `az`, they can run it too."""
    settings = {} if az is None else {k: v for k, v in az.settings.items() if k != "HOME"}
    return AzTools(
        root,
        hosts={registry.login_server.split(":")[0]: "127.0.0.1"},
        az_settings={**settings, **az_extra},
    )


@pytest.fixture(scope="module")
def pushed(registry: Registry, server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`app:v1` pushed by the owner with skopeo; its manifest digest."""
    root = tmp_path_factory.mktemp("push")
    layout = image_layout(root / "img", IMAGE, "v1")
    with tools_for(root / "tools", registry) as tools:
        tools.sign_in(registry.login_server, server.owner["appId"], server.owner["password"])
        ok(
            tools.skopeo(
                "copy",
                "--dest-tls-verify=false",
                f"oci:{layout}:v1",
                f"docker://{registry.login_server}/app:v1",
            )
        )
    return IMAGE.digest


def in_namespace(tools: Tools, az: Az, *args: str) -> Any:
    """Run az where `<name>.localhost` resolves; its JSON output."""
    result = tools.run([str(az.program), *args], timeout=180)
    assert result.returncode == 0, describe(result)
    return json.loads(result.stdout)


def test_scope_maps_and_tokens(az: Az, registry: Registry) -> None:
    r = registry.name
    made = az(
        "acr",
        "scope-map",
        "create",
        "-n",
        "cimap",
        "-r",
        r,
        "--repository",
        "app",
        "content/read",
        "content/write",
        "--description",
        "CI for app",
    )
    assert made["name"] == "cimap"
    assert made["description"] == "CI for app"
    assert sorted(made["actions"]) == [
        "repositories/app/content/read",
        "repositories/app/content/write",
    ]
    listed = {m["name"]: m for m in az("acr", "scope-map", "list", "-r", r)}
    assert "cimap" in listed
    assert "_repositories_pull" in listed  # the system scope maps come with the registry
    shown = az("acr", "scope-map", "show", "-n", "cimap", "-r", r)
    assert shown["id"] == made["id"]
    assert shown["actions"] == made["actions"]
    updated = az(
        "acr",
        "scope-map",
        "update",
        "-n",
        "cimap",
        "-r",
        r,
        "--add-repository",
        "other",
        "content/read",
    )
    assert sorted(updated["actions"]) == [
        "repositories/app/content/read",
        "repositories/app/content/write",
        "repositories/other/content/read",
    ]
    assert updated["description"] == "CI for app"

    token = az("acr", "token", "create", "-n", "citoken", "-r", r, "--scope-map", "cimap")
    assert token["name"] == "citoken"
    assert token["scopeMapId"] == made["id"]
    assert token["status"] == "enabled"
    assert token["credentials"]["username"] == "citoken"
    passwords = {p["name"]: p["value"] for p in token["credentials"]["passwords"]}
    assert set(passwords) == {"password1", "password2"}
    assert all(passwords.values())
    assert passwords["password1"] != passwords["password2"]

    generated = az(
        "acr",
        "token",
        "credential",
        "generate",
        "-n",
        "citoken",
        "-r",
        r,
        "--password2",
        "--expiration-in-days",
        "1",
    )
    assert generated["username"] == "citoken"
    [renewed] = generated["passwords"]
    assert renewed["name"] == "password2"
    assert renewed["value"] and renewed["value"] != passwords["password2"]
    expiry = datetime.fromisoformat(renewed["expiry"])
    assert timedelta(hours=23) < expiry - datetime.now(UTC) <= timedelta(days=1)

    assert "citoken" in [t["name"] for t in az("acr", "token", "list", "-r", r)]
    shown_token = az("acr", "token", "show", "-n", "citoken", "-r", r)
    stored = {p["name"]: p for p in shown_token["credentials"]["passwords"]}
    assert stored["password2"]["expiry"] is not None
    assert stored["password1"]["expiry"] is None
    assert all(p["value"] is None for p in stored.values())  # shown once, never again

    assert az("acr", "token", "delete", "-n", "citoken", "-r", r, "--yes") is None
    gone = az.raw("acr", "token", "show", "-n", "citoken", "-r", r)
    assert gone.returncode != 0
    assert "The token 'citoken'" in gone.stderr and "could not be found" in gone.stderr
    assert "citoken" not in [t["name"] for t in az("acr", "token", "list", "-r", r)]

    assert az("acr", "scope-map", "delete", "-n", "cimap", "-r", r, "--yes") is None
    gone = az.raw("acr", "scope-map", "show", "-n", "cimap", "-r", r)
    assert gone.returncode != 0
    assert "The scope map 'cimap'" in gone.stderr and "could not be found" in gone.stderr


@pytest.mark.parametrize(
    "verification",
    [
        # az (requests/OpenSSL) verifies <name>.localhost: moorage serves that name's own
        # certificate (SNI), signed by its local CA.
        "verified",
        # AZURE_CLI_DISABLE_CONNECTION_VERIFICATION is az's own switch (as --tls-verify=false
        # is skopeo's): everything past the certificate still runs for real.
        "unverified",
    ],
)
def test_acr_login_expose_token_and_repository_commands(
    az: Az, registry: Registry, pushed: str, tmp_path: Path, verification: str
) -> None:
    extra = {"AZURE_CLI_DISABLE_CONNECTION_VERIFICATION": "1"} if verification != "verified" else {}
    with tools_for(tmp_path / "tools", registry, az, **extra) as tools:
        exposed = in_namespace(tools, az, "acr", "login", "-n", registry.name, "--expose-token")
        assert exposed["loginServer"] == registry.login_server
        assert exposed["accessToken"]
        assert exposed["username"] == TOKEN_USER

        # What az prints is the password for the all-zero user, as for `docker login`.
        login = ok(
            tools.skopeo(
                "login",
                "--tls-verify=false",
                "-u",
                TOKEN_USER,
                "-p",
                exposed["accessToken"],
                registry.login_server,
            )
        )
        assert b"Login Succeeded" in login.stdout, describe(login)
        inspected = ok(
            tools.skopeo(
                "inspect", "--tls-verify=false", f"docker://{registry.login_server}/app:v1"
            )
        )
        assert json.loads(inspected.stdout)["Digest"] == pushed

        assert in_namespace(tools, az, "acr", "repository", "list", "-n", registry.name) == ["app"]
        tags = in_namespace(
            tools, az, "acr", "repository", "show-tags", "-n", registry.name, "--repository", "app"
        )
        assert tags == ["v1"]


def test_a_token_made_by_az_pulls_app_and_cannot_push_to_other(
    az: Az, registry: Registry, pushed: str, tmp_path: Path
) -> None:
    r = registry.name
    az(
        "acr",
        "scope-map",
        "create",
        "-n",
        "appmap",
        "-r",
        r,
        "--repository",
        "app",
        "content/read",
        "content/write",
        "--description",
        "app CI",
    )
    az(
        "acr",
        "scope-map",
        "update",
        "-n",
        "appmap",
        "-r",
        r,
        "--add-repository",
        "other",
        "content/read",
    )
    token = az("acr", "token", "create", "-n", "apptoken", "-r", r, "--scope-map", "appmap")
    username = token["credentials"]["username"]
    password = token["credentials"]["passwords"][0]["value"]
    layout = image_layout(tmp_path / "img", make_image(seed=72, layers=1), "v1")

    with tools_for(tmp_path / "tools", registry) as tools:
        ok(
            tools.skopeo(
                "login", "--tls-verify=false", "-u", username, "-p", password, registry.login_server
            )
        )
        pulled = tmp_path / "pulled"
        ok(
            tools.skopeo(
                "copy",
                "--src-tls-verify=false",
                f"docker://{registry.login_server}/app:v1",
                f"oci:{pulled}:v1",
            )
        )
        assert json.loads((pulled / "index.json").read_text())["manifests"][0]["digest"] == pushed

        refused = tools.skopeo(
            "copy",
            "--dest-tls-verify=false",
            f"oci:{layout}:v1",
            f"docker://{registry.login_server}/other:v1",
        )
        assert refused.returncode != 0, describe(refused)
        # It may read `other`, so the blob check passes; starting the upload needs push.
        assert (
            f"denied: token 'apptoken' may not push to repository 'other' in registry '{r}'"
            in refused.stderr.decode()
        ), describe(refused)

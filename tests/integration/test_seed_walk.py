"""The seed's walk, end to end, with the moorage CLI and skopeo against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.containers import isolated_tools
from tests.support.oci import image_layout, make_image
from tests.support.registry_http import owner_auth
from tests.support.server import Server


def moorage(server: Server, home: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "moorage", *args],
        env={
            **os.environ,
            "MOORAGE_ENDPOINT": server.url,
            "MOORAGE_DATA_DIR": str(server.data_dir),
            "XDG_CONFIG_HOME": str(home / "config"),
            "HOME": str(home),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"moorage {' '.join(args)}\n{result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def why_refused(server: Server) -> str:
    """What the registry tells this machine (127.0.0.1) on the version check: a 403 DENIED.
    Debian 12's skopeo prints only the status of it; curl and newer tools print this."""
    r = httpx.get(f"{server.url}/v2/", trust_env=False, timeout=30)
    assert r.status_code == 403, r.text
    assert "WWW-Authenticate" not in r.headers
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED", error
    return str(error["message"])


def test_deny_allow_push_remove_refuse_disable_enable(server: Server, tmp_path: Path) -> None:
    layout = image_layout(tmp_path / "img", make_image(seed=21, layers=2), "v1")
    target = f"docker://{server.address}/walk/app"
    with isolated_tools(tmp_path / "tools", "skopeo") as tools:
        tools.sign_in(server.address, *owner_auth(server))

        def push(tag: str) -> subprocess.CompletedProcess[bytes]:
            return tools.skopeo(
                "copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"{target}:{tag}"
            )

        # Deny by default, then let this client in (skopeo connects from 127.0.0.1).
        moorage(server, tmp_path, "acr", "update", "--name", "default", "--default-action", "Deny")
        refused = push("first")
        assert refused.returncode != 0
        assert b"403 (Forbidden)" in refused.stderr, refused.stderr
        assert "not in the registry's allowed IP ranges" in why_refused(server)
        moorage(
            server,
            tmp_path,
            "acr",
            "network-rule",
            "add",
            "--name",
            "default",
            "--ip-address",
            "127.0.0.1",
        )
        pushed = push("first")
        assert pushed.returncode == 0, pushed.stderr

        # Remove the rule: the next push is refused; the registry says why and what to run.
        moorage(
            server,
            tmp_path,
            "acr",
            "network-rule",
            "remove",
            "--name",
            "default",
            "--ip-address",
            "127.0.0.1",
        )
        refused = push("second")
        assert refused.returncode != 0
        assert b"403 (Forbidden)" in refused.stderr, refused.stderr
        said = why_refused(server)
        assert said.startswith("client with IP '127.0.0.1' is not allowed access. "), said
        assert "moorage acr network-rule add --name default --ip-address 127.0.0.1" in said

        # Allow it from the refusal record in one step.
        denied = moorage(server, tmp_path, "acr", "network-rule", "denied", "--name", "default")
        assert "127.0.0.1" in [d["address"] for d in denied]
        moorage(
            server,
            tmp_path,
            "acr",
            "network-rule",
            "add",
            "--name",
            "default",
            "--from-denied",
            "127.0.0.1",
        )
        assert push("second").returncode == 0

        # Disabling the public endpoint overrides the rules; enabling it restores them.
        moorage(
            server,
            tmp_path,
            "acr",
            "update",
            "--name",
            "default",
            "--public-network-enabled",
            "false",
        )
        refused = push("third")
        assert refused.returncode != 0
        assert b"403 (Forbidden)" in refused.stderr, refused.stderr
        assert "public network access is disabled" in why_refused(server)
        moorage(
            server,
            tmp_path,
            "acr",
            "update",
            "--name",
            "default",
            "--public-network-enabled",
            "true",
        )
        assert push("third").returncode == 0
        tags = tools.skopeo("list-tags", "--tls-verify=false", target)
        assert json.loads(tags.stdout)["Tags"] == ["first", "second", "third"]

"""The real `az` CLI, registered as a custom cloud, runs the seed's commands against moorage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.az import az_program
from tests.support.server import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("az") / "data", "--tls") as s:
        yield s


@pytest.fixture(scope="module")
def az(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    program = az_program()
    home = tmp_path_factory.mktemp("az-home")
    env = {
        **os.environ,
        "AZURE_CONFIG_DIR": str(home / "config"),
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "AZURE_CORE_NO_COLOR": "true",
        "REQUESTS_CA_BUNDLE": str(server.ca_bundle(home / "bundle.pem")),
        "HOME": str(home),
    }
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
            str(program),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr

    def run(*args: str, ok: bool = True) -> Any:
        result = subprocess.run(
            [str(program), *args], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        if ok:
            assert result.returncode == 0, f"az {' '.join(args)}\n{result.stderr}"
            return json.loads(result.stdout) if result.stdout.strip() else None
        return result

    yield run


def test_the_seeds_walk_with_az(az: Any, server: Server) -> None:
    created = az(
        "acr",
        "create",
        "--name",
        "mycontainerregistry",
        "--resource-group",
        "moorage",
        "--sku",
        "Premium",
        "--location",
        "local",
        "-o",
        "json",
    )
    assert created["loginServer"] == f"mycontainerregistry.localhost:{server.port}"
    assert created["networkRuleSet"]["defaultAction"] == "Allow"

    # The seed's commands as written, with the seed's own mix of name cases.
    denied = az("acr", "update", "--name", "myContainerRegistry", "--default-action", "Deny")
    assert denied["networkRuleSet"]["defaultAction"] == "Deny"
    added = az(
        "acr", "network-rule", "add", "--name", "mycontainerregistry", "--ip-address", "203.0.113.7"
    )
    assert added["networkRuleSet"]["ipRules"] == [
        {"action": "Allow", "ipAddressOrRange": "203.0.113.7"}
    ]
    listed = az("acr", "network-rule", "list", "--name", "mycontainerregistry")
    assert listed["ipRules"] == [{"action": "Allow", "ipAddressOrRange": "203.0.113.7"}]
    off = az("acr", "update", "--name", "myContainerRegistry", "--public-network-enabled", "false")
    assert off["publicNetworkAccess"] == "Disabled"
    # Switching public access keeps the rules (az sends a rule set without ipRules).
    assert off["networkRuleSet"]["ipRules"][0]["ipAddressOrRange"] == "203.0.113.7"
    on = az("acr", "update", "--name", "myContainerRegistry", "--public-network-enabled", "true")
    assert on["publicNetworkAccess"] == "Enabled"
    removed = az(
        "acr",
        "network-rule",
        "remove",
        "--name",
        "mycontainerregistry",
        "--ip-address",
        "203.0.113.7",
    )
    assert removed["networkRuleSet"]["ipRules"] == []


def test_show_list_credentials_delete(az: Any) -> None:
    az(
        "acr",
        "create",
        "--name",
        "azcreds1",
        "--resource-group",
        "moorage",
        "--sku",
        "Standard",
        "--location",
        "local",
        "--admin-enabled",
        "true",
    )
    shown = az("acr", "show", "--name", "azcreds1")
    assert shown["sku"]["name"] == "Standard"
    assert "azcreds1" in [r["name"] for r in az("acr", "list")]
    credentials = az("acr", "credential", "show", "--name", "azcreds1")
    assert credentials["username"] == "azcreds1"
    before = {p["name"]: p["value"] for p in credentials["passwords"]}
    renewed = az("acr", "credential", "renew", "--name", "azcreds1", "--password-name", "password2")
    after = {p["name"]: p["value"] for p in renewed["passwords"]}
    assert after["password"] == before["password"]
    assert after["password2"] != before["password2"]
    az("acr", "delete", "--name", "azcreds1", "--yes")
    missing = az("acr", "show", "--name", "azcreds1", ok=False)
    assert missing.returncode != 0
    assert "azcreds1" in missing.stderr


def test_account_and_groups(az: Any, server: Server) -> None:
    account = az("account", "show")
    assert account["id"] == server.owner["subscription"]
    assert account["tenantId"] == server.owner["tenant"]
    assert "moorage" in [g["name"] for g in az("group", "list")]

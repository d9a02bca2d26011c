"""`moorage login`, `account`, `ad sp` and https endpoints against the real server: who the
command line signs in as, and what it trusts."""

from __future__ import annotations

import stat
from pathlib import Path

import certifi
import pytest

from tests.integration.test_cli import Cli, new_name
from tests.support.server import Server, running_server


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


# -- identities ----------------------------------------------------------------------------


def test_service_principal_login_and_account(cli: Cli, tmp_path: Path) -> None:
    owner = cli.json("account", "show")
    assert owner["environmentName"] == "moorage" and owner["user"]["type"] == "servicePrincipal"
    sp = cli.json("ad", "sp", "create-for-rbac", "--name", new_name("sp"), "--role", "Contributor")
    assert set(sp) == {"appId", "displayName", "password", "tenant"}
    assert sp["tenant"] == owner["tenantId"]
    logged_in = cli.json(
        "login", "--service-principal", "-u", sp["appId"], "-p", sp["password"],
        "--tenant", sp["tenant"], "--endpoint", cli.server.url,
    )  # fmt: skip
    assert logged_in == [
        {
            "cloudName": "moorage",
            "homeTenantId": owner["tenantId"],
            "id": owner["id"],
            "isDefault": True,
            "managedByTenants": [],
            "name": owner["name"],
            "state": "Enabled",
            "tenantId": owner["tenantId"],
            "user": {"name": sp["appId"], "type": "servicePrincipal"},
        }
    ]
    profile = tmp_path / "config" / "moorage" / "profile.json"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    shown = cli.json("account", "show")
    assert shown["user"]["name"] == sp["appId"] and shown["id"] == owner["id"]
    name = new_name()
    assert cli.json("acr", "create", "-n", name, "--sku", "Basic")["name"] == name
    assert cli.ok("logout") == ""
    assert cli.json("account", "show")["user"]["name"] == owner["user"]["name"]
    assert "no active accounts" in cli.error("logout")

    listed = cli.json("ad", "sp", "list", "--query", "[].appId")
    assert sp["appId"] in listed
    reset = cli.json("ad", "sp", "credential", "reset", "--id", sp["appId"])
    assert reset["appId"] == sp["appId"] and reset["password"] != sp["password"]
    login = ["login", "--service-principal", "-u", sp["appId"], "--tenant", sp["tenant"]]
    assert "AADSTS" in cli.error(*login, "-p", sp["password"])
    cli.json(*login, "-p", reset["password"])
    cli.ok("logout")
    assert cli.ok("ad", "sp", "delete", "--id", sp["appId"]) == ""
    assert sp["appId"] not in cli.json("ad", "sp", "list", "--query", "[].appId")


def test_reader_is_refused_changes_with_a_clear_error(cli: Cli) -> None:
    updated = new_name()
    cli.json("acr", "create", "-n", updated, "--sku", "Premium")
    sp = cli.json("ad", "sp", "create-for-rbac", "--name", new_name("rd"), "--role", "Reader")
    cli.json(
        "login", "--service-principal", "-u", sp["appId"], "-p", sp["password"], "-t", sp["tenant"]
    )
    assert cli.json("acr", "show", "-n", updated, "--query", "name") == updated
    message = cli.error("acr", "update", "-n", updated, "--default-action", "Allow")
    assert message.startswith("(AuthorizationFailed) ")
    assert sp["appId"] in message and "Reader" in message
    assert "AuthorizationFailed" in cli.error(
        "acr", "network-rule", "add", "-n", updated, "--ip-address", "192.0.2.9"
    )


def test_https_endpoint_trusts_the_local_ca(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "--tls") as server:
        assert server.url.startswith("https://")
        cli = Cli(server, tmp_path)
        (tmp_path / "run").mkdir()
        name = new_name()
        assert cli.json("acr", "create", "-n", name, "--sku", "Basic")["name"] == name
        assert cli.run("acr", "check-health", "-n", name).returncode == 0
        message = cli.error("acr", "list", "--ca-bundle", certifi.where())  # not moorage's CA
        assert "CERTIFICATE_VERIFY_FAILED" in message and "--ca-bundle" in message
        assert name in cli.json("acr", "list", "--ca-bundle", str(server.ca), "--query", "[].name")

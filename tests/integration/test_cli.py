"""The `moorage` command line against the real server, run as a user runs it: a subprocess,
JSON on stdout, one `ERROR:` line on stderr.

The registry commands of the seed run as written with `az` replaced by `moorage`, and the
blocks of docs/cli.md marked `<!-- tested -->` run as written.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from moorage.cli.output import apply_query
from tests.support.server import Server, free_port, running_server

DOCS = Path(__file__).parents[2] / "docs" / "cli.md"
TESTED = re.compile(r"<!-- tested -->\s*```sh\n(.*?)```", re.S)


@dataclass
class Cli:
    """`python -m moorage ...` with its own config, home and runtime dirs."""

    server: Server
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    """Variables set on top of the CLI's own (PATH, DOCKER_HOST, ...)."""

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "MOORAGE_CA_BUNDLE")
        }
        bin_dir = Path(sys.executable).parent
        return {
            **env,
            "MOORAGE_ENDPOINT": self.server.url,
            "MOORAGE_DATA_DIR": str(self.server.data_dir),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.home / "run"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            **self.extra_env,
        }

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "moorage", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "moorage", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.returncode == 0, f"moorage {' '.join(args)}\n{result.stderr}"
        return json.loads(result.stdout)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"moorage {' '.join(args)}\n{result.stderr}"
        return result.stdout

    def error(self, *args: str, exit_code: int = 1) -> str:
        """Run a command that must fail with one `ERROR:` line; returns that line's message."""
        result = self.run(*args)
        assert result.returncode == exit_code, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr
        return lines[0].removeprefix("ERROR: ")

    def bash(self, script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=self.env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def new_name(prefix: str = "cli") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    (tmp_path / "run").mkdir()
    return Cli(shared_server, tmp_path)


@pytest.fixture(scope="module")
def registry_state(
    shared_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One Premium registry the update cases change one setting at a time, and its JSON as
    the last command printed it."""
    name = new_name("upd")
    home = tmp_path_factory.mktemp("home")
    return Cli(shared_server, home).json("acr", "create", "-n", name, "--sku", "Premium")


@pytest.fixture
def updated(registry_state: dict[str, Any]) -> str:
    return str(registry_state["name"])


# -- registries ----------------------------------------------------------------------------


def test_create_show_list_delete(cli: Cli) -> None:
    name = new_name()
    created = cli.json("acr", "create", "--name", name, "--sku", "Basic")
    assert created["name"] == name
    assert created["loginServer"] == f"{name}.localhost:{cli.server.port}"
    assert created["resourceGroup"] == "moorage"
    assert created["location"] == "local"
    assert created["sku"] == {"name": "Basic", "tier": "Basic"}
    assert created["adminUserEnabled"] is False
    assert created["networkRuleSet"] == {"defaultAction": "Allow", "ipRules": []}
    assert "properties" not in created and "etag" not in created
    assert cli.json("acr", "show", "-n", name.upper())["id"] == created["id"]
    assert cli.json("acr", "show", "-n", name, "-g", "moorage")["id"] == created["id"]
    listed = cli.json("acr", "list")
    assert created["id"] in [r["id"] for r in listed]
    assert name in cli.json("acr", "list", "-g", "moorage", "--query", "[].name")
    table = cli.ok("acr", "list", "-o", "table").splitlines()
    assert table[0].split("  ")[0] == "NAME" and "LOGIN SERVER" in table[0]
    assert any(line.startswith(name + " ") and "Basic" in line for line in table[2:])
    assert "Use --yes" in cli.error("acr", "delete", "-n", name)  # no terminal to ask on
    assert cli.ok("acr", "delete", "-n", name, "--yes") == ""
    assert "could not be found" in cli.error("acr", "show", "-n", name)


def test_create_with_settings(cli: Cli) -> None:
    name = new_name()
    created = cli.json(
        "acr", "create", "-n", name, "--sku", "premium", "--location", "west",
        "--admin-enabled", "true", "--default-action", "Deny",
        "--public-network-enabled", "false", "--tags", "team=a", "env=dev",
    )  # fmt: skip
    assert created["sku"]["name"] == "Premium"
    assert created["location"] == "west"
    assert created["adminUserEnabled"] is True
    assert created["networkRuleSet"]["defaultAction"] == "Deny"
    assert created["publicNetworkAccess"] == "Disabled"
    assert created["tags"] == {"team": "a", "env": "dev"}


def test_create_never_replaces_an_existing_registry(cli: Cli) -> None:
    name = new_name()
    cli.json("acr", "create", "-n", name, "--sku", "Premium", "--admin-enabled", "true")
    assert "already in use" in cli.error("acr", "create", "-n", name, "--sku", "Basic")
    shown = cli.json("acr", "show", "-n", name)
    assert (shown["sku"]["name"], shown["adminUserEnabled"]) == ("Premium", True)


@pytest.mark.parametrize(
    ("flags", "query", "expected"),
    [
        (["--sku", "Standard"], "sku.name", "Standard"),
        (["--sku", "Premium"], "sku.name", "Premium"),
        (["--default-action", "Deny"], "networkRuleSet.defaultAction", "Deny"),
        (["--default-action", "Allow"], "networkRuleSet.defaultAction", "Allow"),
        (["--public-network-enabled", "false"], "publicNetworkAccess", "Disabled"),
        (["--public-network-enabled", "true"], "publicNetworkAccess", "Enabled"),
        (["--allow-trusted-services", "false"], "networkRuleBypassOptions", "None"),
        (["--allow-trusted-services", "true"], "networkRuleBypassOptions", "AzureServices"),
        (["--admin-enabled", "true"], "adminUserEnabled", True),
        (["--admin-enabled", "false"], "adminUserEnabled", False),
        (["--admin-enabled"], "adminUserEnabled", True),
        (["--anonymous-pull-enabled", "true"], "anonymousPullEnabled", True),
        (["--data-endpoint-enabled", "true"], "dataEndpointEnabled", True),
        (["--tags", "team=a", "env=dev"], "tags", {"team": "a", "env": "dev"}),
        (["--tags", ""], "tags", {}),
    ],
)
def test_update_changes_only_the_setting_given(
    cli: Cli, registry_state: dict[str, Any], flags: list[str], query: str, expected: Any
) -> None:
    before = dict(registry_state)
    after = cli.json("acr", "update", "-n", before["name"], *flags)
    assert apply_query(after, query) == expected
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {query.split(".")[0]}, changed
    registry_state.update(after)


def test_update_is_kept(cli: Cli, registry_state: dict[str, Any]) -> None:
    assert cli.json("acr", "show", "-n", registry_state["name"]) == registry_state


def test_seed_commands_as_written(cli: Cli) -> None:
    """The seed's commands, `az` replaced by `moorage`; names are case-insensitive."""
    if "mycontainerregistry" in [n.lower() for n in cli.json("acr", "list", "--query", "[].name")]:
        cli.ok("acr", "delete", "-n", "myContainerRegistry", "--yes")
    cli.json("acr", "create", "--name", "myContainerRegistry", "--sku", "Premium")
    steps: list[tuple[str, str, Any]] = [
        (
            "moorage acr update --name myContainerRegistry --default-action Deny",
            "networkRuleSet",
            {"defaultAction": "Deny", "ipRules": []},
        ),
        (
            "moorage acr network-rule add \\\n--name mycontainerregistry \\\n"
            "--ip-address 203.0.113.7",
            "networkRuleSet",
            {
                "defaultAction": "Deny",
                "ipRules": [{"action": "Allow", "ipAddressOrRange": "203.0.113.7"}],
            },
        ),
        (
            "moorage acr update --name myContainerRegistry --public-network-enabled false",
            "[publicNetworkAccess, length(networkRuleSet.ipRules)]",
            ["Disabled", 1],
        ),
        (
            "moorage acr update --name myContainerRegistry --public-network-enabled true",
            "[publicNetworkAccess, networkRuleSet.defaultAction, length(networkRuleSet.ipRules)]",
            ["Enabled", "Deny", 1],
        ),
    ]
    for command, query, expected in steps:
        result = cli.bash(command)
        assert result.returncode == 0, command + "\n" + result.stderr
        assert apply_query(json.loads(result.stdout), query) == expected, command


def test_show_endpoints(cli: Cli, updated: str) -> None:
    assert cli.json("acr", "show-endpoints", "-n", updated) == {
        "loginServer": f"{updated.lower()}.localhost:{cli.server.port}",
        "dataEndpoints": [],
        "privateEndpoints": [],
    }


# -- network rules -------------------------------------------------------------------------


def test_network_rules(cli: Cli) -> None:
    name = new_name()
    cli.json("acr", "create", "-n", name, "--sku", "Premium")
    added = cli.json("acr", "network-rule", "add", "-n", name, "--ip-address", "198.51.100.0/24")
    assert added["name"] == name
    assert added["networkRuleSet"]["ipRules"] == [
        {"action": "Allow", "ipAddressOrRange": "198.51.100.0/24"}
    ]
    again = cli.json("acr", "network-rule", "add", "-n", name, "--ip-address", "198.51.100.0/24")
    assert again["networkRuleSet"] == added["networkRuleSet"]
    cli.json("acr", "network-rule", "add", "-n", name, "--ip-address", "2001:db8::/32")
    assert cli.json("acr", "network-rule", "list", "-n", name) == {
        "ipRules": [
            {"action": "Allow", "ipAddressOrRange": "198.51.100.0/24"},
            {"action": "Allow", "ipAddressOrRange": "2001:db8::/32"},
        ],
        "virtualNetworkRules": [],
    }
    removed = cli.json("acr", "network-rule", "remove", "-n", name, "--ip-address", "2001:db8::/32")
    assert [r["ipAddressOrRange"] for r in removed["networkRuleSet"]["ipRules"]] == [
        "198.51.100.0/24"
    ]
    message = cli.error("acr", "network-rule", "remove", "-n", name, "--ip-address", "192.0.2.1")
    assert "192.0.2.1" in message
    for bad, says in [
        ("1.2.3.300", "IP address or CIDR range"),
        ("not-an-ip", "IP address or CIDR range"),
        ("10.0.0.1/24", "host bits"),
    ]:
        message = cli.error("acr", "network-rule", "add", "-n", name, "--ip-address", bad)
        assert f"'{bad}'" in message and says in message
    cli.json("acr", "update", "-n", name, "--default-action", "Deny")
    assert cli.json("acr", "network-rule", "list", "-n", name, "--query", "length(ipRules)") == 1


def test_concurrent_adds_both_land(cli: Cli) -> None:
    name = new_name()
    cli.json("acr", "create", "-n", name, "--sku", "Premium")
    addresses = [f"192.0.2.{i}" for i in range(1, 5)]
    processes = [
        cli.start("acr", "network-rule", "add", "-n", name, "--ip-address", ip) for ip in addresses
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    listed = cli.json(
        "acr", "network-rule", "list", "-n", name, "--query", "ipRules[].ipAddressOrRange"
    )
    assert sorted(listed) == addresses


# -- admin credentials ---------------------------------------------------------------------


def test_credential_show_and_renew(cli: Cli) -> None:
    name = new_name()
    cli.json("acr", "create", "-n", name, "--sku", "Basic")
    assert "admin user" in cli.error("acr", "credential", "show", "-n", name)
    cli.json("acr", "update", "-n", name, "--admin-enabled", "true")
    shown = cli.json("acr", "credential", "show", "-n", name)
    assert shown["username"] == name
    assert [p["name"] for p in shown["passwords"]] == ["password", "password2"]
    renewed = cli.json("acr", "credential", "renew", "-n", name, "--password-name", "password2")
    assert renewed["passwords"][0] == shown["passwords"][0]
    assert renewed["passwords"][1]["value"] != shown["passwords"][1]["value"]
    assert cli.json("acr", "credential", "show", "-n", name) == renewed


# -- input, errors and output options ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["acr", "create", "-n", "bad-name", "--sku", "Basic"], 1, "invalid registry name"),
        (["acr", "create", "-n", "abc", "--sku", "Basic"], 1, "5 to 50"),
        (["acr", "show", "-n", "nosuchregistry1"], 1, "could not be found"),
        (["acr", "show", "-n", "x", "--query", "[name"], 2, "--query"),
        (["acr", "list", "--endpoint", "ftp://nowhere"], 2, "not an http"),
    ],
)
def test_bad_input_is_one_error_line(cli: Cli, args: list[str], exit_code: int, says: str) -> None:
    assert says in cli.error(*args, exit_code=exit_code)


@pytest.mark.parametrize(
    "args",
    [
        ["acr", "create", "-n", "abcdef", "--sku", "Gold"],
        ["acr", "show"],
        ["acr", "update", "-n", "abcdef", "--admin-enabled", "maybe"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    assert cli.run(*args).returncode == 2


def test_unreachable_server_says_what_to_do(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    message = cli.error("acr", "list", "--endpoint", url)
    assert message.startswith(f"cannot reach moorage at {url}: ")
    assert "moorage serve" in message and "MOORAGE_ENDPOINT" in message


def test_query_and_tsv(cli: Cli, updated: str) -> None:
    login_server = f"{updated.lower()}.localhost:{cli.server.port}"
    assert cli.ok("acr", "show", "-n", updated, "--query", "loginServer", "-o", "tsv") == (
        login_server + "\n"
    )
    row = cli.ok("acr", "show", "-n", updated, "--query", "{s: sku.name, n: name}", "-o", "tsv")
    assert row.rstrip("\n").split("\t")[1] == updated
    names = cli.ok("acr", "list", "--query", "[].name", "-o", "tsv").splitlines()
    assert updated in names
    assert cli.ok("acr", "show", "-n", updated, "-o", "none") == ""
    assert json.loads(cli.ok("acr", "show", "-n", updated, "-o", "jsonc"))["name"] == updated


# -- docs ----------------------------------------------------------------------------------


def test_docs_blocks_run_as_written(tmp_path: Path) -> None:
    blocks = TESTED.findall(DOCS.read_text())
    assert len(blocks) >= 8
    with running_server(tmp_path / "data") as server:
        cli = Cli(server, tmp_path)
        (tmp_path / "run").mkdir()
        for block in blocks:
            result = cli.bash(block)
            assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"

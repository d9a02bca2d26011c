"""Virtual networks, subnets and registries' virtual-network rules against the real server:
the management API (Microsoft.Network/virtualNetworks[/subnets], the registry's
networkRuleSet.virtualNetworkRules and its add/removeVirtualNetworkRule actions), the gate
admitting a subnet's addresses, and the `moorage network vnet` / `acr network-rule` commands.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.management import API, Management, client_from
from tests.support.registry_http import owner_authorization
from tests.support.server import Server

NET = {"api-version": "2024-05-01"}


@pytest.fixture(scope="module")
def mgmt(shared_server: Server) -> Iterator[Management]:
    m = Management(shared_server)
    yield m
    m.close()


def new_name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def group_path(mgmt: Management, group: str = "moorage") -> str:
    return f"/subscriptions/{mgmt.subscription}/resourceGroups/{group}"


def vnet_path(mgmt: Management, vnet: str) -> str:
    return f"{group_path(mgmt)}/providers/Microsoft.Network/virtualNetworks/{vnet}"


def subnet_id(mgmt: Management, vnet: str, subnet: str) -> str:
    return f"{vnet_path(mgmt, vnet)}/subnets/{subnet}"


def put_vnet(
    mgmt: Management, vnet: str, prefixes: list[str], subnets: dict[str, str] | None = None
) -> httpx.Response:
    properties: dict[str, Any] = {"addressSpace": {"addressPrefixes": prefixes}}
    if subnets is not None:
        properties["subnets"] = [
            {"name": name, "properties": {"addressPrefix": prefix}}
            for name, prefix in subnets.items()
        ]
    return mgmt.http.put(
        vnet_path(mgmt, vnet), params=NET, json={"location": "local", "properties": properties}
    )


def put_subnet(mgmt: Management, vnet: str, subnet: str, prefix: str) -> httpx.Response:
    return mgmt.http.put(
        f"{vnet_path(mgmt, vnet)}/subnets/{subnet}",
        params=NET,
        json={"properties": {"addressPrefix": prefix}},
    )


def error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] == code, body
    return str(body["message"])


def vnet_rules(registry: dict[str, Any]) -> list[dict[str, Any]]:
    return list(registry["properties"]["networkRuleSet"].get("virtualNetworkRules", []))


def action(mgmt: Management, registry: str, name: str, subnet: str) -> httpx.Response:
    return mgmt.http.post(f"{mgmt.path(registry)}/{name}", params=API, json={"id": subnet})


# -- virtual networks and subnets ------------------------------------------------------------


def test_virtual_network_lifecycle(mgmt: Management) -> None:
    vnet = new_name("life")
    r = put_vnet(mgmt, vnet, ["10.0.0.0/16"], {"web": "10.0.1.0/24"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == vnet_path(mgmt, vnet)
    assert created["type"] == "Microsoft.Network/virtualNetworks"
    assert created["location"] == "local"
    assert created["etag"].startswith('W/"')
    props = created["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert props["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}
    [web] = props["subnets"]
    assert web["id"] == subnet_id(mgmt, vnet, "web")
    assert web["type"] == "Microsoft.Network/virtualNetworks/subnets"
    assert web["properties"]["addressPrefix"] == "10.0.1.0/24"
    assert web["properties"]["serviceEndpoints"][0]["service"] == "Microsoft.ContainerRegistry"

    # A PUT without subnets keeps them (and says 200); the etag follows the content.
    again = put_vnet(mgmt, vnet, ["10.0.0.0/16", "10.1.0.0/16"])
    assert again.status_code == 200, again.text
    assert [s["name"] for s in again.json()["properties"]["subnets"]] == ["web"]
    assert again.json()["etag"] != created["etag"]

    r = put_subnet(mgmt, vnet, "db", "10.1.2.0/24")
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["addressPrefix"] == "10.1.2.0/24"
    assert put_subnet(mgmt, vnet, "db", "10.1.3.0/24").status_code == 200
    listed = mgmt.http.get(f"{vnet_path(mgmt, vnet)}/subnets", params=NET).json()["value"]
    assert [(s["name"], s["properties"]["addressPrefix"]) for s in listed] == [
        ("db", "10.1.3.0/24"),
        ("web", "10.0.1.0/24"),
    ]
    got = mgmt.http.get(f"{vnet_path(mgmt, vnet.upper())}/SUBNETS/DB", params=NET)
    assert got.status_code == 200 and got.json()["name"] == "db"
    in_group = mgmt.http.get(
        f"{group_path(mgmt)}/providers/Microsoft.Network/virtualNetworks", params=NET
    )
    assert vnet in [v["name"] for v in in_group.json()["value"]]
    in_subscription = mgmt.http.get(
        f"/subscriptions/{mgmt.subscription}/providers/Microsoft.Network/virtualNetworks",
        params=NET,
    )
    assert vnet in [v["name"] for v in in_subscription.json()["value"]]

    subnet = f"{vnet_path(mgmt, vnet)}/subnets/db"
    assert mgmt.http.delete(subnet, params=NET).status_code == 200
    assert mgmt.http.delete(subnet, params=NET).status_code == 204
    error(mgmt.http.get(subnet, params=NET), 404, "ResourceNotFound")
    assert mgmt.http.delete(vnet_path(mgmt, vnet), params=NET).status_code == 200
    assert mgmt.http.delete(vnet_path(mgmt, vnet), params=NET).status_code == 204
    message = error(mgmt.http.get(vnet_path(mgmt, vnet), params=NET), 404, "ResourceNotFound")
    assert vnet in message
    error(put_subnet(mgmt, vnet, "web", "10.0.1.0/24"), 404, "ResourceNotFound")
    r = mgmt.http.put(
        f"{group_path(mgmt, 'nosuchgroup')}/providers/Microsoft.Network/virtualNetworks/v1",
        params=NET,
        json={"location": "local", "properties": {"addressSpace": {"addressPrefixes": ["10/8"]}}},
    )
    error(r, 404, "ResourceGroupNotFound")


@pytest.mark.parametrize(
    ("prefixes", "subnets", "status", "code", "says"),
    [
        (
            ["10.0.0.0/16", "10.0.128.0/17"],
            None,
            400,
            "VnetAddressSpacesOverlap",
            "'10.0.128.0/17'",
        ),
        (["10.0.0.5/16"], None, 400, "InvalidParameter", "did you mean '10.0.0.0/16'"),
        (["10.0.0.5"], None, 400, "InvalidParameter", "is not a CIDR range"),
        (
            ["10.0.0.0/16"],
            {"a": "10.1.0.0/24"},
            400,
            "NetcfgSubnetRangeOutsideVnet",
            "(10.0.0.0/16)",
        ),
        (
            ["10.0.0.0/16"],
            {"a": "10.0.0.0/24", "b": "10.0.0.0/25"},
            400,
            "NetcfgSubnetRangesOverlap",
            "'10.0.0.0/25' overlaps subnet 'a' ('10.0.0.0/24')",
        ),
        (["10.0.0.0/16"], {"bad name": "10.0.0.0/24"}, 400, "InvalidResourceName", "'bad name'"),
        ([], None, 400, "InvalidRequestContent", "addressPrefixes"),
    ],
)
def test_bad_networks_are_refused_naming_the_values(
    mgmt: Management,
    prefixes: list[str],
    subnets: dict[str, str] | None,
    status: int,
    code: str,
    says: str,
) -> None:
    vnet = new_name("bad")
    assert says in error(put_vnet(mgmt, vnet, prefixes, subnets), status, code)
    error(mgmt.http.get(vnet_path(mgmt, vnet), params=NET), 404, "ResourceNotFound")


def test_bad_subnets_are_refused(mgmt: Management) -> None:
    vnet = new_name("sub")
    assert put_vnet(mgmt, vnet, ["10.0.0.0/16"], {"a": "10.0.1.0/24"}).status_code == 201
    message = error(put_subnet(mgmt, vnet, "b", "10.0.1.64/26"), 400, "NetcfgSubnetRangesOverlap")
    assert "'10.0.1.64/26' overlaps subnet 'a'" in message
    message = error(
        put_subnet(mgmt, vnet, "b", "192.168.0.0/24"), 400, "NetcfgSubnetRangeOutsideVnet"
    )
    assert "'192.168.0.0/24'" in message and vnet in message
    # The address space cannot shrink away from a subnet.
    message = error(put_vnet(mgmt, vnet, ["10.1.0.0/16"]), 400, "NetcfgSubnetRangeOutsideVnet")
    assert "subnet 'a'" in message
    r = mgmt.http.put(
        f"{vnet_path(mgmt, vnet)}/subnets/b",
        params=NET,
        json={
            "properties": {
                "addressPrefix": "10.0.2.0/24",
                "serviceEndpoints": [{"service": "Microsoft.Storage"}],
            }
        },
    )
    assert "'Microsoft.Storage' is not offered" in error(r, 400, "InvalidRequestContent")
    r = mgmt.http.put(
        f"{vnet_path(mgmt, vnet)}/subnets/b",
        params=NET,
        json={"properties": {"addressPrefixes": ["10.0.2.0/24", "10.0.3.0/24"]}},
    )
    assert "exactly one address prefix" in error(r, 400, "InvalidRequestContent")
    r = mgmt.http.put(
        f"{vnet_path(mgmt, vnet)}/subnets/b",
        params=NET,
        json={
            "properties": {
                "addressPrefixes": ["10.0.2.0/24"],
                "serviceEndpoints": [{"service": "microsoft.containerregistry"}],
            }
        },
    )
    assert r.status_code == 201, r.text
    r = mgmt.http.get(vnet_path(mgmt, vnet))
    error(r, 400, "MissingApiVersionParameter")


# -- registries' virtual-network rules ------------------------------------------------------------


@pytest.fixture
def subnets(mgmt: Management) -> tuple[str, str, str]:
    """A new virtual network with subnets a and b: (vnet, id of a, id of b)."""
    vnet = new_name("rules")
    r = put_vnet(mgmt, vnet, ["10.0.0.0/16"], {"a": "10.0.1.0/24", "b": "10.0.2.0/24"})
    assert r.status_code == 201, r.text
    return vnet, subnet_id(mgmt, vnet, "a"), subnet_id(mgmt, vnet, "b")


def test_rules_by_put_patch_and_actions(mgmt: Management, subnets: tuple[str, str, str]) -> None:
    _, a, b = subnets
    name = new_name("vnreg")
    created = mgmt.create(name, networkRuleSet={"virtualNetworkRules": [{"id": a}]})
    assert vnet_rules(created) == [{"action": "Allow", "id": a}]

    # PATCHes that leave virtualNetworkRules out keep them: az sends defaultAction alone.
    kept = mgmt.update(name, networkRuleSet={"defaultAction": "Deny"})
    assert vnet_rules(kept) == [{"action": "Allow", "id": a}]
    kept = mgmt.update(name, networkRuleSet={"ipRules": [{"value": "192.0.2.1"}]})
    assert vnet_rules(kept) == [{"action": "Allow", "id": a}]
    assert kept["properties"]["networkRuleSet"]["ipRules"] == [
        {"action": "Allow", "value": "192.0.2.1"}
    ]

    # A rule set naming them replaces them (and keeps the IP rules it does not mention).
    replaced = mgmt.update(name, networkRuleSet={"virtualNetworkRules": [{"id": b}, {"id": a}]})
    assert [r["id"] for r in vnet_rules(replaced)] == [b, a]
    assert len(replaced["properties"]["networkRuleSet"]["ipRules"]) == 1
    r = mgmt.http.put(
        mgmt.path(name),
        params=API,
        json={
            "location": "local",
            "sku": {"name": "Premium"},
            "properties": {"networkRuleSet": {"virtualNetworkRules": [{"id": b.upper()}]}},
        },
    )
    assert r.status_code == 200, r.text
    assert vnet_rules(r.json()) == [{"action": "Allow", "id": b}]  # the id as stored

    # One rule at a time, in one transaction.
    r = action(mgmt, name, "addVirtualNetworkRule", a)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in vnet_rules(r.json())] == [b, a]
    etag = r.headers["ETag"]
    again = action(mgmt, name, "addVirtualNetworkRule", a)
    assert again.status_code == 200 and again.headers["ETag"] == etag  # already there: no-op
    r = action(mgmt, name, "removeVirtualNetworkRule", b)
    assert r.status_code == 200 and [x["id"] for x in vnet_rules(r.json())] == [a]
    message = error(
        action(mgmt, name, "removeVirtualNetworkRule", b), 404, "VirtualNetworkRuleNotFound"
    )
    assert b in message and name in message

    cleared = mgmt.update(name, networkRuleSet={"virtualNetworkRules": []})
    assert "virtualNetworkRules" not in cleared["properties"]["networkRuleSet"]


def test_premium_is_required(mgmt: Management, subnets: tuple[str, str, str]) -> None:
    _, a, _ = subnets
    basic = new_name("vnbasic")
    mgmt.create(basic, sku="Basic")
    rules = {"networkRuleSet": {"virtualNetworkRules": [{"id": a}]}}
    message = error(mgmt.patch(basic, {"properties": rules}), 400, "PremiumSkuRequired")
    assert "virtual-network rules need the Premium SKU" in message
    assert f"moorage acr update --name {basic} --sku Premium" in message
    error(action(mgmt, basic, "addVirtualNetworkRule", a), 400, "PremiumSkuRequired")
    r = mgmt.http.put(
        mgmt.path(new_name("vnbasic")),
        params=API,
        json={"location": "local", "sku": {"name": "Standard"}, "properties": rules},
    )
    error(r, 400, "PremiumSkuRequired")
    # Upgrading and adding rules in one PATCH works.
    r = mgmt.patch(basic, {"sku": {"name": "Premium"}, "properties": rules})
    assert r.status_code == 200, r.text
    assert vnet_rules(r.json()) == [{"action": "Allow", "id": a}]
    # Moving back down with the rules in place is refused, and nothing changes.
    etag = r.json()["etag"]
    message = error(mgmt.patch(basic, {"sku": {"name": "Standard"}}), 400, "PremiumSkuRequired")
    assert "remove them before moving it to Standard" in message
    assert mgmt.get(basic)["etag"] == etag
    r = mgmt.patch(
        basic,
        {
            "sku": {"name": "Standard"},
            "properties": {"networkRuleSet": {"virtualNetworkRules": []}},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["sku"]["name"] == "Standard"


def test_a_missing_subnet_is_named(mgmt: Management, subnets: tuple[str, str, str]) -> None:
    vnet, a, _ = subnets
    name = new_name("vnmiss")
    mgmt.create(name)
    missing = subnet_id(mgmt, vnet, "nosuch")
    r = mgmt.patch(
        name,
        {"properties": {"networkRuleSet": {"virtualNetworkRules": [{"id": a}, {"id": missing}]}}},
    )
    message = error(r, 400, "InvalidResourceReference")
    assert f"'{missing}' could not be found" in message
    assert vnet_rules(mgmt.get(name)) == []  # nothing was applied
    message = error(
        action(mgmt, name, "addVirtualNetworkRule", missing), 400, "InvalidResourceReference"
    )
    assert missing in message
    message = error(
        action(mgmt, name, "addVirtualNetworkRule", "/not/a/subnet"), 400, "InvalidResourceName"
    )
    assert "'/not/a/subnet' is not a subnet id" in message


def test_a_subnet_in_use_cannot_be_deleted(mgmt: Management, subnets: tuple[str, str, str]) -> None:
    vnet, a, _ = subnets
    name = new_name("vnuse")
    mgmt.create(name, networkRuleSet={"virtualNetworkRules": [{"id": a}]})
    for r in (
        mgmt.http.delete(a, params=NET),
        mgmt.http.delete(vnet_path(mgmt, vnet), params=NET),
        put_vnet(mgmt, vnet, ["10.0.0.0/16"], {"b": "10.0.2.0/24"}),
    ):
        message = error(r, 409, "InUseSubnetCannotBeDeleted")
        assert f"subnet 'a' by registry '{name}'" in message
        assert f"moorage acr network-rule remove --name {name}" in message
    assert mgmt.http.get(a, params=NET).status_code == 200
    # Deleting the registry drops its rules; then the subnet can go.
    assert mgmt.http.delete(mgmt.path(name), params=API).status_code == 200
    assert mgmt.http.delete(a, params=NET).status_code == 200


def test_the_registry_etag_follows_its_subnets_prefix(
    mgmt: Management, subnets: tuple[str, str, str]
) -> None:
    vnet, a, _ = subnets
    name = new_name("vnetag")
    etag = mgmt.create(name, networkRuleSet={"virtualNetworkRules": [{"id": a}]})["etag"]
    assert put_subnet(mgmt, vnet, "b", "10.0.3.0/24").status_code == 200  # not its subnet
    assert mgmt.get(name)["etag"] == etag
    assert put_subnet(mgmt, vnet, "a", "10.0.1.0/24").status_code == 200  # unchanged
    assert mgmt.get(name)["etag"] == etag
    assert put_subnet(mgmt, vnet, "a", "10.0.4.0/24").status_code == 200
    changed = mgmt.get(name)["etag"]
    assert changed != etag
    r = put_vnet(mgmt, vnet, ["10.0.0.0/16"], {"a": "10.0.5.0/24", "b": "10.0.3.0/24"})
    assert r.status_code == 200, r.text
    assert mgmt.get(name)["etag"] != changed


def test_the_openapi_document_has_the_network_paths(mgmt: Management) -> None:
    paths = mgmt.http.get("/openapi.json").json()["paths"]
    for path in (
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
        "Microsoft.ContainerRegistry/registries/{registryName}/addVirtualNetworkRule",
    ):
        assert path in paths


# -- the gate --------------------------------------------------------------------------------------


def v2(server: Server, registry: str, source: str) -> httpx.Response:
    headers = {
        "Host": f"{registry}.localhost:{server.port}",
        "Authorization": owner_authorization(server),
    }
    with client_from(source) as c:
        return c.get(f"{server.url}/v2/", headers=headers)


def refused(r: httpx.Response, client: str) -> str:
    assert r.status_code == 403, r.text  # a refusal is a 403 on every route
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED" and client in error["message"]
    return str(error["message"])


def test_the_gate_admits_the_subnet_and_follows_its_prefix(
    shared_server: Server, mgmt: Management
) -> None:
    vnet = new_name("gate")
    r = put_vnet(mgmt, vnet, ["127.0.0.0/16"], {"ci": "127.0.5.0/24"})
    assert r.status_code == 201, r.text
    name = new_name("vngate")
    mgmt.create(
        name,
        networkRuleSet={
            "defaultAction": "Deny",
            "virtualNetworkRules": [{"id": subnet_id(mgmt, vnet, "ci")}],
        },
    )
    assert v2(shared_server, name, "127.0.5.2").status_code == 200
    refused(v2(shared_server, name, "127.0.6.2"), "127.0.6.2")
    # The subnet moves: the very next request is judged by its new prefix.
    assert put_subnet(mgmt, vnet, "ci", "127.0.6.0/24").status_code == 200
    assert v2(shared_server, name, "127.0.6.2").status_code == 200
    refused(v2(shared_server, name, "127.0.5.2"), "127.0.5.2")
    # Disabling public access refuses the subnet's traffic too.
    mgmt.update(name, publicNetworkAccess="Disabled")
    assert "public network access is disabled" in refused(
        v2(shared_server, name, "127.0.6.2"), "127.0.6.2"
    )
    mgmt.update(name, publicNetworkAccess="Enabled")
    assert v2(shared_server, name, "127.0.6.2").status_code == 200
    r = action(mgmt, name, "removeVirtualNetworkRule", subnet_id(mgmt, vnet, "ci"))
    assert r.status_code == 200, r.text
    refused(v2(shared_server, name, "127.0.6.2"), "127.0.6.2")


# -- the command line ------------------------------------------------------------------------------


class Cli:
    def __init__(self, server: Server, home: Path) -> None:
        (home / "run").mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "MOORAGE_CA_BUNDLE"},
            "MOORAGE_ENDPOINT": server.url,
            "MOORAGE_DATA_DIR": str(server.data_dir),
            "XDG_CONFIG_HOME": str(home / "config"),
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home / "run"),
        }

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
        return json.loads(result.stdout) if result.stdout.strip() else None

    def error(self, *args: str, exit_code: int = 1) -> str:
        result = self.run(*args)
        assert result.returncode == exit_code, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines and lines[-1].startswith(("ERROR: ", "Error: ")), result.stderr
        return lines[-1].split(": ", 1)[1]


@pytest.fixture
def cli(shared_server: Server, tmp_path: Path) -> Cli:
    return Cli(shared_server, tmp_path)


def test_cli_virtual_networks_and_subnets(cli: Cli, mgmt: Management) -> None:
    vnet = new_name("cli")
    created = cli.json(
        "network", "vnet", "create", "--name", vnet, "--resource-group", "moorage",
        "--address-prefixes", "10.0.0.0/16", "10.8.0.0/16",
        "--subnet-name", "web", "--subnet-prefixes", "10.0.1.0/24",
    )  # fmt: skip
    network = created["newVNet"]
    assert network["name"] == vnet and network["resourceGroup"] == "moorage"
    assert network["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16", "10.8.0.0/16"]}
    assert network["subnets"][0]["addressPrefix"] == "10.0.1.0/24"
    assert network["subnets"][0]["resourceGroup"] == "moorage"

    made = cli.json(
        "network", "vnet", "subnet", "create", "--vnet-name", vnet, "-n", "db",
        "-g", "moorage", "--address-prefixes", "10.8.1.0/24",
        "--service-endpoints", "Microsoft.ContainerRegistry",
    )  # fmt: skip
    assert made["addressPrefix"] == "10.8.1.0/24" and made["name"] == "db"
    assert made["serviceEndpoints"][0]["service"] == "Microsoft.ContainerRegistry"
    listed = cli.json("network", "vnet", "subnet", "list", "--vnet-name", vnet)
    assert [s["name"] for s in listed] == ["db", "web"]
    updated = cli.json(
        "network", "vnet", "subnet", "update", "--vnet-name", vnet, "-n", "db",
        "--address-prefixes", "10.8.2.0/24",
    )  # fmt: skip
    assert updated["addressPrefix"] == "10.8.2.0/24"
    shown = cli.json("network", "vnet", "subnet", "show", "--vnet-name", vnet, "-n", "db")
    assert shown["id"] == subnet_id(mgmt, vnet, "db")
    assert vnet in [v["name"] for v in cli.json("network", "vnet", "list", "-g", "moorage")]
    assert vnet in [v["name"] for v in cli.json("network", "vnet", "list")]
    assert cli.json("network", "vnet", "show", "-n", vnet)["subnets"][0]["name"] == "db"

    message = cli.error(
        "network", "vnet", "subnet", "create", "--vnet-name", vnet, "-n", "x",
        "--address-prefixes", "10.8.2.128/25",
    )  # fmt: skip
    assert "(NetcfgSubnetRangesOverlap)" in message and "'10.8.2.128/25'" in message
    assert cli.json("network", "vnet", "subnet", "delete", "--vnet-name", vnet, "-n", "db") is None
    assert cli.json("network", "vnet", "delete", "-n", vnet) is None
    assert "could not be found" in cli.error("network", "vnet", "show", "-n", vnet)


def test_cli_network_rules_with_subnets(cli: Cli, mgmt: Management) -> None:
    vnet = new_name("clirule")
    cli.json(
        "network", "vnet", "create", "-n", vnet, "--address-prefixes", "10.0.0.0/16",
        "--subnet-name", "ci", "--subnet-prefixes", "10.0.1.0/24",
    )  # fmt: skip
    cli.json("network", "vnet", "subnet", "create", "--vnet-name", vnet, "-n", "ops",
             "--address-prefixes", "10.0.2.0/24")  # fmt: skip
    name = new_name("clireg")
    cli.json("acr", "create", "-n", name, "--sku", "Premium")
    cli.json("acr", "network-rule", "add", "-n", name, "--ip-address", "198.51.100.0/24")
    added = cli.json(
        "acr", "network-rule", "add", "-n", name, "--vnet-name", vnet, "--subnet", "ci"
    )
    ci, ops = subnet_id(mgmt, vnet, "ci"), subnet_id(mgmt, vnet, "ops")
    assert added["networkRuleSet"]["virtualNetworkRules"] == [{"action": "Allow", "id": ci}]
    cli.json("acr", "network-rule", "add", "-n", name, "--subnet", ops)  # by id
    assert cli.json("acr", "network-rule", "list", "-n", name) == {
        "ipRules": [{"action": "Allow", "ipAddressOrRange": "198.51.100.0/24"}],
        "virtualNetworkRules": [
            {"action": "Allow", "virtualNetworkResourceId": ci},
            {"action": "Allow", "virtualNetworkResourceId": ops},
        ],
    }
    message = cli.error("network", "vnet", "subnet", "delete", "--vnet-name", vnet, "-n", "ci")
    assert "(InUseSubnetCannotBeDeleted)" in message and f"registry '{name}'" in message
    removed = cli.json(
        "acr", "network-rule", "remove", "-n", name, "--vnet-name", vnet, "--subnet", "ci"
    )
    assert removed["networkRuleSet"]["virtualNetworkRules"] == [{"action": "Allow", "id": ops}]
    message = cli.error(
        "acr", "network-rule", "remove", "-n", name, "--vnet-name", vnet, "--subnet", "ci"
    )
    assert "(VirtualNetworkRuleNotFound)" in message
    message = cli.error(
        "acr", "network-rule", "add", "-n", name, "--vnet-name", vnet, "--subnet", "nosuch"
    )
    assert subnet_id(mgmt, vnet, "nosuch") in message
    message = cli.error("acr", "network-rule", "add", "-n", name, "--subnet", "ci", exit_code=2)
    assert "--vnet-name" in message
    message = cli.error(
        "acr", "network-rule", "add", "-n", name, "--subnet", "ci", "--ip-address", "192.0.2.1",
        exit_code=2,
    )  # fmt: skip
    assert "one of them" in message
    assert cli.json("acr", "network-rule", "list", "-n", name, "--query", "length(ipRules)") == 1

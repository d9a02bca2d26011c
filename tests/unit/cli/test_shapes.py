"""Flags -> request bodies, and wire JSON -> what the cloud CLI prints: pure mappings."""

from __future__ import annotations

from typing import Any

import pytest

from moorage.cli.client import CliError
from moorage.cli.command import spread_greedy
from moorage.cli.data_plane import parse_image
from moorage.cli.shapes import (
    create_body,
    group_of,
    network_rules_view,
    parse_tags,
    registry_view,
    update_body,
)

WIRE = {
    "id": "/subscriptions/s1/resourceGroups/team/providers/Microsoft.ContainerRegistry/"
    "registries/myregistry1",
    "name": "myregistry1",
    "type": "Microsoft.ContainerRegistry/registries",
    "location": "local",
    "tags": {},
    "etag": "abc",
    "sku": {"name": "Premium", "tier": "Premium"},
    "properties": {
        "loginServer": "myregistry1.localhost:5000",
        "adminUserEnabled": False,
        "networkRuleSet": {
            "defaultAction": "Deny",
            "ipRules": [
                {"action": "Allow", "value": "203.0.113.7"},
                {"value": "10.0.0.0/8"},
            ],
        },
        "publicNetworkAccess": "Enabled",
    },
}


@pytest.mark.parametrize(
    ("flags", "body"),
    [
        ({}, {}),
        ({"default_action": "Deny"}, {"properties": {"networkRuleSet": {"defaultAction": "Deny"}}}),
        (
            {"default_action": "allow"},
            {"properties": {"networkRuleSet": {"defaultAction": "Allow"}}},
        ),
        ({"public_network_enabled": False}, {"properties": {"publicNetworkAccess": "Disabled"}}),
        ({"public_network_enabled": True}, {"properties": {"publicNetworkAccess": "Enabled"}}),
        (
            {"allow_trusted_services": True},
            {"properties": {"networkRuleBypassOptions": "AzureServices"}},
        ),
        ({"allow_trusted_services": False}, {"properties": {"networkRuleBypassOptions": "None"}}),
        ({"admin_enabled": True}, {"properties": {"adminUserEnabled": True}}),
        ({"admin_enabled": False}, {"properties": {"adminUserEnabled": False}}),
        ({"anonymous_pull_enabled": True}, {"properties": {"anonymousPullEnabled": True}}),
        ({"data_endpoint_enabled": False}, {"properties": {"dataEndpointEnabled": False}}),
        ({"sku": "standard"}, {"sku": {"name": "Standard"}}),
        ({"tags": {"a": "1"}}, {"tags": {"a": "1"}}),
        ({"tags": {}}, {"tags": {}}),
        (
            {"default_action": "Deny", "public_network_enabled": False, "sku": "Premium"},
            {
                "sku": {"name": "Premium"},
                "properties": {
                    "networkRuleSet": {"defaultAction": "Deny"},
                    "publicNetworkAccess": "Disabled",
                },
            },
        ),
    ],
)
def test_update_sends_only_what_was_given(flags: dict[str, Any], body: dict[str, Any]) -> None:
    assert update_body(**flags) == body


def test_default_action_never_sends_ip_rules() -> None:
    """The server keeps the rules a rule set leaves out; sending [] would wipe them."""
    body = update_body(default_action="Deny")
    assert "ipRules" not in body["properties"]["networkRuleSet"]


@pytest.mark.parametrize(
    ("flags", "body"),
    [
        (
            {"sku": "Basic"},
            {
                "location": "local",
                "sku": {"name": "Basic"},
                "properties": {"adminUserEnabled": False},
            },
        ),
        (
            {"sku": "premium", "location": "west", "admin_enabled": True},
            {
                "location": "west",
                "sku": {"name": "Premium"},
                "properties": {"adminUserEnabled": True},
            },
        ),
        (
            {"sku": "Premium", "default_action": "Deny", "public_network_enabled": False},
            {
                "location": "local",
                "sku": {"name": "Premium"},
                "properties": {
                    "adminUserEnabled": False,
                    "networkRuleSet": {"defaultAction": "Deny"},
                    "publicNetworkAccess": "Disabled",
                },
            },
        ),
        (
            {"sku": "Basic", "tags": {"team": "a"}, "allow_trusted_services": False},
            {
                "location": "local",
                "sku": {"name": "Basic"},
                "properties": {"adminUserEnabled": False, "networkRuleBypassOptions": "None"},
                "tags": {"team": "a"},
            },
        ),
    ],
)
def test_create_body(flags: dict[str, Any], body: dict[str, Any]) -> None:
    assert create_body(**flags) == body


@pytest.mark.parametrize(
    ("values", "tags"),
    [
        ((), None),
        (("a=1", "b=x=y", "c"), {"a": "1", "b": "x=y", "c": ""}),
        (("",), {}),
    ],
)
def test_parse_tags(values: tuple[str, ...], tags: dict[str, str] | None) -> None:
    assert parse_tags(values) == tags


def test_tag_without_key_is_refused() -> None:
    with pytest.raises(CliError, match="no key"):
        parse_tags(("=1",))


@pytest.mark.parametrize(
    ("args", "spread"),
    [
        (
            ["--tags", "a=1", "b=2", "--sku", "Basic"],
            ["--tags", "a=1", "--tags", "b=2", "--sku", "Basic"],
        ),
        (["--tags", ""], ["--tags", ""]),
        (["--tags=a=1", "b"], ["--tags=a=1", "--tags", "b"]),
        (["--scopes", "/s/1", "/s/2"], ["--scopes", "/s/1", "--scopes", "/s/2"]),
        (["--name", "x", "--tags", "--weird"], ["--name", "x", "--tags", "--weird"]),
        (["--sku", "Basic", "-n", "x"], ["--sku", "Basic", "-n", "x"]),
    ],
)
def test_greedy_options_take_several_values(args: list[str], spread: list[str]) -> None:
    assert spread_greedy(args) == spread


def test_registry_view_flattens_like_the_cloud_cli() -> None:
    view = registry_view(WIRE)
    assert "properties" not in view and "etag" not in view
    assert view["loginServer"] == "myregistry1.localhost:5000"
    assert view["resourceGroup"] == "team"
    assert view["networkRuleSet"] == {
        "defaultAction": "Deny",
        "ipRules": [
            {"action": "Allow", "ipAddressOrRange": "203.0.113.7"},
            {"action": "Allow", "ipAddressOrRange": "10.0.0.0/8"},
        ],
    }
    assert view["identity"] is None and view["systemData"] is None


def test_network_rule_list_says_ip_address_or_range() -> None:
    assert network_rules_view(WIRE) == {
        "ipRules": [
            {"action": "Allow", "ipAddressOrRange": "203.0.113.7"},
            {"action": "Allow", "ipAddressOrRange": "10.0.0.0/8"},
        ],
        "virtualNetworkRules": [],
    }


def test_network_rule_list_keeps_an_expiry() -> None:
    wire = {
        "properties": {"networkRuleSet": {"ipRules": [{"value": "192.0.2.1", "expiresOn": "T"}]}}
    }
    assert network_rules_view(wire)["ipRules"] == [
        {"action": "Allow", "ipAddressOrRange": "192.0.2.1", "expiresOn": "T"}
    ]


def test_network_rule_list_of_a_registry_without_rules() -> None:
    assert network_rules_view({"properties": {}}) == {"ipRules": [], "virtualNetworkRules": []}


@pytest.mark.parametrize(
    ("resource_id", "group"),
    [
        ("/subscriptions/s/resourceGroups/Team1/providers/x/registries/r", "Team1"),
        ("/subscriptions/s/resourcegroups/g/providers/x/registries/r", "g"),
        ("/subscriptions/s", None),
    ],
)
def test_group_of(resource_id: str, group: str | None) -> None:
    assert group_of(resource_id) == group


@pytest.mark.parametrize(
    ("image", "parsed"),
    [
        ("hello:v1", ("hello", "v1")),
        ("team/app", ("team/app", "latest")),
        ("team/app@sha256:abc", ("team/app", "sha256:abc")),
        ("a/b:c", ("a/b", "c")),
    ],
)
def test_parse_image(image: str, parsed: tuple[str, str]) -> None:
    assert parse_image(image) == parsed


@pytest.mark.parametrize("image", ["@sha256:abc", "repo@nodigest", ":tag"])
def test_bad_image_is_a_usage_error(image: str) -> None:
    with pytest.raises(CliError) as caught:
        parse_image(image)
    assert caught.value.exit_code == 2

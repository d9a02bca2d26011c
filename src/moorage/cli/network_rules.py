"""`moorage acr network-rule add|remove|list`: one IP rule at a time.

add/remove read the registry, change its rule list, and PATCH the whole list with
`If-Match: <etag>`; when someone else changed the registry in between (412), they read it
again and retry, so concurrent edits do not lose each other.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzGroup, server_command
from moorage.cli.shapes import (
    check_ip,
    ip_rules_of,
    network_rules_view,
    registry_view,
    with_rule_added,
    with_rule_removed,
)

ATTEMPTS = 5
Edit = Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]


@click.group("network-rule", cls=AzGroup)
def network_rule() -> None:
    """IP rules of a registry's public endpoint."""


def edit_rules(client: Client, name: str, group: str | None, edit: Edit) -> dict[str, Any]:
    """Apply `edit` to the registry's IP rules (None: nothing to change); the registry after."""
    for attempt in range(ATTEMPTS):
        found = reg.get(client, name, group)
        group = found.group
        rules = edit(ip_rules_of(found.registry))
        if rules is None:
            return found.registry
        try:
            updated: dict[str, Any] = client.arm_json(
                "PATCH",
                found.path,
                json={"properties": {"networkRuleSet": {"ipRules": rules}}},
                headers={"If-Match": found.etag},
            )
        except CliError as e:
            if e.status != 412:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 (jitter, not a secret)
            continue
        return updated
    raise CliError(
        f"registry '{name}' kept changing while its IP rules were edited; "
        f"gave up after {ATTEMPTS} attempts, try again"
    )


def _ip_option(func: Any) -> Any:
    return click.option(
        "--ip-address",
        required=True,
        metavar="ADDRESS[/PREFIX]",
        help="An IPv4 or IPv6 address or CIDR range.",
    )(func)


@network_rule.command("add")
@reg.name_options
@_ip_option
@server_command()
def add(client: Client, name: str, resource_group: str | None, ip_address: str) -> Any:
    """Allow an address or range (a rule already there changes nothing)."""
    check_ip(ip_address)
    registry = edit_rules(
        client, name, resource_group, lambda rules: with_rule_added(rules, ip_address)
    )
    return registry_view(registry)


@network_rule.command("remove")
@reg.name_options
@_ip_option
@server_command()
def remove(client: Client, name: str, resource_group: str | None, ip_address: str) -> Any:
    """Remove the rule for an address or range."""
    check_ip(ip_address)
    registry = edit_rules(
        client, name, resource_group, lambda rules: with_rule_removed(rules, ip_address, name)
    )
    return registry_view(registry)


@network_rule.command("list")
@reg.name_options
@server_command()
def list_rules(client: Client, name: str, resource_group: str | None) -> Any:
    """List the registry's IP rules."""
    return network_rules_view(reg.get(client, name, resource_group).registry)

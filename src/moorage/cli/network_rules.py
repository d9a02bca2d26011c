"""`moorage acr network-rule add|remove|list|denied`: one IP rule or virtual-network rule at
a time.

add/remove call the registry's addIpRule/removeIpRule (or addVirtualNetworkRule/
removeVirtualNetworkRule) actions: the server changes that one rule in one transaction, so
concurrent edits never lose each other and the other rules are never rewritten. Values are
checked by the server, so the CLI says exactly what the API says.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzGroup, server_command
from moorage.cli.shapes import network_rules_view, registry_view
from moorage.cli.virtual_networks import subnet_id

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@click.group("network-rule", cls=AzGroup)
def network_rule() -> None:
    """IP rules and virtual-network rules of a registry's public endpoint."""


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '2h', '1d', '1h30m' -> a timedelta; click.BadParameter otherwise."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 2h, 1d or 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise click.BadParameter(f"{text!r} is not a positive duration")
    return duration


def expiry(expires_in: str | None, expires_on: datetime | None) -> str | None:
    if expires_in and expires_on:
        raise click.UsageError("give --expires-in or --expires-on, not both")
    if expires_in:
        return (datetime.now(UTC) + parse_duration(expires_in)).isoformat()
    if expires_on:
        when = expires_on if expires_on.tzinfo else expires_on.replace(tzinfo=UTC)
        return when.isoformat()
    return None


def _action(client: Client, name: str, group: str | None, action: str, body: dict[str, Any]) -> Any:
    found = reg.get(client, name, group)
    return client.arm_json("POST", f"{found.path}/{action}", json=body)


def _subnet_options(func: Any) -> Any:
    func = click.option(
        "--vnet-name", default=None, help="The virtual network of --subnet (given by name)."
    )(func)
    return click.option(
        "--subnet",
        default=None,
        metavar="NAME|ID",
        help="A subnet: its name with --vnet-name (in the registry's resource group, or -g), "
        "or its resource id.",
    )(func)


def _subnet_rule(
    client: Client,
    name: str,
    group: str | None,
    action: str,
    vnet_name: str | None,
    subnet: str,
) -> Any:
    """Add or remove the virtual-network rule of one subnet, as az names it."""
    found = reg.get(client, name, group)
    if subnet.startswith("/"):
        if vnet_name is not None:
            raise click.UsageError("--vnet-name goes with a subnet name, not a subnet id")
        subnet_ref = subnet
    elif vnet_name is None:
        raise click.UsageError("--subnet NAME needs --vnet-name (or give the subnet's id)")
    else:
        subnet_ref = subnet_id(client, found.group, vnet_name, subnet)
    return client.arm_json("POST", f"{found.path}/{action}", json={"id": subnet_ref})


@network_rule.command("add")
@reg.name_options
@click.option(
    "--ip-address", metavar="ADDRESS[/PREFIX]", help="An IPv4 or IPv6 address or CIDR range."
)
@_subnet_options
@click.option(
    "--from-denied",
    metavar="ADDRESS",
    help="Allow an address the rules refused (see `network-rule denied`).",
)
@click.option("--expires-in", metavar="DURATION", help="The rule stops matching after this: 2h.")
@click.option(
    "--expires-on",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    metavar="TIME",
    help="The rule stops matching then: 2026-12-01T18:00:00Z (UTC).",
)
@server_command()
def add(
    client: Client,
    name: str,
    resource_group: str | None,
    ip_address: str | None,
    subnet: str | None,
    vnet_name: str | None,
    from_denied: str | None,
    expires_in: str | None,
    expires_on: datetime | None,
) -> Any:
    """Allow an address or range, or a subnet's range (adding a rule already there only updates
    its expiry)."""
    if [ip_address, from_denied, subnet].count(None) != 2:
        raise click.UsageError("give --ip-address, --subnet or --from-denied (one of them)")
    if subnet is not None:
        if expires_in or expires_on:
            raise click.UsageError("--expires-in and --expires-on are for IP rules")
        return registry_view(
            _subnet_rule(client, name, resource_group, "addVirtualNetworkRule", vnet_name, subnet)
        )
    if vnet_name is not None:
        raise click.UsageError("--vnet-name goes with --subnet")
    body: dict[str, Any] = {"value": ip_address}
    if from_denied is not None:
        refused = {c["address"] for c in _denied(client, name, resource_group)["value"]}
        if from_denied not in refused:
            raise CliError(
                f"{from_denied} has not been refused by registry '{name}' recently; see "
                f"`moorage acr network-rule denied --name {name}`, or use --ip-address"
            )
        body["value"] = from_denied
    when = expiry(expires_in, expires_on)
    if when:
        body["expiresOn"] = when
    return registry_view(_action(client, name, resource_group, "addIpRule", body))


@network_rule.command("remove")
@reg.name_options
@click.option(
    "--ip-address",
    metavar="ADDRESS[/PREFIX]",
    help="The address or range of the rule to remove.",
)
@_subnet_options
@server_command()
def remove(
    client: Client,
    name: str,
    resource_group: str | None,
    ip_address: str | None,
    subnet: str | None,
    vnet_name: str | None,
) -> Any:
    """Remove the rule for an address or range, or for a subnet."""
    if (ip_address is None) == (subnet is None):
        raise click.UsageError("give --ip-address or --subnet (one of them)")
    if subnet is not None:
        return registry_view(
            _subnet_rule(
                client, name, resource_group, "removeVirtualNetworkRule", vnet_name, subnet
            )
        )
    return registry_view(
        _action(client, name, resource_group, "removeIpRule", {"value": ip_address})
    )


@network_rule.command("list")
@reg.name_options
@server_command()
def list_rules(client: Client, name: str, resource_group: str | None) -> Any:
    """List the registry's IP rules and virtual-network rules."""
    registry = reg.get(client, name, resource_group).registry
    view = network_rules_view(registry)
    rule_set = (registry.get("properties") or {}).get("networkRuleSet") or {}
    view["virtualNetworkRules"] = [  # az calls a rule's subnet id virtualNetworkResourceId
        {"action": r.get("action") or "Allow", "virtualNetworkResourceId": r.get("id")}
        for r in rule_set.get("virtualNetworkRules") or []
    ]
    return view


def _denied(client: Client, name: str, group: str | None) -> dict[str, Any]:
    found = reg.get(client, name, group)
    result: dict[str, Any] = client.arm_json("GET", f"{found.path}/deniedClients")
    return result


@network_rule.command("denied")
@reg.name_options
@server_command()
def denied(client: Client, name: str, resource_group: str | None) -> Any:
    """Addresses the registry's rules turned away: count, first and last time, reason."""
    return _denied(client, name, resource_group)["value"]

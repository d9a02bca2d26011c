"""`moorage network vnet ...` and `moorage network vnet subnet ...`, as `az network` has them.

A virtual network is a named set of address prefixes; each subnet is one prefix inside them.
A registry's virtual-network rule (`moorage acr network-rule add --vnet-name V --subnet S`)
admits the subnet's addresses on the registry's public endpoint. Output is the cloud CLI's:
`properties` flattened, `resourceGroup` added, and `vnet create` wraps the network in
`{"newVNet": ...}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import (
    GREEDY_OPTIONS,
    AzCommand,
    AzGroup,
    server_command,
    spread_greedy,
)
from moorage.cli.shapes import DEFAULT_LOCATION, group_of

NETWORK_API = "2024-05-01"
GREEDY = (*GREEDY_OPTIONS, "--address-prefixes", "--subnet-prefixes", "--service-endpoints")
DEFAULT_VNET_PREFIX = "10.0.0.0/16"  # as the cloud CLI's defaults
DEFAULT_SUBNET_PREFIX = "10.0.0.0/24"


class NetworkCommand(AzCommand):
    """Space-separated values for the list options: `--address-prefixes 10.0.0.0/16 10.1.0.0/16`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return click.Command.parse_args(self, ctx, spread_greedy(args, GREEDY))


class NetworkGroup(AzGroup):
    command_class = NetworkCommand


@click.group("vnet", cls=NetworkGroup)
def vnet() -> None:
    """Virtual networks: named sets of address prefixes, with subnets."""


@vnet.group("subnet", cls=NetworkGroup)
def subnet() -> None:
    """Subnets of a virtual network: one address prefix each."""


# -- paths and views -----------------------------------------------------------------------


def vnet_path(client: Client, group: str, name: str) -> str:
    return (
        f"{reg.group_path(client, group)}/providers/Microsoft.Network/virtualNetworks/"
        f"{quote(name, safe='')}"
    )


def subnet_path(client: Client, group: str, vnet_name: str, name: str) -> str:
    return f"{vnet_path(client, group, vnet_name)}/subnets/{quote(name, safe='')}"


def subnet_id(client: Client, group: str, vnet_name: str, name: str) -> str:
    """The subnet's resource id (what a registry's virtual-network rule names)."""
    return (
        f"/subscriptions/{client.subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.Network/virtualNetworks/{vnet_name}/subnets/{name}"
    )


def network_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A network resource as the cloud CLI prints it: properties flattened, resourceGroup."""
    view: dict[str, Any] = {k: v for k, v in resource.items() if k != "properties"}
    properties = dict(resource.get("properties") or {})
    if "subnets" in properties:
        properties["subnets"] = [network_view(s) for s in properties["subnets"] or []]
    view.update(properties)
    view["resourceGroup"] = group_of(str(resource.get("id", "")))
    return view


def _one_prefix(prefixes: tuple[str, ...], option: str, default: str | None = None) -> str:
    if len(prefixes) > 1:
        raise CliError(
            f"{option}: a moorage subnet has one address prefix; got {' '.join(prefixes)}",
            exit_code=2,
        )
    if prefixes:
        return prefixes[0]
    if default is None:
        raise CliError(
            f"{option} is required: the subnet's range, such as 10.0.1.0/24", exit_code=2
        )
    return default


def _subnet_properties(prefix: str, service_endpoints: tuple[str, ...]) -> dict[str, Any]:
    properties: dict[str, Any] = {"addressPrefix": prefix}
    if service_endpoints:
        properties["serviceEndpoints"] = [{"service": s} for s in service_endpoints]
    return properties


def _group_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--resource-group",
        "-g",
        "resource_group",
        default=reg.DEFAULT_RESOURCE_GROUP,
        show_default=True,
        help="Resource group.",
    )(func)


def _name_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = _group_option(func)
    return click.option("--name", "-n", "name", required=True, help="The virtual network's name.")(
        func
    )


def _subnet_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = _group_option(func)
    func = click.option("--name", "-n", "name", required=True, help="The subnet's name.")(func)
    return click.option("--vnet-name", required=True, help="The virtual network the subnet is in.")(
        func
    )


def _service_endpoints(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--service-endpoints",
        multiple=True,
        metavar="SERVICE ...",
        help="Accepted for the cloud CLI's sake: Microsoft.ContainerRegistry (every moorage "
        "subnet has it).",
    )(func)


# -- virtual networks --------------------------------------------------------------------------


@vnet.command("create")
@_name_options
@click.option(
    "--address-prefixes",
    multiple=True,
    metavar="CIDR ...",
    help=f"Space-separated address prefixes [default: {DEFAULT_VNET_PREFIX}].",
)
@click.option("--subnet-name", default=None, help="Create a subnet of this name too.")
@click.option(
    "--subnet-prefixes",
    multiple=True,
    metavar="CIDR",
    help=f"The subnet's address prefix [default: {DEFAULT_SUBNET_PREFIX}].",
)
@click.option("--location", "-l", default=None, help="Location (default: local).")
@server_command()
def create(
    client: Client,
    name: str,
    resource_group: str,
    address_prefixes: tuple[str, ...],
    subnet_name: str | None,
    subnet_prefixes: tuple[str, ...],
    location: str | None,
) -> Any:
    """Create a virtual network, optionally with one subnet (an existing one keeps its subnets
    unless --subnet-name is given)."""
    properties: dict[str, Any] = {
        "addressSpace": {"addressPrefixes": list(address_prefixes) or [DEFAULT_VNET_PREFIX]}
    }
    if subnet_name is not None:
        prefix = _one_prefix(subnet_prefixes, "--subnet-prefixes", DEFAULT_SUBNET_PREFIX)
        properties["subnets"] = [{"name": subnet_name, "properties": {"addressPrefix": prefix}}]
    elif subnet_prefixes:
        raise click.UsageError("--subnet-prefixes needs --subnet-name")
    created = client.arm_json(
        "PUT",
        vnet_path(client, resource_group, name),
        api_version=NETWORK_API,
        json={"location": location or DEFAULT_LOCATION, "properties": properties},
    )
    return {"newVNet": network_view(created)}


@vnet.command("list")
@click.option(
    "--resource-group",
    "-g",
    "resource_group",
    default=None,
    help="Resource group (default: every group of the subscription).",
)
@server_command()
def list_vnets(client: Client, resource_group: str | None) -> Any:
    """List virtual networks."""
    path = (
        f"{reg.subscription_path(client)}/providers/Microsoft.Network/virtualNetworks"
        if resource_group is None
        else f"{reg.group_path(client, resource_group)}/providers/Microsoft.Network/virtualNetworks"
    )
    return [network_view(v) for v in client.arm_list(path, api_version=NETWORK_API)]


@vnet.command("show")
@_name_options
@server_command()
def show(client: Client, name: str, resource_group: str) -> Any:
    """Show a virtual network and its subnets."""
    return network_view(
        client.arm_json("GET", vnet_path(client, resource_group, name), api_version=NETWORK_API)
    )


@vnet.command("delete")
@_name_options
@server_command()
def delete(client: Client, name: str, resource_group: str) -> Any:
    """Delete a virtual network (refused while a registry's rule names one of its subnets)."""
    client.arm("DELETE", vnet_path(client, resource_group, name), api_version=NETWORK_API)
    return None


# -- subnets -----------------------------------------------------------------------------------


@subnet.command("create")
@_subnet_options
@click.option(
    "--address-prefixes",
    multiple=True,
    metavar="CIDR",
    help="The subnet's address prefix, inside the network's (required).",
)
@_service_endpoints
@server_command()
def subnet_create(
    client: Client,
    vnet_name: str,
    name: str,
    resource_group: str,
    address_prefixes: tuple[str, ...],
    service_endpoints: tuple[str, ...],
) -> Any:
    """Create a subnet."""
    prefix = _one_prefix(address_prefixes, "--address-prefixes")
    return network_view(
        client.arm_json(
            "PUT",
            subnet_path(client, resource_group, vnet_name, name),
            api_version=NETWORK_API,
            json={"properties": _subnet_properties(prefix, service_endpoints)},
        )
    )


@subnet.command("update")
@_subnet_options
@click.option(
    "--address-prefixes", multiple=True, metavar="CIDR", help="The subnet's new address prefix."
)
@_service_endpoints
@server_command()
def subnet_update(
    client: Client,
    vnet_name: str,
    name: str,
    resource_group: str,
    address_prefixes: tuple[str, ...],
    service_endpoints: tuple[str, ...],
) -> Any:
    """Change a subnet's address prefix; the registries whose rules name it match the new one
    from the very next request."""
    path = subnet_path(client, resource_group, vnet_name, name)
    current = client.arm_json("GET", path, api_version=NETWORK_API)
    prefix = _one_prefix(
        address_prefixes, "--address-prefixes", current["properties"]["addressPrefix"]
    )
    return network_view(
        client.arm_json(
            "PUT",
            path,
            api_version=NETWORK_API,
            json={"properties": _subnet_properties(prefix, service_endpoints)},
        )
    )


@subnet.command("list")
@click.option("--vnet-name", required=True, help="The virtual network.")
@_group_option
@server_command()
def subnet_list(client: Client, vnet_name: str, resource_group: str) -> Any:
    """List a virtual network's subnets."""
    path = f"{vnet_path(client, resource_group, vnet_name)}/subnets"
    return [network_view(s) for s in client.arm_list(path, api_version=NETWORK_API)]


@subnet.command("show")
@_subnet_options
@server_command()
def subnet_show(client: Client, vnet_name: str, name: str, resource_group: str) -> Any:
    """Show a subnet."""
    path = subnet_path(client, resource_group, vnet_name, name)
    return network_view(client.arm_json("GET", path, api_version=NETWORK_API))


@subnet.command("delete")
@_subnet_options
@server_command()
def subnet_delete(client: Client, vnet_name: str, name: str, resource_group: str) -> Any:
    """Delete a subnet (refused while a registry's rule names it)."""
    path = subnet_path(client, resource_group, vnet_name, name)
    client.arm("DELETE", path, api_version=NETWORK_API)
    return None

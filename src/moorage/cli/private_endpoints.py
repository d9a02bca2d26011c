"""Private endpoints and registries' connections to them, as the cloud CLI has them:

- `moorage network private-endpoint create|list|show|delete` (`az network private-endpoint`):
  in moorage a private endpoint is a listener of the server on its own address and port, so
  `--address/--port` take the place of the cloud's `--vnet-name/--subnet`;
- `moorage acr private-endpoint-connection list|show|approve|reject|delete`
  (`--registry-name/-r`, `--name/-n` the connection's name);
- `moorage acr private-link-resource list`.

The server checks every value, so the CLI says exactly what the API says.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzGroup, as_bool, bool_option, confirm, server_command
from moorage.cli.shapes import group_of

NETWORK_API = "2024-05-01"
ENDPOINTS = "/providers/Microsoft.Network/privateEndpoints"


# -- views -------------------------------------------------------------------------------------


def flattened(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource as the cloud CLI prints it: `properties` merged in, `resourceGroup` added."""
    view: dict[str, Any] = {k: v for k, v in resource.items() if k != "properties"}
    view.update(resource.get("properties") or {})
    view["resourceGroup"] = group_of(str(resource.get("id", "")))
    return view


def endpoint_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    view = flattened(resource)
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        view[key] = [flattened(c) for c in view.get(key) or []]
    return view


def _state(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("privateLinkServiceConnectionState") or {}


def endpoint_table(result: Any) -> Any:
    def row(item: Mapping[str, Any]) -> OrderedDict[str, Any]:
        listener = item.get("listener") or {}
        connections = item.get("privateLinkServiceConnections") or []
        return OrderedDict(
            [
                ("NAME", item.get("name")),
                ("RESOURCE GROUP", item.get("resourceGroup")),
                ("ADDRESS", listener.get("address")),
                ("PORT", listener.get("port")),
                ("ORIGIN", listener.get("origin")),
                (
                    "CONNECTIONS",
                    ", ".join(
                        f"{str(c.get('privateLinkServiceId', '')).rsplit('/', 1)[-1]}:"
                        f"{_state(c).get('status')}"
                        for c in connections
                    ),
                ),
            ]
        )

    return [row(i) for i in result] if isinstance(result, list) else row(result)


def connection_table(result: Any) -> Any:
    def row(item: Mapping[str, Any]) -> OrderedDict[str, Any]:
        endpoint = (item.get("privateEndpoint") or {}).get("id") or ""
        return OrderedDict(
            [
                ("NAME", item.get("name")),
                ("PRIVATE ENDPOINT", endpoint.rsplit("/", 1)[-1]),
                ("STATUS", _state(item).get("status")),
                ("DESCRIPTION", _state(item).get("description")),
            ]
        )

    return [row(i) for i in result] if isinstance(result, list) else row(result)


# -- paths -------------------------------------------------------------------------------------


def endpoint_path(client: Client, group: str, name: str) -> str:
    return f"{reg.group_path(client, group)}{ENDPOINTS}/{quote(name, safe='')}"


def find_endpoint_group(client: Client, name: str) -> str:
    """The resource group of endpoint `name` (endpoint names are unique in the service)."""
    found = client.arm_list(reg.subscription_path(client) + ENDPOINTS, api_version=NETWORK_API)
    for endpoint in found:
        if str(endpoint.get("name", "")).lower() == name.lower():
            group = group_of(str(endpoint.get("id", "")))
            if group:
                return group
    raise CliError(
        f"The private endpoint '{name}' could not be found in subscription "
        f"'{client.subscription}'; see: moorage network private-endpoint list",
        code="ResourceNotFound",
        status=404,
    )


def connection_path(client: Client, registry: str, group: str | None, name: str) -> str:
    _, path = reg.locate(client, registry, group)
    return f"{path}/privateEndpointConnections/{quote(name, safe='')}"


def registry_id(client: Client, value: str) -> str:
    """A registry's resource id; a bare registry name is looked up (a moorage convenience)."""
    if value.startswith("/"):
        return value
    group, _ = reg.locate(client, value, None)
    return (
        f"/subscriptions/{client.subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.ContainerRegistry/registries/{value}"
    )


def _endpoint_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--resource-group",
        "-g",
        "resource_group",
        default=None,
        help="Resource group (default: found from the endpoint's name).",
    )(func)
    return click.option("--name", "-n", required=True, help="The private endpoint's name.")(func)


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--resource-group",
        "-g",
        "resource_group",
        default=None,
        help="Resource group (default: found from the registry's name).",
    )(func)
    func = click.option(
        "--registry-name", "-r", required=True, help="The name of the container registry."
    )(func)
    return click.option(
        "--name", "-n", required=True, help="The name of the private endpoint connection."
    )(func)


# -- network private-endpoint -------------------------------------------------------------------


@click.group("private-endpoint", cls=AzGroup)
def private_endpoint() -> None:
    """Private endpoints: listeners of moorage, each on its own address and port, which serve
    a registry only while its connection is Approved."""


@private_endpoint.command("create")
@click.option("--name", "-n", required=True, help="The private endpoint's name.")
@click.option(
    "--resource-group",
    "-g",
    "resource_group",
    default=reg.DEFAULT_RESOURCE_GROUP,
    show_default=True,
    help="Resource group of the endpoint.",
)
@click.option(
    "--connection-name", required=True, help="The connection's name (on the registry too)."
)
@click.option(
    "--private-connection-resource-id",
    "resource_id",
    required=True,
    help="The registry's resource id (or, in moorage, its name).",
)
@click.option(
    "--group-id",
    "--group-ids",
    "group_ids",
    multiple=True,
    default=("registry",),
    show_default=True,
    help="The registry's private link resource: registry.",
)
@bool_option(
    "--manual-request",
    "Ask for a connection the registry's owner approves later (it stays Pending); without "
    "it, the connection is Approved when you may write the registry, else Pending.",
)
@click.option("--request-message", default=None, help="A message for the registry's owner.")
@click.option(
    "--address",
    default=None,
    help="moorage: the IP address the endpoint listens on (instead of the cloud's "
    "--vnet-name/--subnet). Not needed for an endpoint `moorage serve --private-endpoint` "
    "declares.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="moorage: its port.")
@click.option("--location", "-l", default=None, help="Accepted; the resource group's is used.")
@click.option("--vnet-name", default=None, hidden=True)
@click.option("--subnet", default=None, hidden=True)
@server_command(table=endpoint_table)
def create(
    client: Client,
    name: str,
    resource_group: str,
    connection_name: str,
    resource_id: str,
    group_ids: tuple[str, ...],
    manual_request: str | None,
    request_message: str | None,
    address: str | None,
    port: int | None,
    location: str | None,
    vnet_name: str | None,
    subnet: str | None,
) -> Any:
    """Create a private endpoint (a listener) and its connection to a registry."""
    if vnet_name or subnet:
        raise CliError(
            "moorage's private endpoints are listeners, not virtual-network interfaces: give "
            "--address and --port instead of --vnet-name/--subnet",
            exit_code=2,
        )
    if (address is None) != (port is None):
        raise CliError("give --address and --port together", exit_code=2)
    connection = {
        "name": connection_name,
        "properties": {
            "privateLinkServiceId": registry_id(client, resource_id),
            "groupIds": list(group_ids),
            **({"requestMessage": request_message} if request_message else {}),
        },
    }
    manual = as_bool(manual_request) or False
    properties: dict[str, Any] = {
        "manualPrivateLinkServiceConnections" if manual else "privateLinkServiceConnections": [
            connection
        ]
    }
    if address is not None:
        properties["listener"] = {"address": address, "port": port}
    body: dict[str, Any] = {"properties": properties}
    if location:
        body["location"] = location
    path = endpoint_path(client, resource_group, name)
    return endpoint_view(client.arm_json("PUT", path, json=body, api_version=NETWORK_API))


@private_endpoint.command("list")
@click.option("--resource-group", "-g", "resource_group", default=None, help="Only this group.")
@server_command(table=endpoint_table)
def list_endpoints(client: Client, resource_group: str | None) -> Any:
    """List private endpoints of the subscription, or of one resource group."""
    base = (
        reg.group_path(client, resource_group) if resource_group else reg.subscription_path(client)
    )
    return [endpoint_view(e) for e in client.arm_list(base + ENDPOINTS, api_version=NETWORK_API)]


@private_endpoint.command("show")
@_endpoint_options
@server_command(table=endpoint_table)
def show(client: Client, name: str, resource_group: str | None) -> Any:
    """Show a private endpoint: its listener and connections."""
    group = resource_group or find_endpoint_group(client, name)
    path = endpoint_path(client, group, name)
    return endpoint_view(client.arm_json("GET", path, api_version=NETWORK_API))


@private_endpoint.command("delete")
@_endpoint_options
@server_command()
def delete(client: Client, name: str, resource_group: str | None) -> Any:
    """Delete a private endpoint: it stops listening; its connections become Disconnected."""
    group = resource_group or find_endpoint_group(client, name)
    client.arm("DELETE", endpoint_path(client, group, name), api_version=NETWORK_API)
    return None


# -- acr private-endpoint-connection -------------------------------------------------------------


@click.group("private-endpoint-connection", cls=AzGroup)
def private_endpoint_connection() -> None:
    """A registry's private endpoint connections. To create one, use `moorage network
    private-endpoint create`."""


@private_endpoint_connection.command("list")
@click.option("--registry-name", "-r", required=True, help="The name of the container registry.")
@click.option("--resource-group", "-g", "resource_group", default=None)
@server_command(table=connection_table)
def connection_list(client: Client, registry_name: str, resource_group: str | None) -> Any:
    """List the registry's private endpoint connections."""
    _, path = reg.locate(client, registry_name, resource_group)
    return [flattened(c) for c in client.arm_list(path + "/privateEndpointConnections")]


@private_endpoint_connection.command("show")
@_connection_options
@server_command(table=connection_table)
def connection_show(
    client: Client, name: str, registry_name: str, resource_group: str | None
) -> Any:
    """Show a private endpoint connection and its state."""
    path = connection_path(client, registry_name, resource_group, name)
    return flattened(client.arm_json("GET", path))


def _set_status(
    client: Client,
    name: str,
    registry_name: str,
    resource_group: str | None,
    status: str,
    description: str | None,
) -> Any:
    path = connection_path(client, registry_name, resource_group, name)
    current = client.arm_json("GET", path)
    properties = dict(current.get("properties") or {})
    state = dict(properties.get("privateLinkServiceConnectionState") or {})
    state.update(status=status, description=description or status)
    body: dict[str, Any] = {"properties": {"privateLinkServiceConnectionState": state}}
    if properties.get("privateEndpoint"):
        body["properties"]["privateEndpoint"] = properties["privateEndpoint"]
    return flattened(client.arm_json("PUT", path, json=body))


@private_endpoint_connection.command("approve")
@_connection_options
@click.option("--description", default=None, help="Why it is approved.")
@server_command(table=connection_table)
def connection_approve(
    client: Client,
    name: str,
    registry_name: str,
    resource_group: str | None,
    description: str | None,
) -> Any:
    """Approve a Pending connection: the endpoint serves the registry from now on."""
    return _set_status(client, name, registry_name, resource_group, "Approved", description)


@private_endpoint_connection.command("reject")
@_connection_options
@click.option("--description", default=None, help="Why it is rejected.")
@server_command(table=connection_table)
def connection_reject(
    client: Client,
    name: str,
    registry_name: str,
    resource_group: str | None,
    description: str | None,
) -> Any:
    """Reject a connection (Pending or Approved); a rejected connection stays rejected."""
    return _set_status(client, name, registry_name, resource_group, "Rejected", description)


@private_endpoint_connection.command("delete")
@_connection_options
@click.option("--yes", "-y", is_flag=True, help="Do not prompt for confirmation.")
@server_command()
def connection_delete(
    client: Client, name: str, registry_name: str, resource_group: str | None, yes: bool
) -> Any:
    """Delete a private endpoint connection."""
    if confirm("Are you sure you want to perform this operation?", yes):
        client.arm("DELETE", connection_path(client, registry_name, resource_group, name))
    return None


# -- acr private-link-resource ------------------------------------------------------------------


@click.group("private-link-resource", cls=AzGroup)
def private_link_resource() -> None:
    """What a private endpoint can connect to on a registry."""


@private_link_resource.command("list")
@click.option("--registry-name", "-r", required=True, help="The name of the container registry.")
@click.option("--resource-group", "-g", "resource_group", default=None)
@server_command()
def link_resource_list(client: Client, registry_name: str, resource_group: str | None) -> Any:
    """List the registry's private link resources (one: registry)."""
    _, path = reg.locate(client, registry_name, resource_group)
    return [flattened(r) for r in client.arm_list(path + "/privateLinkResources")]

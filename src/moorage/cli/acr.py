"""`moorage acr ...`: registries, as `az acr` manages them."""

from __future__ import annotations

from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzGroup, as_bool, bool_option, confirm, server_command
from moorage.cli.data_plane import check_health, repository
from moorage.cli.network_rules import network_rule
from moorage.cli.private_endpoints import private_endpoint_connection, private_link_resource
from moorage.cli.registry_login import login
from moorage.cli.repository_access import scope_map
from moorage.cli.shapes import create_body, parse_tags, registry_table, registry_view, update_body
from moorage.cli.tokens import token

SKUS = ("Basic", "Standard", "Premium")
PASSWORD_NAMES = ("password", "password2")


@click.group(cls=AzGroup)
def acr() -> None:
    """Manage registries (the cloud CLI's `az acr`)."""


def _default_action(func: Any) -> Any:
    return click.option(
        "--default-action",
        type=click.Choice(["Allow", "Deny"], case_sensitive=False),
        default=None,
        help="What happens to a client no network rule matches.",
    )(func)


def _tags(func: Any) -> Any:
    return click.option(
        "--tags",
        multiple=True,
        metavar="KEY[=VALUE] ...",
        help='Space-separated tags; "" clears them.',
    )(func)


@acr.command("create")
@reg.name_options
@click.option(
    "--sku", type=click.Choice(SKUS, case_sensitive=False), required=True, help="Service tier."
)
@click.option("--location", "-l", default=None, help="Location (default: local).")
@bool_option("--admin-enabled", "Turn the admin user on.")
@_default_action
@bool_option("--public-network-enabled", "Whether the public endpoint takes connections.")
@bool_option("--allow-trusted-services", "Let trusted services pass the network rules.")
@_tags
@server_command(table=registry_table)
def create(
    client: Client,
    name: str,
    resource_group: str | None,
    sku: str,
    location: str | None,
    admin_enabled: str | None,
    default_action: str | None,
    public_network_enabled: str | None,
    allow_trusted_services: str | None,
    tags: tuple[str, ...],
) -> Any:
    """Create a registry."""
    body = create_body(
        sku=sku,
        location=location,
        admin_enabled=as_bool(admin_enabled),
        default_action=default_action,
        public_network_enabled=as_bool(public_network_enabled),
        allow_trusted_services=as_bool(allow_trusted_services),
        tags=parse_tags(tags),
    )
    path = reg.registry_path(client, resource_group or reg.DEFAULT_RESOURCE_GROUP, name)
    try:
        created = client.arm_json("PUT", path, json=body, headers={"If-None-Match": "*"})
    except CliError as e:
        if e.code == "RegistryNameNotAvailable":  # create never replaces a registry
            raise CliError(f"The registry DNS name {name} is already in use.") from None
        raise
    return registry_view(created)


@acr.command("show")
@reg.name_options
@server_command(table=registry_table)
def show(client: Client, name: str, resource_group: str | None) -> Any:
    """Show a registry."""
    return registry_view(reg.get(client, name, resource_group).registry)


@acr.command("list")
@click.option("--resource-group", "-g", "resource_group", default=None, help="Only this group.")
@server_command(table=registry_table)
def list_registries(client: Client, resource_group: str | None) -> Any:
    """List registries of the subscription, or of one resource group."""
    base = (
        reg.group_path(client, resource_group) if resource_group else reg.subscription_path(client)
    )
    found = client.arm_list(base + "/providers/Microsoft.ContainerRegistry/registries")
    return [registry_view(r) for r in found]


@acr.command("update")
@reg.name_options
@_default_action
@bool_option("--public-network-enabled", "Whether the public endpoint takes connections.")
@bool_option("--allow-trusted-services", "Let trusted services pass the network rules.")
@bool_option("--admin-enabled", "Turn the admin user on or off.")
@click.option("--sku", type=click.Choice(SKUS, case_sensitive=False), default=None)
@bool_option("--anonymous-pull-enabled", "Let anyone pull without credentials.")
@bool_option("--data-endpoint-enabled", "Serve blobs from a dedicated data endpoint.")
@_tags
@server_command(table=registry_table)
def update(
    client: Client,
    name: str,
    resource_group: str | None,
    default_action: str | None,
    public_network_enabled: str | None,
    allow_trusted_services: str | None,
    admin_enabled: str | None,
    sku: str | None,
    anonymous_pull_enabled: str | None,
    data_endpoint_enabled: str | None,
    tags: tuple[str, ...],
) -> Any:
    """Update a registry: only the settings given change."""
    body = update_body(
        sku=sku,
        tags=parse_tags(tags),
        admin_enabled=as_bool(admin_enabled),
        default_action=default_action,
        public_network_enabled=as_bool(public_network_enabled),
        allow_trusted_services=as_bool(allow_trusted_services),
        anonymous_pull_enabled=as_bool(anonymous_pull_enabled),
        data_endpoint_enabled=as_bool(data_endpoint_enabled),
    )
    _, path = reg.locate(client, name, resource_group)
    return registry_view(client.arm_json("PATCH", path, json=body))


@acr.command("delete")
@reg.name_options
@click.option("--yes", "-y", is_flag=True, help="Do not prompt for confirmation.")
@server_command()
def delete(client: Client, name: str, resource_group: str | None, yes: bool) -> Any:
    """Delete a registry and everything in it."""
    if confirm("Are you sure you want to perform this operation?", yes):
        _, path = reg.locate(client, name, resource_group)
        client.arm("DELETE", path)
    return None


@acr.command("show-endpoints")
@reg.name_options
@server_command()
def show_endpoints(client: Client, name: str, resource_group: str | None) -> Any:
    """Show the registry's login server, data endpoints and private endpoints (the address
    each listens on, and the state of the registry's connection there)."""
    found = reg.get(client, name, resource_group)
    properties = found.registry["properties"]
    private = []
    for connection in properties.get("privateEndpointConnections") or []:
        state = connection["properties"]["privateLinkServiceConnectionState"]["status"]
        endpoint_id = (connection["properties"].get("privateEndpoint") or {}).get("id")
        entry = {"connection": connection["name"], "status": state, "privateEndpoint": None}
        if endpoint_id:
            endpoint = client.arm_json("GET", endpoint_id, params={"api-version": "2024-05-01"})
            listener = endpoint["properties"].get("listener") or {}
            host = listener.get("address", "")
            entry["privateEndpoint"] = endpoint["name"]
            entry["address"] = f"[{host}]" if ":" in host else host
            entry["address"] += f":{listener.get('port')}"
        private.append(entry)
    return {
        "loginServer": properties["loginServer"],
        "dataEndpoints": [
            {"region": found.registry.get("location"), "endpoint": host}
            for host in properties.get("dataEndpointHostNames") or []
        ],
        "privateEndpoints": private,
    }


@acr.group("credential", cls=AzGroup)
def credential() -> None:
    """The admin user's credentials."""


@credential.command("show")
@reg.name_options
@server_command()
def credential_show(client: Client, name: str, resource_group: str | None) -> Any:
    """Show the admin user's name and passwords."""
    _, path = reg.locate(client, name, resource_group)
    return client.arm_json("POST", path + "/listCredentials")


@credential.command("renew")
@reg.name_options
@click.option(
    "--password-name",
    type=click.Choice(PASSWORD_NAMES, case_sensitive=False),
    required=True,
    help="Which password to make anew.",
)
@server_command()
def credential_renew(
    client: Client, name: str, resource_group: str | None, password_name: str
) -> Any:
    """Make a new admin password."""
    _, path = reg.locate(client, name, resource_group)
    return client.arm_json(
        "POST", path + "/regenerateCredential", json={"name": password_name.lower()}
    )


for _command in (
    network_rule,
    repository,
    check_health,
    login,
    scope_map,
    token,
    private_endpoint_connection,
    private_link_resource,
):
    acr.add_command(_command)

"""Finding a registry on the management API: its resource group (looked up the way the cloud
CLI does when -g is not given), its URL, and its current JSON with the etag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import click

from moorage.cli.client import RESOURCES_API, Client, CliError
from moorage.cli.shapes import group_of

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
DEFAULT_RESOURCE_GROUP = "moorage"


def subscription_path(client: Client) -> str:
    return f"/subscriptions/{quote(client.subscription, safe='')}"


def group_path(client: Client, group: str) -> str:
    return f"{subscription_path(client)}/resourceGroups/{quote(group, safe='')}"


def registry_path(client: Client, group: str, name: str) -> str:
    return (
        f"{group_path(client, group)}/providers/Microsoft.ContainerRegistry/registries/"
        f"{quote(name, safe='')}"
    )


def find_group(client: Client, name: str) -> str:
    """The resource group of registry `name` (names are case-insensitive and unique)."""
    found = client.arm_list(
        f"{subscription_path(client)}/resources?$filter="
        + quote(f"resourceType eq '{REGISTRY_TYPE}'", safe="")
        + f"&api-version={RESOURCES_API}",
        api_version=RESOURCES_API,
    )
    for resource in found:
        if str(resource.get("name", "")).lower() == name.lower():
            group = group_of(str(resource.get("id", "")))
            if group:
                return group
    raise CliError(
        f"The resource with name '{name}' and type '{REGISTRY_TYPE}' could not be found in "
        f"subscription '{client.subscription}'.",
        code="ResourceNotFound",
        status=404,
    )


@dataclass
class Found:
    """A registry as read now: its wire JSON, etag, URL path and resource group."""

    registry: dict[str, Any]
    etag: str
    path: str
    group: str

    @property
    def login_server(self) -> str:
        return str(self.registry["properties"]["loginServer"])

    @property
    def admin_enabled(self) -> bool:
        return bool(self.registry["properties"].get("adminUserEnabled"))


def locate(client: Client, name: str, group: str | None) -> tuple[str, str]:
    """(resource group, URL path) of registry `name`."""
    group = group or find_group(client, name)
    return group, registry_path(client, group, name)


def get(client: Client, name: str, group: str | None) -> Found:
    group, path = locate(client, name, group)
    response = client.arm("GET", path)
    registry = response.json()
    etag = response.headers.get("ETag") or f'"{registry.get("etag", "")}"'
    return Found(registry, etag, path, group)


def admin_credentials(client: Client, found: Found) -> tuple[str, str] | None:
    """The admin user's name and first password, when the admin user is on and the caller may
    read them (a Reader may not: then None)."""
    if not found.admin_enabled:
        return None
    try:
        listed = client.arm_json("POST", found.path + "/listCredentials")
    except CliError as e:
        if e.status in (401, 403):
            return None
        raise
    passwords = listed.get("passwords") or []
    if not passwords:
        return None
    return str(listed["username"]), str(passwords[0]["value"])


def name_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """-n/--name and -g/--resource-group, as every `acr` command has them."""
    func = click.option(
        "--resource-group",
        "-g",
        "resource_group",
        default=None,
        help="Resource group (default: found from the name).",
    )(func)
    return click.option(
        "--name", "-n", "name", required=True, help="The name of the container registry."
    )(func)


def data_plane_credentials(client: Client, found: Found) -> tuple[str, str]:
    """What the CLI signs in to a registry with: the admin user when it is on (and readable),
    else the CLI's own service principal (its appId and secret)."""
    admin = admin_credentials(client, found)
    if admin is not None:
        return admin
    return client.credential.app_id, client.credential.password

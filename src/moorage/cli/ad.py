"""`moorage ad sp ...`: service principals and their roles, as `az ad sp` makes them.

The cloud keeps these in its directory; moorage serves them under the subscription at
/subscriptions/{id}/providers/Moorage.Identity/servicePrincipals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import click

from moorage.cli.client import RESOURCES_API, Client, CliError
from moorage.cli.command import AzGroup, server_command

ROLES = ("Owner", "Contributor", "Reader", "AcrPull", "AcrPush", "AcrDelete")
CREDENTIAL_WARNING = (
    "WARNING: The output includes credentials that you must protect. Be sure that you do not "
    "include these credentials in your code or check the credentials into your source control."
)


def principals_path(client: Client) -> str:
    subscription = quote(client.subscription, safe="")
    return f"/subscriptions/{subscription}/providers/Moorage.Identity/servicePrincipals"


def principal_path(client: Client, app_id: str) -> str:
    return f"{principals_path(client)}/{quote(app_id, safe='')}"


@click.group("ad", cls=AzGroup)
def ad() -> None:
    """Identities (the cloud CLI's `az ad`)."""


@ad.group("sp", cls=AzGroup)
def sp() -> None:
    """Service principals: identities for programs, with a role on a scope."""


@sp.command("create-for-rbac")
@click.option("--name", "-n", default=None, help="Display name (default: a dated one).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES, case_sensitive=False),
    help="The role to give it.",
)
@click.option(
    "--scopes",
    multiple=True,
    metavar="SCOPE ...",
    help="Space-separated resource ids the role holds on (default: the subscription).",
)
@click.option(
    "--trusted", is_flag=True, help="A trusted service: it may pass registries' network rules."
)
@server_command()
def create_for_rbac(
    client: Client, name: str | None, role: str, scopes: tuple[str, ...], trusted: bool
) -> Any:
    """Create a service principal with a role; prints its secret once."""
    display_name = name or "moorage-cli-" + datetime.now(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    body: dict[str, Any] = {"displayName": display_name, "role": role}
    if scopes:
        body["scopes"] = list(scopes)
    if trusted:
        body["trusted"] = True
    created = client.arm_json("POST", principals_path(client), json=body, api_version=RESOURCES_API)
    click.echo(CREDENTIAL_WARNING, err=True)
    return {k: created.get(k) for k in ("appId", "displayName", "password", "tenant")}


@sp.command("list")
@server_command()
def list_principals(client: Client) -> Any:
    """List service principals and their roles."""
    return client.arm_list(principals_path(client), api_version=RESOURCES_API)


@sp.command("delete")
@click.option("--id", "app_id", required=True, help="The appId.")
@server_command()
def delete(client: Client, app_id: str) -> Any:
    """Delete a service principal; its tokens stop working at once."""
    response = client.arm("DELETE", principal_path(client, app_id), api_version=RESOURCES_API)
    if response.status_code == 204:
        raise CliError(
            f"Resource '{app_id}' does not exist or one of its queried reference-property "
            "objects are not present."
        )
    return None


@sp.group("credential", cls=AzGroup)
def credential() -> None:
    """A service principal's secret."""


@credential.command("reset")
@click.option("--id", "app_id", required=True, help="The appId.")
@server_command()
def credential_reset(client: Client, app_id: str) -> Any:
    """Make a new secret (the old one stops working); prints it once."""
    reset = client.arm_json(
        "POST", principal_path(client, app_id) + "/resetCredential", api_version=RESOURCES_API
    )
    click.echo(CREDENTIAL_WARNING, err=True)
    return {k: reset.get(k) for k in ("appId", "password", "tenant")}

"""`moorage acr token ...`, as `az acr token` has it: a token is a login name bound to one scope
map, with up to two passwords. A password's value is printed once, when it is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzGroup, bool_option, confirm, server_command
from moorage.cli.repository_access import (
    ACTIONS,
    RepositoryCommand,
    child_options,
    child_path,
    expiration_options,
    expiry,
    registry_options,
    registry_path,
    scope_map_lines,
    token_table,
    token_view,
)

STATUSES = ("enabled", "disabled")
DEFAULT_SCOPE_MAP = "{}-scope-map"  # as the cloud CLI names the map it makes for --repository


@click.group("token", cls=AzGroup)
def token() -> None:
    """Repository-scoped tokens: a user name and passwords that grant a scope map's actions."""


def _warn(message: str) -> None:
    click.echo(f"WARNING: {message}", err=True)


def _default_scope_map(
    client: Client, registry: str, path: str, token_name: str, repositories: tuple[str, ...]
) -> str:
    """The scope map `<token>-scope-map` with these actions: made, or found as it is."""
    name = DEFAULT_SCOPE_MAP.format(token_name)
    actions = scope_map_lines("--repository", repositories)
    try:
        existing = client.arm_json("GET", f"{path}/scopeMaps/{name}")
    except CliError as e:
        if e.status != 404:
            raise
    else:
        if sorted(existing["properties"]["actions"]) == sorted(actions):
            return name
        raise CliError(
            f"The scope map '{name}' already exists with other actions; change it with "
            f"`moorage acr scope-map update -r {registry} -n {name} --add-repository ... "
            "--remove-repository ...`, or use --scope-map"
        )
    _warn(f'Creating a scope map "{name}" for provided repository permissions.')
    client.arm_json(
        "PUT",
        f"{path}/scopeMaps/{name}",
        json={"properties": {"actions": actions, "description": f"Created by token: {token_name}"}},
        headers={"If-None-Match": "*"},
    )
    return name


def _generate(client: Client, path: str, token_id: str, name: str | None, when: str | None) -> Any:
    body: dict[str, Any] = {"tokenId": token_id}
    if name:
        body["name"] = name
    if when:
        body["expiry"] = when
    return client.arm_json("POST", f"{path}/generateCredentials", json=body)


@token.command("create", cls=RepositoryCommand)
@child_options("token")
@click.option("--scope-map", default=None, help="The scope map the token grants.")
@click.option(
    "--repository",
    "repositories",
    multiple=True,
    metavar="REPO ACTION [ACTION ...]",
    help=f"Instead of --scope-map: a repository and its actions ({', '.join(ACTIONS)}), "
    "kept in the scope map '<token>-scope-map'. Repeatable.",
)
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False), default=None)
@expiration_options
@bool_option("--no-passwords", "Make no passwords now (see `token credential generate`).")
@server_command(table=token_table)
def token_create(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    scope_map: str | None,
    repositories: tuple[str, ...],
    status: str | None,
    expiration_in_days: int | None,
    expiration: datetime | None,
    no_passwords: str | None,
) -> Any:
    """Create a token; unless --no-passwords, make its two passwords and print them once."""
    if bool(repositories) == bool(scope_map):
        raise CliError("usage error: --repository | --scope-map (one of them)", exit_code=2)
    when = expiry(expiration_in_days, expiration)  # checked before anything is made
    found = reg.get(client, registry, resource_group)
    if repositories:
        scope_map = _default_scope_map(client, registry, found.path, name, repositories)
    assert scope_map is not None
    properties: dict[str, Any] = {"scopeMapId": f"{found.path}/scopeMaps/{scope_map}"}
    if status:
        properties["status"] = status.lower()
    path = child_path(client, registry, found.group, "tokens", name)
    try:
        created = client.arm_json(
            "PUT", path, json={"properties": properties}, headers={"If-None-Match": "*"}
        )
    except CliError as e:
        if e.code == "Conflict" and "already exists" in e.message:
            raise CliError(
                f"The token '{name}' already exists; see `moorage acr token show -r {registry} "
                f"-n {name}`, `token update` and `token credential generate`"
            ) from None
        raise
    view = token_view(created)
    if (no_passwords or "false").lower() == "true":
        return view
    credentials = _generate(client, found.path, created["id"], None, when)
    view["credentials"]["username"] = credentials["username"]
    view["credentials"]["passwords"] = credentials["passwords"]
    _warn(
        "Please store your generated credentials safely: their values are not shown again. "
        f"Log in with: podman login {found.login_server} -u {credentials['username']}"
    )
    return view


@token.command("update")
@child_options("token")
@click.option("--scope-map", default=None, help="The scope map the token grants from now on.")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False), default=None)
@server_command(table=token_table)
def token_update(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    scope_map: str | None,
    status: str | None,
) -> Any:
    """Give a token another scope map, or enable or disable it."""
    if scope_map is None and status is None:
        raise CliError("give --scope-map or --status (or both)", exit_code=2)
    group, path = reg.locate(client, registry, resource_group)
    properties: dict[str, Any] = {}
    if scope_map is not None:
        properties["scopeMapId"] = f"{path}/scopeMaps/{scope_map}"
    if status is not None:
        properties["status"] = status.lower()
    updated = client.arm_json(
        "PATCH",
        child_path(client, registry, group, "tokens", name),
        json={"properties": properties},
    )
    return token_view(updated)


@token.command("show")
@child_options("token")
@server_command(table=token_table)
def token_show(client: Client, name: str, registry: str, resource_group: str | None) -> Any:
    """Show a token: its scope map, status and passwords' dates (never their values)."""
    return token_view(
        client.arm_json("GET", child_path(client, registry, resource_group, "tokens", name))
    )


@token.command("list")
@registry_options
@server_command(table=token_table)
def token_list(client: Client, registry: str, resource_group: str | None) -> Any:
    """List the registry's tokens."""
    path = registry_path(client, registry, resource_group) + "/tokens"
    return [token_view(t) for t in client.arm_list(path)]


@token.command("delete")
@child_options("token")
@click.option("--yes", "-y", is_flag=True, help="Do not prompt for confirmation.")
@server_command()
def token_delete(
    client: Client, name: str, registry: str, resource_group: str | None, yes: bool
) -> Any:
    """Delete a token: its passwords stop working at once."""
    question = (
        f"Deleting the token '{name}' will invalidate access to anyone using its credentials. "
        "Proceed?"
    )
    if confirm(question, yes):
        client.arm("DELETE", child_path(client, registry, resource_group, "tokens", name))
    return None


@token.group("credential", cls=AzGroup)
def credential() -> None:
    """A token's passwords."""


@credential.command("generate")
@child_options("token")
@click.option("--password1", is_flag=True, help="Make password1 anew.")
@click.option("--password2", is_flag=True, help="Make password2 anew.")
@expiration_options
@server_command()
def credential_generate(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    password1: bool,
    password2: bool,
    expiration_in_days: int | None,
    expiration: datetime | None,
) -> Any:
    """Make one password anew (the other keeps working), or both when neither is named."""
    when = expiry(expiration_in_days, expiration)
    which = ("password1" if password1 else "password2") if password1 != password2 else None
    path = registry_path(client, registry, resource_group)
    return _generate(client, path, f"{path}/tokens/{name}", which, when)


@credential.command("delete")
@child_options("token")
@click.option("--password1", is_flag=True, help="Delete password1.")
@click.option("--password2", is_flag=True, help="Delete password2.")
@server_command(table=token_table)
def credential_delete(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    password1: bool,
    password2: bool,
) -> Any:
    """Delete a password: it stops working at once."""
    if not (password1 or password2):
        raise CliError("No credentials to delete: give --password1 or --password2.", exit_code=2)
    path = child_path(client, registry, resource_group, "tokens", name)
    current = client.arm_json("GET", path)
    names = [p["name"] for p in current["properties"]["credentials"]["passwords"]]
    for flag, wanted in (("password1", password1), ("password2", password2)):
        if wanted and flag not in names:
            raise CliError(f"The token '{name}' has no {flag}; nothing to delete.")
    keep = [n for n in names if not {"password1": password1, "password2": password2}[n]]
    body = {"properties": {"credentials": {"passwords": [{"name": n} for n in keep]}}}
    return token_view(client.arm_json("PATCH", path, json=body))

"""`moorage acr scope-map ...` and `moorage acr token ...`, as `az acr scope-map` and
`az acr token` have them: `--name/-n` names the scope map or token, `--registry/-r` the
registry, and `--repository REPO ACTION [ACTION ...]` (repeatable) gives actions on a
repository, e.g. `--repository app content/read metadata/read`.

Actions are checked by the server, so the CLI says exactly what the API says.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError
from moorage.cli.command import AzCommand, AzGroup, confirm, server_command
from moorage.cli.shapes import group_of

ACTIONS = ("content/read", "content/write", "content/delete", "metadata/read", "metadata/write")
GROUPED = ("--repository", "--add-repository", "--remove-repository")
TIMES = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


def group_repository_args(args: Iterable[str]) -> list[str]:
    """`--repository app content/read metadata/read` -> `--repository 'app content/read
    metadata/read'`: one value per repository, so click keeps each repository's actions."""
    out: list[str] = []
    current: int | None = None
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            out.append(arg)
            out.extend(rest)
            break
        if arg.startswith("-") and len(arg) > 1:
            name, has_value, value = arg.partition("=")
            current = None
            if name in GROUPED:
                out.extend([name, value if has_value else ""])
                current = len(out) - 1
                continue
            out.append(arg)
        elif current is not None:
            out[current] = f"{out[current]} {arg}".strip()
        else:
            out.append(arg)
    return out


class RepositoryCommand(AzCommand):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, group_repository_args(args))


def scope_map_lines(option: str, groups: Iterable[str]) -> list[str]:
    """`app content/read metadata/read` -> repositories/app/content/read, ...; in order."""
    lines: list[str] = []
    for group in groups:
        repository, *actions = group.split()
        if not actions:
            raise CliError(
                f"{option} {group}: give the repository and its actions, e.g. {option} app "
                f"content/read metadata/read (actions: {', '.join(ACTIONS)})",
                exit_code=2,
            )
        lines.extend(f"repositories/{repository}/{action}" for action in actions)
    return list(dict.fromkeys(lines))


# -- views -------------------------------------------------------------------------------------


def _flattened(resource: Mapping[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {k: v for k, v in resource.items() if k != "properties"}
    view.update(resource.get("properties") or {})
    view["type"] = resource.get("type")
    view["resourceGroup"] = group_of(str(resource.get("id", "")))
    view.setdefault("systemData", None)
    return view


def scope_map_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A scope map as `az acr scope-map show` prints it (its own type is `scopeMapType`)."""
    view = _flattened(resource)
    view["scopeMapType"] = (resource.get("properties") or {}).get("type")
    return view


def token_view(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A token as `az acr token show` prints it."""
    view = _flattened(resource)
    credentials = dict(view.get("credentials") or {})
    credentials.setdefault("certificates", [])
    credentials.setdefault("passwords", [])
    view["credentials"] = credentials
    return view


def _date(value: Any) -> str:
    return str(value or "")[:19].replace("T", " ") if value else ""


def scope_map_table(result: Any) -> Any:
    def row(item: Mapping[str, Any]) -> OrderedDict[str, Any]:
        return OrderedDict(
            [
                ("NAME", item.get("name")),
                ("TYPE", item.get("scopeMapType")),
                ("CREATION DATE", _date(item.get("creationDate"))),
                ("DESCRIPTION", item.get("description")),
            ]
        )

    return [row(i) for i in result] if isinstance(result, list) else row(result)


def token_table(result: Any) -> Any:
    def row(item: Mapping[str, Any]) -> OrderedDict[str, Any]:
        expiry = {
            p.get("name"): _date(p.get("expiry")) or "never"
            for p in (item.get("credentials") or {}).get("passwords") or []
        }
        return OrderedDict(
            [
                ("NAME", item.get("name")),
                ("SCOPE MAP", str(item.get("scopeMapId") or "").rsplit("/", 1)[-1]),
                ("PASSWORD1 EXPIRY", expiry.get("password1", "")),
                ("PASSWORD2 EXPIRY", expiry.get("password2", "")),
                ("STATUS", item.get("status")),
                ("CREATION DATE", _date(item.get("creationDate"))),
            ]
        )

    return [row(i) for i in result] if isinstance(result, list) else row(result)


# -- shared options ----------------------------------------------------------------------------


def child_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--name/-n (the scope map's or token's), --registry/-r and --resource-group/-g."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--resource-group",
            "-g",
            "resource_group",
            default=None,
            help="Resource group (default: found from the registry's name).",
        )(func)
        func = click.option(
            "--registry", "-r", required=True, help="The name of the container registry."
        )(func)
        return click.option("--name", "-n", "name", required=True, help=f"The {what}'s name.")(func)

    return decorate


def registry_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--resource-group", "-g", "resource_group", default=None)(func)
    return click.option(
        "--registry", "-r", required=True, help="The name of the container registry."
    )(func)


def expiration_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--expiration",
        type=click.DateTime(TIMES),
        default=None,
        metavar="TIME",
        help="When the passwords stop working, e.g. 2026-12-31T23:59:59Z (UTC).",
    )(func)
    return click.option(
        "--expiration-in-days",
        type=click.IntRange(min=1),
        default=None,
        help="Number of days the passwords work; without it (or --expiration) they never expire.",
    )(func)


def expiry(days: int | None, when: datetime | None) -> str | None:
    if days is not None and when is not None:
        raise CliError("give --expiration-in-days or --expiration, not both", exit_code=2)
    if days is not None:
        return (datetime.now(UTC) + timedelta(days=days)).isoformat()
    if when is not None:
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if when <= datetime.now(UTC):
            raise CliError(f"--expiration {when.isoformat()} is in the past", exit_code=2)
        return when.isoformat()
    return None


def registry_path(client: Client, registry: str, group: str | None) -> str:
    return reg.locate(client, registry, group)[1]


def child_path(client: Client, registry: str, group: str | None, kind: str, name: str) -> str:
    return f"{registry_path(client, registry, group)}/{kind}/{quote(name, safe='')}"


# -- scope-map ---------------------------------------------------------------------------------


@click.group("scope-map", cls=AzGroup)
def scope_map() -> None:
    """Scope maps: named sets of actions on repositories, which tokens grant."""


@scope_map.command("create", cls=RepositoryCommand)
@child_options("scope map")
@click.option(
    "--repository",
    "repositories",
    multiple=True,
    metavar="REPO ACTION [ACTION ...]",
    help=f"A repository (or '*', 'prefix/*') and its actions: {', '.join(ACTIONS)}. Repeatable.",
)
@click.option("--description", default=None, help="What the scope map is for.")
@server_command(table=scope_map_table)
def scope_map_create(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    repositories: tuple[str, ...],
    description: str | None,
) -> Any:
    """Create a scope map (an existing one is not replaced)."""
    if not repositories:
        raise CliError("give at least one --repository REPO ACTION [ACTION ...]", exit_code=2)
    body: dict[str, Any] = {"actions": scope_map_lines("--repository", repositories)}
    if description is not None:
        body["description"] = description
    path = child_path(client, registry, resource_group, "scopeMaps", name)
    try:
        created = client.arm_json(
            "PUT", path, json={"properties": body}, headers={"If-None-Match": "*"}
        )
    except CliError as e:
        if e.code == "Conflict" and "already exists" in e.message:
            raise CliError(
                f"The scope map '{name}' already exists; change it with `moorage acr scope-map "
                f"update -r {registry} -n {name} --add-repository ... --remove-repository ...`"
            ) from None
        raise
    return scope_map_view(created)


@scope_map.command("update", cls=RepositoryCommand)
@child_options("scope map")
@click.option(
    "--add-repository",
    "add",
    multiple=True,
    metavar="REPO ACTION [ACTION ...]",
    help="Actions to add on a repository. Repeatable.",
)
@click.option(
    "--remove-repository",
    "remove",
    multiple=True,
    metavar="REPO ACTION [ACTION ...]",
    help="Actions to remove from a repository. Repeatable.",
)
@click.option("--description", default=None, help="A new description.")
@server_command(table=scope_map_table)
def scope_map_update(
    client: Client,
    name: str,
    registry: str,
    resource_group: str | None,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    description: str | None,
) -> Any:
    """Add or remove actions, or change the description."""
    if not (add or remove or description is not None):
        raise CliError(
            "give --add-repository, --remove-repository or --description (or several)",
            exit_code=2,
        )
    path = child_path(client, registry, resource_group, "scopeMaps", name)
    properties: dict[str, Any] = {}
    if add or remove:
        current = client.arm_json("GET", path)["properties"]["actions"]
        removed = set(scope_map_lines("--remove-repository", remove))
        kept = [line for line in current if line not in removed]
        properties["actions"] = list(
            dict.fromkeys([*kept, *scope_map_lines("--add-repository", add)])
        )
    if description is not None:
        properties["description"] = description
    return scope_map_view(client.arm_json("PATCH", path, json={"properties": properties}))


@scope_map.command("show")
@child_options("scope map")
@server_command(table=scope_map_table)
def scope_map_show(client: Client, name: str, registry: str, resource_group: str | None) -> Any:
    """Show a scope map and its actions."""
    return scope_map_view(
        client.arm_json("GET", child_path(client, registry, resource_group, "scopeMaps", name))
    )


@scope_map.command("list")
@registry_options
@server_command(table=scope_map_table)
def scope_map_list(client: Client, registry: str, resource_group: str | None) -> Any:
    """List the registry's scope maps, the system-defined ones first."""
    path = registry_path(client, registry, resource_group) + "/scopeMaps"
    return [scope_map_view(m) for m in client.arm_list(path)]


@scope_map.command("delete")
@child_options("scope map")
@click.option("--yes", "-y", is_flag=True, help="Do not prompt for confirmation.")
@server_command()
def scope_map_delete(
    client: Client, name: str, registry: str, resource_group: str | None, yes: bool
) -> Any:
    """Delete a scope map that no token uses."""
    question = f"Deleting the scope map '{name}' will remove its permissions. Proceed?"
    if confirm(question, yes):
        client.arm("DELETE", child_path(client, registry, resource_group, "scopeMaps", name))
    return None

"""`moorage login`, `moorage logout` and `moorage account show`, as `az` has them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from moorage.cli.client import (
    RESOURCES_API,
    Client,
    CliError,
    Credential,
    data_dir_of,
    delete_profile,
    profile_path,
    resolve_endpoint,
    save_profile,
)
from moorage.cli.command import (
    AzCommand,
    AzGroup,
    emit,
    fail,
    output_options,
    server_command,
)
from moorage.cli.shapes import account_view


@click.command("login", cls=AzCommand)
@click.option("--endpoint", default=None, metavar="URL", help="The moorage server.")
@click.option(
    "--service-principal", is_flag=True, help="Log in as a service principal (the only way)."
)
@click.option("--username", "-u", default=None, help="The service principal's appId.")
@click.option("--password", "-p", default=None, help="Its secret (prompted when left out).")
@click.option("--tenant", "-t", default=None, help="The tenant id.")
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="MOORAGE_CA_BUNDLE",
    help="CA certificates to trust for an https endpoint.",
)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@output_options
def login(
    endpoint: str | None,
    service_principal: bool,
    username: str | None,
    password: str | None,
    tenant: str | None,
    ca_bundle: Path | None,
    data_dir: Path | None,
    output: str | None,
    query: str | None,
) -> None:
    """Log in to a moorage server as a service principal; later commands use this login."""
    try:
        if not service_principal:
            raise CliError(
                "moorage signs in service principals only: use `moorage login "
                "--service-principal -u APPID -p SECRET --tenant TENANT`",
                exit_code=2,
            )
        missing = [n for n, v in (("--username", username), ("--tenant", tenant)) if not v]
        if missing:
            raise CliError(
                f"the following arguments are required: {', '.join(missing)}", exit_code=2
            )
        assert username is not None and tenant is not None
        if password is None:
            if not sys.stdin.isatty():
                raise CliError("--password is required without a terminal", exit_code=2)
            password = click.prompt("Password", hide_input=True, err=True)
        url = resolve_endpoint(endpoint)
        credential = Credential(username, password, tenant, "", "the login")
        client = Client(
            url, data_dir=data_dir_of(data_dir), ca_bundle=ca_bundle, credential=credential
        )
        try:
            client.token()
            subscriptions = client.arm_list("/subscriptions", api_version=RESOURCES_API)
        finally:
            client.close()
        if not subscriptions:
            raise CliError(f"No subscriptions found for {username}.")
        save_profile(
            {
                "endpoint": url,
                "appId": username,
                "password": password,
                "tenant": tenant,
                "subscription": str(subscriptions[0]["subscriptionId"]),
            }
        )
        views = [account_view(s, username, key="cloudName") for s in subscriptions]
        for view in views[1:]:
            view["isDefault"] = False
        code = emit(views, output, query, None)
    except CliError as e:
        fail(e)
    sys.exit(code)


@click.command("logout", cls=AzCommand)
def logout() -> None:
    """Forget the login (the profile file)."""
    if not delete_profile():
        fail(CliError(f"There are no active accounts ({profile_path()} does not exist)."))


@click.group("account", cls=AzGroup)
def account() -> None:
    """The subscription this command line works in."""


@account.command("show")
@server_command()
def account_show(client: Client) -> Any:
    """Show the subscription and who is signed in."""
    subscription = client.arm_json(
        "GET", f"/subscriptions/{client.subscription}", api_version=RESOURCES_API
    )
    return account_view(subscription, client.credential.app_id, key="environmentName")

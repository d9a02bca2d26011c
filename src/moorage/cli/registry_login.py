"""`moorage acr login`: credentials for a registry where container tools read them.

podman, skopeo and buildah read `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/
auth.json` (else `/run/containers/$UID/auth.json`, as containers/image does); docker reads
`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. Both hold
{"auths": {"<login server>": {"auth": base64("user:password")}}}; entries for other
registries are kept.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError, error_message, write_private
from moorage.cli.command import AzCommand, server_command

TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105 (the user name tokens go with)


def containers_auth_file() -> Path:
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "containers" / "auth.json"
    return Path("/run/containers") / str(os.getuid()) / "auth.json"


def docker_config_file() -> Path:
    explicit = os.environ.get("DOCKER_CONFIG")
    base = Path(explicit) if explicit else Path.home() / ".docker"
    return base / "config.json"


def store_login(path: Path, login_server: str, username: str, password: str) -> None:
    """Merge one registry's credentials into an auth file, which stays private (0600)."""
    try:
        document: Any = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        document = {}
    except (OSError, ValueError) as e:
        raise CliError(f"{path} is not a readable JSON auth file ({e}); fix or remove it") from None
    if not isinstance(document, dict):
        raise CliError(f"{path} is not a JSON object; fix or remove it")
    auths = document.setdefault("auths", {})
    if not isinstance(auths, dict):
        raise CliError(f'{path}: "auths" is not an object; fix or remove it')
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    auths[login_server] = {"auth": token}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, (json.dumps(document, indent=2) + "\n").encode())


def registry_token(client: Client, login_server: str) -> str:
    """A token for the registry: the refresh token its token service (/oauth2/exchange) gives
    this identity for the management token, as the cloud's does. It is a password for the
    user name 00000000-0000-0000-0000-000000000000, valid for three hours."""
    form = {
        "grant_type": "access_token",
        "service": login_server,
        "tenant": client.credential.tenant,
        "access_token": client.token(),
    }
    response = client.data(login_server, "POST", "/oauth2/exchange", data=form)
    if response.status_code != 200:
        raise CliError(f"{login_server} refused the token exchange: {error_message(response)[0]}")
    return str(response.json()["refresh_token"])


def verify_login(client: Client, login_server: str, auth: tuple[str, str]) -> None:
    response = client.data(login_server, "GET", "/v2/", auth=auth)
    if response.status_code in (401, 403):
        raise CliError(f"{login_server} refused the login: {error_message(response)[0]}")
    if response.status_code >= 400:
        raise CliError(f"{login_server} answered HTTP {response.status_code} to /v2/")


@click.command("login", cls=AzCommand)
@reg.name_options
@click.option(
    "--expose-token",
    "-t",
    is_flag=True,
    help="Print an access token instead of writing the container tools' auth files.",
)
@server_command()
def login(client: Client, name: str, resource_group: str | None, expose_token: bool) -> Any:
    """Log the container tools (podman, skopeo, docker) in to a registry."""
    found = reg.get(client, name, resource_group)
    login_server = found.login_server
    if expose_token:
        click.echo(
            "You can perform manual login using the provided access token, for example: "
            f"'podman login {login_server} --username {TOKEN_USER} --password <token>'",
            err=True,
        )
        return {"accessToken": registry_token(client, login_server), "loginServer": login_server}
    username, password = reg.data_plane_credentials(client, found)
    verify_login(client, login_server, (username, password))
    written = []
    for path in (containers_auth_file(), docker_config_file()):
        try:
            store_login(path, login_server, username, password)
        except OSError as e:
            raise CliError(f"cannot write {path}: {e}") from None
        written.append(str(path))
    click.echo(f"Credentials for {login_server} stored in {', '.join(written)}", err=True)
    click.echo("Login Succeeded")
    return None

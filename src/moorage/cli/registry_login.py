"""`moorage acr login`: sign docker in to a registry's login server, as `az acr login` does.

The cloud CLI asks the registry's token service for a fresh token (`/oauth2/exchange`: a
refresh token for the CLI's own identity, valid three hours) and hands it to `docker login
--username 00000000-0000-0000-0000-000000000000 --password-stdin <login server>`: the password
never appears on a command line. `--username/--password` sign in with those instead (the admin
user, a token, a service principal). `--expose-token` prints the token for other tools and
needs no docker.

moorage also stores the same credentials where podman, skopeo and buildah read them
(`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else
`/run/containers/$UID/auth.json`, as containers/image does), keeping other registries' entries.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click

from moorage.cli import registries as reg
from moorage.cli.client import Client, CliError, error_message, write_private
from moorage.cli.command import AzCommand, server_command

TOKEN_USER = "00000000-0000-0000-0000-000000000000"  # noqa: S105 (the user name tokens go with)
DOCKER_TIMEOUT = 120.0


def containers_auth_file() -> Path:
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "containers" / "auth.json"
    return Path("/run/containers") / str(os.getuid()) / "auth.json"


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


def docker_program(name: str) -> str:
    """The docker CLI on PATH, or the error az gives when there is none."""
    found = shutil.which("docker")
    if found is None:
        raise CliError(
            "DOCKER_COMMAND_ERROR: docker is not installed or not on PATH; please verify that "
            "the Docker client is installed and running. To sign in another tool without "
            f"docker, print a token with 'moorage acr login --name {name} --expose-token'."
        )
    return found


def docker_login(docker: str, login_server: str, username: str, password: str) -> str:
    """`docker login` with the password on its standard input; what docker printed."""
    argv = [docker, "login", "--username", username, "--password-stdin", login_server]
    try:
        done = subprocess.run(  # noqa: S603 (a fixed argv; the password goes through stdin)
            argv,
            input=password,
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CliError(f"could not run {docker}: {e}") from None
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split())
        raise CliError(f"docker could not sign in to {login_server}: {said}")
    return done.stdout


@click.command("login", cls=AzCommand)
@reg.name_options
@click.option("--username", "-u", default=None, help="The username to sign in with.")
@click.option("--password", "-p", default=None, help="The password to sign in with.")
@click.option(
    "--expose-token",
    "-t",
    is_flag=True,
    help="Print an access token instead of signing docker in (docker is not needed).",
)
@server_command()
def login(
    client: Client,
    name: str,
    resource_group: str | None,
    username: str | None,
    password: str | None,
    expose_token: bool,
) -> Any:
    """Log in to a registry through the docker CLI, with a fresh token."""
    if (username is None) != (password is None):
        given, missing = ("--username", "--password") if username else ("--password", "--username")
        raise CliError(f"{given} needs {missing} too", exit_code=2)
    found = reg.get(client, name, resource_group)
    login_server = found.login_server
    if expose_token:
        click.echo(
            "You can perform manual login using the provided access token, for example: "
            f"'docker login {login_server} --username {TOKEN_USER} --password-stdin'",
            err=True,
        )
        return {
            "accessToken": registry_token(client, login_server),
            "loginServer": login_server,
            "username": TOKEN_USER,
        }
    docker = docker_program(name)
    if username is None or password is None:
        username, password = TOKEN_USER, registry_token(client, login_server)
    said = docker_login(docker, login_server, username, password)
    path = containers_auth_file()
    try:
        store_login(path, login_server, username, password)
    except OSError as e:
        raise CliError(f"signed docker in, but cannot write {path}: {e}") from None
    click.echo(
        f"Signed docker in to the login server {login_server} as {username}; podman, skopeo "
        f"and buildah read the same credentials from {path}",
        err=True,
    )
    click.echo(said.strip() or "Login Succeeded")
    return None

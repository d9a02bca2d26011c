"""`moorage az-cloud`: point the real `az` CLI at moorage, registered as a custom cloud."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import click

from moorage.config import default_data_dir

CLOUD = "moorage"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def ca_bundle(data_dir: Path) -> Path | None:
    """System CAs plus moorage's local CA, for `requests` (which az uses) to trust both."""
    ca = data_dir / "tls" / "ca.pem"
    if not ca.exists():
        return None
    bundle = data_dir / "tls" / "bundle.pem"
    system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
    bundle.write_bytes(system.rstrip() + b"\n" + ca.read_bytes())
    return bundle


def setup_commands(endpoint: str, credential: dict[str, str]) -> list[list[str]]:
    endpoint = endpoint.rstrip("/")
    port = urlsplit(endpoint).port
    suffix = f".localhost:{port}" if port else ".localhost"
    return [
        [
            "az",
            "cloud",
            "register",
            "--name",
            CLOUD,
            "--endpoint-resource-manager",
            endpoint + "/",
            "--endpoint-active-directory",
            endpoint,
            "--endpoint-active-directory-resource-id",
            "https://management.core.windows.net/",
            "--endpoint-active-directory-graph-resource-id",
            "https://graph.windows.net/",
            "--endpoint-management",
            "https://management.core.windows.net/",
            "--suffix-acr-login-server-endpoint",
            suffix,
            "--skip-endpoint-discovery",
        ],
        ["az", "cloud", "set", "--name", CLOUD],
        [
            "az",
            "login",
            "--service-principal",
            "--username",
            credential["appId"],
            "--password",
            credential["password"],
            "--tenant",
            credential["tenant"],
        ],
    ]


@click.command("az-cloud")
@click.option(
    "--endpoint",
    envvar="MOORAGE_ENDPOINT",
    default="https://127.0.0.1:5000",
    show_default=True,
    help="moorage's management URL (HTTPS: `moorage serve --tls`).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The server's data directory (owner credential, local CA).",
)
@click.option(
    "--credential",
    "credential_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON file with appId, password, tenant [default: owner].",
)
@click.option("--apply", is_flag=True, help="Run the commands instead of printing them.")
@click.option("--az", "az_program", default="az", show_default=True, help="The az program.")
def az_cloud(
    endpoint: str,
    data_dir: Path | None,
    credential_file: Path | None,
    apply: bool,
    az_program: str,
) -> None:
    """Register moorage as a custom cloud for `az` and sign in (prints the steps by default)."""
    if not endpoint.startswith("https://"):
        raise click.UsageError(
            f"--endpoint: {endpoint!r} is not https; az refuses bearer tokens over plain HTTP, "
            "so run `moorage serve --tls`"
        )
    data = data_dir or default_data_dir()
    path = credential_file or data / "owner-credential.json"
    try:
        credential = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise click.ClickException(f"cannot read the credential {path}: {e}") from None
    bundle = ca_bundle(data)
    env = {"AZURE_CORE_INSTANCE_DISCOVERY": "false", "AZURE_CORE_COLLECT_TELEMETRY": "false"}
    if bundle is not None:
        env["REQUESTS_CA_BUNDLE"] = str(bundle)
    commands = setup_commands(endpoint, credential)
    if not apply:
        for key, value in env.items():
            click.echo(f"export {key}={shlex.quote(value)}")
        for command in commands:
            click.echo(shlex.join(command))
        return
    for command in commands:
        command = [az_program, *command[1:]]
        shown = shlex.join(command).replace(credential["password"], "***")
        result = subprocess.run(  # noqa: S603 - the user's own az, with arguments we built
            command, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise click.ClickException(f"{shown} failed:\n{result.stderr.strip()}")
        click.echo(f"ok: {shown}")
    click.echo(
        "az now manages moorage; every shell needs: "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    )

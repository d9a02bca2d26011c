"""The `moorage` command."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import sys
from pathlib import Path
from typing import IO, Any

import click

from moorage.cli.account import account, login, logout
from moorage.cli.acr import acr
from moorage.cli.ad import ad
from moorage.cli.azcloud import az_cloud
from moorage.cli.network import network
from moorage.cli.output import format_json
from moorage.cli.private_endpoints import private_endpoint
from moorage.cli.virtual_networks import vnet
from moorage.config import Settings, SettingsError, default_data_dir
from moorage.startup import StartupError, check_can_listen, lock_data_dir, release_data_dir


def _settings(**values: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in values.items() if v is not None})
    except SettingsError as e:
        raise click.UsageError(str(e)) from None


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where metadata and blobs live [env MOORAGE_DATA_DIR; default {default_data_dir()}].",
)


@click.group()
@click.version_option(package_name="moorage")
def main() -> None:
    """moorage: a self-hosted OCI registry with per-registry network access control."""


network.add_command(vnet)
network.add_command(private_endpoint)
for _command in (login, logout, account, ad, acr, network):  # the cloud CLI's commands, over HTTP
    main.add_command(_command)


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--login-server-suffix",
    default=None,
    help="Registries answer at <name>.<suffix> [default: localhost:<port>].",
)
@click.option("--default-registry", default=None, help="Registry served on the bare host.")
@click.option("--max-manifest-bytes", type=int, default=None, help="Largest manifest accepted.")
@click.option("--tls", is_flag=True, help="Serve HTTPS; without --tls-cert, a local CA signs one.")
@click.option("--tls-cert", type=click.Path(path_type=Path), default=None, help="PEM certificate.")
@click.option("--tls-key", type=click.Path(path_type=Path), default=None, help="PEM private key.")
@click.option("--public-url", default=None, help="How clients reach this server (tokens name it).")
@click.option("--max-ip-rules", type=int, default=None, help="IP rules per registry [default 100].")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    help="A proxy network (CIDR) whose forwarding headers are believed; repeatable.",
)
@click.option(
    "--forwarded-header",
    default=None,
    metavar="X-Forwarded-For|Forwarded|X-Real-IP",
    help="The one header believed from a trusted proxy "
    "[env MOORAGE_FORWARDED_HEADER; default X-Forwarded-For].",
)
@click.option(
    "--private-endpoint",
    "private_endpoints",
    multiple=True,
    metavar="NAME=ADDRESS:PORT",
    help="Also listen for private endpoint NAME on ADDRESS:PORT; repeatable.",
)
@click.option(
    "--shared-data-dir",
    is_flag=True,
    help="Let several servers on this machine share the data directory (replicas); "
    "each of them must say so.",
)
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="PostgreSQL for metadata: postgresql://user:password@host:port/db "
    "[env MOORAGE_DATABASE_URL; default SQLite in the data directory].",
)
@click.option(
    "--blob-store",
    default=None,
    metavar="URL",
    help="S3 for blobs: s3://bucket/prefix?endpoint=URL&region=R, credentials from the "
    "standard AWS variables and files [env MOORAGE_BLOB_STORE; default the data directory].",
)
def serve(
    data_dir: Path | None,
    host: str,
    port: int,
    login_server_suffix: str | None,
    default_registry: str | None,
    max_manifest_bytes: int | None,
    tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    public_url: str | None,
    max_ip_rules: int | None,
    trusted_proxies: tuple[str, ...],
    forwarded_header: str | None,
    private_endpoints: tuple[str, ...],
    shared_data_dir: bool,
    database: str | None,
    blob_store: str | None,
) -> None:
    """Run the registry service."""
    settings = _settings(
        data_dir=data_dir,
        host=host,
        port=port,
        login_server_suffix=login_server_suffix,
        default_registry=default_registry,
        max_manifest_bytes=max_manifest_bytes,
        tls=tls or None,
        tls_cert=tls_cert,
        tls_key=tls_key,
        public_url=public_url,
        max_ip_rules=max_ip_rules,
        trusted_proxies=trusted_proxies or None,
        forwarded_header=forwarded_header,
        private_endpoints=private_endpoints or None,
        database=database,
        blob_store=blob_store,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    shown = f"[{host}]" if ":" in host else host
    where = f"{shown}:{port}"
    # What stops the start is said before the server's modules load (seconds on a busy machine).
    lock = _hold_data_dir(settings, shared=shared_data_dir)
    from aiohttp import web  # the server's modules load only for the commands that need them

    from moorage.app import create_app
    from moorage.app import serve as serve_app

    ssl_context, trust = _tls(settings)

    def ready() -> None:
        click.echo(
            f"moorage is serving on {settings.base_url} (data in {settings.data_dir})\n"
            f"  push to the default registry:  {where}/<repository>:<tag>\n"
            f"  other registries answer at:    <name>.{settings.suffix}\n"
            f"  portal (sign in as the owner): {settings.base_url}/portal/\n"
            f"  management API:                {settings.base_url}/subscriptions\n"
            f"  owner credential:              {settings.data_dir / 'owner-credential.json'}\n"
            + "".join(
                f"  private endpoint {e.name + ':':<13} {e.where}\n" for e in settings.endpoints
            )
            + (f"  trust this CA for TLS:         {trust}\n" if trust else "")
            + "  stop with Ctrl-C",
            err=False,
        )
        sys.stdout.flush()

    try:
        with contextlib.suppress(web.GracefulExit, KeyboardInterrupt):
            asyncio.run(serve_app(create_app(settings), settings, ssl_context, ready))
    except StartupError as e:
        raise click.ClickException(str(e)) from None
    finally:
        release_data_dir(lock)


def _hold_data_dir(settings: Settings, *, shared: bool) -> IO[str]:
    """The data directory, held for this process; and the addresses to listen on, checked."""
    try:
        lock = lock_data_dir(settings.data_dir, shared=shared)
    except StartupError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(
            f"the data directory {settings.data_dir} cannot be used: {e.strerror or e}"
        ) from None
    try:
        check_can_listen("the public listener", settings.host, settings.port)
        for spec in settings.endpoints:
            check_can_listen(f"private endpoint {spec.name}", spec.address, spec.port)
    except StartupError as e:
        release_data_dir(lock)
        raise click.ClickException(str(e)) from None
    return lock


def _tls(settings: Settings) -> tuple[ssl.SSLContext | None, Path | None]:
    """The server's TLS context, and the CA clients must trust when moorage made it. With that
    CA, each login server `<name>.<suffix>` gets its own certificate (SNI), made on demand."""
    from moorage.app import prepare_data_dir
    from moorage.auth.tls import TlsFiles, ensure_local_tls, server_ssl_context

    if not settings.uses_tls:
        return None, None
    if settings.tls_cert is not None and settings.tls_key is not None:
        files = TlsFiles(settings.tls_cert, settings.tls_key, None)
    else:
        prepare_data_dir(settings)
        names = [n for n in {"localhost", settings.suffix.split(":")[0]} if n]
        addresses = [settings.host] if _is_address(settings.host) else []
        files = ensure_local_tls(settings.data_dir, names, addresses)
    return server_ssl_context(files, login_server_suffix=settings.suffix), files.ca


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


main.add_command(az_cloud)


@main.group()
def keys() -> None:
    """The token-signing keys in the data directory."""


@keys.command("rotate")
@data_dir_option
def keys_rotate(data_dir: Path | None) -> None:
    """Make a new signing key; keys retired over a day ago are removed.

    Tokens signed by the previous keys stay valid until they expire. A running server signs
    with the new key within 10 seconds."""
    from moorage.auth.keys import SigningKeys

    settings = _settings(data_dir=data_dir)
    signing = SigningKeys.load_or_create(settings.data_dir)
    kid = signing.rotate()
    removed = signing.retire()
    click.echo(format_json({"signingKey": kid, "removed": removed, "keys": signing.kids}))

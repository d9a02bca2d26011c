"""One typed settings object, validated before the server starts."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from moorage.blobs.location import S3Location
from moorage.domain.errors import DomainError
from moorage.domain.forwarding import ForwardedHeader
from moorage.domain.manifest import DEFAULT_MAX_MANIFEST_BYTES
from moorage.domain.networks import check_network_name
from moorage.domain.registry import DEFAULT_REGISTRY, check_registry_name
from moorage.store.urls import database_url_problem, shown_database_url


class SettingsError(ValueError):
    """A setting has a value moorage cannot run with; the message names both."""


def default_data_dir() -> Path:
    env = os.environ.get("MOORAGE_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "moorage"


def default_database() -> str:
    return os.environ.get("MOORAGE_DATABASE_URL", "")


def default_blob_store() -> str:
    return os.environ.get("MOORAGE_BLOB_STORE", "")


def default_forwarded_header() -> str:
    return os.environ.get("MOORAGE_FORWARDED_HEADER") or ForwardedHeader.X_FORWARDED_FOR.value


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 5000
    login_server_suffix: str = ""
    """`<registry>.<suffix>` is a registry's login server; empty means `localhost:<port>`."""
    default_registry: str = DEFAULT_REGISTRY
    location: str = "local"
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES
    upload_ttl: timedelta = timedelta(hours=24)
    tls: bool = False
    """Serve HTTPS; with no certificate given, one from a local CA kept in the data dir."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    public_url: str = ""
    """How clients reach the management host; empty means <scheme>://<host>:<port>."""
    max_ip_rules: int = 100
    """IP rules a registry may hold (the seed's limit is 100)."""
    trusted_proxies: tuple[str, ...] = ()
    """Networks of proxies whose forwarding header (`forwarded_header`) is believed."""
    forwarded_header: str = field(default_factory=default_forwarded_header)
    """The one header believed from a trusted proxy: X-Forwarded-For, Forwarded or X-Real-IP."""
    private_endpoints: tuple[str, ...] = ()
    """Private endpoints to listen on besides the public address: "NAME=ADDRESS:PORT"."""
    database: str = field(default_factory=default_database)
    """PostgreSQL for metadata (postgresql://user:password@host:port/db); empty: SQLite in the
    data directory."""
    blob_store: str = field(default_factory=default_blob_store)
    """S3 for blobs (s3://bucket/prefix?endpoint=...&region=...); empty: the data directory."""

    def __post_init__(self) -> None:
        if self.database:
            problem = database_url_problem(self.database)
            if problem:
                shown = shown_database_url(self.database)
                raise SettingsError(f"--database (MOORAGE_DATABASE_URL): {shown!r} {problem}")
        if self.blob_store:
            try:
                S3Location.parse(self.blob_store)
            except ValueError as e:
                raise SettingsError(
                    f"--blob-store (MOORAGE_BLOB_STORE): {self.blob_store!r}: {e}"
                ) from None
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port: {self.port} is not a TCP port (0-65535)")
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            if not self.host or any(c.isspace() or c in "/@" for c in self.host):
                raise SettingsError(
                    f"--host: {self.host!r} is not an address or host name"
                ) from None
        try:
            check_registry_name(self.default_registry)
        except DomainError as e:
            raise SettingsError(f"--default-registry: {e.message}") from None
        if self.max_manifest_bytes < 1024:
            raise SettingsError(
                f"--max-manifest-bytes: {self.max_manifest_bytes} is too small (at least 1024)"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            given = "--tls-cert" if self.tls_cert else "--tls-key"
            missing = "--tls-key" if self.tls_cert else "--tls-cert"
            raise SettingsError(f"{given} needs {missing} too")
        for option, path in (("--tls-cert", self.tls_cert), ("--tls-key", self.tls_key)):
            if path is not None and not path.is_file():
                raise SettingsError(f"{option}: {str(path)!r} is not a readable file")
        if not 1 <= self.max_ip_rules <= 100_000:
            raise SettingsError(f"--max-ip-rules: {self.max_ip_rules} is not between 1 and 100000")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=True)
            except ValueError as e:
                raise SettingsError(
                    f"--trusted-proxy: {proxy!r} is not an IP network ({e})"
                ) from None
        try:
            ForwardedHeader.parse(self.forwarded_header)
        except ValueError as e:
            raise SettingsError(f"--forwarded-header (MOORAGE_FORWARDED_HEADER): {e}") from None
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise SettingsError(f"--public-url: {self.public_url!r} is not an http(s) URL")
        self.endpoints  # noqa: B018 - parsed once here, so a bad value stops the start
        suffix = self.login_server_suffix
        if suffix and (suffix.startswith(".") or "/" in suffix or any(c.isspace() for c in suffix)):
            raise SettingsError(f"--login-server-suffix: {suffix!r} is not a host[:port] suffix")

    @property
    def endpoints(self) -> tuple[EndpointSpec, ...]:
        """The private endpoints, parsed; SettingsError names a bad one."""
        specs: list[EndpointSpec] = []
        for given in self.private_endpoints:
            spec = parse_endpoint(given)
            clash = [
                s for s in specs if s.name.lower() == spec.name.lower() or s.socket == spec.socket
            ]
            if clash:
                raise SettingsError(
                    f"--private-endpoint: {given!r} repeats the name or address of "
                    f"{clash[0].name}={clash[0].where}"
                )
            if spec.port == self.port and (
                spec.address == self.host or self.host in ("0.0.0.0", "::")  # noqa: S104
            ):
                raise SettingsError(
                    f"--private-endpoint: {given!r} takes the public listener's address "
                    f"{self.host}:{self.port}"
                )
            specs.append(spec)
        return tuple(specs)

    @property
    def believed_header(self) -> ForwardedHeader:
        return ForwardedHeader.parse(self.forwarded_header)

    @property
    def suffix(self) -> str:
        return self.login_server_suffix or f"localhost:{self.port}"

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.tls_cert is not None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.uses_tls else 'http'}://{host}:{self.port}"

    @property
    def management_audiences(self) -> tuple[str, ...]:
        """Token audiences the management API accepts: the cloud's, and moorage's own URL."""
        return (
            "https://management.azure.com/",
            "https://management.core.windows.net/",
            self.base_url + "/",
        )

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite+aiosqlite:///{self.data_dir / 'moorage.db'}"

    @property
    def s3_location(self) -> S3Location | None:
        return S3Location.parse(self.blob_store) if self.blob_store else None


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """A private endpoint declared with `moorage serve --private-endpoint NAME=ADDRESS:PORT`."""

    name: str
    address: str
    port: int

    @property
    def socket(self) -> tuple[str, int]:
        return self.address, self.port

    @property
    def where(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_endpoint(value: str) -> EndpointSpec:
    """NAME=ADDRESS:PORT (an IPv6 address in brackets: pe1=[::1]:5001)."""
    name, sep, where = value.partition("=")
    host, colon, port_text = where.rpartition(":")
    problem = ""
    if not sep or not colon or not name.strip():
        problem = "is not NAME=ADDRESS:PORT"
    else:
        try:
            check_network_name("private endpoint", name.strip())
        except DomainError as e:
            problem = e.message
    if not problem:
        try:
            address = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            problem = f"{host!r} is not an IP address"
    if not problem and not (port_text.isdigit() and 1 <= int(port_text) <= 65535):
        problem = f"{port_text!r} is not a TCP port (1-65535)"
    if not problem and ipaddress.ip_address(address).is_unspecified:
        problem = f"{address} is every address: a private endpoint listens on one"
    if problem:
        raise SettingsError(f"--private-endpoint: {value!r}: {problem}")
    return EndpointSpec(name.strip(), address, int(port_text))

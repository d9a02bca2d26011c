"""How the command line reaches moorage: the endpoint, the credential, the token, and HTTP.

The management API answers on the server's bare host. Credentials are found in this order,
the first one found wins: the `moorage login` profile (when it is for this endpoint), then the
owner credential the server wrote into its data directory (on the server's own machine).
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from moorage.config import default_data_dir

DEFAULT_ENDPOINT = "http://127.0.0.1:5000"
REGISTRY_API = "2025-11-01"
RESOURCES_API = "2022-12-01"
SCOPE = "https://management.azure.com/.default"
OWNER_FILE = "owner-credential.json"
PROFILE_FILE = "profile.json"
TIMEOUT = 30.0


class CliError(Exception):
    """A failure to report as one `ERROR: <message>` line; `code`/`status` from the server."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        exit_code: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.exit_code = exit_code


@dataclass(frozen=True)
class Credential:
    app_id: str
    password: str
    tenant: str
    subscription: str
    source: str
    """Where it came from, for messages: the profile or the owner credential file."""


# -- where things are ----------------------------------------------------------------------


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "moorage"


def profile_path() -> Path:
    return config_dir() / PROFILE_FILE


def data_dir_of(option: Path | None) -> Path:
    """--data-dir, else MOORAGE_DATA_DIR, else the server's default."""
    return option if option is not None else default_data_dir()


def normalize_endpoint(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(
            f"--endpoint: {url!r} is not an http(s) URL such as {DEFAULT_ENDPOINT}", exit_code=2
        )
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"


def resolve_endpoint(option: str | None) -> str:
    """--endpoint, else MOORAGE_ENDPOINT, else the endpoint of `moorage login`, else the default."""
    chosen = option or os.environ.get("MOORAGE_ENDPOINT")
    if not chosen:
        profile = load_profile()
        chosen = str(profile.get("endpoint") or "") if profile else ""
    return normalize_endpoint(chosen or DEFAULT_ENDPOINT)


# -- credentials ---------------------------------------------------------------------------


def load_profile() -> dict[str, Any] | None:
    path = profile_path()
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise CliError(
            f"{path} is unreadable ({e}); run `moorage logout` and log in again"
        ) from None
    return document if isinstance(document, dict) else None


def save_profile(document: Mapping[str, str]) -> Path:
    """Write the profile readable by its owner only (it holds a secret)."""
    path = profile_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, (json.dumps(dict(document), indent=2) + "\n").encode())
    return path


def delete_profile() -> bool:
    try:
        profile_path().unlink()
    except FileNotFoundError:
        return False
    return True


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _credential_from(document: Mapping[str, Any], source: str) -> Credential:
    missing = [k for k in ("appId", "password", "tenant", "subscription") if not document.get(k)]
    if missing:
        raise CliError(f"{source} lacks {', '.join(missing)}; log in again")
    return Credential(
        str(document["appId"]),
        str(document["password"]),
        str(document["tenant"]),
        str(document["subscription"]),
        source,
    )


def discover_credential(endpoint: str, data_dir: Path) -> Credential:
    profile = load_profile()
    if profile is not None and _same_endpoint(str(profile.get("endpoint", "")), endpoint):
        return _credential_from(profile, str(profile_path()))
    owner = data_dir / OWNER_FILE
    try:
        document = json.loads(owner.read_text())
    except FileNotFoundError:
        document = None
    except PermissionError:
        raise CliError(
            f"{owner} is not readable by this user; run as the user who runs `moorage serve`, "
            "or `moorage login --service-principal`"
        ) from None
    except (OSError, ValueError) as e:
        raise CliError(f"{owner} is unreadable: {e}") from None
    if isinstance(document, dict):
        return _credential_from(document, str(owner))
    raise CliError(
        f"no credentials for {endpoint}: run `moorage login --endpoint {endpoint} "
        "--service-principal -u APPID -p SECRET --tenant TENANT`, or run on the server's "
        f"machine where {owner} exists (set --data-dir or MOORAGE_DATA_DIR)"
    )


def _same_endpoint(a: str, b: str) -> bool:
    try:
        return normalize_endpoint(a) == normalize_endpoint(b)
    except CliError:
        return False


# -- TLS -----------------------------------------------------------------------------------


def trust_source(endpoint: str, ca_bundle: Path | None, data_dir: Path) -> Path | None:
    """The CA file to trust for an https endpoint: --ca-bundle / MOORAGE_CA_BUNDLE, else
    moorage's local CA in the data dir, else REQUESTS_CA_BUNDLE; None: the system's default."""
    if not endpoint.startswith("https://"):
        return None
    if ca_bundle is not None:
        return ca_bundle
    env = os.environ.get("MOORAGE_CA_BUNDLE")
    if env:
        return Path(env)
    local_ca = data_dir / "tls" / "ca.pem"
    if local_ca.is_file():
        return local_ca
    requests_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    return Path(requests_bundle) if requests_bundle else None


def tls_verify(endpoint: str, ca_bundle: Path | None, data_dir: Path) -> ssl.SSLContext | bool:
    if not endpoint.startswith("https://"):
        return True
    cafile = trust_source(endpoint, ca_bundle, data_dir)
    return _context(cafile) if cafile is not None else ssl.create_default_context()


def _context(cafile: Path) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(cafile))
    except (OSError, ssl.SSLError) as e:
        raise CliError(f"cannot use {cafile} as CA bundle: {e}") from None


def is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- errors from the wire ------------------------------------------------------------------


def error_message(response: httpx.Response) -> tuple[str, str | None]:
    """(message, code) of an error reply: the resource manager's, OAuth's or the registry's."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"]), str(error.get("code") or "") or None
        if isinstance(error, str):  # OAuth: {"error", "error_description"}
            text = str(body.get("error_description") or error)
            return text.split(" Trace ID:")[0], error
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return f"{first.get('code')}: {first.get('message')}", str(first.get("code"))
    text = response.text.strip()[:200]
    request = response.request
    return f"HTTP {response.status_code} from {request.method} {request.url}: {text}", None


# -- the client ----------------------------------------------------------------------------


class Client:
    """One process's connection to one moorage: management calls with a cached token, and
    data-plane calls sent to the endpoint's host:port with `Host: <login server>`."""

    def __init__(
        self,
        endpoint: str,
        *,
        data_dir: Path,
        ca_bundle: Path | None = None,
        subscription: str | None = None,
        credential: Credential | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.data_dir = data_dir
        self._subscription = subscription
        self._credential = credential
        self._token: str | None = None
        self.http = httpx.Client(
            verify=tls_verify(endpoint, ca_bundle, data_dir),
            timeout=TIMEOUT,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    @property
    def credential(self) -> Credential:
        if self._credential is None:
            self._credential = discover_credential(self.endpoint, self.data_dir)
        return self._credential

    @property
    def subscription(self) -> str:
        return self._subscription or self.credential.subscription

    def token(self) -> str:
        if self._token is None:
            self._token = self.fetch_token(self.credential)
        return self._token

    def fetch_token(self, credential: Credential) -> str:
        response = self.send(
            "POST",
            f"{self.endpoint}/{credential.tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credential.app_id,
                "client_secret": credential.password,
                "scope": SCOPE,
            },
        )
        if response.status_code != 200:
            message, code = error_message(response)
            raise CliError(
                f"sign-in as {credential.app_id} failed ({credential.source}): {message}",
                code=code,
                status=response.status_code,
            )
        token = response.json().get("access_token")
        if not isinstance(token, str):
            raise CliError(f"the token endpoint of {self.endpoint} sent no access_token")
        return token

    def send(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        """One HTTP request; a transport failure becomes a CliError that says what to check."""
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.ConnectError as e:
            hint = "is `moorage serve` running? set --endpoint or MOORAGE_ENDPOINT"
            if "CERTIFICATE_VERIFY_FAILED" in str(e):
                hint = "trust its CA with --ca-bundle or MOORAGE_CA_BUNDLE"
            raise CliError(f"cannot reach moorage at {self.endpoint}: {e} ({hint})") from None
        except httpx.HTTPError as e:
            raise CliError(f"cannot reach moorage at {self.endpoint}: {e!r}") from None

    def arm(
        self,
        method: str,
        path: str,
        *,
        api_version: str = REGISTRY_API,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A management request; an error reply raises CliError with its message and code."""
        url = httpx.URL(path if path.startswith(("http://", "https://")) else self.endpoint + path)
        # httpx drops a URL's own query when `params` is given: merge here (nextLink, $filter).
        if "api-version" not in url.params:
            url = url.copy_add_param("api-version", api_version)
        for key, value in (params or {}).items():
            url = url.copy_set_param(key, value)
        response = self.send(
            method,
            url,
            json=json,
            headers={"Authorization": f"Bearer {self.token()}", **(headers or {})},
        )
        if response.status_code >= 400:
            message, code = error_message(response)
            shown = f"({code}) {message}" if code else message  # as the cloud CLI shows it
            raise CliError(shown, code=code, status=response.status_code)
        return response

    def arm_json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.arm(method, path, **kwargs)
        return response.json() if response.content else None

    def arm_list(self, path: str, *, api_version: str = REGISTRY_API) -> list[Any]:
        """Every item of a `{"value": [...], "nextLink"}` listing, following its pages."""
        items: list[Any] = []
        url: str | None = path
        while url:
            page = self.arm_json("GET", url, api_version=api_version) or {}
            items.extend(page.get("value") or [])
            url = page.get("nextLink")
        return items

    def data(
        self,
        login_server: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A registry (data-plane) request, sent to the endpoint with `Host: <login server>`:
        *.localhost names do not resolve in Python, and the server routes by Host anyway."""
        url = urljoin(self.endpoint + "/", path.lstrip("/"))
        return self.send(
            method, url, headers={"Host": login_server, **(headers or {})}, auth=auth, data=data
        )

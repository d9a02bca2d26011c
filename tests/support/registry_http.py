"""Raw HTTP against a test server: the client, digests, pushes and checks the API tests share."""

from __future__ import annotations

import base64
import hashlib
import secrets

import httpx

from tests.support.server import Server

API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")


def owner_auth(server: Server) -> tuple[str, str]:
    """Basic credentials of the server's owner (a service principal with Owner: every action
    on every registry)."""
    return server.owner["appId"], server.owner["password"]


def owner_authorization(server: Server) -> str:
    """The owner's Basic credentials as an Authorization header value, for raw HTTP."""
    user, password = owner_auth(server)
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def open_client(server: Server, timeout: float = 30, *, signed_in: bool = True) -> httpx.Client:
    """A client for `server` that sends no Accept header unless a request names one, and the
    owner's Basic credentials unless `signed_in` is False."""
    client = httpx.Client(
        base_url=server.url,
        timeout=timeout,
        trust_env=False,
        auth=owner_auth(server) if signed_in else None,
    )
    del client.headers["Accept"]  # "no Accept header" must really send none
    return client


def new_repo(prefix: str) -> str:
    """A repository name no other test uses: `<prefix>/r<random hex>`."""
    return f"{prefix}/r{secrets.token_hex(4)}"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def push_blob(client: httpx.Client, name: str, data: bytes, algorithm: str = "sha256") -> str:
    """Monolithic POST of one blob, which must be created; returns its digest."""
    digest = digest_of(data, algorithm)
    r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data)
    assert r.status_code == 201, r.text
    return digest


def put_manifest(
    client: httpx.Client, name: str, reference: str, payload: bytes, media_type: str | None
) -> httpx.Response:
    """PUT a manifest (with no Content-Type when `media_type` is None); the reply is unchecked."""
    headers = {"Content-Type": media_type} if media_type else {}
    return client.put(f"/v2/{name}/manifests/{reference}", content=payload, headers=headers)


def push_manifest(
    client: httpx.Client, name: str, reference: str, payload: bytes, media_type: str
) -> httpx.Response:
    """PUT a manifest, which must be created."""
    r = put_manifest(client, name, reference, payload, media_type)
    assert r.status_code == 201, r.text
    return r


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """`response` is an API error with this status that names `code`; returns its first error."""
    assert response.status_code == status, response.text
    assert response.headers[API_VERSION[0]] == API_VERSION[1]
    errors = response.json()["errors"]
    assert code in [e["code"] for e in errors], errors
    first: dict[str, object] = errors[0]
    return first

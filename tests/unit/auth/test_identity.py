from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from azure.identity import ClientSecretCredential

from moorage.auth.identity import IDENTITY, IdentityService, identity_routes
from moorage.auth.keys import SigningKeys
from moorage.auth.principals import PrincipalStore
from moorage.auth.tls import ensure_local_tls, server_ssl_context
from moorage.auth.tokens import TokenService, issuer_for
from tests.unit.auth.conftest import BASE_URL

MANAGEMENT_AUDIENCES = {"https://management.azure.com/", "https://management.core.windows.net/"}
Client = TestClient[web.Request, web.Application]


def make_identity(
    principals: PrincipalStore, tenant_id: str, data_dir: Path, base_url: str = BASE_URL
) -> IdentityService:
    keys = SigningKeys.load_or_create(data_dir)
    tokens = TokenService(keys, issuer_for(base_url, tenant_id))
    return IdentityService(principals, tokens, tenant_id, base_url)


def make_app(identity: IdentityService) -> web.Application:
    app = web.Application()
    app[IDENTITY] = identity
    for method, path, handler in identity_routes():
        app.router.add_route(method, path, handler)
    return app


@pytest.fixture
def identity(principals: PrincipalStore, tenant_id: str, tmp_path: Path) -> IdentityService:
    return make_identity(principals, tenant_id, tmp_path)


@pytest.fixture
async def client(identity: IdentityService) -> AsyncIterator[Client]:
    async with TestClient(TestServer(make_app(identity))) as client:
        yield client


@pytest.fixture
async def app_credential(principals: PrincipalStore) -> tuple[str, str]:
    created, secret = await principals.create("ci")
    return created.app_id, secret


def _verify(identity: IdentityService, token: str) -> dict[str, Any]:
    return identity.tokens.verify(token, MANAGEMENT_AUDIENCES | {identity.base_url + "/"})


@pytest.mark.parametrize("path", ["{t}/v2.0", "{t}", "organizations/v2.0", "common/v2.0"])
async def test_discovery(client: Client, identity: IdentityService, path: str) -> None:
    tenant = identity.tenant_id
    response = await client.get(
        "/" + path.format(t=tenant.upper()) + "/.well-known/openid-configuration"
    )
    assert response.status == 200
    doc = await response.json()
    base = f"{BASE_URL}/{tenant}"
    version = "/v2.0" if "v2.0" in path else ""
    assert doc["issuer"] == f"{base}/v2.0"
    assert doc["token_endpoint"] == f"{base}/oauth2{version}/token"
    assert doc["authorization_endpoint"] == f"{base}/oauth2{version}/authorize"
    assert doc["device_authorization_endpoint"] == f"{base}/oauth2{version}/devicecode"
    assert doc["jwks_uri"] == f"{base}/discovery{version}/keys"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["token_endpoint_auth_methods_supported"] == [
        "client_secret_post",
        "client_secret_basic",
    ]
    assert doc["tenant_region_scope"] is None
    for field in ("end_session_endpoint", "response_types_supported", "scopes_supported"):
        assert doc[field]
    for field in ("subject_types_supported", "cloud_instance_name", "msgraph_host", "rbac_url"):
        assert doc[field]


@pytest.mark.parametrize(
    "path",
    [
        "/nosuch/v2.0/.well-known/openid-configuration",
        "/nosuch/.well-known/openid-configuration",
        "/nosuch/discovery/v2.0/keys",
    ],
)
async def test_discovery_of_an_unknown_tenant(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_request"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nosuch' not found.")


@pytest.mark.parametrize("path", ["discovery/v2.0/keys", "discovery/keys"])
async def test_keys(client: Client, identity: IdentityService, path: str) -> None:
    response = await client.get(f"/{identity.tenant_id}/{path}")
    assert response.status == 200
    assert await response.json() == identity.tokens.keys.jwks()


@pytest.mark.parametrize(
    ("scope", "audience"),
    [
        ("https://management.azure.com/.default", "https://management.azure.com"),
        (
            "https://management.core.windows.net//.default offline_access openid profile",
            "https://management.core.windows.net/",
        ),
        ("openid https://management.azure.com//.default", "https://management.azure.com/"),
        (f"{BASE_URL}/.default", BASE_URL),
    ],
)
async def test_client_credentials_post(
    client: Client,
    identity: IdentityService,
    app_credential: tuple[str, str],
    scope: str,
    audience: str,
) -> None:
    app_id, secret = app_credential
    response = await client.post(
        f"/{identity.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "scope": scope,
        },
        headers={"client-request-id": "8d7cf0cb-6fbb-4c36-a2d7-0dbb5f06a8b1"},
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["client-request-id"] == "8d7cf0cb-6fbb-4c36-a2d7-0dbb5f06a8b1"
    body = await response.json()
    assert body["token_type"] == "Bearer"  # noqa: S105 - a token type, not a password
    assert body["expires_in"] == body["ext_expires_in"] == 3599
    claims = _verify(identity, body["access_token"])
    assert claims["aud"] == audience
    assert claims["appid"] == app_id
    assert claims["tid"] == identity.tenant_id


@pytest.mark.parametrize("tenant", ["{t}", "organizations", "common"])
async def test_client_credentials_basic(
    client: Client, identity: IdentityService, app_credential: tuple[str, str], tenant: str
) -> None:
    app_id, secret = app_credential
    basic = base64.b64encode(f"{quote_plus(app_id)}:{quote_plus(secret)}".encode()).decode()
    response = await client.post(
        f"/{tenant.format(t=identity.tenant_id)}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://management.azure.com/.default"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status == 200, await response.text()
    assert _verify(identity, (await response.json())["access_token"])["appid"] == app_id


async def test_v1_token_endpoint_with_resource(
    client: Client, identity: IdentityService, app_credential: tuple[str, str]
) -> None:
    app_id, secret = app_credential
    response = await client.post(
        f"/{identity.tenant_id}/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": secret,
            "resource": "https://management.core.windows.net/",
        },
    )
    assert response.status == 200
    body = await response.json()
    assert body["resource"] == "https://management.core.windows.net/"
    assert body["expires_in"] == "3599"
    assert int(body["expires_on"]) - int(body["not_before"]) == 3600
    assert _verify(identity, body["access_token"])["aud"] == body["resource"]


GOOD = {"grant_type": "client_credentials", "scope": "https://management.azure.com/.default"}


@pytest.mark.parametrize(
    ("form", "status", "error", "code", "says"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215, "Invalid client secret"),
        (
            {"client_id": "11111111-2222-3333-4444-555555555555"},
            400,
            "unauthorized_client",
            700016,
            "identifier '11111111-2222-3333-4444-555555555555' was not found",
        ),
        ({"grant_type": ""}, 400, "invalid_request", 900144, "parameter: 'grant_type'"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003, "'password'"),
        ({"client_id": ""}, 400, "invalid_request", 900144, "parameter: 'client_id'"),
        ({"client_secret": ""}, 401, "invalid_client", 7000218, "'client_secret'"),
        ({"scope": "https://management.azure.com/"}, 400, "invalid_scope", 1002012, "/.default"),
        ({"scope": "api://thing/.default"}, 400, "invalid_resource", 500011, "api://thing"),
        ({"scope": ""}, 400, "invalid_request", 900144, "parameter: 'scope'"),
    ],
)
async def test_token_errors(
    client: Client,
    identity: IdentityService,
    app_credential: tuple[str, str],
    form: dict[str, str],
    status: int,
    error: str,
    code: int,
    says: str,
) -> None:
    app_id, secret = app_credential
    data = {**GOOD, "client_id": app_id, "client_secret": secret, **form}
    response = await client.post(f"/{identity.tenant_id}/oauth2/v2.0/token", data=data)
    assert response.status == status
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert says in body["error_description"]
    assert secret not in await response.text()
    assert "wrong" not in body["error_description"]
    assert body["trace_id"] and body["correlation_id"] and body["timestamp"]


@pytest.mark.parametrize(
    ("authorization", "form", "code"),
    [
        ("Basic !!!", {}, 9002313),
        ("Basic " + base64.b64encode(b"no-colon").decode(), {}, 9002313),
        ("Basic " + base64.b64encode(b"a:b").decode(), {"client_id": "c"}, 9002313),
        ("Basic " + base64.b64encode(b"a:").decode(), {}, 7000218),
    ],
)
async def test_bad_basic_credentials(
    client: Client, identity: IdentityService, authorization: str, form: dict[str, str], code: int
) -> None:
    response = await client.post(
        f"/{identity.tenant_id}/oauth2/v2.0/token",
        data={**GOOD, **form},
        headers={"Authorization": authorization},
    )
    assert response.status in (400, 401)
    assert (await response.json())["error_codes"] == [code]


async def test_wrong_basic_secret_asks_for_basic(
    client: Client, identity: IdentityService, app_credential: tuple[str, str]
) -> None:
    basic = base64.b64encode(f"{app_credential[0]}:nope".encode()).decode()
    response = await client.post(
        f"/{identity.tenant_id}/oauth2/v2.0/token",
        data=GOOD,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_token_for_an_unknown_tenant(client: Client, app_credential: tuple[str, str]) -> None:
    app_id, secret = app_credential
    response = await client.post(
        "/contoso.onmicrosoft.com/oauth2/v2.0/token",
        data={**GOOD, "client_id": app_id, "client_secret": secret},
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_request"
    assert "Tenant 'contoso.onmicrosoft.com' not found" in body["error_description"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "oauth2/v2.0/authorize"), ("POST", "oauth2/v2.0/devicecode")]
)
async def test_interactive_flows_are_refused_plainly(
    client: Client, identity: IdentityService, method: str, path: str
) -> None:
    response = await client.request(method, f"/{identity.tenant_id}/{path}")
    assert response.status == 400
    assert "service principals only" in (await response.json())["error_description"]


def test_identity_refuses_a_mismatched_token_service(
    principals: PrincipalStore, tmp_path: Path
) -> None:
    tokens = TokenService(SigningKeys.load_or_create(tmp_path), "https://elsewhere/t/v2.0")
    with pytest.raises(ValueError, match="announce"):
        IdentityService(principals, tokens, "t", BASE_URL)


# --- the real client: azure-identity (MSAL) over HTTPS -------------------------------------


@pytest.fixture
def free_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@asynccontextmanager
async def serve_https(
    app: web.Application, sock: socket.socket, data_dir: Path
) -> AsyncIterator[None]:
    tls = ensure_local_tls(data_dir, [], [])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=server_ssl_context(tls)).start()
    try:
        yield
    finally:
        await runner.cleanup()


def trust_local_ca(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    bundle = data_dir / "bundle.pem"
    ca = (data_dir / "tls" / "ca.pem").read_text()
    bundle.write_text((system.read_text() if system.exists() else "") + "\n" + ca)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("AZURE_CORE_INSTANCE_DISCOVERY", "false")


@pytest.mark.parametrize("tenant", ["{t}", "organizations"])
async def test_azure_identity_client_secret_credential(
    principals: PrincipalStore,
    tenant_id: str,
    tmp_path: Path,
    free_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    tenant: str,
) -> None:
    base_url = f"https://127.0.0.1:{free_socket.getsockname()[1]}"
    identity = make_identity(principals, tenant_id, tmp_path, base_url)
    created, secret = await principals.create("sdk")
    async with serve_https(make_app(identity), free_socket, tmp_path):
        trust_local_ca(monkeypatch, tmp_path)
        credential = ClientSecretCredential(
            tenant.format(t=tenant_id),
            created.app_id,
            secret,
            authority=base_url,
            disable_instance_discovery=True,
        )
        try:
            token = await asyncio.to_thread(
                credential.get_token, "https://management.azure.com/.default"
            )
            wrong = ClientSecretCredential(
                tenant_id,
                created.app_id,
                "not-the-secret",
                authority=base_url,
                disable_instance_discovery=True,
            )
            with pytest.raises(Exception, match="AADSTS7000215") as refused:
                await asyncio.to_thread(wrong.get_token, "https://management.azure.com/.default")
            wrong.close()
        finally:
            credential.close()
    claims = _verify(identity, token.token)
    assert claims["appid"] == created.app_id
    assert claims["aud"] == "https://management.azure.com"
    assert token.expires_on > claims["iat"]
    assert "not-the-secret" not in str(refused.value)

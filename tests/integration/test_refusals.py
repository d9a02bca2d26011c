"""Every network refusal is a 403 DENIED, on every data-plane route and method, on a login
server and on the bare host, on the public listener and on a private endpoint's listener.

The routes come from the route tables themselves (/v2, /acr/v1, the token service), so a route
added later is covered without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from moorage.distribution.acr import ACR_ROUTES
from moorage.distribution.oauth import token_routes
from moorage.distribution.routes import ROUTES
from tests.support.management import Management, client_from
from tests.support.registry_http import owner_authorization
from tests.support.server import Server, free_port

PRIVATE = "127.0.0.5"
SOURCE = "127.0.0.2"
DIGEST = "sha256:" + "0" * 64
PARAMETERS = {"name": "app/web", "reference": "v1", "digest": DIGEST, "upload_id": "u1"}


def _path(template: str) -> str:
    """A concrete path for a route template: every {parameter} given a plausible value."""
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: PARAMETERS[m[1]], template)


def _data_plane_routes() -> list[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    tables = [("/v2", ROUTES), ("/acr/v1", ACR_ROUTES)]
    for prefix, table in tables:
        for method, template, _handler, _need in table:
            routes.add((method, prefix + _path(template)))
    for method, path, _handler in token_routes():
        routes.add((method, path))
    for method, path in list(routes):
        if method == "GET":  # aiohttp answers HEAD with the GET route
            routes.add(("HEAD", path))
    # Paths that are no route at all are refused the same way.
    routes |= {("GET", "/v2"), ("GET", "/v2/nothing/here"), ("PUT", "/acr/v1/x/y/z")}
    return sorted(routes)


ROUTES_TO_REFUSE = _data_plane_routes()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("refusals") / "data"
    pe_port = free_port(PRIVATE)
    srv = Server(data, free_port(), extra_args=["--private-endpoint", f"pe1={PRIVATE}:{pe_port}"])
    srv.start()
    srv.pe_port = pe_port  # type: ignore[attr-defined]
    mgmt = Management(srv)
    try:
        mgmt.create("refused1", adminUserEnabled=True)
        mgmt.update("refused1", networkRuleSet={"defaultAction": "Deny"})
        mgmt.update("default", publicNetworkAccess="Disabled")
        yield srv
    finally:
        mgmt.close()
        srv.stop()


@pytest.fixture(scope="module")
def source() -> Iterator[httpx.Client]:
    """A client whose connections come from SOURCE."""
    with client_from(SOURCE, timeout=30, trust_env=False) as c:
        yield c


def _send(c: httpx.Client, server: Server, method: str, url: str, host: str) -> httpx.Response:
    """One request from SOURCE, with valid credentials (they must change nothing)."""
    headers = {"Host": host, "Authorization": owner_authorization(server)}
    return c.request(method, url, headers=headers)


def _assert_refused(r: httpx.Response, registry: str, *words: str) -> None:
    what = f"{r.request.method} {r.request.url}"
    assert r.status_code == 403, (what, r.status_code, r.text)
    assert "WWW-Authenticate" not in r.headers, what
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0", what
    if r.request.method == "HEAD":
        assert r.content == b"", what
        return
    error = r.json()["errors"][0]
    assert error["code"] == "DENIED", (what, error)
    message = error["message"]
    assert message.startswith(f"client with IP '{SOURCE}' is not allowed access. "), message
    assert f"Registry '{registry}'" in message, message
    for word in words:
        assert word in message, message
    assert error["detail"]["client"] == SOURCE
    assert error["detail"]["registry"] == registry


# Where a request is refused: (listener, Host's registry, registry named, words of the reason).
WHERE = {
    "login server": (
        "public",
        "refused1",
        "refused1",
        (
            "not in the registry's allowed IP ranges",
            f"moorage acr network-rule add --name refused1 --ip-address {SOURCE}",
        ),
    ),
    "bare host": (
        "public",
        None,
        "default",
        (
            "public network access is disabled",
            "moorage acr update --name default --public-network-enabled true",
        ),
    ),
    "private endpoint": (
        "private",
        "refused1",
        "refused1",
        ("through private endpoint 'pe1'", "moorage network private-endpoint create --name pe1"),
    ),
}


@pytest.mark.parametrize("where", sorted(WHERE))
@pytest.mark.parametrize(("method", "path"), ROUTES_TO_REFUSE)
def test_every_route_refuses_with_403(
    server: Server, source: httpx.Client, where: str, method: str, path: str
) -> None:
    listener, host_registry, registry, words = WHERE[where]
    if listener == "private":
        address, port = PRIVATE, server.pe_port  # type: ignore[attr-defined]
    else:
        address, port = "127.0.0.1", server.port
    host = f"{host_registry}.localhost:{port}" if host_registry else f"127.0.0.1:{port}"
    _assert_refused(
        _send(source, server, method, f"http://{address}:{port}{path}", host), registry, *words
    )

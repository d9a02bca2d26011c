"""Bad JSON to every route that parses JSON (issue 13 §5): a 4xx that names the problem, and
nothing stored. Against the real `moorage serve` process.

The JSON routes are: every management route with a body (taken from the route table itself,
so a new one is covered the day it is added), PUT /v2/<name>/manifests/<reference>, and the
ACR metadata API's PATCH routes. The token endpoints and the portal take form posts, not JSON.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from moorage.management.apiversions import NEWEST_STABLE
from moorage.management.router import Route
from moorage.management.routes import ROUTES
from tests.support.management import Management
from tests.support.oci import OCI_MANIFEST, descriptor, make_image, sha256
from tests.support.registry_http import assert_error, open_client, push_blob, push_manifest
from tests.support.server import Server

REGISTRY = "badinput"


# (name, body, words the message must hold). Each is refused whatever route it is sent to.
BAD_JSON: list[tuple[str, bytes, str]] = [
    ("200,000 nested [", b"[" * 200_000, "deeper than 32 levels"),
    ("nested objects", b'{"properties": ' * 100 + b"{}" + b"}" * 100, "deeper than 32 levels"),
    ("5,000-digit integer", b'{"properties": {"n": ' + b"9" * 5000 + b"}}", "5000 digits"),
    ("huge float", b'{"properties": {"n": 1e400}}', "out of range"),
    ("NaN", b'{"properties": {"n": NaN}}', "NaN"),
    ("Infinity", b'{"properties": {"n": Infinity}}', "Infinity"),
    ("UTF-16", '{"properties": {}}'.encode("utf-16"), "not UTF-8"),
    ("Latin-1", '{"properties": {"x": "é"}}'.encode("latin-1"), "not UTF-8"),
    ("UTF-8 BOM", b'\xef\xbb\xbf{"properties": {}}', "byte-order mark"),
    ("duplicate keys", b'{"properties": {}, "properties": {}}', "'properties' twice"),
    ("lone surrogate", b'{"properties": {"x": "\\ud800"}}', "surrogate"),
    ("truncated", b'{"properties": {', "not valid JSON"),
    ("unbalanced", b'{"properties": [}', "do not balance"),
    ("control character", b'{"properties": {"x": "\x07"}}', "not valid JSON"),
]
WRONG_TYPES: list[tuple[str, bytes]] = [
    ("array", b"[1, 2]"),
    ("string", b'"text"'),
    ("number", b"12"),
    ("null", b"null"),
]
HUGE = b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}'


@pytest.fixture(scope="module")
def management(shared_server: Server) -> Iterator[Management]:
    api = Management(shared_server)
    api.create(REGISTRY, "Premium")
    yield api
    api.close()


@pytest.fixture(scope="module")
def client(shared_server: Server) -> Iterator[httpx.Client]:
    with open_client(shared_server) as c:
        yield c


def _json_routes() -> list[Route]:
    return [route for route in ROUTES if route.body is not None]


def _concrete(route: Route, management: Management) -> str:
    """The route's path with every parameter filled: the test registry, fresh names else."""
    known = {
        "subscriptionId": management.subscription,
        "resourceGroupName": "moorage",
        "registryName": REGISTRY,
    }
    return re.sub(
        r"\{(\w+)\}",
        lambda m: known.get(m[1], f"bad{secrets.token_hex(3)}"),
        route.path,
    )


def _version(route: Route) -> dict[str, str]:
    if route.versions is None:
        return {}
    if route.versions.accepts(NEWEST_STABLE):
        return {"api-version": NEWEST_STABLE}
    assert route.versions.exact is not None
    return {"api-version": sorted(route.versions.exact)[-1]}


def _state(management: Management) -> Any:
    """What a refused request must leave as it was: the registries, the test registry, the
    resource groups, the subscription's resources and its virtual networks."""
    sub = f"/subscriptions/{management.subscription}"
    reads = [
        (sub + "/providers/Microsoft.ContainerRegistry/registries", NEWEST_STABLE),
        (management.path(REGISTRY), NEWEST_STABLE),
        (management.path(REGISTRY) + "/scopeMaps", NEWEST_STABLE),
        (management.path(REGISTRY) + "/tokens", NEWEST_STABLE),
        (management.path(REGISTRY) + "/privateEndpointConnections", NEWEST_STABLE),
        (sub + "/resourcegroups", "2022-12-01"),
        (sub + "/resources", "2022-12-01"),
        (sub + "/providers/Microsoft.Network/virtualNetworks", "2024-05-01"),
    ]
    state = []
    for path, version in reads:
        r = management.http.get(path, params={"api-version": version})
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        state.append(r.json())
    return state


def _send(management: Management, route: Route, body: bytes) -> httpx.Response:
    return management.http.request(
        route.method,
        _concrete(route, management),
        params=_version(route),
        content=body,
        headers={"Content-Type": "application/json"},
    )


def _arm_error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    error = r.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


def test_every_json_route_of_the_management_api_is_covered() -> None:
    """The table has the routes we know take JSON; the tests below walk all of them."""
    paths = {(r.method, r.path.rsplit("/", 1)[-1]) for r in _json_routes()}
    assert ("PUT", "{registryName}") in paths and ("PATCH", "{registryName}") in paths
    assert ("POST", "addIpRule") in paths
    assert len(paths) >= 10, paths


@pytest.mark.parametrize(("case", "body", "words"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_management_refuses_bad_json_on_every_route(
    management: Management, case: str, body: bytes, words: str
) -> None:
    before = _state(management)
    for route in _json_routes():
        r = _send(management, route, body)
        message = _arm_error(r, 400, "InvalidRequestContent")
        assert words in message, f"{route.method} {route.path} {case}: {message}"
        assert message.startswith("The request content"), message
    assert _state(management) == before, f"{case}: a refused request changed something"


@pytest.mark.parametrize(("case", "body"), WRONG_TYPES, ids=[c[0] for c in WRONG_TYPES])
def test_management_refuses_wrong_types_on_every_route(
    management: Management, case: str, body: bytes
) -> None:
    before = _state(management)
    for route in _json_routes():
        r = _send(management, route, body)
        message = _arm_error(r, 400, "InvalidRequestContent")
        assert re.match(r"^[\w.]+: \S", message), f"{route.path} {case}: {message}"  # names it
    assert _state(management) == before


def test_management_refuses_a_huge_body_on_every_route(management: Management) -> None:
    before = _state(management)
    for route in _json_routes():
        message = _arm_error(_send(management, route, HUGE), 413, "RequestContentTooLarge")
        assert "over the limit of 4194304 bytes" in message
    assert _state(management) == before


def test_api_version_is_checked_after_authentication(shared_server: Server) -> None:
    """A caller without a token learns that first (401), not which api-versions exist."""
    with httpx.Client(base_url=shared_server.url, trust_env=False) as anonymous:
        for params in ({}, {"api-version": "1999-01-01"}):
            r = anonymous.get(
                f"/subscriptions/{shared_server.owner['subscription']}/resourceGroups/moorage/"
                f"providers/Microsoft.ContainerRegistry/registries/{REGISTRY}",
                params=params,
            )
            assert r.status_code == 401, r.text
            assert r.json()["error"]["code"] == "AuthenticationFailed"
            assert "WWW-Authenticate" in r.headers


# -- the OCI plane: PUT manifests, and the ACR metadata API's PATCH -------------------------


def _nothing_stored(client: httpx.Client, repo: str, reference: str) -> None:
    r = client.get(f"/v2/{repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 404, r.text
    r = client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 404 or r.json().get("tags") in (None, []), r.text


@pytest.mark.parametrize(("case", "body", "words"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_manifest_put_refuses_bad_json(
    client: httpx.Client, case: str, body: bytes, words: str
) -> None:
    repo = f"badjson/r{secrets.token_hex(3)}"
    for reference in ("v1", sha256(body)):
        r = client.put(
            f"/v2/{repo}/manifests/{reference}",
            content=body,
            headers={"Content-Type": OCI_MANIFEST},
        )
        error = assert_error(r, 400, "MANIFEST_INVALID")
        assert words in str(error["message"]), f"{case}: {error}"
        assert str(error["message"]).startswith("the manifest"), error
        _nothing_stored(client, repo, reference)


@pytest.mark.parametrize(
    ("case", "body", "words"),
    [
        ("array", b"[]", "must be a JSON object"),
        ("size too large for int64", b"", "size must be an integer from 0 to"),
        ("size negative", b"", "size must be an integer from 0 to"),
        ("size a string", b"", "size must be an integer from 0 to"),
        ("layers an object", b"", "layers must be a list"),
    ],
)
def test_manifest_put_refuses_wrong_types(
    client: httpx.Client, case: str, body: bytes, words: str
) -> None:
    repo = f"badjson/r{secrets.token_hex(3)}"
    config = b"{}"
    push_blob(client, repo, config)
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [],
    }
    wrong: dict[str, object] = {
        "size too large for int64": 2**63,
        "size negative": -1,
        "size a string": "2",
    }
    if case in wrong:
        doc["config"]["size"] = wrong[case]
    elif case == "layers an object":
        doc["layers"] = {}
    payload = body or json.dumps(doc).encode()
    r = client.put(
        f"/v2/{repo}/manifests/v1", content=payload, headers={"Content-Type": OCI_MANIFEST}
    )
    error = assert_error(r, 400, "MANIFEST_INVALID")
    assert words in str(error["message"]), error
    _nothing_stored(client, repo, "v1")


def test_manifest_put_refuses_a_huge_body(client: httpx.Client) -> None:
    repo = f"badjson/r{secrets.token_hex(3)}"
    r = client.put(f"/v2/{repo}/manifests/v1", content=HUGE, headers={"Content-Type": OCI_MANIFEST})
    error = assert_error(r, 413, "MANIFEST_INVALID")
    assert "the limit is 4194304" in str(error["message"]), error
    _nothing_stored(client, repo, "v1")


@pytest.fixture(scope="module")
def pushed(client: httpx.Client) -> tuple[str, str]:
    repo = f"badjson/acr{secrets.token_hex(3)}"
    image = make_image(seed=7, layers=1, layer_bytes=64)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    push_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)
    return repo, image.digest


def test_acr_patch_refuses_bad_json(client: httpx.Client, pushed: tuple[str, str]) -> None:
    repo, digest = pushed
    for path in (repo, f"{repo}/_tags/v1", f"{repo}/_manifests/{digest}"):
        before = client.get(f"/acr/v1/{path}").json()
        for case, body, words in [*BAD_JSON, ("huge", HUGE, "over the limit of 1048576 bytes")]:
            r = client.patch(
                f"/acr/v1/{path}", content=body, headers={"Content-Type": "application/json"}
            )
            error = assert_error(r, 400, "BODY_INVALID")
            assert words in str(error["message"]), f"{path} {case}: {error}"
        assert client.get(f"/acr/v1/{path}").json() == before


# -- stored poison: content pushed before the bounds, or that the bounds let through -------

POISON_CONFIGS = [
    ("200,000 nested [", b"[" * 200_000),
    ("5,000-digit integer", b'{"architecture": "amd64", "n": ' + b"9" * 5000 + b"}"),
    ("UTF-16", '{"architecture": "amd64", "os": "linux"}'.encode("utf-16")),
    ("duplicate keys", b'{"architecture": "amd64", "architecture": "arm64", "os": "linux"}'),
]


@pytest.mark.parametrize(("case", "config"), POISON_CONFIGS, ids=[c[0] for c in POISON_CONFIGS])
def test_a_poisoned_config_is_stored_and_listed_without_its_platform(
    client: httpx.Client, case: str, config: bytes
) -> None:
    """The OCI image spec lets an artifact's config be any blob, so the push is accepted (the
    registry does not judge blob contents); the ACR listings read it warily and leave out
    what they cannot read, for every reader from then on."""
    repo = f"badjson/poison{secrets.token_hex(3)}"
    push_blob(client, repo, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [],
        }
    ).encode()
    push_manifest(client, repo, "v1", manifest, OCI_MANIFEST)
    digest = sha256(manifest)
    for _ in range(2):  # and again: nothing is cached in a broken state
        r = client.get(f"/acr/v1/{repo}/_manifests")
        assert r.status_code == 200, r.text
        [listed] = r.json()["manifests"]
        assert listed["digest"] == digest
        assert "architecture" not in listed and "os" not in listed, listed
        assert listed["configMediaType"] == "application/vnd.oci.image.config.v1+json"
        r = client.get(f"/acr/v1/{repo}/_manifests/{digest}")
        assert r.status_code == 200, r.text
        assert r.json()["manifest"]["digest"] == digest
        r = client.get(f"/v2/{repo}/blobs/{sha256(config)}")
        assert r.status_code == 200 and r.content == config


# -- headers and query values the data plane parses ----------------------------------------


def test_range_of_the_last_zero_bytes_is_unsatisfiable(client: httpx.Client) -> None:
    repo = f"badjson/range{secrets.token_hex(3)}"
    digest = push_blob(client, repo, b"0123456789")
    for header in ("bytes=-0", "bytes=-000", "BYTES = -0"):
        r = client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": header})
        error = assert_error(r, 416, "RANGE_INVALID")
        assert "last 0 bytes" in str(error["message"]), error
        assert r.headers["Content-Range"] == "bytes */10"
    r = client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": "bytes=-3"})
    assert r.status_code == 206 and r.content == b"789"


@pytest.mark.parametrize(
    ("content_range", "words"),
    [
        ("0-4/3", "ends past the total length"),
        ("0-4/4", "ends past the total length"),
        ("4-0", "ends before it starts"),
        ("0-" + "9" * 5000, "is not '<start>-<end>'"),
        ("0-99999999999999999999", "is not '<start>-<end>'"),
        ("-1-4", "is not '<start>-<end>'"),
        ("\uff10-4", "is not '<start>-<end>'"),
    ],
)
def test_inconsistent_content_range_is_refused(
    client: httpx.Client, content_range: str, words: str
) -> None:
    repo = f"badjson/crange{secrets.token_hex(3)}"
    r = client.post(f"/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    r = client.patch(location, content=b"01234", headers={"Content-Range": content_range.encode()})
    error = assert_error(r, 416, "RANGE_INVALID")
    assert words in str(error["message"]), error
    status = client.get(location)
    assert status.status_code == 204 and status.headers["Range"] == "0-0", status.headers
    r = client.patch(location, content=b"01234", headers={"Content-Range": "0-4/5"})
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("n", ["²", "9" * 5000, "-1", "1e3", "\uff11"])
def test_page_sizes_that_are_no_number_are_refused(client: httpx.Client, n: str) -> None:
    for path in ("/v2/_catalog", "/v2/badjson/none/tags/list"):
        r = client.get(path, params={"n": n})
        error = assert_error(r, 400, "PAGINATION_NUMBER_INVALID")
        assert "n must be an integer" in str(error["message"]), error

"""OCI Distribution Spec 1.1 over raw HTTP: error responses.

Invalid repository names and digests, unknown registries (by Host header), unsupported methods,
the error body every failure carries, and HEAD errors without a body, against the real
`moorage serve` process.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.support.oci import DOCKER_MANIFEST, OCI_MANIFEST, make_image, sha256
from tests.support.registry_http import (
    API_VERSION,
    open_client,
    owner_authorization,
    push_blob,
    push_manifest,
)
from tests.support.server import Server

SEEDED = "errors/seeded"
IMAGE = make_image(seed=1, layers=1, layer_bytes=128)
LAYER = sha256(IMAGE.layers[0])
ABSENT = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def client(shared_server: Server) -> Iterator[httpx.Client]:
    """The raw client, once SEEDED holds IMAGE tagged v1."""
    with open_client(shared_server) as c:
        for blob in IMAGE.blobs():
            push_blob(c, SEEDED, blob)
        push_manifest(c, SEEDED, "v1", IMAGE.manifest, OCI_MANIFEST)
        yield c


def assert_error_body(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The spec's error body: {"errors": [{"code", "message", "detail"}]} and nothing else."""
    assert response.status_code == status, response.text
    assert response.headers[API_VERSION[0]] == API_VERSION[1]
    assert response.headers["Content-Type"].split(";")[0].strip() == "application/json"
    body = json.loads(response.content)
    assert isinstance(body, dict)
    assert list(body) == ["errors"]
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert set(error) == {"code", "message", "detail"}, error
        assert isinstance(error["code"], str)
        assert error["code"].isupper()
        assert isinstance(error["message"], str)
        assert error["message"]
    assert errors[0]["code"] == code, errors
    first: dict[str, object] = errors[0]
    return first


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)


def raw_request(
    server: Server, method: str, path: str, headers: dict[str, str] | None = None
) -> RawResponse:
    """One request on its own connection, as the owner, reading every byte the server sends
    until it closes."""
    headers = {
        "Host": server.address,
        "Connection": "close",
        "Authorization": owner_authorization(server),
    } | (headers or {})
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), parsed, body)


# -- repository names ----------------------------------------------------------------------

INVALID_NAMES = [
    pytest.param("Upper", id="uppercase"),
    pytest.param("library/Ubuntu", id="uppercase-component"),
    pytest.param("-leading", id="leading-dash"),
    pytest.param(".leading", id="leading-dot"),
    pytest.param("_leading", id="leading-underscore"),
    pytest.param("/leading", id="leading-slash"),
    pytest.param("a//b", id="double-slash"),
    pytest.param("a/", id="trailing-slash"),
    pytest.param("trailing-", id="trailing-dash"),
    pytest.param("a..b", id="double-dot"),
    pytest.param("a___b", id="triple-underscore"),
    pytest.param("a/-b", id="component-leading-dash"),
    pytest.param("a%20b", id="space"),
    pytest.param("caf%C3%A9", id="non-ascii"),
    pytest.param("a" * 256, id="256-chars"),
    pytest.param("a" * 300, id="300-chars"),
    pytest.param("/".join(["abcd"] * 60), id="300-chars-nested"),
]

NAME_ENDPOINTS = [
    pytest.param("GET", "/v2/{name}/tags/list", id="tags"),
    pytest.param("GET", "/v2/{name}/manifests/latest", id="get-manifest"),
    pytest.param("PUT", "/v2/{name}/manifests/latest", id="put-manifest"),
    pytest.param("DELETE", "/v2/{name}/manifests/latest", id="delete-manifest"),
    pytest.param("GET", f"/v2/{{name}}/blobs/{ABSENT}", id="get-blob"),
    pytest.param("DELETE", f"/v2/{{name}}/blobs/{ABSENT}", id="delete-blob"),
    pytest.param("POST", "/v2/{name}/blobs/uploads/", id="start-upload"),
    pytest.param("POST", f"/v2/{{name}}/blobs/uploads/?digest={ABSENT}", id="monolithic"),
    pytest.param("POST", f"/v2/{{name}}/blobs/uploads/?mount={LAYER}&from={SEEDED}", id="mount"),
    pytest.param("GET", "/v2/{name}/blobs/uploads/someid", id="upload-status"),
    pytest.param("PATCH", "/v2/{name}/blobs/uploads/someid", id="patch-upload"),
    pytest.param("PUT", f"/v2/{{name}}/blobs/uploads/someid?digest={ABSENT}", id="put-upload"),
    pytest.param("DELETE", "/v2/{name}/blobs/uploads/someid", id="cancel-upload"),
    pytest.param("GET", f"/v2/{{name}}/referrers/{ABSENT}", id="referrers"),
]


@pytest.mark.parametrize(("method", "path"), NAME_ENDPOINTS)
@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_repository_name(client: httpx.Client, method: str, path: str, name: str) -> None:
    content = b"{}" if method in ("PUT", "PATCH") else None
    r = client.request(method, path.format(name=name), content=content)
    assert_error_body(r, 400, "NAME_INVALID")


def test_invalid_name_is_not_created(client: httpx.Client) -> None:
    r = client.post(f"/v2/Upper/blobs/uploads/?digest={sha256(b'x')}", content=b"x")
    assert_error_body(r, 400, "NAME_INVALID")
    assert "Upper" not in client.get("/v2/_catalog").json()["repositories"]


@pytest.mark.parametrize(
    "name", ["a" * 255, "a/" * 127 + "a", "a__b", "a-----b", "a.b_c-d/e", "0", "a/b/c/d/e/f/g/h"]
)
def test_valid_repository_names(client: httpx.Client, name: str) -> None:
    data = secrets.token_bytes(16)
    r = client.post(f"/v2/{name}/blobs/uploads/", params={"digest": sha256(data)}, content=data)
    assert r.status_code == 201, r.text
    assert client.get(f"/v2/{name}/blobs/{sha256(data)}").content == data


# -- digests -------------------------------------------------------------------------------

INVALID_DIGESTS = [
    pytest.param("sha256:abc", id="short-hex"),
    pytest.param("sha256:" + "0" * 65, id="long-hex"),
    pytest.param("sha512:" + "0" * 64, id="sha512-with-sha256-length"),
    pytest.param("sha256:" + "A" * 64, id="uppercase-hex"),
    pytest.param("sha256:" + "g" * 64, id="non-hex"),
    pytest.param("SHA256:" + "0" * 64, id="uppercase-algorithm"),
    pytest.param("md5:" + "0" * 32, id="unknown-algorithm"),
    pytest.param("sha384:" + "0" * 96, id="unregistered-algorithm"),
    pytest.param("sha256:", id="empty-hex"),
    pytest.param(":" + "0" * 64, id="no-algorithm"),
]

DIGEST_ENDPOINTS = [
    pytest.param("GET", "/v2/{name}/blobs/{digest}", id="get-blob"),
    pytest.param("DELETE", "/v2/{name}/blobs/{digest}", id="delete-blob"),
    pytest.param("GET", "/v2/{name}/manifests/{digest}", id="get-manifest"),
    pytest.param("PUT", "/v2/{name}/manifests/{digest}", id="put-manifest"),
    pytest.param("DELETE", "/v2/{name}/manifests/{digest}", id="delete-manifest"),
    pytest.param("GET", "/v2/{name}/referrers/{digest}", id="referrers"),
    pytest.param("POST", "/v2/{name}/blobs/uploads/?digest={digest}", id="monolithic"),
    pytest.param("PUT", "{upload}?digest={digest}", id="put-upload"),
]


@pytest.mark.parametrize(("method", "path"), DIGEST_ENDPOINTS)
@pytest.mark.parametrize("digest", INVALID_DIGESTS)
def test_invalid_digest(client: httpx.Client, method: str, path: str, digest: str) -> None:
    upload = ""
    if path.startswith("{upload}"):
        upload = client.post(f"/v2/{SEEDED}/blobs/uploads/").headers["Location"]
    url = path.format(name=SEEDED, digest=digest, upload=upload)
    content = IMAGE.manifest if method in ("PUT", "POST") else None
    r = client.request(method, url, content=content)
    if method == "GET" and "/manifests/" in path:
        # A reference that is neither a tag nor a digest names no manifest (the spec's suite).
        assert_error_body(r, 404, "MANIFEST_UNKNOWN")
        return
    error = assert_error_body(r, 400, "DIGEST_INVALID")
    assert error["detail"] == {"digest": digest}


def test_digest_without_algorithm_is_a_blob_error(client: httpx.Client) -> None:
    # In a manifest reference it would be a tag; in a blob path it can only be a bad digest.
    r = client.get(f"/v2/{SEEDED}/blobs/{'0' * 64}")
    assert_error_body(r, 400, "DIGEST_INVALID")


# -- unknown registry (Host header) --------------------------------------------------------

HOST_ENDPOINTS = [
    ("GET", "/v2/"),
    ("GET", "/v2/_catalog"),
    ("GET", f"/v2/{SEEDED}/tags/list"),
    ("GET", f"/v2/{SEEDED}/manifests/v1"),
    ("GET", f"/v2/{SEEDED}/blobs/{LAYER}"),
    ("POST", f"/v2/{SEEDED}/blobs/uploads/"),
    ("GET", f"/v2/{SEEDED}/referrers/{IMAGE.digest}"),
]


@pytest.mark.parametrize(("method", "path"), HOST_ENDPOINTS)
@pytest.mark.parametrize(
    "host", ["nosuchreg.localhost:{port}", "NoSuchReg.localhost:{port}", "nosuchreg.localhost"]
)
def test_unknown_registry(
    client: httpx.Client, shared_server: Server, method: str, path: str, host: str
) -> None:
    r = client.request(method, path, headers={"Host": host.format(port=shared_server.port)})
    error = assert_error_body(r, 404, "NAME_UNKNOWN")
    assert error["detail"] == {"name": "nosuchreg"}


@pytest.mark.parametrize("host", ["a.b.localhost:{port}", "x.nosuchreg.localhost:{port}"])
def test_unknown_registry_with_dotted_name(
    client: httpx.Client, shared_server: Server, host: str
) -> None:
    r = client.get("/v2/", headers={"Host": host.format(port=shared_server.port)})
    assert_error_body(r, 404, "NAME_UNKNOWN")


@pytest.mark.parametrize(
    "host",
    [
        "default.localhost:{port}",
        "DEFAULT.localhost:{port}",
        "localhost:{port}",
        "127.0.0.1:{port}",
    ],
)
def test_default_registry_by_host(client: httpx.Client, shared_server: Server, host: str) -> None:
    """The control: the default registry answers on its login server and on the bare host."""
    r = client.get(
        f"/v2/{SEEDED}/manifests/v1", headers={"Host": host.format(port=shared_server.port)}
    )
    assert r.status_code == 200, r.text
    assert r.content == IMAGE.manifest


# -- unsupported methods and endpoints -----------------------------------------------------

UNSUPPORTED = [
    ("POST", "/v2/"),
    ("PUT", "/v2/"),
    ("DELETE", "/v2/"),
    ("PATCH", "/v2/"),
    ("POST", "/v2/_catalog"),
    ("DELETE", f"/v2/{SEEDED}/tags/list"),
    ("PUT", f"/v2/{SEEDED}/tags/list"),
    ("POST", f"/v2/{SEEDED}/manifests/v1"),
    ("PATCH", f"/v2/{SEEDED}/manifests/v1"),
    ("PUT", f"/v2/{SEEDED}/blobs/{LAYER}"),
    ("POST", f"/v2/{SEEDED}/blobs/{LAYER}"),
    ("PATCH", f"/v2/{SEEDED}/blobs/{LAYER}"),
    ("POST", f"/v2/{SEEDED}/blobs/uploads/someid"),
    ("DELETE", f"/v2/{SEEDED}/referrers/{IMAGE.digest}"),
    ("PUT", f"/v2/{SEEDED}/referrers/{IMAGE.digest}"),
    ("OPTIONS", "/v2/"),
]


@pytest.mark.parametrize(("method", "path"), UNSUPPORTED)
def test_unsupported_method(client: httpx.Client, method: str, path: str) -> None:
    r = client.request(method, path, content=b"{}" if method in ("PUT", "POST", "PATCH") else None)
    assert_error_body(r, 405, "UNSUPPORTED")
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert method not in allowed
    assert allowed


def test_unsupported_method_leaves_content_alone(client: httpx.Client) -> None:
    assert client.delete(f"/v2/{SEEDED}/tags/list").status_code == 405
    assert client.get(f"/v2/{SEEDED}/manifests/v1").status_code == 200


@pytest.mark.parametrize(
    "path", ["/v2/nothing-here", f"/v2/{SEEDED}/nothing", f"/v2/{SEEDED}/blobs", "/v2/_catalog/x"]
)
def test_unknown_endpoint(client: httpx.Client, path: str) -> None:
    # The spec names no code for a path it does not define; moorage says 404 UNSUPPORTED.
    assert_error_body(client.get(path), 404, "UNSUPPORTED")


# -- every error has the same shape --------------------------------------------------------


@dataclass
class Case:
    method: str
    path: str
    status: int
    code: str
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


ERROR_CASES = [
    Case("GET", f"/v2/{SEEDED}/blobs/{ABSENT}", 404, "BLOB_UNKNOWN"),
    Case("DELETE", f"/v2/{SEEDED}/blobs/{ABSENT}", 404, "BLOB_UNKNOWN"),
    Case("DELETE", f"/v2/{SEEDED}/blobs/{LAYER}", 409, "BLOB_IN_USE"),
    Case("GET", f"/v2/{SEEDED}/blobs/uploads/nosuch", 404, "BLOB_UPLOAD_UNKNOWN"),
    Case("PUT", "{upload}", 400, "DIGEST_INVALID", b"x"),
    Case("PUT", "{upload}?digest=" + ABSENT, 400, "DIGEST_INVALID", b"x"),
    Case("PATCH", "{upload}", 416, "RANGE_INVALID", b"x", {"Content-Range": "5-5"}),
    Case("PATCH", "{upload}", 416, "RANGE_INVALID", b"x", {"Content-Range": "x"}),
    Case("PATCH", "{upload}", 400, "SIZE_INVALID", b"x", {"Content-Range": "0-5"}),
    Case(
        "PUT",
        f"/v2/{SEEDED}/manifests/bad",
        400,
        "MANIFEST_BLOB_UNKNOWN",
        make_image(seed=2, layers=1).manifest,
        {"Content-Type": OCI_MANIFEST},
    ),
    Case("PUT", f"/v2/{SEEDED}/manifests/bad", 400, "MANIFEST_INVALID", b"{", {}),
    Case("GET", f"/v2/{SEEDED}/manifests/nosuch", 404, "MANIFEST_UNKNOWN"),
    Case(
        "GET",
        f"/v2/{SEEDED}/manifests/v1",
        404,
        "MANIFEST_UNKNOWN",
        None,
        {"Accept": DOCKER_MANIFEST},
    ),
    Case("GET", "/v2/Upper/tags/list", 400, "NAME_INVALID"),
    Case("GET", "/v2/errors/nosuch/tags/list", 404, "NAME_UNKNOWN"),
    Case("GET", "/v2/", 404, "NAME_UNKNOWN", None, {"Host": "nosuchreg.localhost"}),
    Case("POST", "/v2/", 405, "UNSUPPORTED"),
    Case("GET", f"/v2/{SEEDED}/manifests/-bad", 404, "MANIFEST_UNKNOWN"),  # the spec's suite
    Case("PUT", f"/v2/{SEEDED}/manifests/-bad", 400, "TAG_INVALID"),
    Case("GET", f"/v2/{SEEDED}/tags/list?n=x", 400, "PAGINATION_NUMBER_INVALID"),
    Case("GET", "/v2/_catalog?n=-1", 400, "PAGINATION_NUMBER_INVALID"),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: f"{c.code}-{c.method}")
def test_error_shape(client: httpx.Client, case: Case) -> None:
    path = case.path
    if path.startswith("{upload}"):
        upload = client.post(f"/v2/{SEEDED}/blobs/uploads/").headers["Location"]
        path = path.format(upload=upload)
    r = client.request(case.method, path, content=case.content, headers=case.headers)
    error = assert_error_body(r, case.status, case.code)
    assert isinstance(error["detail"], dict | list | str)


# -- HEAD errors carry no body -------------------------------------------------------------

HEAD_ERRORS = [
    pytest.param(f"/v2/{SEEDED}/manifests/nosuch", {}, 404, id="manifest-unknown"),
    pytest.param(f"/v2/{SEEDED}/manifests/{ABSENT}", {}, 404, id="manifest-digest-unknown"),
    pytest.param(
        f"/v2/{SEEDED}/manifests/v1", {"Accept": DOCKER_MANIFEST}, 404, id="not-acceptable"
    ),
    pytest.param(f"/v2/{SEEDED}/manifests/-bad", {}, 404, id="reference-invalid"),
    pytest.param(f"/v2/{SEEDED}/blobs/{ABSENT}", {}, 404, id="blob-unknown"),
    pytest.param(f"/v2/{SEEDED}/blobs/sha256:abc", {}, 400, id="digest-invalid"),
    pytest.param("/v2/Upper/manifests/v1", {}, 400, id="name-invalid"),
    pytest.param("/v2/errors/nosuch/tags/list", {}, 404, id="name-unknown"),
    pytest.param("/v2/_catalog?n=x", {}, 400, id="pagination"),
    pytest.param("/v2/", {"Host": "nosuchreg.localhost"}, 404, id="registry-unknown"),
    pytest.param(f"/v2/{SEEDED}/nothing", {}, 404, id="no-endpoint"),
]


@pytest.mark.parametrize(("path", "headers", "status"), HEAD_ERRORS)
def test_head_error_has_no_body(
    client: httpx.Client, shared_server: Server, path: str, headers: dict[str, str], status: int
) -> None:
    r = raw_request(shared_server, "HEAD", path, headers)
    assert r.status == status
    assert r.body == b""
    assert r.headers[API_VERSION[0].lower()] == API_VERSION[1]
    assert r.headers["content-type"].split(";")[0] == "application/json"
    # The same request with GET carries the error body the HEAD left out.
    get = client.get(path, headers=headers)
    assert get.status_code == status
    assert get.json()["errors"]


def test_head_success_has_no_body(shared_server: Server) -> None:
    r = raw_request(shared_server, "HEAD", f"/v2/{SEEDED}/manifests/v1")
    assert r.status == 200
    assert r.body == b""
    assert int(r.headers["content-length"]) == len(IMAGE.manifest)

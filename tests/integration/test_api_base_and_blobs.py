"""OCI Distribution Spec 1.1 over raw HTTP: the version check and the blob endpoints.

GET /v2/ (end-1), HEAD and GET /v2/<name>/blobs/<digest> with Range (end-2), and
DELETE /v2/<name>/blobs/<digest> (end-10), against the real `moorage serve` process.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from tests.support.oci import make_image
from tests.support.registry_http import API_VERSION, assert_error, digest_of, push_blob

REPO_PREFIX = "blobs"


# -- GET /v2/ ------------------------------------------------------------------------------


def test_version_check(client: httpx.Client) -> None:
    r = client.get("/v2/")
    assert r.status_code == 200
    assert r.headers[API_VERSION[0]] == API_VERSION[1]
    assert r.json() == {}


def test_version_check_head(client: httpx.Client) -> None:
    r = client.head("/v2/")
    assert r.status_code == 200
    assert r.headers[API_VERSION[0]] == API_VERSION[1]
    assert r.content == b""


def test_v2_without_slash_redirects(client: httpx.Client) -> None:
    r = client.get("/v2")
    assert r.status_code == 301
    assert r.headers["Location"] == "/v2/"


# -- HEAD / GET ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_head_blob(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(3000)
    digest = push_blob(client, repo, data, algorithm)
    r = client.head(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["Content-Length"]) == len(data)
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers[API_VERSION[0]] == API_VERSION[1]


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_get_blob(client: httpx.Client, repo: str, algorithm: str) -> None:
    data = os.urandom(70_000)
    digest = push_blob(client, repo, data, algorithm)
    r = client.get(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert int(r.headers["Content-Length"]) == len(data)


def test_get_empty_blob(client: httpx.Client, repo: str) -> None:
    digest = push_blob(client, repo, b"")
    assert digest == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    r = client.get(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == b""


def test_get_image_blobs(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=11, layers=2)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    for blob in image.blobs():
        r = client.get(f"/v2/{repo}/blobs/{digest_of(blob)}")
        assert r.status_code == 200
        assert r.content == blob


SIZE = 1000


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=900-", 900, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=990-5000", 990, SIZE - 1),  # an end past the blob is cut to the blob
    ],
)
def test_get_blob_range(
    client: httpx.Client, repo: str, range_header: str, start: int, end: int
) -> None:
    data = os.urandom(SIZE)
    digest = push_blob(client, repo, data)
    r = client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": range_header})
    assert r.status_code == 206, r.text
    assert r.content == data[start : end + 1]
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert int(r.headers["Content-Length"]) == end - start + 1
    assert r.headers["Docker-Content-Digest"] == digest


def test_get_blob_range_not_satisfiable(client: httpx.Client, repo: str) -> None:
    data = os.urandom(SIZE)
    digest = push_blob(client, repo, data)
    r = client.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": f"bytes={SIZE}-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{SIZE}"


def test_blob_advertises_ranges(client: httpx.Client, repo: str) -> None:
    digest = push_blob(client, repo, os.urandom(100))
    r = client.head(f"/v2/{repo}/blobs/{digest}")
    assert r.headers.get("Accept-Ranges") == "bytes"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_blob_unknown(client: httpx.Client, repo: str, method: str) -> None:
    push_blob(client, repo, b"something else")  # the repository exists, the blob does not
    digest = digest_of(os.urandom(32))
    r = client.request(method, f"/v2/{repo}/blobs/{digest}")
    if method == "HEAD":
        assert r.status_code == 404
        assert r.content == b""
        assert r.headers[API_VERSION[0]] == API_VERSION[1]
    else:
        error = assert_error(r, 404, "BLOB_UNKNOWN")
        assert error["detail"] == {"digest": digest}


def test_blob_unknown_in_unknown_repository(client: httpx.Client, repo: str) -> None:
    # The spec allows BLOB_UNKNOWN or NAME_UNKNOWN here; moorage answers BLOB_UNKNOWN.
    r = client.get(f"/v2/{repo}/never/blobs/{digest_of(b'x')}")
    assert_error(r, 404, "BLOB_UNKNOWN")


def test_blob_is_scoped_to_its_repository(client: httpx.Client, repo: str) -> None:
    digest = push_blob(client, repo, os.urandom(64))
    push_blob(client, f"{repo}-other", b"other content")
    r = client.get(f"/v2/{repo}-other/blobs/{digest}")
    assert_error(r, 404, "BLOB_UNKNOWN")
    assert client.head(f"/v2/{repo}-other/blobs/{digest}").status_code == 404


def test_blob_in_nested_repository(client: httpx.Client, repo: str) -> None:
    name = f"{repo}/a/b.c/d_e/f-g"
    data = os.urandom(128)
    digest = push_blob(client, name, data)
    assert client.get(f"/v2/{name}/blobs/{digest}").content == data


# -- DELETE --------------------------------------------------------------------------------


def test_delete_blob(client: httpx.Client, repo: str) -> None:
    digest = push_blob(client, repo, os.urandom(256))
    r = client.delete(f"/v2/{repo}/blobs/{digest}")
    assert r.status_code == 202
    assert r.content == b""
    assert_error(client.get(f"/v2/{repo}/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    assert client.head(f"/v2/{repo}/blobs/{digest}").status_code == 404
    assert_error(client.delete(f"/v2/{repo}/blobs/{digest}"), 404, "BLOB_UNKNOWN")


def test_delete_blob_unknown(client: httpx.Client, repo: str) -> None:
    push_blob(client, repo, b"present")
    assert_error(client.delete(f"/v2/{repo}/blobs/{digest_of(b'absent')}"), 404, "BLOB_UNKNOWN")
    assert_error(
        client.delete(f"/v2/{repo}/nothing/blobs/{digest_of(b'absent')}"), 404, "BLOB_UNKNOWN"
    )


def test_delete_blob_leaves_other_repositories(client: httpx.Client, repo: str) -> None:
    data = os.urandom(512)
    digest = push_blob(client, repo, data)
    push_blob(client, f"{repo}-twin", data)
    assert client.delete(f"/v2/{repo}/blobs/{digest}").status_code == 202
    r = client.get(f"/v2/{repo}-twin/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == data


def test_delete_blob_then_push_again(client: httpx.Client, repo: str) -> None:
    data = os.urandom(512)
    digest = push_blob(client, repo, data)
    assert client.delete(f"/v2/{repo}/blobs/{digest}").status_code == 202
    assert push_blob(client, repo, data) == digest
    assert client.get(f"/v2/{repo}/blobs/{digest}").content == data


def test_delete_blob_in_use_is_refused(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=21, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    r = client.put(
        f"/v2/{repo}/manifests/v1",
        content=image.manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 201, r.text
    layer = digest_of(image.layers[0])
    error = assert_error(client.delete(f"/v2/{repo}/blobs/{layer}"), 409, "BLOB_IN_USE")
    assert error["detail"] == {"digest": layer, "manifest": image.digest}
    assert client.get(f"/v2/{repo}/blobs/{layer}").status_code == 200

    # Once the manifest is gone the blob may go.
    assert client.delete(f"/v2/{repo}/manifests/{image.digest}").status_code == 202
    assert client.delete(f"/v2/{repo}/blobs/{layer}").status_code == 202
    assert client.head(f"/v2/{repo}/blobs/{layer}").status_code == 404


def test_error_body_is_json(client: httpx.Client, repo: str) -> None:
    r = client.get(f"/v2/{repo}/blobs/{digest_of(b'none')}")
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert set(json.loads(r.content)) == {"errors"}

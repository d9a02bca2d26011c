"""ACR's metadata API (/acr/v1) over raw HTTP, against the real `moorage serve` process.

The shapes are those of the ACR data-plane REST spec (2021-07-01); the SDK test
(test_azure_sdk_acr.py) checks that the official client reads them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from tests.support.oci import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    make_image,
    make_index,
    sha256,
)
from tests.support.registry_http import assert_error, open_client, push_blob, push_manifest
from tests.support.server import Server

REPO_PREFIX = "acr"
CHANGEABLE = {"deleteEnabled": True, "writeEnabled": True, "readEnabled": True, "listEnabled": True}
_LINK = re.compile(r'^<([^>]+)>; rel="next"$')
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def push_image(
    client: httpx.Client, repo: str, tags: list[str], seed: int = 0, arch: str = "amd64"
) -> Image:
    image = make_image(seed=seed, layers=2, layer_bytes=256, arch=arch)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    push_manifest(client, repo, image.digest, image.manifest, OCI_MANIFEST)
    for tag in tags:
        push_manifest(client, repo, tag, image.manifest, OCI_MANIFEST)
    return image


def get(client: httpx.Client, path: str, **params: str) -> httpx.Response:
    r = client.get(f"/acr/v1/{path}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    return r


def next_link(response: httpx.Response) -> str | None:
    header = response.headers.get("Link")
    if header is None:
        return None
    match = _LINK.match(header)
    assert match, header
    return match[1]


def test_repository_tags_and_manifests(
    client: httpx.Client, repo: str, shared_server: Server
) -> None:
    image = push_image(client, repo, ["v1", "latest"])
    login_server = get(client, repo).json()["registry"]
    assert login_server  # the registry's login server, as in every ACR body

    body = get(client, repo).json()
    assert _TIME.match(body.pop("createdTime")) and _TIME.match(body.pop("lastUpdateTime"))
    assert body == {
        "registry": login_server,
        "imageName": repo,
        "manifestCount": 1,
        "tagCount": 2,
        "changeableAttributes": CHANGEABLE,
    }

    tags = get(client, f"{repo}/_tags").json()
    assert (tags["registry"], tags["imageName"]) == (login_server, repo)
    assert [(t["name"], t["digest"], t["signed"]) for t in tags["tags"]] == [
        ("latest", image.digest, False),
        ("v1", image.digest, False),
    ]
    tag = get(client, f"{repo}/_tags/v1").json()
    assert tag["imageName"] == repo and tag["tag"] == tags["tags"][1]
    assert _TIME.match(tag["tag"]["createdTime"]) and _TIME.match(tag["tag"]["lastUpdateTime"])

    [manifest] = get(client, f"{repo}/_manifests").json()["manifests"]
    assert _TIME.match(manifest.pop("createdTime")) and _TIME.match(manifest.pop("lastUpdateTime"))
    size = len(image.manifest) + sum(len(b) for b in image.blobs())
    assert manifest == {
        "digest": image.digest,
        "imageSize": size,
        "mediaType": OCI_MANIFEST,
        "configMediaType": OCI_CONFIG,
        "architecture": "amd64",
        "os": "linux",
        "tags": ["latest", "v1"],
        "changeableAttributes": CHANGEABLE,
    }
    one = get(client, f"{repo}/_manifests/{image.digest}").json()
    assert (one["registry"], one["imageName"], one["manifest"]["digest"]) == (
        login_server,
        repo,
        image.digest,
    )


def test_index_references_its_platforms(client: httpx.Client, repo: str) -> None:
    images = [
        push_image(client, repo, [], seed=i, arch=a) for i, a in enumerate(["amd64", "arm64"])
    ]
    index = make_index(images)
    push_manifest(client, repo, "multi", index, OCI_INDEX)
    found = get(client, f"{repo}/_manifests/{sha256(index)}").json()["manifest"]
    assert found["mediaType"] == OCI_INDEX and found["tags"] == ["multi"]
    assert found["references"] == [
        {"digest": images[0].digest, "architecture": "amd64", "os": "linux"},
        {"digest": images[1].digest, "architecture": "arm64", "os": "linux"},
    ]


def test_names_with_encoded_slashes(client: httpx.Client, repo: str) -> None:
    push_image(client, repo, ["v1"])
    encoded = quote(repo, safe="")  # how the Azure SDK sends a repository name
    assert "%2F" in encoded
    assert get(client, encoded).json()["imageName"] == repo
    assert [t["name"] for t in get(client, f"{encoded}/_tags").json()["tags"]] == ["v1"]
    assert get(client, f"{encoded}/_tags/v1").json()["tag"]["name"] == "v1"


def test_tags_page_by_time_with_link(client: httpx.Client, repo: str) -> None:
    pushed = ["c", "a", "d", "b"]
    for i, tag in enumerate(pushed):
        push_image(client, repo, [tag], seed=10 + i)
    names: list[str] = []
    url: str | None = f"/acr/v1/{repo}/_tags?n=3&orderby=timedesc"
    first = True
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        names += [t["name"] for t in r.json()["tags"]]
        url = next_link(r)
        if first:
            assert url == f"/acr/v1/{repo}/_tags?last=a&n=3&orderby=timedesc"
            first = False
    assert names == pushed[::-1]
    by_name = get(client, f"{repo}/_tags", orderby="timeasc").json()["tags"]
    assert [t["name"] for t in by_name] == pushed


def test_manifests_page_with_link(client: httpx.Client, repo: str) -> None:
    digests = sorted(push_image(client, repo, [], seed=20 + i).digest for i in range(3))
    r = get(client, f"{repo}/_manifests", n="2")
    assert [m["digest"] for m in r.json()["manifests"]] == digests[:2]
    assert next_link(r) == f"/acr/v1/{repo}/_manifests?last={digests[1]}&n=2"
    r = client.get(next_link(r) or "")
    assert [m["digest"] for m in r.json()["manifests"]] == digests[2:]
    assert "Link" not in r.headers


def test_catalog(server: Server) -> None:
    with open_client(server) as c:
        assert get(c, "_catalog").json() == {"repositories": []}
        names = ["a/b", "app", "zeta"]
        for name in names:
            push_blob(c, name, name.encode())
        assert get(c, "_catalog").json() == {"repositories": names}
        r = get(c, "_catalog", n="2")
        assert r.json() == {"repositories": ["a/b", "app"]}
        assert next_link(r) == "/acr/v1/_catalog?last=app&n=2"
        assert client_get_json(c, next_link(r) or "") == {"repositories": ["zeta"]}


def client_get_json(client: httpx.Client, url: str) -> object:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return r.json()


def test_delete_tag_then_repository(client: httpx.Client, repo: str) -> None:
    image = push_image(client, repo, ["v1", "v2"])
    r = client.delete(f"/acr/v1/{repo}/_tags/v1")
    assert r.status_code == 202, r.text
    assert_error(client.get(f"/acr/v1/{repo}/_tags/v1"), 404, "MANIFEST_UNKNOWN")
    assert_error(client.delete(f"/acr/v1/{repo}/_tags/v1"), 404, "MANIFEST_UNKNOWN")
    assert client.get(f"/v2/{repo}/manifests/v2").status_code == 200  # the image stays

    r = client.delete(f"/acr/v1/{repo}")
    assert r.status_code == 202, r.text
    assert r.json() == {"manifestsDeleted": [image.digest], "tagsDeleted": ["v2"]}
    assert_error(client.get(f"/acr/v1/{repo}"), 404, "NAME_UNKNOWN")
    assert_error(client.delete(f"/acr/v1/{repo}"), 404, "NAME_UNKNOWN")
    assert_error(client.get(f"/v2/{repo}/manifests/v2"), 404, "MANIFEST_UNKNOWN")
    assert repo not in get(client, "_catalog", n="10000").json()["repositories"]
    push_image(client, repo, ["again"])  # the name can be used again
    assert get(client, repo).json()["tagCount"] == 1


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("{repo}", 404, "NAME_UNKNOWN"),
        ("{repo}/_tags", 404, "NAME_UNKNOWN"),
        ("{repo}/_manifests", 404, "NAME_UNKNOWN"),
        ("{repo}/_tags/v1", 404, "NAME_UNKNOWN"),
        ("{repo}/_tags/bad:tag", 400, "TAG_INVALID"),
        ("{repo}/_manifests/sha256:abc", 400, "DIGEST_INVALID"),
        ("Upper/Case", 400, "NAME_INVALID"),
        ("{repo}/_tags?orderby=sideways", 405, "UNSUPPORTED"),
        ("{repo}/_tags?n=-1", 400, "PAGINATION_NUMBER_INVALID"),
        ("{repo}/_unknown", 404, "UNSUPPORTED"),
    ],
)
def test_errors(client: httpx.Client, repo: str, path: str, status: int, code: str) -> None:
    if "orderby" in path or "n=-1" in path:
        push_image(client, repo, ["v1"])
    assert_error(client.get("/acr/v1/" + path.format(repo=repo)), status, code)


def test_patch_changeable_attributes(client: httpx.Client, repo: str) -> None:
    image = push_image(client, repo, ["v1"])
    for path in [repo, f"{repo}/_tags/v1", f"{repo}/_manifests/{image.digest}"]:
        r = client.patch(f"/acr/v1/{path}", json=CHANGEABLE)
        assert r.status_code == 200, r.text
        assert r.json() == get(client, path).json()
        r = client.patch(f"/acr/v1/{path}", json={"deleteEnabled": False})
        error = assert_error(r, 405, "UNSUPPORTED")
        assert "no repository, tag or manifest locks" in str(error["message"])


def test_needs_credentials(shared_server: Server, repo: str) -> None:
    with open_client(shared_server, signed_in=False) as anonymous:
        r = anonymous.get(f"/acr/v1/{repo}/_tags")
        assert_error(r, 401, "UNAUTHORIZED")
        challenge = r.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="')
        assert f'scope="repository:{repo}:metadata_read"' in challenge
        r = anonymous.get("/acr/v1/_catalog")
        assert 'scope="registry:catalog:*"' in r.headers["WWW-Authenticate"]
        r = anonymous.delete(f"/acr/v1/{repo}")
        assert f'scope="repository:{repo}:delete"' in r.headers["WWW-Authenticate"]

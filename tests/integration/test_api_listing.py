"""OCI Distribution Spec 1.1 over raw HTTP: listings.

Tags (end-8a/end-8b) and the catalog with `n`/`last` pagination and the Link header, and the
referrers API (end-12a/end-12b), against the real `moorage serve` process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.oci import OCI_INDEX, OCI_MANIFEST, descriptor, make_image, sha256
from tests.support.registry_http import (
    API_VERSION,
    assert_error,
    open_client,
    push_blob,
    push_manifest,
)
from tests.support.server import Server, running_server

REPO_PREFIX = "listing"
EMPTY_JSON = b"{}"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
SBOM = "application/vnd.example.sbom.v1+json"
SIGNATURE = "application/vnd.example.signature.v1+json"
_LINK = re.compile(r'^<([^>]+)>;\s*rel="next"$')


def tag_image(client: httpx.Client, name: str, tags: list[str], seed: int = 0) -> str:
    image = make_image(seed=seed, layers=1, layer_bytes=64)
    for blob in image.blobs():
        push_blob(client, name, blob)
    for tag in tags:
        push_manifest(client, name, tag, image.manifest, OCI_MANIFEST)
    return image.digest


def next_link(response: httpx.Response) -> str | None:
    header = response.headers.get("Link")
    if header is None:
        return None
    match = _LINK.match(header)
    assert match, header
    return match[1]


def follow(client: httpx.Client, url: str, key: str) -> tuple[list[str], list[list[str]]]:
    """Every entry of a paginated listing, following Link headers; also each page."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        assert len(pages) < 100, "pagination does not end"
        r = client.get(next_url)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].split(";")[0] == "application/json"
        pages.append(r.json()[key])
        next_url = next_link(r)
    return [entry for page in pages for entry in page], pages


# -- tags/list -----------------------------------------------------------------------------

TAGS = sorted(
    ["latest", "v1", "v1.0", "v1.0.1", "v10", "v2", "A", "Z9", "_private", "0", "1.0-rc1", "z"]
)


def test_tags_list(client: httpx.Client, repo: str) -> None:
    tag_image(client, repo, list(reversed(TAGS)))
    r = client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": repo, "tags": TAGS}
    assert "Link" not in r.headers


@pytest.mark.parametrize("n", [1, 2, 5, 11, 12])
def test_tags_list_pages(client: httpx.Client, repo: str, n: int) -> None:
    tag_image(client, repo, TAGS)
    found, pages = follow(client, f"/v2/{repo}/tags/list?n={n}", "tags")
    assert found == TAGS  # lexical order, every tag once
    assert all(len(page) == n for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= n
    assert len(pages) == -(-len(TAGS) // n)


def test_tags_list_link_header(client: httpx.Client, repo: str) -> None:
    tag_image(client, repo, ["a", "b", "c"])
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert r.json() == {"name": repo, "tags": ["a", "b"]}
    link = next_link(r)
    assert link is not None
    url = httpx.URL(link)
    assert url.path == f"/v2/{repo}/tags/list"
    assert dict(url.params) == {"n": "2", "last": "b"}
    r = client.get(link)
    assert r.json() == {"name": repo, "tags": ["c"]}
    assert "Link" not in r.headers


def test_tags_list_n_larger_than_count(client: httpx.Client, repo: str) -> None:
    tag_image(client, repo, ["a", "b"])
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 100})
    assert r.json()["tags"] == ["a", "b"]
    assert "Link" not in r.headers


def test_tags_list_n_equal_to_count(client: httpx.Client, repo: str) -> None:
    tag_image(client, repo, ["a", "b"])
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert r.json()["tags"] == ["a", "b"]
    assert "Link" not in r.headers


@pytest.mark.parametrize(
    ("last", "expected"),
    [("v1", ["v1.0", "v1.0.1", "v10", "v2", "z"]), ("v1.0.5", ["v10", "v2", "z"]), ("z", [])],
)
def test_tags_list_last(client: httpx.Client, repo: str, last: str, expected: list[str]) -> None:
    tag_image(client, repo, TAGS)
    r = client.get(f"/v2/{repo}/tags/list", params={"last": last})
    assert r.status_code == 200
    assert r.json()["tags"] == expected
    r = client.get(f"/v2/{repo}/tags/list", params={"last": last, "n": 2})
    assert r.json()["tags"] == expected[:2]


def test_tags_list_n_zero(client: httpx.Client, repo: str) -> None:
    tag_image(client, repo, ["a", "b"])
    r = client.get(f"/v2/{repo}/tags/list", params={"n": 0})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": repo, "tags": []}
    assert "Link" not in r.headers


def test_tags_list_of_repository_without_tags(client: httpx.Client, repo: str) -> None:
    push_blob(client, repo, b"only a blob")
    r = client.get(f"/v2/{repo}/tags/list")
    assert r.status_code == 200
    assert r.json() == {"name": repo, "tags": []}


@pytest.mark.parametrize("n", ["abc", "-1", "1.5", "", " 1", "0x10", "10001", "1e3"])
def test_tags_list_invalid_n(client: httpx.Client, repo: str, n: str) -> None:
    tag_image(client, repo, ["a"])
    r = client.get(f"/v2/{repo}/tags/list", params={"n": n})
    error = assert_error(r, 400, "PAGINATION_NUMBER_INVALID")
    assert error["detail"] == {"n": n}


def test_tags_list_unknown_repository(client: httpx.Client, repo: str) -> None:
    error = assert_error(client.get(f"/v2/{repo}/tags/list"), 404, "NAME_UNKNOWN")
    assert error["detail"] == {"name": repo}


# -- _catalog ------------------------------------------------------------------------------

REPOSITORIES = sorted(
    ["alpine", "a-b", "a.b", "a/b", "a_b", "a__b", "b", "library/ubuntu", "x/y/z", "0", "z9"]
)


@pytest.fixture(scope="module")
def catalog_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server of its own: the catalog lists exactly REPOSITORIES (tests must not add any)."""
    data_dir = tmp_path_factory.mktemp("catalog") / "data"
    with running_server(data_dir) as server, open_client(server) as c:
        for i, name in enumerate(REPOSITORIES):
            push_blob(c, name, f"repository {i}".encode())
        yield c


def test_catalog_of_empty_registry(server: Server) -> None:
    with open_client(server) as c:
        r = c.get("/v2/_catalog")
        assert r.status_code == 200
        assert r.json() == {"repositories": []}
        assert "Link" not in r.headers


def test_catalog(catalog_client: httpx.Client) -> None:
    r = catalog_client.get("/v2/_catalog")
    assert r.status_code == 200
    assert r.json() == {"repositories": REPOSITORIES}
    assert "Link" not in r.headers


def test_catalog_pages(catalog_client: httpx.Client) -> None:
    for n in (1, 2, 3, 10, 11, 12):
        found, pages = follow(catalog_client, f"/v2/_catalog?n={n}", "repositories")
        assert found == REPOSITORIES, n
        assert all(len(page) == n for page in pages[:-1])
        assert len(pages) == -(-len(REPOSITORIES) // n)

    r = catalog_client.get("/v2/_catalog", params={"n": 3})
    link = next_link(r)
    assert link is not None
    assert httpx.URL(link).path == "/v2/_catalog"
    assert dict(httpx.URL(link).params) == {"n": "3", "last": REPOSITORIES[2]}


def test_catalog_last_and_n_zero(catalog_client: httpx.Client) -> None:
    r = catalog_client.get("/v2/_catalog", params={"last": "a/b"})
    assert r.json()["repositories"] == [name for name in REPOSITORIES if name > "a/b"]
    r = catalog_client.get("/v2/_catalog", params={"n": 0})
    assert r.status_code == 200, r.text
    assert r.json() == {"repositories": []}
    assert "Link" not in r.headers


def test_catalog_keeps_repository_after_deletes(catalog_client: httpx.Client) -> None:
    # Listing is of repositories that were pushed to; deleting content does not unlist one.
    digest = sha256(b"repository 0")
    assert catalog_client.delete(f"/v2/{REPOSITORIES[0]}/blobs/{digest}").status_code == 202
    assert catalog_client.get("/v2/_catalog").json()["repositories"] == REPOSITORIES


@pytest.mark.parametrize("n", ["abc", "-1", "99999999999999999999"])
def test_catalog_invalid_n(client: httpx.Client, n: str) -> None:
    assert_error(client.get("/v2/_catalog", params={"n": n}), 400, "PAGINATION_NUMBER_INVALID")


# -- referrers -----------------------------------------------------------------------------


def push_subject(client: httpx.Client, name: str, seed: int = 1) -> str:
    return tag_image(client, name, ["subject"], seed=seed)


def artifact(
    client: httpx.Client,
    name: str,
    subject: str,
    artifact_type: str | None,
    *,
    content: bytes,
    annotations: dict[str, str] | None = None,
    config_type: str = EMPTY_CONFIG,
    config: bytes = EMPTY_JSON,
) -> tuple[bytes, httpx.Response]:
    """PUT an artifact manifest (OCI image manifest with a subject); returns it and the reply."""
    push_blob(client, name, config)
    push_blob(client, name, content)
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(config_type, config),
        "layers": [descriptor("application/octet-stream", content)],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 123},
    }
    if artifact_type is not None:
        doc["artifactType"] = artifact_type
    if annotations:
        doc["annotations"] = annotations
    payload = json.dumps(doc).encode()
    return payload, push_manifest(client, name, sha256(payload), payload, OCI_MANIFEST)


def referrers(
    client: httpx.Client, name: str, subject: str, artifact_type: str | None = None
) -> httpx.Response:
    params = {"artifactType": artifact_type} if artifact_type else {}
    r = client.get(f"/v2/{name}/referrers/{subject}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == OCI_INDEX
    assert r.headers[API_VERSION[0]] == API_VERSION[1]
    body = r.json()
    assert body["schemaVersion"] == 2
    assert body["mediaType"] == OCI_INDEX
    return r


def test_referrers(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    annotations = {"org.opencontainers.image.created": "2026-01-01T00:00:00Z", "x": "y"}
    sbom, r = artifact(client, repo, subject, SBOM, content=b"sbom", annotations=annotations)
    assert r.headers["OCI-Subject"] == subject
    signature, r = artifact(client, repo, subject, SIGNATURE, content=b"signature")
    assert r.headers["OCI-Subject"] == subject

    body = referrers(client, repo, subject).json()
    assert "OCI-Filters-Applied" not in referrers(client, repo, subject).headers
    by_digest = {d["digest"]: d for d in body["manifests"]}
    assert set(by_digest) == {sha256(sbom), sha256(signature)}
    assert by_digest[sha256(sbom)] == {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(sbom),
        "size": len(sbom),
        "artifactType": SBOM,
        "annotations": annotations,
    }
    assert by_digest[sha256(signature)] == {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(signature),
        "size": len(signature),
        "artifactType": SIGNATURE,
    }


def test_referrers_filter_by_artifact_type(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    sbom, _ = artifact(client, repo, subject, SBOM, content=b"sbom")
    artifact(client, repo, subject, SIGNATURE, content=b"signature")

    r = referrers(client, repo, subject, SBOM)
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in r.json()["manifests"]] == [sha256(sbom)]

    r = referrers(client, repo, subject, "application/vnd.example.none")
    assert r.headers["OCI-Filters-Applied"] == "artifactType"
    assert r.json()["manifests"] == []


def test_referrers_artifact_type_from_config(client: httpx.Client, repo: str) -> None:
    """Without artifactType, the config media type is the artifact type (image spec)."""
    subject = push_subject(client, repo)
    config_type = "application/vnd.example.config.v1+json"
    payload, _ = artifact(
        client, repo, subject, None, content=b"c", config_type=config_type, config=b'{"a":1}'
    )
    [found] = referrers(client, repo, subject).json()["manifests"]
    assert found["digest"] == sha256(payload)
    assert found["artifactType"] == config_type
    assert [
        d["digest"] for d in referrers(client, repo, subject, config_type).json()["manifests"]
    ] == [sha256(payload)]


def test_referrers_index_with_subject(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    child, _ = artifact(client, repo, subject, SBOM, content=b"child")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": "application/vnd.example.bundle",
            "manifests": [descriptor(OCI_MANIFEST, child)],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
            "annotations": {"k": "v"},
        }
    ).encode()
    r = push_manifest(client, repo, "bundle", index, OCI_INDEX)
    assert r.headers["OCI-Subject"] == subject
    found = {d["digest"]: d for d in referrers(client, repo, subject).json()["manifests"]}
    assert found[sha256(index)] == {
        "mediaType": OCI_INDEX,
        "digest": sha256(index),
        "size": len(index),
        "artifactType": "application/vnd.example.bundle",
        "annotations": {"k": "v"},
    }


def test_referrers_of_subject_not_pushed(client: httpx.Client, repo: str) -> None:
    """A referrer may be pushed before its subject (spec: the registry must accept it)."""
    subject = sha256(b"a manifest not pushed yet")
    payload, r = artifact(client, repo, subject, SBOM, content=b"early")
    assert r.headers["OCI-Subject"] == subject
    assert [d["digest"] for d in referrers(client, repo, subject).json()["manifests"]] == [
        sha256(payload)
    ]


def test_referrers_after_delete(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    payload, _ = artifact(client, repo, subject, SBOM, content=b"gone soon")
    assert client.delete(f"/v2/{repo}/manifests/{sha256(payload)}").status_code == 202
    assert referrers(client, repo, subject).json()["manifests"] == []


def test_referrers_are_scoped_to_the_repository(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    artifact(client, repo, subject, SBOM, content=b"here")
    assert referrers(client, f"{repo}-other", subject).json()["manifests"] == []


def test_referrers_none(client: httpx.Client, repo: str) -> None:
    subject = push_subject(client, repo)
    body = referrers(client, repo, subject).json()
    assert body == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    # Of a digest nothing refers to, in a repository that does not exist: also an empty index.
    body = referrers(client, f"{repo}/nothing", sha256(b"none")).json()
    assert body["manifests"] == []


def test_manifest_without_subject_has_no_oci_subject_header(
    client: httpx.Client, repo: str
) -> None:
    image = make_image(seed=3, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    r = push_manifest(client, repo, "plain", image.manifest, OCI_MANIFEST)
    assert "OCI-Subject" not in r.headers


@pytest.mark.parametrize(
    "digest", ["sha256:abc", "sha256:" + "A" * 64, "md5:" + "0" * 32, "nodigest"]
)
def test_referrers_invalid_digest(client: httpx.Client, repo: str, digest: str) -> None:
    assert_error(client.get(f"/v2/{repo}/referrers/{digest}"), 400, "DIGEST_INVALID")

"""OCI Distribution Spec 1.1 over raw HTTP: manifests.

PUT (end-7), GET and HEAD (end-3), DELETE (end-9) by tag and by digest, for the OCI image
manifest and index and the Docker schema 2 manifest and manifest list, against the real
`moorage serve` process.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.oci import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    descriptor,
    make_image,
    sha256,
)
from tests.support.registry_http import (
    API_VERSION,
    assert_error,
    open_client,
    push_blob,
    push_manifest,
    put_manifest,
)
from tests.support.server import Server

REPO_PREFIX = "manifests"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MAX_MANIFEST = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def client(shared_server: Server) -> Iterator[httpx.Client]:
    """The shared client, but with a longer timeout for the largest manifests."""
    with open_client(shared_server, timeout=60) as c:
        yield c


def push_image(client: httpx.Client, name: str, image: Image, reference: str) -> str:
    for blob in image.blobs():
        push_blob(client, name, blob)
    push_manifest(client, name, reference, image.manifest, OCI_MANIFEST)
    return image.digest


def docker_manifest(image: Image) -> bytes:
    """The same content as a Docker schema 2 manifest."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": descriptor(DOCKER_CONFIG, image.config),
            "layers": [descriptor(DOCKER_LAYER, layer) for layer in image.layers],
        },
        indent=3,
    ).encode()


def index_of(media_type: str, child_type: str, children: list[tuple[bytes, str]]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                descriptor(child_type, payload, platform={"architecture": arch, "os": "linux"})
                for payload, arch in children
            ],
        }
    ).encode()


@dataclass
class Kind:
    """One manifest kind: its media type, and how to push what it needs and build it."""

    media_type: str
    seed: int

    def prepare(self, client: httpx.Client, name: str) -> bytes:
        if self.media_type == OCI_MANIFEST:
            image = make_image(seed=self.seed, layers=2, layer_bytes=512)
            for blob in image.blobs():
                push_blob(client, name, blob)
            return image.manifest
        if self.media_type == DOCKER_MANIFEST:
            image = make_image(seed=self.seed, layers=2, layer_bytes=512)
            for blob in image.blobs():
                push_blob(client, name, blob)
            return docker_manifest(image)
        child_type = OCI_MANIFEST if self.media_type == OCI_INDEX else DOCKER_MANIFEST
        children: list[tuple[bytes, str]] = []
        for i, arch in enumerate(("amd64", "arm64")):
            image = make_image(seed=self.seed + i, layers=1, layer_bytes=256, arch=arch)
            for blob in image.blobs():
                push_blob(client, name, blob)
            payload = image.manifest if child_type == OCI_MANIFEST else docker_manifest(image)
            r = put_manifest(client, name, sha256(payload), payload, child_type)
            assert r.status_code == 201, r.text
            children.append((payload, arch))
        return index_of(self.media_type, child_type, children)


KINDS = [
    pytest.param(Kind(OCI_MANIFEST, 100), id="oci-manifest"),
    pytest.param(Kind(OCI_INDEX, 200), id="oci-index"),
    pytest.param(Kind(DOCKER_MANIFEST, 300), id="docker-manifest"),
    pytest.param(Kind(DOCKER_LIST, 400), id="docker-list"),
]


def assert_manifest(
    client: httpx.Client, name: str, reference: str, payload: bytes, media_type: str
) -> None:
    r = client.get(f"/v2/{name}/manifests/{reference}")
    assert r.status_code == 200, r.text
    assert r.content == payload
    assert r.headers["Content-Type"] == media_type
    assert r.headers["Docker-Content-Digest"] == sha256(payload)
    assert r.headers[API_VERSION[0]] == API_VERSION[1]
    h = client.head(f"/v2/{name}/manifests/{reference}")
    assert h.status_code == 200
    assert h.content == b""
    assert h.headers["Content-Type"] == media_type
    assert h.headers["Docker-Content-Digest"] == sha256(payload)
    assert int(h.headers["Content-Length"]) == len(payload)


# -- every kind, by tag and by digest ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_put_get_head_delete_by_tag(client: httpx.Client, repo: str, kind: Kind) -> None:
    payload = kind.prepare(client, repo)
    digest = sha256(payload)
    r = put_manifest(client, repo, "v1.0", payload, kind.media_type)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"] == f"/v2/{repo}/manifests/{digest}"
    assert "OCI-Subject" not in r.headers
    assert r.content == b""

    assert_manifest(client, repo, "v1.0", payload, kind.media_type)
    assert_manifest(client, repo, digest, payload, kind.media_type)

    r = client.delete(f"/v2/{repo}/manifests/v1.0")
    assert r.status_code == 202
    assert_error(client.get(f"/v2/{repo}/manifests/v1.0"), 404, "MANIFEST_UNKNOWN")
    assert_manifest(client, repo, digest, payload, kind.media_type)

    r = client.delete(f"/v2/{repo}/manifests/{digest}")
    assert r.status_code == 202
    assert_error(client.get(f"/v2/{repo}/manifests/{digest}"), 404, "MANIFEST_UNKNOWN")
    assert client.head(f"/v2/{repo}/manifests/{digest}").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_put_by_digest(client: httpx.Client, repo: str, kind: Kind) -> None:
    payload = kind.prepare(client, repo)
    digest = sha256(payload)
    r = put_manifest(client, repo, digest, payload, kind.media_type)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"] == f"/v2/{repo}/manifests/{digest}"
    assert_manifest(client, repo, digest, payload, kind.media_type)
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == []


def test_put_by_sha512_digest(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=5, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    digest = "sha512:" + hashlib.sha512(image.manifest).hexdigest()
    r = put_manifest(client, repo, digest, image.manifest, OCI_MANIFEST)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest
    r = client.get(f"/v2/{repo}/manifests/{digest}")
    assert r.status_code == 200
    assert r.content == image.manifest
    assert r.headers["Docker-Content-Digest"] == digest


def test_put_same_manifest_twice(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=6, layers=1)
    push_image(client, repo, image, "a")
    r = put_manifest(client, repo, "a", image.manifest, OCI_MANIFEST)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == image.digest
    assert_manifest(client, repo, "a", image.manifest, OCI_MANIFEST)


def test_tag_moves_to_new_manifest(client: httpx.Client, repo: str) -> None:
    first, second = make_image(seed=7, layers=1), make_image(seed=8, layers=1)
    push_image(client, repo, first, "latest")
    push_image(client, repo, second, "latest")
    assert_manifest(client, repo, "latest", second.manifest, OCI_MANIFEST)
    assert_manifest(client, repo, first.digest, first.manifest, OCI_MANIFEST)  # still there


@pytest.mark.parametrize(
    "tag", ["a", "A", "_", "0", "v1.2.3", "latest-rc_1", "x" * 128, "UPPER.lower-9_"]
)
def test_valid_tags(client: httpx.Client, repo: str, tag: str) -> None:
    image = make_image(seed=9, layers=1)
    push_image(client, repo, image, tag)
    assert_manifest(client, repo, tag, image.manifest, OCI_MANIFEST)
    assert tag in client.get(f"/v2/{repo}/tags/list").json()["tags"]


def test_tags_are_case_sensitive(client: httpx.Client, repo: str) -> None:
    lower, upper = make_image(seed=10, layers=1), make_image(seed=11, layers=1)
    push_image(client, repo, lower, "tag")
    push_image(client, repo, upper, "TAG")
    assert_manifest(client, repo, "tag", lower.manifest, OCI_MANIFEST)
    assert_manifest(client, repo, "TAG", upper.manifest, OCI_MANIFEST)


def test_manifests_are_scoped_to_their_repository(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=12, layers=1)
    push_image(client, repo, image, "v1")
    push_blob(client, f"{repo}-other", b"x")
    assert_error(client.get(f"/v2/{repo}-other/manifests/v1"), 404, "MANIFEST_UNKNOWN")
    assert_error(client.get(f"/v2/{repo}-other/manifests/{image.digest}"), 404, "MANIFEST_UNKNOWN")


def test_content_type_parameters_are_ignored(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=13, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    r = put_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST + "; charset=utf-8")
    assert r.status_code == 201, r.text
    assert_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)


@pytest.mark.parametrize("with_media_type_field", [True, False])
def test_put_without_content_type(
    client: httpx.Client, repo: str, with_media_type_field: bool
) -> None:
    """The type comes from the mediaType field, or (OCI allows omitting it) from the shape."""
    image = make_image(seed=14, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    doc = json.loads(image.manifest)
    if not with_media_type_field:
        del doc["mediaType"]
    payload = json.dumps(doc).encode()
    r = put_manifest(client, repo, "v1", payload, None)
    assert r.status_code == 201, r.text
    assert_manifest(client, repo, "v1", payload, OCI_MANIFEST)


def test_foreign_layer_need_not_be_pushed(client: httpx.Client, repo: str) -> None:
    """A layer with `urls` lives elsewhere (Windows base layers); the registry does not hold it."""
    image = make_image(seed=15, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    doc = json.loads(image.manifest)
    foreign = os.urandom(64)
    doc["layers"].append(
        descriptor(
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            foreign,
            urls=["https://example.invalid/layer"],
        )
    )
    payload = json.dumps(doc).encode()
    r = put_manifest(client, repo, "v1", payload, OCI_MANIFEST)
    assert r.status_code == 201, r.text


# -- deletes -------------------------------------------------------------------------------


def test_delete_tag_keeps_manifest_and_other_tags(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=16, layers=1)
    push_image(client, repo, image, "one")
    assert put_manifest(client, repo, "two", image.manifest, OCI_MANIFEST).status_code == 201
    assert client.delete(f"/v2/{repo}/manifests/one").status_code == 202
    assert_error(client.get(f"/v2/{repo}/manifests/one"), 404, "MANIFEST_UNKNOWN")
    assert_manifest(client, repo, "two", image.manifest, OCI_MANIFEST)
    assert_manifest(client, repo, image.digest, image.manifest, OCI_MANIFEST)
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == ["two"]
    assert_error(client.delete(f"/v2/{repo}/manifests/one"), 404, "MANIFEST_UNKNOWN")


def test_delete_by_digest_removes_every_tag(client: httpx.Client, repo: str) -> None:
    image, other = make_image(seed=17, layers=1), make_image(seed=18, layers=1)
    push_image(client, repo, image, "a")
    for tag in ("b", "c"):
        assert put_manifest(client, repo, tag, image.manifest, OCI_MANIFEST).status_code == 201
    push_image(client, repo, other, "keep")
    assert client.delete(f"/v2/{repo}/manifests/{image.digest}").status_code == 202
    for reference in ("a", "b", "c", image.digest):
        assert_error(client.get(f"/v2/{repo}/manifests/{reference}"), 404, "MANIFEST_UNKNOWN")
        assert client.head(f"/v2/{repo}/manifests/{reference}").status_code == 404
    assert client.get(f"/v2/{repo}/tags/list").json()["tags"] == ["keep"]
    assert_manifest(client, repo, "keep", other.manifest, OCI_MANIFEST)
    assert_error(client.delete(f"/v2/{repo}/manifests/{image.digest}"), 404, "MANIFEST_UNKNOWN")


def test_deleted_manifest_can_be_pushed_again(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=19, layers=1)
    push_image(client, repo, image, "v1")
    assert client.delete(f"/v2/{repo}/manifests/{image.digest}").status_code == 202
    assert put_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST).status_code == 201
    assert_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
@pytest.mark.parametrize("reference", ["nosuchtag", "sha256:" + "0" * 64, "sha512:" + "0" * 128])
def test_manifest_unknown(client: httpx.Client, repo: str, method: str, reference: str) -> None:
    push_image(client, repo, make_image(seed=20, layers=1), "present")
    r = client.request(method, f"/v2/{repo}/manifests/{reference}")
    if method == "HEAD":
        assert r.status_code == 404
        assert r.content == b""
    else:
        error = assert_error(r, 404, "MANIFEST_UNKNOWN")
        assert error["detail"] == {"name": repo, "reference": reference}


def test_manifest_unknown_in_unknown_repository(client: httpx.Client, repo: str) -> None:
    # The spec allows MANIFEST_UNKNOWN or NAME_UNKNOWN; moorage answers MANIFEST_UNKNOWN.
    assert_error(client.get(f"/v2/{repo}/nothing/manifests/latest"), 404, "MANIFEST_UNKNOWN")


# -- Accept negotiation --------------------------------------------------------------------

ACCEPT_CASES = [
    pytest.param(None, True, id="no-accept"),
    pytest.param("*/*", True, id="any"),
    pytest.param("application/*", True, id="application-any"),
    pytest.param(OCI_MANIFEST, True, id="exact"),
    pytest.param(f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.9", True, id="list-with-q"),
    pytest.param([DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST], True, id="repeated-headers"),
    pytest.param(DOCKER_MANIFEST, False, id="docker-only"),
    pytest.param(f"{OCI_INDEX}, {DOCKER_LIST}", False, id="indexes-only"),
    pytest.param("application/json", False, id="json"),
    pytest.param("text/*", False, id="text-any"),
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(("accept", "ok"), ACCEPT_CASES)
def test_accept_negotiation(
    client: httpx.Client, repo: str, method: str, accept: str | list[str] | None, ok: bool
) -> None:
    image = make_image(seed=30, layers=1)
    push_image(client, repo, image, "v1")
    if accept is None:
        headers: list[tuple[str, str]] = []
    elif isinstance(accept, str):
        headers = [("Accept", accept)]
    else:
        headers = [("Accept", value) for value in accept]
    for reference in ("v1", image.digest):
        r = client.request(method, f"/v2/{repo}/manifests/{reference}", headers=headers)
        if ok:
            assert r.status_code == 200, r.text
            assert r.headers["Content-Type"] == OCI_MANIFEST
            assert r.headers["Docker-Content-Digest"] == image.digest
            assert r.content == (image.manifest if method == "GET" else b"")
        elif method == "HEAD":
            assert r.status_code == 404
            assert r.content == b""
        else:
            error = assert_error(r, 404, "MANIFEST_UNKNOWN")
            assert error["detail"] == {"mediaType": OCI_MANIFEST}


def test_accept_docker_manifest(client: httpx.Client, repo: str) -> None:
    payload = Kind(DOCKER_MANIFEST, 31).prepare(client, repo)
    assert put_manifest(client, repo, "v1", payload, DOCKER_MANIFEST).status_code == 201
    r = client.get(f"/v2/{repo}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == DOCKER_MANIFEST
    r = client.get(f"/v2/{repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert_error(r, 404, "MANIFEST_UNKNOWN")


# -- references that are not there --------------------------------------------------------


@pytest.mark.parametrize("missing", ["config", "layer"])
def test_manifest_blob_unknown(client: httpx.Client, repo: str, missing: str) -> None:
    image = make_image(seed=40, layers=2)
    absent = image.config if missing == "config" else image.layers[1]
    for blob in image.blobs():
        if blob is not absent:
            push_blob(client, repo, blob)
    r = put_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)
    error = assert_error(r, 400, "MANIFEST_BLOB_UNKNOWN")
    assert sha256(absent) in json.dumps(error["detail"])
    assert_error(client.get(f"/v2/{repo}/manifests/v1"), 404, "MANIFEST_UNKNOWN")
    assert_error(client.get(f"/v2/{repo}/manifests/{image.digest}"), 404, "MANIFEST_UNKNOWN")


def test_manifest_blob_in_another_repository_only(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=41, layers=1)
    for blob in image.blobs():
        push_blob(client, f"{repo}-holder", blob)
    push_blob(client, repo, image.config)
    r = put_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)
    error = assert_error(r, 400, "MANIFEST_BLOB_UNKNOWN")
    assert sha256(image.layers[0]) in json.dumps(error["detail"])


def test_manifest_blob_deleted(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=42, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    assert client.delete(f"/v2/{repo}/blobs/{sha256(image.layers[0])}").status_code == 202
    r = put_manifest(client, repo, "v1", image.manifest, OCI_MANIFEST)
    assert_error(r, 400, "MANIFEST_BLOB_UNKNOWN")


@pytest.mark.parametrize("media_type", [OCI_INDEX, DOCKER_LIST])
def test_index_child_unknown(client: httpx.Client, repo: str, media_type: str) -> None:
    child_type = OCI_MANIFEST if media_type == OCI_INDEX else DOCKER_MANIFEST
    pushed = make_image(seed=43, layers=1, arch="amd64")
    missing = make_image(seed=44, layers=1, arch="arm64")
    pushed_payload, missing_payload = pushed.manifest, missing.manifest
    if child_type == DOCKER_MANIFEST:
        pushed_payload, missing_payload = docker_manifest(pushed), docker_manifest(missing)
    for blob in [*pushed.blobs(), *missing.blobs()]:
        push_blob(client, repo, blob)
    assert put_manifest(client, repo, "amd64", pushed_payload, child_type).status_code == 201
    index = index_of(
        media_type, child_type, [(pushed_payload, "amd64"), (missing_payload, "arm64")]
    )
    error = assert_error(
        put_manifest(client, repo, "multi", index, media_type), 400, "MANIFEST_BLOB_UNKNOWN"
    )
    detail = json.dumps(error["detail"])
    assert sha256(missing_payload) in detail
    assert sha256(pushed_payload) not in detail


def test_index_child_blob_is_not_a_manifest(client: httpx.Client, repo: str) -> None:
    """Pushed as a blob only, a child manifest is still unknown to the index."""
    image = make_image(seed=45, layers=1)
    for blob in [*image.blobs(), image.manifest]:
        push_blob(client, repo, blob)
    index = index_of(OCI_INDEX, OCI_MANIFEST, [(image.manifest, "amd64")])
    r = put_manifest(client, repo, "multi", index, OCI_INDEX)
    error = assert_error(r, 400, "MANIFEST_BLOB_UNKNOWN")
    assert image.digest in json.dumps(error["detail"])


# -- invalid manifests ---------------------------------------------------------------------


def oversized() -> bytes:
    image = make_image(seed=50, layers=1)
    doc = json.loads(image.manifest)
    doc["annotations"] = {"padding": "x" * MAX_MANIFEST}
    return json.dumps(doc).encode()


def test_oversized_manifest(client: httpx.Client, repo: str) -> None:
    payload = oversized()
    assert len(payload) > MAX_MANIFEST
    r = put_manifest(client, repo, "big", payload, OCI_MANIFEST)
    error = assert_error(r, 413, "MANIFEST_INVALID")
    assert error["detail"] == {"limit": MAX_MANIFEST}
    assert_error(client.get(f"/v2/{repo}/manifests/big"), 404, "MANIFEST_UNKNOWN")


def test_oversized_manifest_streamed(client: httpx.Client, repo: str) -> None:
    """Without Content-Length the registry still stops at the limit."""
    payload = oversized()
    r = client.put(
        f"/v2/{repo}/manifests/big",
        content=iter([payload[i : i + 65536] for i in range(0, len(payload), 65536)]),
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert_error(r, 413, "MANIFEST_INVALID")


def test_manifest_just_under_the_limit(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=51, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    doc = json.loads(image.manifest)
    doc["annotations"] = {"padding": ""}
    base = len(json.dumps(doc).encode())
    doc["annotations"] = {"padding": "x" * (MAX_MANIFEST - base)}
    payload = json.dumps(doc).encode()
    assert len(payload) == MAX_MANIFEST
    r = put_manifest(client, repo, "edge", payload, OCI_MANIFEST)
    assert r.status_code == 201, r.text[:500]
    assert client.get(f"/v2/{repo}/manifests/edge").content == payload


def _image_doc(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = json.loads(make_image(seed=60, layers=1).manifest)
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


INVALID_MANIFESTS = [
    pytest.param(b"not json", OCI_MANIFEST, id="not-json"),
    pytest.param(b"", OCI_MANIFEST, id="empty"),
    pytest.param(b"\xff\xfe{}", OCI_MANIFEST, id="not-utf8"),
    pytest.param(b"[]", OCI_MANIFEST, id="array"),
    pytest.param(b'{"schemaVersion": 2', OCI_MANIFEST, id="truncated"),
    pytest.param(json.dumps(_image_doc(schemaVersion=1)).encode(), OCI_MANIFEST, id="schema-1"),
    pytest.param(json.dumps(_image_doc(schemaVersion="2")).encode(), OCI_MANIFEST, id="schema-str"),
    pytest.param(json.dumps(_image_doc(schemaVersion=None)).encode(), OCI_MANIFEST, id="no-schema"),
    pytest.param(
        json.dumps(
            {"schemaVersion": 1, "name": "x", "tag": "latest", "fsLayers": [], "history": []}
        ).encode(),
        SCHEMA1,
        id="schema1-v1",
    ),
    pytest.param(
        json.dumps({"schemaVersion": 1, "name": "x", "signatures": []}).encode(),
        SCHEMA1_SIGNED,
        id="schema1-signed",
    ),
    pytest.param(json.dumps(_image_doc(mediaType=None)).encode(), SCHEMA1, id="schema1-ctype"),
    pytest.param(json.dumps(_image_doc(mediaType=SCHEMA1)).encode(), None, id="schema1-field"),
    pytest.param(
        json.dumps(_image_doc()).encode(), DOCKER_MANIFEST, id="type-disagrees-with-content-type"
    ),
    pytest.param(json.dumps(_image_doc(config=None)).encode(), OCI_MANIFEST, id="no-config"),
    pytest.param(json.dumps(_image_doc(config="x")).encode(), OCI_MANIFEST, id="config-not-dict"),
    pytest.param(json.dumps(_image_doc(layers={})).encode(), OCI_MANIFEST, id="layers-not-list"),
    pytest.param(
        json.dumps(
            _image_doc(config={"mediaType": "a/b", "digest": "sha256:00", "size": 2})
        ).encode(),
        OCI_MANIFEST,
        id="bad-descriptor-digest",
    ),
    pytest.param(
        json.dumps(
            _image_doc(config={"mediaType": "a/b", "digest": "sha256:" + "0" * 64, "size": -1})
        ).encode(),
        OCI_MANIFEST,
        id="negative-size",
    ),
    pytest.param(
        json.dumps(_image_doc(annotations={"a": 1})).encode(), OCI_MANIFEST, id="annotation-int"
    ),
    pytest.param(
        json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX}).encode(),
        OCI_INDEX,
        id="index-without-manifests",
    ),
    pytest.param(
        json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.example+json"}).encode(),
        "application/vnd.example+json",
        id="unknown-type",
    ),
]


@pytest.mark.parametrize(("payload", "media_type"), INVALID_MANIFESTS)
@pytest.mark.parametrize("by", ["tag", "digest"])
def test_invalid_manifest(
    client: httpx.Client, repo: str, payload: bytes, media_type: str | None, by: str
) -> None:
    image = make_image(seed=60, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    reference = "bad" if by == "tag" else sha256(payload)
    r = put_manifest(client, repo, reference, payload, media_type)
    assert_error(r, 400, "MANIFEST_INVALID")
    assert_error(client.get(f"/v2/{repo}/manifests/{reference}"), 404, "MANIFEST_UNKNOWN")


def test_descriptor_size_disagrees_with_blob(client: httpx.Client, repo: str) -> None:
    image = make_image(seed=61, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    doc = json.loads(image.manifest)
    doc["layers"][0]["size"] += 1
    r = put_manifest(client, repo, "v1", json.dumps(doc).encode(), OCI_MANIFEST)
    error = assert_error(r, 400, "MANIFEST_INVALID")
    assert error["detail"] == {"digest": sha256(image.layers[0])}


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_put_by_digest_that_does_not_match(client: httpx.Client, repo: str, algorithm: str) -> None:
    image = make_image(seed=62, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    wrong = f"{algorithm}:" + hashlib.new(algorithm, b"other").hexdigest()
    r = put_manifest(client, repo, wrong, image.manifest, OCI_MANIFEST)
    error = assert_error(r, 400, "DIGEST_INVALID")
    assert error["detail"] == {"digest": wrong}
    assert_error(client.get(f"/v2/{repo}/manifests/{wrong}"), 404, "MANIFEST_UNKNOWN")
    assert_error(client.get(f"/v2/{repo}/manifests/{image.digest}"), 404, "MANIFEST_UNKNOWN")


# -- invalid references --------------------------------------------------------------------

INVALID_TAGS = ["-dash", ".dot", "x" * 129, "bad!tag", "with+plus", "sp%20ace", "t@g"]


@pytest.mark.parametrize("tag", INVALID_TAGS)
@pytest.mark.parametrize("method", ["PUT", "GET", "HEAD", "DELETE"])
def test_invalid_tag(client: httpx.Client, repo: str, method: str, tag: str) -> None:
    """A PUT or DELETE with an invalid tag is a 400 TAG_INVALID; a GET or HEAD of it names no
    manifest: 404 MANIFEST_UNKNOWN (what the distribution-spec conformance suite expects)."""
    image = make_image(seed=70, layers=1)
    for blob in image.blobs():
        push_blob(client, repo, blob)
    content = image.manifest if method == "PUT" else None
    headers = {"Content-Type": OCI_MANIFEST} if method == "PUT" else {}
    r = client.request(method, f"/v2/{repo}/manifests/{tag}", content=content, headers=headers)
    if method == "HEAD":
        assert r.status_code == 404 and r.content == b"", r
    elif method == "GET":
        assert_error(r, 404, "MANIFEST_UNKNOWN")
    else:
        assert_error(r, 400, "TAG_INVALID")


@pytest.mark.parametrize(
    "reference",
    ["sha256:abc", "sha256:" + "A" * 64, "md5:" + "0" * 32, "sha256:" + "g" * 64, ":" + "0" * 64],
)
@pytest.mark.parametrize("method", ["PUT", "GET", "HEAD", "DELETE"])
def test_invalid_digest_reference(
    client: httpx.Client, repo: str, method: str, reference: str
) -> None:
    content = make_image(seed=71, layers=1).manifest if method == "PUT" else None
    r = client.request(method, f"/v2/{repo}/manifests/{reference}", content=content)
    if method == "HEAD":  # neither a tag nor a digest names no manifest (the spec's suite)
        assert r.status_code == 404
        assert r.content == b""
    elif method == "GET":
        assert_error(r, 404, "MANIFEST_UNKNOWN")
    else:
        assert_error(r, 400, "DIGEST_INVALID")

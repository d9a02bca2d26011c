"""The OCI distribution-spec conformance suite, ported check by check.

Go and its module proxy are not available here, so the suite itself
(opencontainers/distribution-spec, conformance/01_pull_test.go, 02_push_test.go,
03_discovery_test.go, 04_management_test.go, with the data of setup.go) cannot run. This module
sends the same requests, in the same order, against one repository of the real server, and
accepts exactly the statuses the suite accepts (its `SatisfyAny` alternatives are the tuples
below). Where the suite branches on the registry's answer (201 or 202 to a mount, an
`OCI-Filters-Applied` header), so does the port. The suite's defaults are used: setup runs,
manifests are deleted before blobs, automatic cross-mount is not tested.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.registry_http import digest_of, new_repo, open_client
from tests.support.server import Server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
EMPTY_JSON_TYPE = "application/vnd.oci.empty.v1+json"
ARTIFACT_A, ARTIFACT_B = "application/vnd.nhl.peanut.butter.bagel", "application/vnd.nba.jam"
ARTIFACT_INDEX = "application/vnd.food.stand"
ANNOTATION = "org.opencontainers.conformance.test"
ERROR_CODES = {
    "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
    "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
}  # fmt: skip
NONEXISTENT_MANIFEST = ".INVALID_MANIFEST_NAME"  # neither a tag nor a digest (setup.go)
TAG = "tagtest0"
OK = range(200, 300)


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data), **extra}


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent="\t").encode()


class Data:
    """The suite's test data (setup.go), made the same way: random configs and a layer."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.layer = rng.randbytes(1024)
        self.configs = [
            _json({"architecture": "amd64", "os": "linux", "seq": i, "rnd": rng.random()})
            for i in range(5)
        ]
        self.manifests = [self.image(config) for config in self.configs]
        self.empty_layer_manifest = _json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": _descriptor(OCI_CONFIG, self.configs[1]),
                "layers": [],
            }
        )
        self.blob_a = b"NBA Jam on my NBA toast"
        chunked = rng.randbytes(42)
        self.blob_b, self.chunk1, self.chunk2 = chunked, chunked[:21], chunked[21:]
        self.dummy_digest = digest_of(b"this blob is nowhere")
        self.empty_json = b"{}"
        self.ref_blob_a = b"NHL Peanut Butter on my NHL bagel"
        self.ref_blob_b = b"NBA Jam on my NBA toast, again"
        subject = _descriptor(OCI_MANIFEST, self.manifests[4])
        missing = _descriptor(OCI_MANIFEST, self.manifests[3])
        empty = _descriptor(EMPTY_JSON_TYPE, self.empty_json)
        self.refs = {
            "a-config": self.referrer(subject, _descriptor(ARTIFACT_A, self.empty_json),
                                      self.ref_blob_a, None, "a-config"),
            "a-layer": self.referrer(subject, empty, self.ref_blob_a, ARTIFACT_A, "a-layer"),
            "b-config": self.referrer(subject, _descriptor(ARTIFACT_B, self.empty_json),
                                      self.ref_blob_b, None, "b-config"),
            "b-layer": self.referrer(subject, empty, self.ref_blob_b, ARTIFACT_B, "b-layer"),
            "c-layer": self.referrer(missing, empty, self.ref_blob_a, ARTIFACT_A, "c-layer"),
        }  # fmt: skip
        self.ref_index = _json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "artifactType": ARTIFACT_INDEX,
                "manifests": [
                    _descriptor(OCI_MANIFEST, self.refs["a-config"]),
                    _descriptor(OCI_MANIFEST, self.refs["a-layer"]),
                ],
                "subject": subject,
                "annotations": {ANNOTATION: "index"},
            }
        )

    def image(self, config: bytes) -> bytes:
        return _json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": _descriptor(OCI_CONFIG, config),
                "layers": [_descriptor(OCI_LAYER, self.layer)],
            }
        )

    @staticmethod
    def referrer(
        subject: dict[str, Any],
        config: dict[str, Any],
        layer: bytes,
        artifact_type: str | None,
        annotation: str,
    ) -> bytes:
        document: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if artifact_type is not None:
            document["artifactType"] = artifact_type
        document |= {
            "config": config,
            "layers": [_descriptor("application/octet-stream", layer)],
            "subject": subject,
            "annotations": {ANNOTATION: annotation},
        }
        return _json(document)


D = Data(seed=1234)
DIGESTS = {name: digest_of(body) for name, body in D.refs.items()}
INDEX_DIGEST = digest_of(D.ref_index)


@pytest.fixture(scope="module")
def name() -> str:
    return new_repo("conformance")


@pytest.fixture(scope="module")
def c(shared_server: Server) -> Iterator[httpx.Client]:
    with open_client(shared_server) as client:
        yield client


def upload(c: httpx.Client, name: str, data: bytes) -> None:
    """The suite's two-step push of a blob: POST, then PUT to the Location with the digest."""
    r = c.post(f"/v2/{name}/blobs/uploads/")
    r = c.put(
        r.headers["Location"],
        params={"digest": digest_of(data)},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code in OK, r.text


def put_manifest(
    c: httpx.Client, name: str, reference: str, body: bytes, media_type: str = OCI_MANIFEST
) -> httpx.Response:
    return c.put(
        f"/v2/{name}/manifests/{reference}", content=body, headers={"Content-Type": media_type}
    )


def delete(c: httpx.Client, name: str, kind: str, reference: str) -> int:
    return c.delete(f"/v2/{name}/{kind}/{reference}").status_code


# -- 01_pull_test.go ----------------------------------------------------------------------------


def test_01_pull(c: httpx.Client, name: str) -> None:
    # Setup: populate the registry with two config blobs, the layer and two manifests.
    upload(c, name, D.configs[0])
    upload(c, name, D.configs[1])
    upload(c, name, D.layer)
    assert put_manifest(c, name, TAG, D.manifests[0]).status_code in OK
    assert put_manifest(c, name, digest_of(D.manifests[1]), D.manifests[1]).status_code in OK
    # Pull blobs
    assert c.head(f"/v2/{name}/blobs/{D.dummy_digest}").status_code == 404
    r = c.head(f"/v2/{name}/blobs/{digest_of(D.configs[0])}")
    assert r.status_code == 200
    assert r.headers.get("Docker-Content-Digest", digest_of(D.configs[0])) == digest_of(
        D.configs[0]
    )
    assert c.get(f"/v2/{name}/blobs/{D.dummy_digest}").status_code == 404
    assert c.get(f"/v2/{name}/blobs/{digest_of(D.configs[0])}").status_code == 200
    # Pull manifests
    accept = {"Accept": OCI_MANIFEST}
    assert c.head(f"/v2/{name}/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    for i in (0, 1):
        digest = digest_of(D.manifests[i])
        r = c.head(f"/v2/{name}/manifests/{digest}", headers=accept)
        assert r.status_code == 200
        assert r.headers.get("Docker-Content-Digest", digest) == digest
    r = c.head(f"/v2/{name}/manifests/{TAG}", headers=accept)
    assert r.status_code == 200
    assert r.headers.get("Docker-Content-Digest") == digest_of(D.manifests[0])
    assert c.get(f"/v2/{name}/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    for i in (0, 1):
        r = c.get(f"/v2/{name}/manifests/{digest_of(D.manifests[i])}", headers=accept)
        assert r.status_code == 200
    assert c.get(f"/v2/{name}/manifests/{TAG}", headers=accept).status_code == 200
    # Error codes: a 400 body is OCI-conforming JSON.
    r = c.request(
        "GET",
        f"/v2/{name}/manifests/sha256:totallywrong",
        content=b"blablabla",
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert r.status_code in (400, 404)
    if r.status_code == 400:
        assert r.json()["errors"][0]["code"] in ERROR_CODES
    # Teardown: manifests first, then blobs.
    for i in (0, 1):
        status = delete(c, name, "manifests", digest_of(D.manifests[i]))
        assert status in OK or status == 405
    for blob in (D.configs[0], D.configs[1], D.layer):
        status = delete(c, name, "blobs", digest_of(blob))
        assert status in OK or status in (404, 405)


# -- 02_push_test.go ----------------------------------------------------------------------------


def test_02_push_blob_upload_streamed(c: httpx.Client, name: str) -> None:
    r = c.post(f"/v2/{name}/blobs/uploads/")
    assert r.headers["Location"]
    r = c.patch(
        r.headers["Location"],
        content=D.blob_a,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 202
    r = c.put(
        r.headers["Location"],
        params={"digest": digest_of(D.blob_a)},
        headers={"Content-Type": "application/octet-stream", "Content-Length": "0"},
    )
    assert r.status_code == 201
    assert r.headers["Location"]


def test_02_push_blob_upload_monolithic(c: httpx.Client, name: str) -> None:
    config = D.configs[1]
    assert c.get(f"/v2/{name}/blobs/{D.dummy_digest}").status_code == 404
    r = c.post(
        f"/v2/{name}/blobs/uploads/",
        params={"digest": digest_of(config)},
        content=config,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.headers["Location"]
    assert r.status_code in (201, 202)
    blob = c.get(f"/v2/{name}/blobs/{digest_of(config)}")
    assert blob.status_code == (404 if r.status_code == 202 else 200)
    r = c.post(f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 202
    r = c.put(
        r.headers["Location"],
        params={"digest": digest_of(config)},
        content=config,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.headers["Location"]
    assert r.status_code == 201
    assert c.get(f"/v2/{name}/blobs/{digest_of(config)}").status_code == 200
    r = c.post(f"/v2/{name}/blobs/uploads/")
    r = c.put(
        r.headers["Location"],
        params={"digest": digest_of(D.layer)},
        content=D.layer,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.headers["Location"]
    assert r.status_code == 201
    assert c.get(f"/v2/{name}/blobs/{digest_of(D.layer)}").status_code == 200


def test_02_push_blob_upload_chunked(c: httpx.Client, name: str) -> None:
    range1, range2 = f"0-{len(D.chunk1) - 1}", f"{len(D.chunk1)}-{len(D.blob_b) - 1}"
    octets = {"Content-Type": "application/octet-stream"}
    # Out-of-order blob upload should return 416
    r = c.post(f"/v2/{name}/blobs/uploads/", headers={"Content-Length": "0"})
    assert r.headers["Location"]
    assert "OCI-Chunk-Min-Length" not in r.headers  # else the suite rebuilds its chunks
    r = c.patch(
        r.headers["Location"], content=D.chunk2, headers={**octets, "Content-Range": range2}
    )
    assert r.status_code == 416
    # PATCH request with first chunk should return 202
    first = c.post(f"/v2/{name}/blobs/uploads/", headers={"Content-Length": "0"})
    assert first.headers["Location"]
    r = c.patch(
        first.headers["Location"], content=D.chunk1, headers={**octets, "Content-Range": range1}
    )
    assert r.status_code == 202
    assert r.headers["Range"] == range1
    # Retry previous blob chunk should return 416
    r = c.patch(
        first.headers["Location"], content=D.chunk1, headers={**octets, "Content-Range": range1}
    )
    assert r.status_code == 416
    # Get on stale blob upload should return 204 with a range and location
    r = c.get(first.headers["Location"])
    assert r.status_code == 204
    assert r.headers["Location"]
    assert r.headers["Range"] == range1
    # PATCH request with second chunk should return 202
    r = c.patch(
        r.headers["Location"], content=D.chunk2, headers={**octets, "Content-Range": range2}
    )
    assert r.status_code == 202
    assert r.headers["Location"]
    # PUT request with digest should return 201
    r = c.put(
        r.headers["Location"],
        params={"digest": digest_of(D.blob_b)},
        headers={**octets, "Content-Length": "0"},
    )
    assert r.status_code == 201
    assert r.headers["Location"]


def test_02_push_cross_repository_blob_mount(c: httpx.Client, name: str) -> None:
    crossmount = f"{name}-crossmount"
    r = c.post(f"/v2/{crossmount}/blobs/uploads/", params={"mount": D.dummy_digest})
    assert r.status_code == 202
    assert r.headers["Location"]
    r = c.post(
        f"/v2/{crossmount}/blobs/uploads/",
        params={"mount": digest_of(D.blob_a), "from": name},
    )
    assert r.status_code in (201, 202)
    location = r.headers["Location"]
    if r.status_code == 201:
        assert location == f"/v2/{crossmount}/blobs/{digest_of(D.blob_a)}"
        assert c.get(location).status_code == 200
    else:
        assert location.startswith(f"/v2/{crossmount}/blobs/uploads/")


def test_02_push_manifest_upload(c: httpx.Client, name: str) -> None:
    assert c.get(f"/v2/{name}/manifests/{NONEXISTENT_MANIFEST}").status_code == 404
    for i in range(4):
        r = put_manifest(c, name, f"test{i}", D.manifests[1])
        assert r.headers["Location"]
        assert r.status_code == 201
    r = put_manifest(c, name, "emptylayer", D.empty_layer_manifest)
    assert r.status_code == 201, "a manifest with no layers is accepted"
    assert r.headers["Location"]
    r = c.get(f"/v2/{name}/manifests/{digest_of(D.manifests[1])}", headers={"Accept": OCI_MANIFEST})
    assert r.status_code == 200
    # Teardown
    for manifest in (D.manifests[1], D.empty_layer_manifest):
        status = delete(c, name, "manifests", digest_of(manifest))
        assert status in OK or status == 405
    for blob in (D.configs[1], D.layer):
        status = delete(c, name, "blobs", digest_of(blob))
        assert status in OK or status in (404, 405)


# -- 03_discovery_test.go -----------------------------------------------------------------------


def test_03_content_discovery(c: httpx.Client, name: str) -> None:
    # Setup
    upload(c, name, D.configs[2])
    upload(c, name, D.layer)
    for i in range(4):
        assert put_manifest(c, name, f"test{i}", D.manifests[2]).status_code in OK
    assert digest_of(D.empty_json) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
    upload(c, name, D.empty_json)
    upload(c, name, D.ref_blob_a)  # before the image manifest is pushed
    subject = digest_of(D.manifests[4])
    for key in ("a-config", "a-layer"):
        r = put_manifest(c, name, DIGESTS[key], D.refs[key])
        assert r.status_code in OK, r.text
        assert r.headers.get("OCI-Subject") == subject
    r = put_manifest(c, name, INDEX_DIGEST, D.ref_index, OCI_INDEX)
    assert r.status_code in OK, r.text
    assert r.headers.get("OCI-Subject") == subject
    upload(c, name, D.configs[4])
    upload(c, name, D.layer)
    assert put_manifest(c, name, TAG, D.manifests[4]).status_code in OK
    upload(c, name, D.ref_blob_b)  # after the image manifest is pushed
    for key in ("b-config", "b-layer"):
        r = put_manifest(c, name, DIGESTS[key], D.refs[key])
        assert r.status_code in OK, r.text
        assert r.headers.get("OCI-Subject") == subject
    r = put_manifest(c, name, DIGESTS["c-layer"], D.refs["c-layer"])  # to a missing subject
    assert r.status_code in OK, r.text
    assert r.headers.get("OCI-Subject") == digest_of(D.manifests[3])

    # Listing tags
    r = c.get(f"/v2/{name}/tags/list")
    assert r.status_code == 200
    tags = r.json()["tags"]
    half = len(tags) // 2
    r = c.get(f"/v2/{name}/tags/list", params={"n": str(half)})
    assert r.status_code == 200
    assert len(r.json()["tags"]) == half
    page = r.json()["tags"]
    r = c.get(f"/v2/{name}/tags/list", params={"n": str(half), "last": page[half - 1]})
    assert r.status_code == 200
    assert len(r.json()["tags"]) <= half

    # Listing references
    r = c.get(f"/v2/{name}/referrers/{D.dummy_digest}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    assert r.json()["manifests"] == []
    expected = {DIGESTS[k]: k for k in ("a-config", "a-layer", "b-config", "b-layer")}
    expected[INDEX_DIGEST] = "index"
    r = c.get(f"/v2/{name}/referrers/{subject}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    listed = r.json()["manifests"]
    assert len(listed) == 5
    assert listed[0]["digest"] != listed[1]["digest"]
    for m in listed:
        assert m["annotations"] == {ANNOTATION: expected[m["digest"]]}
    r = c.get(f"/v2/{name}/referrers/{subject}", params={"artifactType": ARTIFACT_A})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    listed = r.json()["manifests"]
    if r.headers.get("OCI-Filters-Applied"):
        assert len(listed) == 2
        assert r.headers["OCI-Filters-Applied"] == "artifactType"
    else:
        assert len(listed) == 5
    for m in listed:
        assert m["annotations"] == {ANNOTATION: expected[m["digest"]]}
    r = c.get(f"/v2/{name}/referrers/{digest_of(D.manifests[3])}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == OCI_INDEX
    assert [m["digest"] for m in r.json()["manifests"]] == [DIGESTS["c-layer"]]

    # Teardown: manifests first (2xx, 404 or 405), then blobs.
    for reference in (
        INDEX_DIGEST,
        digest_of(D.manifests[2]),
        subject,
        DIGESTS["a-config"],
        DIGESTS["a-layer"],
        TAG,
        DIGESTS["b-config"],
        DIGESTS["b-layer"],
        DIGESTS["c-layer"],
    ):
        status = delete(c, name, "manifests", reference)
        assert status in OK or status in (404, 405), (reference, status)
    for blob in (D.configs[2], D.layer):  # 2xx or 405 only
        status = delete(c, name, "blobs", digest_of(blob))
        assert status in OK or status == 405, (blob[:20], status)
    for blob in (D.configs[4], D.ref_blob_a, D.ref_blob_b, D.empty_json):
        status = delete(c, name, "blobs", digest_of(blob))
        assert status in OK or status in (404, 405), (blob[:20], status)


# -- 04_management_test.go ----------------------------------------------------------------------


def test_04_content_management(c: httpx.Client, name: str) -> None:
    # Setup
    upload(c, name, D.configs[3])
    upload(c, name, D.layer)
    assert put_manifest(c, name, TAG, D.manifests[3]).status_code in OK
    r = c.get(f"/v2/{name}/tags/list")
    assert r.status_code == 200
    before = len(r.json()["tags"])
    # Manifest delete
    r = c.delete(f"/v2/{name}/manifests/{TAG}")
    assert r.status_code in (400, 202, 405)
    if r.status_code == 400:
        assert r.json()["errors"][0]["code"] == "UNSUPPORTED"
    digest = digest_of(D.manifests[3])
    assert delete(c, name, "manifests", digest) in (202, 404)
    assert c.get(f"/v2/{name}/manifests/{digest}").status_code in (404, 200)
    r = c.get(f"/v2/{name}/tags/list")
    assert r.status_code == 200
    assert len(r.json()["tags"] or []) < before
    # Blob delete
    assert delete(c, name, "blobs", digest_of(D.configs[3])) in (202, 404, 405)
    layer = delete(c, name, "blobs", digest_of(D.layer))
    assert layer in (202, 404, 405)
    if layer != 405:
        assert c.get(f"/v2/{name}/blobs/{digest_of(D.configs[3])}").status_code == 404

from __future__ import annotations

import json

import pytest

from moorage.domain.errors import InvalidManifest
from moorage.domain.manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    accepts,
    parse_manifest,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def desc(media_type: str, digest: str, size: int = 10, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def image(media_type: str | None = OCI_MANIFEST, **extra: object) -> bytes:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "config": desc("application/vnd.oci.image.config.v1+json", D1),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", D2)],
        **extra,
    }
    if media_type:
        doc["mediaType"] = media_type
    return json.dumps(doc).encode()


def index(media_type: str | None = OCI_INDEX) -> bytes:
    doc: dict[str, object] = {"schemaVersion": 2, "manifests": [desc(OCI_MANIFEST, D3)]}
    if media_type:
        doc["mediaType"] = media_type
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("payload", "content_type", "kind", "blobs", "children"),
    [
        (image(), OCI_MANIFEST, OCI_MANIFEST, [D1, D2], []),
        (image(None), OCI_MANIFEST, OCI_MANIFEST, [D1, D2], []),
        (image(None), None, OCI_MANIFEST, [D1, D2], []),
        (image(), "application/json", OCI_MANIFEST, [D1, D2], []),
        (image(DOCKER_MANIFEST), DOCKER_MANIFEST, DOCKER_MANIFEST, [D1, D2], []),
        (index(), OCI_INDEX, OCI_INDEX, [], [D3]),
        (index(None), None, OCI_INDEX, [], [D3]),
        (index(DOCKER_LIST), DOCKER_LIST, DOCKER_LIST, [], [D3]),
    ],
)
def test_parse_finds_kind_and_references(
    payload: bytes, content_type: str | None, kind: str, blobs: list[str], children: list[str]
) -> None:
    parsed = parse_manifest(payload, content_type)
    assert parsed.media_type == kind
    assert [str(d.digest) for d in parsed.blobs] == blobs
    assert [str(d.digest) for d in parsed.children] == children


def test_artifact_type_and_subject() -> None:
    payload = image(artifactType="application/vnd.example.sbom", subject=desc(OCI_MANIFEST, D3))
    parsed = parse_manifest(payload, OCI_MANIFEST)
    assert parsed.artifact_type == "application/vnd.example.sbom"
    assert parsed.subject is not None and str(parsed.subject.digest) == D3


def test_artifact_type_defaults_to_config_media_type() -> None:
    assert parse_manifest(image(), OCI_MANIFEST).artifact_type == (
        "application/vnd.oci.image.config.v1+json"
    )


def test_foreign_layers_are_not_required() -> None:
    layer = desc(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        D2,
        urls=["https://example.invalid/layer"],
    )
    payload = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": desc("application/vnd.docker.container.image.v1+json", D1),
            "layers": [layer],
        }
    ).encode()
    parsed = parse_manifest(payload, DOCKER_MANIFEST)
    assert [str(d.digest) for d in parsed.required_blobs] == [D1]


@pytest.mark.parametrize(
    ("payload", "content_type", "words"),
    [
        (b"{not json", OCI_MANIFEST, "not valid JSON"),
        (b"[]", OCI_MANIFEST, "JSON object"),
        (json.dumps({"schemaVersion": 1}).encode(), None, "schemaVersion"),
        (image(), OCI_INDEX, "does not match Content-Type"),
        (image(), "application/vnd.docker.distribution.manifest.v1+prettyjws", "schema 1"),
        (json.dumps({"schemaVersion": 2}).encode(), None, "unknown manifest media type"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode(), None, "config"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX}).encode(), None, "manifests"),
        (image(config={"mediaType": "x", "digest": "sha256:zz", "size": 1}), None, "digest"),
        (image(config={"mediaType": "x", "digest": D1, "size": -1}), None, "size"),
        (image(layers="nope"), None, "layers"),
        (image(annotations={"a": 1}), None, "annotations"),
    ],
)
def test_invalid_manifests_say_why(payload: bytes, content_type: str | None, words: str) -> None:
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(payload, content_type)
    assert words in str(caught.value)


def test_size_limit() -> None:
    with pytest.raises(InvalidManifest, match="limit"):
        parse_manifest(image(), OCI_MANIFEST, limit=10)


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        (None, OCI_MANIFEST, True),
        ("", OCI_MANIFEST, True),
        ("*/*", OCI_INDEX, True),
        (f"{OCI_MANIFEST}, {OCI_INDEX}", OCI_INDEX, True),
        (f"{OCI_MANIFEST};q=0.9", OCI_MANIFEST, True),
        (DOCKER_MANIFEST, OCI_MANIFEST, False),
        (f"{DOCKER_MANIFEST},{DOCKER_LIST}", OCI_INDEX, False),
    ],
)
def test_accepts(accept: str | None, media_type: str, expected: bool) -> None:
    assert accepts(accept, media_type) is expected

from __future__ import annotations

import asyncio
import json

import pytest

from moorage.domain.digest import Digest
from moorage.domain.errors import BlobInUse, BlobNotFound, ManifestReferenceUnknown
from moorage.domain.manifest import OCI_INDEX, OCI_MANIFEST, parse_manifest
from moorage.domain.registry import Registry
from moorage.store.content import ContentStore


def blob(n: int) -> tuple[str, int]:
    data = f"blob {n}".encode()
    return str(Digest.of(data)), len(data)


def image_manifest(*blobs: tuple[str, int], subject: str | None = None) -> bytes:
    config, *layers = blobs
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config[0],
            "size": config[1],
        },
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s}
            for d, s in layers
        ],
    }
    if subject:
        doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject, "size": 1}
        doc["artifactType"] = "application/vnd.example.sig"
    return json.dumps(doc).encode()


async def put(
    content: ContentStore, registry: Registry, repo: str, payload: bytes, tag: str | None = None
) -> str:
    digest = str(Digest.of(payload))
    await content.put_manifest(
        registry.id, repo, digest, parse_manifest(payload, None), payload, tag
    )
    return digest


async def test_manifest_needs_its_blobs_in_the_repository(
    content: ContentStore, registry: Registry
) -> None:
    b1, b2 = blob(1), blob(2)
    await content.link_blob(registry.id, "other", *b1)
    with pytest.raises(ManifestReferenceUnknown) as caught:
        await put(content, registry, "app", image_manifest(b1, b2), "v1")
    assert sorted(caught.value.detail["digests"]) == sorted([b1[0], b2[0]])  # type: ignore[arg-type]
    assert await content.manifest(registry.id, "app", "v1") is None


async def test_tag_moves_and_digest_stays(content: ContentStore, registry: Registry) -> None:
    b1, b2, b3 = blob(1), blob(2), blob(3)
    for b in (b1, b2, b3):
        await content.link_blob(registry.id, "app", *b)
    first = await put(content, registry, "app", image_manifest(b1, b2), "v1")
    second = await put(content, registry, "app", image_manifest(b1, b3), "v1")
    found = await content.manifest(registry.id, "app", "v1")
    assert found is not None and found.digest == second
    assert await content.manifest(registry.id, "app", first) is not None
    assert await content.tags(registry.id, "app", None, None) == ["v1"]


async def test_index_needs_its_children(content: ContentStore, registry: Registry) -> None:
    child = image_manifest(blob(1))
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": str(Digest.of(child)), "size": len(child)}
            ],
        }
    ).encode()
    with pytest.raises(ManifestReferenceUnknown):
        await put(content, registry, "app", index, "multi")
    await content.link_blob(registry.id, "app", *blob(1))
    await put(content, registry, "app", child)
    assert await put(content, registry, "app", index, "multi") == str(Digest.of(index))


async def test_deleting_a_manifest_keeps_shared_blobs(
    content: ContentStore, registry: Registry
) -> None:
    b1, b2, b3 = blob(1), blob(2), blob(3)
    for b in (b1, b2, b3):
        await content.link_blob(registry.id, "app", *b)
    one = await put(content, registry, "app", image_manifest(b1, b2), "one")
    await put(content, registry, "app", image_manifest(b1, b3), "two")
    with pytest.raises(BlobInUse):
        await content.unlink_blob(registry.id, "app", b1[0])
    assert await content.delete_manifest(registry.id, "app", one)
    assert await content.tags(registry.id, "app", None, None) == ["two"]
    assert await content.blob_size(registry.id, "app", b1[0]) == b1[1]
    with pytest.raises(BlobInUse):
        await content.unlink_blob(registry.id, "app", b1[0])
    await content.unlink_blob(registry.id, "app", b2[0])  # no manifest uses it any more
    with pytest.raises(BlobNotFound):
        await content.unlink_blob(registry.id, "app", b2[0])


async def test_mount_from_a_repository_or_anywhere(
    content: ContentStore, registry: Registry
) -> None:
    b1 = blob(1)
    await content.link_blob(registry.id, "src", *b1)
    assert await content.mount_blob(registry.id, "dst", b1[0], "nosuch") is None
    assert await content.mount_blob(registry.id, "dst", b1[0], "src") == b1[1]
    assert await content.mount_blob(registry.id, "dst2", b1[0], None) == b1[1]
    assert await content.blob_size(registry.id, "dst2", b1[0]) == b1[1]


@pytest.mark.parametrize(
    ("limit", "last", "expected"),
    [
        (None, None, ["a", "b", "c", "d"]),
        (2, None, ["a", "b"]),
        (2, "b", ["c", "d"]),
        (10, "d", []),
        (0, None, []),
    ],
)
async def test_tag_pages(
    content: ContentStore,
    registry: Registry,
    limit: int | None,
    last: str | None,
    expected: list[str],
) -> None:
    await content.link_blob(registry.id, "app", *blob(1))
    for tag in ["d", "b", "a", "c"]:
        await put(content, registry, "app", image_manifest(blob(1)), tag)
    assert await content.tags(registry.id, "app", limit, last) == expected


async def test_referrers_by_subject_and_type(content: ContentStore, registry: Registry) -> None:
    await content.link_blob(registry.id, "app", *blob(1))
    subject = await put(content, registry, "app", image_manifest(blob(1)), "v1")
    signature = await put(content, registry, "app", image_manifest(blob(1), subject=subject))
    found = await content.referrers(registry.id, "app", subject, None)
    assert [r.digest for r in found] == [signature]
    assert found[0].artifact_type == "application/vnd.example.sig"
    assert await content.referrers(registry.id, "app", subject, "other/type") == []


async def test_concurrent_writers_do_not_fail(content: ContentStore, registry: Registry) -> None:
    blobs = [blob(n) for n in range(40)]
    await asyncio.gather(
        *(content.link_blob(registry.id, f"r{n % 4}", *b) for n, b in enumerate(blobs))
    )
    assert await content.catalog(registry.id, None, None) == ["r0", "r1", "r2", "r3"]


async def test_reads_see_every_write_at_once(content: ContentStore, registry: Registry) -> None:
    """Cached reads never outlive a change made through the store."""
    b1, b2 = blob(1), blob(2)
    for b in (b1, b2):
        await content.link_blob(registry.id, "app", *b)
    first = await put(content, registry, "app", image_manifest(b1), "v1")
    assert (await content.manifest(registry.id, "app", "v1")).digest == first  # type: ignore[union-attr]
    second = await put(content, registry, "app", image_manifest(b2), "v1")
    assert (await content.manifest(registry.id, "app", "v1")).digest == second  # type: ignore[union-attr]
    assert await content.manifest_head(registry.id, "app", first) is not None
    assert await content.delete_manifest(registry.id, "app", first)
    assert await content.manifest(registry.id, "app", first) is None
    assert await content.manifest_head(registry.id, "app", first) is None
    assert await content.delete_tag(registry.id, "app", "v1")
    assert await content.manifest(registry.id, "app", "v1") is None
    assert await content.blob_size(registry.id, "app", b1[0]) == b1[1]
    await content.unlink_blob(registry.id, "app", b1[0])
    assert await content.blob_size(registry.id, "app", b1[0]) is None

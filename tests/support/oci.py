"""Test images built here, as OCI image layouts on disk: tar layers written in Python.

Nothing is downloaded. Contents are deterministic for a given seed, so digests are stable.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def tar_layer(files: dict[str, bytes]) -> tuple[bytes, bytes]:
    """(uncompressed tar, gzip of it) holding the given files, deterministic."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, mtime=0)


@dataclass
class Image:
    """An image manifest with its config and layers, all as bytes."""

    manifest: bytes
    config: bytes
    layers: list[bytes]
    platform: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    def blobs(self) -> list[bytes]:
        return [self.config, *self.layers]


def make_image(
    seed: int = 0,
    layers: int = 3,
    layer_bytes: int = 4096,
    arch: str = "amd64",
    annotations: dict[str, str] | None = None,
) -> Image:
    rng = random.Random(seed)
    tars: list[bytes] = []
    gz: list[bytes] = []
    for i in range(layers):
        files = {
            f"layer{i}/data.bin": rng.randbytes(layer_bytes),
            f"layer{i}/seed.txt": f"seed {seed} layer {i} arch {arch}\n".encode(),
        }
        t, g = tar_layer(files)
        tars.append(t)
        gz.append(g)
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["/bin/true"], "Labels": {"seed": str(seed)}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in tars]},
            "created": "2026-01-01T00:00:00Z",
        },
        sort_keys=True,
    ).encode()
    manifest_doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config),
        "layers": [descriptor(OCI_LAYER_GZIP, g) for g in gz],
    }
    if annotations:
        manifest_doc["annotations"] = annotations
    manifest = json.dumps(manifest_doc, indent=2).encode()
    return Image(manifest, config, gz, {"architecture": arch, "os": "linux"})


def make_index(images: list[Image]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                descriptor(OCI_MANIFEST, img.manifest, platform=img.platform) for img in images
            ],
        },
        indent=2,
    ).encode()


def write_layout(path: Path, tag: str, top: bytes, media_type: str, blobs: list[bytes]) -> Path:
    """Write an OCI image layout whose index.json names `top` under `tag`."""
    (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    for blob in [*blobs, top]:
        (path / "blobs" / "sha256" / sha256(blob).split(":")[1]).write_bytes(blob)
    index = {
        "schemaVersion": 2,
        "manifests": [
            descriptor(media_type, top, annotations={"org.opencontainers.image.ref.name": tag})
        ],
    }
    (path / "index.json").write_text(json.dumps(index))
    return path


def image_layout(path: Path, image: Image, tag: str = "latest") -> Path:
    return write_layout(path, tag, image.manifest, OCI_MANIFEST, image.blobs())


def index_layout(path: Path, images: list[Image], tag: str = "latest") -> tuple[Path, bytes]:
    index = make_index(images)
    blobs: list[bytes] = []
    for img in images:
        blobs.extend([*img.blobs(), img.manifest])
    return write_layout(path, tag, index, OCI_INDEX, blobs), index

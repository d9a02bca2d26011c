"""Manifest parsing and validation for the four manifest kinds a registry stores.

Parsing happens once, on PUT. A GET serves the stored bytes and media type as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moorage.domain.digest import Digest
from moorage.domain.errors import DomainError, InvalidJson, InvalidManifest
from moorage.domain.json_input import JsonLimits, parse_json

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
IMAGE_KINDS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_KINDS = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_MEDIA_TYPES = IMAGE_KINDS | INDEX_KINDS
DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_SIZE = (1 << 63) - 1  # a descriptor's size is an int64 (image-spec descriptor.md)


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    media_type: str
    blobs: tuple[Descriptor, ...]
    """Config and layers: must be blobs of the repository (foreign layers with urls excepted)."""
    children: tuple[Descriptor, ...]
    """Manifests of an index: must be manifests of the repository."""
    subject: Descriptor | None
    artifact_type: str | None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def required_blobs(self) -> tuple[Descriptor, ...]:
        return tuple(d for d in self.blobs if not d.urls)


def _descriptor(raw: object, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise InvalidManifest(f"{where} must be a descriptor object", field=where)
    media_type = raw.get("mediaType")
    digest = raw.get("digest")
    size = raw.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise InvalidManifest(f"{where}.mediaType must be a non-empty string", field=where)
    if not isinstance(digest, str):
        raise InvalidManifest(f"{where}.digest must be a string", field=where)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise InvalidManifest(
            f"{where}.size must be an integer from 0 to {MAX_SIZE}, got {size!r}"[:200],
            field=where,
        )
    try:
        parsed = Digest.parse(digest)
    except DomainError as e:
        raise InvalidManifest(f"{where}.digest: {e.message}", field=where) from None
    artifact_type = raw.get("artifactType")
    annotations = raw.get("annotations")
    urls = raw.get("urls") or ()
    if not isinstance(urls, list | tuple) or not all(isinstance(u, str) for u in urls):
        raise InvalidManifest(f"{where}.urls must be a list of strings", field=where)
    return Descriptor(
        media_type=media_type,
        digest=parsed,
        size=size,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        annotations=_annotations(annotations, where),
        urls=tuple(urls),
    )


def _annotations(raw: object, where: str) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise InvalidManifest(f"{where}.annotations must map strings to strings", field=where)
    return raw


def _descriptors(doc: dict[str, Any], key: str) -> tuple[Descriptor, ...]:
    raw = doc.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidManifest(f"{key} must be a list of descriptors", field=key)
    return tuple(_descriptor(item, f"{key}[{i}]") for i, item in enumerate(raw))


def _kind(doc: dict[str, Any], content_type: str | None) -> str:
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise InvalidManifest("mediaType must be a string", field="mediaType")
    ctype = (content_type or "").split(";", 1)[0].strip().lower() or None
    if ctype in DOCKER_SCHEMA1 or declared in DOCKER_SCHEMA1:
        raise InvalidManifest(
            "Docker schema 1 manifests are not supported; push schema 2 or OCI", field="mediaType"
        )
    if ctype in MANIFEST_MEDIA_TYPES:
        if declared is not None and declared != ctype:
            raise InvalidManifest(
                f"mediaType {declared!r} in the manifest does not match Content-Type {ctype!r}",
                field="mediaType",
            )
        return ctype
    if declared in MANIFEST_MEDIA_TYPES:
        return declared
    # No usable type: an OCI manifest may omit mediaType; tell image from index by shape.
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc or "layers" in doc:
        return OCI_MANIFEST
    raise InvalidManifest(
        f"unknown manifest media type {declared or ctype!r}; expected one of "
        + ", ".join(sorted(MANIFEST_MEDIA_TYPES)),
        field="mediaType",
    )


def parse_manifest(
    payload: bytes, content_type: str | None, *, limit: int = DEFAULT_MAX_MANIFEST_BYTES
) -> ParsedManifest:
    """Validate a manifest body and return what the registry must check and index."""
    try:  # callers also refuse early on Content-Length
        doc = parse_json(payload, JsonLimits(max_bytes=limit), what="the manifest")
    except InvalidJson as e:
        raise InvalidManifest(e.message, **e.detail) from None
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest must be a JSON object")
    if doc.get("schemaVersion") != 2:
        raise InvalidManifest(
            f"schemaVersion must be 2, got {doc.get('schemaVersion')!r}", field="schemaVersion"
        )
    kind = _kind(doc, content_type)
    subject = _descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise InvalidManifest("artifactType must be a string", field="artifactType")
    annotations = _annotations(doc.get("annotations"), "annotations") or {}
    if kind in IMAGE_KINDS:
        if "config" not in doc:
            raise InvalidManifest("an image manifest needs a config descriptor", field="config")
        config = _descriptor(doc["config"], "config")
        layers = _descriptors(doc, "layers")
        if "layers" not in doc and kind == DOCKER_MANIFEST:
            raise InvalidManifest("a Docker manifest needs a layers list", field="layers")
        if artifact_type is None and kind == OCI_MANIFEST:
            artifact_type = config.media_type
        return ParsedManifest(kind, (config, *layers), (), subject, artifact_type, annotations)
    if "manifests" not in doc:
        raise InvalidManifest("an index needs a manifests list", field="manifests")
    return ParsedManifest(
        kind,
        _descriptors(doc, "blobs"),
        _descriptors(doc, "manifests"),
        subject,
        artifact_type,
        annotations,
    )


def accepts(accept_header: str | None, media_type: str) -> bool:
    """Whether an Accept header admits a stored manifest's media type.

    No header, or a wildcard, admits everything; an OCI manifest with no declared media type
    is served to anyone who accepts the OCI image manifest type.
    """
    if not accept_header:
        return True
    for item in accept_header.split(","):
        value = item.split(";", 1)[0].strip().lower()
        if value in ("*/*", "application/*", media_type):
            return True
    return False

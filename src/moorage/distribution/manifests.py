"""/v2/<name>/manifests/<reference>: HEAD, GET, PUT, DELETE by tag or digest."""

from __future__ import annotations

from aiohttp import web

from moorage.bodies import read_bounded
from moorage.distribution import context as ctx
from moorage.domain.digest import Digest, is_digest
from moorage.domain.errors import (
    InvalidDigest,
    InvalidTag,
    ManifestNotAcceptable,
    ManifestNotFound,
    ManifestTooLarge,
    UnsupportedDigest,
)
from moorage.domain.manifest import accepts
from moorage.domain.names import check_tag


def _reference(request: web.Request) -> str:
    reference = request.match_info["reference"]
    if is_digest(reference):
        Digest.parse(reference)
    else:
        check_tag(reference)
    return reference


def _unknown(name: str, reference: str) -> ManifestNotFound:
    return ManifestNotFound(
        f"manifest {reference} is not in repository {name}", name=name, reference=reference
    )


async def get(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    try:
        reference = _reference(request)
    except (InvalidTag, InvalidDigest, UnsupportedDigest):
        # Neither a tag nor a digest names no manifest: 404, as the conformance suite expects
        # (a PUT with such a reference still answers 400 TAG_INVALID).
        raise _unknown(name, request.match_info["reference"]) from None
    store = ctx.content(request).content
    if request.method == "HEAD":
        head = await store.manifest_head(registry.id, name, reference)
        if head is None:
            raise _unknown(name, reference)
        media_type, digest, size, payload = head.media_type, head.digest, head.size, None
    else:
        found = await store.manifest(registry.id, name, reference)
        if found is None:
            raise _unknown(name, reference)
        media_type, digest, payload = found.media_type, found.digest, found.payload
        size = len(payload)
    accept = ",".join(request.headers.getall("Accept", []))
    if not accepts(accept, media_type):
        raise ManifestNotAcceptable(
            f"manifest {reference} is {media_type}, which the request's Accept header "
            "does not list",
            mediaType=media_type,
        )
    headers = {
        "Content-Type": media_type,
        "Docker-Content-Digest": digest,
        "ETag": f'"{digest}"',
    }
    if payload is None:
        headers["Content-Length"] = str(size)
        return web.Response(status=200, headers=headers)
    return web.Response(status=200, body=payload, headers=headers)


async def put(request: web.Request) -> web.Response:
    registry, name, reference = ctx.registry(request), ctx.repository(request), _reference(request)
    service = ctx.content(request)
    limit = service.max_manifest_bytes
    payload = await read_bounded(request, limit)
    if payload is None:
        size = request.content_length or f"over {limit}"
        raise ManifestTooLarge(f"manifest is {size} bytes; the limit is {limit}", limit=limit)
    digest, parsed = await service.put_manifest(
        registry.id, name, reference, payload, request.headers.get("Content-Type")
    )
    headers = {
        "Location": f"/v2/{name}/manifests/{digest}",
        "Docker-Content-Digest": str(digest),
        "Content-Length": "0",
    }
    if parsed.subject is not None:
        headers["OCI-Subject"] = str(parsed.subject.digest)
    return web.Response(status=201, headers=headers)


async def delete(request: web.Request) -> web.Response:
    registry, name, reference = ctx.registry(request), ctx.repository(request), _reference(request)
    store = ctx.content(request).content
    if is_digest(reference):
        deleted = await store.delete_manifest(registry.id, name, reference)
    else:
        deleted = await store.delete_tag(registry.id, name, reference)
    if not deleted:
        raise _unknown(name, reference)
    return web.Response(status=202, headers={"Content-Length": "0"})

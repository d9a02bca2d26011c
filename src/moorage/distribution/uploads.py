"""/v2/<name>/blobs/uploads/: start (monolithic, chunked, mount), PATCH, PUT, status, cancel."""

from __future__ import annotations

from aiohttp import web

from moorage.distribution import authz
from moorage.distribution import context as ctx
from moorage.distribution.errors import RegistryError, translate
from moorage.domain.access import Action
from moorage.domain.digest import Digest
from moorage.domain.errors import DomainError, InvalidDigest, UploadOutOfOrder
from moorage.domain.names import check_repository


def _created(name: str, digest: Digest) -> web.Response:
    return web.Response(
        status=201,
        headers={
            "Location": f"/v2/{name}/blobs/{digest}",
            "Docker-Content-Digest": str(digest),
            "Content-Length": "0",
        },
    )


async def start(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    service = ctx.content(request)
    query = request.query
    if "mount" in query:
        mounted = await _mount(request, registry.id, name)
        if mounted is not None:
            return _created(name, mounted)
    elif "digest" in query:
        digest = Digest.parse(query["digest"])
        await service.monolithic(
            registry.id, name, digest, ctx.body(request), request.content_length
        )
        return _created(name, digest)
    upload = await service.start_upload(registry.id, name)
    return web.Response(status=202, headers=ctx.upload_headers(name, upload.id, 0))


async def _mount(request: web.Request, registry_id: int, name: str) -> Digest | None:
    """Mount a blob from another repository; None means fall back to a new upload."""
    try:
        digest = Digest.parse(request.query["mount"])
        source = request.query.get("from")
        if source is not None:
            check_repository(source)
    except DomainError:
        return None  # the spec: invalid mount arguments fall back to an upload
    caller = authz.caller(request)
    if not (caller.may(Action.PULL, source) if source else caller.may_everywhere(Action.PULL)):
        if source is not None and caller.access is not None:
            # A token without pull on the source: the challenge names both scopes, so a client
            # that follows it comes back with a token that can mount.
            registry = ctx.registry(request)
            raise authz.challenge(
                request,
                registry,
                Action.PUSH,
                name,
                f"{caller.describe()} may not pull from repository {source!r} in registry "
                f"{registry.name!r}, which mounting from it needs",
                "insufficient_scope",
                also=[f"repository:{source}:pull"],
            )
        return None  # no pull on the source: the client uploads the blob instead
    size = await ctx.content(request).mount(registry_id, name, digest, source)
    return None if size is None else digest


def _out_of_order(name: str, upload_id: str, exc: UploadOutOfOrder) -> RegistryError:
    """416 RANGE_INVALID that says where the upload stands, so the client can resume."""
    error = translate(exc)
    where = ctx.upload_headers(name, upload_id, exc.size)
    error.headers.update({k: where[k] for k in ("Location", "Range", "Docker-Upload-UUID")})
    return error


async def status(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    service = ctx.content(request)
    upload = await service.upload(registry.id, name, request.match_info["upload_id"])
    size = await service.upload_size(upload)
    return web.Response(status=204, headers=ctx.upload_headers(name, upload.id, size))


async def patch(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    service = ctx.content(request)
    upload = await service.upload(registry.id, name, request.match_info["upload_id"])
    start, length = ctx.content_range(request)
    try:
        size = await service.append(
            upload,
            ctx.body(request),
            start,
            length if length is not None else request.content_length,
        )
    except UploadOutOfOrder as e:
        raise _out_of_order(name, upload.id, e) from None
    return web.Response(status=202, headers=ctx.upload_headers(name, upload.id, size))


async def put(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    service = ctx.content(request)
    upload = await service.upload(registry.id, name, request.match_info["upload_id"])
    raw = request.query.get("digest")
    if raw is None:
        raise InvalidDigest("PUT to an upload needs a ?digest= parameter to complete it")
    digest = Digest.parse(raw)
    start, length = ctx.content_range(request)
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    try:
        await service.finish(
            upload,
            digest,
            ctx.body(request) if has_body else None,
            start,
            length if length is not None else request.content_length,
        )
    except UploadOutOfOrder as e:
        raise _out_of_order(name, upload.id, e) from None
    return _created(name, digest)


async def cancel(request: web.Request) -> web.Response:
    registry, name = ctx.registry(request), ctx.repository(request)
    service = ctx.content(request)
    upload = await service.upload(registry.id, name, request.match_info["upload_id"])
    await service.cancel(upload)
    return web.Response(status=204)

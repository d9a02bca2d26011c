"""/v2/<name>/blobs/<digest>: HEAD, GET (with Range), DELETE."""

from __future__ import annotations

from aiohttp import web

from moorage.distribution import context as ctx

IMMUTABLE = "max-age=31536000, immutable"  # a blob never changes under its digest


async def get(request: web.Request) -> web.StreamResponse:
    registry, name, digest = ctx.registry(request), ctx.repository(request), ctx.digest(request)
    service = ctx.content(request)
    size = await service.blob_size(registry.id, name, digest)
    ctx.check_range(request, size)
    headers = {
        "Docker-Content-Digest": str(digest),
        "Content-Type": "application/octet-stream",
        "Cache-Control": IMMUTABLE,
    }
    path = service.driver.local_path(str(digest))
    if path is not None:
        # sendfile(2) from the page cache, Range and HEAD included.
        return web.FileResponse(path, headers=headers)
    response = web.StreamResponse(headers=headers | {"Accept-Ranges": "bytes"})
    response.content_length = size
    await response.prepare(request)
    if request.method != "HEAD":
        async for chunk in service.driver.reader(str(digest)):
            await response.write(chunk)
    await response.write_eof()
    return response


async def delete(request: web.Request) -> web.Response:
    registry, name, digest = ctx.registry(request), ctx.repository(request), ctx.digest(request)
    await ctx.content(request).content.unlink_blob(registry.id, name, str(digest))
    return web.Response(status=202, headers={"Content-Length": "0"})
